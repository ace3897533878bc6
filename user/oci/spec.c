/* SPDX-License-Identifier: MIT */
/*
 * config.json (runtime-spec 1.0-1.2, config.md) into struct oci_spec: the
 * top level, root, mounts, process, hooks and annotations; the "linux"
 * object is read by spec_linux.c. Fail closed: a member sbx-oci does not
 * know, or knows and cannot honour, is an error naming its path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/spec_int.h"

static const struct sc_field top_fields[] = {
	{ "ociVersion", SC_KNOWN }, { "root", SC_KNOWN }, { "mounts", SC_KNOWN },
	{ "process", SC_KNOWN }, { "hostname", SC_KNOWN }, { "domainname", SC_KNOWN },
	{ "hooks", SC_KNOWN }, { "annotations", SC_KNOWN }, { "linux", SC_KNOWN },
	{ "solaris", SC_REFUSE }, { "windows", SC_REFUSE }, { "vm", SC_REFUSE },
	{ "zos", SC_REFUSE }, { NULL, SC_KNOWN },
};

/* ---- root -------------------------------------------------------------- */

/* ociVersion: 1.0.x, 1.1.x or 1.2.x, with any "-suffix" ("1.0.2-dev"). */
static int parse_version(struct spec_ctx *c, json_object *top, struct oci_spec *s)
{
	unsigned maj, min, pat;
	size_t mark;
	int n = 0, r = sc_str(c, top, "ociVersion", true, &s->oci_version);

	if (r < 0)
		return r;
	mark = sc_push(c, "ociVersion");
	if (sscanf(s->oci_version, "%u.%u.%u%n", &maj, &min, &pat, &n) != 3 ||
	    (s->oci_version[n] && s->oci_version[n] != '-' && s->oci_version[n] != '+'))
		r = sc_fail(c, "\"%s\" is not a version (MAJOR.MINOR.PATCH)", s->oci_version);
	else if (maj != 1 || min > 2)
		r = sc_fail(c, "version %s is not supported: sbx-oci reads %s to %s.x", s->oci_version,
			    OCI_VERSION_MIN, "1.2");
	sc_pop(c, mark);
	return r;
}

/* p made absolute against the bundle (itself against the working directory). */
static int bundle_path(struct spec_ctx *c, const char *bundle, const char *p, char **ret)
{
	char cwd[PATH_MAX];
	int r;

	*ret = NULL;
	if (p[0] == '/')
		*ret = strdup(p);
	else if (bundle && bundle[0] == '/')
		r = asprintf(ret, "%s/%s", bundle, p), *ret = r < 0 ? NULL : *ret;
	else if (getcwd(cwd, sizeof(cwd)))
		r = asprintf(ret, "%s/%s/%s", cwd, bundle ? bundle : ".", p), *ret = r < 0 ? NULL : *ret;
	else
		return sc_fail(c, "cannot make \"%s\" absolute: %s", p, strerror(errno));
	return *ret ? 0 : -ENOMEM;
}

static int absolute_root(struct spec_ctx *c, const char *bundle, char *p, char **ret)
{
	struct stat st;
	char *abs;
	int r = bundle_path(c, bundle, p, &abs);

	if (r < 0)
		return r;
	if (stat(abs, &st) < 0)
		r = sc_fail(c, "%s: %s", abs, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		r = sc_fail(c, "%s is not a directory", abs);
	if (r < 0)
		free(abs);
	else
		*ret = abs;
	return r;
}

static int parse_root(struct spec_ctx *c, json_object *top, const char *bundle, struct oci_spec *s)
{
	static const struct sc_field fields[] = {
		{ "path", SC_KNOWN }, { "readonly", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	json_object *o;
	char *p = NULL;
	size_t mark;
	int r = sc_get(c, top, "root", json_type_object, true, &o);

	if (r < 0)
		return r;
	mark = sc_push(c, "root");
	if ((r = sc_object(c, o, fields)) == 0 && (r = sc_bool(c, o, "readonly", &s->root_readonly, NULL)) == 0 &&
	    (r = sc_str(c, o, "path", true, &p)) == 0) {
		size_t m = sc_push(c, "path");

		r = p[0] ? absolute_root(c, bundle, p, &s->root_path) : sc_fail(c, "is empty");
		sc_pop(c, m);
	}
	sc_pop(c, mark);
	free(p);
	return r;
}

/* ---- mounts ------------------------------------------------------------- */

static int append_data(char **data, const char *opt)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *data ? *data : "", *data ? "," : "", opt) < 0)
		return -ENOMEM;
	free(*data);
	*data = n;
	return 0;
}

