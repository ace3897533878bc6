/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's seccomp filter: allow by default, refuse a list of system
 * calls. The list is the table below; docs/seccomp.md mirrors it. Everything
 * that can fail (name lookup, libseccomp, allocation) happens in
 * sbx_seccomp_build(), in the parent; the child only calls seccomp(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include <seccomp.h>

#include "sbx_abi.h"
#include "kernel/seccomp.h"
#include "kernel/seccomp_cache.h"
#include "util/util.h"

/* denied[] is copied into the kernel side's sbx_syscall_set.bits */
_Static_assert(SBX_SYSCALL_BITMAP_WORDS == SBX_SYSCALL_WORDS, "bitmap size differs from sbx_abi.h");
_Static_assert(sizeof(((struct sbx_seccomp *)0)->denied) == sizeof(((struct sbx_syscall_set *)0)->bits),
	       "bitmap size differs from sbx_abi.h");

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* How a preset treats one system call. */
enum rule {
	R_NONE = 0,	/* not refused */
	R_DENY,		/* always refused */
	R_NEWUSER,	/* refused when the flags (argument 0) ask for a new user namespace */
	R_NEWNS,	/* refused when the flags ask for any new namespace (clone only) */
	R_PERSONA,	/* refused unless the persona is 0 (PER_LINUX) or 0xffffffff (query) */
	R_ENOSYS,	/* fails with ENOSYS whatever the action, so libc falls back */
};

/*
 * The presets. Columns: system call, default preset, strict preset, why.
 * Names libseccomp does not know for this architecture (e.g. iopl on arm64)
 * are skipped; names it does not know at all come from newer_syscalls[].
 */
#define SBX_SECCOMP_TABLE(X)											\
	/* kernel code */											\
	X(init_module,		DENY,	DENY,	"loads code into the kernel")					\
	X(finit_module,		DENY,	DENY,	"loads code into the kernel")					\
	X(delete_module,	DENY,	DENY,	"unloads kernel modules the host relies on")			\
	X(kexec_load,		DENY,	DENY,	"replaces the running kernel")					\
	X(kexec_file_load,	DENY,	DENY,	"replaces the running kernel")					\
	X(bpf,			DENY,	DENY,	"loads programs into the kernel; can read kernel memory")	\
	X(perf_event_open,	DENY,	DENY,	"kernel profiling: side channels, a long record of bugs")	\
	/* other processes */											\
	X(ptrace,		DENY,	DENY,	"reads and rewrites other processes; seccomp cannot see the target") \
	X(process_vm_readv,	DENY,	DENY,	"reads another process's memory (ptrace access)")		\
	X(process_vm_writev,	DENY,	DENY,	"writes another process's memory (ptrace access)")		\
	X(process_madvise,	DENY,	DENY,	"acts on another process's memory (ptrace access)")		\
	X(pidfd_getfd,		DENY,	DENY,	"copies a file descriptor out of another process")		\
	X(kcmp,			DENY,	DENY,	"compares kernel objects of other processes (ptrace access)")	\
	/* keyrings: not namespaced */										\
	X(add_key,		DENY,	DENY,	"kernel keyrings are not namespaced")				\
	X(request_key,		DENY,	DENY,	"kernel keyrings are not namespaced")				\
	X(keyctl,		DENY,	DENY,	"kernel keyrings are not namespaced")				\
	/* mounts and namespaces */										\
	X(mount,		DENY,	DENY,	"changes the file system view the policy was written for")	\
	X(umount2,		DENY,	DENY,	"uncovers what a mount hides")					\
	X(pivot_root,		DENY,	DENY,	"changes the root file system")					\
	X(move_mount,		DENY,	DENY,	"new mount API")						\
	X(open_tree,		DENY,	DENY,	"new mount API: clones mount trees")				\
	X(open_tree_attr,	DENY,	DENY,	"new mount API: clones mount trees")				\
	X(fsopen,		DENY,	DENY,	"new mount API")						\
	X(fsconfig,		DENY,	DENY,	"new mount API")						\
	X(fsmount,		DENY,	DENY,	"new mount API")						\
	X(fspick,		DENY,	DENY,	"new mount API")						\
	X(mount_setattr,	DENY,	DENY,	"new mount API: changes mount flags")				\
	X(setns,		DENY,	DENY,	"joins another namespace")					\
	X(unshare,		NEWUSER, DENY,	"a new user namespace grants every capability inside it")	\
	X(clone,		NEWUSER, NEWNS,	"as unshare; plain fork and threads stay allowed")		\
	X(clone3,		ENOSYS,	ENOSYS,	"flags are in memory seccomp cannot read; ENOSYS makes libc use clone") \
	X(chroot,		NONE,	DENY,	"changes the root directory")					\
	/* file handles, kernel interfaces with a large attack surface */					\
	X(open_by_handle_at,	DENY,	DENY,	"opens files by handle, bypassing path checks (shocker)")	\
	X(name_to_handle_at,	NONE,	DENY,	"the other half of open_by_handle_at")				\
	X(userfaultfd,		DENY,	DENY,	"stalls kernel page faults: widens kernel race windows")	\
	X(io_uring_setup,	DENY,	DENY,	"io_uring runs calls seccomp and the audit trail never see")	\
	X(io_uring_enter,	DENY,	DENY,	"io_uring runs calls seccomp and the audit trail never see")	\
	X(io_uring_register,	DENY,	DENY,	"io_uring runs calls seccomp and the audit trail never see")	\
	X(fanotify_init,	NONE,	DENY,	"watches file access system-wide")				\
	/* the machine */											\
	X(reboot,		DENY,	DENY,	"reboots the host")						\
	X(settimeofday,		DENY,	DENY,	"sets the host clock")						\
	X(clock_settime,	DENY,	DENY,	"sets the host clock")						\
	X(clock_adjtime,	DENY,	DENY,	"adjusts the host clock")					\
	X(adjtimex,		DENY,	DENY,	"adjusts the host clock")					\
	X(swapon,		DENY,	DENY,	"changes host swap")						\
	X(swapoff,		DENY,	DENY,	"changes host swap")						\
	X(acct,			DENY,	DENY,	"switches host process accounting")				\
	X(quotactl,		DENY,	DENY,	"changes file system quotas")					\
	X(quotactl_fd,		DENY,	DENY,	"changes file system quotas")					\
	X(syslog,		DENY,	DENY,	"reads the kernel log (addresses) or clears it")		\
	X(vhangup,		DENY,	DENY,	"hangs up the controlling terminal")				\
	X(lookup_dcookie,	DENY,	DENY,	"kernel profiling interface")					\
	X(nfsservctl,		DENY,	DENY,	"obsolete NFS server control")					\
	X(uselib,		DENY,	DENY,	"obsolete a.out loader")					\
	X(_sysctl,		DENY,	DENY,	"obsolete binary sysctl")					\
	X(personality,		PERSONA, PERSONA, "other personas turn off ASLR or emulate other kernels")	\
	X(sethostname,		NONE,	DENY,	"renames the (UTS namespace's) host")				\
	X(setdomainname,	NONE,	DENY,	"renames the (UTS namespace's) domain")				\
	X(iopl,			NONE,	DENY,	"raw I/O port access")						\
	X(ioperm,		NONE,	DENY,	"raw I/O port access")						\
	X(modify_ldt,		NONE,	DENY,	"16-bit segments, a long record of kernel bugs")		\
	X(mbind,		NONE,	DENY,	"NUMA placement: interferes with the host's")			\
	X(migrate_pages,	NONE,	DENY,	"moves other processes' pages")					\
	X(move_pages,		NONE,	DENY,	"moves other processes' pages")					\
	X(sysfs,		NONE,	DENY,	"obsolete file system type query")				\
	X(ustat,		NONE,	DENY,	"obsolete file system query")

struct row {
	const char *name;
	enum rule rule[2];	/* indexed by enum sbx_seccomp_preset */
	const char *why;	/* documentation; docs/seccomp.md has the same text */
};

#define ROW(n, d, s, w) { #n, { R_##d, R_##s }, w },
static const struct row rows[] = { SBX_SECCOMP_TABLE(ROW) };

/* The name lists of sbx_seccomp_preset_list(), taken from the same table. */
#define NAME_NONE(n)
#define NAME_DENY(n) #n,
#define NAME_NEWUSER(n) #n,
#define NAME_NEWNS(n) #n,
#define NAME_PERSONA(n) #n,
#define NAME_ENOSYS(n) #n,
#define DEFAULT_NAME(n, d, s, w) NAME_##d(n)
#define STRICT_NAME(n, d, s, w) NAME_##s(n)
static const char *const default_names[] = { SBX_SECCOMP_TABLE(DEFAULT_NAME) NULL };
static const char *const strict_names[] = { SBX_SECCOMP_TABLE(STRICT_NAME) NULL };

/*
 * System calls newer than libseccomp 2.5.4. Since Linux 5.1 new calls have the
 * same number on x86_64 and arm64 (asm-generic); 467 was checked on 6.18.
 */
static const struct {
	const char *name;
	int nr;
} newer_syscalls[] = {
#if defined(__x86_64__) || defined(__aarch64__)
	{ "open_tree_attr", 467 },
	{ "fchmodat2", 452 },
#endif
	{ NULL, 0 },
};

/* Every namespace flag clone() can carry (CLONE_NEWTIME shares bits with
 * the exit signal there and only works through unshare/clone3). */
static const uint64_t clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

/* Native number of a system call; a pseudo number (< 0) when it exists only
 * on other architectures; __NR_SCMP_ERROR when nobody knows the name. */
static int resolve(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr != __NR_SCMP_ERROR)
		return nr;
	for (size_t i = 0; newer_syscalls[i].name; i++)
		if (!strcmp(name, newer_syscalls[i].name))
			return newer_syscalls[i].nr;
	return __NR_SCMP_ERROR;
}

