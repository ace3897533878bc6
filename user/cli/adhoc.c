/* SPDX-License-Identifier: MIT */
/*
 * Ad-hoc sandboxes: the `sbx run` flags that build a profile (adhoc.h; the
 * rules for each flag are in docs/cli.md, "Ad-hoc sandboxes").
 *
 * Every value goes through the policy parsers (network entries, paths,
 * sizes, durations), and the profile built goes through the policy loader,
 * so a flag gets the checks and the messages that a policy file gets, with
 * the flag named instead of a file position.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/adhoc.h"
#include "cli/cli.h"
#include "core/fsplan.h"
#include "sbx_limits.h"

#define ADHOC_PROFILE "adhoc"
#define ADHOC_SOURCE "<command line>"

static int list_add(struct adhoc_list *l, const char *flag, const char *arg)
{
	if (l->n == ADHOC_MAX_ARGS)
		return log_error("too many --%s options (the limit is %d)", flag, ADHOC_MAX_ARGS);
	l->v[l->n++] = arg;
	return 1;
}

int adhoc_take(struct adhoc_args *a, int id, const char *arg)
{
	switch (id) {
	case ADHOC_OPT_NET: return list_add(&a->net, "net", arg);
	case ADHOC_OPT_ALLOW_HOST: return list_add(&a->allow_host, "allow-host", arg);
	case ADHOC_OPT_RO: return list_add(&a->ro, "ro", arg);
	case ADHOC_OPT_RW: return list_add(&a->rw, "rw", arg);
	case ADHOC_OPT_EXEC: return list_add(&a->exec, "exec", arg);
	case ADHOC_OPT_TIMEOUT: a->timeout = arg; return 1;
	case ADHOC_OPT_MEMORY: a->memory = arg; return 1;
	case ADHOC_OPT_CPU: a->cpu = arg; return 1;
	case ADHOC_OPT_PIDS: a->pids = arg; return 1;
	case ADHOC_OPT_PRINT: a->print_profile = true; return 1;
	case ADHOC_OPT_CWD: a->cwd = arg; return 1;
	}
	return 0;
}

/* A network, path, exec or --cwd flag: the profile is rebuilt and renamed. */
static bool builds_rules(const struct adhoc_args *a)
{
	return a->net.n || a->allow_host.n || a->ro.n || a->rw.n || a->exec.n || a->cwd;
}

bool adhoc_may_widen(const struct sbx_profile *base)
{
	bool builtin = base->pos.file && !strcmp(base->pos.file, SBX_BUILTIN_POLICY_NAME);

	return builtin || getuid() == 0;
}

static bool is_builtin(const struct sbx_profile *p)
{
	return p->pos.file && !strcmp(p->pos.file, SBX_BUILTIN_POLICY_NAME);
}

/*
 * A flag that would loosen base: refused unless widen, in which case root
 * is told (the built-in default is the caller's own starting point).
 * Returns 0 to go on, -EINVAL after the refusal.
 */
static int widening(const struct sbx_profile *base, bool widen, const char *flag, const char *what)
{
	if (!widen)
		return log_error("%s would widen profile '%s' (%s); command-line flags may only "
				 "tighten a profile from a policy file unless sbx runs as root",
				 flag, base->name, what);
	if (!is_builtin(base))
		log_warning("%s widens profile '%s' (%s), as root may", flag, base->name, what);
	return 0;
}

/* ---- limits -------------------------------------------------------------- */

static int limit(const struct sbx_profile *base, bool widen, const char *flag, const char *arg,
		 uint64_t *field, uint64_t v)
{
	static const struct { const char *flag, *unit; } units[] = {
		{ "timeout", " ms" }, { "memory", " bytes" }, { "cpu", " millicores" }, { "pids", "" },
	};
	char what[96], text[160];
	const char *unit = "";

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(units[i].flag, flag))
			unit = units[i].unit;
	if (*field && (v == 0 || v > *field)) {
		snprintf(what, sizeof(what), "its limit is %llu%s%s", (unsigned long long)*field, unit,
			 v ? "" : "; 0 is no limit");
		snprintf(text, sizeof(text), "--%s %s", flag, arg);
		if (widening(base, widen, text, what) < 0)
			return -EINVAL;
	}
	*field = v;
	return 0;
}

