/* SPDX-License-Identifier: MIT */
/*
 * sbx's enforcement of an OCI container (oci.h, "sbx's enforcement").
 *
 * Profile. org.sbx.profile=NAME: the profile NAME as `sbx run --profile NAME`
 * finds it without -P ($SBX_POLICY, else the policy directory: $SBX_POLICY_DIR
 * or /etc/sbx/policy.d, and the built-in "default"). org.sbx.policy=PATH: a
 * policy file whose real path (symlinks resolved) lies in the policy
 * directory, owned by root and writable by nobody else (the file and the
 * directory); org.sbx.policy.profile names its profile when it has more than
 * one. Neither: the default, $SBX_OCI_DEFAULT_PROFILE, else the line
 * `default_profile = "NAME"` of /etc/sbx/oci.toml ($SBX_OCI_CONFIG replaces
 * the path), else "none". Its `allowed_profiles` list (oci/config.h), when
 * set, bounds what an annotation may choose: org.sbx.profile must name a
 * listed profile and org.sbx.policy is refused. The name "none" is sbx-oci's built-in profile of
 * no rules (network and files open, best-effort): plain runc behaviour plus
 * the audit of the sandbox's life.
 *
 * Resources. linux.resources becomes the profile's limits before the sandbox
 * is made; where both set one, the stricter wins (the lower memory, pids and
 * cpu, the lower weight, the intersection of the CPUs). memory.limit ->
 * memory, pids.limit -> pids, cpu.quota/period -> cpu (quota*1000/period,
 * rounded up), cpu.shares -> cpu_weight (runc's 1 + (shares-2)*9999/262142),
 * cpuset.cpus -> cpus. memory.swap is accepted when it is no less than the
 * memory limit, since sbx allows no swap beyond it (stricter). devices: a v1
 * devices cgroup of the container's own where the host has that hierarchy
 * (oci/devcgroup.h). What sbx does not apply (memory.reservation,
 * disableOOMKiller, cpuset.mems, blockIO.weight, devices on a pure cgroup2
 * host) refuses a strict profile with the field's path and is listed as
 * degraded in sandbox.start under best-effort.
 * process.capabilities: without a user namespace of the container's own,
 * a capability that would undo sbx's enforcement (CAP_SYS_ADMIN: a fresh
 * cgroup2 mount and a write to cgroup.procs leave the cgroup where the eBPF
 * policy is attached; CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE,
 * CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_DAC_READ_SEARCH, CAP_MAC_*,
 * CAP_SYS_BOOT, CAP_CHECKPOINT_RESTORE) in any of its sets refuses a strict
 * profile and is listed as degraded under best-effort; so does CAP_NET_RAW
 * when the profile's network.raw_sockets is false (packet sockets pass
 * beside sbx's socket hooks). oci_enforce_exec_check refuses `sbx-oci exec`
 * a process with such a capability that config.json did not give.
 * mounts: a bind of the host's cgroup or bpf file systems (writable, or
 * rbind of a tree holding one) refuses a strict profile likewise.
 * linux.cgroupsPath ("/a/b" or "slice:prefix:name") places nothing: the
 * container's cgroup is always sbx's sandbox cgroup under sbx's root (where
 * its eBPF programs are attached); the path is recorded in STATE/sbx-enforce.state.
 *
 * Manager. oci_enforce_begin forks twice (setsid between: a session of its
 * own, not a child that the caller waits for; its parent becomes the
 * caller's subreaper) a manager with stdio on /dev/null and every other
 * descriptor of the caller closed (conmon and the shims wait for EOF on the
 * pipes they gave). The manager runs sbx_run (core/run.h) with the provider
 * "oci" (providers/oci.h): bpf, the enforceability check (the oci column of
 * core/enforce.c: fs rules need BPF LSM), the sandbox, limits, fs maps,
 * tracing, the instance's audit log, the registry (`sbx ps`: provider oci),
 * a watchdog that kills the sandbox if the manager dies. Its spawn hands the
 * cgroup fd and the sandbox id to the creator (SCM_RIGHTS), waits for the
 * init's pid, registers it, emits sandbox.start and acknowledges; its wait
 * ends when the init has exited and the cgroup is empty; then sandbox.exit,
 * and the sandbox is removed. The manager ignores SIGHUP; SIGTERM, SIGINT
 * and SIGQUIT kill the container's cgroup (what oci_enforce_wait_gone does
 * for delete, for leftovers of a container without a pid namespace).
 * Every audit line of the sandbox has "container": the container id.
 * sandbox.exit has exit_code or signal only when the manager read the
 * init's status from /proc before its reaper reaped it.
 *
 * oci_enforce_begin forks: call it before the caller starts any thread.
 *
 * Files in the state directory: sbx-enforce.log (the manager's), .pid ("PID
 * STARTTIME"), .state (sandbox, profile, cgroup, cgroups_path), .done
 * (written last, once everything is removed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/policy_source.h"
#include "core/run.h"
#include "kernel/mountinfo.h"
#include "oci_provider.h"
#include "oci/config.h"
#include "oci/devcgroup.h"
#include "oci/oci.h"
#include "util/util.h"

#define ENF_LOG "sbx-enforce.log"
#define ENF_PID "sbx-enforce.pid"
#define ENF_STATE "sbx-enforce.state"
#define ENF_DONE "sbx-enforce.done"
#define OCI_NONE "none"
#define READY_WAIT_MS 60000	/* sandbox setup: bpf load on a first start */
#define ACK_WAIT_MS 30000
#define GONE_WAIT_MS 10000
#define MAX_UNAPPLIED 8