static int mount_option(struct spec_ctx *c, struct oci_mount *m, const char *opt)
{
	const struct mount_opt *o = spec_mount_opt(opt);

	if (!o)
		return opt[0] ? append_data(&m->data, opt) : sc_fail(c, "an empty option");
	switch (o->kind) {
	case MO_FLAG:
		m->flags |= o->flags;
		m->clear_flags &= ~o->flags;
		break;
	case MO_CLEAR:
		m->clear_flags |= o->flags;
		m->flags &= ~o->flags;
		break;
	case MO_PROPAGATION:
		m->propagation = o->flags;	/* applied in order by runc: the last wins */
		break;
	case MO_BIND:
		m->bind = true;
		m->flags |= o->flags;
		break;
	case MO_RBIND:
		m->rbind = true;
		m->flags |= o->flags;
		break;
	case MO_NONE:
		break;
	case MO_REFUSED: {
		char what[80];

		snprintf(what, sizeof(what), "the mount option \"%s\" is", opt);
		return sc_unsupported(c, what);
	}
	}
	return 0;
}

static int mount_options(struct spec_ctx *c, json_object *o, struct oci_mount *m)
{
	json_object *a;
	size_t mark;
	int r = sc_get(c, o, "options", json_type_array, false, &a);

	if (r < 0 || !a)
		return r;
	mark = sc_push(c, "options");
	for (size_t i = 0; i < json_object_array_length(a) && r == 0; i++) {
		size_t k = sc_push_index(c, i);
		char *opt = NULL;

		r = sc_node_str(c, json_object_array_get_idx(a, i), &opt);
		if (r == 0)
			r = mount_option(c, m, opt);
		free(opt);
		sc_pop(c, k);
	}
	sc_pop(c, mark);
	return r;
}

/* The source of a bind mount may be relative to the bundle (config.md). */
static int bind_source(struct spec_ctx *c, const char *bundle, struct oci_mount *m)
{
	size_t mark;
	char *abs;
	int r;

	if (!m->source || m->source[0] == '/' || !(m->bind || m->rbind))
		return 0;
	mark = sc_push(c, "source");
	r = m->source[0] ? bundle_path(c, bundle, m->source, &abs) : sc_fail(c, "is empty");
	sc_pop(c, mark);
	if (r < 0)
		return r;
	free(m->source);
	m->source = abs;
	return 0;
}

static int parse_mount(struct spec_ctx *c, json_object *o, const char *bundle, struct oci_mount *m)
{
	static const struct sc_field fields[] = {
		{ "destination", SC_KNOWN }, { "type", SC_KNOWN }, { "source", SC_KNOWN },
		{ "options", SC_KNOWN }, { "uidMappings", SC_REFUSE }, { "gidMappings", SC_REFUSE },
		{ NULL, SC_KNOWN },
	};
	size_t mark;
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_str(c, o, "destination", true, &m->destination)) < 0 ||
	    (r = sc_str(c, o, "type", false, &m->type)) < 0 || (r = sc_str(c, o, "source", false, &m->source)) < 0)
		return r;
	mark = sc_push(c, "destination");
	if (m->destination[0] != '/')
		r = sc_fail(c, "\"%s\" is not absolute (runtime-spec 1.0 allowed a relative destination; "
			    "sbx-oci does not)", m->destination);
	else
		r = sc_check_container_path(c, m->destination);
	sc_pop(c, mark);
	if (r < 0 || (r = mount_options(c, o, m)) < 0)
		return r;
	/* runc treats type "bind" as a bind mount even without the option */
	if (m->type && !strcmp(m->type, "bind") && !m->bind && !m->rbind) {
		m->bind = true;
		m->flags |= MS_BIND;
	}
	/* the kernel ignores fs data on a bind mount: do not let it pass silently */
	if ((m->bind || m->rbind) && m->data) {
		size_t k = sc_push(c, "options");

		r = sc_fail(c, "\"%s\" has no effect on a bind mount", m->data);
		sc_pop(c, k);
		return r;
	}
	return bind_source(c, bundle, m);
}

