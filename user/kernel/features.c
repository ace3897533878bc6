/* SPDX-License-Identifier: MIT */
/* Functional kernel feature probes; see sbx_features.h. No printing here. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/cgroup.h"
#include "kernel/features.h"
#include "kernel/mountinfo.h"
#include "probe.skel.h"
#include "util/util.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define NR_LSM_LIST_MODULES 461		/* same number on every architecture */
#define SECURITYFS "/sys/kernel/security"

/* clone3()'s argument up to .cgroup (CLONE_ARGS_SIZE_VER2); glibc has no
 * wrapper and <linux/sched.h> clashes with <sched.h>. */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
_Static_assert(sizeof(struct clone3_args) == 88, "CLONE_ARGS_SIZE_VER2");

/* ---- small helpers ----------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
setf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = buf ? strnlen(buf, len) : len;
	va_list ap;

	if (off + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/* "EPERM (Operation not permitted)" for -EPERM or EPERM. */
static const char *errtext(int e, char *buf, size_t len)
{
	const char *name;

	e = e < 0 ? -e : e;
	name = strerrorname_np(e);
	snprintf(buf, len, "%s (%s)", name ? name : "E?", strerror(e));
	return buf;
}

#define ERRTEXT(e) errtext((e), (char[96]){ 0 }, 96)

/* Reads a small file, without the trailing newline. */
static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Reaps pid; returns its exit status, 128+N if killed by signal N, or -errno. */
static int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* Forks a child that runs fn and exits with its result (0 or an errno
 * value); returns that, or -errno when fork fails. */
static int in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	return wait_exit(pid);
}

/* ---- libbpf output ----------------------------------------------------- */

/* The first warning libbpf printed during the current probe: it names the
 * failing step ("prog 'x': BPF program load failed: ..."). */
static __thread char bpf_msg[200];

static int __attribute__((format(printf, 2, 0)))
quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(bpf_msg) + 16];
	const char *p = line;
	size_t len;

	if (level == LIBBPF_DEBUG || bpf_msg[0])
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(p, "libbpf: ", 8) == 0)
		p += 8;
	len = strnlen(p, sizeof(bpf_msg) - 1);
	memcpy(bpf_msg, p, len);
	bpf_msg[len] = '\0';
	return 0;
}

static libbpf_print_fn_t quiet_begin(void)
{
	bpf_msg[0] = '\0';
	return libbpf_set_print(quiet_print);
}

static void quiet_end(libbpf_print_fn_t old)
{
	libbpf_set_print(old);
}

static const char *root_note(void)
{
	return geteuid() == 0 ? "" : " (not running as root: BPF needs CAP_BPF or CAP_SYS_ADMIN)";
}

/* ---- securityfs -------------------------------------------------------- */

struct secfs_req {
	const char *name;
	int fd;			/* pipe to write the contents to */
};

/* In a child: a private mount namespace with securityfs mounted. */
static int secfs_child(const void *arg)
{
	const struct secfs_req *q = arg;
	char path[128], buf[512];
	int r;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("securityfs", SECURITYFS, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return errno;
	snprintf(path, sizeof(path), SECURITYFS "/%s", q->name);
	r = read_text(path, buf, sizeof(buf));
	if (r < 0)
		return -r;
	return write(q->fd, buf, strlen(buf)) < 0 ? errno : 0;
}

/* Reads SECURITYFS/name; when securityfs is not mounted (some hosts never
 * mount it) reads it through a private mount in a child. *ret_private says
 * which way it was read. */
static int read_securityfs(const char *name, char *buf, size_t len, bool *ret_private)
{
	char path[128];
	struct secfs_req q = { .name = name };
	int p[2], r;
	ssize_t n;

	*ret_private = false;
	snprintf(path, sizeof(path), SECURITYFS "/%s", name);
	r = read_text(path, buf, len);
	if (r != -ENOENT)
		return r;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	q.fd = p[1];
	r = in_child(secfs_child, &q);
	close(p[1]);
	n = r == 0 ? read(p[0], buf, len - 1) : -1;
	close(p[0]);
	if (r != 0)
		return r > 0 ? -r : r;
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	*ret_private = true;
	return 0;
}

static const char *lsm_id_name(uint64_t id)
{
	static const char *const names[] = {
		"capability", "selinux", "smack", "tomoyo", "apparmor", "yama", "loadpin",
		"safesetid", "lockdown", "bpf", "landlock", "ima", "evm", "ipe",
	};

	if (id >= 100 && id - 100 < sizeof(names) / sizeof(names[0]))
		return names[id - 100];
	return "?";
}

/* Active LSMs as "a,b,c" from lsm_list_modules(2) (Linux 6.8+). */
static int lsm_list_syscall(char *buf, size_t len)
{
	uint64_t ids[32];
	uint32_t size = sizeof(ids);
	long n = syscall(NR_LSM_LIST_MODULES, ids, &size, 0);

	if (n < 0)
		return -errno;
	buf[0] = '\0';
	for (long i = 0; i < n && i < 32; i++)
		appendf(buf, len, "%s%s", i ? "," : "", lsm_id_name(ids[i]));
	return 0;
}

/* Writes where the list came from into src; returns 1 if "bpf" is listed,
 * 0 if not, -errno when no source could be read. */
static int bpf_lsm_listed(char *list, size_t len, const char **src)
{
	char tmp[512];
	bool priv;
	int r;

	r = read_securityfs("lsm", list, len, &priv);
	*src = priv ? SECURITYFS "/lsm (securityfs not mounted; read via a private mount)" :
		      SECURITYFS "/lsm";
	if (r < 0) {
		*src = "lsm_list_modules(2)";
		r = lsm_list_syscall(list, len);
	}
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), ",%s,", list);
	return strstr(tmp, ",bpf,") != NULL;
}