struct oci_enforce {
	int sock;
	bool filter;			/* sbx's family filter: every profile but "none" */
	uint64_t families;		/* its network.families */
	char state_dir[PATH_MAX];
	char devices[PATH_MAX];		/* its v1 devices cgroup; "" = none */
};

/* The chosen profile and what owns it. */
struct choice {
	struct cli_policy cp;
	bool have_cp;
	struct sbx_policy *own;
	const struct sbx_profile *p;
	const char *source;		/* for messages: the annotation or the default */
	bool builtin_none;		/* p is sbx-oci's own none (no family filter) */
};

static const char none_toml[] =
	"version = 1\n"
	"[profile.none]\n"
	"min_isolation = \"none\"\n"
	"audit = \"deny\"\n"
	"enforcement = \"best-effort\"\n"
	"[profile.none.network]\n"
	"mode = \"full\"\n"
	"unix = [\"*\"]\n"
	"[profile.none.fs]\n"
	"mode = \"full\"\n";

static int diag_fail(struct sbx_diags *d, int r, const char *what, char *why, size_t len)
{
	if (d->n)
		sbx_fail(why, len, r, "%s: %s:%u:%u: %s", what, d->v[0].file ? d->v[0].file : "?",
			 d->v[0].line, d->v[0].col, d->v[0].msg);
	else
		sbx_fail(why, len, r, "%s: %s", what, strerror(-r));
	sbx_diags_free(d);
	return r < 0 ? r : -EINVAL;
}

static int load_none(struct choice *c, char *why, size_t len)
{
	struct sbx_diags d = { 0 };
	int r = sbx_policy_load_buffer("sbx-oci:none", none_toml, strlen(none_toml), NULL, &c->own, &d);

	if (r < 0)
		return diag_fail(&d, r, "the built-in profile none", why, len);
	sbx_diags_free(&d);
	c->p = sbx_policy_find(c->own, OCI_NONE);
	c->builtin_none = c->p != NULL;
	return c->p ? 0 : sbx_fail(why, len, -ENOENT, "the built-in profile none is missing");
}

static int from_dir(struct choice *c, const char *name, char *why, size_t len)
{
	struct sbx_diags d = { 0 };
	char what[128];
	int r;

	if (!strcmp(name, OCI_NONE))
		return load_none(c, why, len);
	snprintf(what, sizeof(what), "%s: the policy", c->source);
	r = cli_policy_load(NULL, 0, NULL, &c->cp, &d);
	if (r < 0)
		return diag_fail(&d, r, what, why, len);
	sbx_diags_free(&d);
	c->have_cp = true;
	c->p = cli_policy_find(&c->cp, name);
	if (!c->p)
		return sbx_fail(why, len, -ENOENT, "%s: no profile '%s' in %s", c->source, name,
				c->cp.source ? c->cp.source : cli_policy_dir());
	return 0;
}