static int parse_mounts(struct spec_ctx *c, json_object *top, const char *bundle, struct oci_spec *s)
{
	json_object *a;
	size_t mark, n;
	int r = sc_get(c, top, "mounts", json_type_array, false, &a);

	if (r < 0 || !a)
		return r;
	n = json_object_array_length(a);
	s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
	if (!s->mounts)
		return -ENOMEM;
	mark = sc_push(c, "mounts");
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t k = sc_push_index(c, i);

		s->n_mounts = i + 1;
		r = parse_mount(c, json_object_array_get_idx(a, i), bundle, &s->mounts[i]);
		sc_pop(c, k);
	}
	sc_pop(c, mark);
	return r;
}

/* ---- process ------------------------------------------------------------ */

static int parse_user(struct spec_ctx *c, json_object *p, struct oci_user *u)
{
	static const struct sc_field fields[] = {
		{ "uid", SC_KNOWN }, { "gid", SC_KNOWN }, { "umask", SC_KNOWN },
		{ "additionalGids", SC_KNOWN }, { "username", SC_REFUSE }, { NULL, SC_KNOWN },
	};
	json_object *o, *a;
	size_t mark;
	int r = sc_get(c, p, "user", json_type_object, true, &o);

	if (r < 0)
		return r;
	mark = sc_push(c, "user");
	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_u32(c, o, "uid", true, &u->uid, NULL)) < 0 ||
	    (r = sc_u32(c, o, "gid", true, &u->gid, NULL)) < 0 ||
	    (r = sc_u32(c, o, "umask", false, &u->umask, &u->has_umask)) < 0 ||
	    (r = sc_get(c, o, "additionalGids", json_type_array, false, &a)) < 0)
		goto out;
	if (u->has_umask && u->umask > 0777) {
		size_t m = sc_push(c, "umask");

		r = sc_fail(c, "%#o is not a file mode mask (0..0777)", u->umask);
		sc_pop(c, m);
		goto out;
	}
	if (a) {
		size_t n = json_object_array_length(a), m = sc_push(c, "additionalGids");

		u->additional_gids = calloc(n ? n : 1, sizeof(*u->additional_gids));
		r = u->additional_gids ? 0 : -ENOMEM;
		for (size_t i = 0; i < n && r == 0; i++) {
			size_t k = sc_push_index(c, i);
			int64_t g;

			r = sc_node_int(c, json_object_array_get_idx(a, i), 0, UINT32_MAX, &g);
			u->additional_gids[i] = (uint32_t)g;
			u->n_additional_gids = i + 1;
			sc_pop(c, k);
		}
		sc_pop(c, m);
	}
out:
	sc_pop(c, mark);
	return r;
}

/* One capability set: names into bits. A name this kernel does not have
 * but a newer one does is dropped with a warning, as runc does. */