static int apply_limits(const struct adhoc_args *a, struct sbx_profile *p, bool widen)
{
	uint64_t v, cur;
	uint32_t m;
	char *end;

	if (a->timeout && sbx_parse_duration_ms(a->timeout, &v) < 0)
		return log_error("--timeout '%s': expected a duration such as 30s, 1m30s, 250ms", a->timeout);
	if (a->timeout && limit(p, widen, "timeout", a->timeout, &p->timeout_ms, v) < 0)
		return -EINVAL;
	if (a->memory && sbx_parse_size(a->memory, &v) < 0)
		return log_error("--memory '%s': expected a size such as 64M, 1G or bytes", a->memory);
	if (a->memory && limit(p, widen, "memory", a->memory, &p->memory_bytes, v) < 0)
		return -EINVAL;
	if (a->cpu) {
		if (sbx_parse_cpu_milli(a->cpu, &m) < 0)
			return log_error("--cpu '%s': expected a number of CPUs such as 0.5 or 2", a->cpu);
		cur = p->cpu_milli;
		if (limit(p, widen, "cpu", a->cpu, &cur, m) < 0)
			return -EINVAL;
		p->cpu_milli = (uint32_t)cur;
	}
	if (a->pids) {
		errno = 0;
		v = strtoull(a->pids, &end, 10);
		if (errno || *end || !v || v > 4194304 || a->pids[0] == '-')
			return log_error("--pids '%s': expected a number from 1 to 4194304", a->pids);
		cur = p->pids;
		if (limit(p, widen, "pids", a->pids, &cur, v) < 0)
			return -EINVAL;
		p->pids = (uint32_t)cur;
	}
	return 0;
}

/* ---- the profile being built ----------------------------------------------- */

/*
 * w starts as a shallow copy of the base; the arrays it gets instead of the
 * base's are owned here, and so are the strings of new entries and paths.
 * Elements copied from the base still point into the base.
 */
struct build {
	struct sbx_profile w;
	const struct sbx_profile *base;
	bool widen;
	struct sbx_net_entry *net_new;		/* parsed from the flags (owned strings) */
	size_t n_net_new;
	size_t n_from_net;			/* the first ones come from --net allow= */
	struct sbx_net_entry *net_all;		/* w.net.entries when replaced */
	struct sbx_fs_rule *rules;		/* w.fs.rules when replaced */
	char *paths[3 * ADHOC_MAX_ARGS];	/* resolved --ro/--rw/--exec paths */
	size_t n_paths;
	char **exec;				/* w.fs.exec when replaced */
	struct fs_flag {
		const char *path;		/* one of paths[] */
		const char *flag;		/* "ro" or "rw" */
	} fs_flags[2 * ADHOC_MAX_ARGS];
	size_t n_fs_flags;
};

static void build_free(struct build *b)
{
	for (size_t i = 0; i < b->n_net_new; i++)
		sbx_net_entry_clear(&b->net_new[i]);
	free(b->net_new);
	free(b->net_all);
	free(b->rules);
	for (size_t i = 0; i < b->n_paths; i++)
		free(b->paths[i]);
	free(b->exec);
}

/* ---- network ------------------------------------------------------------------ */