struct entry {
	int nr;
	enum rule rule;
};

struct ruleset {
	struct entry *v;
	size_t n;
};

static struct entry *ruleset_find(struct ruleset *set, int nr)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].nr == nr)
			return &set->v[i];
	return NULL;
}

static void ruleset_from_preset(struct ruleset *set, enum sbx_seccomp_preset preset)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		enum rule r = rows[i].rule[preset];
		int nr = resolve(rows[i].name);

		/* a libseccomp older than the table cannot filter the call by name */
		if (r == R_NONE || nr == __NR_SCMP_ERROR)
			continue;
		set->v[set->n++] = (struct entry){ nr, r };
	}
}

static int ruleset_allow(struct ruleset *set, char *const *names, size_t n, char *why, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		int nr = resolve(names[i]);
		struct entry *e;

		if (nr == __NR_SCMP_ERROR)
			return sbx_fail(why, len, -EINVAL,
					"seccomp.allow: unknown system call '%s'", names[i]);
		e = ruleset_find(set, nr);
		if (e)
			*e = set->v[--set->n];
	}
	return 0;
}

/* A name the profile denies is refused whatever its arguments; clone3 keeps
 * ENOSYS since EPERM there would break thread creation in glibc. */
static int ruleset_deny(struct ruleset *set, char *const *names, size_t n, char *why, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		int nr = resolve(names[i]);
		struct entry *e;

		if (nr == __NR_SCMP_ERROR)
			return sbx_fail(why, len, -EINVAL, "seccomp.deny: unknown system call '%s'",
					names[i]);
		e = ruleset_find(set, nr);
		if (!e)
			set->v[set->n++] = (struct entry){ nr, R_DENY };
		else if (e->rule != R_ENOSYS)
			e->rule = R_DENY;
	}
	return 0;
}