static int parse_cap_set(struct spec_ctx *c, json_object *caps, const char *name, int last, uint64_t *ret)
{
	json_object *a;
	size_t mark;
	int r = sc_get(c, caps, name, json_type_array, false, &a);

	if (r < 0 || !a)
		return r;
	mark = sc_push(c, name);
	for (size_t i = 0; i < json_object_array_length(a) && r == 0; i++) {
		size_t k = sc_push_index(c, i);
		char *cap = NULL;
		int n;

		r = sc_node_str(c, json_object_array_get_idx(a, i), &cap);
		if (r == 0) {
			n = spec_cap_lookup(cap);
			if (n < 0)
				r = sc_fail(c, "unknown capability \"%s\"", cap);
			else if (n > last)
				r = sc_warn(c, "%s is unknown to this kernel (its last is %s): dropped", cap,
					    oci_cap_names[last]);
			else
				*ret |= 1ULL << n;
		}
		free(cap);
		sc_pop(c, k);
	}
	sc_pop(c, mark);
	return r;
}

static int parse_caps(struct spec_ctx *c, json_object *p, struct oci_process *proc)
{
	static const struct sc_field fields[] = {
		{ "bounding", SC_KNOWN }, { "effective", SC_KNOWN }, { "inheritable", SC_KNOWN },
		{ "permitted", SC_KNOWN }, { "ambient", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	json_object *o;
	size_t mark;
	int last, r = sc_get(c, p, "capabilities", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	proc->has_caps = true;
	last = spec_cap_last();
	mark = sc_push(c, "capabilities");
	if ((r = sc_object(c, o, fields)) == 0 &&
	    (r = parse_cap_set(c, o, "bounding", last, &proc->caps.bounding)) == 0 &&
	    (r = parse_cap_set(c, o, "effective", last, &proc->caps.effective)) == 0 &&
	    (r = parse_cap_set(c, o, "inheritable", last, &proc->caps.inheritable)) == 0 &&
	    (r = parse_cap_set(c, o, "permitted", last, &proc->caps.permitted)) == 0)
		r = parse_cap_set(c, o, "ambient", last, &proc->caps.ambient);
	sc_pop(c, mark);
	return r;
}

static int parse_rlimit(struct spec_ctx *c, json_object *o, struct oci_process *p, size_t i)
{
	static const struct sc_field fields[] = {
		{ "type", SC_KNOWN }, { "soft", SC_KNOWN }, { "hard", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	struct oci_rlimit *rl = &p->rlimits[i];
	char *type = NULL;
	bool has_soft, has_hard;
	size_t mark;
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_str(c, o, "type", true, &type)) < 0)
		return r;
	mark = sc_push(c, "type");
	rl->resource = (int)spec_name_lookup(oci_rlimit_names, type);
	if (rl->resource < 0)
		r = sc_fail(c, "unknown rlimit \"%s\"", type);
	for (size_t j = 0; j < i && r == 0; j++)
		if (p->rlimits[j].resource == rl->resource)
			r = sc_fail(c, "%s is given twice (rlimits[%zu] has it)", type, j);
	sc_pop(c, mark);
	free(type);
	if (r < 0 || (r = sc_u64(c, o, "soft", &rl->soft, &has_soft)) < 0 ||
	    (r = sc_u64(c, o, "hard", &rl->hard, &has_hard)) < 0)
		return r;
	if (!has_soft || !has_hard) {
		mark = sc_push(c, has_soft ? "hard" : "soft");
		r = sc_fail(c, "missing; the runtime-spec requires it");
	} else if (rl->soft > rl->hard) {
		mark = sc_push(c, "soft");
		r = sc_fail(c, "%llu is above the hard limit %llu", (unsigned long long)rl->soft,
			    (unsigned long long)rl->hard);
	} else {
		return 0;
	}
	sc_pop(c, mark);
	return r;
}

static int parse_rlimits(struct spec_ctx *c, json_object *po, struct oci_process *p)
{
	json_object *a;
	size_t n, mark;
	int r = sc_get(c, po, "rlimits", json_type_array, false, &a);

	if (r < 0 || !a)
		return r;
	n = json_object_array_length(a);
	p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
	if (!p->rlimits)
		return -ENOMEM;
	mark = sc_push(c, "rlimits");
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t k = sc_push_index(c, i);

		p->n_rlimits = i + 1;
		r = parse_rlimit(c, json_object_array_get_idx(a, i), p, i);
		sc_pop(c, k);
	}
	sc_pop(c, mark);
	return r;
}

static int parse_console(struct spec_ctx *c, json_object *po, struct oci_process *p)
{
	static const struct sc_field fields[] = {
		{ "height", SC_KNOWN }, { "width", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	json_object *o;
	size_t mark;
	int r = sc_get(c, po, "consoleSize", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "consoleSize");
	if ((r = sc_object(c, o, fields)) == 0 && (r = sc_u32(c, o, "height", true, &p->console_height, NULL)) == 0)
		r = sc_u32(c, o, "width", true, &p->console_width, NULL);
	sc_pop(c, mark);
	return r;
}

/* args (at least one), env ("K=V"), cwd (absolute). */
static int parse_argv(struct spec_ctx *c, json_object *po, struct oci_process *p)
{
	size_t mark;
	int r;

	if ((r = sc_strv(c, po, "args", false, &p->args)) < 0)
		return r;
	if (!p->args || !p->args[0]) {
		mark = sc_push(c, "args");
		r = sc_fail(c, p->args ? "is empty; the runtime-spec requires at least one entry"
				       : "missing; the runtime-spec requires it");
		sc_pop(c, mark);
		return r;
	}
	if ((r = sc_strv(c, po, "env", false, &p->env)) < 0)
		return r;
	for (size_t i = 0; p->env && p->env[i]; i++)
		if (!strchr(p->env[i], '=') || p->env[i][0] == '=') {
			mark = sc_push(c, "env");
			sc_push_index(c, i);
			r = sc_fail(c, "\"%s\" is not NAME=VALUE", p->env[i]);
			sc_pop(c, mark);
			return r;
		}
	if ((r = sc_str(c, po, "cwd", true, &p->cwd)) < 0)
		return r;
	mark = sc_push(c, "cwd");
	r = sc_check_abs(c, p->cwd);
	sc_pop(c, mark);
	return r;
}

static int parse_security(struct spec_ctx *c, json_object *po, struct oci_process *p)
{
	int64_t adj;
	size_t mark;
	int r;

	if ((r = sc_bool(c, po, "noNewPrivileges", &p->no_new_privileges, NULL)) < 0 ||
	    (r = sc_int(c, po, "oomScoreAdj", -1000, 1000, &adj, &p->has_oom_score_adj)) < 0 ||
	    (r = sc_str(c, po, "apparmorProfile", false, &p->apparmor_profile)) < 0 ||
	    (r = sc_str(c, po, "selinuxLabel", false, &p->selinux_label)) < 0)
		return r;
	if (p->has_oom_score_adj)
		p->oom_score_adj = (int)adj;
	if (p->selinux_label && p->selinux_label[0]) {
		mark = sc_push(c, "selinuxLabel");
		r = sc_unsupported(c, "SELinux is");
		sc_pop(c, mark);
		return r;
	}
	if (p->apparmor_profile && p->apparmor_profile[0]) {
		mark = sc_push(c, "apparmorProfile");
		r = sc_warn(c, "\"%s\" is ignored: sbx-oci does not apply AppArmor profiles; sbx's policy "
			    "(the org.sbx.profile annotation) confines the container", p->apparmor_profile);
		sc_pop(c, mark);
	}
	return r;
}

int spec_parse_process(struct spec_ctx *c, json_object *o, struct oci_process *p)
{
	static const struct sc_field fields[] = {
		{ "terminal", SC_KNOWN }, { "consoleSize", SC_KNOWN }, { "cwd", SC_KNOWN },
		{ "env", SC_KNOWN }, { "args", SC_KNOWN }, { "rlimits", SC_KNOWN },
		{ "apparmorProfile", SC_KNOWN }, { "capabilities", SC_KNOWN },
		{ "noNewPrivileges", SC_KNOWN }, { "oomScoreAdj", SC_KNOWN },
		{ "selinuxLabel", SC_KNOWN }, { "user", SC_KNOWN },
		{ "commandLine", SC_REFUSE }, { "scheduler", SC_REFUSE }, { "ioPriority", SC_REFUSE },
		{ "execCPUAffinity", SC_REFUSE }, { NULL, SC_KNOWN },
	};
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_bool(c, o, "terminal", &p->terminal, NULL)) < 0 ||
	    (r = parse_console(c, o, p)) < 0 || (r = parse_argv(c, o, p)) < 0 ||
	    (r = parse_user(c, o, &p->user)) < 0 || (r = parse_caps(c, o, p)) < 0 ||
	    (r = parse_rlimits(c, o, p)) < 0)
		return r;
	return parse_security(c, o, p);
}

/* ---- hooks and annotations ---------------------------------------------- */

static int parse_hook(struct spec_ctx *c, json_object *o, struct oci_hook *h)
{
	static const struct sc_field fields[] = {
		{ "path", SC_KNOWN }, { "args", SC_KNOWN }, { "env", SC_KNOWN }, { "timeout", SC_KNOWN },
		{ NULL, SC_KNOWN },
	};
	int64_t t = 0;
	bool has_t;
	size_t mark;
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_str(c, o, "path", true, &h->path)) < 0)
		return r;
	mark = sc_push(c, "path");
	r = sc_check_abs(c, h->path);
	sc_pop(c, mark);
	if (r < 0 || (r = sc_strv(c, o, "args", false, &h->args)) < 0 ||
	    (r = sc_strv(c, o, "env", false, &h->env)) < 0 ||
	    (r = sc_int(c, o, "timeout", 1, INT32_MAX, &t, &has_t)) < 0)
		return r;
	h->timeout = (int)t;
	return 0;
}

