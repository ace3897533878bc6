/* SPDX-License-Identifier: MIT */
/*
 * The tee provider's pieces that run without the hardware (providers/tee.c,
 * microvm.c sbx_cvm_qemu_words): the qemu words of a confidential guest, and
 * that the probe names what is missing on a host without SEV-SNP or TDX.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "provider.h"
#include "vmm.h"

static void test_cvm_words(void **state)
{
	char m[160], o[160];

	(void)state;
	assert_int_equal(sbx_cvm_qemu_words(SBX_CVM_SEV_SNP, 51, m, sizeof(m), o, sizeof(o)), 0);
	assert_string_equal(m, "q35,confidential-guest-support=cvm0");
	assert_string_equal(o, "sev-snp-guest,id=cvm0,cbitpos=51,reduced-phys-bits=1");
	assert_int_equal(sbx_cvm_qemu_words(SBX_CVM_TDX, 0, m, sizeof(m), o, sizeof(o)), 0);
	assert_string_equal(m, "q35,kernel-irqchip=split,confidential-guest-support=cvm0");
	assert_string_equal(o, "tdx-guest,id=cvm0");
	/* a C-bit position the CPU cannot have, and no kind, are refused */
	assert_int_equal(sbx_cvm_qemu_words(SBX_CVM_SEV_SNP, 0, m, sizeof(m), o, sizeof(o)), -EINVAL);
	assert_int_equal(sbx_cvm_qemu_words(SBX_CVM_NONE, 51, m, sizeof(m), o, sizeof(o)), -EINVAL);
}

/* Without /dev/sev and kvm_amd's sev_snp, nor kvm_intel's tdx, the probe
 * fails and names each. */
static void test_probe_names_what_is_missing(void **state)
{
	char why[2048] = "";

	(void)state;
	if (!access("/sys/module/kvm_amd/parameters/sev_snp", F_OK) ||
	    !access("/sys/module/kvm_intel/parameters/tdx", F_OK)) {
		print_message("SKIP: this host has kvm SEV-SNP or TDX parameters\n");
		skip();
	}
	assert_int_equal(sbx_provider_tee.probe(why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "no AMD SEV-SNP: "));
	assert_non_null(strstr(why, "/sys/module/kvm_amd/parameters/sev_snp"));
	assert_non_null(strstr(why, "no Intel TDX: "));
	assert_non_null(strstr(why, "/sys/module/kvm_intel/parameters/tdx"));
	assert_non_null(strstr(why, "SGX"));
	assert_int_equal(sbx_provider_tee.level, SBX_ISO_TEE);
	assert_int_equal(sbx_provider_unikernel.level, SBX_ISO_UNIKERNEL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cvm_words),
		cmocka_unit_test(test_probe_names_what_is_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