/* Root's and writable by root alone. */
static int root_only(const char *path, const struct stat *st, char *why, size_t len)
{
	if (st->st_uid != 0)
		return sbx_fail(why, len, -EPERM, "%s: %s is owned by uid %u, not root",
				OCI_ANNOT_POLICY, path, (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return sbx_fail(why, len, -EPERM, "%s: %s is writable by its group or others",
				OCI_ANNOT_POLICY, path);
	return 0;
}

/* path must resolve to a regular file inside the policy directory. */
static int trusted_file(const char *path, char real[PATH_MAX], char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat st, dst;
	size_t n;
	int r;

	if (path[0] != '/')
		return sbx_fail(why, len, -EINVAL, "%s: '%s' is not an absolute path", OCI_ANNOT_POLICY,
				path);
	if (!realpath(cli_policy_dir(), dir))
		return sbx_fail(why, len, -errno, "%s: the trusted policy directory %s: %m",
				OCI_ANNOT_POLICY, cli_policy_dir());
	if (!realpath(path, real))
		return sbx_fail(why, len, -errno, "%s: %s: %m", OCI_ANNOT_POLICY, path);
	n = strlen(dir);
	if (strncmp(real, dir, n) || (real[n] != '/' && strcmp(dir, "/")))
		return sbx_fail(why, len, -EPERM, "%s: %s (%s) is outside the trusted policy directory "
				"%s", OCI_ANNOT_POLICY, path, real, dir);
	if (stat(real, &st) < 0 || stat(dir, &dst) < 0)
		return sbx_fail(why, len, -errno, "%s: %s: %m", OCI_ANNOT_POLICY, real);
	if (!S_ISREG(st.st_mode))
		return sbx_fail(why, len, -EINVAL, "%s: %s is not a regular file", OCI_ANNOT_POLICY, real);
	r = root_only(real, &st, why, len);
	return r < 0 ? r : root_only(dir, &dst, why, len);
}

static int from_file(struct choice *c, const char *path, const char *name, char *why, size_t len)
{
	struct sbx_diags d = { 0 };
	char real[PATH_MAX], what[PATH_MAX + 64];
	const char *paths[1] = { real };
	int r = trusted_file(path, real, why, len);

	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "%s: %s", OCI_ANNOT_POLICY, real);
	r = sbx_policy_load(paths, 1, NULL, &c->own, &d);
	if (r < 0)
		return diag_fail(&d, r, what, why, len);
	sbx_diags_free(&d);
	if (!name && c->own->n_profiles != 1)
		return sbx_fail(why, len, -EINVAL, "%s has %zu profiles: name one with %s", what,
				c->own->n_profiles, OCI_ANNOT_POLICY_PROFILE);
	c->p = name ? sbx_policy_find(c->own, name) : &c->own->profiles[0];
	if (!c->p)
		return sbx_fail(why, len, -ENOENT, "%s: no profile '%s' in %s", OCI_ANNOT_POLICY_PROFILE,
				name, real);
	/* the sbx provider (providers/oci.c) knows none by its name alone
	 * (it reports no family refusals there): a file's own none would have
	 * sbx-oci's filter without its audit */
	if (!strcmp(c->p->name, OCI_NONE))
		return sbx_fail(why, len, -EINVAL, "%s: %s: the profile name '%s' is sbx-oci's built-in "
				"profile: give the file's profile another name", OCI_ANNOT_POLICY, real,
				OCI_NONE);
	return 0;
}

/* (spec.c's oci_annotation, here so that enforce.c stands on its own) */
static const char *annotation(const struct oci_spec *s, const char *key)
{
	for (size_t i = 0; i < s->n_annotations; i++)
		if (s->annotations[i].key && !strcmp(s->annotations[i].key, key))
			return s->annotations[i].value;
	return NULL;
}

static int choose(const struct oci_spec *s, struct choice *c, char *why, size_t len)
{
	const char *name = annotation(s, OCI_ANNOT_PROFILE);
	const char *file = annotation(s, OCI_ANNOT_POLICY);
	const char *in_file = annotation(s, OCI_ANNOT_POLICY_PROFILE);
	const char *env = getenv("SBX_OCI_DEFAULT_PROFILE");
	struct oci_config cfg;
	int r;

	if (name && file)
		return sbx_fail(why, len, -EINVAL, "annotations %s and %s: give one (%s names the "
				"profile of a policy file)", OCI_ANNOT_PROFILE, OCI_ANNOT_POLICY,
				OCI_ANNOT_POLICY_PROFILE);
	if (in_file && !file)
		return sbx_fail(why, len, -EINVAL, "annotation %s without %s", OCI_ANNOT_POLICY_PROFILE,
				OCI_ANNOT_POLICY);
	r = oci_config_read(&cfg, why, len);
	if (r < 0)
		return r;
	if (file) {
		if (cfg.has_allowed)
			return sbx_fail(why, len, -EPERM, "annotation %s: refused: %s:%u sets allowed_profiles, "
					"so containers choose only among those, with %s", OCI_ANNOT_POLICY, cfg.path,
					cfg.allowed_line, OCI_ANNOT_PROFILE);
		c->source = OCI_ANNOT_POLICY;
		return from_file(c, file, in_file, why, len);
	}
	if (name) {
		if (!oci_config_allows(&cfg, name))
			return sbx_fail(why, len, -EPERM, "annotation %s: profile '%s' is not in allowed_profiles "
					"(%s:%u)", OCI_ANNOT_PROFILE, name, cfg.path, cfg.allowed_line);
		c->source = "annotation " OCI_ANNOT_PROFILE;
		return from_dir(c, name, why, len);
	}
	/* the default is the administrator's choice: allowed_profiles does not bind it */
	c->source = "the default profile of sbx-oci";
	if (env && *env)
		return from_dir(c, env, why, len);
	return from_dir(c, cfg.default_profile[0] ? cfg.default_profile : OCI_NONE, why, len);
}

static void choice_free(struct choice *c)
{
	if (c->have_cp)
		cli_policy_free(&c->cp);
	c->own = sbx_policy_free(c->own);
}

/* ---- linux.resources -------------------------------------------------- */

struct mapped {
	struct sbx_profile eff;		/* the profile with the spec's limits */
	char *unapplied[MAX_UNAPPLIED + 1];	/* NULL-terminated */
	size_t n;
};

static void unapplied(struct mapped *m, const char *field, const char *why)
{
	if (m->n < MAX_UNAPPLIED && asprintf(&m->unapplied[m->n], "%s: not applied by sbx-oci (%s)",
					     field, why) >= 0)
		m->n++;
}

static uint64_t stricter(uint64_t profile, uint64_t spec)
{
	return !profile || (spec && spec < profile) ? spec : profile;
}

static void map_memory(const struct oci_resources *r, struct mapped *m)
{
	if (r->has_memory_limit && r->memory_limit > 0)
		m->eff.memory_bytes = stricter(m->eff.memory_bytes, (uint64_t)r->memory_limit);
	if (r->has_memory_reservation && r->memory_reservation > 0)
		unapplied(m, "linux.resources.memory.reservation", "sbx sets no soft memory limit");
	/* sbx's memory limit allows no swap beyond it (kernel/limits.c) */
	if (r->has_memory_swap && r->memory_swap > 0 &&
	    (!m->eff.memory_bytes || (uint64_t)r->memory_swap < m->eff.memory_bytes))
		unapplied(m, "linux.resources.memory.swap", "sbx limits swap only to none beyond "
			  "a memory limit; give memory.limit no greater than memory.swap");
	if (r->disable_oom_killer)
		unapplied(m, "linux.resources.memory.disableOOMKiller", "sbx keeps the OOM killer on");
}

static void map_cpu(const struct oci_resources *r, struct mapped *m, char *why, size_t len, int *err)
{
	if (r->has_cpu_quota && r->cpu_quota > 0) {
		uint64_t period = r->has_cpu_period && r->cpu_period ? r->cpu_period : 100000;
		uint64_t milli = ((uint64_t)r->cpu_quota * 1000 + period - 1) / period;

		m->eff.cpu_milli = (uint32_t)stricter(m->eff.cpu_milli, milli ? milli : 1);
	}
	if (r->has_cpu_shares && r->cpu_shares) {
		uint64_t sh = r->cpu_shares < 2 ? 2 : r->cpu_shares > 262144 ? 262144 : r->cpu_shares;

		m->eff.cpu_weight = (uint32_t)stricter(m->eff.cpu_weight, 1 + ((sh - 2) * 9999) / 262142);
	}
	if (r->cpuset_cpus && *r->cpuset_cpus) {
		uint64_t cpus[SBX_CPUS_WORDS];
		bool any = sbx_cpus_any(m->eff.cpus), left = false;

		if (sbx_cpus_parse(r->cpuset_cpus, cpus) < 0) {
			*err = sbx_fail(why, len, -EINVAL, "linux.resources.cpuset.cpus: '%s' is not a "
					"CPU list", r->cpuset_cpus);
			return;
		}
		for (int i = 0; i < SBX_CPUS_WORDS; i++) {
			m->eff.cpus[i] = any ? m->eff.cpus[i] & cpus[i] : cpus[i];
			left |= m->eff.cpus[i] != 0;
		}
		if (!left)
			*err = sbx_fail(why, len, -EINVAL, "linux.resources.cpuset.cpus: '%s' shares no "
					"CPU with the profile's cpus", r->cpuset_cpus);
	}
	if (r->cpuset_mems && *r->cpuset_mems)
		unapplied(m, "linux.resources.cpuset.mems", "sbx pins no memory nodes");
}

/* Huge pages of a size the host has no pool of (nr_hugepages and
 * nr_overcommit_hugepages 0, or no such size) cannot be had at all: any
 * limit holds. SBX_OCI_HUGEPAGES_DIR replaces /sys/kernel/mm/hugepages (tests). */
static bool read_text(const char *path, char *buf, size_t size);

static bool hugepage_pool(uint64_t kib)
{
	const char *dir = getenv("SBX_OCI_HUGEPAGES_DIR");
	static const char *const files[] = { "nr_hugepages", "nr_overcommit_hugepages" };
	char path[PATH_MAX], buf[32];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/hugepages-%llukB/%s", dir ? dir : "/sys/kernel/mm/hugepages",
			 (unsigned long long)kib, files[i]);
		if (read_text(path, buf, sizeof(buf)) && strtoull(buf, NULL, 10) > 0)
			return true;
	}
	return false;
}