static int parse_hooks(struct spec_ctx *c, json_object *top, struct oci_spec *s)
{
	static const struct sc_field fields[] = {
		{ "prestart", SC_KNOWN }, { "createRuntime", SC_KNOWN }, { "createContainer", SC_KNOWN },
		{ "startContainer", SC_KNOWN }, { "poststart", SC_KNOWN }, { "poststop", SC_KNOWN },
		{ NULL, SC_KNOWN },
	};
	json_object *o;
	size_t mark;
	int r = sc_get(c, top, "hooks", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "hooks");
	r = sc_object(c, o, fields);
	for (int k = 0; k < OCI_HOOK_KINDS && r == 0; k++) {
		json_object *a;
		size_t n, m;

		if ((r = sc_get(c, o, oci_hook_names[k], json_type_array, false, &a)) < 0 || !a)
			continue;
		n = json_object_array_length(a);
		s->hooks[k] = calloc(n ? n : 1, sizeof(*s->hooks[k]));
		if (!s->hooks[k]) {
			r = -ENOMEM;
			break;
		}
		m = sc_push(c, oci_hook_names[k]);
		for (size_t i = 0; i < n && r == 0; i++) {
			size_t j = sc_push_index(c, i);

			s->n_hooks[k] = i + 1;
			r = parse_hook(c, json_object_array_get_idx(a, i), &s->hooks[k][i]);
			sc_pop(c, j);
		}
		sc_pop(c, m);
	}
	sc_pop(c, mark);
	return r;
}

