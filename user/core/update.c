/* SPDX-License-Identifier: MIT */
/* Live policy changes (core/update.h): what may change, what tightens, and
 * the policy-id flip. */
#include <errno.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "core/bpfload.h"
#include "core/compile.h"
#include "core/fsplan.h"
#include "core/dnsrun.h"
#include "core/resolve.h"
#include "core/sandbox.h"
#include "core/trace.h"
#include "core/update.h"
#include "kernel/cgroup.h"
#include "util/util.h"

/* ---- comparing profiles (pure) ---------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return false;
	return true;
}

/* every string of a is in b */
static bool strv_subset(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!strv_has(b, nb, a[i]))
			return false;
	return true;
}

static bool env_eq(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (a->n_env != b->n_env)
		return false;
	for (size_t i = 0; i < a->n_env; i++)
		if (!str_eq(a->env[i].name, b->env[i].name) || !str_eq(a->env[i].value, b->env[i].value))
			return false;
	return true;
}

static bool entry_eq(const struct sbx_net_entry *a, const struct sbx_net_entry *b)
{
	return a->kind == b->kind && a->deny == b->deny && str_eq(a->text, b->text);
}

static bool has_entry(const struct sbx_profile *p, const struct sbx_net_entry *e)
{
	for (size_t i = 0; i < p->net.n_entries; i++)
		if (entry_eq(&p->net.entries[i], e))
			return true;
	return false;
}

static bool listen_eq(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (a->net.n_listen != b->net.n_listen)
		return false;
	for (size_t i = 0; i < a->net.n_listen; i++)
		if (a->net.listen[i].lo != b->net.listen[i].lo ||
		    a->net.listen[i].hi != b->net.listen[i].hi ||
		    a->net.listen[i].proto != b->net.listen[i].proto)
			return false;
	return true;
}

bool sbx_update_net_differs(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (a->net.mode != b->net.mode || a->net.n_entries != b->net.n_entries ||
	    a->net.raw_sockets != b->net.raw_sockets || a->net_bytes != b->net_bytes ||
	    a->audit != b->audit || a->audit_rate != b->audit_rate ||
	    a->audit_burst != b->audit_burst || a->audit_deny_rate != b->audit_deny_rate ||
	    a->audit_deny_burst != b->audit_deny_burst || !listen_eq(a, b) ||
	    !strv_eq(a->net.unix_paths, a->net.n_unix, b->net.unix_paths, b->net.n_unix))
		return true;
	for (size_t i = 0; i < a->net.n_entries; i++)
		if (!entry_eq(&a->net.entries[i], &b->net.entries[i]))
			return true;
	return false;
}

bool sbx_update_fs_differs(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (a->fs.mode != b->fs.mode || a->fs.n_rules != b->fs.n_rules ||
	    !strv_eq(a->fs.exec, a->fs.n_exec, b->fs.exec, b->fs.n_exec))
		return true;
	for (size_t i = 0; i < a->fs.n_rules; i++)
		if (!str_eq(a->fs.rules[i].path, b->fs.rules[i].path) ||
		    a->fs.rules[i].access != b->fs.rules[i].access)
			return true;
	return false;
}

/* The resolver is configured when the sandbox starts (docs/network.md). */
static bool dns_eq(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (a->net.dns.n_upstream != b->net.dns.n_upstream ||
	    a->net.dns.ttl_floor_s != b->net.dns.ttl_floor_s ||
	    a->net.dns.grace_s != b->net.dns.grace_s || a->net.dns.nxdomain != b->net.dns.nxdomain)
		return false;
	for (size_t i = 0; i < a->net.dns.n_upstream; i++) {
		const struct sbx_dns_server *x = &a->net.dns.upstream[i], *y = &b->net.dns.upstream[i];

		if (x->family != y->family || x->port != y->port || memcmp(x->addr, y->addr, 16))
			return false;
	}
	return true;
}