static void map_hugepages(const struct oci_resources *r, struct mapped *m)
{
	char field[64], why[160];

	for (size_t i = 0; i < r->n_hugepages; i++) {
		if (!hugepage_pool(r->hugepages[i].page_kib))
			continue;
		snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
		snprintf(why, sizeof(why), "this host has a pool of %llu KiB huge pages and sbx sets "
			 "no hugetlb limit", (unsigned long long)r->hugepages[i].page_kib);
		unapplied(m, field, why);
	}
}

/* ---- process.capabilities --------------------------------------------- */

/* Capabilities that, held in the initial user namespace, let the workload
 * undo what sbx enforces (as the host provider drops them: docs/providers.md).
 * Not in runc's, Podman's or Docker's default sets. */
static const struct {
	int cap;
	const char *name, *why;
} undoing_caps[] = {
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "it mounts cgroup2 afresh and moves its processes out of "
	  "sbx's cgroup, where the eBPF policy is attached, and detaches BPF programs" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN", "netfilter NAT rewrites a destination after sbx's connect "
	  "hook judged it" },
	{ CAP_BPF, "CAP_BPF", "bpf(2) on sbx's programs and maps" },
	{ CAP_PERFMON, "CAP_PERFMON", "perf and BPF tracing of the kernel and of sbx" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "ptrace and process_vm_writev of processes it can see, "
	  "sbx's manager among them without a pid namespace" },
	{ CAP_SYS_MODULE, "CAP_SYS_MODULE", "it loads kernel modules" },
	{ CAP_SYS_RAWIO, "CAP_SYS_RAWIO", "raw I/O to memory and devices" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH", "open_by_handle_at(2) opens host files outside "
	  "the container's root" },
	{ CAP_MAC_ADMIN, "CAP_MAC_ADMIN", "it changes the kernel's MAC policy" },
	{ CAP_MAC_OVERRIDE, "CAP_MAC_OVERRIDE", "it overrides the kernel's MAC policy" },
	{ CAP_SYS_BOOT, "CAP_SYS_BOOT", "kexec_load(2) replaces the running kernel" },
	{ CAP_CHECKPOINT_RESTORE, "CAP_CHECKPOINT_RESTORE", "it chooses pids and rewrites other "
	  "processes' exe links" },
};

/* Whether the container gets a user namespace of its own: a new one, or one
 * joined by path that is not the runtime's (the host's). */
static bool maps_host_root(const struct oci_idmap *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].host_id == 0 && m[i].size)
			return true;
	return false;
}

/* A user namespace of the container's own, whose capabilities are not the
 * host's: a new one that maps no host uid or gid 0 onto the container (a
 * container root that is host root keeps host root's hold on root-owned
 * files: a remount of a bound /sys, a write to the host's cgroup.procs),
 * or a joined one that is not the host's. */
static bool own_user_namespace(const struct oci_spec *s)
{
	struct stat self, ns;

	for (size_t i = 0; i < s->n_namespaces; i++) {
		if (s->namespaces[i].type != CLONE_NEWUSER)
			continue;
		if (!s->namespaces[i].path)
			return !maps_host_root(s->uid_mappings, s->n_uid_mappings) &&
			       !maps_host_root(s->gid_mappings, s->n_gid_mappings);
		return stat("/proc/self/ns/user", &self) == 0 && stat(s->namespaces[i].path, &ns) == 0 &&
		       (self.st_dev != ns.st_dev || self.st_ino != ns.st_ino);
	}
	return false;
}

#define NET_RAW_WHY "packet sockets (AF_PACKET) are not seen by sbx's socket hooks; the " \
	"profile's network.raw_sockets = true allows it"

