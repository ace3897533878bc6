/* SPDX-License-Identifier: MIT */
/*
 * The enforcement table: for every key of the policy model and every
 * provider, whether the provider applies it, and how, or why not. The
 * reasons are what a user reads when sbx refuses a profile; docs/providers.md
 * has the same table for people.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>

#include "core/enforce.h"
#include "sbx_abi.h"
#include "util/util.h"

const char *const sbx_enforce_providers[SBX_ENF_NPROV] = {
	[SBX_ENF_HOST] = "host", [SBX_ENF_MOCK] = "mock", [SBX_ENF_PROCESS] = "process",
	[SBX_ENF_GVISOR] = "gvisor", [SBX_ENF_WASM] = "wasm", [SBX_ENF_MICROVM] = "microvm",
	[SBX_ENF_UNIKERNEL] = "unikernel", [SBX_ENF_TEE] = "tee",
};

typedef struct sbx_enforce_finding finding;

/* ---- when does a profile ask for a key ------------------------------------ */

#define ASKS(name, expr) \
	static bool name(const struct sbx_profile *p, finding *f) { (void)f; return (expr); }

ASKS(a_provider, p->provider != NULL)
ASKS(a_min_isolation, p->min_isolation != SBX_ISO_PROCESS)
ASKS(a_timeout, p->timeout_ms != 0)
ASKS(a_memory, p->memory_bytes != 0)
ASKS(a_cpu, p->cpu_milli != 0)
ASKS(a_cpus, sbx_cpus_any(p->cpus))
ASKS(a_cpu_weight, p->cpu_weight != 0)
ASKS(a_disk, p->disk_bytes != 0)
ASKS(a_pids, p->pids != 0)
ASKS(a_nofile, p->nofile != 0)
ASKS(a_net_bytes, p->net_bytes != 0)
ASKS(a_fsize, p->fsize != 0)
ASKS(a_egress_rate, p->egress_rate != 0)
ASKS(a_ingress_rate, p->ingress_rate != 0)
ASKS(a_rate_burst, p->rate_burst != 0)
/* a cell's condition replaces the row's: each names its key. *_net: traffic
 * leaves the sandbox at all; *_hostns: the process provider's sandbox
 * shares the host's network namespace. */
#define RATE_ASKS(key) \
	ASKS(a_##key##_net, p->key != 0 && p->net.mode != SBX_NET_NONE) \
	ASKS(a_##key##_hostns, p->key != 0 && p->net.mode != SBX_NET_NONE && \
	     p->net.namespace != SBX_NETNS_PRIVATE)
RATE_ASKS(egress_rate)
RATE_ASKS(ingress_rate)
RATE_ASKS(rate_burst)
ASKS(a_env, p->n_env != 0)
ASKS(a_cwd, p->cwd != NULL)
ASKS(a_user, p->user != NULL)
ASKS(a_group, p->group != NULL)
ASKS(a_audit, p->audit != SBX_AUDIT_DENY)
ASKS(a_audit_rate, p->audit_rate != SBX_AUDIT_RATE_DEFAULT)
ASKS(a_audit_burst, p->audit_burst != SBX_AUDIT_BURST_DEFAULT)
ASKS(a_audit_deny_rate, p->audit_deny_rate != SBX_AUDIT_DENY_RATE_DEFAULT)
ASKS(a_audit_deny_burst, p->audit_deny_burst != SBX_AUDIT_DENY_BURST_DEFAULT)
ASKS(a_enforcement, p->enforcement != SBX_ENFORCE_STRICT)
ASKS(a_allow_users, p->n_allow_users != 0)
ASKS(a_allow_groups, p->n_allow_groups != 0)
ASKS(a_net_mode, p->net.mode != SBX_NET_NONE)
ASKS(a_fc_net, p->microvm.backend && !strcmp(p->microvm.backend, "firecracker") &&
	      p->net.mode != SBX_NET_NONE)
ASKS(a_net_listen, p->net.n_listen != 0)
ASKS(a_raw_sockets, p->net.raw_sockets)
ASKS(a_families, p->net.families != 0)
ASKS(a_unix, p->net.n_unix != 0)
ASKS(a_netns, p->net.namespace != SBX_NETNS_AUTO)
ASKS(a_netns_private, p->net.namespace == SBX_NETNS_PRIVATE)
ASKS(a_netns_veth, p->net.namespace == SBX_NETNS_PRIVATE && p->net.mode != SBX_NET_NONE)
ASKS(a_veth_host, p->net.veth_host != NULL)
ASKS(a_veth_sandbox, p->net.veth_sandbox != NULL)
ASKS(a_net_dns, p->net.dns.set)
ASKS(a_sc_preset, p->seccomp.preset != SBX_SECCOMP_DEFAULT)
ASKS(a_sc_action, p->seccomp.action != SBX_SECCOMP_ERRNO)
ASKS(a_sc_deny, p->seccomp.n_deny != 0)
ASKS(a_sc_allow, p->seccomp.n_allow != 0)
ASKS(a_fs_mode, p->fs.mode != SBX_FS_FULL)
ASKS(a_fs_host_root, p->fs.mode != SBX_FS_NONE)
ASKS(a_fs_rules, p->fs.n_rules != 0)
ASKS(a_fs_exec, p->fs.n_exec != 0)
ASKS(a_mock_exit, p->mock.exit_code != 0)
ASKS(a_mock_stdout, p->mock.stdout_text != NULL)
ASKS(a_mock_stderr, p->mock.stderr_text != NULL)
ASKS(a_mock_duration, p->mock.duration_ms != 0)
ASKS(a_mock_fail, p->mock.fail != NULL)
ASKS(a_gv_platform, p->gvisor.platform != NULL)
ASKS(a_gv_runsc, p->gvisor.runsc != NULL)
ASKS(a_wasm_runtime, p->wasm.runtime != NULL)
ASKS(a_mv_backend, p->microvm.backend != NULL)
ASKS(a_mv_kernel, p->microvm.kernel != NULL)
ASKS(a_mv_initrd, p->microvm.initrd != NULL)
ASKS(a_mv_firecracker, p->microvm.firecracker != NULL)
ASKS(a_mv_jailer, p->microvm.jailer != NULL)
ASKS(a_fc_backend, p->microvm.backend && !strcmp(p->microvm.backend, "firecracker"))
ASKS(a_uk_image, p->unikernel.image != NULL)
ASKS(a_uk_qemu, p->unikernel.qemu != NULL)
ASKS(a_uk_machine, p->unikernel.machine != NULL)
ASKS(a_uk_cmdline, p->unikernel.cmdline != NULL)

static bool has_entries(const struct sbx_profile *p, bool deny)
{
	for (size_t i = 0; i < p->net.n_entries; i++)
		if (p->net.entries[i].deny == deny)
			return true;
	return false;
}

/* host names (exact or wildcard) among the allow or deny entries, in a mode
 * that reads them */
static bool has_names(const struct sbx_profile *p, bool deny)
{
	if (p->net.mode != SBX_NET_ALLOW && p->net.mode != SBX_NET_DENY)
		return false;
	for (size_t i = 0; i < p->net.n_entries; i++)
		if (p->net.entries[i].deny == deny &&
		    (p->net.entries[i].kind == SBX_NET_ENTRY_HOST ||
		     p->net.entries[i].kind == SBX_NET_ENTRY_WILDCARD))
			return true;
	return false;
}

ASKS(a_allow_names, has_names(p, false))
ASKS(a_deny_names, has_names(p, true))

/* user names uid 0: "root", "0" or any name that the host maps to 0. */
static bool a_user_root(const struct sbx_profile *p, finding *f)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	(void)f;
	if (!p->user || !strcmp(p->user, "caller"))
		return false;	/* "caller" never runs root (providers/privs.c) */
	v = strtoul(p->user, &end, 10);
	if (*p->user && !*end)
		return v == 0;
	pw = getpwnam(p->user);
	return pw && pw->pw_uid == 0;
}