static const char *fixed_field(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (!str_eq(a->provider, b->provider))
		return "provider";
	if (a->min_isolation != b->min_isolation)
		return "isolation";
	if (a->timeout_ms != b->timeout_ms)
		return "timeout";
	if (a->nofile != b->nofile)
		return "nofile";
	if (a->fsize != b->fsize)
		return "fsize";
	if (a->disk_bytes != b->disk_bytes)
		return "disk";
	if (a->egress_rate != b->egress_rate || a->ingress_rate != b->ingress_rate ||
	    a->rate_burst != b->rate_burst)
		return "network rate (egress_rate, ingress_rate, rate_burst)";
	if (a->cpu_weight != b->cpu_weight)
		return "cpu_weight";
	if (memcmp(a->cpus, b->cpus, sizeof(a->cpus)))
		return "cpus";
	if (!env_eq(a, b))
		return "env";
	if (!str_eq(a->cwd, b->cwd))
		return "cwd";
	if (!str_eq(a->user, b->user) || !str_eq(a->group, b->group))
		return "user/group";
	if (a->seccomp.preset != b->seccomp.preset || a->seccomp.action != b->seccomp.action ||
	    !strv_eq(a->seccomp.deny, a->seccomp.n_deny, b->seccomp.deny, b->seccomp.n_deny) ||
	    !strv_eq(a->seccomp.allow, a->seccomp.n_allow, b->seccomp.allow, b->seccomp.n_allow))
		return "seccomp";
	if (a->net.families != b->net.families)
		return "network.families";
	if (!dns_eq(a, b))
		return "network.dns";
	if (a->net.namespace != b->net.namespace || !str_eq(a->net.veth_host, b->net.veth_host) ||
	    !str_eq(a->net.veth_sandbox, b->net.veth_sandbox))
		return "network.namespace";
	return NULL;
}

/* Provider sections: set at start, part of what the provider built. */
static const char *fixed_provider_field(const struct sbx_profile *a, const struct sbx_profile *b)
{
	if (a->mock.exit_code != b->mock.exit_code || a->mock.duration_ms != b->mock.duration_ms ||
	    !str_eq(a->mock.stdout_text, b->mock.stdout_text) ||
	    !str_eq(a->mock.stderr_text, b->mock.stderr_text) || !str_eq(a->mock.fail, b->mock.fail))
		return "mock";
	if (!str_eq(a->gvisor.platform, b->gvisor.platform) || !str_eq(a->gvisor.runsc, b->gvisor.runsc))
		return "gvisor";
	if (!str_eq(a->wasm.runtime, b->wasm.runtime))
		return "wasm";
	if (!str_eq(a->microvm.backend, b->microvm.backend) ||
	    !str_eq(a->microvm.kernel, b->microvm.kernel) ||
	    !str_eq(a->microvm.initrd, b->microvm.initrd) ||
	    !str_eq(a->microvm.firecracker, b->microvm.firecracker) ||
	    !str_eq(a->microvm.jailer, b->microvm.jailer))
		return "microvm";
	if (!str_eq(a->unikernel.image, b->unikernel.image) ||
	    !str_eq(a->unikernel.qemu, b->unikernel.qemu) ||
	    !str_eq(a->unikernel.machine, b->unikernel.machine) ||
	    !str_eq(a->unikernel.cmdline, b->unikernel.cmdline))
		return "unikernel";
	return NULL;
}

int sbx_update_changeable(const struct sbx_profile *cur, const struct sbx_profile *next,
			  char *why, size_t len)
{
	const char *f = fixed_field(cur, next);

	if (!f)
		f = fixed_provider_field(cur, next);
	if (f)
		return sbx_fail(why, len, -EOPNOTSUPP,
				"%s cannot change in a running sandbox (it is set when the sandbox "
				"starts); only memory, cpu, pids, network, audit and fs rules can",
				f);
	return 0;
}

/* ---- tightening (pure) ------------------------------------------------- */

/* A limit where 0 means none: next tightens when it sets one no larger. */
static bool limit_ok(uint64_t cur, uint64_t next)
{
	return !cur || (next && next <= cur);
}

struct limit_field {
	const char *name;
	uint64_t cur, next;
};

/* The first limit next raises or lifts, said with both values. */
static bool limits_loosen(const struct sbx_profile *c, const struct sbx_profile *n, char *why,
			  size_t len)
{
	const struct limit_field f[] = {
		{ "memory", c->memory_bytes, n->memory_bytes },
		{ "cpu", c->cpu_milli, n->cpu_milli },
		{ "pids", c->pids, n->pids },
		{ "timeout", c->timeout_ms, n->timeout_ms },
		{ "nofile", c->nofile, n->nofile },
		{ "fsize", c->fsize, n->fsize },
		{ "disk", c->disk_bytes, n->disk_bytes },
		{ "net_bytes", c->net_bytes, n->net_bytes },
		{ "egress_rate", c->egress_rate, n->egress_rate },
		{ "ingress_rate", c->ingress_rate, n->ingress_rate },
		{ "cpu_weight", c->cpu_weight ? c->cpu_weight : 100, n->cpu_weight ? n->cpu_weight : 100 },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (limit_ok(f[i].cur, f[i].next))
			continue;
		if (!f[i].next)
			snprintf(why, len, "%s: the new profile lifts the limit of %llu that profile "
				 "'%s' sets", f[i].name, (unsigned long long)f[i].cur,
				 c->name ? c->name : "?");
		else
			snprintf(why, len, "%s: the new profile raises it from %llu to %llu (profile "
				 "'%s')", f[i].name, (unsigned long long)f[i].cur,
				 (unsigned long long)f[i].next, c->name ? c->name : "?");
		return true;
	}
	for (int i = 0; i < SBX_CPUS_WORDS && sbx_cpus_any(c->cpus); i++)
		if (!sbx_cpus_any(n->cpus) || (n->cpus[i] & ~c->cpus[i])) {
			snprintf(why, len, "cpus: the new profile allows CPUs that profile '%s' does "
				 "not", c->name ? c->name : "?");
			return true;
		}
	return false;
}