/* Any set: bounding ones come back through a setuid or file-capability
 * program without no_new_privs. */
static uint64_t caps_of(const struct oci_process *p)
{
	const struct oci_caps *c = &p->caps;

	return p->has_caps ? c->bounding | c->effective | c->permitted | c->inheritable | c->ambient : 0;
}

/* Every capability of process.capabilities that undoes sbx's enforcement
 * without a user namespace (CAP_NET_RAW unless the profile allows raw
 * sockets): unapplied, so that a strict profile refuses the container and
 * best-effort lists it. */
static void map_caps(const struct oci_spec *s, const struct sbx_profile *p, struct mapped *m)
{
	uint64_t all = caps_of(&s->process);
	char field[96];

	if (!s->has_process || own_user_namespace(s))
		return;
	for (size_t i = 0; i < sizeof(undoing_caps) / sizeof(undoing_caps[0]); i++) {
		if (!(all & (UINT64_C(1) << undoing_caps[i].cap)))
			continue;
		snprintf(field, sizeof(field), "process.capabilities: %s without a user namespace",
			 undoing_caps[i].name);
		unapplied(m, field, undoing_caps[i].why);
	}
	if ((all & (UINT64_C(1) << CAP_NET_RAW)) && !p->net.raw_sockets)
		unapplied(m, "process.capabilities: CAP_NET_RAW without a user namespace", NET_RAW_WHY);
}

int oci_enforce_exec_check(const struct oci_spec *s, const struct oci_process *p, char *why,
			   size_t len)
{
	uint64_t added = caps_of(p) & ~caps_of(&s->process);

	if (own_user_namespace(s))
		return 0;
	for (size_t i = 0; i < sizeof(undoing_caps) / sizeof(undoing_caps[0]); i++)
		if (added & (UINT64_C(1) << undoing_caps[i].cap))
			return sbx_fail(why, len, -EPERM, "exec: process.capabilities: %s, which the "
					"container's config.json does not give, without a user namespace "
					"(%s): it would undo sbx's enforcement", undoing_caps[i].name,
					undoing_caps[i].why);
	if (added & (UINT64_C(1) << CAP_NET_RAW))
		return sbx_fail(why, len, -EPERM, "exec: process.capabilities: CAP_NET_RAW, which the "
				"container's config.json does not give, without a user namespace (%s)",
				NET_RAW_WHY);
	return 0;
}

/* ---- mounts: the host's cgroup and bpf file systems ------------------- */

/* A bind of a cgroup hierarchy (or of a tree holding one, with rbind)
 * lets the container's root write cgroup.procs of a cgroup outside sbx's,
 * where the eBPF policy is attached; a bpf file system, open sbx's pinned
 * programs and maps. A plain read-only bind is harmless. */
static bool sbx_fs_type(const char *t)
{
	return !strcmp(t, "cgroup") || !strcmp(t, "cgroup2") || !strcmp(t, "bpf");
}

struct held_fs {
	const char *src;
	bool rec;
	char found[PATH_MAX];
};

static int held_match(const struct sbx_mount *mt, void *arg)
{
	struct held_fs *h = arg;
	size_t n = strlen(h->src);

	if (!sbx_fs_type(mt->fstype))
		return 0;
	/* the source inside such a mount, or (rbind) such a mount below it */
	if ((!strncmp(h->src, mt->point, strlen(mt->point)) &&
	     (h->src[strlen(mt->point)] == '/' || !h->src[strlen(mt->point)] || !strcmp(mt->point, "/"))) ||
	    (h->rec && (!strcmp(h->src, "/") ||
			(!strncmp(mt->point, h->src, n) && mt->point[n] == '/')))) {
		snprintf(h->found, sizeof(h->found), "%s (%s)", mt->point, mt->fstype);
		return 1;
	}
	return 0;
}

static void map_mounts(const struct oci_spec *s, struct mapped *m)
{
	char field[64], why[PATH_MAX + 160], real[PATH_MAX];

	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *mt = &s->mounts[i];
		struct held_fs h = { .src = real, .rec = mt->rbind };
		bool bind = mt->bind || mt->rbind || (mt->type && !strcmp(mt->type, "bind"));

		if (!bind || !mt->source || !realpath(mt->source, real))
			continue;
		if (!mt->rbind && (mt->flags & MS_RDONLY))
			continue;
		if (sbx_mountinfo_each(held_match, &h) <= 0)
			continue;
		snprintf(field, sizeof(field), "mounts[%zu]", i);
		snprintf(why, sizeof(why), "%s of %s onto %s holds the host's %s: the container could "
			 "leave sbx's cgroup or reach its BPF objects; a read-only bind (no rbind) is "
			 "allowed", mt->rbind ? "rbind" : "a writable bind", mt->source, mt->destination,
			 h.found);
		unapplied(m, field, why);
	}
}

static int map_resources(const struct oci_spec *s, const struct sbx_profile *p, struct mapped *m,
			 char *why, size_t len)
{
	const struct oci_resources *r = &s->resources;
	int err = 0;

	m->eff = *p;
	map_memory(r, m);
	if (r->has_pids_limit && r->pids_limit > 0)
		m->eff.pids = (uint32_t)stricter(m->eff.pids, (uint64_t)r->pids_limit);
	map_cpu(r, m, why, len, &err);
	if (err < 0)
		return err;
	map_hugepages(r, m);
	if (r->blkio_weight)
		unapplied(m, "linux.resources.blockIO.weight", "sbx makes no blkio/io cgroup");
	if (r->n_devices && !oci_devices_supported())
		unapplied(m, "linux.resources.devices", "this host has no v1 devices hierarchy and "
			  "sbx no BPF device program: what the container may open is bounded by its "
			  "/dev and capabilities only");
	map_caps(s, p, m);
	map_mounts(s, m);
	if (m->n && p->enforcement == SBX_ENFORCE_STRICT)
		return sbx_fail(why, len, -EOPNOTSUPP, "%s; profile '%s' is strict (enforcement = "
				"\"best-effort\" runs without it, listed as degraded)", m->unapplied[0],
				p->name);
	return 0;
}