/* ---- functional BPF probes (bpf/probe.bpf.c) --------------------------- */

/* What a failed libbpf step returned, in words. */
static void bpf_fail(char *why, size_t len, const char *step, int r)
{
	setf(why, len, "%s failed: %s", step, ERRTEXT(r));
	if (bpf_msg[0] && r != -EPERM)
		appendf(why, len, " [libbpf: %s]", bpf_msg);
	appendf(why, len, "%s", root_note());
}

/* Loads one program of probe.bpf.c for this process only, attaches it,
 * fires its hook, and returns how often it ran, or -errno. */
static int run_bpf_probe(bool lsm, char *why, size_t len)
{
	libbpf_print_fn_t old = quiet_begin();
	struct bpf_link *link = NULL;
	struct bpf_program *prog;
	struct sbx_probe *s;
	uint64_t hits;
	int r, fd;

	s = sbx_probe__open();
	if (!s) {
		r = -errno;
		bpf_fail(why, len, "opening the probe object", r);
		goto out;
	}
	prog = lsm ? s->progs.probe_lsm_file_open : s->progs.probe_tp_btf_sys_enter;
	/* Only one program, so that one failure does not hide the other. */
	bpf_program__set_autoload(lsm ? s->progs.probe_tp_btf_sys_enter :
				  s->progs.probe_lsm_file_open, false);
	s->rodata->probe_tgid = (uint32_t)getpid();
	r = sbx_probe__load(s);
	if (r < 0) {
		bpf_fail(why, len, lsm ? "loading lsm/file_open" : "loading tp_btf/sys_enter", r);
		goto out;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		r = -errno;
		bpf_fail(why, len, "attaching", r);
		goto out;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* file_open + sys_enter */
	if (fd >= 0)
		close(fd);
	hits = __atomic_load_n(lsm ? &s->bss->lsm_hits : &s->bss->tp_btf_hits, __ATOMIC_RELAXED);
	r = hits > INT32_MAX ? INT32_MAX : (int)hits;
out:
	bpf_link__destroy(link);
	sbx_probe__destroy(s);
	quiet_end(old);
	return r;
}

/* sbx_probe_bpf_lsm(), also saying whether "bpf" is an active LSM. */
static int bpf_lsm_probe(char *why, size_t len, bool *ret_listed)
{
	char list[256] = "", step[256] = "";
	const char *src;
	int listed = bpf_lsm_listed(list, sizeof(list), &src);
	int r = run_bpf_probe(true, step, sizeof(step));

	*ret_listed = listed > 0;

	if (listed >= 0)
		setf(why, len, "listed in %s: %s (%s)", src, listed ? "yes" : "no", list);
	else
		setf(why, len, "active LSM list unreadable: %s", ERRTEXT(listed));
	if (r > 0) {
		appendf(why, len, "; lsm/file_open fired %d time(s) for this process", r);
		return 0;
	}
	if (r == 0) {
		appendf(why, len, "; lsm/file_open loaded and attached but never ran: "
			"BPF LSM not functional%s", listed == 0 ? " (add bpf to lsm= on the kernel "
			"command line)" : "");
		return -ENOTSUP;
	}
	appendf(why, len, "; %s: %s", step, r == -EPERM && geteuid() != 0 ?
		"cannot tell without privileges" : "BPF LSM not functional");
	return r;
}

int sbx_probe_bpf_lsm(char *why, size_t len)
{
	bool listed;

	return bpf_lsm_probe(why, len, &listed);
}

int sbx_probe_tp_btf(char *why, size_t len)
{
	char step[256] = "";
	int r = run_bpf_probe(false, step, sizeof(step));

	if (r > 0) {
		setf(why, len, "tp_btf/sys_enter fired %d time(s) for this process", r);
		return 0;
	}
	if (r == 0)
		return sbx_fail(why, len, -ENOTSUP,
				"tp_btf/sys_enter loaded and attached but never ran");
	return sbx_fail(why, len, r, "%s", step);
}

/* ---- BPF program and map types ----------------------------------------- */

/* Loads "r0 = 1; exit" of a type and expected attach type; 0 or -errno. */
static int load_trivial(enum bpf_prog_type type, enum bpf_attach_type attach,
			uint32_t btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

struct attach_probe {
	enum bpf_attach_type type;
	const char *name;
};

struct prog_probe {
	const char *name;
	enum bpf_prog_type type;
	size_t field;			/* offsetof the bool in struct sbx_features */
	const struct attach_probe *attach; /* each is loaded on its own; may be NULL */
	const char *note;
};

static const struct attach_probe sock_addr_attach[] = {
	{ BPF_CGROUP_INET4_CONNECT, "connect4" }, { BPF_CGROUP_INET6_CONNECT, "connect6" },
	{ BPF_CGROUP_UDP4_SENDMSG, "sendmsg4" }, { BPF_CGROUP_UDP6_SENDMSG, "sendmsg6" },
	{ BPF_CGROUP_INET4_BIND, "bind4" }, { BPF_CGROUP_INET6_BIND, "bind6" }, { 0 },
};
static const struct attach_probe sock_attach[] = {
	{ BPF_CGROUP_INET_SOCK_CREATE, "sock_create" }, { 0 },
};
static const struct attach_probe skb_attach[] = {
	{ BPF_CGROUP_INET_INGRESS, "ingress" }, { BPF_CGROUP_INET_EGRESS, "egress" }, { 0 },
};

#define FIELD(f) offsetof(struct sbx_features, f)

static const struct prog_probe prog_probes[] = {
	{ "bpf_prog_cgroup_sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
	  FIELD(prog_cgroup_sock_addr), sock_addr_attach, "network allow/deny lists" },
	{ "bpf_prog_cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK, FIELD(prog_cgroup_sock),
	  sock_attach, "refuses raw/packet sockets" },
	{ "bpf_prog_cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, FIELD(prog_cgroup_skb),
	  skb_attach, "byte accounting" },
	{ "bpf_prog_tracing", BPF_PROG_TYPE_TRACING, FIELD(prog_tracing), NULL,
	  "libbpf probes this type with an fentry program; see tp_btf and fentry" },
	{ "bpf_prog_lsm", BPF_PROG_TYPE_LSM, FIELD(prog_lsm), NULL,
	  "load probe only; see bpf_lsm for the functional probe" },
	{ "bpf_prog_syscall", BPF_PROG_TYPE_SYSCALL, FIELD(prog_syscall), NULL, NULL },
	{ 0 },
};

/* Adds a row; the detail is formatted. */
static struct sbx_feature * __attribute__((format(printf, 4, 5)))
add(struct sbx_features *f, const char *name, bool available, const char *fmt, ...)
{
	struct sbx_feature *it;
	va_list ap;

	if (f->n >= SBX_FEATURES_MAX)
		return NULL;
	it = &f->items[f->n++];
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->available = available;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	return it;
}

static void probe_prog_type(struct sbx_features *f, const struct prog_probe *p)
{
	char detail[SBX_FEATURE_DETAIL_MAX];
	int r = libbpf_probe_bpf_prog_type(p->type, NULL);
	bool ok = r == 1;

	setf(detail, sizeof(detail), "%s", r == 1 ? "loads" : r == 0 ? "does not load" :
	     "probe failed");
	if (r < 0)
		appendf(detail, sizeof(detail), ": %s", ERRTEXT(r));
	for (const struct attach_probe *a = p->attach; a && a->name; a++) {
		int e = load_trivial(p->type, a->type, 0);
		const char *name = strerrorname_np(-e);

		appendf(detail, sizeof(detail), "%s%s%s%s%s", a == p->attach ? "; " : ", ", a->name,
			e ? " fails (" : " ok", e ? (name ? name : "?") : "", e ? ")" : "");
		ok = ok && e == 0;
	}
	if (p->note)
		appendf(detail, sizeof(detail), " (%s)", p->note);
	if (!ok)
		appendf(detail, sizeof(detail), "%s", root_note());
	*(bool *)((char *)f + p->field) = ok;
	add(f, p->name, ok, "%s", detail);
}

struct map_probe {
	const char *name;
	enum bpf_map_type type;
	size_t field;
	const char *use;
};

static const struct map_probe map_probes[] = {
	{ "bpf_map_ringbuf", BPF_MAP_TYPE_RINGBUF, FIELD(map_ringbuf), "audit event stream" },
	{ "bpf_map_lpm_trie", BPF_MAP_TYPE_LPM_TRIE, FIELD(map_lpm_trie),
	  "address and path prefix rules" },
	{ "bpf_map_array_of_maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, FIELD(map_array_of_maps),
	  "per-sandbox ring buffers" },
	{ 0 },
};

static void probe_bpf_types(struct sbx_features *f)
{
	for (const struct prog_probe *p = prog_probes; p->name; p++)
		probe_prog_type(f, p);
	for (const struct map_probe *m = map_probes; m->name; m++) {
		int r = libbpf_probe_bpf_map_type(m->type, NULL);

		*(bool *)((char *)f + m->field) = r == 1;
		add(f, m->name, r == 1, "%s (%s)%s", r == 1 ? "creates" : r == 0 ?
		    "cannot be created" : ERRTEXT(r), m->use, r == 1 ? "" : root_note());
	}
}

/* Loads and attaches a do-nothing fentry program (not triggered). */
static int fentry_try(const struct btf *vmlinux, char *why, size_t len)
{
	static const char target[] = "bpf_fentry_test1";	/* exists for this purpose */
	int id = btf__find_by_name_kind(vmlinux, target, BTF_KIND_FUNC), fd, link;
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);

	if (id < 0)
		return sbx_fail(why, len, -ENOENT, "%s not found in kernel BTF", target);
	opts.attach_btf_id = (uint32_t)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &opts);
	if (fd < 0) {
		fd = -errno;
		return sbx_fail(why, len, fd, "loading fentry/%s failed: %s%s", target, ERRTEXT(fd),
				root_note());
	}
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0) {
		link = -errno;
		setf(why, len, "attaching fentry/%s failed: %s", target, ERRTEXT(link));
	} else {
		setf(why, len, "fentry/%s loads and attaches", target);
		close(link);
	}
	close(fd);
	return link < 0 ? link : 0;
}