static bool port_range_within(const struct sbx_port_range *r, const struct sbx_profile *c)
{
	for (size_t i = 0; i < c->net.n_listen; i++) {
		const struct sbx_port_range *o = &c->net.listen[i];

		if (r->lo >= o->lo && r->hi <= o->hi && (!o->proto || o->proto == r->proto))
			return true;
	}
	return false;
}

/* Decisions follow the most specific matching rule (compile.h): removing
 * an allow rule or adding a deny rule can only turn allowed into denied, so
 * next tightens when its allow entries are a subset of cur's and its deny
 * entries a superset. Mode none denies everything; full allows everything. */
static const char *net_loosens(const struct sbx_profile *c, const struct sbx_profile *n,
			       const char **item)
{
	if (n->net.mode != SBX_NET_NONE && c->net.mode != SBX_NET_FULL) {
		if (n->net.mode != c->net.mode)
			return "network.mode";
		for (size_t i = 0; i < n->net.n_entries; i++)
			if (!n->net.entries[i].deny && !has_entry(c, &n->net.entries[i])) {
				*item = n->net.entries[i].text;
				return "network.allow";
			}
		for (size_t i = 0; i < c->net.n_entries; i++)
			if (c->net.entries[i].deny && !has_entry(n, &c->net.entries[i])) {
				*item = c->net.entries[i].text;
				return "network.deny";
			}
	}
	for (size_t i = 0; i < n->net.n_listen; i++)
		if (!port_range_within(&n->net.listen[i], c))
			return "network.listen";
	if (n->net.raw_sockets && !c->net.raw_sockets)
		return "network.raw_sockets";
	if (!strv_has(c->net.unix_paths, c->net.n_unix, "*") &&
	    !strv_subset(n->net.unix_paths, n->net.n_unix, c->net.unix_paths, c->net.n_unix))
		return "network.unix";
	if (n->net.families & ~c->net.families)
		return "network.families";
	if (n->net.namespace != c->net.namespace && n->net.namespace != SBX_NETNS_PRIVATE)
		return "network.namespace";
	return NULL;
}

static uint32_t mode_access(enum sbx_fs_mode m)
{
	switch (m) {
	case SBX_FS_NONE:
		return 0;
	case SBX_FS_READ_ONLY:
		return SBX_ACC_R | SBX_ACC_X;
	default:
		return SBX_ACC_R | SBX_ACC_W | SBX_ACC_X;
	}
}

/* Whether rule path r covers path p: a directory rule its subtree (and the
 * directory itself, written with or without the '/'), a file rule itself. */
static bool covers(const struct sbx_fs_rule *r, const char *p)
{
	size_t n = strlen(r->path);

	if (!r->dir)
		return !strcmp(r->path, p);
	return !strncmp(r->path, p, n) || (strlen(p) == n - 1 && !strncmp(r->path, p, n - 1));
}

/* The access p gets under a profile: its longest covering rule, else the mode. */
static uint32_t fs_access(const struct sbx_profile *pr, const char *p)
{
	size_t best = 0;
	uint32_t acc = mode_access(pr->fs.mode);

	for (size_t i = 0; i < pr->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &pr->fs.rules[i];

		if (covers(r, p) && strlen(r->path) > best) {
			best = strlen(r->path);
			acc = r->access;
		}
	}
	return acc;
}

static bool exec_listed(const struct sbx_profile *pr, const char *p)
{
	for (size_t i = 0; i < pr->fs.n_exec; i++) {
		size_t n = strlen(pr->fs.exec[i]);

		if (!strcmp(pr->fs.exec[i], p) ||
		    (n && pr->fs.exec[i][n - 1] == '/' && !strncmp(pr->fs.exec[i], p, n)))
			return true;
	}
	return false;
}

/* The decision changes only at rule paths: where the longest covering rule
 * of either profile starts. Comparing the access at every rule path of both
 * (and the mode) therefore compares it everywhere. */
