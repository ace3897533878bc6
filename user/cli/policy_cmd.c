/* SPDX-License-Identifier: MIT */
/* The `sbx policy` verbs: check, show and convert. The JSON shapes are in docs/cli.md. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/policy_source.h"
#include "core/enforce.h"
#include "core/fsplan.h"
#include "util/json.h"
#include "policy.h"
#include "provider.h"
#include "sbx_abi.h"

enum { OPT_ENV = 1, OPT_PROFILE };

static const struct cli_option check_opts[] = {
	{ "env", 0, true, OPT_ENV, CLI_ARG_NONE },
	{ 0 }
};

static const struct cli_option show_opts[] = {
	{ "env", 0, true, OPT_ENV, CLI_ARG_NONE },
	{ "profile", 0, true, OPT_PROFILE, CLI_ARG_PROFILE },
	{ 0 }
};

/* A growable list of owned strings. */
struct strv {
	char **v;
	size_t n;
};

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool strv_contains(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

/* Adds str unless already present. Returns 0 or -ENOMEM. */
static int strv_add_unique(struct strv *s, const char *str)
{
	char **v, *dup;

	if (strv_contains(s, str))
		return 0;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	dup = strdup(str);
	if (!dup)
		return -ENOMEM;
	s->v[s->n++] = dup;
	return 0;
}

/* --env wins over $SBX_ENV; an empty value means no overlay. */
static const char *resolve_env(const char *flag)
{
	const char *e = flag ? flag : getenv("SBX_ENV");

	return e && *e ? e : NULL;
}

static int is_toml(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && d->d_type != DT_DIR && n > 5 &&
	       strcmp(d->d_name + n - 5, ".toml") == 0;
}

/* Byte order, as the loader sorts, whatever the locale. */
static int byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * The files a PATH stands for, named as the loader names them (a directory's
 * *.toml files in byte order). Used only to count and list the files of a
 * failed load, which leaves no sbx_policy behind to ask.
 */
static int expand_path(const char *path, struct strv *out)
{
	struct dirent **ents = NULL;
	size_t len = strlen(path);
	const char *sep = len && path[len - 1] == '/' ? "" : "/";
	struct stat st;
	int n, r = 0;

	if (strcmp(path, "-") == 0)
		return strv_add_unique(out, "<stdin>");	/* as the loader names it */
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return strv_add_unique(out, path);
	n = scandir(path, &ents, is_toml, byte_order);
	for (int i = 0; i < n; i++) {
		char *file = NULL;

		if (r == 0 && asprintf(&file, "%s%s%s", path, sep, ents[i]->d_name) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = strv_add_unique(out, file);
		free(file);
		free(ents[i]);
	}
	free(ents);
	return r;
}

/* "file:line:col", "file:line" or "file" into buf; NULL when there is no file. */
static const char *fmt_pos(const char *file, uint32_t line, uint32_t col, char *buf, size_t len)
{
	if (!file)
		return NULL;
	if (line && col)
		snprintf(buf, len, "%s:%u:%u", file, line, col);
	else if (line)
		snprintf(buf, len, "%s:%u", file, line);
	else
		snprintf(buf, len, "%s", file);
	return buf;
}

static const char *fmt_srcpos(const struct sbx_srcpos *p, char *buf, size_t len)
{
	return fmt_pos(p->file, p->line, p->col, buf, len);
}

static void print_diags(const struct sbx_diags *d)
{
	char pos[4096];

	fflush(stdout);
	for (size_t i = 0; i < d->n; i++) {
		const struct sbx_diag *g = &d->v[i];

		if (g->file)
			fprintf(stderr, "%s: error: %s\n",
				fmt_pos(g->file, g->line, g->col, pos, sizeof(pos)), g->msg);
		else
			fprintf(stderr, "sbx: error: %s\n", g->msg);
	}
}

static void json_pos_number(struct json_writer *w, const char *key, uint32_t v)
{
	if (v)
		json_kv_uint(w, key, v);
	else
		json_kv_null(w, key);
}

/* "errors": [{"file", "line", "col", "message"}, ...] */
static void json_diags(struct json_writer *w, const struct sbx_diags *d)
{
	json_key(w, "errors");
	json_begin_array(w);
	for (size_t i = 0; i < d->n; i++) {
		json_begin_object(w);
		json_kv_string(w, "file", d->v[i].file);
		json_pos_number(w, "line", d->v[i].line);
		json_pos_number(w, "col", d->v[i].col);
		json_kv_string(w, "message", d->v[i].msg);
		json_end_object(w);
	}
	json_end_array(w);
}

static void json_strings(struct json_writer *w, const char *key, char *const *v, size_t n)
{
	json_key(w, key);
	json_begin_array(w);
	for (size_t i = 0; i < n; i++)
		json_string(w, v[i]);
	json_end_array(w);
}

/* ---- policy check ------------------------------------------------------- */

struct check_result {
	const char *env;
	const struct sbx_policy *policy;	/* NULL when the load failed */
	bool refused;				/* loaded, but sbx run would refuse some of it */
	struct sbx_diags diags;
	struct strv files;			/* every file checked */
	struct strv invalid;			/* files with at least one error */
};

/* Fills files and invalid from the loaded policy or, failing that, from PATHs and diags. */
static int check_collect_files(struct check_result *c, char *const *paths, size_t n)
{
	int r = 0;

	if (c->policy)
		for (size_t i = 0; r == 0 && i < c->policy->n_files; i++)
			r = strv_add_unique(&c->files, c->policy->files[i]);
	for (size_t i = 0; !c->policy && r == 0 && i < n; i++)
		r = expand_path(paths[i], &c->files);
	/* a problem of the whole policy (an unknown --env) makes no file invalid */
	for (size_t i = 0; r == 0 && i < c->diags.n; i++)
		if (c->diags.v[i].file && strv_contains(&c->files, c->diags.v[i].file))
			r = strv_add_unique(&c->invalid, c->diags.v[i].file);
	return r;
}

/* Adds a problem at pos to the list (the loader's list: same shape, same output). */
static int add_diag(struct sbx_diags *d, const struct sbx_srcpos *pos, const char *msg)
{
	struct sbx_diag *v = realloc(d->v, (d->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	d->v = v;
	v[d->n] = (struct sbx_diag){ .file = strdup(pos->file ? pos->file : "<policy>"),
				     .line = pos->line, .col = pos->col, .msg = strdup(msg) };
	if (!v[d->n].file || !v[d->n].msg) {
		free(v[d->n].file);
		free(v[d->n].msg);
		return -ENOMEM;
	}
	d->n++;
	return 0;
}

/* What the profile's own provider (not "auto": that is chosen at run time)
 * refuses of it, by the enforcement table sbx run consults (core/enforce.c),
 * assuming a kernel with a filesystem backend and unix socket hooks (or BPF
 * LSM) as auto does: the kernel is the run's to probe. Returns the number of refusals, or -errno. */
static int provider_refusals(const struct sbx_profile *p, struct sbx_diags *d)
{
	struct sbx_enforce_features f = { .fs_backend = SBX_FSB_LANDLOCK, .landlock = true,
					  .unix_hooks = true, .unix_peer = true };
	struct sbx_enforce_report rep;
	char why[512];
	int r, n = 0;

	if (!p->provider || !strcmp(p->provider, "auto"))
		return 0;
	r = sbx_enforceability(p, p->provider, &f, &rep, why, sizeof(why));
	if (r < 0)
		return r == -ENOMEM ? r : add_diag(d, &p->pos, why) < 0 ? -ENOMEM : 1;
	for (size_t i = 0; i < rep.n && n >= 0; i++)
		if (rep.v[i].refuse)
			n = add_diag(d, &rep.v[i].pos, rep.v[i].msg) < 0 ? -ENOMEM : n + 1;
	sbx_enforce_report_free(&rep);
	return n;
}

/* The fs rules no plan takes (core/fsplan.h), as sbx run refuses them: over
 * what a view provides itself (the profile's provider builds a view; "auto"
 * picks one that does), or through a symlink on this host. Returns the
 * number of refusals, or -ENOMEM. */
static int fs_rule_refusals(const struct sbx_profile *p, struct sbx_diags *d)
{
	const struct sbx_provider *pv = p->provider ? sbx_provider_find(p->provider) : NULL;
	bool view = !pv || pv->level >= SBX_ISO_PROCESS;
	char msg[1024];
	int n = 0;

	for (size_t i = 0; sbx_fsplan_rule_refusal(p, view, &i, msg, sizeof(msg)) == 0; i++, n++)
		if (add_diag(d, &p->fs.rules[i].pos, msg) < 0)
			return -ENOMEM;
	return n;
}

/* What `sbx run` would refuse of a valid profile whatever the host, decided by
 * the same functions as there, so that both say the same at the same place.
 * Returns the number of refusals found, or -ENOMEM. */
static int check_refusals(const struct sbx_policy *pol, struct sbx_diags *d)
{
	int n = 0, r;

	for (size_t i = 0; i < pol->n_profiles; i++) {
		const struct sbx_profile *p = &pol->profiles[i];

		/* host names: the enforcement table says where a resolver reaches */
		r = provider_refusals(p, d);
		if (r < 0)
			return r;
		n += r;
		r = fs_rule_refusals(p, d);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void check_report_text(const struct check_result *c)
{
	print_diags(&c->diags);
	fprintf(stderr, "%zu %s checked, %zu invalid, %zu %s\n",
		c->files.n, plural(c->files.n, "file", "files"), c->invalid.n,
		c->diags.n, plural(c->diags.n, "error", "errors"));
}

static int check_report_json(const struct check_result *c)
{
	const struct sbx_policy *p = c->policy;
	struct json_writer w;

	cli_json_begin(&w);
	json_begin_object(&w);
	json_kv_bool(&w, "ok", p != NULL && !c->refused);
	json_kv_string(&w, "env", c->env);
	json_strings(&w, "files", c->files.v, c->files.n);
	json_key(&w, "profiles");
	json_begin_array(&w);
	for (size_t i = 0; p && i < p->n_profiles; i++)
		json_string(&w, p->profiles[i].name);
	json_end_array(&w);
	json_diags(&w, &c->diags);
	json_key(&w, "summary");
	json_begin_object(&w);
	json_kv_uint(&w, "files", c->files.n);
	json_kv_uint(&w, "invalid", c->invalid.n);
	json_kv_uint(&w, "errors", c->diags.n);
	json_end_object(&w);
	json_end_object(&w);
	return cli_json_end(&w);
}

static int check_run(const struct cli_verb *self, int argc, char **argv)
{
	struct check_result c = { 0 };
	struct sbx_policy *p = NULL;
	bool ok;
	const char *env_flag = NULL;
	struct cli_parser a;
	int r;

	cli_parser_init(&a, self, argc, argv);
	while ((r = cli_next_option(&a)) > 0)
		env_flag = a.arg;	/* OPT_ENV is the only option */
	if (r < 0)
		return cli_parse_exit(r);
	if (a.n_args == 0)
		return cli_usage(self, "missing PATH (a policy file or directory)");

	c.env = resolve_env(env_flag);
	r = sbx_policy_load((const char *const *)a.args, (size_t)a.n_args, c.env, &p, &c.diags);
	if (r < 0 && r != -EINVAL) {
		sbx_diags_free(&c.diags);
		log_error_errno(r, "loading policy: %m");
		return SBX_EXIT_FAILURE;
	}
	r = p ? check_refusals(p, &c.diags) : 0;
	if (r < 0) {
		sbx_diags_free(&c.diags);
		sbx_policy_free(p);
		log_error_errno(r, "checking policy: %m");
		return SBX_EXIT_FAILURE;
	}
	c.policy = p;
	c.refused = r > 0;
	ok = p != NULL && !c.refused;
	r = check_collect_files(&c, a.args, (size_t)a.n_args);
	if (r < 0)
		log_error_errno(r, "listing policy files: %m");
	else if (cli_opts.json)
		r = check_report_json(&c);
	else
		check_report_text(&c);
	strv_free(&c.files);
	strv_free(&c.invalid);
	sbx_diags_free(&c.diags);
	sbx_policy_free(p);
	return r < 0 || !ok ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

/* ---- policy show: human-readable output --------------------------------- */

#define VALUE_COL 20	/* column where values start in human output */

/* "  key:          value"; key NULL continues the previous key's list. */
static void __attribute__((format(printf, 4, 5)))
kv(FILE *f, int indent, const char *key, const char *fmt, ...)
{
	int used = indent + (key ? (int)strlen(key) + 1 : 0);
	va_list ap;

	fprintf(f, "%*s%s%s%*s", indent, "", key ? key : "", key ? ":" : "",
		used < VALUE_COL ? VALUE_COL - used : 1, "");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* 90000 -> "1m30s", 250 -> "250ms". */
static const char *fmt_duration(uint64_t ms, const char *zero, char *buf, size_t len)
{
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};
	size_t off = 0;

	if (ms == 0)
		return zero;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && off < len; i++)
		if (ms >= units[i].ms) {
			off += (size_t)snprintf(buf + off, len - off, "%llu%s",
						(unsigned long long)(ms / units[i].ms), units[i].unit);
			ms %= units[i].ms;
		}
	return buf;
}

/* The largest binary unit that divides the size exactly: "256 MiB", "1000 B". */
/* 10000000 -> "10Mbit/s" (the largest exact decimal unit). */
static const char *fmt_rate(uint64_t bps, char *buf, size_t len)
{
	static const char *const units[] = { "bit", "kbit", "Mbit", "Gbit" };
	int u = 0;

	if (!bps)
		return "unlimited";
	while (u < 3 && bps % 1000 == 0) {
		bps /= 1000;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%s/s", bps, units[u]);
	return buf;
}

static const char *fmt_size(uint64_t bytes, const char *zero, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;

	if (bytes == 0)
		return zero;
	while (u < 6 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)bytes, units[u]);
	return buf;
}

static const char *fmt_count(uint32_t v, const char *zero, char *buf, size_t len)
{
	if (v == 0)
		return zero;
	snprintf(buf, len, "%u", v);
	return buf;
}

static void show_cpus_text(FILE *f, const struct sbx_profile *p)
{
	char cpus[4096];

	sbx_cpus_format(p->cpus, cpus, sizeof(cpus));
	kv(f, 2, "cpus", "%s", cpus[0] ? cpus : "all");
	if (p->cpu_weight)
		kv(f, 2, "cpu weight", "%u", p->cpu_weight);
	else
		kv(f, 2, "cpu weight", "default (100)");
}

static void show_limits_text(FILE *f, const struct sbx_profile *p)
{
	char buf[64];

	kv(f, 2, "timeout", "%s", fmt_duration(p->timeout_ms, "none", buf, sizeof(buf)));
	kv(f, 2, "memory", "%s", fmt_size(p->memory_bytes, "unlimited", buf, sizeof(buf)));
	if (p->cpu_milli)
		kv(f, 2, "cpu", "%g", p->cpu_milli / 1000.0);
	else
		kv(f, 2, "cpu", "unlimited");
	show_cpus_text(f, p);
	kv(f, 2, "pids", "%s", fmt_count(p->pids, "unlimited", buf, sizeof(buf)));
	kv(f, 2, "open files", "%s", fmt_count(p->nofile, "inherit", buf, sizeof(buf)));
	kv(f, 2, "file size", "%s", fmt_size(p->fsize, "inherit", buf, sizeof(buf)));
	kv(f, 2, "disk", "%s", fmt_size(p->disk_bytes, "unbounded", buf, sizeof(buf)));
	kv(f, 2, "network bytes", "%s", fmt_size(p->net_bytes, "unlimited", buf, sizeof(buf)));
	kv(f, 2, "egress rate", "%s", fmt_rate(p->egress_rate, buf, sizeof(buf)));
	kv(f, 2, "ingress rate", "%s", fmt_rate(p->ingress_rate, buf, sizeof(buf)));
	if (p->egress_rate || p->ingress_rate)
		kv(f, 2, "rate burst", "%s", fmt_size(p->rate_burst, "default", buf, sizeof(buf)));
}

static void show_list_text(FILE *f, int indent, const char *key, char *const *v, size_t n)
{
	if (n == 0)
		kv(f, indent, key, "(none)");
	for (size_t i = 0; i < n; i++)
		kv(f, indent, i ? NULL : key, "%s", v[i]);
}

/* The namespace as written, and what "auto" stands for. */
static void show_netns_text(FILE *f, const struct sbx_profile *p)
{
	bool private = p->net.namespace == SBX_NETNS_PRIVATE ||
		       (p->net.namespace == SBX_NETNS_AUTO && p->net.mode == SBX_NET_NONE);

	if (p->net.namespace == SBX_NETNS_AUTO)
		kv(f, 4, "namespace", "auto (%s)", private ? "private" : "host");
	else
		kv(f, 4, "namespace", "%s", sbx_netns_name(p->net.namespace));
	if (p->net.veth_host && p->net.veth_sandbox)
		kv(f, 4, "veth", "host %s, sandbox %s", p->net.veth_host, p->net.veth_sandbox);
	else if (private && p->net.mode != SBX_NET_NONE)
		kv(f, 4, "veth", "(a /30 from 10.200.0.0/16)");
	else
		kv(f, 4, "veth", "(none)");
}

/* Only where names are judged: modes allow and deny. */
static void show_dns_text(FILE *f, const struct sbx_profile *p)
{
	char a[64];

	if (p->net.mode != SBX_NET_ALLOW && p->net.mode != SBX_NET_DENY)
		return;
	if (!p->net.dns.n_upstream)
		kv(f, 4, "dns upstream", "(the host's /etc/resolv.conf)");
	for (size_t i = 0; i < p->net.dns.n_upstream; i++) {
		sbx_dns_server_format(&p->net.dns.upstream[i], a, sizeof(a));
		kv(f, 4, i ? NULL : "dns upstream", "%s", a);
	}
	kv(f, 4, "dns pins", "max(TTL, %" PRIu32 "s) + %" PRIu32 "s", p->net.dns.ttl_floor_s,
	   p->net.dns.grace_s);
	kv(f, 4, "dns refusal", "%s", p->net.dns.nxdomain ? "nxdomain" : "refused");
}

static void show_net_text(FILE *f, const struct sbx_profile *p)
{
	char src[4096];

	fprintf(f, "  network:\n");
	kv(f, 4, "mode", "%s", sbx_net_mode_name(p->net.mode));
	show_netns_text(f, p);
	kv(f, 4, "raw sockets", "%s", p->net.raw_sockets ? "allowed" : "denied");
	if (!p->net.n_unix)
		kv(f, 4, "unix", "%s", "no host socket");
	for (size_t i = 0; i < p->net.n_unix; i++)
		kv(f, 4, "unix", "%s", p->net.unix_paths[i]);
	for (unsigned af = 0; af < SBX_FAMILY_MAX; af++)
		if ((p->net.families & (1ULL << af)) && sbx_family_name(af))
			kv(f, 4, "family", "%s", sbx_family_name(af));
	for (size_t i = 0; i < p->net.n_entries; i++) {
		const struct sbx_net_entry *e = &p->net.entries[i];
		const char *s = fmt_srcpos(&e->pos, src, sizeof(src));

		if (s)
			kv(f, 4, e->deny ? "deny" : "allow", "%-32s  (%s)", e->text, s);
		else
			kv(f, 4, e->deny ? "deny" : "allow", "%s", e->text);
	}
	show_dns_text(f, p);
	for (size_t i = 0; i < p->net.n_listen; i++) {
		const struct sbx_port_range *l = &p->net.listen[i];

		if (l->lo == l->hi)
			kv(f, 4, "listen", "%u/%s", l->lo, sbx_proto_name(l->proto));
		else
			kv(f, 4, "listen", "%u-%u/%s", l->lo, l->hi, sbx_proto_name(l->proto));
	}
}

static void show_fs_text(FILE *f, const struct sbx_profile *p)
{
	char src[4096], acc[8];

	fprintf(f, "  filesystem:\n");
	kv(f, 4, "mode", "%s", sbx_fs_mode_name(p->fs.mode));
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];
		const char *s = fmt_srcpos(&r->pos, src, sizeof(src));

		sbx_access_str(r->access, acc);
		if (s)
			kv(f, 4, "path", "%-5s %-26s  (%s)", acc, r->path, s);
		else
			kv(f, 4, "path", "%-5s %s", acc, r->path);
	}
	show_list_text(f, 4, "exec", p->fs.exec, p->fs.n_exec);
}

static void show_seccomp_text(FILE *f, const struct sbx_profile *p)
{
	fprintf(f, "  seccomp:\n");
	kv(f, 4, "preset", "%s", sbx_seccomp_preset_name(p->seccomp.preset));
	kv(f, 4, "action", "%s", sbx_seccomp_action_name(p->seccomp.action));
	show_list_text(f, 4, "deny", p->seccomp.deny, p->seccomp.n_deny);
	show_list_text(f, 4, "allow", p->seccomp.allow, p->seccomp.n_allow);
}

/* A mock output as a quoted, escaped excerpt: "hello\n" or "abc..." (2000 bytes). */
static const char *fmt_text(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), o = 0, i;

	o += (size_t)snprintf(buf + o, len - o, "\"");
	/* 48 bytes, and the rest of a UTF-8 character cut there */
	for (i = 0; i < n && (i < 48 || ((unsigned char)s[i] & 0xc0) == 0x80) && o + 8 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (ch == '\t')
			o += (size_t)snprintf(buf + o, len - o, "\\t");
		else if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	if (i < n)
		snprintf(buf + o, len - o, "...\" (%zu bytes)", n);
	else
		snprintf(buf + o, len - o, "\"");
	return buf;
}

/* The section header of a provider table, noting when the profile's
 * provider does not use it (a table inherited from [defaults], say). */
static void provider_header(FILE *f, const struct sbx_profile *p, const char *name)
{
	const char *prov = p->provider ? p->provider : "auto";

	if (strcmp(prov, "auto") == 0 || strcmp(prov, name) == 0)
		fprintf(f, "  %s:\n", name);
	else
		fprintf(f, "  %s:  (not used: the provider is %s)\n", name, prov);
}

/* One section per provider table that sets anything; nothing otherwise. */
static void show_providers_text(FILE *f, const struct sbx_profile *p)
{
	char buf[256];

	if (p->mock.exit_code || p->mock.stdout_text || p->mock.stderr_text || p->mock.duration_ms ||
	    p->mock.fail) {
		provider_header(f, p, "mock");
		kv(f, 4, "exit code", "%d", p->mock.exit_code);
		kv(f, 4, "stdout", "%s", p->mock.stdout_text ? fmt_text(p->mock.stdout_text, buf, sizeof(buf)) :
								  "(none)");
		kv(f, 4, "stderr", "%s", p->mock.stderr_text ? fmt_text(p->mock.stderr_text, buf, sizeof(buf)) :
								  "(none)");
		kv(f, 4, "duration", "%s", fmt_duration(p->mock.duration_ms, "0", buf, sizeof(buf)));
		kv(f, 4, "fail", "%s", p->mock.fail ? p->mock.fail : "(none)");
	}
	if (p->gvisor.platform || p->gvisor.runsc) {
		provider_header(f, p, "gvisor");
		kv(f, 4, "platform", "%s", p->gvisor.platform ? p->gvisor.platform : "systrap (default)");
		kv(f, 4, "runsc", "%s", p->gvisor.runsc ? p->gvisor.runsc : "(from $PATH)");
	}
	if (p->wasm.runtime) {
		provider_header(f, p, "wasm");
		kv(f, 4, "runtime", "%s", p->wasm.runtime);
	}
	if (p->microvm.backend || p->microvm.kernel || p->microvm.initrd || p->microvm.firecracker ||
	    p->microvm.jailer) {
		provider_header(f, p, "microvm");
		kv(f, 4, "backend", "%s", p->microvm.backend ? p->microvm.backend : "qemu (default)");
		kv(f, 4, "kernel", "%s", p->microvm.kernel ? p->microvm.kernel : "(sbx configuration)");
		kv(f, 4, "initrd", "%s", p->microvm.initrd ? p->microvm.initrd : "(sbx configuration)");
		kv(f, 4, "firecracker", "%s", p->microvm.firecracker ? p->microvm.firecracker : "(from $PATH)");
		kv(f, 4, "jailer", "%s", p->microvm.jailer ? p->microvm.jailer : "(none)");
	}
	if (p->unikernel.image || p->unikernel.qemu || p->unikernel.machine || p->unikernel.cmdline) {
		provider_header(f, p, "unikernel");
		kv(f, 4, "image", "%s", p->unikernel.image ? p->unikernel.image : "(the command's argv[0])");
		kv(f, 4, "qemu", "%s", p->unikernel.qemu ? p->unikernel.qemu : "(from $PATH)");
		kv(f, 4, "machine", "%s", p->unikernel.machine ? p->unikernel.machine : "microvm (default)");
		kv(f, 4, "cmdline", "%s", p->unikernel.cmdline ? p->unikernel.cmdline : "(none)");
	}
}

static void show_profile_text(FILE *f, const struct sbx_profile *p)
{
	char src[4096];

	if (fmt_srcpos(&p->pos, src, sizeof(src)))
		fprintf(f, "profile %s  (%s)\n", p->name, src);
	else
		fprintf(f, "profile %s\n", p->name);
	kv(f, 2, "provider", "%s", p->provider ? p->provider : "auto");
	kv(f, 2, "min isolation", "%s", sbx_isolation_name(p->min_isolation));
	show_limits_text(f, p);
	if (p->n_env == 0)
		kv(f, 2, "env", "(none)");
	for (size_t i = 0; i < p->n_env; i++)
		kv(f, 2, i ? NULL : "env", "%s=%s", p->env[i].name, p->env[i].value);
	kv(f, 2, "cwd", "%s", p->cwd ? p->cwd : "(default)");
	kv(f, 2, "user", "%s", p->user ? p->user : "(default)");
	kv(f, 2, "group", "%s", p->group ? p->group : "(default)");
	kv(f, 2, "audit", "%s", sbx_audit_name(p->audit));
	kv(f, 2, "audit limits", "%" PRIu32 "/s (burst %" PRIu32 "), denials %" PRIu32 "/s (burst %" PRIu32 ")",
	   p->audit_rate, p->audit_burst, p->audit_deny_rate, p->audit_deny_burst);
	kv(f, 2, "enforcement", "%s", sbx_enforcement_name(p->enforcement));
	show_list_text(f, 2, "allow users", p->allow_users, p->n_allow_users);
	show_list_text(f, 2, "allow groups", p->allow_groups, p->n_allow_groups);
	show_net_text(f, p);
	show_fs_text(f, p);
	show_seccomp_text(f, p);
	show_providers_text(f, p);
}

static void show_text(const struct sbx_policy *pol, const struct sbx_profile *const *sel, size_t n)
{
	kv(stdout, 0, "env", "%s", pol->env ? pol->env : "(none)");
	for (size_t i = 0; i < pol->n_files; i++)
		kv(stdout, 0, i ? NULL : "files", "%s", pol->files[i]);
	for (size_t i = 0; i < n; i++) {
		fputc('\n', stdout);
		show_profile_text(stdout, sel[i]);
	}
}

/* ---- policy show: JSON output ------------------------------------------- */

static void json_kv_source(struct json_writer *w, const struct sbx_srcpos *pos)
{
	char buf[4096];

	json_kv_string(w, "source", fmt_srcpos(pos, buf, sizeof(buf)));
}

/* 0 means "no limit" in the model; null says so without a magic number. */
static void json_kv_limit(struct json_writer *w, const char *key, uint64_t v)
{
	if (v)
		json_kv_uint(w, key, v);
	else
		json_kv_null(w, key);
}

static void json_ports(struct json_writer *w, uint16_t lo, uint16_t hi)
{
	json_key(w, "ports");
	json_begin_object(w);
	json_kv_uint(w, "lo", lo);
	json_kv_uint(w, "hi", hi);
	json_end_object(w);
}

static void json_net_entry(struct json_writer *w, const struct sbx_net_entry *e)
{
	static const char *const kinds[] = {
		[SBX_NET_ENTRY_ADDR] = "addr", [SBX_NET_ENTRY_HOST] = "host",
		[SBX_NET_ENTRY_WILDCARD] = "wildcard", [SBX_NET_ENTRY_GROUP] = "group",
	};
	bool addr = e->kind == SBX_NET_ENTRY_ADDR;
	bool v6 = e->family == AF_INET6;
	char ip[INET6_ADDRSTRLEN] = "";

	if (addr)
		inet_ntop(v6 ? AF_INET6 : AF_INET, e->addr, ip, sizeof(ip));
	json_begin_object(w);
	json_kv_string(w, "action", e->deny ? "deny" : "allow");
	json_kv_string(w, "kind", (unsigned)e->kind < sizeof(kinds) / sizeof(kinds[0]) ?
				  kinds[e->kind] : "unknown");
	json_kv_string(w, "family", addr ? (v6 ? "ipv6" : "ipv4") : NULL);
	json_key(w, "cidr");
	if (addr)
		json_stringf(w, "%s/%u", ip, e->prefix_len);
	else
		json_null(w);
	json_kv_string(w, "host", e->host);
	json_kv_string(w, "group", e->kind == SBX_NET_ENTRY_GROUP ? sbx_group_name(e->group) : NULL);
	json_ports(w, e->port_lo, e->port_hi);
	json_kv_string(w, "proto", sbx_proto_name(e->proto));
	json_kv_string(w, "text", e->text);
	json_kv_source(w, &e->pos);
	json_end_object(w);
}

/* The resolver's settings, defaults included: upstream [] = the host's
 * /etc/resolv.conf at run time. */
static void json_dns(struct json_writer *w, const struct sbx_profile *p)
{
	char a[64];

	json_key(w, "dns");
	json_begin_object(w);
	json_key(w, "upstream");
	json_begin_array(w);
	for (size_t i = 0; i < p->net.dns.n_upstream; i++) {
		sbx_dns_server_format(&p->net.dns.upstream[i], a, sizeof(a));
		json_string(w, a);
	}
	json_end_array(w);
	json_kv_uint(w, "ttl_floor_s", p->net.dns.ttl_floor_s);
	json_kv_uint(w, "grace_s", p->net.dns.grace_s);
	json_kv_string(w, "refuse", p->net.dns.nxdomain ? "nxdomain" : "refused");
	json_end_object(w);
}

static void json_network(struct json_writer *w, const struct sbx_profile *p)
{
	json_key(w, "network");
	json_begin_object(w);
	json_kv_string(w, "mode", sbx_net_mode_name(p->net.mode));
	json_kv_bool(w, "raw_sockets", p->net.raw_sockets);
	json_key(w, "unix");
	json_begin_array(w);
	for (size_t i = 0; i < p->net.n_unix; i++)
		json_string(w, p->net.unix_paths[i]);
	json_end_array(w);
	json_key(w, "families");
	json_begin_array(w);
	for (unsigned af = 0; af < SBX_FAMILY_MAX; af++)
		if ((p->net.families & (1ULL << af)) && sbx_family_name(af))
			json_string(w, sbx_family_name(af));
	json_end_array(w);
	json_kv_string(w, "namespace", sbx_netns_name(p->net.namespace));
	json_key(w, "veth");
	if (p->net.veth_host && p->net.veth_sandbox) {
		json_begin_object(w);
		json_kv_string(w, "host", p->net.veth_host);
		json_kv_string(w, "sandbox", p->net.veth_sandbox);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_key(w, "entries");
	json_begin_array(w);
	for (size_t i = 0; i < p->net.n_entries; i++)
		json_net_entry(w, &p->net.entries[i]);
	json_end_array(w);
	json_dns(w, p);
	json_key(w, "listen");
	json_begin_array(w);
	for (size_t i = 0; i < p->net.n_listen; i++) {
		json_begin_object(w);
		json_ports(w, p->net.listen[i].lo, p->net.listen[i].hi);
		json_kv_string(w, "proto", sbx_proto_name(p->net.listen[i].proto));
		json_kv_source(w, &p->net.listen[i].pos);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

static void json_filesystem(struct json_writer *w, const struct sbx_profile *p)
{
	char acc[8];

	json_key(w, "filesystem");
	json_begin_object(w);
	json_kv_string(w, "mode", sbx_fs_mode_name(p->fs.mode));
	json_key(w, "rules");
	json_begin_array(w);
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];

		sbx_access_str(r->access, acc);
		json_begin_object(w);
		json_kv_string(w, "path", r->path);
		json_kv_bool(w, "dir", r->dir);
		json_kv_string(w, "access", acc);
		json_kv_source(w, &r->pos);
		json_end_object(w);
	}
	json_end_array(w);
	json_strings(w, "exec", p->fs.exec, p->fs.n_exec);
	json_end_object(w);
}

static void json_seccomp(struct json_writer *w, const struct sbx_profile *p)
{
	json_key(w, "seccomp");
	json_begin_object(w);
	json_kv_string(w, "preset", sbx_seccomp_preset_name(p->seccomp.preset));
	json_kv_string(w, "action", sbx_seccomp_action_name(p->seccomp.action));
	json_strings(w, "deny", p->seccomp.deny, p->seccomp.n_deny);
	json_strings(w, "allow", p->seccomp.allow, p->seccomp.n_allow);
	json_end_object(w);
}

/* "providers": {"mock": {...}, "gvisor": {...}, "wasm": {...}, "microvm": {...},
 * "unikernel": {...}},
 * every key present; null where the profile leaves the provider's default. */
static void json_providers(struct json_writer *w, const struct sbx_profile *p)
{
	json_key(w, "providers");
	json_begin_object(w);
	json_key(w, "mock");
	json_begin_object(w);
	json_kv_int(w, "exit_code", p->mock.exit_code);
	json_kv_string(w, "stdout", p->mock.stdout_text);
	json_kv_string(w, "stderr", p->mock.stderr_text);
	json_kv_uint(w, "duration_ms", p->mock.duration_ms);
	json_kv_string(w, "fail", p->mock.fail);
	json_end_object(w);
	json_key(w, "gvisor");
	json_begin_object(w);
	json_kv_string(w, "platform", p->gvisor.platform);
	json_kv_string(w, "runsc", p->gvisor.runsc);
	json_end_object(w);
	json_key(w, "wasm");
	json_begin_object(w);
	json_kv_string(w, "runtime", p->wasm.runtime);
	json_end_object(w);
	json_key(w, "microvm");
	json_begin_object(w);
	json_kv_string(w, "backend", p->microvm.backend);
	json_kv_string(w, "kernel", p->microvm.kernel);
	json_kv_string(w, "initrd", p->microvm.initrd);
	json_kv_string(w, "firecracker", p->microvm.firecracker);
	json_kv_string(w, "jailer", p->microvm.jailer);
	json_end_object(w);
	json_key(w, "unikernel");
	json_begin_object(w);
	json_kv_string(w, "image", p->unikernel.image);
	json_kv_string(w, "qemu", p->unikernel.qemu);
	json_kv_string(w, "machine", p->unikernel.machine);
	json_kv_string(w, "cmdline", p->unikernel.cmdline);
	json_end_object(w);
	json_end_object(w);
}

/* "cpus": "0-1,4" or null (no pinning); "cpu_weight": N or null (100). */
static void json_cpus(struct json_writer *w, const struct sbx_profile *p)
{
	char cpus[4096];

	sbx_cpus_format(p->cpus, cpus, sizeof(cpus));
	if (cpus[0])
		json_kv_string(w, "cpus", cpus);
	else
		json_kv_null(w, "cpus");
	json_kv_limit(w, "cpu_weight", p->cpu_weight);
}

static void json_limits(struct json_writer *w, const struct sbx_profile *p)
{
	json_key(w, "limits");
	json_begin_object(w);
	json_kv_limit(w, "timeout_ms", p->timeout_ms);
	json_kv_limit(w, "memory_bytes", p->memory_bytes);
	if (p->cpu_milli)
		json_kv_double(w, "cpu", p->cpu_milli / 1000.0);
	else
		json_kv_null(w, "cpu");
	json_cpus(w, p);
	json_kv_limit(w, "pids", p->pids);
	json_kv_limit(w, "nofile", p->nofile);
	json_kv_limit(w, "net_bytes", p->net_bytes);
	json_kv_limit(w, "fsize_bytes", p->fsize);
	json_kv_limit(w, "disk_bytes", p->disk_bytes);
	json_kv_limit(w, "egress_rate_bps", p->egress_rate);
	json_kv_limit(w, "ingress_rate_bps", p->ingress_rate);
	json_kv_limit(w, "rate_burst_bytes", p->rate_burst);
	json_end_object(w);
}

static void json_profile(struct json_writer *w, const struct sbx_profile *p)
{
	json_begin_object(w);
	json_kv_string(w, "name", p->name);
	json_kv_source(w, &p->pos);
	json_kv_string(w, "provider", p->provider ? p->provider : "auto");
	json_kv_string(w, "min_isolation", sbx_isolation_name(p->min_isolation));
	json_limits(w, p);
	json_key(w, "env");
	json_begin_object(w);
	for (size_t i = 0; i < p->n_env; i++)
		json_kv_string(w, p->env[i].name, p->env[i].value);
	json_end_object(w);
	json_kv_string(w, "cwd", p->cwd);
	json_kv_string(w, "user", p->user);
	json_kv_string(w, "group", p->group);
	json_kv_string(w, "audit", sbx_audit_name(p->audit));
	json_kv_uint(w, "audit_rate", p->audit_rate);
	json_kv_uint(w, "audit_burst", p->audit_burst);
	json_kv_uint(w, "audit_deny_rate", p->audit_deny_rate);
	json_kv_uint(w, "audit_deny_burst", p->audit_deny_burst);
	json_kv_string(w, "enforcement", sbx_enforcement_name(p->enforcement));
	json_strings(w, "allow_users", p->allow_users, p->n_allow_users);
	json_strings(w, "allow_groups", p->allow_groups, p->n_allow_groups);
	json_network(w, p);
	json_filesystem(w, p);
	json_seccomp(w, p);
	json_providers(w, p);
	json_end_object(w);
}

static int show_json(const struct sbx_policy *pol, const struct sbx_profile *const *sel, size_t n)
{
	struct json_writer w;

	cli_json_begin(&w);
	json_begin_object(&w);
	json_kv_string(&w, "env", pol->env);
	json_strings(&w, "files", pol->files, pol->n_files);
	json_key(&w, "profiles");
	json_begin_array(&w);
	for (size_t i = 0; i < n; i++)
		json_profile(&w, sel[i]);
	json_end_array(&w);
	json_end_object(&w);
	return cli_json_end(&w);
}

/* ---- policy show: the verb ---------------------------------------------- */

static int report_invalid(const struct sbx_diags *d)
{
	struct json_writer w;

	if (!cli_opts.json) {
		print_diags(d);
		return log_error("invalid policy (%zu %s); nothing to show",
				 d->n, plural(d->n, "error", "errors"));
	}
	cli_json_begin(&w);
	json_begin_object(&w);
	json_key(&w, "error");
	json_stringf(&w, "invalid policy (%zu %s)", d->n, plural(d->n, "error", "errors"));
	json_diags(&w, d);
	json_end_object(&w);
	cli_json_end(&w);
	return -EINVAL;
}

#define LIST_MAX 50	/* profile names listed in an error */

static int report_unknown_profile(const struct sbx_policy *pol, const char *name)
{
	const char *cands[LIST_MAX], *close;
	size_t n = pol->n_profiles < LIST_MAX ? pol->n_profiles : LIST_MAX;
	char list[LIST_MAX * 64] = "", hint[256] = "";
	struct json_writer w;

	for (size_t i = 0, off = 0; i < n; i++) {
		cands[i] = pol->profiles[i].name;
		if (off < sizeof(list))
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? ", " : "", cands[i]);
	}
	close = cli_closest(name, cands, n);
	if (close)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", close);
	if (!cli_opts.json)
		return log_error("unknown profile '%s'%s; available: %s%s", name, hint,
				 n ? list : "(none)", pol->n_profiles > n ? ", ..." : "");
	cli_json_begin(&w);
	json_begin_object(&w);
	json_key(&w, "error");
	json_stringf(&w, "unknown profile '%s'%s", name, hint);
	json_key(&w, "available");
	json_begin_array(&w);
	for (size_t i = 0; i < pol->n_profiles; i++)
		json_string(&w, pol->profiles[i].name);
	json_end_array(&w);
	json_end_object(&w);
	cli_json_end(&w);
	return -ENOENT;
}

/* The profiles named by --profile, in that order, or all of them (with the
 * built-in "default" when no PATH was given and no source replaces it). */
static int show_policy(const struct cli_policy *cp, char *const *names, size_t n_names,
		       bool with_builtin)
{
	const struct sbx_policy *pol = cp->pol ? cp->pol : cp->builtin;
	const struct sbx_profile **sel;
	size_t n = n_names ? n_names : pol->n_profiles;
	int r = 0;

	with_builtin = with_builtin && cp->pol && !sbx_policy_find(cp->pol, SBX_DEFAULT_PROFILE);
	sel = calloc(n + 1, sizeof(*sel));
	if (!sel)
		return log_error_errno(-ENOMEM, "%m");
	for (size_t i = 0; i < n && r == 0; i++) {
		sel[i] = n_names ? cli_policy_find(cp, names[i]) : &pol->profiles[i];
		if (!sel[i])
			r = report_unknown_profile(pol, names[i]);
	}
	if (!n_names && with_builtin)
		sel[n++] = sbx_policy_find(cp->builtin, SBX_DEFAULT_PROFILE);
	if (r == 0 && cli_opts.json)
		r = show_json(pol, sel, n);
	else if (r == 0)
		show_text(pol, sel, n);
	free(sel);
	return r;
}

static int show_run(const struct cli_verb *self, int argc, char **argv)
{
	struct sbx_diags diags = { 0 };
	struct cli_policy cp = { 0 };
	const char *env_flag = NULL;
	struct strv names = { 0 };
	struct cli_parser a;
	int r;

	cli_parser_init(&a, self, argc, argv);
	while ((r = cli_next_option(&a)) > 0) {
		if (r == OPT_ENV)
			env_flag = a.arg;
		else if (strv_add_unique(&names, a.arg) < 0)
			break;
	}
	if (r != 0) {
		strv_free(&names);
		if (r > 0) {
			log_error_errno(-ENOMEM, "%m");
			return SBX_EXIT_FAILURE;
		}
		return cli_parse_exit(r);
	}
	r = cli_policy_load((const char *const *)a.args, (size_t)a.n_args, resolve_env(env_flag), &cp,
			    &diags);
	if (r == -EINVAL)
		report_invalid(&diags);
	else if (r < 0)
		log_error_errno(r, "loading policy: %m");
	else
		r = show_policy(&cp, names.v, names.n, a.n_args == 0);
	strv_free(&names);
	sbx_diags_free(&diags);
	cli_policy_free(&cp);
	return r < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

/* ---- policy convert ------------------------------------------------------ */

/* The native TOML of every profile, as one string (for --json). */
static int convert_to_string(const struct sbx_policy *pol, char **ret)
{
	size_t len = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -errno;
	r = sbx_policy_write_toml(pol, f);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

static int convert_json(const struct sbx_policy *pol)
{
	struct json_writer w;
	char *toml = NULL;
	int r = convert_to_string(pol, &toml);

	if (r < 0)
		return log_error_errno(r, "converting: %m");
	cli_json_begin(&w);
	json_begin_object(&w);
	json_strings(&w, "files", pol->files, pol->n_files);
	json_kv_string(&w, "toml", toml);
	json_end_object(&w);
	free(toml);
	return cli_json_end(&w);
}

/* Only files in the seeds' dialect are converted: a native file would come
 * back without its [env.*] overlays, which the resolved profiles no longer
 * hold. */
static int convert_policy(const struct sbx_policy *pol)
{
	int r;

	for (size_t i = 0; i < pol->n_files; i++)
		if (!pol->seeds_dialect || !pol->seeds_dialect[i])
			return log_error("%s is already in sbx's native policy format; nothing to convert",
					 pol->files[i]);
	if (cli_opts.json)
		return convert_json(pol);
	r = sbx_policy_write_toml(pol, stdout);
	return r < 0 ? log_error_errno(r, "writing the native policy: %m") : 0;
}

static int convert_run(const struct cli_verb *self, int argc, char **argv)
{
	struct sbx_diags diags = { 0 };
	struct sbx_policy *pol = NULL;
	struct cli_parser a;
	int r;

	r = cli_parse_no_options(&a, self, argc, argv);
	if (r < 0)
		return cli_parse_exit(r);
	if (a.n_args != 1)
		return cli_usage(self, a.n_args ? "one FILE at a time" : "missing FILE (a policy file in the "
				 "seeds' dialect)");
	r = sbx_policy_load((const char *const *)a.args, 1, NULL, &pol, &diags);
	if (r == -EINVAL)
		report_invalid(&diags);
	else if (r < 0)
		log_error_errno(r, "loading policy: %m");
	else
		r = convert_policy(pol);
	sbx_diags_free(&diags);
	sbx_policy_free(pol);
	return r < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

/* ---- verb table rows ----------------------------------------------------- */

#define HELP_GLOBAL_OPTS \
	"  -j, --json      print one JSON object on stdout\n" \
	"  -p, --pretty    indent the JSON output; implies --json\n" \
	"  -h, --help      show this help\n"

static const struct cli_verb verb_check = {
	.name = "check",
	.cmd = "policy check",
	.run = check_run,
	.opts = check_opts,
	.args = CLI_ARG_FILE,
	.summary = "check policy files for errors",
	.synopsis = "policy check [--env NAME] [--json] PATH|-...",
	.description =
		"  Load the policy files named by each PATH (a file, a directory whose\n"
		"  *.toml files are read in name order, or - for stdin) together, as sbx\n"
		"  run would, and report every problem. The files are loaded as one\n"
		"  policy, so a profile defined in two files is an error; one file named\n"
		"  twice is loaded once. What sbx run would refuse on any host (today: a\n"
		"  wildcard host name under enforcement = \"strict\") is reported too, with\n"
		"  run's message and position. Nothing is run and nothing is loaded into\n"
		"  the kernel.\n"
		"\n"
		"  Each problem is printed on stderr as FILE:LINE:COL: error: MESSAGE,\n"
		"  followed by a summary such as \"2 files checked, 1 invalid, 3 errors\".\n"
		"  With --json, stdout gets one object instead:\n"
		"    {\"ok\": false, \"env\": null, \"files\": [...], \"profiles\": [...],\n"
		"     \"errors\": [{\"file\": ..., \"line\": ..., \"col\": ..., \"message\": ...}],\n"
		"     \"summary\": {\"files\": 2, \"invalid\": 1, \"errors\": 3}}\n",
	.options =
		"  --env NAME      apply the overlay [env.NAME] of the policy files; default:\n"
		"                  $SBX_ENV (the option wins; an empty value means none)\n"
		HELP_GLOBAL_OPTS,
	.exit_status =
		"  0  every file is valid\n"
		"  1  at least one file is invalid or could not be read, or sbx run would\n"
		"     refuse a profile\n"
		"  2  usage error\n",
	.examples =
		"  sbx policy check policy/examples/\n"
		"  SBX_ENV=prod sbx policy check /etc/sbx/policy.d\n"
		"  sbx policy check --json web.toml | jq -r '.errors[].message'\n",
};

static const struct cli_verb verb_show = {
	.name = "show",
	.cmd = "policy show",
	.run = show_run,
	.opts = show_opts,
	.args = CLI_ARG_FILE,
	.summary = "print resolved profiles (defaults and overlay applied)",
	.synopsis = "policy show [--profile NAME]... [--env NAME] [--json] [PATH...]",
	.description =
		"  Load the policy files like `sbx policy check` and print each profile as\n"
		"  sbx would use it: [defaults] and the selected [env.NAME] overlay applied,\n"
		"  sizes in bytes, durations in milliseconds, network entries normalised.\n"
		"  Without --profile every profile is shown, in name order.\n"
		"\n"
		"  Without PATH, the policy `sbx run` uses without --policy is shown:\n"
		"  $SBX_POLICY, else the *.toml files of $SBX_POLICY_DIR (default\n"
		"  /etc/sbx/policy.d), and the built-in profile \"default\" unless one of\n"
		"  them defines a profile of that name. --profile default always finds it.\n"
		"\n"
		"  With --json, stdout gets one object\n"
		"    {\"env\": ..., \"files\": [...], \"profiles\": [{...}, ...]}\n"
		"  whose shape is described in sbx-policy(1). Limits that are not set are\n"
		"  null; \"cpu\" is in CPUs (0.5 = half a CPU).\n",
	.options =
		"  --profile NAME  show only this profile; may be repeated. An unknown name is\n"
		"                  an error that lists the available profiles\n"
		"  --env NAME      apply the overlay [env.NAME]; default: $SBX_ENV\n"
		HELP_GLOBAL_OPTS,
	.exit_status =
		"  0  the profiles were printed\n"
		"  1  the policy is invalid, or a --profile does not exist\n"
		"  2  usage error\n",
	.examples =
		"  sbx policy show --profile default\n"
		"  sbx policy show policy/examples/\n"
		"  sbx policy show --env prod --profile web web.toml\n"
		"  sbx policy show --json web.toml | jq '.profiles[].limits'\n",
};

static const struct cli_verb verb_convert = {
	.name = "convert",
	.cmd = "policy convert",
	.run = convert_run,
	.args = CLI_ARG_FILE,
	.summary = "print the native form of a policy file in the seeds' dialect",
	.synopsis = "policy convert [--json] FILE|-",
	.description =
		"  Load FILE, a policy written in the seeds' dialect (default_provider and\n"
		"  [capability_configs.\"NAME\"] tables, see \"The seeds' dialect\" in\n"
		"  docs/policy.md), validate it as `sbx policy check` would, and print the\n"
		"  same profiles in sbx's native format: version = 1 and one\n"
		"  [profile.\"NAME\"] table per capability, in name order. The output loads\n"
		"  back to profiles equal to FILE's (`sbx policy show` prints the same for\n"
		"  both). sbx policy check, sbx policy show and sbx run read the seeds'\n"
		"  dialect as it is: converting is only needed to edit a policy with the\n"
		"  native keys.\n"
		"\n"
		"  A FILE in the native format is refused (\"already in sbx's native policy\n"
		"  format\"): converting it would drop its [env.*] overlays. An invalid\n"
		"  FILE prints its errors as FILE:LINE:COL: error: MESSAGE and nothing on\n"
		"  stdout.\n"
		"\n"
		"  With --json, stdout gets one object instead:\n"
		"    {\"files\": [\"FILE\"], \"toml\": \"version = 1\\n...\"}\n",
	.options = HELP_GLOBAL_OPTS,
	.exit_status =
		"  0  the native form was printed\n"
		"  1  FILE is invalid, unreadable or already native\n"
		"  2  usage error\n",
	.examples =
		"  sbx policy convert seeds.toml > native.toml\n"
		"  sbx policy convert --json seeds.toml | jq -r .toml\n",
};

static const struct cli_verb *const policy_verbs[] = {
	&verb_check,
	&verb_convert,
	&verb_show,
	NULL
};

const struct cli_verb cli_verb_policy = {
	.name = "policy",
	.cmd = "policy",
	.run = NULL,
	.summary = "check, show and convert policy files",
	.description =
		"  Work with sbx policy files (TOML): find every error in them, print\n"
		"  the profiles they define as sbx resolves them, or print the native\n"
		"  form of a file in the seeds' dialect. Nothing is run.\n",
	.options = HELP_GLOBAL_OPTS,
	.exit_status =
		"  0  success\n"
		"  1  the policy is invalid, or the requested profile does not exist\n"
		"  2  usage error\n",
	.examples =
		"  sbx policy check policy/examples/\n"
		"  sbx pol sh --profile web --json web.toml\n",
	.sub = policy_verbs,
};