/* Kernel BTF (CO-RE, tp_btf, fentry and LSM need it) and fentry. */
static void probe_btf_fentry(struct sbx_features *f)
{
	libbpf_print_fn_t old = quiet_begin();
	char why[SBX_FEATURE_DETAIL_MAX];
	struct btf *btf = btf__load_vmlinux_btf();
	int r;

	f->btf_vmlinux = btf != NULL;
	if (!btf) {
		r = -errno;
		add(f, "btf_vmlinux", false, "/sys/kernel/btf/vmlinux: %s (needs CONFIG_DEBUG_INFO_BTF)",
		    ERRTEXT(r));
		add(f, "fentry", false, "not probed: no kernel BTF");
		quiet_end(old);
		return;
	}
	add(f, "btf_vmlinux", true, "/sys/kernel/btf/vmlinux parses: %u types",
	    btf__type_cnt(btf));
	r = fentry_try(btf, why, sizeof(why));
	f->fentry = r == 0;
	add(f, "fentry", r == 0, "%s (optional; sbx does not need fentry)", why);
	btf__free(btf);
	quiet_end(old);
}

/* ---- cgroups ----------------------------------------------------------- */

int sbx_features_probe_dir(char *buf, size_t len)
{
	char mnt[PATH_MAX], own[PATH_MAX];
	int r = sbx_cgroup2_mount(mnt, sizeof(mnt));

	if (r < 0)
		return r;
	r = sbx_cgroup2_self(own, sizeof(own));
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s%s/sbx-probe-%d", mnt, strcmp(own, "/") ? own : "",
			     (int)getpid()) >= len)
		return -ENAMETOOLONG;
	return 0;
}