/*
 * personality(2) takes an unsigned int; the kernel drops the upper half of
 * the register. libseccomp allows one comparison per argument and rule, and
 * rules are or-ed, so "not 0 and not 0xffffffff" is written as: some bit is
 * set while the next bit (cyclically) is clear - true of every 32-bit value
 * except all-zeros and all-ones. Upper bits set are refused too.
 */
static int add_persona_rules(scmp_filter_ctx ctx, uint32_t act, int nr)
{
	int r = seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_GT, 0xffffffffULL, 0));

	for (unsigned bit = 0; r == 0 && bit < 32; bit++) {
		uint64_t set = 1ULL << bit, clear = 1ULL << ((bit + 1) % 32);

		r = seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, set | clear, set));
	}
	return r;
}

/* Flags are argument 0 of clone and unshare on x86_64 and arm64 (not s390). */
static int add_rule(scmp_filter_ctx ctx, uint32_t act, const struct entry *e)
{
	int r = 0;

	switch (e->rule) {
	case R_DENY:
		return seccomp_rule_add(ctx, act, e->nr, 0);
	case R_NEWUSER:
		return seccomp_rule_add(ctx, act, e->nr, 1,
					SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	case R_NEWNS:
		for (size_t i = 0; r == 0 && i < ARRAY_SIZE(clone_ns_flags); i++)
			r = seccomp_rule_add(ctx, act, e->nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]));
		return r;
	case R_PERSONA:
		return add_persona_rules(ctx, act, e->nr);
	case R_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), e->nr, 0);
	case R_NONE:
		break;
	}
	return 0;
}