static const char *fs_loosens(const struct sbx_profile *c, const struct sbx_profile *n,
			      const char **item)
{
	if (c->fs.mode == SBX_FS_FULL)
		return NULL;
	if (n->fs.mode == SBX_FS_FULL || (mode_access(n->fs.mode) & ~mode_access(c->fs.mode)))
		return "fs.mode";
	for (size_t i = 0; i < n->fs.n_rules + c->fs.n_rules; i++) {
		const char *p = i < n->fs.n_rules ? n->fs.rules[i].path :
						    c->fs.rules[i - n->fs.n_rules].path;

		if (fs_access(n, p) & ~fs_access(c, p)) {
			*item = p;
			return "fs.rules";
		}
	}
	if (c->fs.n_exec && !n->fs.n_exec)
		return "fs.exec";
	for (size_t i = 0; c->fs.n_exec && i < n->fs.n_exec; i++)
		if (!exec_listed(c, n->fs.exec[i])) {
			*item = n->fs.exec[i];
			return "fs.exec";
		}
	return NULL;
}

static const char *seccomp_loosens(const struct sbx_profile *c, const struct sbx_profile *n)
{
	if (n->seccomp.preset < c->seccomp.preset || n->seccomp.action < c->seccomp.action)
		return "seccomp";
	if (!strv_subset(c->seccomp.deny, c->seccomp.n_deny, n->seccomp.deny, n->seccomp.n_deny))
		return "seccomp.deny";
	if (!strv_subset(n->seccomp.allow, n->seccomp.n_allow, c->seccomp.allow, c->seccomp.n_allow))
		return "seccomp.allow";
	return NULL;
}

/* Less audit hides what the sandbox does from its owner's admin: only root
 * may ask for it. Levels from least to most: none, deny, all. */
static const char *audit_loosens(const struct sbx_profile *c, const struct sbx_profile *n)
{
	static const int rank[] = { [SBX_AUDIT_NONE] = 0, [SBX_AUDIT_DENY] = 1, [SBX_AUDIT_ALL] = 2 };

	if (rank[n->audit] < rank[c->audit])
		return "audit";
	if (n->audit_rate < c->audit_rate || n->audit_burst < c->audit_burst ||
	    n->audit_deny_rate < c->audit_deny_rate || n->audit_deny_burst < c->audit_deny_burst)
		return "audit rate limits";
	return NULL;
}

/* What is neither stricter nor looser (who runs it, how): a change there is
 * not a tightening. */
static const char *identity_changes(const struct sbx_profile *c, const struct sbx_profile *n)
{
	if (!str_eq(c->provider, n->provider))
		return "provider";
	if (n->min_isolation < c->min_isolation ||
	    (n->min_isolation != c->min_isolation && c->min_isolation == SBX_ISO_WASM))
		return "isolation";
	if (!env_eq(c, n))
		return "env";
	if (!str_eq(c->cwd, n->cwd))
		return "cwd";
	if (!str_eq(c->user, n->user) || !str_eq(c->group, n->group))
		return "user/group";
	if (n->enforcement > c->enforcement)
		return "enforcement";
	if (!strv_subset(n->allow_users, n->n_allow_users, c->allow_users, c->n_allow_users) ||
	    !strv_subset(n->allow_groups, n->n_allow_groups, c->allow_groups, c->n_allow_groups))
		return "allow_users/allow_groups";
	if (!str_eq(c->net.veth_host, n->net.veth_host) ||
	    !str_eq(c->net.veth_sandbox, n->net.veth_sandbox))
		return "network.veth";
	return fixed_provider_field(c, n);
}

int sbx_profile_tightens(const struct sbx_profile *cur, const struct sbx_profile *next,
			 char *why, size_t len)
{
	const char *f, *item = NULL;

	if (limits_loosen(cur, next, why, len))
		return 0;
	f = net_loosens(cur, next, &item);
	if (!f)
		f = fs_loosens(cur, next, &item);
	if (!f)
		f = seccomp_loosens(cur, next);
	if (!f)
		f = audit_loosens(cur, next);
	if (!f)
		f = identity_changes(cur, next);
	if (!f)
		return 1;
	if (item && !strcmp(f, "network.deny")) {
		snprintf(why, len, "network.deny: the new profile drops %s, which profile '%s' denies",
			 item, cur->name ? cur->name : "?");
		return 0;
	}
	if (item) {
		snprintf(why, len, "%s: the new profile allows more at %s than profile '%s'", f, item,
			 cur->name ? cur->name : "?");
		return 0;
	}
	snprintf(why, len, "%s: the new profile %s what profile '%s' allows", f,
		 strcmp(f, "provider") && strcmp(f, "env") && strcmp(f, "cwd") &&
		 strcmp(f, "user/group") && strcmp(f, "network.veth") ? "loosens" : "changes",
		 cur->name ? cur->name : "?");
	return 0;
}

/* ---- the live update ---------------------------------------------------- */

/* Host-name entries, compared by position: the sandbox's resolver holds them
 * (and its pins name entries by index) from the sandbox's start. */