struct v1_list {
	char *buf;
	size_t len;
	int n;
};

static int list_v1(const struct sbx_mount *m, void *arg)
{
	struct v1_list *l = arg;
	const char *name = strrchr(m->point, '/');

	if (!strcmp(m->fstype, "cgroup"))
		appendf(l->buf, l->len, "%s%s", l->n++ ? "," : "", name ? name + 1 : m->point);
	return 0;
}

/* v1 hierarchies as "cpu,memory,..." (mount point names). Returns how many. */
static int v1_hierarchies(char *buf, size_t len)
{
	struct v1_list l = { buf, len, 0 };
	int r;

	buf[0] = '\0';
	r = sbx_mountinfo_each(list_v1, &l);
	return r < 0 ? r : l.n;
}

static void probe_cgroup2(struct sbx_features *f)
{
	char path[PATH_MAX + 32], v1[512], own[PATH_MAX] = "?";
	char *ctl = f->cgroup2_controllers;
	int r = sbx_cgroup2_mount(f->cgroup2_mount, sizeof(f->cgroup2_mount));
	int nv1;

	if (r < 0) {
		f->cgroup2_mount[0] = '\0';
		add(f, "cgroup2", false, "not mounted (no cgroup2 entry in /proc/self/mountinfo): %s",
		    ERRTEXT(r));
		return;
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", f->cgroup2_mount);
	r = read_text(path, ctl, sizeof(f->cgroup2_controllers));
	if (r < 0)
		snprintf(ctl, sizeof(f->cgroup2_controllers), "unreadable: %s", ERRTEXT(r));
	nv1 = v1_hierarchies(v1, sizeof(v1));
	sbx_cgroup2_self(own, sizeof(own));
	f->cgroup2 = true;
	f->cgroup2_hybrid = nv1 > 0;
	add(f, "cgroup2", true, "mounted at %s; %s%s%s; controllers: %s; this process is in %s",
	    f->cgroup2_mount, nv1 > 0 ? "hybrid layout, v1 hierarchies: " : "pure cgroup2",
	    nv1 > 0 ? v1 : "", nv1 > 0 ? " (limits go through v1)" : "",
	    *ctl ? ctl : "none", own);
}

/* In the clone3 child: only async-signal-safe calls (no fork handlers ran). */
static bool child_in_cgroup(const char *expect)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, expect) != NULL;
}