/*
 * Foreign ABIs. The context holds only the native architecture, so i386
 * (int 0x80) calls carry another audit arch and take the bad-arch action.
 * x32 calls carry the x86_64 audit arch with __X32_SYSCALL_BIT set in the
 * number; for an x86_64 context without the x32 arch, libseccomp sends every
 * number at or above that bit to the bad-arch action too. Both use the
 * profile's action.
 */
static int restrict_abis(scmp_filter_ctx ctx, uint32_t act, char *why, size_t len)
{
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, act);

	if (r < 0)
		return sbx_fail(why, len, r, "seccomp: set the bad-arch action: %s", strerror(-r));
#if defined(__x86_64__)
	if (seccomp_arch_native() != SCMP_ARCH_X86_64 || seccomp_arch_exist(ctx, SCMP_ARCH_X32) != -EEXIST)
		return sbx_fail(why, len, -EINVAL,
				"seccomp: libseccomp's native ABI is not plain x86_64");
#endif
	return 0;
}

static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *ret, char *why, size_t len)
{
	struct sock_filter *insns = NULL;
	off_t size;
	int fd, r;

	/* libseccomp 2.5 exports to a file descriptor only (2.6 adds _mem) */
	fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return sbx_fail(why, len, r, "seccomp: memfd_create: %s", strerror(-r));
	}
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0) {
		snprintf(why, len, "seccomp: export the filter: %s", strerror(-r));
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(*insns) || size / sizeof(*insns) > BPF_MAXINSNS) {
		r = size < 0 ? -errno : -E2BIG;
		snprintf(why, len, "seccomp: exported filter has %lld bytes", (long long)size);
		goto out;
	}
	insns = malloc(size);
	if (!insns) {
		r = -ENOMEM;
		snprintf(why, len, "seccomp: out of memory");
		goto out;
	}
	if (pread(fd, insns, size, 0) != size) {
		r = -EIO;
		snprintf(why, len, "seccomp: read back the exported filter");
		free(insns);
		goto out;
	}
	ret->filter = insns;
	ret->len = size / sizeof(*insns);
	r = 0;
out:
	close(fd);
	return r;
}

/* Profile rules on top of the preset: allow removes from the preset, deny
 * adds, so a name in both stays refused. */
/* The cgroup guard (kernel/seccomp.h): clone3 stays ENOSYS whatever
 * seccomp.allow says. */
static void keep_cgroup_guard(struct ruleset *set)
{
	int nr = resolve("clone3");
	struct entry *e;

	if (nr == __NR_SCMP_ERROR)
		return;
	e = ruleset_find(set, nr);
	if (e)
		e->rule = R_ENOSYS;
	else
		set->v[set->n++] = (struct entry){ nr, R_ENOSYS };
}