static int add_entry(struct build *b, const char *flag, const char *s, bool want_host)
{
	struct sbx_net_entry e, *v;
	char err[320];

	if (sbx_parse_net_entry(s, &e, err, sizeof(err)) < 0)
		return log_error("%s%s: %s", flag, s, err);
	if (want_host && e.kind == SBX_NET_ENTRY_ADDR) {
		sbx_net_entry_clear(&e);
		return log_error("--allow-host '%s' is an address, not a host name "
				 "(use --net allow=%s)", s, s);
	}
	if (want_host && e.kind == SBX_NET_ENTRY_GROUP) {
		sbx_net_entry_clear(&e);
		return log_error("--allow-host '%s' is an address group, not a host name "
				 "(use --net allow=%s)", s, s);
	}
	v = realloc(b->net_new, (b->n_net_new + 1) * sizeof(*v));
	if (!v) {
		sbx_net_entry_clear(&e);
		return -ENOMEM;
	}
	b->net_new = v;
	v[b->n_net_new++] = e;
	return 0;
}

static int parse_allow_list(struct build *b, const char *arg, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int r = 0, n = 0;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save), n++)
		r = add_entry(b, "--net allow=", t, false);
	free(copy);
	if (r == 0 && n == 0)
		r = log_error("--net '%s': no address after allow= (expected allow=ADDR[,ADDR...], "
			      "e.g. allow=127.0.0.1:8080,192.0.2.0/24:443/tcp)", arg);
	return r;
}

static int unknown_net_mode(const char *arg)
{
	static const char *const modes[] = { "none", "host", "allow" };
	size_t n = strcspn(arg, "=");
	char word[32];
	const char *close;

	snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), arg);
	if (!strcmp(word, "full"))
		return log_error("--net '%s': unknown mode (mode full is --net host)", arg);
	if (!strcmp(word, "allow"))
		return log_error("--net '%s': allow needs addresses (did you mean allow=ADDR[,ADDR...]?)",
				 arg);
	close = cli_closest(word, modes, 3);
	if (close)
		return log_error("--net '%s': unknown mode '%s' (did you mean %s%s?)", arg, word, close,
				 strcmp(close, "allow") ? "" : "=");
	return log_error("--net '%s': unknown mode '%s' (expected none, host or "
			 "allow=ADDR[,ADDR...])", arg, word);
}

/* --net values: one of none and host, or any number of allow= lists. */
static int parse_net(struct build *b, const struct adhoc_args *a, enum sbx_net_mode *ret_mode)
{
	const char *fixed = NULL;
	int r;

	*ret_mode = SBX_NET_ALLOW;
	for (size_t i = 0; i < a->net.n; i++) {
		const char *s = a->net.v[i];

		if (!strcmp(s, "none") || !strcmp(s, "host")) {
			if (fixed && strcmp(fixed, s))
				return log_error("--net %s and --net %s conflict", fixed, s);
			fixed = s;
		} else if (!strncmp(s, "allow=", 6)) {
			r = parse_allow_list(b, s, s + 6);
			if (r < 0)
				return r;
		} else {
			return unknown_net_mode(s);
		}
	}
	b->n_from_net = b->n_net_new;
	for (size_t i = 0; i < a->allow_host.n; i++) {
		r = add_entry(b, "--allow-host ", a->allow_host.v[i], true);
		if (r < 0)
			return r;
	}
	if (fixed && b->n_net_new)
		return log_error("--net %s conflicts with %s", fixed,
				 a->allow_host.n ? "--allow-host" : "--net allow=");
	if (fixed)
		*ret_mode = !strcmp(fixed, "none") ? SBX_NET_NONE : SBX_NET_FULL;
	return 0;
}

static bool prefix_equal(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(x, y, bytes))
		return false;
	return !rest || ((x[bytes] ^ y[bytes]) >> (8 - rest)) == 0;
}

/* "*.example.org" covers "a.example.org" and "*.a.example.org". */
static bool wildcard_covers(const char *wild, const char *host)
{
	size_t lw = strlen(wild + 1), lh = strlen(host);
	const char *h = host[0] == '*' ? host + 1 : host;

	lh = strlen(h);
	return lh > lw && !strcmp(h + lh - lw, wild + 1);
}

/* Whether every destination of e is also one of a (same family, address and
 * port ranges inside a's, protocol a's or any; a group covers only itself). */