/* clone3(CLONE_INTO_CGROUP) a child that checks where it landed and exits;
 * returns its exit status (0: in the cgroup) or -errno. */
static int clone_into(int cgfd, const char *expect)
{
	struct clone3_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cgfd,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(child_in_cgroup(expect) ? 0 : 3);
	return wait_exit((pid_t)pid);
}

/* Makes the probe cgroup; a stale one (same pid, earlier boot) is replaced. */
static int make_probe_cgroup(const char *dir)
{
	int fd;

	if (mkdir(dir, 0755) < 0) {
		if (errno != EEXIST || sbx_cgroup_destroy(dir) < 0 || mkdir(dir, 0755) < 0)
			return -errno;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		rmdir(dir);
	}
	return fd;
}

static void clone_explain(int r, const char *dir, char *why, size_t len)
{
	if (r == 0)
		setf(why, len, "a child cloned into %s started there", dir);
	else if (r == -ENOSYS)
		setf(why, len, "clone3 is not implemented (ENOSYS; Linux < 5.3)");
	else if (r == -EINVAL || r == -E2BIG)
		setf(why, len, "clone3 rejects CLONE_INTO_CGROUP: %s (Linux < 5.7?)", ERRTEXT(r));
	else if (r < 0)
		setf(why, len, "clone3 into %s failed: %s", dir, ERRTEXT(r));
	else
		setf(why, len, "the child ran outside %s (exit status %d)", dir, r);
}

