/* SPDX-License-Identifier: MIT */
/*
 * bench/core/seccomp_cost.c - how many classic BPF instructions sbx's
 * seccomp filter (user/kernel/seccomp.c, as the process and host providers
 * build it for a profile) runs for one system call. Every system call of
 * the workload runs the whole filter up to its verdict, so this is the
 * filter's share of the cost of open() and close() (enforce.sh's fs loop),
 * counted rather than timed: the shared machines time it too noisily.
 *
 *   seccomp_cost FILE PROFILE [EXEC_GUARD]
 *
 * Prints "name nr instructions cached" for the system calls of the fs and
 * network loops, on x86_64. cached is 1 when the kernel's action cache
 * (seccomp_cache_prepare, Linux 5.11) lets that call through without
 * running the filter at all: the filter allows it whatever its arguments,
 * reading nothing but the number and the architecture on the way, with only
 * the instructions the kernel's emulator knows (seccomp_is_const_allow).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "kernel/seccomp.h"
#include "policy.h"

/* Runs prog on d; the number of instructions up to the verdict, or -1 for
 * an instruction this simulator does not know. *cached: whether the
 * kernel's emulator would find the verdict a constant allow (see above). */
static long run_filter(const struct sock_fprog *prog, const struct seccomp_data *d, bool *cached)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	long n = 0;

	*cached = true;
	for (unsigned pc = 0; pc < prog->len; pc++, n++) {
		const struct sock_filter *f = &prog->filter[pc];
		bool jump;

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_JMP | BPF_JA:
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_RET | BPF_K:
			break;
		default:
			*cached = false;	/* the kernel's emulator stops here */
		}
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k + 4 > sizeof(*d))
				return -1;
			if (f->k != offsetof(struct seccomp_data, nr) &&
			    f->k != offsetof(struct seccomp_data, arch))
				*cached = false;	/* an argument or the IP */
			memcpy(&a, (const char *)d + f->k, 4);
			continue;
		case BPF_LD | BPF_IMM:
			a = f->k;
			continue;
		case BPF_LDX | BPF_IMM:
			x = f->k;
			continue;
		case BPF_LD | BPF_MEM:
			a = mem[f->k % BPF_MEMWORDS];
			continue;
		case BPF_LDX | BPF_MEM:
			x = mem[f->k % BPF_MEMWORDS];
			continue;
		case BPF_ST:
			mem[f->k % BPF_MEMWORDS] = a;
			continue;
		case BPF_STX:
			mem[f->k % BPF_MEMWORDS] = x;
			continue;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			continue;
		case BPF_ALU | BPF_OR | BPF_K:
			a |= f->k;
			continue;
		case BPF_MISC | BPF_TAX:
			x = a;
			continue;
		case BPF_MISC | BPF_TXA:
			a = x;
			continue;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			continue;
		case BPF_JMP | BPF_JEQ | BPF_K: jump = a == f->k; break;
		case BPF_JMP | BPF_JGT | BPF_K: jump = a > f->k; break;
		case BPF_JMP | BPF_JGE | BPF_K: jump = a >= f->k; break;
		case BPF_JMP | BPF_JSET | BPF_K: jump = a & f->k; break;
		case BPF_JMP | BPF_JEQ | BPF_X: jump = a == x; break;
		case BPF_JMP | BPF_JGT | BPF_X: jump = a > x; break;
		case BPF_JMP | BPF_JGE | BPF_X: jump = a >= x; break;
		case BPF_RET | BPF_K:
		case BPF_RET | BPF_A:
			if (f->code != (BPF_RET | BPF_K) || f->k != SECCOMP_RET_ALLOW)
				*cached = false;
			return n + 1;
		default:
			return -1;
		}
		pc += jump ? f->jt : f->jf;
	}
	return -1;	/* fell off the end: not a valid filter */
}

static const struct { const char *name; int nr; } calls[] = {
	{ "open", SYS_open }, { "openat", SYS_openat }, { "close", SYS_close },
	{ "read", SYS_read }, { "socket", SYS_socket }, { "connect", SYS_connect },
	{ "sendto", SYS_sendto }, { "execve", SYS_execve }, { "vfork", SYS_vfork },
};

int main(int argc, char **argv)
{
	struct sbx_diags diags = { 0 };
	struct sbx_policy *pol = NULL;
	const struct sbx_profile *p = NULL;
	struct sbx_seccomp sc;
	char why[1024];

	if (argc < 3) {
		fprintf(stderr, "usage: seccomp_cost FILE PROFILE [EXEC_GUARD]\n");
		return 2;
	}
	if (sbx_policy_load((const char *const *)&argv[1], 1, NULL, &pol, &diags) != 0) {
		fprintf(stderr, "seccomp_cost: %s: invalid policy\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < pol->n_profiles; i++)
		if (!strcmp(pol->profiles[i].name, argv[2]))
			p = &pol->profiles[i];
	if (!p || sbx_seccomp_build(p, argc > 3 && atoi(argv[3]), &sc, why, sizeof(why)) < 0) {
		fprintf(stderr, "seccomp_cost: %s\n", p ? why : "no such profile");
		return 1;
	}
	printf("filter %u\n", sc.prog.len);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct seccomp_data d = { .nr = calls[i].nr, .arch = AUDIT_ARCH_X86_64 };
		bool cached;
		long n;

		if (calls[i].nr == SYS_socket)
			d.args[0] = 2;	/* AF_INET */
		n = run_filter(&sc.prog, &d, &cached);
		printf("%s %d %ld %d\n", calls[i].name, calls[i].nr, n, cached);
	}
	sbx_seccomp_free(&sc);
	sbx_diags_free(&diags);
	sbx_policy_free(pol);
	return 0;
}