static bool unix_any(const struct sbx_profile *p)
{
	for (size_t i = 0; i < p->net.n_unix; i++)
		if (!strcmp(p->net.unix_paths[i], "*"))
			return true;
	return false;
}

/* network.unix's default, no host unix socket unless listed, is asked of
 * every profile but unix = ["*"] whose workload sees host socket files: the
 * host provider's always, the process provider's through any host path in
 * its view (an fs mode other than none, or a rule that grants access). */
static bool a_unix_host(const struct sbx_profile *p, finding *f)
{
	(void)f;
	return !unix_any(p);
}

static bool a_unix_process(const struct sbx_profile *p, finding *f)
{
	bool view = p->fs.mode != SBX_FS_NONE;

	(void)f;
	for (size_t i = 0; i < p->fs.n_rules && !view; i++)
		view = p->fs.rules[i].access != 0;
	return view && !unix_any(p);
}

/* Directories that are the workload's own whatever the host's copy is: the
 * process provider's private /tmp and /dev/shm. */
static bool unix_own_dir(const char *path)
{
	return !strncmp(path, "/tmp/", 5) || !strncmp(path, "/dev/shm/", 9);
}

/* uid of the profile's user, or -1 for the provider's own fresh uid (which
 * owns nothing on the host). */
static long unix_uid(const struct sbx_profile *p)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (!p->user || !strcmp(p->user, "caller"))
		return -1;
	v = strtoul(p->user, &end, 10);
	if (*p->user && !*end)
		return (long)v;
	pw = getpwnam(p->user);
	return pw ? (long)pw->pw_uid : -1;
}

/* May a workload of uid (-1: none of the host's) add or replace the entry
 * child of directory d? Writable by others or by its owner, and not sticky
 * over an existing entry that someone else owns. */
static bool unix_dir_open(const struct stat *d, const struct stat *child, bool have_child, long uid)
{
	bool w = (d->st_mode & S_IWOTH) || (uid >= 0 && d->st_uid == (uid_t)uid && (d->st_mode & S_IWUSR));

	if (uid == 0)
		return true;
	if (!w)
		return false;
	return !(d->st_mode & S_ISVTX) || !have_child || (uid >= 0 && child->st_uid == (uid_t)uid);
}

/* Could the workload put another socket (a symlink, a hard link, its own
 * directory) at path? Walks the host's directories from /: conservative,
 * since the fs policy may forbid writes that these permissions allow. */
static bool unix_path_open(const struct sbx_profile *p, const char *path)
{
	char buf[SBX_UNIX_PATH_LEN + 1];
	struct stat d, child;
	long uid = unix_uid(p);
	char *slash;

	if (unix_own_dir(path) || uid == 0)
		return true;
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];

		if ((r->access & SBX_ACC_W) && r->dir && !strncmp(path, r->path, strlen(r->path)))
			return true;
	}
	snprintf(buf, sizeof(buf), "%s", path);
	if (stat("/", &d) < 0)
		return true;
	for (slash = strchr(buf + 1, '/');; slash = strchr(slash + 1, '/')) {
		bool have;

		if (slash)
			*slash = '\0';
		have = stat(buf, &child) == 0;
		if (unix_dir_open(&d, &child, have, uid))
			return true;
		if (!have || !slash)
			return false;
		*slash = '/';
		d = child;
	}
}

/* The first listed unix path the workload could redirect to another socket:
 * the cgroup hooks judge the address bytes only, the kernel then follows
 * whatever the path names. */
static bool a_unix_redirect(const struct sbx_profile *p, finding *f)
{
	for (size_t i = 0; i < p->net.n_unix; i++) {
		const char *u = p->net.unix_paths[i];

		if (!strcmp(u, "*") || !unix_path_open(p, u))
			continue;
		snprintf(f->detail, sizeof(f->detail), "unix socket '%s' lies in a directory the "
			 "workload may write, where it could put a symlink or hard link to any other "
			 "socket", u);
		return true;
	}
	return false;
}

/* seccomp.allow lets the workload set up an io_uring, whose IORING_OP_SOCKET
 * creates sockets without socket(2): the family filter cannot see them. */
static bool a_sc_uring(const struct sbx_profile *p, finding *f)
{
	for (size_t i = 0; i < p->seccomp.n_allow; i++)
		if (!strcmp(p->seccomp.allow[i], "io_uring_setup")) {
			snprintf(f->detail, sizeof(f->detail), "seccomp.allow lists io_uring_setup");
			return true;
		}
	return false;
}