static void mapped_free(struct mapped *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->unapplied[i]);
	m->n = 0;
}

/* ---- files of the state directory ------------------------------------- */

static void state_path(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

/* A small file's text (NUL-terminated); false when it cannot be read. */
static bool read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
	size_t n = strlen(text);
	int fd;

	state_path(path, sizeof(path), dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (sbx_write_all(fd, text, n) != n) {
		close(fd);
		unlink(tmp);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) < 0 ? -errno : 0;
}

/* ---- the manager ------------------------------------------------------ */

struct manager {
	int sock;
	int log_fd;
	char errors[3072];		/* error lines before the hand-over, for the creator */
	size_t n_errors;
	const char *state_dir;
};

/* sbx_run's error stream: the log, and before the hand-over a copy of its
 * lines for the creator's message. */
static ssize_t mgr_write(void *cookie, const char *buf, size_t n)
{
	struct manager *m = cookie;
	size_t room = sizeof(m->errors) - 1 - m->n_errors;

	if (m->log_fd >= 0)
		sbx_write_all(m->log_fd, buf, n);
	if (!sbx_oci_handed_over() && room) {
		memcpy(m->errors + m->n_errors, buf, n < room ? n : room);
		m->n_errors += n < room ? n : room;
		m->errors[m->n_errors] = 0;
	}
	return (ssize_t)n;
}

/* The caller's descriptors (its stdio pipes above all) are not the manager's. */
static void detach_fds(int keep1, int keep2)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int fd = 0; fd < 3; fd++)
		if (null >= 0)
			dup2(null, fd);
	if (null > 2)
		close(null);
	if (keep1 > keep2) {
		int t = keep1;

		keep1 = keep2;
		keep2 = t;
	}
	/* every other one, however high (keep1 < keep2, both >= 3 or -1) */
	if (keep1 > 3)
		close_range(3, (unsigned)keep1 - 1, 0);
	if (keep2 > keep1 + 1)
		close_range((unsigned)(keep1 < 3 ? 3 : keep1 + 1), (unsigned)keep2 - 1, 0);
	close_range((unsigned)(keep2 < 3 ? 3 : keep2 + 1), ~0u, 0);
}

static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* sbx_run waits for its own children (the watchdog, the resolver) */
	signal(SIGCHLD, SIG_DFL);
}

static void report_end(struct manager *m, FILE *err, const struct sbx_run_result *res, int code)
{
	char line[PATH_MAX];
	struct sbx_oci_msg msg = { .type = SBX_OCI_ERROR, .pid = -EPERM };

	fflush(err);
	if (!sbx_oci_handed_over()) {
		size_t n = m->n_errors;
		char *p;

		while (n && m->errors[n - 1] == '\n')
			m->errors[--n] = 0;
		/* the creator says "error" itself */
		while ((p = strstr(m->errors, "sbx: error: ")))
			memmove(p, p + 12, strlen(p + 12) + 1);
		snprintf(msg.text, sizeof(msg.text), "%s", m->errors[0] ? m->errors :
			 "the sandbox could not be made (no reason given)");
		sbx_oci_send(m->sock, &msg, -1);
	}
	dprintf(m->log_fd, "sbx-oci: sandbox %s ended: %s, sbx exit code %d, %llu audit events\n",
		res->id[0] ? res->id : "(none)", res->failed ? "failed" : "ok", code,
		(unsigned long long)res->events);
	/* the devices cgroup the creator made (linux.resources.devices), empty now */
	if (res->id[0] && oci_devices_path(res->id, line, sizeof(line)) == 0)
		oci_devices_remove(line);
	snprintf(line, sizeof(line), "sandbox=%s\nfailed=%d\n", res->id, res->failed);
	write_file(m->state_dir, ENF_DONE, line);
}

static __attribute__((noreturn)) void manager_main(struct manager *m, const struct sbx_profile *p,
						   const char *const *degraded, const char *cid)
{
	cookie_io_functions_t io = { .write = mgr_write };
	char *const argv[] = { (char *)"oci-init", NULL };
	struct sbx_run_opts o = { .profile = p, .provider = &sbx_provider_oci, .argv = argv,
				  .container_id = cid, .degraded = degraded };
	struct sbx_run_result res;
	char path[PATH_MAX + 32], pid[64];
	FILE *err;
	int code;

	state_path(path, sizeof(path), m->state_dir, ENF_LOG);
	m->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	detach_fds(m->sock, m->log_fd);
	block_signals();
	snprintf(pid, sizeof(pid), "%d %llu\n", (int)getpid(),
		 (unsigned long long)sbx_proc_start_time(getpid()));
	write_file(m->state_dir, ENF_PID, pid);
	err = fopencookie(m, "w", io);
	if (!err)
		_exit(1);
	setvbuf(err, NULL, _IOLBF, 0);
	sbx_oci_set_channel(m->sock);
	dprintf(m->log_fd, "sbx-oci: container %s, profile %s\n", cid, p->name);
	code = sbx_run(&o, &res, err);
	report_end(m, err, &res, code);
	sbx_run_result_free(&res);
	fclose(err);
	_exit(res.failed ? 1 : 0);
}