int sbx_seccomp_add_cgroup_guard(void *ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

static int collect(const struct sbx_profile *p, struct ruleset *set, char *why, size_t len)
{
	int r;

	if ((unsigned)p->seccomp.preset > (unsigned)SBX_SECCOMP_STRICT)
		return sbx_fail(why, len, -EINVAL, "seccomp: unknown preset %d",
				(int)p->seccomp.preset);
	set->v = calloc(ARRAY_SIZE(rows) + p->seccomp.n_deny + 1, sizeof(*set->v));
	if (!set->v)
		return sbx_fail(why, len, -ENOMEM, "seccomp: out of memory");
	ruleset_from_preset(set, p->seccomp.preset);
	r = ruleset_allow(set, p->seccomp.allow, p->seccomp.n_allow, why, len);
	if (r == 0)
		r = ruleset_deny(set, p->seccomp.deny, p->seccomp.n_deny, why, len);
	if (r == 0)
		keep_cgroup_guard(set);
	return r;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t act, const struct ruleset *set, char *why, size_t len)
{
	for (size_t i = 0; i < set->n; i++) {
		int r;

		/* pseudo numbers: the call does not exist on this architecture */
		if (set->v[i].nr < 0)
			continue;
		r = add_rule(ctx, act, &set->v[i]);
		if (r < 0) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, set->v[i].nr);

			snprintf(why, len, "seccomp: rule for %s (%d): %s",
				 name ? name : "?", set->v[i].nr, strerror(-r));
			free(name);
			return r;
		}
	}
	return 0;
}

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

bool sbx_exec_guard_needed(const struct sbx_profile *p, int fs_backend)
{
	if (fs_backend == SBX_FSB_BPF_LSM || p->fs.mode == SBX_FS_FULL)
		return false;
	/* the modes that grant x everywhere let memfds run under BPF LSM too */
	return p->fs.n_exec > 0 || p->fs.mode == SBX_FS_NONE;
}

static void mark(uint64_t *denied, int nr)
{
	if (denied && nr >= 0 && nr < SBX_SYSCALL_BITMAP_WORDS * 64)
		denied[nr / 64] |= 1ULL << (nr % 64);
}

/* Rules of one action and call are or-ed: memfd_create is refused when
 * MFD_NOEXEC_SEAL is clear, or when MFD_EXEC is set (flags: argument 1,
 * an unsigned int; the upper half of the register is not compared). */
int sbx_seccomp_add_exec_guard(void *ctx, uint32_t act, uint64_t *denied)
{
	int memfd = SCMP_SYS(memfd_create), secret = resolve("memfd_secret");
	int exec = SCMP_SYS(execveat);
	int r;

	r = seccomp_rule_add(ctx, act, memfd, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, 0));
	if (!r)
		r = seccomp_rule_add(ctx, act, memfd, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, MFD_EXEC, MFD_EXEC));
	if (!r && secret >= 0)
		r = seccomp_rule_add(ctx, act, secret, 0);
	if (!r)
		r = seccomp_rule_add(ctx, act, exec, 1,
				     SCMP_A4(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	if (r < 0)
		return r;
	mark(denied, memfd);
	mark(denied, secret);
	mark(denied, exec);
	return 0;
}

/* Where the mode sits in each call that sets one: chmod(path, mode),
 * fchmodat(dfd, path, mode), open(path, flags, mode), ... */
static const struct {
	const char *name;
	unsigned arg;
	bool audit;	/* a refusal is reported as syscall.denied */
} mode_calls[] = {
	{ "chmod", 1, true }, { "fchmod", 1, true }, { "fchmodat", 2, true },
	{ "fchmodat2", 2, true }, { "mknod", 1, true }, { "mknodat", 2, true },
	{ "creat", 1, false }, { "open", 2, false }, { "openat", 3, false },
};

static int add_mode_rule(scmp_filter_ctx ctx, uint32_t act, int nr, unsigned arg, uint64_t bit)
{
	struct scmp_arg_cmp cmp = { .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = bit,
				    .datum_b = bit };
	int r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp);

	return r == -EEXIST ? 0 : r;	/* the profile refuses the whole call already */
}

/* Mode arguments are mode_t, an unsigned int: the bits compared are in the
 * low half, whatever the upper one holds. openat2 hides its mode in a
 * struct that seccomp cannot read: it fails with ENOSYS, and callers fall
 * back to openat. */
