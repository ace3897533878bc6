// SPDX-License-Identifier: MIT
/*
 * The floor of any syscall tracing, for bench/cost.sh: attaches two
 * do-nothing programs (r0 = 0; exit) to tp_btf/sys_enter and sys_exit, says
 * "attached" on stdout, and keeps them attached until stdin reaches EOF.
 * While they are attached every system call of every process on the host
 * takes the kernel's traced path (TIF_SYSCALL_TRACEPOINT) and runs them:
 * what is left over from sbx's own programs is their own cost.
 *   tp_nop </some/fifo     (close the fifo's writer to detach)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int attach_nop(const char *tp)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id = libbpf_find_vmlinux_btf_id(tp, BPF_TRACE_RAW_TP);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = id > 0 ? (__u32)id : 0);
	int prog, link;

	if (id < 0) {
		fprintf(stderr, "tp_nop: no BTF for %s: %s\n", tp, strerror(-id));
		return -1;
	}
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "nop", "GPL", insns, 2, &opts);
	if (prog < 0) {
		fprintf(stderr, "tp_nop: load for %s: %s\n", tp, strerror(errno));
		return -1;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		fprintf(stderr, "tp_nop: attach to %s: %s\n", tp, strerror(errno));
	close(prog);	/* the link holds it */
	return link;
}

int main(void)
{
	char buf[64];

	if (attach_nop("sys_enter") < 0 || attach_nop("sys_exit") < 0)
		return 1;
	printf("attached\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;	/* exit closes the links: detached */
}
