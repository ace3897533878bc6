// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Functional feature probes for `sbx features`: a program of each kind that
 * cannot be probed by loading alone counts how often it fired for the probing
 * process. "bpf" listed in /sys/kernel/security/lsm does not mean LSM programs
 * load or run, so sbx loads this, triggers the hook and reads the counter.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 probe_tgid = 0;

__u64 lsm_hits = 0;
__u64 tp_btf_hits = 0;

static __always_inline bool is_prober(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == probe_tgid;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (is_prober())
		__sync_fetch_and_add(&lsm_hits, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf_sys_enter, struct pt_regs *regs, long id)
{
	if (is_prober())
		__sync_fetch_and_add(&tp_btf_hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
