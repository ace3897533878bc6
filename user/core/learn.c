/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "core/learn.h"

void sbx_learn_init(struct sbx_learn *l, const char *want_sandbox)
{
	*l = (struct sbx_learn){ .want_sandbox = want_sandbox, .net_mode = -1, .fs_mode = -1 };
}

static void list_free(struct sbx_learn_list *L)
{
	for (size_t i = 0; i < L->n; i++) {
		free(L->v[i].text);
		free(L->v[i].note);
	}
	free(L->v);
	*L = (struct sbx_learn_list){ 0 };
}

void sbx_learn_free(struct sbx_learn *l)
{
	if (!l)
		return;
	free(l->sandbox);
	free(l->profile);
	free(l->provider);
	list_free(&l->names);
	list_free(&l->net);
	list_free(&l->dns_servers);
	list_free(&l->listen);
	list_free(&l->unix_paths);
	list_free(&l->syscalls);
	list_free(&l->execs);
	list_free(&l->notes);
	for (size_t i = 0; i < l->n_files; i++)
		free(l->files[i].path);
	free(l->files);
	*l = (struct sbx_learn){ 0 };
}

/* Counts text in L (once per distinct text); note is kept from the first. */
static int list_add(struct sbx_learn_list *L, const char *text, const char *note)
{
	struct sbx_learn_item *nv;

	for (size_t i = 0; i < L->n; i++) {
		if (!strcmp(L->v[i].text, text)) {
			L->v[i].events++;
			return 0;
		}
	}
	nv = realloc(L->v, (L->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	L->v = nv;
	nv[L->n] = (struct sbx_learn_item){ .text = strdup(text), .note = note ? strdup(note) : NULL,
					    .events = 1 };
	if (!nv[L->n].text || (note && !nv[L->n].note)) {
		free(nv[L->n].text);
		free(nv[L->n].note);
		return -ENOMEM;
	}
	L->n++;
	return 0;
}

static int list_addf(struct sbx_learn_list *L, const char *note, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int list_addf(struct sbx_learn_list *L, const char *note, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return list_add(L, buf, note);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

static uint32_t access_bits(const char *s)
{
	uint32_t a = 0;

	for (; s && *s; s++)
		a |= *s == 'r' ? SBX_ACC_R : *s == 'w' ? SBX_ACC_W : *s == 'x' ? SBX_ACC_X : 0;
	return a;
}

static int mode_of(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static const char *const net_modes[] = { "none", "allow", "deny", "full" };
static const char *const fs_modes[] = { "none", "read-only", "read-write", "full" };

/* The name whose dns.query answer held addr, or NULL. */
static const char *name_of(const struct sbx_learn *l, const char *addr)
{
	for (size_t i = l->names.n; i-- > 0;)
		if (!strcmp(l->names.v[i].text, addr))
			return l->names.v[i].note;
	return NULL;
}

static int take_dns(struct sbx_learn *l, json_object *ev)
{
	const char *name = str(ev, "name");
	json_object *a;
	int r = 0;

	if (!name || !json_object_object_get_ex(ev, "answers", &a) ||
	    !json_object_is_type(a, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(a) && !r; i++) {
		const char *addr = json_object_get_string(json_object_array_get_idx(a, i));

		if (addr)
			r = list_add(&l->names, addr, name);
	}
	return r;
}

/* A destination: by the name that resolved to it where the trail says. */
static int take_net(struct sbx_learn *l, json_object *ev, const char *event, const char *verdict)
{
	const char *addr = str(ev, "addr"), *proto = str(ev, "proto"), *name;
	int64_t port = num(ev, "port");
	bool v6 = addr && strchr(addr, ':');
	char note[160], host[300];
	bool ported;

	if (!addr || !proto)
		return 0;
	name = name_of(l, addr);
	l->named |= name != NULL;
	snprintf(note, sizeof(note), "%s %s%s%s", event, verdict, name ? ", resolved from " : "",
		 name ? addr : "");
	snprintf(host, sizeof(host), v6 && !name ? "[%s]" : "%s", name ? name : addr);
	ported = (!strcmp(proto, "tcp") || !strcmp(proto, "udp")) && port > 0;
	if (!ported)	/* a port-less protocol (ICMP): the address as a whole */
		return list_addf(&l->net, note, "%s", name ? name : addr);
	/* a DNS server: port 53 goes to sbx's resolver in a profile with names,
	 * so it is an entry only of a profile without (write_network) */
	return list_addf(port == 53 ? &l->dns_servers : &l->net, note, "%s:%lld/%s", host,
			 (long long)port, proto);
}

/* A path as the workload wrote it, in the form policy paths take: no
 * "//", no "." component, no trailing '/'. false for what a rule cannot
 * name: relative, with "..", or too long. */
static bool normalise(const char *in, char *out, size_t len, const char **why)
{
	size_t n = 0;

	*why = "not absolute: the trail cannot say where it is";
	if (in[0] != '/')
		return false;
	for (const char *p = in; *p;) {
		size_t c;

		while (*p == '/')
			p++;
		c = strcspn(p, "/");
		if (!c || (c == 1 && p[0] == '.')) {
			p += c;
			continue;
		}
		*why = "a '..' component: write the rule for the real path";
		if (c == 2 && p[0] == '.' && p[1] == '.')
			return false;
		*why = "too long for a rule";
		if (n + 1 + c + 1 > len || n + 1 + c >= SBX_MAX_PATH_LEN - 4)
			return false;
		out[n++] = '/';
		memcpy(out + n, p, c);
		n += c;
		p += c;
	}
	if (!n)
		out[n++] = '/';
	out[n] = 0;
	return true;
}

static bool makes_name(const char *op)
{
	static const char *const ops[] = { "mkdir", "create", "mknod", "symlink", "link" };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i]))
			return true;
	return false;
}

static int take_file(struct sbx_learn *l, json_object *ev, const char *verdict)
{
	const char *raw = str(ev, "path"), *op = str(ev, "op"), *why;
	uint32_t acc = access_bits(str(ev, "access"));
	char path[SBX_MAX_PATH_LEN + 8];
	struct sbx_learn_file *nv;
	bool dir = false;

	if (!raw || !op)
		return 0;
	if (!normalise(raw, path, sizeof(path), &why) || !strcmp(path, "/")) {
		char note[SBX_MAX_PATH_LEN + 96];

		snprintf(note, sizeof(note), "%s %s (%s)", op, raw, why);
		return list_add(&l->notes, note, verdict);
	}
	/* a new name is made in its directory: Landlock grants that on the
	 * directory (the new path has no inode to hold a rule yet) */
	if (makes_name(op)) {
		path[strrchr(path, '/') - path] = 0;
		dir = true;
		if (!path[0])
			return list_addf(&l->notes, verdict, "%s %s (in the root directory)", op, raw);
	}
	if (!strcmp(op, "exec"))
		list_add(&l->execs, path, verdict);
	if (!acc)
		acc = SBX_ACC_W;	/* ops without an access string change the tree */
	for (size_t i = 0; i < l->n_files; i++) {
		if (!strcmp(l->files[i].path, path)) {
			l->files[i].access |= acc;
			l->files[i].dir |= dir;
			l->files[i].events++;
			return 0;
		}
	}
	nv = realloc(l->files, (l->n_files + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	l->files = nv;
	nv[l->n_files] = (struct sbx_learn_file){ .path = strdup(path), .access = acc, .dir = dir,
						  .events = 1 };
	if (!nv[l->n_files].path)
		return -ENOMEM;
	l->n_files++;
	return 0;
}

static int take_decision(struct sbx_learn *l, json_object *ev, const char *event, const char *verdict)
{
	const char *mode = str(ev, "mode"), *s;
	char note[96];

	snprintf(note, sizeof(note), "%s %s", event, verdict);
	if (!strncmp(event, "net.", 4) && mode)
		l->net_mode = mode_of(mode, net_modes, 4);
	if (!strcmp(event, "file") && mode)
		l->fs_mode = mode_of(mode, fs_modes, 4);
	/* a port-53 destination sent to the sandbox's own resolver needs no
	 * entry when the profile learnt has names (it gets a resolver:
	 * docs/network.md); without names, the server it asked must be allowed */
	if ((s = str(ev, "rule")) && !strcmp(s, "dns"))
		return take_net(l, ev, event, verdict);	/* a port-53 server: see take_net */
	if (!strcmp(event, "net.connect") || !strcmp(event, "net.send") || !strcmp(event, "net.packet"))
		return take_net(l, ev, event, verdict);
	if (!strcmp(event, "net.bind"))
		return num(ev, "port") > 0 ? list_addf(&l->listen, note, "%lld/%s", (long long)num(ev, "port"),
						       str(ev, "proto") ? str(ev, "proto") : "tcp") : 0;
	if (!strcmp(event, "net.unix")) {
		if ((s = str(ev, "path")))
			return list_add(&l->unix_paths, s, note);
		return list_addf(&l->notes, note, "abstract unix name '%s': only inside a network "
				 "namespace of the sandbox's own", str(ev, "abstract") ?: "");
	}
	if (!strcmp(event, "net.socket")) {
		s = str(ev, "type");
		if ((s && !strcmp(s, "raw")) || (str(ev, "family") && !strcmp(str(ev, "family"), "packet")))
			l->raw_sockets = true;
		else
			list_addf(&l->notes, note, "socket of family %s: see network.families",
				  str(ev, "family") ?: "?");
		return 0;
	}
	if (!strcmp(event, "net.sockopt"))
		return list_addf(&l->notes, note, "socket option %s: sbx refuses it in every mode "
				 "but full", str(ev, "option") ?: "?");
	if (!strcmp(event, "syscall.denied"))
		return (s = str(ev, "syscall")) ? list_add(&l->syscalls, s, note) : 0;
	if (!strcmp(event, "file"))
		return take_file(l, ev, note);
	return 0;
}

/* Whether sandbox id sb is the one asked for (an id or a prefix, with or
 * without "sbx-"). */
static bool asked(const char *want, const char *sb)
{
	size_t n = strlen(want);

	return !strncmp(sb, want, n) || (!strncmp(sb, "sbx-", 4) && !strncmp(sb + 4, want, n));
}

/* The sandbox an event belongs to: the one --sandbox names, else the first
 * one seen; 1 for another one's event. */
static int which_sandbox(struct sbx_learn *l, const char *sb, char *why, size_t len)
{
	if (!sb || (l->want_sandbox && !asked(l->want_sandbox, sb)))
		return 1;
	if (!l->sandbox) {
		l->sandbox = strdup(sb);
		return l->sandbox ? 0 : -ENOMEM;
	}
	if (strcmp(sb, l->sandbox)) {
		snprintf(why, len, "line %llu: events of more than one sandbox (%s, %s)%s",
			 (unsigned long long)l->lines, l->sandbox, sb,
			 l->want_sandbox ? ": give --sandbox a longer prefix" :
					   ": choose one with --sandbox ID");
		return -EINVAL;
	}
	return 0;
}

static int take_event(struct sbx_learn *l, json_object *ev, char *why, size_t len)
{
	const char *event = str(ev, "event"), *verdict = str(ev, "verdict");
	int r = which_sandbox(l, str(ev, "sandbox"), why, len);

	if (r)
		return r < 0 ? r : (l->other++, 0);
	l->events++;
	if (!event)
		return 0;
	if (!l->profile && str(ev, "profile"))
		l->profile = strdup(str(ev, "profile"));
	if (!strcmp(event, "sandbox.start")) {
		json_object *o;

		free(l->provider);
		l->provider = str(ev, "provider") ? strdup(str(ev, "provider")) : NULL;
		l->observe = json_object_object_get_ex(ev, "observe", &o) && json_object_get_boolean(o);
		return 0;
	}
	/* under --observe a name the profile would refuse is answered all the
	 * same, as a dns.denied with verdict would_deny: its answers name the
	 * addresses too */
	if (!strcmp(event, "dns.query") ||
	    (!strcmp(event, "dns.denied") && verdict && !strcmp(verdict, "would_deny")))
		return take_dns(l, ev);
	if (!verdict)
		return 0;
	if (!strcmp(verdict, "would_deny"))
		l->would_deny++;
	else if (!strcmp(verdict, "deny"))
		l->deny++;
	else
		l->allow++;
	return take_decision(l, ev, event, verdict);
}

int sbx_learn_line(struct sbx_learn *l, const char *line, char *why, size_t len)
{
	json_tokener *tok;
	json_object *ev;
	size_t n = strlen(line);
	int r;

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	l->lines++;
	if (!n)
		return 0;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	ev = json_tokener_parse_ex(tok, line, (int)n);
	if (!ev || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != n || !json_object_is_type(ev, json_type_object)) {
		snprintf(why, len, "line %llu: not a JSON object (%s)", (unsigned long long)l->lines,
			 ev ? "trailing data or another type" :
			      json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(ev);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	r = take_event(l, ev, why, len);
	json_object_put(ev);
	return r;
}

/* ---- generalisation -------------------------------------------------------- */

struct gen {
	struct sbx_learn_rule *v;
	size_t n;
};

static bool is_dir(const char *p)
{
	size_t n = strlen(p);

	return n && p[n - 1] == '/';
}

/* Whether directory rule d ("/a/") covers path p ("/a/b", "/a/b/"). */
static bool covers(const char *d, const char *p)
{
	size_t n = strlen(d);

	return is_dir(d) && strlen(p) > n && !strncmp(d, p, n);
}

/* Directory levels of a directory path: "/a/b/" is 2. */
static int depth(const char *d)
{
	int n = 0;

	for (; *d; d++)
		n += *d == '/';
	return n - 1;
}

/* The parent directory of p (with its '/'), written to out. */
static void parent(const char *p, char *out, size_t len)
{
	size_t n = strlen(p);

	if (n && p[n - 1] == '/')
		n--;
	while (n && p[n - 1] != '/')
		n--;
	snprintf(out, len, "%.*s", (int)n, p);
}

static void gen_free(struct gen *g)
{
	sbx_learn_rules_free(g->v, g->n);
	*g = (struct gen){ 0 };
}

static int gen_add(struct gen *g, const char *path, uint32_t acc, uint64_t files, uint64_t events)
{
	struct sbx_learn_rule *nv;

	for (size_t i = 0; i < g->n; i++) {
		if (!strcmp(g->v[i].path, path)) {
			g->v[i].access |= acc;
			g->v[i].files += files;
			g->v[i].events += events;
			return 0;
		}
	}
	nv = realloc(g->v, (g->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	g->v = nv;
	nv[g->n] = (struct sbx_learn_rule){ .path = strdup(path), .access = acc, .files = files,
					    .events = events };
	if (!nv[g->n].path)
		return -ENOMEM;
	g->n++;
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct sbx_learn_rule *)a)->path, ((const struct sbx_learn_rule *)b)->path);
}

/* Rules under a directory rule of the same class fold into it. Sorted, what
 * "/a/" covers follows it, before anything it does not cover. */
static void absorb(struct gen *g)
{
	size_t k = 0, dir = SIZE_MAX;

	if (!g->n)
		return;
	qsort(g->v, g->n, sizeof(*g->v), by_path);
	for (size_t i = 0; i < g->n; i++) {
		struct sbx_learn_rule *r = &g->v[i];

		if (dir != SIZE_MAX && covers(g->v[dir].path, r->path)) {
			g->v[dir].access |= r->access;
			g->v[dir].files += r->files;
			g->v[dir].events += r->events;
			free(r->path);
			continue;
		}
		g->v[k] = *r;
		if (is_dir(g->v[k].path))
			dir = k;
		k++;
	}
	g->n = k;
}

struct parent_of {
	char path[SBX_MAX_PATH_LEN + 2];
};

static int by_parent(const void *a, const void *b)
{
	return strcmp(((const struct parent_of *)a)->path, ((const struct parent_of *)b)->path);
}

/* One round: the deepest parent directory (two levels or more) with
 * min_group rules right below it replaces them, so that generalising goes
 * bottom-up. Returns 1 when it folded, 0 when nothing qualifies. */
static int fold_once(struct gen *g, unsigned min_group)
{
	struct parent_of *p = calloc(g->n + 1, sizeof(*p));
	const char *best = NULL;
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++)
		parent(g->v[i].path, p[i].path, sizeof(p[i].path));
	qsort(p, g->n, sizeof(*p), by_parent);
	for (size_t i = 0, j; i < g->n; i = j) {
		for (j = i; j < g->n && !strcmp(p[j].path, p[i].path); j++)
			;
		if (j - i >= min_group && depth(p[i].path) >= 2 &&
		    (!best || depth(p[i].path) > depth(best)))
			best = p[i].path;
	}
	if (best) {
		r = gen_add(g, best, 0, 0, 0);
		if (!r) {
			absorb(g);
			r = 1;
		}
	}
	free(p);
	return r;
}

static int gen_class(const struct sbx_learn_file *f, size_t n, bool writes, unsigned min_group,
		     struct gen *g)
{
	char dir[SBX_MAX_PATH_LEN + 2];
	int r = 0;

	for (size_t i = 0; i < n && !r; i++) {
		if (!!(f[i].access & SBX_ACC_W) != writes)
			continue;
		if (f[i].dir) {
			snprintf(dir, sizeof(dir), "%s%s", f[i].path, is_dir(f[i].path) ? "" : "/");
			r = gen_add(g, dir, f[i].access, 1, f[i].events);
		} else {
			r = gen_add(g, f[i].path, f[i].access, 1, f[i].events);
		}
	}
	if (r < 0)
		return r;
	absorb(g);
	while ((r = fold_once(g, min_group)) > 0)
		;
	return r;
}

int sbx_learn_generalise(const struct sbx_learn_file *f, size_t n, unsigned min_group,
			 struct sbx_learn_rule **ret, size_t *ret_n)
{
	struct gen rd = { 0 }, wr = { 0 };
	int r = gen_class(f, n, false, min_group ? min_group : 3, &rd);

	if (!r)
		r = gen_class(f, n, true, min_group ? min_group : 3, &wr);
	for (size_t i = 0; i < wr.n && !r; i++)
		r = gen_add(&rd, wr.v[i].path, wr.v[i].access, wr.v[i].files, wr.v[i].events);
	gen_free(&wr);
	if (r < 0) {
		gen_free(&rd);
		return r;
	}
	/* sorted, a covering directory comes before what it covers */
	if (rd.n)
		qsort(rd.v, rd.n, sizeof(*rd.v), by_path);
	for (size_t i = 0; i < rd.n; i++)
		for (size_t d = 0; d < i; d++)
			if (covers(rd.v[d].path, rd.v[i].path))
				rd.v[i].access |= rd.v[d].access;
	*ret = rd.v;
	*ret_n = rd.n;
	return 0;
}

void sbx_learn_rules_free(struct sbx_learn_rule *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		free(r[i].path);
	free(r);
}

/* ---- a base profile's answer -------------------------------------------------- */

static uint32_t mode_access(enum sbx_fs_mode m)
{
	switch (m) {
	case SBX_FS_NONE: return 0;
	case SBX_FS_READ_ONLY: return SBX_ACC_R | SBX_ACC_X;
	default: return SBX_ACC_R | SBX_ACC_W | SBX_ACC_X;
	}
}

static bool path_match(const char *rule, const char *path)
{
	size_t n = strlen(rule);

	if (!is_dir(rule))
		return !strcmp(rule, path);
	/* "/a/" covers "/a/..." and the directory "/a" itself */
	return !strncmp(rule, path, n) || (!strncmp(rule, path, n - 1) && !path[n - 1]);
}

uint32_t sbx_learn_fs_grant(const struct sbx_profile *p, const char *path)
{
	size_t best = 0, best_x = 0;
	uint32_t acc = mode_access(p->fs.mode);

	if (p->fs.mode == SBX_FS_FULL)
		return SBX_ACC_R | SBX_ACC_W | SBX_ACC_X;
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *r = &p->fs.rules[i];

		if (path_match(r->path, path) && strlen(r->path) > best) {
			best = strlen(r->path);
			acc = r->access;
		}
	}
	if (!p->fs.n_exec)
		return acc;
	acc &= ~SBX_ACC_X;
	for (size_t i = 0; i < p->fs.n_exec; i++)
		if (path_match(p->fs.exec[i], path) && strlen(p->fs.exec[i]) >= best_x)
			return acc | SBX_ACC_X;
	return acc;
}

static bool addr_in(const struct sbx_net_entry *net, const struct sbx_net_entry *a)
{
	int bytes = net->prefix_len / 8, bits = net->prefix_len % 8;

	if (net->family != a->family)
		return false;
	if (memcmp(net->addr, a->addr, bytes))
		return false;
	return !bits || ((net->addr[bytes] ^ a->addr[bytes]) >> (8 - bits)) == 0;
}

static bool host_in(const struct sbx_net_entry *e, const char *host)
{
	size_t n, m;

	if (!e->host || !host)
		return false;
	if (e->kind == SBX_NET_ENTRY_HOST)
		return !strcmp(e->host, host);
	/* "*.example.org" */
	n = strlen(e->host + 1);
	m = strlen(host);
	return m > n && !strcmp(host + m - n, e->host + 1);
}

/* The policy's rule: the most specific matching entry decides, deny wins ties;
 * no entry: the mode. */
bool sbx_learn_net_allows(const struct sbx_profile *p, const struct sbx_net_entry *e)
{
	int best = -1;
	bool allow = p->net.mode == SBX_NET_DENY || p->net.mode == SBX_NET_FULL;

	if (p->net.mode == SBX_NET_FULL)
		return true;
	if (p->net.mode == SBX_NET_NONE)
		return false;
	for (size_t i = 0; i < p->net.n_entries; i++) {
		const struct sbx_net_entry *x = &p->net.entries[i];
		int spec;

		if (e->port_lo < x->port_lo || e->port_hi > x->port_hi || (x->proto && x->proto != e->proto))
			continue;
		if (e->kind == SBX_NET_ENTRY_ADDR && x->kind == SBX_NET_ENTRY_ADDR && addr_in(x, e))
			spec = x->prefix_len;
		else if (e->kind != SBX_NET_ENTRY_ADDR && host_in(x, e->host))
			spec = x->kind == SBX_NET_ENTRY_HOST ? 1000 : 500 + (int)strlen(x->host);
		else
			continue;
		if (spec > best || (spec == best && x->deny)) {
			best = spec;
			allow = !x->deny;
		}
	}
	return allow;
}

/* ---- the profile ------------------------------------------------------------- */

/* The text of s, control characters written as \\uXXXX; with quote, '"'
 * and '\\' escaped too (a TOML basic string's body). */
static void put_text(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (quote && (*s == '"' || *s == '\\'))
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

/* A TOML basic string: paths and names may hold quotes or backslashes. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	put_text(f, s, true);
	fputc('"', f);
}

/* What the workload named (a path, an abstract name, a host name) goes
 * into comments too: a newline in it would end the comment and make the
 * rest of the name TOML of the learnt profile (a table of its choosing). */
static void put_comment(FILE *f, const struct sbx_learn_item *it)
{
	fprintf(f, "\t# %llu x ", (unsigned long long)it->events);
	put_text(f, it->note ? it->note : "seen", false);
	fputc('\n', f);
}

static bool net_lacking(const struct sbx_profile *base, const char *text)
{
	struct sbx_net_entry e = { 0 };
	char err[256];
	bool lack;

	if (!base)
		return true;
	if (sbx_parse_net_entry(text, &e, err, sizeof(err)) < 0)
		return true;
	lack = !sbx_learn_net_allows(base, &e);
	sbx_net_entry_clear(&e);
	return lack;
}

static bool listen_lacking(const struct sbx_profile *base, const char *text)
{
	struct sbx_port_range pr;
	char err[128];

	if (!base || sbx_parse_port_range(text, &pr, err, sizeof(err)) < 0)
		return true;
	for (size_t i = 0; i < base->net.n_listen; i++) {
		const struct sbx_port_range *b = &base->net.listen[i];

		if (pr.lo >= b->lo && pr.hi <= b->hi && (!b->proto || b->proto == pr.proto))
			return false;
	}
	return true;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s) || !strcmp(v[i], "*"))
			return true;
	return false;
}

static int net_mode_out(const struct sbx_learn *l, const struct sbx_profile *base, bool entries)
{
	int m = base ? (int)base->net.mode : l->net_mode;

	if (entries && (m < 0 || m == SBX_NET_NONE))
		return SBX_NET_ALLOW;
	return m < 0 ? SBX_NET_NONE : m;
}

static bool unix_lacking(const struct sbx_profile *base, const char *path)
{
	return !base || !strv_has(base->net.unix_paths, base->net.n_unix, path);
}

static bool syscall_lacking(const struct sbx_profile *base, const char *name)
{
	return !base || !strv_has(base->seccomp.allow, base->seccomp.n_allow, name);
}

/* `key = [...]`, one commented line per item that base lacks; nothing when
 * none does. Returns how many were written. */
static size_t write_list(FILE *f, const char *key, const struct sbx_learn_list *L,
			 const struct sbx_profile *base,
			 bool (*lacking)(const struct sbx_profile *, const char *))
{
	size_t n = 0;

	for (size_t i = 0; i < L->n; i++) {
		if (!lacking(base, L->v[i].text))
			continue;
		if (!n++)
			fprintf(f, "%s = [\n", key);
		fputc('\t', f);
		put_str(f, L->v[i].text);
		fputc(',', f);
		put_comment(f, &L->v[i]);
	}
	if (n)
		fprintf(f, "]\n");
	return n;
}

static size_t count_lacking(const struct sbx_learn_list *L, const struct sbx_profile *base,
			    bool (*lacking)(const struct sbx_profile *, const char *))
{
	size_t n = 0;

	for (size_t i = 0; i < L->n; i++)
		n += lacking(base, L->v[i].text);
	return n;
}

static void write_network(const struct sbx_learn *l, const struct sbx_profile *base, const char *prof,
			  FILE *f)
{
	struct sbx_learn_list all = l->net;
	bool entries;

	/* no name learnt: no resolver for the profile, so the DNS servers the
	 * workload asked (through sbx's resolver, under observe) are entries */
	if (!l->named && l->dns_servers.n) {
		all.v = malloc((l->net.n + l->dns_servers.n) * sizeof(*all.v));
		if (all.v) {
			memcpy(all.v, l->net.v, l->net.n * sizeof(*all.v));
			memcpy(all.v + l->net.n, l->dns_servers.v, l->dns_servers.n * sizeof(*all.v));
			all.n = l->net.n + l->dns_servers.n;
		} else {
			all = l->net;
		}
	}
	entries = count_lacking(&all, base, net_lacking) ||
		       count_lacking(&l->listen, base, listen_lacking);

	fprintf(f, "\n[profile.%s.network]\nmode = \"%s\"\n", prof,
		sbx_net_mode_name(net_mode_out(l, base, entries)));
	write_list(f, "allow", &all, base, net_lacking);
	write_list(f, "listen", &l->listen, base, listen_lacking);
	write_list(f, "unix", &l->unix_paths, base, unix_lacking);
	if (l->raw_sockets && !(base && base->net.raw_sockets))
		fprintf(f, "raw_sockets = true\t# a raw or packet socket was refused\n");
	if (all.v != l->net.v)
		free(all.v);
}

/* The files the base (if any) does not grant as asked. */
static int lacking_files(const struct sbx_learn *l, const struct sbx_profile *base,
			 struct sbx_learn_file **ret, size_t *ret_n)
{
	struct sbx_learn_file *v = calloc(l->n_files + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n_files; i++) {
		uint32_t want = l->files[i].access;

		/* with an exec list, execution is the list's business */
		if (base && base->fs.n_exec)
			want &= ~SBX_ACC_X;
		if (base && !(want & ~sbx_learn_fs_grant(base, l->files[i].path)))
			continue;
		if (!want)
			continue;
		v[n] = l->files[i];
		v[n++].access = want;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void put_access(FILE *f, uint32_t a)
{
	char s[8];

	sbx_access_str(a, s);
	fprintf(f, "\"%s\"", s);
}

static int write_fs(const struct sbx_learn *l, const struct sbx_profile *base, const char *prof, FILE *f)
{
	int mode = base ? (int)base->fs.mode : l->fs_mode < 0 ? SBX_FS_READ_ONLY : l->fs_mode;
	struct sbx_learn_file *want = NULL;
	struct sbx_learn_rule *rules = NULL;
	size_t n_want, n_rules = 0, n_exec = 0;
	int r = lacking_files(l, base, &want, &n_want);

	if (!r)
		r = sbx_learn_generalise(want, n_want, 0, &rules, &n_rules);
	free(want);
	if (r < 0)
		return r;
	fprintf(f, "\n[profile.%s.fs]\nmode = \"%s\"\n", prof, sbx_fs_mode_name(mode));
	if (n_rules && mode != SBX_FS_FULL) {
		fprintf(f, "rules = [\n");
		for (size_t i = 0; i < n_rules; i++) {
			struct sbx_learn_rule *ru = &rules[i];
			/* a rule replaces the mode (and the base's grant) on its
			 * paths: it keeps them */
			uint32_t acc = ru->access | mode_access(mode) |
				       (base ? sbx_learn_fs_grant(base, ru->path) : 0);

			if (base && base->fs.n_exec)
				acc &= ~SBX_ACC_X;
			fprintf(f, "\t{ path = ");
			put_str(f, ru->path);
			fprintf(f, ", access = ");
			put_access(f, acc);
			fprintf(f, " },\t# %llu %s %s%s (%llu events)\n", (unsigned long long)ru->files,
				ru->files == 1 ? "file" : "files",
				ru->access & SBX_ACC_W ? "written" : ru->access & SBX_ACC_R ? "read" : "run",
				ru->access & SBX_ACC_X && ru->access != SBX_ACC_X ? " or run" : "",
				(unsigned long long)ru->events);
		}
		fprintf(f, "]\n");
	}
	sbx_learn_rules_free(rules, n_rules);
	for (size_t i = 0; base && base->fs.n_exec && i < l->execs.n; i++)
		n_exec += !(sbx_learn_fs_grant(base, l->execs.v[i].text) & SBX_ACC_X);
	if (!n_exec)
		return 0;
	/* the base restricts exec to its list: what ran goes there */
	fprintf(f, "exec = [\n");
	for (size_t i = 0; i < base->fs.n_exec; i++) {
		fputc('\t', f);
		put_str(f, base->fs.exec[i]);
		fprintf(f, ",\t# the base's\n");
	}
	for (size_t i = 0; i < l->execs.n; i++) {
		if (sbx_learn_fs_grant(base, l->execs.v[i].text) & SBX_ACC_X)
			continue;
		fputc('\t', f);
		put_str(f, l->execs.v[i].text);
		fputc(',', f);
		put_comment(f, &l->execs.v[i]);
	}
	fprintf(f, "]\n");
	return 0;
}

static void write_seccomp(const struct sbx_learn *l, const struct sbx_profile *base, const char *prof,
			  FILE *f)
{
	if (!count_lacking(&l->syscalls, base, syscall_lacking))
		return;
	fprintf(f, "\n[profile.%s.seccomp]\n", prof);
	if (base)
		fprintf(f, "preset = \"%s\"\n", sbx_seccomp_preset_name(base->seccomp.preset));
	write_list(f, "allow", &l->syscalls, base, syscall_lacking);
}

static void write_head(const struct sbx_learn *l, const char *source, const struct sbx_profile *base,
		       FILE *f)
{
	fprintf(f, "# Learnt by `sbx learn` from %s", source);
	if (l->sandbox)
		fprintf(f, ": sandbox %s, profile \"%s\"%s", l->sandbox, l->profile ? l->profile : "?",
			l->observe ? ", observe mode" : "");
	fprintf(f, ".\n# %llu events: %llu would_deny, %llu deny, %llu allow or other",
		(unsigned long long)l->events, (unsigned long long)l->would_deny,
		(unsigned long long)l->deny,
		(unsigned long long)(l->events - l->would_deny - l->deny));
	if (l->other)
		fprintf(f, "; %llu events of other sandboxes skipped", (unsigned long long)l->other);
	fprintf(f, ".\n");
	if (!l->events)
		fprintf(f, "# The log held no event of the sandbox: nothing was learnt.\n");
	if (l->sandbox && !l->observe)
		fprintf(f, "# Not an observe run: a refused call may have stopped the workload "
			"before it tried the rest.\n");
	if (base)
		fprintf(f, "# Only what profile \"%s\" lacks, with its modes: paste the entries into it.\n",
			base->name);
	fprintf(f, "# Review every entry: the workload was trusted while it was observed.\n");
	for (size_t i = 0; i < l->notes.n; i++) {
		fputs("# not learnt (", f);
		put_text(f, l->notes.v[i].note, false);
		fputs("): ", f);
		put_text(f, l->notes.v[i].text, false);
		fputc('\n', f);
	}
}

int sbx_learn_write(const struct sbx_learn *l, const char *name, const char *source,
		    const struct sbx_profile *base, FILE *f)
{
	const char *provider = base ? base->provider : l->provider;
	char prof[300];
	int r;

	snprintf(prof, sizeof(prof), "\"%s\"", name);
	write_head(l, source, base, f);
	fprintf(f, "version = 1\n\n[profile.%s]\n", prof);
	if (provider && strcmp(provider, "auto")) {
		fprintf(f, "provider = ");
		put_str(f, provider);
		fputc('\n', f);
	}
	if (base)
		fprintf(f, "min_isolation = \"%s\"\n", sbx_isolation_name(base->min_isolation));
	else if (provider && !strcmp(provider, "host"))
		fprintf(f, "min_isolation = \"none\"\t# the host provider's level\n");
	write_network(l, base, prof, f);
	r = write_fs(l, base, prof, f);
	if (r < 0)
		return r;
	write_seccomp(l, base, prof, f);
	return fflush(f) ? -errno : 0;
}