int sbx_seccomp_add_suid_guard(void *ctx, uint32_t act, uint64_t *denied)
{
	int r = 0, o2 = resolve("openat2");

	for (size_t i = 0; i < ARRAY_SIZE(mode_calls) && !r; i++) {
		int nr = resolve(mode_calls[i].name);

		if (nr == __NR_SCMP_ERROR)
			continue;
		r = add_mode_rule(ctx, act, nr, mode_calls[i].arg, S_ISUID);
		if (!r)
			r = add_mode_rule(ctx, act, nr, mode_calls[i].arg, S_ISGID);
		if (!r && mode_calls[i].audit)
			mark(denied, nr);
	}
	if (!r && o2 != __NR_SCMP_ERROR) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), o2, 0);
		if (r == -EEXIST)
			r = 0;
	}
	return r;
}

#define SBX_AF_NETLINK	16
#define SBX_AF_PACKET	17
#define SBX_NETLINK_MAX	32	/* MAX_LINKS: larger protocols fail anyway */

/* socket()'s arguments are ints: compare the low 32 bits only, or a family
 * with garbage above them would pass the filter and still reach the kernel.
 * socketpair() creates its two sockets through the same family code (and
 * works for more than unix: TIPC), so it gets the same rules. */
static int add_family_rules(void *ctx, int nr, uint64_t families)
{
	uint64_t allowed = SBX_FAMILIES_DEFAULT | families | (1ULL << SBX_AF_PACKET);
	uint32_t act = SCMP_ACT_ERRNO(EPERM);
	int r = 0;

	/* up to 63, past SBX_FAMILY_MAX: a family that a later kernel adds is
	 * refused until sbx knows it (the kernel refuses any family at or
	 * above its own AF_MAX, which is far below 64) */
	for (unsigned af = 0; af < 64 && !r; af++)
		if (af >= SBX_FAMILY_MAX || !(allowed & (1ULL << af)))
			r = seccomp_rule_add(ctx, act, nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, af));
	if (families & (1ULL << SBX_AF_NETLINK))
		return r;
	for (unsigned proto = 1; proto < SBX_NETLINK_MAX && !r; proto++)
		r = seccomp_rule_add(ctx, act, nr, 2,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, SBX_AF_NETLINK),
				     SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffULL, proto));
	return r;
}

int sbx_seccomp_add_families(void *ctx, uint64_t families)
{
	int r = add_family_rules(ctx, SCMP_SYS(socket), families);

	return r ? r : add_family_rules(ctx, SCMP_SYS(socketpair), families);
}

/* clone3 fails with ENOSYS, not a refusal the audit trail should report. */
static void fill_denied(uint64_t *denied, const struct ruleset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		int nr = set->v[i].nr;

		if (set->v[i].rule == R_ENOSYS || nr < 0 || nr >= SBX_SYSCALL_BITMAP_WORDS * 64)
			continue;
		denied[nr / 64] |= 1ULL << (nr % 64);
	}
}