static bool entry_covers(const struct sbx_net_entry *a, const struct sbx_net_entry *e)
{
	if (a->port_lo > e->port_lo || a->port_hi < e->port_hi)
		return false;
	if (a->proto != SBX_PROTO_ANY && a->proto != e->proto)
		return false;
	if (a->kind == SBX_NET_ENTRY_ADDR)
		return e->kind == SBX_NET_ENTRY_ADDR && a->family == e->family &&
		       a->prefix_len <= e->prefix_len && prefix_equal(a->addr, e->addr, a->prefix_len);
	if (a->kind == SBX_NET_ENTRY_GROUP || e->kind == SBX_NET_ENTRY_GROUP)
		return a->kind == e->kind && a->group == e->group;
	if (a->kind == SBX_NET_ENTRY_HOST)
		return e->kind == SBX_NET_ENTRY_HOST && !strcmp(a->host, e->host);
	return e->kind != SBX_NET_ENTRY_ADDR && wildcard_covers(a->host, e->host);
}

/* Whether e and d may share a destination; a host name may resolve to any
 * address, so a name and an address may always overlap. */
static bool entry_overlaps(const struct sbx_net_entry *d, const struct sbx_net_entry *e)
{
	unsigned bits;

	if (d->port_lo > e->port_hi || e->port_lo > d->port_hi)
		return false;
	if (d->proto != SBX_PROTO_ANY && e->proto != SBX_PROTO_ANY && d->proto != e->proto)
		return false;
	/* a group is many prefixes and a name may resolve into any of them */
	if (d->kind == SBX_NET_ENTRY_GROUP || e->kind == SBX_NET_ENTRY_GROUP)
		return true;
	if (d->kind != SBX_NET_ENTRY_ADDR || e->kind != SBX_NET_ENTRY_ADDR)
		return d->kind == SBX_NET_ENTRY_ADDR || e->kind == SBX_NET_ENTRY_ADDR ||
		       entry_covers(d, e) || entry_covers(e, d);
	bits = d->prefix_len < e->prefix_len ? d->prefix_len : e->prefix_len;
	return d->family == e->family && prefix_equal(d->addr, e->addr, bits);
}

/* Whether the base already lets the sandbox reach every destination of e. */
static bool base_allows(const struct sbx_profile *base, const struct sbx_net_entry *e)
{
	bool inside = base->net.mode == SBX_NET_FULL || base->net.mode == SBX_NET_DENY;

	if (base->net.mode == SBX_NET_NONE)
		return false;
	for (size_t i = 0; i < base->net.n_entries; i++) {
		const struct sbx_net_entry *x = &base->net.entries[i];

		if (x->deny && entry_overlaps(x, e))
			return false;
		if (!x->deny && base->net.mode == SBX_NET_ALLOW && entry_covers(x, e))
			inside = true;
	}
	return inside;
}

/* The allow list of the flags replaces the base's; the base's deny entries
 * stay, so that its carve-outs still hold. */
static int build_allow(struct build *b)
{
	const struct sbx_profile *base = b->base;
	size_t n = 0;

	for (size_t i = 0; i < b->n_net_new; i++) {
		char what[96], text[600];

		if (base_allows(base, &b->net_new[i]))
			continue;
		snprintf(what, sizeof(what), "its network mode is %s%s", sbx_net_mode_name(base->net.mode),
			 base->net.mode == SBX_NET_NONE ? "" : " and its entries do not allow all of that");
		snprintf(text, sizeof(text), "%s%s", i < b->n_from_net ? "--net allow=" : "--allow-host ",
			 b->net_new[i].text);
		if (widening(base, b->widen, text, what) < 0)
			return -EINVAL;
	}
	b->net_all = calloc(b->n_net_new + base->net.n_entries + 1, sizeof(*b->net_all));
	if (!b->net_all)
		return -ENOMEM;
	for (size_t i = 0; i < b->n_net_new; i++)
		b->net_all[n++] = b->net_new[i];
	for (size_t i = 0; base->net.mode != SBX_NET_FULL && i < base->net.n_entries; i++)
		if (base->net.entries[i].deny)
			b->net_all[n++] = base->net.entries[i];
	b->w.net.mode = SBX_NET_ALLOW;
	b->w.net.entries = b->net_all;
	b->w.net.n_entries = n;
	return 0;
}

