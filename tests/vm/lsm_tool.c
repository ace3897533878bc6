/* SPDX-License-Identifier: MIT */
/*
 * Test helper of tests/vm/test_lsm_*.sh (runs inside the VM guest).
 *
 * Outside the sandbox (root):
 *   lsm_tool policy SLOT MODE EXECLIST RULE...   write sbx_fscfg/sbx_paths/sbx_execs
 *       for the policy of SLOT, with SBX_FSF_ENFORCE, the way user space will
 *       (keys per sbx_abi.h). MODE: none|ro|rw; EXECLIST: 0|1; RULE: PATH=ACC
 *       (ACC: r, w, x combinations or "deny"; PATH ending in '/' = directory)
 *       or x:PATH (an fs.exec entry). Rule indexes follow argument order.
 *   lsm_tool events [MS]   print the SBX_EV_FILE events waiting in the pinned
 *       global ring, one per line: op= verdict= access= rule= backend= error= path=
 * Inside the sandbox (prints "OK" or the errno name, exit 0):
 *   open PATH r|w|rw|dir   opath PATH (O_PATH, then open /proc/self/fd/N)
 *   uring PATH (IORING_OP_OPENAT)   memfd-exec BINARY (memfd + execveat)
 *   mmap-exec PATH   mprotect-exec PATH   execveat-opath PATH
 *   mount SRC DST TYPE|bind   umount PATH   (raw syscalls: mount(8) does more)
 * Measurements: bench-open PATH N, bench-exec PATH N (ns per iteration).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

/* tests/vm/run.sh builds helpers with plain gcc: no include path, no libbpf */
#include "../../bpf/include/sbx_abi.h"

static int sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int bpf_obj_get(const char *path)
{
	union bpf_attr a = { .pathname = (unsigned long)path };

	return sys_bpf(BPF_OBJ_GET, &a);
}