static bool same_names(const struct sbx_profile *a, const struct sbx_profile *b)
{
	for (size_t i = 0; i < a->net.n_entries || i < b->net.n_entries; i++) {
		const struct sbx_net_entry *x = i < a->net.n_entries ? &a->net.entries[i] : NULL;
		const struct sbx_net_entry *y = i < b->net.n_entries ? &b->net.entries[i] : NULL;
		bool xn = x && x->kind != SBX_NET_ENTRY_ADDR, yn = y && y->kind != SBX_NET_ENTRY_ADDR;

		if (xn != yn)
			return false;
		if (xn && (strcmp(x->text, y->text) || x->deny != y->deny))
			return false;
	}
	return a->net.mode == b->net.mode || (!sbx_dnsrun_needed(a, false) && !sbx_dnsrun_needed(b, false));
}

struct upd {
	const struct sbx_profile *cur, *next;
	struct sbx_bpf b;
	bool have_bpf;
	struct sbx_sandbox_info info;
	struct sbx_slot slot;
	uint32_t old_id, new_id;
	struct sbx_resolved rs;
	struct sbx_compiled comp;
	struct sbx_fsplan fs;
	bool have_fs;
	struct sbx_limits lim;
	struct sbx_limit_values before, after;
	bool change[SBX_LIMIT_N], applied[SBX_LIMIT_N];
	bool net, fsch;
	bool dns_aware;		/* the sandbox has a resolver (sbx_dns holds its slot) */
	char *why;
	size_t len;
};

/* The entries of one policy id in a map keyed by it: collected first, so
 * that inserting the copies cannot disturb the walk. id_off: where the id
 * sits in the key; be: stored big endian (the LPM tries). */
struct entries {
	uint8_t *keys, *vals;
	size_t n, cap;
};

static int collect(int fd, size_t ksz, size_t vsz, size_t id_off, bool be, uint32_t id,
		   struct entries *e)
{
	uint32_t want = be ? htobe32(id) : id;
	_cleanup_free_ uint8_t *key = calloc(1, ksz), *next = calloc(1, ksz);
	void *prev = NULL;