static int compile(const struct sbx_profile *p, bool exec_guard, struct sbx_seccomp *ret,
		   char *why, size_t len)
{
	uint32_t act = p->seccomp.action == SBX_SECCOMP_KILL ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
	struct sbx_seccomp s = { 0 };
	struct ruleset set = { 0 };
	scmp_filter_ctx ctx = NULL;
	int r;

	r = collect(p, &set, why, len);
	if (r < 0)
		goto out;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		r = -ENOMEM;
		snprintf(why, len, "seccomp: seccomp_init failed");
		goto out;
	}
	/* A binary tree of syscall numbers instead of a list: openat, which the
	 * set-id guard's argument rules keep out of the kernel's action cache,
	 * runs ~20 instructions instead of ~73, read or close ~12 instead of ~67
	 * (measured on the exported default filter). The same decisions; a
	 * libseccomp without it keeps the list. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	r = restrict_abis(ctx, act, why, len);
	if (r == 0)
		r = add_rules(ctx, act, &set, why, len);
	if (r == 0 && exec_guard && (r = sbx_seccomp_add_exec_guard(ctx, act, s.denied)) < 0)
		snprintf(why, len, "seccomp: exec guard rules: %s", strerror(-r));
	if (r == 0 && (r = sbx_seccomp_add_families(ctx, p->net.families)) < 0)
		snprintf(why, len, "seccomp: socket family rules: %s", strerror(-r));
	if (r == 0 && (r = sbx_seccomp_add_suid_guard(ctx, act, s.denied)) < 0)
		snprintf(why, len, "seccomp: set-id mode rules: %s", strerror(-r));
	if (r == 0)
		r = export_prog(ctx, &s.prog, why, len);
	if (r < 0)
		goto out;
	fill_denied(s.denied, &set);
	*ret = s;
out:
	if (ctx)
		seccomp_release(ctx);
	free(set.v);
	return r;
}

int sbx_seccomp_build_families(uint64_t families, struct sbx_seccomp *ret, char *why, size_t len)
{
	struct sbx_seccomp s = { 0 };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return sbx_fail(why, len, -ENOMEM, "seccomp: seccomp_init failed");
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/* only the native ABI has rules: another one could create any family */
	r = restrict_abis(ctx, SCMP_ACT_KILL_PROCESS, why, len);
	if (r == 0 && (r = sbx_seccomp_add_families(ctx, families)) < 0)
		snprintf(why, len, "seccomp: socket family rules: %s", strerror(-r));
	/* io_uring's IORING_OP_SOCKET (5.19+) makes a socket of any family
	 * without a socket() call for the rules above to see: no ring (EPERM),
	 * as sbx's own filter refuses one; _enter and _register too, for a
	 * ring made outside and passed in (--preserve-fds) */
	for (size_t i = 0; r == 0 && i < 3; i++) {
		static const int nr[] = { __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register };

		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr[i], 0);
		if (r < 0)
			snprintf(why, len, "seccomp: io_uring rules: %s", strerror(-r));
	}
	if (r == 0)
		r = export_prog(ctx, &s.prog, why, len);
	seccomp_release(ctx);
	if (r == 0)
		*ret = s;
	return r;
}

/* The cache (kernel/seccomp_cache.h) first; a filter compiled for want of
 * a trusted file is written there for the next run. SBX_TRACE says which. */
int sbx_seccomp_build(const struct sbx_profile *p, bool exec_guard, struct sbx_seccomp *ret,
		      char *why, size_t len)
{
	_cleanup_free_ char *key = NULL;
	char miss[256] = "no build id", step[320];
	size_t klen = 0;
	int r;

	if (sbx_seccomp_cache_key(p, exec_guard, &key, &klen) == 0 &&
	    sbx_seccomp_cache_load(key, klen, ret, miss, sizeof(miss)) == 0) {
		sbx_trace("seccomp filter (cached)");
		return 0;
	}
	r = compile(p, exec_guard, ret, why, len);
	if (r == 0 && key)
		sbx_seccomp_cache_store(key, klen, ret);
	snprintf(step, sizeof(step), "seccomp filter (compiled: %s)", miss);
	sbx_trace(step);
	return r;
}

/* No TSYNC: the child is single-threaded between fork and exec. */
int sbx_seccomp_install(const struct sbx_seccomp *s)
{
	if (!s || !s->prog.filter || s->prog.len == 0)
		return -EINVAL;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &s->prog) < 0)
		return -errno;
	return 0;
}

void sbx_seccomp_free(struct sbx_seccomp *s)
{
	if (!s)
		return;
	free(s->prog.filter);
	memset(s, 0, sizeof(*s));
}

const char *const *sbx_seccomp_preset_list(enum sbx_seccomp_preset p)
{
	switch (p) {
	case SBX_SECCOMP_DEFAULT:
		return default_names;
	case SBX_SECCOMP_STRICT:
		return strict_names;
	}
	return NULL;
}

/* ---- the terminal guard (kernel/seccomp.h) ------------------------------ */