int sbx_probe_clone_into_cgroup(char *why, size_t len)
{
	char dir[PATH_MAX], expect[PATH_MAX + 8], mnt[PATH_MAX];
	int fd, r, rm;

	r = sbx_features_probe_dir(dir, sizeof(dir));
	if (r < 0)
		return sbx_fail(why, len, r, "no cgroup2 directory to probe in: %s", ERRTEXT(r));
	sbx_cgroup2_mount(mnt, sizeof(mnt));
	snprintf(expect, sizeof(expect), "0::%s\n", dir + strlen(mnt));
	fd = make_probe_cgroup(dir);
	if (fd < 0)
		return sbx_fail(why, len, fd, "cannot create the probe cgroup %s: %s", dir,
				ERRTEXT(fd));
	r = clone_into(fd, expect);
	close(fd);
	clone_explain(r, dir, why, len);
	rm = sbx_cgroup_destroy(dir);
	if (rm < 0)
		appendf(why, len, "; removing it failed: %s", ERRTEXT(rm));
	else
		appendf(why, len, "%s; probe cgroup removed", r == 0 ? " and exited" : "");
	return r > 0 ? -EIO : r;
}

/* ---- Landlock, seccomp, user namespaces --------------------------------- */

int sbx_probe_landlock(char *why, size_t len)
{
	static const char *const adds[] = {
		"", "filesystem access", "file reparenting", "truncate", "TCP bind/connect",
		"device ioctl", "signal and abstract-socket scoping", "audit log control",
	};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int e = errno;

	if (abi > 0) {
		setf(why, len, "ABI %ld:", abi);
		for (long i = 1; i <= abi && i < (long)(sizeof(adds) / sizeof(adds[0])); i++)
			appendf(why, len, "%s %s (v%ld)", i > 1 ? "," : "", adds[i], i);
		if (abi >= (long)(sizeof(adds) / sizeof(adds[0])))
			appendf(why, len, ", and newer rights");
		return (int)abi;
	}
	if (abi == 0)
		return sbx_fail(why, len, -ENOTSUP, "the kernel reports ABI 0");
	if (e == ENOSYS)
		return sbx_fail(why, len, -e, "kernel built without Landlock (ENOSYS)");
	if (e == EOPNOTSUPP)
		return sbx_fail(why, len, -e, "Landlock built in but not enabled (EOPNOTSUPP): "
				"add landlock to lsm=");
	return sbx_fail(why, len, -e, "landlock_create_ruleset failed: %s", ERRTEXT(e));
}

/* In a child: installs an allow-everything seccomp filter. */
static int seccomp_child(const void *arg __attribute__((unused)))
{
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &insn };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return errno;
	return 0;
}

static void probe_seccomp(struct sbx_features *f)
{
	static const struct { uint32_t act; unsigned bit; const char *name; } acts[] = {
		{ SECCOMP_RET_KILL_PROCESS, SBX_SECCOMP_ACT_KILL_PROCESS, "kill_process" },
		{ SECCOMP_RET_ERRNO, SBX_SECCOMP_ACT_ERRNO, "errno" },
		{ SECCOMP_RET_LOG, SBX_SECCOMP_ACT_LOG, "log" },
		{ SECCOMP_RET_USER_NOTIF, SBX_SECCOMP_ACT_USER_NOTIF, "user_notif" },
	};
	char list[128] = "";
	int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0), r;

	if (mode < 0) {
		add(f, "seccomp", false, "prctl(PR_GET_SECCOMP): %s%s", ERRTEXT(errno),
		    errno == EINVAL ? ": kernel built without seccomp" : "");
		return;
	}
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		uint32_t act = acts[i].act;

		if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0) {
			f->seccomp_actions |= acts[i].bit;
			appendf(list, sizeof(list), " %s", acts[i].name);
		}
	}
	r = in_child(seccomp_child, NULL);
	f->seccomp = r == 0 && (f->seccomp_actions & SBX_SECCOMP_ACT_ERRNO);
	add(f, "seccomp", f->seccomp, "%s%s; actions:%s; this process: mode %d%s",
	    r == 0 ? "a filter installs" : "installing a filter failed: ",
	    r == 0 ? "" : ERRTEXT(r), *list ? list : " none", mode,
	    mode == 2 ? " (already filtered)" : "");
}

static int userns_child(const void *arg __attribute__((unused)))
{
	return unshare(CLONE_NEWUSER) < 0 ? errno : 0;
}