ASKS(a_net_allow, has_entries(p, false))
ASKS(a_net_deny, has_entries(p, true))

/* The first rule that grants access (deny rules need nothing shared). */
static bool a_fs_grant(const struct sbx_profile *p, finding *f)
{
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];
		char acc[8];

		if (!r->access)
			continue;
		sbx_access_str(r->access, acc);
		snprintf(f->detail, sizeof(f->detail), "rule '%s' (%s:%u:%u) grants %s", r->path,
			 r->pos.file ? r->pos.file : "?", r->pos.line, r->pos.col, acc);
		f->pos = r->pos;
		return true;
	}
	return false;
}

/* disk with a view that writes the host's own filesystem: fs mode
 * read-write or full, or a rule that grants w (a bind of a host directory,
 * which no tmpfs size bounds, and sbx sets no project quota yet). */
static bool a_disk_host_writes(const struct sbx_profile *p, finding *f)
{
	if (!p->disk_bytes)
		return false;
	if (p->fs.mode == SBX_FS_READ_WRITE || p->fs.mode == SBX_FS_FULL) {
		snprintf(f->detail, sizeof(f->detail), "fs mode \"%s\" writes the host's own "
			 "filesystem", sbx_fs_mode_name(p->fs.mode));
		return true;
	}
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];

		if (!(r->access & SBX_ACC_W) || !strcmp(r->path, "/tmp/") ||
		    !strcmp(r->path, "/dev/shm/"))
			continue;
		snprintf(f->detail, sizeof(f->detail), "rule '%s' (%s:%u:%u) grants writes to a host "
			 "directory", r->path, r->pos.file ? r->pos.file : "?", r->pos.line, r->pos.col);
		f->pos = r->pos;
		return true;
	}
	return false;
}

/* The first grant that the process provider would bind with an idmapped
 * mount (providers/grants.h): no explicit user, and the path belongs to
 * neither root nor the default sandbox user. A provider without idmapped
 * mounts would leave the grant unusable by the sandbox user. */
static bool a_fs_grant_idmap(const struct sbx_profile *p, finding *f)
{
	for (size_t i = 0; i < p->fs.n_rules && !p->user; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];
		struct stat st;
		char acc[8];

		if (!r->access || stat(r->path, &st) < 0 || st.st_uid == 0 || st.st_uid == 65534)
			continue;
		sbx_access_str(r->access, acc);
		snprintf(f->detail, sizeof(f->detail), "rule '%s' (%s:%u:%u) grants %s on a path "
			 "owned by uid %u, which the sandbox user could use only through an idmapped "
			 "mount; set user to an id that may use it", r->path,
			 r->pos.file ? r->pos.file : "?", r->pos.line, r->pos.col, acc,
			 (unsigned)st.st_uid);
		f->pos = r->pos;
		return true;
	}
	return false;
}

/* ---- the table ------------------------------------------------------------- */

#define ENF(w) { SBX_ENF_ENFORCED, w, NULL }
#define DEG(w) { SBX_ENF_DEGRADABLE, w, NULL }
#define DEG_IF(c, w) { SBX_ENF_DEGRADABLE, w, c }
#define REF_IF(c, w) { SBX_ENF_REFUSED, w, c }
#define FSB(w) { SBX_ENF_FS_BACKEND, w, NULL }
#define INERT(w) { SBX_ENF_INERT, w, NULL }
/* one cell for every provider */
#define ALL(c) { c, c, c, c, c, c, c, c }
/* the same cell for every provider but the unikernel */
#define ALL_BUT_UK(c, uk) { c, c, c, c, c, c, uk, c }

#define CGROUP "the sandbox cgroup's controller (qemu's, gVisor's or the runtime's process for those)"
#define RLIMIT "setrlimit before exec"
#define NORUN "the mock runs no command"
#define DNS_RESOLVER "sbx's DNS resolver for the sandbox, reached by redirecting port 53"
#define NO_DNS_RESOLVER "sbx cannot redirect the runtime's DNS traffic to its resolver"
#define EBPF "sbx's eBPF cgroup programs on the sandbox's sockets (gVisor's sentry, qemu's user-mode network)"
#define NOT_USER "the mock runs no command"
#define HOST_ROOT "uid 0 owns sysfs, cgroupfs and bpffs on the host (sbx's pins, cgroup.procs, " \
	"pids.max): the host provider keeps them unwritable for a root workload with Landlock " \
	"rules, and this kernel has no Landlock; use the process provider, or a user other than root"
#define LANDLOCK_IF(w, when) { SBX_ENF_LANDLOCK, w, when }
#define UNIX_HOOKS(w, when) { SBX_ENF_UNIX_HOOKS, w, when }
#define NO_UNIX_HOOKS "this kernel has neither the cgroup unix socket hooks (Linux 6.7) nor " \
	"BPF LSM, so no host unix socket (D-Bus, a container engine) would be refused"

#define UNIX_REDIRECT "without BPF LSM the cgroup unix hooks judge the address the workload " \
	"passes, not the socket it names; list only sockets in directories the workload cannot " \
	"write, or use unix = [\"*\"]"

#define URING_SOCKET "the family allow-list is a seccomp filter on socket(2) and socketpair(2), " \
	"and io_uring's IORING_OP_SOCKET creates sockets of any family without them; keep " \
	"io_uring refused (no io_uring_setup in seccomp.allow)"

#define VM_DISK "sbx does not size the guest's tmpfs yet (its writes stay in the VM's RAM, " \
	"bounded by 'memory')"
#define DISK_HOST "a bind of a host directory is bounded by no tmpfs size, and sbx sets no " \
	"project quota (yet): use fs mode \"none\" or \"read-only\" without write grants"
#define RATE_HOST "a rate is paced on a network device of the sandbox's own (a veth pair); " \
	"in the host's network namespace every device is shared with the host, so tc there " \
	"would pace the host too: use the process provider with [network] namespace = \"private\""
#define RATE_QEMU "qemu's user-mode network sends the guest's traffic from qemu's " \
	"sockets in the host's namespace: " RATE_HOST