static int build_net(struct build *b, const struct adhoc_args *a)
{
	enum sbx_net_mode mode;
	int r = parse_net(b, a, &mode);

	if (r < 0 || (!a->net.n && !a->allow_host.n))
		return r;
	if (mode == SBX_NET_ALLOW)
		return build_allow(b);
	if (mode == SBX_NET_FULL && b->base->net.mode != SBX_NET_FULL &&
	    widening(b->base, b->widen, "--net host", "its network mode is not full") < 0)
		return -EINVAL;
	b->w.net.mode = mode;
	b->w.net.entries = NULL;
	b->w.net.n_entries = 0;
	if (mode == SBX_NET_NONE) {
		/* what the loader refuses without a network */
		b->w.net.n_listen = 0;
		b->w.net.raw_sockets = false;
		b->w.net.veth_host = b->w.net.veth_sandbox = NULL;
	}
	return 0;
}

/* ---- paths ------------------------------------------------------------------------ */

/* A program name without '/' is looked up in $PATH, as the shell would. */
static int search_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		if (n && (size_t)snprintf(buf, len, "%.*s/%s", (int)n, p, name) < len &&
		    access(buf, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -ENOENT;
}

/* The real path of arg (what sbx judges: symlinks resolved), with a '/'
 * after a directory, checked like a policy path. */
static int resolve_path(struct build *b, const char *flag, const char *arg, char **ret)
{
	char found[PATH_MAX], real[PATH_MAX], err[320];
	const char *src = arg;
	struct stat st;
	size_t n;

	if (!strcmp(flag, "exec") && !strchr(arg, '/')) {
		if (search_path(arg, found, sizeof(found)) < 0)
			return log_error("--exec '%s': not found in $PATH", arg);
		src = found;
	}
	if (!realpath(src, real) || stat(real, &st) < 0) {
		log_error_errno(-errno, "--%s '%s': %m", flag, arg);
		return -EINVAL;		/* a usage error, whatever the cause */
	}
	n = strlen(real);
	if (S_ISDIR(st.st_mode) && real[n - 1] != '/') {
		if (n + 1 >= sizeof(real))
			return log_error("--%s '%s': path too long", flag, arg);
		real[n++] = '/';
		real[n] = '\0';
	}
	if (sbx_check_path(real, SBX_MAX_PATH_LEN, true, err, sizeof(err)) < 0)
		return log_error("--%s '%s': %s", flag, arg, err);
	if (b->n_paths == sizeof(b->paths) / sizeof(b->paths[0]))
		return log_error("too many path flags");
	*ret = b->paths[b->n_paths++] = strdup(real);
	return *ret ? 0 : -ENOMEM;
}

/* ---- filesystem ------------------------------------------------------------------ */

/* What base gives path, decided by the one longest match of sbx (core/fsplan.c)
 * as the BPF LSM backend would, which expresses every rule. The base view of
 * mode none does not count: a rule binds the host's path over the private
 * one (a private /tmp is not the host's /tmp). A plan that cannot be made
 * gives nothing, so the flag counts as widening. */
static uint32_t base_access(const struct sbx_fsplan *pl, bool ok, const char *path)
{
	static const uint32_t bits[] = { SBX_ACC_R, SBX_ACC_W, SBX_ACC_X };
	uint32_t acc = 0, rule;

	_Static_assert(SBX_ACC_R == SBX_FACC_R && SBX_ACC_W == SBX_FACC_W && SBX_ACC_X == SBX_FACC_X,
		       "policy access bits are the ABI's");
	for (size_t i = 0; ok && i < sizeof(bits) / sizeof(bits[0]); i++)
		if (sbx_fsplan_decide(pl, path, bits[i], &rule) && rule != SBX_RULE_BASE)
			acc |= bits[i];
	return acc;
}

static struct sbx_fs_rule *find_rule(struct sbx_fs_rule *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].path, path))
			return &v[i];
	return NULL;
}