static int parse_annotations(struct spec_ctx *c, json_object *top, struct oci_spec *s)
{
	json_object *o;
	size_t mark, i = 0;
	int r = sc_get(c, top, "annotations", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	s->annotations = calloc((size_t)json_object_object_length(o) + 1, sizeof(*s->annotations));
	if (!s->annotations)
		return -ENOMEM;
	mark = sc_push(c, "annotations");
	json_object_object_foreach(o, k, v) {
		size_t m = sc_push_key(c, k);

		if (!k[0])
			r = sc_fail(c, "an empty key");
		else if ((r = sc_node_str(c, v, &s->annotations[i].value)) == 0)
			r = (s->annotations[i].key = strdup(k)) ? 0 : -ENOMEM;
		s->n_annotations = ++i;
		sc_pop(c, m);
		if (r < 0)
			break;
	}
	sc_pop(c, mark);
	return r;
}

static int parse_names(struct spec_ctx *c, json_object *top, struct oci_spec *s)
{
	int r;

	if ((r = sc_str(c, top, "hostname", false, &s->hostname)) < 0 ||
	    (r = sc_str(c, top, "domainname", false, &s->domainname)) < 0)
		return r;
	return 0;
}

/* Checks across objects, once "linux" is read: the names are set in the
 * container's UTS namespace, and without one they would be the host's. */
static int check_names(struct spec_ctx *c, struct oci_spec *s)
{
	const char *field = s->hostname && s->hostname[0] ? "hostname" :
			    s->domainname && s->domainname[0] ? "domainname" : NULL;
	size_t mark;
	int r;

	if (!field || oci_namespace_of(s, CLONE_NEWUTS))
		return 0;
	mark = sc_push(c, field);
	r = sc_fail(c, "needs the container's own uts namespace, and linux.namespaces has none (it "
		    "would rename the host)");
	sc_pop(c, mark);
	return r;
}

/* ---- the whole document ---------------------------------------------- */

static int parse_spec(struct spec_ctx *c, json_object *top, const char *bundle, struct oci_spec *s)
{
	json_object *o;
	size_t mark;
	int r;

	if ((r = sc_object(c, top, top_fields)) < 0 || (r = parse_version(c, top, s)) < 0 ||
	    (r = parse_root(c, top, bundle, s)) < 0 || (r = parse_mounts(c, top, bundle, s)) < 0 ||
	    (r = parse_names(c, top, s)) < 0 || (r = parse_hooks(c, top, s)) < 0 ||
	    (r = parse_annotations(c, top, s)) < 0)
		return r;
	if ((r = sc_get(c, top, "process", json_type_object, false, &o)) < 0)
		return r;
	if (o) {
		s->has_process = true;
		mark = sc_push(c, "process");
		r = spec_parse_process(c, o, &s->process);
		sc_pop(c, mark);
		if (r < 0)
			return r;
	}
	if ((r = sc_get(c, top, "linux", json_type_object, false, &o)) < 0)
		return r;
	if (o) {
		mark = sc_push(c, "linux");
		r = spec_parse_linux(c, o, s);
		sc_pop(c, mark);
		if (r < 0)
			return r;
	}
	return check_names(c, s);
}

int oci_spec_parse(const char *json, size_t n, const char *bundle, struct oci_spec *ret, char *why,
		   size_t len)
{
	struct spec_ctx c = { .file = "config.json", .why = why, .len = len };
	struct oci_spec s = { 0 };
	json_object *top;
	int r = spec_parse_root(json, n, &c, &top);

	if (r < 0)
		return r;
	r = parse_spec(&c, top, bundle, &s);
	json_object_put(top);
	s.warnings = c.warnings;
	if (r < 0) {
		if (r != -EINVAL && len)
			snprintf(why, len, "config.json: %s", strerror(-r));
		oci_spec_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

/* The whole of a file, at most 16 MiB. */
static int read_file(const char *path, char **ret, size_t *ret_n)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r = 0;

	if (fd < 0 || !buf) {
		r = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t k;

		if (n == cap) {
			char *b = cap >= (16u << 20) ? NULL : realloc(buf, cap * 2);

			if (!b) {
				r = cap >= (16u << 20) ? -EFBIG : -ENOMEM;
				goto out;
			}
			buf = b;
			cap *= 2;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret = buf;
	*ret_n = n;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

int oci_spec_load(const char *bundle, struct oci_spec *ret, char *why, size_t len)
{
	char *path, *json;
	size_t n;
	int r;

	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return -ENOMEM;
	r = read_file(path, &json, &n);
	if (r < 0) {
		snprintf(why, len, "%s: %s", path, strerror(-r));
		free(path);
		return r;
	}
	free(path);
	r = oci_spec_parse(json, n, bundle, ret, why, len);
	free(json);
	return r;
}

/* FILE names the document in the errors: the --process path, or
 * "process.json" for one from memory. */
static int process_parse(const char *file, const char *json, size_t n, struct oci_process *ret, char *why,
			 size_t len)
{
	struct spec_ctx c = { .file = file, .why = why, .len = len };
	struct oci_process p = { 0 };
	json_object *top;
	int r = spec_parse_root(json, n, &c, &top);

	if (r < 0)
		return r;
	r = spec_parse_process(&c, top, &p);
	json_object_put(top);
	/* exec has no place for warnings: an ignored AppArmor profile is said at create */
	sc_strv_free(c.warnings);
	if (r < 0) {
		if (r != -EINVAL && len)
			snprintf(why, len, "%s: %s", file, strerror(-r));
		oci_process_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

int oci_process_parse(const char *json, size_t n, struct oci_process *ret, char *why, size_t len)
{
	return process_parse("process.json", json, n, ret, why, len);
}

int oci_process_load(const char *path, struct oci_process *ret, char *why, size_t len)
{
	char *json;
	size_t n;
	int r = read_file(path, &json, &n);

	if (r < 0) {
		snprintf(why, len, "%s: %s", path, strerror(-r));
		return r;
	}
	r = process_parse(path, json, n, ret, why, len);
	free(json);
	return r;
}

/* ---- free and look-ups -------------------------------------------------- */

void oci_process_free(struct oci_process *p)
{
	if (!p)
		return;
	free(p->cwd);
	sc_strv_free(p->args);
	sc_strv_free(p->env);
	free(p->user.additional_gids);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

static void free_mounts(struct oci_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].destination);
		free(m[i].type);
		free(m[i].source);
		free(m[i].data);
	}
	free(m);
}

static void free_hooks(struct oci_hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		sc_strv_free(h[i].args);
		sc_strv_free(h[i].env);
	}
	free(h);
}

void oci_spec_free(struct oci_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	free_mounts(s->mounts, s->n_mounts);
	oci_process_free(&s->process);
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		free_hooks(s->hooks[k], s->n_hooks[k]);
	for (size_t i = 0; i < s->n_annotations; i++) {
		free(s->annotations[i].key);
		free(s->annotations[i].value);
	}
	free(s->annotations);
	for (size_t i = 0; i < s->n_namespaces; i++)
		free(s->namespaces[i].path);
	free(s->uid_mappings);
	free(s->gid_mappings);
	sc_strv_free(s->masked_paths);
	sc_strv_free(s->readonly_paths);
	for (size_t i = 0; i < s->n_sysctl; i++) {
		free(s->sysctl[i].key);
		free(s->sysctl[i].value);
	}
	free(s->sysctl);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->resources.cpuset_cpus);
	free(s->resources.cpuset_mems);
	free(s->resources.devices);
	free(s->resources.hugepages);
	free(s->cgroups_path);
	spec_seccomp_free(s->seccomp);
	free(s->mount_label);
	sc_strv_free(s->warnings);
	memset(s, 0, sizeof(*s));
}

const char *oci_annotation(const struct oci_spec *s, const char *key)
{
	for (size_t i = 0; i < s->n_annotations; i++)
		if (s->annotations[i].key && !strcmp(s->annotations[i].key, key))
			return s->annotations[i].value;
	return NULL;
}

const struct oci_namespace *oci_namespace_of(const struct oci_spec *s, int type)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		if (s->namespaces[i].type == type)
			return &s->namespaces[i];
	return NULL;
}