	if (!key || !next)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (memcmp(key + id_off, &want, 4))
			continue;
		if (e->n == e->cap) {
			size_t cap = e->cap ? e->cap * 2 : 16;
			uint8_t *k = realloc(e->keys, cap * ksz), *v;

			if (!k)
				return -ENOMEM;
			e->keys = k;
			v = realloc(e->vals, cap * vsz);
			if (!v)
				return -ENOMEM;
			e->vals = v;
			e->cap = cap;
		}
		if (bpf_map_lookup_elem(fd, key, e->vals + e->n * vsz))
			continue;	/* deleted meanwhile: not ours to copy */
		memcpy(e->keys + e->n * ksz, key, ksz);
		e->n++;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Copies every entry of policy id from to id to (same map). */
static int copy_entries(int fd, size_t ksz, size_t vsz, size_t id_off, bool be, uint32_t from,
			uint32_t to)
{
	struct entries e = {};
	uint32_t id = be ? htobe32(to) : to;
	int r = collect(fd, ksz, vsz, id_off, be, from, &e);

	for (size_t i = 0; r == 0 && i < e.n; i++) {
		uint8_t *k = e.keys + i * ksz;

		memcpy(k + id_off, &id, 4);
		if (bpf_map_update_elem(fd, k, e.vals + i * vsz, BPF_NOEXIST))
			r = -errno;
	}
	free(e.keys);
	free(e.vals);
	return r;
}

static int copy_elem(int fd, uint32_t from, uint32_t to, void *buf)
{
	if (bpf_map_lookup_elem(fd, &from, buf) || bpf_map_update_elem(fd, &to, buf, 0))
		return -errno;
	return 0;
}

/* fs entries of the new id: the old ones when fs does not change, else the
 * plan of next (BPF LSM only, checked in prepare_fs). sbx_fscfg last: it is
 * what turns enforcement on for the id. */
static int write_fs(struct upd *u)
{
	const size_t ksz = sizeof(struct sbx_path_key), vsz = sizeof(struct sbx_path_rule);
	struct sbx_fs_cfg cfg;
	int r;

	if (!u->fsch) {
		r = copy_entries(u->b.paths_fd, ksz, vsz, 4, true, u->old_id, u->new_id);
		if (!r)
			r = copy_entries(u->b.execs_fd, ksz, vsz, 4, true, u->old_id, u->new_id);
		if (!r)
			r = copy_entries(u->b.loaders_fd, sizeof(struct sbx_loader_key),
					 sizeof(struct sbx_loader), 0, false, u->old_id, u->new_id);
		return r ? r : copy_elem(u->b.fscfg_fd, u->old_id, u->new_id, &cfg);
	}
	for (size_t i = 0; i < u->fs.n; i++) {
		const struct sbx_fsplan_rule *ru = &u->fs.rules[i];
		struct sbx_path_rule v = { .access = ru->access, .rule = ru->rule, .flags = ru->flags };
		int fd = ru->flags & SBX_PRF_EXEC_LIST ? u->b.execs_fd : u->b.paths_fd;
		struct sbx_path_key k;

		sbx_fsplan_key(ru, u->new_id, &k);
		if (bpf_map_update_elem(fd, &k, &v, 0))
			return -errno;
	}
	return bpf_map_update_elem(u->b.fscfg_fd, &u->new_id, &u->fs.cfg, 0) ? -errno : 0;
}

/* The flags a provider added at start (core/sandbox.h
 * sbx_sandbox_add_policy_flags): those of the running config that cur's
 * own compile does not give, and the network namespace flags. */
static uint32_t provider_flags(const struct upd *u, const struct sbx_policy_cfg *old)
{
	struct sbx_compiled c = {};
	char err[64];
	uint32_t own = 0;

	if (sbx_compile(u->cur, NULL, 0, 0, &c, err, sizeof(err)) == 0)
		own = c.cfg.flags;
	sbx_compiled_free(&c);
	return (old->flags & ~own) | (old->flags & (SBX_POLF_NETNS_PRIVATE | SBX_POLF_OWN_NETNS));
}

static int write_maps(struct upd *u)
{
	struct sbx_syscall_set sys;
	struct sbx_policy_cfg old;
	int r;

	if (bpf_map_lookup_elem(u->b.policies_fd, &u->old_id, &old))
		return -errno;
	u->comp.cfg.flags |= provider_flags(u, &old);
	for (size_t i = 0; i < u->comp.n_v4; i++)
		if (bpf_map_update_elem(u->b.net4_fd, &u->comp.v4[i].key, &u->comp.v4[i].val, 0))
			return -errno;
	for (size_t i = 0; i < u->comp.n_v6; i++)
		if (bpf_map_update_elem(u->b.net6_fd, &u->comp.v6[i].key, &u->comp.v6[i].val, 0))
			return -errno;
	r = copy_elem(u->b.syscalls_fd, u->old_id, u->new_id, &sys);
	if (!r)
		r = write_fs(u);
	if (!r && bpf_map_update_elem(u->b.policies_fd, &u->new_id, &u->comp.cfg, 0))
		r = -errno;
	return r;
}

/* Returns once no program can still be running with what it read before:
 * the kernel waits for an RCU grace period when a map-in-map element is
 * written from user space, so the slot's ring is written again, unchanged. */
static void wait_programs(const struct upd *u)
{
	uint32_t id = 0;
	int fd;

	if (bpf_map_lookup_elem(u->b.rings_fd, &u->info.slot, &id) || !id)
		return;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return;
	bpf_map_update_elem(u->b.rings_fd, &u->info.slot, &fd, 0);
	close(fd);
}

static void restore_limits(struct upd *u)
{
	char ignore[256];

	for (int k = SBX_LIMIT_N - 1; k >= 0; k--)
		if (u->applied[k])
			sbx_limits_change(&u->lim, (enum sbx_limit_kind)k, &u->before, ignore,
					  sizeof(ignore));
}

static int apply_limits(struct upd *u)
{
	for (int k = 0; k < SBX_LIMIT_N; k++) {
		int r;

		if (!u->change[k])
			continue;
		r = sbx_limits_change(&u->lim, (enum sbx_limit_kind)k, &u->after, u->why, u->len);
		if (r < 0) {
			restore_limits(u);
			return r;
		}
		u->applied[k] = true;
	}
	return 0;
}

/* The slot must still be the sandbox the registry named (its manager may
 * have ended and the slot been reused since the lookup). */
static int check_slot(struct upd *u)
{
	uint64_t cg = 0;

	if (bpf_map_lookup_elem(u->b.slots_fd, &u->info.slot, &u->slot))
		return sbx_fail(u->why, u->len, -errno, "read slot %u: %s", u->info.slot,
				strerror(errno));
	if (!(u->slot.flags & SBX_SLOTF_ACTIVE) || u->slot.owner_pid != (uint64_t)u->info.owner_pid ||
	    sbx_cgroup_id(u->info.cgroup, &cg) < 0 || cg != u->slot.cgroup_id)
		return sbx_fail(u->why, u->len, -ENOENT, "sandbox %s has ended", u->info.id);
	u->old_id = u->slot.policy_id;
	if (u->old_id / 2 != u->info.slot)
		return sbx_fail(u->why, u->len, -EIO, "slot %u holds policy id %u, not its own",
				u->info.slot, u->old_id);
	u->new_id = u->old_id ^ 1;
	return 0;
}

/* An update that raises the audit level can make the sandbox need the
 * syscall tracepoints (core/trace.h): they are attached before the flip, and
 * s, the slot to be written, keeps the flag. */
static int trace_next(struct upd *u, struct sbx_slot *s)
{
	int r;

	if (s->flags & SBX_SLOTF_TRACE)
		return 0;
	r = sbx_trace_policy_needs(&u->b, u->new_id);
	if (r <= 0)
		return r < 0 ? sbx_fail(u->why, u->len, r, "read policy id %u: %s", u->new_id,
					strerror(-r)) : 0;
	r = sbx_trace_acquire_locked(&u->b, u->info.slot, NULL, u->why, u->len);
	if (r == 0)
		s->flags |= SBX_SLOTF_TRACE;
	return r;
}

static int flip(struct upd *u)
{
	struct sbx_slot s = u->slot;
	int r;

	sbx_sandbox_purge_policy(&u->b, u->new_id);	/* stale entries of a failed update */
	r = sbx_compile(u->next, u->rs.entries, u->rs.n, u->new_id, &u->comp, u->why, u->len);
	if (r < 0)
		return r;
	sbx_sandbox_remap_rules(&u->comp, &u->rs);
	r = write_maps(u);
	if (r < 0) {
		sbx_fail(u->why, u->len, r, "write policy id %u: %s", u->new_id, strerror(-r));
		goto undo_maps;
	}
	r = apply_limits(u);
	if (r < 0)
		goto undo_maps;
	r = trace_next(u, &s);
	if (r < 0) {
		restore_limits(u);
		goto undo_maps;
	}
	s.policy_id = u->new_id;
	s.flags |= SBX_SLOTF_UPDATED;
	if (bpf_map_update_elem(u->b.slots_fd, &u->info.slot, &s, BPF_EXIST)) {
		r = sbx_fail(u->why, u->len, -errno, "switch slot %u to policy id %u: %s",
			     u->info.slot, u->new_id, strerror(errno));
		restore_limits(u);
		goto undo_maps;
	}
	wait_programs(u);
	sbx_sandbox_purge_policy(&u->b, u->old_id);
	return 0;
undo_maps:
	sbx_sandbox_purge_policy(&u->b, u->new_id);
	return r;
}

static int locked_update(struct upd *u)
{
	int lock = sbx_instance_lock(&u->b.paths), r;

	if (lock < 0)
		return sbx_fail(u->why, u->len, lock, "lock %s: %s", u->b.paths.run_dir,
				strerror(-lock));
	r = check_slot(u);
	if (r == 0 && (u->net || u->fsch))
		r = flip(u);
	else if (r == 0)
		r = apply_limits(u);
	if (r == 0 && !(u->net || u->fsch))
		u->new_id = u->old_id;
	sbx_instance_unlock(lock);
	return r;
}

/* fs rules change only where BPF LSM enforces them on the host's own paths. */
static int prepare_fs(struct upd *u)
{
	struct sbx_fsplan_features ft = { .bpf_lsm = true, .provider = u->info.provider };
	struct sbx_fs_cfg cfg = {};
	uint32_t id = 0;
	struct sbx_slot s;

	if (bpf_map_lookup_elem(u->b.slots_fd, &u->info.slot, &s) == 0)
		id = s.policy_id;
	if (bpf_map_lookup_elem(u->b.fscfg_fd, &id, &cfg))
		return sbx_fail(u->why, u->len, -errno, "read sbx_fscfg: %s", strerror(errno));
	if (!(cfg.flags & SBX_FSF_ENFORCE))
		return sbx_fail(u->why, u->len, -EOPNOTSUPP,
				"fs rules of sandbox %s are enforced by %s cannot change from outside "
				"once the workload runs; restart the sandbox with the new profile to "
				"change them", u->info.id,
				cfg.flags & SBX_FSF_FULL ? "nothing (fs mode full): enforcing new ones "
				"would need Landlock or a mount view set up at start, and those" :
				"Landlock (this kernel runs no BPF LSM programs), whose rulesets");
	if (strcmp(u->info.provider, "host"))
		return sbx_fail(u->why, u->len, -EOPNOTSUPP,
				"fs rules of sandbox %s cannot change: provider %s built its "
				"filesystem view when the sandbox started", u->info.id,
				u->info.provider);
	u->have_fs = sbx_fsplan_make(u->next, &ft, &u->fs, u->why, u->len) == 0;
	if (!u->have_fs)
		return -EOPNOTSUPP;
	return 0;
}

static int prepare_limits(struct upd *u)
{
	struct sbx_usage use = {};
	int r = sbx_limits_open(&u->lim, u->b.paths.name, u->info.id, u->info.cgroup);

	if (r < 0)
		return sbx_fail(u->why, u->len, r, "find the cgroups of %s: %s", u->info.id,
				strerror(-r));
	r = sbx_limits_values(&u->lim, &u->before, u->why, u->len);
	if (r < 0)
		return r;
	u->after = u->before;
	u->change[SBX_LIMIT_MEMORY] = u->cur->memory_bytes != u->next->memory_bytes;
	u->change[SBX_LIMIT_CPU] = u->cur->cpu_milli != u->next->cpu_milli;
	u->change[SBX_LIMIT_PIDS] = u->cur->pids != u->next->pids;
	u->after.memory_bytes = u->next->memory_bytes;
	u->after.cpu_milli = u->next->cpu_milli;
	u->after.pids = u->next->pids;
	if (!u->change[SBX_LIMIT_MEMORY] || !u->next->memory_bytes)
		return 0;
	/* an update does not kill: refuse rather than OOM-kill (update.h) */
	if (sbx_limits_read(&u->lim, &use) == 0 && use.has_memory &&
	    use.memory_bytes > u->next->memory_bytes)
		return sbx_fail(u->why, u->len, -EBUSY,
				"memory: sandbox %s uses %llu bytes now, more than the new limit "
				"of %llu; an update does not kill the workload (stop it, or set a "
				"limit above its use)", u->info.id,
				(unsigned long long)use.memory_bytes,
				(unsigned long long)u->next->memory_bytes);
	return 0;
}

/* A live update keeps the host-name entries as they are: the resolver that
 * enforces them was started with the sandbox. */
static int names_unchanged(struct upd *u)
{
	struct sbx_dns_slot d = { 0 };
	uint32_t slot = u->info.slot;

	u->dns_aware = bpf_map_lookup_elem(u->b.dns_fd, &slot, &d) == 0 &&
		       (d.flags & SBX_DNSF_PINS);
	if (same_names(u->cur, u->next))
		return 0;
	return sbx_fail(u->why, u->len, -EOPNOTSUPP, "the update changes host-name entries of "
			"the network list (or the mode they are read in): the sandbox's DNS "
			"resolver holds them from its start, so they cannot change while it runs; "
			"start a new sandbox");
}

static int prepare(struct upd *u, const struct sbx_instance *in, const char *sandbox_id)
{
	int r = sbx_update_changeable(u->cur, u->next, u->why, u->len);

	if (r < 0)
		return r;
	r = sbx_sandbox_lookup(in, sandbox_id, &u->info);
	if (r < 0)
		return sbx_fail(u->why, u->len, r, r == -ENOTUNIQ ? "sandbox id %s is ambiguous" :
				"no running sandbox %s in instance %s", sandbox_id, in->name);
	r = sbx_bpf_adopt(&u->b, u->why, u->len);
	if (r < 0)
		return r;
	u->have_bpf = true;
	u->net = sbx_update_net_differs(u->cur, u->next);
	u->fsch = sbx_update_fs_differs(u->cur, u->next);
	if (u->fsch && (r = prepare_fs(u)) < 0)
		return r;
	r = names_unchanged(u);
	if (r < 0)
		return r;
	/* names resolve before the lock: DNS may take long */
	r = sbx_resolve(u->next, u->dns_aware, &u->rs, u->why, u->len);
	if (r < 0)
		return r;
	return prepare_limits(u);
}

int sbx_live_update(const struct sbx_instance *in, const char *sandbox_id,
		    const struct sbx_profile *cur, const struct sbx_profile *next,
		    struct sbx_update_report *rep, char *why, size_t len)
{
	struct upd *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	if (!in || !sandbox_id || !cur || !next || !rep) {
		free(u);
		return sbx_fail(why, len, -EINVAL, "live update: missing argument");
	}
	*u = (struct upd){ .cur = cur, .next = next, .why = why, .len = len };
	r = prepare(u, in, sandbox_id);
	if (r == 0)
		r = locked_update(u);
	if (r == 0) {
		*rep = (struct sbx_update_report){
			.slot = u->info.slot, .old_policy_id = u->old_id, .new_policy_id = u->new_id,
			.net_changed = u->net, .fs_changed = u->fsch,
			.limits_before = u->before, .limits_after = u->after,
		};
		for (int k = 0; k < SBX_LIMIT_N; k++)
			rep->limits_changed |= u->change[k];
		snprintf(rep->id, sizeof(rep->id), "%s", u->info.id);
	}
	sbx_compiled_free(&u->comp);
	sbx_resolved_free(&u->rs);
	if (u->have_fs)
		sbx_fsplan_free(&u->fs);
	if (u->have_bpf)
		sbx_bpf_close(&u->b);
	free(u);
	return r;
}