/* Forks the manager twice (setsid between). Returns the creator's end. */
static int start_manager(const char *state_dir, const struct sbx_profile *p,
			 const char *const *degraded, const char *cid, char *why, size_t len)
{
	int sv[2], st;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sbx_fail(why, len, -errno, "socketpair: %m");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return sbx_fail(why, len, -errno, "fork the sbx manager: %m");
	}
	if (pid == 0) {
		struct manager m = { .sock = sv[1], .log_fd = -1, .state_dir = state_dir };

		close(sv[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		manager_main(&m, p, degraded, cid);
	}
	close(sv[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		close(sv[0]);
		return sbx_fail(why, len, -ECHILD, "fork the sbx manager: its first fork failed");
	}
	return sv[0];
}

/* The creator's half of READY: the cgroup fd and the sandbox id. */
static int await_ready(int sock, int *ret_fd, char *id, size_t id_len, char *cgroup, size_t cg_len,
		       char *why, size_t len)
{
	struct sbx_oci_msg m;
	int fd, r = sbx_oci_recv(sock, &m, &fd, READY_WAIT_MS);

	if (r < 0)
		return sbx_fail(why, len, r == -EPIPE ? -EIO : r, "the sbx manager %s (its log: %s)",
				r == -ETIMEDOUT ? "did not answer" : "ended without a word", ENF_LOG);
	if (m.type == SBX_OCI_ERROR) {
		if (fd >= 0)
			close(fd);
		return sbx_fail(why, len, m.pid < 0 ? m.pid : -EIO, "%s", m.text);
	}
	if (m.type != SBX_OCI_READY || fd < 0) {
		if (fd >= 0)
			close(fd);
		return sbx_fail(why, len, -EBADMSG, "the sbx manager sent no cgroup");
	}
	snprintf(id, id_len, "%s", m.id);
	snprintf(cgroup, cg_len, "%s", m.text);
	*ret_fd = fd;
	return 0;
}

static int write_state(const struct oci_enforce *e, const char *id, const char *profile, const char *cgroup,
		       const char *cgroups_path, const char *devices)
{
	char buf[4 * PATH_MAX], fam[32] = "off";

	if (e->filter)
		snprintf(fam, sizeof(fam), "%#llx", (unsigned long long)e->families);
	snprintf(buf, sizeof(buf), "sandbox=%s\nprofile=%s\ncgroup=%s\ncgroups_path=%s\ndevices=%s\n"
		 "families=%s\n", id, profile, cgroup, cgroups_path ? cgroups_path : "", devices, fam);
	return write_file(e->state_dir, ENF_STATE, buf);
}

bool oci_enforce_families(const struct oci_enforce *e, uint64_t *families)
{
	*families = e->families;
	return e->filter;
}

int oci_enforce_state_families(const char *state_dir, bool *on, uint64_t *families, char *why, size_t len)
{
	char path[PATH_MAX + 32], text[4 * PATH_MAX], *f, *end;
	unsigned long long v;

	/* a container made before the record, or by a manager that failed
	 * before writing it: the families every profile allows */
	*on = true;
	*families = SBX_FAMILIES_DEFAULT;
	state_path(path, sizeof(path), state_dir, ENF_STATE);
	if (!read_text(path, text, sizeof(text)))
		return 0;
	if (!(f = strstr(text, "\nfamilies="))) {
		/* made before the record: its init has no filter under none */
		*on = !strstr(text, "\nprofile=" OCI_NONE "\n");
		return 0;
	}
	f += strlen("\nfamilies=");
	if (!strncmp(f, "off\n", 4)) {
		*on = false;
		return 0;
	}
	errno = 0;
	v = strtoull(f, &end, 16);
	if (errno || end == f || *end != '\n')
		return sbx_fail(why, len, -EINVAL, "%s: families: not a number", path);
	*families = v;
	return 0;
}

int oci_enforce_begin(const struct oci_spec *s, const char *container_id, const char *state_dir,
		      struct oci_enforce **ret, int *ret_cgroup_fd, char *sandbox_id, size_t id_len,
		      char *why, size_t len)
{
	struct choice c = { 0 };
	struct mapped m = { 0 };
	struct oci_enforce *e = calloc(1, sizeof(*e));
	char cgroup[PATH_MAX], id[32], path[PATH_MAX + 32];
	int r, fd = -1;

	if (!e)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	e->sock = -1;
	snprintf(e->state_dir, sizeof(e->state_dir), "%s", state_dir);
	r = choose(s, &c, why, len);
	if (!r) {
		/* the built-in none, not a profile merely named so (a policy
		 * file's [profile.none] has network.families like any other) */
		e->filter = !c.builtin_none;
		e->families = c.p->net.families;
		r = map_resources(s, c.p, &m, why, len);
	}
	if (!r && mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		r = sbx_fail(why, len, -errno, "%s: %m", state_dir);
	if (!r) {
		state_path(path, sizeof(path), state_dir, ENF_DONE);
		unlink(path);
		r = e->sock = start_manager(state_dir, &m.eff, (const char *const *)m.unapplied,
					    container_id, why, len);
	}
	if (r >= 0)
		r = await_ready(e->sock, &fd, id, sizeof(id), cgroup, sizeof(cgroup), why, len);
	if (r >= 0 && s->resources.n_devices && oci_devices_supported())
		r = oci_devices_create(id, s->resources.devices, s->resources.n_devices, s->devices,
				       s->n_devices, e->devices, sizeof(e->devices), why, len);
	/* exec reads the family filter back from it: no record, no container */
	if (r >= 0 && (r = write_state(e, id, c.p->name, cgroup, s->cgroups_path, e->devices)) < 0) {
		r = sbx_fail(why, len, r, "%s/%s: %s", state_dir, ENF_STATE, strerror(-r));
		if (e->devices[0])
			oci_devices_remove(e->devices);
	}
	if (r < 0 && fd >= 0)
		close(fd);
	if (r >= 0) {
		snprintf(sandbox_id, id_len, "%s", id);
		*ret_cgroup_fd = fd;
		*ret = e;
		e = NULL;
		r = 0;
	}
	mapped_free(&m);
	choice_free(&c);
	if (e) {
		oci_enforce_abort(e);	/* waits for the manager's teardown */
	}
	return r;
}

int oci_enforce_done(struct oci_enforce *e, pid_t init_pid, char *why, size_t len)
{
	struct sbx_oci_msg m = { .type = SBX_OCI_DONE, .pid = init_pid };
	int r = e->devices[0] ? oci_devices_attach(e->devices, init_pid) : 0;

	if (r < 0) {
		/* the manager sees EOF: it removes the sandbox, the init with it */
		sbx_fail(why, len, r, "linux.resources.devices: place pid %d in %s: %s", (int)init_pid,
			 e->devices, strerror(-r));
		close(e->sock);
		free(e);
		return r;
	}
	r = sbx_oci_send(e->sock, &m, -1);

	if (r == 0)
		r = sbx_oci_recv(e->sock, &m, NULL, ACK_WAIT_MS);
	if (r < 0)
		r = sbx_fail(why, len, r, "the sbx manager %s (its log: %s/%s)",
			     r == -ETIMEDOUT ? "did not acknowledge the container's init" : "is gone",
			     e->state_dir, ENF_LOG);
	else if (m.type == SBX_OCI_ERROR)
		r = sbx_fail(why, len, -EIO, "%s", m.text);
	else if (m.type != SBX_OCI_ACK)
		r = sbx_fail(why, len, -EBADMSG, "the sbx manager answered %u", m.type);
	close(e->sock);
	free(e);
	return r;
}

void oci_enforce_abort(struct oci_enforce *e)
{
	struct sbx_oci_msg m = { .type = SBX_OCI_ABORT };
	uint64_t end = (uint64_t)time(NULL) + GONE_WAIT_MS / 1000;

	if (!e)
		return;
	if (e->sock >= 0) {
		sbx_oci_send(e->sock, &m, -1);
		/* EOF once the manager has torn the sandbox down and exited */
		while ((uint64_t)time(NULL) <= end) {
			int fd, r = sbx_oci_recv(e->sock, &m, &fd, GONE_WAIT_MS);

			if (fd >= 0)
				close(fd);
			if (r < 0 && r != -EBADMSG)
				break;
		}
		close(e->sock);
	}
	free(e);
}

/* The manager's pid, if it still runs (the pid file's start time matches). */
static pid_t manager_pid(const char *state_dir)
{
	char path[PATH_MAX + 32], buf[64];
	unsigned long long t = 0;
	int pid = 0;

	state_path(path, sizeof(path), state_dir, ENF_PID);
	if (!read_text(path, buf, sizeof(buf)))
		return 0;
	if (sscanf(buf, "%d %llu", &pid, &t) != 2 || pid <= 0 || !t || sbx_proc_start_time(pid) != t)
		return 0;
	return pid;
}

/* The devices cgroup of a container whose manager did not remove it (a
 * killed manager: its watchdog removes the sandbox, not this). Only a path
 * of sbx-oci's own ("<...>/sbx-oci/sbx-<id>") is removed; a non-empty one
 * stays (rmdir fails). */
static int wait_manager_gone(const char *state_dir, char *why, size_t len);

static void remove_devices_left(const char *state_dir)
{
	char path[PATH_MAX + 32], text[4 * PATH_MAX], *d, *slash;

	state_path(path, sizeof(path), state_dir, ENF_STATE);
	if (!read_text(path, text, sizeof(text)) || !(d = strstr(text, "\ndevices=")))
		return;
	d += strlen("\ndevices=");
	d[strcspn(d, "\n")] = 0;
	slash = strrchr(d, '/');
	if (*d != '/' || strstr(d, "/../") || !slash || strncmp(slash + 1, "sbx-", 4) ||
	    slash - d < 8 || strncmp(slash - 8, "/sbx-oci", 8))
		return;
	oci_devices_remove(d);
}

int oci_enforce_wait_gone(const char *state_dir, char *why, size_t len)
{
	int r = wait_manager_gone(state_dir, why, len);

	if (r == 0)
		remove_devices_left(state_dir);
	return r;
}

static int wait_manager_gone(const char *state_dir, char *why, size_t len)
{
	char path[PATH_MAX + 32];
	pid_t pid = manager_pid(state_dir);
	int pidfd, r;
	struct pollfd p = { .events = POLLIN };

	state_path(path, sizeof(path), state_dir, ENF_DONE);
	if (!pid)
		return 0;	/* none ran, or it ended (its watchdog cleans up after a killed one) */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return 0;
	/* the pidfd names one process: the manager still, or the pid was
	 * reused between the check and the open (then nothing is signalled) */
	if (manager_pid(state_dir) != pid) {
		close(pidfd);
		return 0;
	}
	/* leftovers of a container without a pid namespace: the manager kills them */
	if (access(path, F_OK) < 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
	p.fd = pidfd;
	do
		r = poll(&p, 1, GONE_WAIT_MS);
	while (r < 0 && errno == EINTR);
	close(pidfd);
	if (r <= 0)
		return sbx_fail(why, len, -ETIMEDOUT, "the sbx manager (pid %d) has not removed the "
				"sandbox after %d s (its log: %s/%s)", (int)pid, GONE_WAIT_MS / 1000,
				state_dir, ENF_LOG);
	return 0;
}