#define RATE_CELLS(key) { DEG_IF(a_##key##_net, RATE_HOST), ENF("nothing runs"), \
	DEG_IF(a_##key##_hostns, RATE_HOST), \
	DEG_IF(a_##key##_net, "gVisor's network is the host's (--network=host) or none: " RATE_HOST), \
	ENF("WASI preview1 has no socket() call"), \
	DEG_IF(a_##key##_net, RATE_QEMU), DEG_IF(a_##key##_net, RATE_QEMU), \
	DEG_IF(a_##key##_net, RATE_QEMU) }
#define GV_SC "gVisor serves the workload's system calls in its sentry: the profile's seccomp list is not applied"
#define VM_SC "the guest runs its own kernel: the profile's seccomp list is not applied in the VM"
#define VM_FS "the guest sees only its initramfs: no host path is shared into the VM"
#define OTHER(prov) "a setting of the " prov " provider only"
#define VM_PIDS "counts qemu's threads on the host; the guest's processes stay inside the VM's " \
	"fixed RAM and vCPUs"
#define FC_NET "a Firecracker guest's traffic leaves through a tap device, not through sockets " \
	"of the sandbox, so the eBPF lists could not apply: use mode \"none\" or backend \"qemu\""
#define VM_NAMES "host names: the guest resolves them with its own resolver, which sbx's " \
	"cannot see or pin; best-effort enforces an exact name as its addresses at start, a " \
	"wildcard not at all (docs/network.md)"
#define VM_VETH "the guest reaches the host through qemu's user-mode network, not a veth pair"
#define VM_NETNS "the guest always has a network stack of its own"
#define VM_UNIX "the guest reaches no host unix socket"
#define VM_FAMILIES "the guest kernel's sockets end in the guest"
/* the unikernel column */
#define UK_NORL "a unikernel has no rlimits: its library OS alone decides"
#define UK_USER "a unikernel has no users; qemu runs as the sandbox's own uid"
#define UK_SC "the unikernel is its own kernel: the profile's seccomp list is not applied in the VM"
#define UK_FS "the unikernel sees no host path, only its image"
#define UK_TEE_FC "a confidential guest runs in qemu only: the firecracker backend has none"
#define FC_ONLY "a setting of the microvm provider's firecracker backend, which tee does not use"

static const struct sbx_enforce_row table[] = {
	{ "provider", a_provider, ALL(ENF("sbx picks the provider from it")) },
	{ "min_isolation", a_min_isolation, ALL(ENF("sbx refuses a provider below it")) },
	{ "timeout", a_timeout, ALL(ENF("sbx ends the sandbox cgroup")) },
	{ "memory", a_memory, ALL(ENF(CGROUP)) },
	{ "cpu", a_cpu, ALL(ENF(CGROUP)) },
	{ "cpus", a_cpus, ALL(ENF("the sandbox cgroup's cpuset (qemu's or gVisor's threads for those)")) },
	{ "cpu_weight", a_cpu_weight, ALL(ENF("the sandbox cgroup's cpu.weight, or cpu.shares on v1")) },
	{ "pids", a_pids, { ENF(CGROUP), ENF(CGROUP), ENF(CGROUP), ENF(CGROUP), ENF(CGROUP),
			    ENF(VM_PIDS),
		ENF("counts qemu's threads on the host; the unikernel runs in the VM's fixed RAM "
		    "and vCPU"), ENF(VM_PIDS) } },
	{ "nofile", a_nofile, { ENF(RLIMIT), ENF(NORUN), ENF(RLIMIT), ENF("OCI process.rlimits"),
				ENF("the runtime's " RLIMIT), ENF("the guest init's " RLIMIT),
		DEG(UK_NORL), ENF("the guest init's " RLIMIT) } },
	{ "net_bytes", a_net_bytes, ALL(ENF(EBPF)) },
	{ "egress_rate", a_egress_rate, RATE_CELLS(egress_rate) },
	{ "ingress_rate", a_ingress_rate, RATE_CELLS(ingress_rate) },
	{ "rate_burst", a_rate_burst, RATE_CELLS(rate_burst) },
	{ "fsize", a_fsize, { ENF(RLIMIT), ENF(NORUN), ENF(RLIMIT), ENF("OCI process.rlimits"),
			      ENF("the runtime's " RLIMIT), ENF("the guest init's " RLIMIT),
		DEG(UK_NORL), ENF("the guest init's " RLIMIT) } },
	{ "disk", a_disk, {
		DEG("the host provider's workload writes the host's own filesystem, which no bound "
		    "of sbx covers"),
		ENF(NORUN),
		DEG_IF(a_disk_host_writes, DISK_HOST),
		DEG("sbx does not size gVisor's own tmpfs and overlay yet (they live in the sentry's "
		    "memory, bounded by 'memory')"),
		DEG("sbx does not bound the WASI runtime's preopened directories yet"),
		DEG(VM_DISK), DEG("sbx does not bound what a unikernel writes (its image's own "
				  "filesystems, in the VM's RAM, bounded by 'memory')"),
		DEG(VM_DISK) } },
	{ "env", a_env, ALL_BUT_UK(ENF("the workload's whole environment"),
						DEG("a unikernel image gets its command line only, no environment")) },
	{ "cwd", a_cwd, ALL_BUT_UK(ENF("chdir before exec"),
						DEG("a unikernel has no working directory on the host")) },
	{ "user", a_user, { LANDLOCK_IF(HOST_ROOT, a_user_root), DEG(NOT_USER), ENF("setuid"), ENF("OCI process.user"),
			    ENF("setuid"), ENF("the guest init's setuid"),
		DEG(UK_USER), ENF("the guest init's setuid") } },
	{ "group", a_group, { ENF("setgid"), DEG(NOT_USER), ENF("setgid"), ENF("OCI process.user"),
			      ENF("setgid"), ENF("the guest init's setgid"),
		DEG(UK_USER), ENF("the guest init's setgid") } },
	{ "audit", a_audit, ALL(ENF("sbx's eBPF programs and audit reader")) },
	{ "audit_rate", a_audit_rate, ALL(ENF("the token buckets of sbx's eBPF programs")) },
	{ "audit_burst", a_audit_burst, ALL(ENF("the token buckets of sbx's eBPF programs")) },
	{ "audit_deny_rate", a_audit_deny_rate, ALL(ENF("the token buckets of sbx's eBPF programs")) },
	{ "audit_deny_burst", a_audit_deny_burst, ALL(ENF("the token buckets of sbx's eBPF programs")) },
	{ "enforcement", a_enforcement, ALL(ENF("sbx decides refusal or degraded runs by it")) },
	{ "allow_users", a_allow_users, ALL(INERT("who may use the profile through the daemon")) },
	{ "allow_groups", a_allow_groups, ALL(INERT("who may use the profile through the daemon")) },

	{ "network.mode", a_net_mode, { ENF(EBPF), ENF(EBPF), ENF(EBPF), ENF(EBPF), ENF(EBPF),
		REF_IF(a_fc_net, FC_NET),
		ENF(EBPF), REF_IF(a_fc_net, FC_NET) } },
	{ "network.allow", a_net_allow, { ENF(EBPF), ENF(EBPF), ENF(EBPF), ENF(EBPF), ENF(EBPF),
		DEG_IF(a_allow_names, VM_NAMES), DEG_IF(a_allow_names, VM_NAMES),
		DEG_IF(a_allow_names, VM_NAMES) } },
	{ "network.deny", a_net_deny, { ENF(EBPF), ENF(EBPF), ENF(EBPF), ENF(EBPF), ENF(EBPF),
		DEG_IF(a_deny_names, VM_NAMES), DEG_IF(a_deny_names, VM_NAMES),
		DEG_IF(a_deny_names, VM_NAMES) } },
	{ "network.listen", a_net_listen, ALL(ENF(EBPF)) },
	{ "network.raw_sockets", a_raw_sockets, ALL(ENF(EBPF " and seccomp/capabilities")) },
	/* the families not listed are refused: by seccomp where the workload
	 * runs on the host kernel, by the runtime's own socket layer elsewhere
	 * (gVisor's sentry, WASI, the guest kernel), which never widens it */
	/* the default (no host unix socket unless listed) needs the kernel's
	 * help where the workload sees host socket files */
	{ "network.unix", a_unix, {
		UNIX_HOOKS(NO_UNIX_HOOKS "; use unix = [\"*\"] to allow them all", a_unix_host),
		ENF("nothing runs"),
		UNIX_HOOKS(NO_UNIX_HOOKS "; use fs mode \"none\" without granting rules (no host "
			   "socket file in the view), or unix = [\"*\"]", a_unix_process),
		ENF("gVisor reaches no host unix socket (runsc's host-uds is off)"),
		ENF("WASI preview1 has no socket() call"),
		ENF(VM_UNIX),
		ENF(VM_UNIX), ENF(VM_UNIX) } },
	{ "network.families", a_families, {
		DEG_IF(a_sc_uring, URING_SOCKET),
		ENF("nothing runs"),
		DEG_IF(a_sc_uring, URING_SOCKET),
		ENF("gVisor's sentry implements unix, inet and netlink sockets only"),
		ENF("WASI preview1 has no socket() call"),
		ENF(VM_FAMILIES),
		ENF("the guest's sockets end in qemu's user-mode stack"), ENF(VM_FAMILIES) } },
	{ "network.namespace", a_netns, {
		DEG_IF(a_netns_private, "the host provider has no network namespace of its own"),
		DEG_IF(a_netns_private, "the host provider has no network namespace of its own"),
		ENF("clone3 with or without CLONE_NEWNET"),
		REF_IF(a_netns_veth, "gVisor cannot be given a veth pair: use mode \"none\" or the "
				     "host's namespace"),
		ENF("the process provider's namespace"),
		ENF(VM_NETNS),
		ENF(VM_NETNS), ENF(VM_NETNS) } },
	{ "network.veth_host", a_veth_host, {
		DEG("the host provider makes no veth pair"), DEG("the host provider makes no veth pair"),
		ENF("the veth pair's addresses"), REF_IF(a_veth_host, "gVisor cannot be given a veth pair"),
		ENF("the veth pair's addresses"),
		DEG(VM_VETH),
		DEG(VM_VETH), DEG(VM_VETH) } },
	{ "network.veth_sandbox", a_veth_sandbox, {
		DEG("the host provider makes no veth pair"), DEG("the host provider makes no veth pair"),
		ENF("the veth pair's addresses"), REF_IF(a_veth_sandbox, "gVisor cannot be given a veth pair"),
		ENF("the veth pair's addresses"),
		DEG(VM_VETH),
		DEG(VM_VETH), DEG(VM_VETH) } },
	/* issue 14: sbx's per-sandbox resolver; providers whose workload's port-53
	 * traffic sbx's cgroup programs cannot redirect get no resolver */
	{ "network.dns", a_net_dns, {
		ENF(DNS_RESOLVER), ENF("nothing runs"), ENF(DNS_RESOLVER), ENF(DNS_RESOLVER),
		DEG(NO_DNS_RESOLVER), DEG(NO_DNS_RESOLVER),
		DEG(NO_DNS_RESOLVER), DEG(NO_DNS_RESOLVER) } },

	{ "seccomp.preset", a_sc_preset, { ENF("the profile's seccomp filter"), ENF(NORUN),
		ENF("the profile's seccomp filter"), DEG(GV_SC), ENF("the runtime's seccomp filter"),
		DEG(VM_SC),
		DEG(UK_SC), DEG(VM_SC) } },
	{ "seccomp.action", a_sc_action, { ENF("the profile's seccomp filter"), ENF(NORUN),
		ENF("the profile's seccomp filter"), DEG(GV_SC), ENF("the runtime's seccomp filter"),
		DEG(VM_SC),
		DEG(UK_SC), DEG(VM_SC) } },
	{ "seccomp.deny", a_sc_deny, { ENF("the profile's seccomp filter"), ENF(NORUN),
		ENF("the profile's seccomp filter"), DEG(GV_SC), ENF("the runtime's seccomp filter"),
		DEG(VM_SC),
		DEG(UK_SC), DEG(VM_SC) } },
	/* allow only removes names from a list; where no list applies, what it
	 * permits is permitted */
	{ "seccomp.allow", a_sc_allow, ALL(ENF("names taken off the seccomp list")) },

	{ "fs.mode", a_fs_mode, { FSB("BPF LSM or Landlock"), FSB("BPF LSM or Landlock"),
		ENF("the mount view"), ENF("the mount view"), ENF("the mount view"),
		DEG_IF(a_fs_host_root, VM_FS),
		DEG_IF(a_fs_host_root, UK_FS), DEG_IF(a_fs_host_root, VM_FS) } },
	{ "fs.rules", a_fs_rules, { FSB("BPF LSM or Landlock"), FSB("BPF LSM or Landlock"),
		ENF("the mount view, granted paths idmapped to their owner"),
		DEG_IF(a_fs_grant_idmap, "gVisor's bundle binds no idmapped mounts"),
		ENF("the mount view and preopens"),
		DEG_IF(a_fs_grant, VM_FS),
		DEG_IF(a_fs_grant, UK_FS), DEG_IF(a_fs_grant, VM_FS) } },
	{ "fs.exec", a_fs_exec, { FSB("BPF LSM or Landlock"), FSB("BPF LSM or Landlock"),
		FSB("BPF LSM or Landlock"),
		DEG("gVisor's sentry loads programs itself: no host exec for BPF LSM to judge, and "
		    "no Landlock ruleset inside gVisor"),
		ENF("a WASI module cannot start programs"),
		DEG("the guest's programs are its initramfs's: the exec list is not applied in the VM"),
		DEG("a unikernel is one image that starts no programs: the exec list is not applied"),
		DEG("the guest's programs are its initramfs's: the exec list is not applied in the VM") } },

	{ "mock.exit_code", a_mock_exit, { INERT(OTHER("mock")), ENF("the mock's result"),
		INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")),
		INERT(OTHER("mock")), INERT(OTHER("mock")) } },
	{ "mock.stdout", a_mock_stdout, { INERT(OTHER("mock")), ENF("the mock's result"),
		INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")),
		INERT(OTHER("mock")), INERT(OTHER("mock")) } },
	{ "mock.stderr", a_mock_stderr, { INERT(OTHER("mock")), ENF("the mock's result"),
		INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")),
		INERT(OTHER("mock")), INERT(OTHER("mock")) } },
	{ "mock.duration", a_mock_duration, { INERT(OTHER("mock")), ENF("the mock's result"),
		INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")),
		INERT(OTHER("mock")), INERT(OTHER("mock")) } },
	{ "mock.fail", a_mock_fail, { INERT(OTHER("mock")), ENF("the mock's result"),
		INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")), INERT(OTHER("mock")),
		INERT(OTHER("mock")), INERT(OTHER("mock")) } },
	{ "gvisor.platform", a_gv_platform, { INERT(OTHER("gvisor")), INERT(OTHER("gvisor")),
		INERT(OTHER("gvisor")), ENF("runsc --platform"), INERT(OTHER("gvisor")),
		INERT(OTHER("gvisor")),
		INERT(OTHER("gvisor")), INERT(OTHER("gvisor")) } },
	{ "gvisor.runsc", a_gv_runsc, { INERT(OTHER("gvisor")), INERT(OTHER("gvisor")),
		INERT(OTHER("gvisor")), ENF("the runsc binary"), INERT(OTHER("gvisor")),
		INERT(OTHER("gvisor")),
		INERT(OTHER("gvisor")), INERT(OTHER("gvisor")) } },
	{ "wasm.runtime", a_wasm_runtime, { INERT(OTHER("wasm")), INERT(OTHER("wasm")),
		INERT(OTHER("wasm")), INERT(OTHER("wasm")), ENF("the WASI runtime"), INERT(OTHER("wasm")),
		INERT(OTHER("wasm")), INERT(OTHER("wasm")) } },
	{ "microvm.backend", a_mv_backend, { INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		INERT(OTHER("microvm")), INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		ENF("the VM monitor"),
		INERT(OTHER("microvm")), REF_IF(a_fc_backend, UK_TEE_FC) } },
	{ "microvm.kernel", a_mv_kernel, { INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		INERT(OTHER("microvm")), INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		ENF("the guest kernel"),
		INERT(OTHER("microvm")), ENF("the guest kernel") } },
	{ "microvm.initrd", a_mv_initrd, { INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		INERT(OTHER("microvm")), INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		ENF("the guest initramfs"),
		INERT(OTHER("microvm")), ENF("the guest initramfs") } },
	{ "microvm.firecracker", a_mv_firecracker, { INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		INERT(OTHER("microvm")), INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		ENF("the firecracker binary"),
		INERT(OTHER("microvm")), INERT(FC_ONLY) } },
	{ "microvm.jailer", a_mv_jailer, { INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		INERT(OTHER("microvm")), INERT(OTHER("microvm")), INERT(OTHER("microvm")),
		ENF("Firecracker's jailer"),
		INERT(OTHER("microvm")), INERT(FC_ONLY) } },
#define UKO INERT(OTHER("unikernel"))
#define UK_ROW(key, asks, how) { key, asks, { UKO, UKO, UKO, UKO, UKO, UKO, ENF(how), UKO } }
	UK_ROW("unikernel.image", a_uk_image, "the image qemu boots"),
	UK_ROW("unikernel.qemu", a_uk_qemu, "the qemu binary"),
	UK_ROW("unikernel.machine", a_uk_machine, "qemu -M"),
	UK_ROW("unikernel.cmdline", a_uk_cmdline, "the start of the guest's command line"),
};

/*
 * sbx-oci (user/oci/enforce.c) is a column of its own, kept apart from the
 * table: an OCI container's process is started by sbx-oci's caller, not by
 * a provider of sbx, so only what sbx applies from outside the process
 * reaches it (the cgroup, its eBPF programs, BPF LSM); what a provider does
 * inside the workload (setrlimit, setuid, the seccomp filter, Landlock, the
 * mount view) is config.json's. A key missing here is not enforced:
 * refused under strict, as a provider without a column is.
 */
#define OCI_CONFIG(what) "config.json's " what " decides for an OCI container, not the profile"
#define OCI_FS "an OCI container's files are judged by BPF LSM alone (sbx-oci does not start " \
	"the container's process, so it cannot apply Landlock or a mount view to it), and this " \
	"kernel has no working BPF LSM"
#define OCI_RATE "sbx makes no veth pair for an OCI container (its network namespace is the " \
	"engine's) to pace its traffic on"
#define OCI_NAMES "host names: the container resolves them with the resolver its engine gives " \
	"it, which sbx cannot pin; best-effort enforces an exact name as its addresses at start, " \
	"a wildcard not at all (docs/network.md)"
#define BPF_LSM_ONLY(w, when) { SBX_ENF_BPF_LSM, w, when }

/* The first fs rule, for the refusal. */
static bool a_fs_first_rule(const struct sbx_profile *p, finding *f)
{
	const struct sbx_fs_rule *r;
	char acc[8];

	if (!p->fs.n_rules)
		return false;
	r = &p->fs.rules[0];
	sbx_access_str(r->access, acc);
	snprintf(f->detail, sizeof(f->detail), "rule '%s' (%s:%u:%u) access \"%s\"", r->path,
		 r->pos.file ? r->pos.file : "?", r->pos.line, r->pos.col, acc);
	f->pos = r->pos;
	return true;
}

static bool a_fs_first_exec(const struct sbx_profile *p, finding *f)
{
	if (!p->fs.n_exec)
		return false;
	snprintf(f->detail, sizeof(f->detail), "exec entry '%s'", p->fs.exec[0]);
	return true;
}

static const struct {
	const char *key;
	struct sbx_enforce_cell cell;
} oci_column[] = {
	{ "provider", INERT("sbx-oci is the provider of an OCI container") },
	{ "min_isolation", ENF("sbx refuses a provider below it") },
	{ "timeout", ENF("sbx ends the sandbox cgroup") },
	{ "memory", ENF(CGROUP) },
	{ "cpu", ENF(CGROUP) },
	{ "cpus", ENF(CGROUP) },
	{ "cpu_weight", ENF(CGROUP) },
	{ "pids", ENF(CGROUP) },
	{ "nofile", DEG(OCI_CONFIG("process.rlimits")) },
	{ "fsize", DEG(OCI_CONFIG("process.rlimits")) },
	{ "net_bytes", ENF(EBPF) },
	{ "egress_rate", DEG_IF(a_egress_rate_net, OCI_RATE) },
	{ "ingress_rate", DEG_IF(a_ingress_rate_net, OCI_RATE) },
	{ "rate_burst", DEG_IF(a_rate_burst_net, OCI_RATE) },
	{ "disk", DEG("an OCI container writes its bundle's root filesystem, which sbx does not bound") },
	{ "env", INERT(OCI_CONFIG("process.env")) },
	{ "cwd", INERT(OCI_CONFIG("process.cwd")) },
	{ "user", DEG(OCI_CONFIG("process.user")) },
	{ "group", DEG(OCI_CONFIG("process.user")) },
	{ "audit", ENF("sbx's eBPF programs and audit reader") },
	{ "audit_rate", ENF("the token buckets of sbx's eBPF programs") },
	{ "audit_burst", ENF("the token buckets of sbx's eBPF programs") },
	{ "audit_deny_rate", ENF("the token buckets of sbx's eBPF programs") },
	{ "audit_deny_burst", ENF("the token buckets of sbx's eBPF programs") },
	{ "enforcement", ENF("sbx decides refusal or degraded runs by it") },
	{ "allow_users", INERT("who may use the profile through the daemon") },
	{ "allow_groups", INERT("who may use the profile through the daemon") },
	{ "network.mode", ENF(EBPF) },
	{ "network.allow", DEG_IF(a_allow_names, OCI_NAMES) },
	{ "network.deny", DEG_IF(a_deny_names, OCI_NAMES) },
	{ "network.listen", ENF(EBPF) },
	{ "network.raw_sockets", ENF(EBPF) },
	{ "network.unix", UNIX_HOOKS(NO_UNIX_HOOKS "; use unix = [\"*\"] to allow them all", a_unix_host) },
	{ "network.families", INERT("allows families beyond sbx's default list, which sbx-oci does not "
				    "filter (" OCI_CONFIG("linux.seccomp") ")") },
	{ "network.namespace", DEG_IF(a_netns_private, OCI_CONFIG("linux.namespaces")) },
	{ "network.veth_host", DEG("sbx-oci makes no veth pair") },
	{ "network.veth_sandbox", DEG("sbx-oci makes no veth pair") },
	{ "network.dns", DEG("the container uses the resolver its engine gives it; sbx cannot put its "
			     "own there") },
	{ "seccomp.preset", DEG(OCI_CONFIG("linux.seccomp")) },
	{ "seccomp.action", DEG(OCI_CONFIG("linux.seccomp")) },
	{ "seccomp.deny", DEG(OCI_CONFIG("linux.seccomp")) },
	{ "seccomp.allow", ENF("names taken off the seccomp list") },
	{ "fs.mode", BPF_LSM_ONLY(OCI_FS, NULL) },
	{ "fs.rules", BPF_LSM_ONLY(OCI_FS, a_fs_first_rule) },
	{ "fs.exec", BPF_LSM_ONLY(OCI_FS, a_fs_first_exec) },
	{ "mock.exit_code", INERT(OTHER("mock")) },
	{ "mock.stdout", INERT(OTHER("mock")) },
	{ "mock.stderr", INERT(OTHER("mock")) },
	{ "mock.duration", INERT(OTHER("mock")) },
	{ "mock.fail", INERT(OTHER("mock")) },
	{ "gvisor.platform", INERT(OTHER("gvisor")) },
	{ "gvisor.runsc", INERT(OTHER("gvisor")) },
	{ "wasm.runtime", INERT(OTHER("wasm")) },
	{ "microvm.backend", INERT(OTHER("microvm")) },
	{ "microvm.kernel", INERT(OTHER("microvm")) },
	{ "microvm.initrd", INERT(OTHER("microvm")) },
	{ "microvm.firecracker", INERT(OTHER("microvm")) },
	{ "microvm.jailer", INERT(OTHER("microvm")) },
	{ "unikernel.image", INERT(OTHER("unikernel")) },
	{ "unikernel.qemu", INERT(OTHER("unikernel")) },
	{ "unikernel.machine", INERT(OTHER("unikernel")) },
	{ "unikernel.cmdline", INERT(OTHER("unikernel")) },
};

static const struct sbx_enforce_cell oci_unknown = DEG("sbx-oci has no entry for this key "
						       "(user/core/enforce.c oci_column)");

/* The cell of row for column col (SBX_ENF_OCI: the oci column). */
static const struct sbx_enforce_cell *cell_of(const struct sbx_enforce_row *row, int col)
{
	if (col < SBX_ENF_NPROV)
		return &row->cell[col];
	for (size_t i = 0; i < sizeof(oci_column) / sizeof(oci_column[0]); i++)
		if (!strcmp(oci_column[i].key, row->key))
			return &oci_column[i].cell;
	return &oci_unknown;
}

const struct sbx_enforce_row *sbx_enforce_table(size_t *ret_n)
{
	*ret_n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct sbx_enforce_row *sbx_enforce_row(const char *key)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].key, key))
			return &table[i];
	return NULL;
}

/* ---- the check ----------------------------------------------------------------- */

static const char *backend_why(const struct sbx_enforce_features *f)
{
	return f && f->fs_backend ? NULL :
	       "neither BPF LSM nor Landlock works on this kernel, and this provider has no mount view";
}

/* The verdict of one cell for p; NULL why = enforced (or asked for nothing). */
static enum sbx_enf judge(const struct sbx_enforce_row *row, const struct sbx_enforce_cell *c,
			  const struct sbx_profile *p, const struct sbx_enforce_features *f,
			  finding *out, const char **ret_why)
{
	bool asks = c->when ? c->when(p, out) : row->asks(p, out);

	*ret_why = NULL;
	if (!asks || c->v == SBX_ENF_ENFORCED || c->v == SBX_ENF_INERT)
		return SBX_ENF_ENFORCED;
	if (c->v == SBX_ENF_LANDLOCK) {
		*ret_why = f && f->landlock ? NULL : c->why;
		return *ret_why ? SBX_ENF_DEGRADABLE : SBX_ENF_ENFORCED;
	}
	if (c->v == SBX_ENF_UNIX_HOOKS) {
		*ret_why = f && f->unix_hooks ? NULL : c->why;
		if (!*ret_why && !(f && f->unix_peer) && a_unix_redirect(p, out))
			*ret_why = UNIX_REDIRECT;
		return *ret_why ? SBX_ENF_DEGRADABLE : SBX_ENF_ENFORCED;
	}
	if (c->v == SBX_ENF_BPF_LSM) {
		*ret_why = f && f->fs_backend == SBX_FSB_BPF_LSM ? NULL : c->why;
		return *ret_why ? SBX_ENF_DEGRADABLE : SBX_ENF_ENFORCED;
	}
	if (c->v == SBX_ENF_FS_BACKEND) {
		*ret_why = backend_why(f);
		return *ret_why ? SBX_ENF_DEGRADABLE : SBX_ENF_ENFORCED;
	}
	*ret_why = c->why;
	return c->v;
}

static void word(finding *out, const struct sbx_profile *p, const char *prov, enum sbx_enf v,
		 const char *why)
{
	const char *sep = out->detail[0] ? ": " : "";

	out->refuse = v == SBX_ENF_REFUSED || p->enforcement == SBX_ENFORCE_STRICT;
	if (v == SBX_ENF_REFUSED)
		snprintf(out->msg, sizeof(out->msg), "profile '%s': '%s' cannot be enforced by provider "
			 "'%s': %s%s%s (docs/providers.md)", p->name, out->key, prov, why, sep,
			 out->detail);
	else if (out->refuse)
		snprintf(out->msg, sizeof(out->msg), "profile '%s': '%s' cannot be enforced by provider "
			 "'%s': %s%s%s (docs/providers.md); choose another provider, or enforcement = "
			 "\"best-effort\" to run without it", p->name, out->key, prov, why, sep,
			 out->detail);
	else
		snprintf(out->msg, sizeof(out->msg), "%s: not enforced by provider %s (%s%s%s)", out->key,
			 prov, why, sep, out->detail);
}

static int column(const char *provider)
{
	for (int i = 0; i < SBX_ENF_NPROV; i++)
		if (provider && !strcmp(provider, sbx_enforce_providers[i]))
			return i;
	return provider && !strcmp(provider, "oci") ? SBX_ENF_OCI : -1;
}

int sbx_enforceability(const struct sbx_profile *p, const char *provider,
		       const struct sbx_enforce_features *f, struct sbx_enforce_report *ret,
		       char *why, size_t len)
{
	struct sbx_enforce_report rep = { 0 };
	int col = column(provider);

	if (col < 0)
		return sbx_fail(why, len, -ENOENT,
				"provider '%s' has no column in the enforcement table "
				"(user/core/enforce.c): sbx cannot tell what it enforces",
				provider);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		finding cur = { .key = table[i].key, .pos = p->pos }, *nv;
		const char *w;
		enum sbx_enf v = judge(&table[i], cell_of(&table[i], col), p, f, &cur, &w);

		if (v == SBX_ENF_ENFORCED)
			continue;
		word(&cur, p, provider, v, w);
		nv = realloc(rep.v, (rep.n + 1) * sizeof(*nv));
		if (!nv) {
			sbx_enforce_report_free(&rep);
			return -ENOMEM;
		}
		rep.v = nv;
		rep.v[rep.n++] = cur;
	}
	*ret = rep;
	return 0;
}

void sbx_enforce_report_free(struct sbx_enforce_report *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

bool sbx_enforce_refuses(const struct sbx_profile *p, const char *provider)
{
	struct sbx_enforce_features f = { .fs_backend = SBX_FSB_LANDLOCK, .unix_hooks = true,
					  .unix_peer = true };
	struct sbx_enforce_report r;
	char why[256];
	bool refuse = false;

	if (sbx_enforceability(p, provider, &f, &r, why, sizeof(why)) < 0)
		return true;
	for (size_t i = 0; i < r.n; i++)
		refuse |= r.v[i].refuse;
	sbx_enforce_report_free(&r);
	return refuse;
}