int sbx_probe_userns(char *why, size_t len)
{
	char v[32];
	int r = in_child(userns_child, NULL);

	if (r == 0)
		setf(why, len, "unshare(CLONE_NEWUSER) works%s", geteuid() ? "" : " (as root)");
	else
		setf(why, len, "unshare(CLONE_NEWUSER) failed: %s", r > 0 ? ERRTEXT(r) : ERRTEXT(-r));
	if (read_text("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof(v)) == 0)
		appendf(why, len, "; kernel.unprivileged_userns_clone=%s", v);
	if (read_text("/proc/sys/user/max_user_namespaces", v, sizeof(v)) == 0)
		appendf(why, len, "; user.max_user_namespaces=%s", v);
	return r > 0 ? -r : r;
}

/* ---- filesystems and lockdown ------------------------------------------ */

static bool bpffs_type_known(void)
{
	char line[128];
	bool known = false;
	FILE *fp = fopen("/proc/filesystems", "re");

	while (fp && !known && fgets(line, sizeof(line), fp))
		known = !strcmp(line, "nodev\tbpf\n");
	if (fp)
		fclose(fp);
	return known;
}

static void probe_bpffs(struct sbx_features *f)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) < 0) {
		add(f, "bpffs", false, "/sys/fs/bpf: %s", ERRTEXT(errno));
		return;
	}
	f->bpffs = (unsigned long)st.f_type == BPF_FS_MAGIC;
	if (f->bpffs) {
		add(f, "bpffs", true, "mounted at /sys/fs/bpf (pins go to /sys/fs/bpf/sbx)");
		return;
	}
	/* sbx mounts bpffs itself at first load (core/bpfload.c), as bpftool
	 * does; only a kernel without the filesystem type makes it missing. */
	f->bpffs = bpffs_type_known();
	if (f->bpffs)
		add(f, "bpffs", true, "not mounted yet: sbx mounts bpffs at /sys/fs/bpf when it "
		    "first loads its programs");
	else
		add(f, "bpffs", false, "/sys/fs/bpf is not bpffs (filesystem magic 0x%lx) and the "
		    "kernel has no bpf filesystem type", (unsigned long)st.f_type);
}

static void probe_lockdown(struct sbx_features *f)
{
	char buf[128], *open_br, *close_br;
	bool priv;
	int r = read_securityfs("lockdown", buf, sizeof(buf), &priv);

	if (r < 0) {
		add(f, "lockdown", false, SECURITYFS "/lockdown: %s (lockdown LSM not active, "
		    "or securityfs unreadable)", ERRTEXT(r));
		return;
	}
	open_br = strchr(buf, '[');
	close_br = open_br ? strchr(open_br, ']') : NULL;
	if (open_br && close_br && close_br - open_br - 1 < (long)sizeof(f->lockdown))
		snprintf(f->lockdown, sizeof(f->lockdown), "%.*s", (int)(close_br - open_br - 1),
			 open_br + 1);
	add(f, "lockdown", true, "mode %s (%s)%s%s", *f->lockdown ? f->lockdown : "?", buf,
	    strcmp(f->lockdown, "confidentiality") ? "" : "; BPF cannot read kernel memory",
	    priv ? "; securityfs is not mounted, read through a private mount" : "");
}

/* ---- cached single probes ---------------------------------------------- */

#define UNPROBED INT32_MIN

/* Serialises first probes: two threads must not race on one probe cgroup. */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

static int cached(int *slot, int (*probe)(char *, size_t))
{
	int r = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (r != UNPROBED)
		return r;
	pthread_mutex_lock(&probe_lock);
	r = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (r == UNPROBED) {
		r = probe(NULL, 0);
		__atomic_store_n(slot, r, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&probe_lock);
	return r;
}

static int cache_bpf_lsm = UNPROBED, cache_tp_btf = UNPROBED, cache_clone = UNPROBED;
static int cache_userns = UNPROBED, cache_landlock = UNPROBED, cache_ringbuf = UNPROBED;
static int cache_unix_hooks = UNPROBED;

static int probe_ringbuf(char *why __attribute__((unused)), size_t len __attribute__((unused)))
{
	libbpf_print_fn_t old = quiet_begin();
	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

	quiet_end(old);
	return r == 1 ? 0 : r == 0 ? -ENOTSUP : r;
}

/* cgroup sock_addr programs on unix sockets (Linux 6.7): the attach type is
 * refused at load time where it does not exist. */
static int probe_unix_hooks(char *why __attribute__((unused)), size_t len __attribute__((unused)))
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = SBX_BPF_CGROUP_UNIX_CONNECT);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL, "GPL", insns, 2, &o);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