#ifndef TIOCSTI
#define TIOCSTI 0x5412
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* The ioctl of each ABI a task of this architecture can call. */
static const struct {
	uint32_t arch;
	uint32_t nr;
} tty_guard_abis[] = {
#if defined(__x86_64__)
	{ AUDIT_ARCH_X86_64, __NR_ioctl },
	{ AUDIT_ARCH_X86_64, 0x40000000u | 514 },	/* x32's ioctl */
	{ AUDIT_ARCH_I386, 54 },
#elif defined(__aarch64__)
	{ AUDIT_ARCH_AARCH64, __NR_ioctl },
	{ AUDIT_ARCH_ARM, 54 },
#else
#error "sbx_tty_guard: list this architecture's ioctl numbers"
#endif
};

/* The request's low 32 bits: where they sit in the 64-bit argument. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG1_LO offsetof(struct seccomp_data, args[1])
#else
#define ARG1_LO (offsetof(struct seccomp_data, args[1]) + 4)
#endif

#define TTY_BLOCK 9	/* instructions per ABI, see below */
#define URING_BLOCK 6

/*
 * Per ABI, falling through to the next block on any mismatch:
 *   0 A = arch            5 A == TIOCSTI?   -> 8
 *   1 A != ARCH?  -> next 6 A == TIOCLINUX? -> 8
 *   2 A = nr              7 allow
 *   3 A != NR?    -> next 8 EPERM
 *   4 A = args[1] (low 32 bits)
 */
static size_t tty_block(struct sock_filter *f, uint32_t arch, uint32_t nr)
{
	size_t n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 7);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 5);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG1_LO);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	return n;
}

/*
 * io_uring_setup, _enter and _register are 425..427 in every ABI (one table
 * for all architectures since 5.1; x32 adds its bit). Per ABI:
 *   0 A = arch           3 A < 425 + base?  -> next
 *   1 A != ARCH? -> next 4 A > 427 + base?  -> next
 *   2 A = nr             5 EPERM
 */
static size_t uring_block(struct sock_filter *f, uint32_t arch, uint32_t base)
{
	size_t n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 4);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, base + 425, 0, 2);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, base + 427, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	return n;
}

/* The base of the syscall numbers of tty_guard_abis[i]: x32's bit, read off
 * its ioctl; 0 elsewhere. */
static uint32_t abi_base(size_t i)
{
	return tty_guard_abis[i].nr & 0x40000000u;
}

int sbx_tty_guard_install(bool io_uring)
{
	struct sock_filter f[ARRAY_SIZE(tty_guard_abis) * (TTY_BLOCK + URING_BLOCK) + 1];
	struct sock_fprog prog = { .filter = f };
	size_t n = 0;

	for (size_t i = 0; io_uring && i < ARRAY_SIZE(tty_guard_abis); i++)
		n += uring_block(f + n, tty_guard_abis[i].arch, abi_base(i));
	for (size_t i = 0; i < ARRAY_SIZE(tty_guard_abis); i++)
		n += tty_block(f + n, tty_guard_abis[i].arch, tty_guard_abis[i].nr);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = n;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

bool sbx_io_uring_refused(const struct sbx_profile *p)
{
	for (size_t i = 0; i < p->seccomp.n_allow; i++)
		if (!strcmp(p->seccomp.allow[i], "io_uring_setup"))
			return false;
	return true;
}

void sbx_seccomp_observe_unmark(uint64_t *denied, const struct sbx_profile *p)
{
	static const char *const cond[] = { "memfd_create", "execveat", "ioctl" };

	for (size_t i = 0; i < ARRAY_SIZE(cond) + ARRAY_SIZE(mode_calls); i++) {
		const char *name = i < ARRAY_SIZE(cond) ? cond[i] : mode_calls[i - ARRAY_SIZE(cond)].name;
		int nr = resolve(name);
		bool named = false;

		for (size_t j = 0; j < p->seccomp.n_deny; j++)
			named |= !strcmp(p->seccomp.deny[j], name);
		if (nr >= 0 && nr < SBX_SYSCALL_BITMAP_WORDS * 64 && !named)
			denied[nr / 64] &= ~(1ULL << (nr % 64));
	}
}

void sbx_tty_guard_mark(uint64_t *denied, bool io_uring)
{
	mark(denied, __NR_ioctl);
	if (!io_uring)
		return;
	mark(denied, __NR_io_uring_setup);
	mark(denied, __NR_io_uring_enter);
	mark(denied, __NR_io_uring_register);
}
