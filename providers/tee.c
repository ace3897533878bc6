/* SPDX-License-Identifier: MIT */
/*
 * The "tee" provider: the workload runs in a confidential VM, whose memory
 * the host cannot read (AMD SEV-SNP or Intel TDX). The probe says exactly
 * which host feature is missing; where all are there, the VM is the microvm
 * provider's (its guest, its channels, its eBPF and cgroup wrapping) on
 * -M q35 with qemu's sev-snp-guest or tdx-guest object and the OVMF firmware
 * (vmm.h sbx_microvm_prepare_cvm). SGX is probed and reported, but it
 * protects an enclave inside a process, not a VM: sbx runs nothing on it.
 * No machine that sbx is tested on has any of these: docs/providers.md says
 * what is and is not tested.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "provider.h"
#include "util/util.h"
#include "vmm.h"

#define DEFAULT_FIRMWARE "/usr/share/ovmf/OVMF.fd"

const char *sbx_tee_firmware(void)
{
	const char *e = getenv("SBX_TEE_FIRMWARE");

	return e && *e ? e : DEFAULT_FIRMWARE;
}

/* "Y" / "1" in a module parameter file; false when the module is not loaded. */
static bool param_on(const char *path)
{
	char v[8] = "";
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (!fgets(v, sizeof(v), f))
		v[0] = 0;
	fclose(f);
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
}

static bool cpuinfo_flag(const char *flag)
{
	char line[8192];
	size_t n = strlen(flag);
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && !found && fgets(line, sizeof(line), f)) {
		char *p = line;

		if (strncmp(line, "flags", 5))
			continue;
		while (!found && (p = strstr(p, flag))) {
			found = p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n');
			p += n;
		}
		break;	/* the first CPU's flags */
	}
	if (f)
		fclose(f);
	return found;
}

/* SEV-SNP: CPUID 0x8000001f EAX bit 4; C-bit position in EBX[5:0]. */
static bool cpu_snp(unsigned *ret_cbit)
{
	unsigned a, b, c, d;

	*ret_cbit = 0;
	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x8000001f)
		return false;
	__get_cpuid(0x8000001f, &a, &b, &c, &d);
	*ret_cbit = b & 0x3f;
	return a & (1u << 4);
}

/* SGX: CPUID 7.0 EBX bit 2. */
static bool cpu_sgx(void)
{
	unsigned a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 2));
}

static void add(char *buf, size_t len, bool *first, const char *what)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", *first ? "" : ", ", what);
	*first = false;
}

/* SEV-SNP usable for a host (0), else what is missing in why. */
static int probe_snp(unsigned *cbit, char *why, size_t len)
{
	bool first = true;

	why[0] = 0;
	if (!cpu_snp(cbit))
		add(why, len, &first, "the CPU has no SEV-SNP (CPUID 0x8000001f EAX bit 4)");
	if (access("/dev/sev", F_OK))
		add(why, len, &first, "no /dev/sev (the AMD secure processor driver, ccp)");
	if (!param_on("/sys/module/kvm_amd/parameters/sev_snp"))
		add(why, len, &first, "kvm_amd is not loaded with sev_snp=Y "
		    "(/sys/module/kvm_amd/parameters/sev_snp)");
	return first ? 0 : -ENODEV;
}

static int probe_tdx(char *why, size_t len)
{
	bool first = true;

	why[0] = 0;
	if (!cpuinfo_flag("tdx_host_platform"))
		add(why, len, &first, "the kernel found no TDX module (no tdx_host_platform in "
		    "/proc/cpuinfo; TDX is enabled in the host firmware, /sys/firmware)");
	if (!param_on("/sys/module/kvm_intel/parameters/tdx"))
		add(why, len, &first, "kvm_intel is not loaded with tdx=Y "
		    "(/sys/module/kvm_intel/parameters/tdx)");
	return first ? 0 : -ENODEV;
}