static int bpf_map_lookup_elem(int fd, const void *k, void *v)
{
	union bpf_attr a = { .map_fd = fd, .key = (unsigned long)k, .value = (unsigned long)v };

	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

static int bpf_map_update_elem(int fd, const void *k, const void *v, int flags)
{
	union bpf_attr a = { .map_fd = fd, .key = (unsigned long)k, .value = (unsigned long)v,
			     .flags = flags };

	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static const char *inst(void)
{
	const char *i = getenv("SBX_INSTANCE");

	return i && *i ? i : "sbx";
}

static int pinned(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/fs/bpf/%s/%s", inst(), name);
	return bpf_obj_get(p);
}

static int report(int r)
{
	if (r < 0)
		printf("%s\n", strerrorname_np(-r) ? strerrorname_np(-r) : "E?");
	else
		printf("OK\n");
	return 0;
}

static uint32_t parse_acc(const char *s)
{
	uint32_t a = 0;

	if (!strcmp(s, "deny"))
		return 0;
	for (; *s; s++)
		a |= *s == 'r' ? SBX_FACC_R : *s == 'w' ? SBX_FACC_W : *s == 'x' ? SBX_FACC_X : 0;
	return a;
}

static int put_rule(int fd, uint32_t pid, const char *path, uint32_t acc, uint32_t idx, uint32_t fl)
{
	struct sbx_path_key k = { 0 };
	struct sbx_path_rule v = { .access = acc, .rule = idx, .flags = fl };
	size_t len = strlen(path);
	int dir = len && path[len - 1] == '/';

	if (len >= sizeof(k.path))
		return -ENAMETOOLONG;
	memcpy(k.path, path, len);
	k.prefixlen = 32 + 8 * (uint32_t)(len + !dir);
	k.policy_id = htonl(pid);
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

static int cmd_policy(int argc, char **argv)
{
	int slots = pinned("sbx_slots"), paths = pinned("sbx_paths"), execs = pinned("sbx_execs");
	int cfgs = pinned("sbx_fscfg");
	uint32_t slot = atoi(argv[0]), n = 0;
	struct sbx_slot s;
	struct sbx_fs_cfg cfg = { .flags = SBX_FSF_ENFORCE };

	if (slots < 0 || paths < 0 || execs < 0 || cfgs < 0 || bpf_map_lookup_elem(slots, &slot, &s)) {
		fprintf(stderr, "lsm_tool: maps of %s: %s\n", inst(), strerror(errno));
		return 1;
	}
	cfg.mode_access = !strcmp(argv[1], "ro") ? SBX_FACC_R | SBX_FACC_X :
			  !strcmp(argv[1], "rw") ? SBX_FACC_R | SBX_FACC_W | SBX_FACC_X : 0;
	if (atoi(argv[2]))
		cfg.flags |= SBX_FSF_EXEC_LIST;
	for (int i = 3; i < argc; i++, n++) {
		char *eq = strrchr(argv[i], '=');
		int r;

		if (!strncmp(argv[i], "x:", 2)) {
			r = put_rule(execs, s.policy_id, argv[i] + 2, SBX_FACC_R | SBX_FACC_X, n,
				     SBX_PRF_EXEC_LIST);
		} else if (eq) {
			*eq = 0;
			r = put_rule(paths, s.policy_id, argv[i], parse_acc(eq + 1), n, 0);
		} else {
			r = -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "lsm_tool: rule %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
	}
	/* the config last: rules are in place when enforcement starts */
	if (bpf_map_update_elem(cfgs, &s.policy_id, &cfg, BPF_ANY)) {
		perror("lsm_tool: sbx_fscfg");
		return 1;
	}
	printf("policy %u\n", s.policy_id);
	return 0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	static const char *const ops[] = {
		[SBX_FOP_OPEN] = "open", [SBX_FOP_EXEC] = "exec", [SBX_FOP_MMAP_EXEC] = "mmap_exec",
		[SBX_FOP_CREATE] = "create", [SBX_FOP_UNLINK] = "unlink", [SBX_FOP_RENAME] = "rename",
		[SBX_FOP_LINK] = "link", [SBX_FOP_SYMLINK] = "symlink", [SBX_FOP_MKNOD] = "mknod",
		[SBX_FOP_MKDIR] = "mkdir", [SBX_FOP_RMDIR] = "rmdir", [SBX_FOP_TRUNCATE] = "truncate",
		[SBX_FOP_CHMOD] = "chmod", [SBX_FOP_CHOWN] = "chown", [SBX_FOP_MOUNT] = "mount",
	};
	const struct sbx_ev_file *e = data;
	char acc[4] = "", rule[16];
	int n = 0;

	(void)ctx;
	if (len < sizeof(*e) || e->hdr.type != SBX_EV_FILE)
		return 0;
	if (e->access & SBX_FACC_R)
		acc[n++] = 'r';
	if (e->access & SBX_FACC_W)
		acc[n++] = 'w';
	if (e->access & SBX_FACC_X)
		acc[n++] = 'x';
	if (e->rule == SBX_RULE_DEFAULT)
		snprintf(rule, sizeof(rule), "default");
	else if (e->rule == SBX_RULE_NONE)
		snprintf(rule, sizeof(rule), "none");
	else
		snprintf(rule, sizeof(rule), "%u", e->rule);
	printf("op=%s verdict=%s access=%s rule=%s backend=%s error=%d path=%.*s\n",
	       e->op < sizeof(ops) / sizeof(ops[0]) && ops[e->op] ? ops[e->op] : "?",
	       e->verdict == SBX_VERDICT_DENY ? "deny" : "allow", acc, rule,
	       e->backend == SBX_FSB_BPF_LSM ? "bpf-lsm" : e->backend == SBX_FSB_LANDLOCK ? "landlock" : "?",
	       e->error, (int)sizeof(e->path), e->path);
	return 0;
}

/* Drains a BPF ring buffer through its mmap()ed pages (consumer page
 * read-write, then producer page and data, mapped twice, read-only). */
static int cmd_events(int ms)
{
	int fd = pinned("sbx_events");
	struct bpf_map_info info = { 0 };
	union bpf_attr a = { .info.bpf_fd = fd, .info.info_len = sizeof(info),
			     .info.info = (unsigned long)&info };
	long pg = sysconf(_SC_PAGESIZE);
	unsigned long *cons, *prod, pos;
	char *data;

	if (fd < 0 || sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0) {
		fprintf(stderr, "lsm_tool: sbx_events of %s: %s\n", inst(), strerror(errno));
		return 1;
	}
	cons = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	prod = mmap(NULL, pg + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, fd, pg);
	if (cons == MAP_FAILED || prod == MAP_FAILED) {
		perror("lsm_tool: mmap sbx_events");
		return 1;
	}
	data = (char *)prod + pg;
	usleep(ms * 1000);
	pos = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
	while (pos < __atomic_load_n(prod, __ATOMIC_ACQUIRE)) {
		uint32_t *h = (uint32_t *)(data + (pos & (info.max_entries - 1)));
		uint32_t len = __atomic_load_n(h, __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		if (!(len & BPF_RINGBUF_DISCARD_BIT))
			on_event(NULL, h + 2, len);
		len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		pos += (len + BPF_RINGBUF_HDR_SZ + 7) / 8 * 8;
		__atomic_store_n(cons, pos, __ATOMIC_RELEASE);
	}
	return 0;
}

static int do_open(const char *path, const char *how)
{
	int fl = !strcmp(how, "w") ? O_WRONLY : !strcmp(how, "rw") ? O_RDWR :
		 !strcmp(how, "dir") ? O_RDONLY | O_DIRECTORY : O_RDONLY;
	int fd = open(path, fl);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int do_opath(const char *path)
{
	char p[64];
	int fd = open(path, O_PATH), fd2;

	if (fd < 0)
		return -errno;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	fd2 = open(p, O_RDONLY);
	close(fd);
	if (fd2 < 0)
		return -errno;
	close(fd2);
	return 0;
}

/* IORING_OP_OPENAT with the raw syscalls: one SQE, one CQE. */
static int do_uring(const char *path)
{
	struct io_uring_params pr = { 0 };
	int ring = syscall(__NR_io_uring_setup, 1, &pr), r;
	size_t sq_sz, cq_sz;
	void *sq, *cq;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;

	if (ring < 0)
		return -errno;
	sq_sz = pr.sq_off.array + pr.sq_entries * sizeof(unsigned);
	cq_sz = pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, pr.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -errno;
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_OPENAT;
	sqes[0].fd = AT_FDCWD;
	sqes[0].addr = (unsigned long)path;
	sqes[0].open_flags = O_RDONLY;
	((unsigned *)((char *)sq + pr.sq_off.array))[0] = 0;
	__atomic_store_n((unsigned *)((char *)sq + pr.sq_off.tail), 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	cqe = (struct io_uring_cqe *)((char *)cq + pr.cq_off.cqes);
	r = cqe[0].res;
	if (r >= 0)
		close(r);
	close(ring);
	return r < 0 ? r : 0;
}

static int copy_to(int out, const char *src)
{
	char buf[65536];
	int in = open(src, O_RDONLY);
	ssize_t n;

	if (in < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -EIO;
	close(in);
	return 0;
}

static int do_memfd_exec(const char *bin)
{
	int fd = memfd_create("sbxtest", MFD_CLOEXEC), r;
	char *av[] = { "memfd", NULL }, *ev[] = { NULL };

	if (fd < 0)
		return -errno;
	r = copy_to(fd, bin);
	if (r < 0)
		return r;
	fflush(stdout);
	syscall(__NR_execveat, fd, "", av, ev, AT_EMPTY_PATH);
	return -errno;
}

static int do_execveat_opath(const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	char *av[] = { "x", NULL }, *ev[] = { NULL };

	if (fd < 0)
		return -errno;
	fflush(stdout);
	syscall(__NR_execveat, fd, "", av, ev, AT_EMPTY_PATH);
	return -errno;
}

static int do_mmap_exec(const char *path, int mprot)
{
	int fd = open(path, O_RDONLY);
	void *p;

	if (fd < 0)
		return -errno;
	p = mmap(NULL, 4096, mprot ? PROT_READ : PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	if (mprot && mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
		return -errno;
	munmap(p, 4096);
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bench(const char *what, const char *path, long n)
{
	char *av[] = { (char *)path, NULL }, *ev[] = { NULL };
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		if (!strcmp(what, "open")) {
			int fd = open(path, O_RDONLY);

			if (fd < 0)
				return report(-errno);
			close(fd);
		} else {
			int st;
			pid_t p = vfork();

			if (p == 0) {
				execve(path, av, ev);
				_exit(127);
			}
			if (p < 0 || waitpid(p, &st, 0) < 0 || st)
				return report(-EIO);
		}
	}
	printf("%.0f\n", (now_ns() - t0) / n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(c, "policy") && argc >= 5)
		return cmd_policy(argc - 2, argv + 2);
	if (!strcmp(c, "events"))
		return cmd_events(argc > 2 ? atoi(argv[2]) : 200);
	if (!strcmp(c, "open") && argc == 4)
		return report(do_open(argv[2], argv[3]));
	if (!strcmp(c, "opath") && argc == 3)
		return report(do_opath(argv[2]));
	if (!strcmp(c, "uring") && argc == 3)
		return report(do_uring(argv[2]));
	if (!strcmp(c, "memfd-exec") && argc == 3)
		return report(do_memfd_exec(argv[2]));
	if (!strcmp(c, "execveat-opath") && argc == 3)
		return report(do_execveat_opath(argv[2]));
	if (!strcmp(c, "mmap-exec") && argc == 3)
		return report(do_mmap_exec(argv[2], 0));
	if (!strcmp(c, "mprotect-exec") && argc == 3)
		return report(do_mmap_exec(argv[2], 1));
	if (!strcmp(c, "mount") && argc == 5)
		return report(mount(argv[2], argv[3], strcmp(argv[4], "bind") ? argv[4] : NULL,
				    strcmp(argv[4], "bind") ? 0 : MS_BIND, NULL) < 0 ? -errno : 0);
	if (!strcmp(c, "umount") && argc == 3)
		return report(umount2(argv[2], 0) < 0 ? -errno : 0);
	if (!strncmp(c, "bench-", 6) && argc == 4)
		return bench(c + 6, argv[2], atol(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of tests/vm/lsm_tool.c\n");
	return 2;
}