/* --ro gives read, --rw read and write; execute stays as the base has it
 * at that path (exec is --exec's business). */
static int add_rule(struct build *b, const struct sbx_fsplan *pl, bool pl_ok, const char *flag,
		    const char *arg, uint32_t want)
{
	struct sbx_fs_rule *r;
	uint32_t had, acc;
	char *path, a1[8], a2[8], what[PATH_MAX + 64], text[PATH_MAX + 16];
	int e = resolve_path(b, flag, arg, &path);

	if (e < 0)
		return e;
	for (size_t i = 0; i < b->n_fs_flags; i++) {
		if (strcmp(b->fs_flags[i].path, path))
			continue;
		if (!strcmp(b->fs_flags[i].flag, flag))
			return 0;	/* the same grant twice */
		return log_error("--%s and --%s both name '%s'", b->fs_flags[i].flag, flag, path);
	}
	b->fs_flags[b->n_fs_flags++] = (struct fs_flag){ path, flag };
	had = base_access(pl, pl_ok, path);
	acc = want | (had & SBX_ACC_X);
	if ((acc & ~had) != 0) {
		sbx_access_str(had, a1);
		sbx_access_str(acc, a2);
		snprintf(what, sizeof(what), "it gives '%s' access '%s'; --%s asks '%s'", path, a1, flag, a2);
		snprintf(text, sizeof(text), "--%s %s", flag, arg);
		if (widening(b->base, b->widen, text, what) < 0)
			return -EINVAL;
	}
	r = find_rule(b->rules, b->w.fs.n_rules, path);
	if (!r)
		r = &b->rules[b->w.fs.n_rules++];
	*r = (struct sbx_fs_rule){ .path = path, .dir = path[strlen(path) - 1] == '/', .access = acc };
	return 0;
}

static int build_fs(struct build *b, const struct adhoc_args *a)
{
	const struct sbx_fsplan_features ft = { .bpf_lsm = true, .provider = "bpf-lsm" };
	const struct sbx_profile *base = b->base;
	struct sbx_fsplan pl = { 0 };
	char why[512];
	bool ok;
	int r = 0;

	if (!a->ro.n && !a->rw.n)
		return 0;
	if (base->fs.n_rules + a->ro.n + a->rw.n > SBX_MAX_PATH_RULES)
		return log_error("too many fs rules with --ro and --rw (the limit is %d)",
				 SBX_MAX_PATH_RULES);
	b->rules = calloc(base->fs.n_rules + a->ro.n + a->rw.n, sizeof(*b->rules));
	if (!b->rules)
		return -ENOMEM;
	if (base->fs.n_rules)
		memcpy(b->rules, base->fs.rules, base->fs.n_rules * sizeof(*b->rules));
	b->w.fs.rules = b->rules;
	ok = sbx_fsplan_make(base, &ft, &pl, why, sizeof(why)) == 0;
	for (size_t i = 0; r == 0 && i < a->rw.n; i++)
		r = add_rule(b, &pl, ok, "rw", a->rw.v[i], SBX_ACC_R | SBX_ACC_W);
	for (size_t i = 0; r == 0 && i < a->ro.n; i++)
		r = add_rule(b, &pl, ok, "ro", a->ro.v[i], SBX_ACC_R);
	if (ok)
		sbx_fsplan_free(&pl);
	return r;
}

/* ---- exec ------------------------------------------------------------------------ */

static bool exec_covered(const struct sbx_profile *base, const char *path)
{
	for (size_t i = 0; i < base->fs.n_exec; i++) {
		const char *x = base->fs.exec[i];
		size_t n = strlen(x);

		if (x[n - 1] == '/' ? !strncmp(path, x, n) : !strcmp(path, x))
			return true;
	}
	return false;
}