/* What besides the CPU a confidential guest needs: qemu, KVM, firmware. */
static int probe_vmm(char *why, size_t len)
{
	char qemu[4096];

	if (sbx_qemu_find(NULL, qemu, sizeof(qemu)) < 0)
		return sbx_fail(why, len, -ENOENT, "qemu-system-x86_64 not found");
	if (access("/dev/kvm", R_OK | W_OK))
		return sbx_fail(why, len, -ENODEV, "no usable /dev/kvm");
	if (access(sbx_tee_firmware(), R_OK))
		return sbx_fail(why, len, -ENOENT, "no guest firmware at %s (apt-get install ovmf, "
				"or set SBX_TEE_FIRMWARE)", sbx_tee_firmware());
	return 0;
}

/* Which confidential guest this host can run: SEV-SNP first, then TDX. */
static int tee_detect(enum sbx_cvm *kind, unsigned *cbit, char *why, size_t len)
{
	char snp[400], tdx[300], sgx[200] = "";
	int r;

	*kind = SBX_CVM_NONE;
	if (probe_snp(cbit, snp, sizeof(snp)) == 0)
		*kind = SBX_CVM_SEV_SNP;
	else if (probe_tdx(tdx, sizeof(tdx)) == 0)
		*kind = SBX_CVM_TDX;
	if (*kind != SBX_CVM_NONE)
		return probe_vmm(why, len);
	if (cpu_sgx() && !access("/dev/sgx_enclave", F_OK))
		snprintf(sgx, sizeof(sgx), "; SGX is present (/dev/sgx_enclave), but it protects an "
			 "enclave inside a process, not a VM, and sbx has no enclave runtime");
	else
		snprintf(sgx, sizeof(sgx), "; no SGX either (%s)", cpu_sgx() ?
			 "no /dev/sgx_enclave" : "CPUID 7 EBX bit 2 is clear");
	r = !access("/dev/sev-guest", F_OK) || !access("/dev/tdx_guest", F_OK);
	return sbx_fail(why, len, -ENODEV, "no AMD SEV-SNP: %s; no Intel TDX: %s%s%s", snp, tdx, sgx,
			r ? "; this machine is itself a confidential guest (/dev/sev-guest or "
			"/dev/tdx_guest), which cannot start one of its own" : "");
}

static int tee_probe(char *why, size_t len)
{
	enum sbx_cvm kind;
	unsigned cbit;
	int r = tee_detect(&kind, &cbit, why, len);

	return r < 0 ? r : sbx_provider_microvm.probe(why, len);
}

static int tee_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len)
{
	return sbx_provider_microvm.can_run(p, prog, why, len);
}

static int tee_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	enum sbx_cvm kind;
	unsigned cbit;
	int r = tee_detect(&kind, &cbit, why, len);

	if (r < 0)
		return r;
	return sbx_microvm_prepare_cvm(s, kind, cbit, ret_state, why, len);
}

static int tee_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret, char *why,
		     size_t len)
{
	return sbx_provider_microvm.spawn(state, s, ret, why, len);
}

static int tee_signal(void *state, struct sbx_child *c, int sig)
{
	return sbx_provider_microvm.signal(state, c, sig);
}

static int tee_wait(void *state, struct sbx_child *c, int *ret_status)
{
	return sbx_provider_microvm.wait(state, c, ret_status);
}

static void tee_cleanup(void *state)
{
	sbx_provider_microvm.cleanup(state);
}

const struct sbx_provider sbx_provider_tee = {
	.name = "tee",
	.level = SBX_ISO_TEE,
	.summary = "the microvm guest as a confidential VM (AMD SEV-SNP or Intel TDX, qemu -M q35 "
		   "with OVMF); needs that hardware",
	.relays_output = true,
	.probe = tee_probe,
	.can_run = tee_can_run,
	.prepare = tee_prepare,
	.spawn = tee_spawn,
	.signal = tee_signal,
	.wait = tee_wait,
	.cleanup = tee_cleanup,
};