bool sbx_unix_hooks_supported(void)
{
	return cached(&cache_unix_hooks, probe_unix_hooks) == 0;
}

bool sbx_bpf_lsm_supported(void)
{
	return cached(&cache_bpf_lsm, sbx_probe_bpf_lsm) == 0;
}

bool sbx_tp_btf_supported(void)
{
	return cached(&cache_tp_btf, sbx_probe_tp_btf) == 0;
}

bool sbx_userns_supported(void)
{
	return cached(&cache_userns, sbx_probe_userns) == 0;
}

bool sbx_ringbuf_supported(void)
{
	return cached(&cache_ringbuf, probe_ringbuf) == 0;
}

bool sbx_clone_into_cgroup_supported(void)
{
	return cached(&cache_clone, sbx_probe_clone_into_cgroup) == 0;
}

int sbx_landlock_abi(void)
{
	int r = cached(&cache_landlock, sbx_probe_landlock);

	return r > 0 ? r : 0;
}

/* ---- everything -------------------------------------------------------- */

/* Runs probe into a new row and seeds its cache, so that a later
 * sbx_*_supported() does not probe again. Returns the probe's result. */
static int add_probed(struct sbx_features *f, const char *name, int *slot,
		      int (*probe)(char *, size_t), bool ok_if_positive)
{
	char why[SBX_FEATURE_DETAIL_MAX] = "";
	int r = probe(why, sizeof(why));

	__atomic_store_n(slot, r, __ATOMIC_RELEASE);
	add(f, name, ok_if_positive ? r > 0 : r == 0, "%s", why);
	return r;
}

static void probe_bpf_lsm(struct sbx_features *f)
{
	char why[SBX_FEATURE_DETAIL_MAX] = "";
	int r = bpf_lsm_probe(why, sizeof(why), &f->bpf_lsm_listed);

	__atomic_store_n(&cache_bpf_lsm, r, __ATOMIC_RELEASE);
	f->bpf_lsm = r == 0;
	add(f, "bpf_lsm", f->bpf_lsm, "%s", why);
}

static void probe_kernel_features(struct sbx_features *f)
{
	int r;

	probe_cgroup2(f);
	f->clone_into_cgroup = add_probed(f, "clone_into_cgroup", &cache_clone,
					  sbx_probe_clone_into_cgroup, false) == 0;
	probe_bpf_types(f);
	__atomic_store_n(&cache_ringbuf, f->map_ringbuf ? 0 : -ENOTSUP, __ATOMIC_RELEASE);
	probe_bpf_lsm(f);
	f->tp_btf = add_probed(f, "tp_btf", &cache_tp_btf, sbx_probe_tp_btf, false) == 0;
	probe_btf_fentry(f);
	r = add_probed(f, "landlock", &cache_landlock, sbx_probe_landlock, true);
	f->landlock_abi = r > 0 ? r : 0;
	probe_seccomp(f);
	f->userns = add_probed(f, "user_namespaces", &cache_userns, sbx_probe_userns,
			       false) == 0;
	probe_bpffs(f);
	probe_lockdown(f);
}

int sbx_features_probe(struct sbx_features *ret)
{
	struct sbx_features *f = calloc(1, sizeof(*f));
	libbpf_print_fn_t old;
	struct utsname u;

	if (!f)
		return -ENOMEM;
	if (uname(&u) < 0) {
		free(f);
		return -errno;
	}
	snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	snprintf(f->machine, sizeof(f->machine), "%s", u.machine);
	pthread_mutex_lock(&probe_lock);
	old = quiet_begin();
	probe_kernel_features(f);
	quiet_end(old);
	pthread_mutex_unlock(&probe_lock);
	*ret = *f;
	free(f);
	return 0;
}

const struct sbx_feature *sbx_features_find(const struct sbx_features *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->items[i].name, name) == 0)
			return &f->items[i];
	return NULL;
}

const char *sbx_features_fs_backend(const struct sbx_features *f)
{
	if (f->bpf_lsm)
		return "bpf-lsm";
	if (f->landlock_abi > 0)
		return "landlock";
	return "none";
}