/* The --exec paths replace the base's exec list; with no list in the base,
 * any list tightens it. */
static int build_exec(struct build *b, const struct adhoc_args *a)
{
	size_t n = 0;
	char *path;
	int r;

	if (!a->exec.n)
		return 0;
	b->exec = calloc(a->exec.n, sizeof(*b->exec));
	if (!b->exec)
		return -ENOMEM;
	for (size_t i = 0; i < a->exec.n; i++) {
		bool dup = false;

		r = resolve_path(b, "exec", a->exec.v[i], &path);
		if (r < 0)
			return r;
		if (b->base->fs.n_exec && !exec_covered(b->base, path)) {
			char text[PATH_MAX + 16];

			snprintf(text, sizeof(text), "--exec %s", path);
			if (widening(b->base, b->widen, text, "its exec list does not hold it") < 0)
				return -EINVAL;
		}
		for (size_t j = 0; j < n; j++)
			dup |= !strcmp(b->exec[j], path);
		if (!dup)
			b->exec[n++] = path;
	}
	b->w.fs.exec = b->exec;
	b->w.fs.n_exec = n;
	return 0;
}

/* --cwd: a directory, by its real path as the sandbox sees it (the
 * profile's cwd has no trailing '/'). Where the workload starts is not a
 * permission, so any profile takes it. */
static int build_cwd(struct build *b, const struct adhoc_args *a)
{
	char *path;
	size_t n;
	int r;

	if (!a->cwd)
		return 0;
	r = resolve_path(b, "cwd", a->cwd, &path);
	if (r < 0)
		return r;
	n = strlen(path);
	if (path[n - 1] != '/')
		return log_error("--cwd '%s': not a directory", a->cwd);
	if (n > 1)
		path[n - 1] = '\0';
	b->w.cwd = path;
	return 0;
}

/* ---- rebuild through the loader ---------------------------------------------------- */

/* Diagnostics of the rebuilt profile: the flags were checked one by one, so
 * what is left is a combination the loader refuses; its message says what. */
static int report(const struct sbx_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		log_error("the profile built from the command line: %s", d->v[i].msg);
	return -EINVAL;
}

static int reload(const struct sbx_profile *w, struct adhoc_profile *ret)
{
	struct sbx_diags diags = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -errno;
	r = sbx_profile_write_toml(w, f);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0) {
		r = sbx_policy_load_buffer(ADHOC_SOURCE, text, len, NULL, &ret->pol, &diags);
		if (r == -EINVAL)
			report(&diags);
		else if (r < 0)
			log_error_errno(r, "building the profile: %m");
	}
	sbx_diags_free(&diags);
	free(text);
	if (r < 0)
		return r;
	ret->p = &ret->pol->profiles[0];
	return 0;
}

int adhoc_build(const struct adhoc_args *a, const struct sbx_profile *base, bool widen,
		struct adhoc_profile *ret)
{
	struct build b = { .w = *base, .base = base, .widen = widen };
	char name[] = ADHOC_PROFILE;
	int r;

	*ret = (struct adhoc_profile){ .copy = *base };
	ret->p = &ret->copy;
	r = apply_limits(a, &ret->copy, widen);
	if (r < 0 || (!builds_rules(a) && !a->print_profile))
		return r;
	b.w = ret->copy;
	if (builds_rules(a) && is_builtin(base))
		b.w.name = name;
	if (a->provider)
		b.w.provider = (char *)a->provider;
	r = build_net(&b, a);
	if (r == 0)
		r = build_fs(&b, a);
	if (r == 0)
		r = build_exec(&b, a);
	if (r == 0)
		r = build_cwd(&b, a);
	if (r == 0)
		r = reload(&b.w, ret);
	build_free(&b);
	if (r == -ENOMEM)
		log_error_errno(r, "building the profile: %m");
	return r;
}

void adhoc_profile_free(struct adhoc_profile *ap)
{
	ap->pol = sbx_policy_free(ap->pol);
	ap->p = NULL;
}
