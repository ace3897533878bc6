/* SPDX-License-Identifier: MIT */
/*
 * Update and Reload --running: live policy changes (docs/api.md "Update").
 * The sandbox's profile in force is its STATE/sandboxes/NAME/profile.toml;
 * the change is applied to a copy, written out and loaded back through the
 * policy loader (so the new profile passed the same checks as a file), and
 * core/update.c moves the running sandbox to it atomically. The file is
 * replaced only after the move succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/adhoc.h"
#include "core/instance.h"
#include "core/update.h"
#include "daemon/daemon.h"
#include "util/util.h"

#define IFACE "org.sbx.Manager."

struct edit {
	struct sbx_profile w;		/* cur, with what the call changes */
	struct sbx_net_entry *entries;	/* owned: cur's (shallow) and the new ones */
	size_t n_cur_entries, n_entries;
	struct sbx_fs_rule *rules;
	size_t n_cur_rules, n_rules;
};

static void edit_free(struct edit *e)
{
	for (size_t i = e->n_cur_entries; i < e->n_entries; i++)
		sbx_net_entry_clear(&e->entries[i]);
	for (size_t i = e->n_cur_rules; i < e->n_rules; i++)
		free(e->rules[i].path);
	free(e->entries);
	free(e->rules);
}

static int reply_invalid(struct vl_call *c, const char *parameter, const char *reason)
{
	json_object *p = json_object_new_object();

	if (p) {
		json_object_object_add(p, "parameter", json_object_new_string(parameter));
		json_object_object_add(p, "reason", json_object_new_string(reason));
	}
	return vl_call_error(c, IFACE "InvalidParameter", p);
}

static int limits(struct edit *e, json_object *params, const char **bad, char *why, size_t len)
{
	const char *s;
	uint64_t v;
	uint32_t m;

	if (vl_get_string(params, "memory", &s) == 0) {
		*bad = "memory";
		if (sbx_parse_size(s, &v) < 0 || v == 0)
			return sbx_fail(why, len, -EINVAL, "'%s' is not a size such as \"128M\"", s);
		e->w.memory_bytes = v;
	}
	if (vl_get_string(params, "pids", &s) == 0) {
		char *end;

		*bad = "pids";
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || end == s || *end || v == 0 || v > UINT32_MAX)
			return sbx_fail(why, len, -EINVAL, "'%s' is not a number of tasks", s);
		e->w.pids = (uint32_t)v;
	}
	if (vl_get_string(params, "cpu", &s) == 0) {
		*bad = "cpu";
		if (sbx_parse_cpu_milli(s, &m) < 0 || m == 0)
			return sbx_fail(why, len, -EINVAL, "'%s' is not a number of CPUs such as \"0.5\"", s);
		e->w.cpu_milli = m;
	}
	return 0;
}

static int net(struct edit *e, json_object *params, const char **bad, char *why, size_t len)
{
	static const char *const keys[] = { "allow", "deny" };

	for (size_t k = 0; k < 2; k++) {
		const char **v = NULL;
		size_t n = 0;
		int r = vl_get_strv(params, keys[k], &v, &n);
		struct sbx_net_entry *p;

		if (r == -ENOENT)
			continue;
		*bad = keys[k];
		if (r < 0 || n > 4096)
			return sbx_fail(why, len, -EINVAL, "must be an array of at most 4096 strings");
		p = realloc(e->entries, (e->n_entries + n) * sizeof(*p));
		if (!p) {
			free(v);
			return -ENOMEM;
		}
		e->entries = p;
		for (size_t i = 0; i < n; i++) {
			struct sbx_net_entry *x = &e->entries[e->n_entries];
			char err[256];

			memset(x, 0, sizeof(*x));
			if (sbx_parse_net_entry(v[i], x, err, sizeof(err)) < 0) {
				free(v);
				return sbx_fail(why, len, -EINVAL, "'%s': %s", v[i], err);
			}
			x->deny = k == 1;
			/* denying what is allowed word for word takes the allow
			 * entry away (a policy may not list one entry twice) */
			for (size_t j = 0; x->deny && j < e->n_entries; j++)
				if (!e->entries[j].deny && !strcmp(e->entries[j].text, x->text)) {
					if (j >= e->n_cur_entries)
						sbx_net_entry_clear(&e->entries[j]);
					memmove(&e->entries[j], &e->entries[j + 1],
						(e->n_entries - j) * sizeof(*x));
					if (j < e->n_cur_entries)
						e->n_cur_entries--;
					e->n_entries--;
					x = &e->entries[e->n_entries];
					break;
				}
			e->n_entries++;
		}
		free(v);
		/* an allow entry opens a profile without network to those entries */
		if (k == 0 && n && e->w.net.mode == SBX_NET_NONE)
			e->w.net.mode = SBX_NET_ALLOW;
	}
	e->w.net.entries = e->entries;
	e->w.net.n_entries = e->n_entries;
	return 0;
}

static int fs(struct edit *e, json_object *params, const char **bad, char *why, size_t len)
{
	static const struct { const char *key; uint32_t access; } kinds[] = {
		{ "deny_path", 0 }, { "ro", SBX_ACC_R | SBX_ACC_X }, { "rw", SBX_ACC_R | SBX_ACC_W | SBX_ACC_X },
	};

	for (size_t k = 0; k < 3; k++) {
		const char **v = NULL;
		size_t n = 0;
		int r = vl_get_strv(params, kinds[k].key, &v, &n);
		struct sbx_fs_rule *p;

		if (r == -ENOENT)
			continue;
		*bad = kinds[k].key;
		if (r < 0 || n > 4096)
			return sbx_fail(why, len, -EINVAL, "must be an array of at most 4096 paths");
		p = realloc(e->rules, (e->n_rules + n) * sizeof(*p));
		if (!p) {
			free(v);
			return -ENOMEM;
		}
		e->rules = p;
		for (size_t i = 0; i < n; i++) {
			struct sbx_fs_rule *x = &e->rules[e->n_rules];
			struct stat st;
			char err[256];

			if (sbx_check_path(v[i], 4000, true, err, sizeof(err)) < 0) {
				free(v);
				return sbx_fail(why, len, -EINVAL, "'%s': %s", v[i], err);
			}
			memset(x, 0, sizeof(*x));
			x->dir = stat(v[i], &st) == 0 && S_ISDIR(st.st_mode);
			if (asprintf(&x->path, "%s%s", v[i], x->dir && v[i][strlen(v[i]) - 1] != '/' ? "/" : "") < 0) {
				free(v);
				return -ENOMEM;
			}
			x->access = kinds[k].access;
			e->n_rules++;
		}
		free(v);
	}
	e->w.fs.rules = e->rules;
	e->w.fs.n_rules = e->n_rules;
	return 0;
}

/* The new profile: cur with the call's changes, through the loader. */
static int build_next(const struct sbx_profile *cur, json_object *params, struct sbx_policy **ret,
		      const char **bad, char *why, size_t len)
{
	struct edit e = { .w = *cur };
	struct sbx_diags diags = { 0 };
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	e.entries = calloc(cur->net.n_entries + 1, sizeof(*e.entries));
	e.rules = calloc(cur->fs.n_rules + 1, sizeof(*e.rules));
	if (!e.entries || !e.rules) {
		edit_free(&e);
		return -ENOMEM;
	}
	memcpy(e.entries, cur->net.entries, cur->net.n_entries * sizeof(*e.entries));
	memcpy(e.rules, cur->fs.rules, cur->fs.n_rules * sizeof(*e.rules));
	e.n_cur_entries = e.n_entries = cur->net.n_entries;
	e.n_cur_rules = e.n_rules = cur->fs.n_rules;
	r = limits(&e, params, bad, why, len);
	if (r == 0)
		r = net(&e, params, bad, why, len);
	if (r == 0)
		r = fs(&e, params, bad, why, len);
	if (r == 0) {
		f = open_memstream(&buf, &n);
		r = f ? sbx_profile_write_toml(&e.w, f) : -ENOMEM;
		if (f && fclose(f) != 0 && r == 0)
			r = -ENOMEM;
	}
	edit_free(&e);
	if (r == 0) {
		*bad = "update";
		r = sbx_policy_load_buffer("update", buf, n, NULL, ret, &diags);
		if (r < 0 && diags.n)
			snprintf(why, len, "%s", diags.v[0].msg);
		sbx_diags_free(&diags);
	}
	free(buf);
	return r;
}

static int load_current(struct sbxd_sandbox *sb, struct sbx_policy **ret)
{
	struct sbx_diags diags = { 0 };
	char path[4200];
	const char *paths[1] = { path };
	int r;

	snprintf(path, sizeof(path), "%s/profile.toml", sb->dir);
	r = sbx_policy_load(paths, 1, NULL, ret, &diags);
	sbx_diags_free(&diags);
	if (r == 0 && (*ret)->n_profiles != 1) {
		*ret = sbx_policy_free(*ret);
		r = -EBADMSG;
	}
	return r;
}

static int not_running(struct vl_call *c, const struct sbxd_sandbox *sb)
{
	json_object *p = json_object_new_object();

	if (p)
		json_object_object_add(p, "name", json_object_new_string(sb->name));
	return vl_call_error(c, IFACE "NotRunning", p);
}

/* Moves sb from cur to next. 1 when it moved (the caller replies), 0 when
 * c was answered with an error. root: whether the caller may loosen. */
static int apply(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb,
		 const struct sbx_profile *cur, const struct sbx_profile *next, bool root)
{
	struct sbx_update_report rep;
	struct sbx_instance in;
	char why[1024];
	json_object *p;
	int r;

	if (!sbx_profile_tightens(cur, next, why, sizeof(why)) && !root)
		return sbxd_deny(d, c, why, "update");
	if (sbxd_sandbox_locate(sb, NULL) < 0)
		return not_running(c, sb);
	/* the monitor reads the file when the first event of the new policy
	 * id comes (rule attribution): it is in place before the flip */
	r = sbxd_sandbox_write_profile(sb, next);
	if (r == 0)
		r = sbx_instance_get(&in);
	if (r == 0)
		r = sbx_live_update(&in, sb->id, cur, next, &rep, why, sizeof(why));
	if (r < 0 && sbxd_sandbox_write_profile(sb, cur) < 0)
		fprintf(stderr, "sbxd: %s: cannot restore profile.toml after a failed update\n", sb->name);
	if (r == -EOPNOTSUPP) {
		p = json_object_new_object();
		if (p) {
			json_object_object_add(p, "rule", json_object_new_string("update"));
			json_object_object_add(p, "reason", json_object_new_string(why));
		}
		return vl_call_error(c, IFACE "Unenforceable", p);
	}
	if (r == -EBUSY)
		return reply_invalid(c, "memory", why);
	if (r == -ENOENT || r == -ESRCH)
		return not_running(c, sb);
	if (r < 0) {
		p = json_object_new_object();
		if (p)
			json_object_object_add(p, "reason", json_object_new_string(why));
		return vl_call_error(c, IFACE "Failed", p);
	}
	sb->policy_version++;
	sbxd_sandbox_save(sb);
	return 1;
}

int sbxd_update(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, json_object *params)
{
	struct sbx_policy *cur = NULL, *next = NULL;
	const char *bad = "update";
	char why[1024] = "";
	json_object *p;
	int r;

	r = load_current(sb, &cur);
	if (r < 0)
		return r;
	r = build_next(&cur->profiles[0], params, &next, &bad, why, sizeof(why));
	if (r < 0) {
		sbx_policy_free(cur);
		return r == -ENOMEM ? r : reply_invalid(c, bad, why[0] ? why : strerror(-r));
	}
	r = apply(d, c, sb, &cur->profiles[0], &next->profiles[0], vl_call_peer(c)->uid == 0);
	sbx_policy_free(cur);
	sbx_policy_free(next);
	if (r <= 0)
		return r;
	p = json_object_new_object();
	if (p)
		json_object_object_add(p, "sandbox", sbxd_sandbox_json(sb, true));
	return vl_call_reply(c, p);
}

/* The new version of sb's profile with the overrides sb was started with.
 * A non-root owner's overrides apply only while they tighten it: where one
 * would loosen the new version (an administrator lowered a limit below it),
 * the new version stands without the overrides. */
static int new_version(struct sbxd_sandbox *sb, const struct sbx_profile *base,
		       struct adhoc_profile *ap)
{
	struct adhoc_args a = { 0 }, none = { 0 };
	char msg[512];
	int r;

	cli_log_capture(msg, sizeof(msg));
	r = sbxd_overrides_args(sb->overrides, &a);
	if (r == 0)
		r = adhoc_build(&a, base, sb->owner == 0, ap);
	if (r < 0)
		r = adhoc_build(&none, base, false, ap);
	cli_log_capture(NULL, 0);
	return r;
}

static bool differs(const struct sbx_profile *a, const struct sbx_profile *b)
{
	return sbx_update_net_differs(a, b) || sbx_update_fs_differs(a, b) ||
	       a->memory_bytes != b->memory_bytes || a->pids != b->pids || a->cpu_milli != b->cpu_milli;
}

/* Moves one running sandbox to base's new version: 1 moved, 0 nothing to
 * do, -errno with why (the sandbox stays on its old version). */
static int move_one(struct sbxd_sandbox *sb, const struct sbx_profile *base, char *why, size_t len)
{
	struct sbx_policy *cur = NULL;
	struct sbx_update_report rep;
	struct adhoc_profile ap = { 0 };
	struct sbx_instance in;
	struct sbx_profile np;
	int r;

	r = load_current(sb, &cur);
	if (r == 0)
		r = new_version(sb, base, &ap);
	if (r < 0)
		goto out;
	/* the monitor and a restart find the profile by the name it started with */
	np = *ap.p;
	np.name = cur->profiles[0].name;
	if (!differs(&cur->profiles[0], &np))
		goto out;
	r = sbxd_sandbox_locate(sb, NULL);
	if (r == 0)
		r = sbx_instance_get(&in);
	if (r == 0)
		r = sbxd_sandbox_write_profile(sb, &np);
	if (r == 0)
		r = sbx_live_update(&in, sb->id, &cur->profiles[0], &np, &rep, why, len);
	if (r < 0)
		sbxd_sandbox_write_profile(sb, &cur->profiles[0]);
	else
		r = 1;
out:
	if (r < 0 && !why[0])
		snprintf(why, len, "%s", strerror(-r));
	adhoc_profile_free(&ap);
	sbx_policy_free(cur);
	return r;
}

/* Reload --running: each running sandbox whose profile changed moves to the
 * new version, atomically. */
json_object *sbxd_move_running(struct sbxd *d, bool running)
{
	json_object *moved = json_object_new_array();

	if (!running || !moved)
		return moved;
	for (struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next) {
		const struct sbx_profile *base = sb->profile ? cli_policy_find(&d->pol, sb->profile) : NULL;
		char why[1024] = "";
		int r;

		if (sb->state != SBXD_RUNNING || !base)
			continue;
		r = move_one(sb, base, why, sizeof(why));
		if (r == 1) {
			sb->policy_version++;
			sbxd_sandbox_save(sb);
			json_object_array_add(moved, json_object_new_string(sb->name));
		} else if (r < 0) {
			fprintf(stderr, "sbxd: reload: %s stays on its profile's old version: %s\n",
				sb->name, why);
		}
	}
	return moved;
}

/* Before a restart (Restart, the restart policy): the stored profile stands
 * while it is no looser than the current version of its profile with the
 * owner's overrides (what Reload --running moves a sandbox to), so that an
 * owner's own Update tightenings survive. Where it is looser (an
 * administrator tightened the profile and Reload could not move the running
 * sandbox, e.g. Landlock fs rules; or the owner's override would now widen
 * it), the restart runs that current version instead. */
int sbxd_restart_profile(struct sbxd_sandbox *sb)
{
	const struct sbx_profile *base = sb->profile ? cli_policy_find(&sb->d->pol, sb->profile) : NULL;
	struct sbx_policy *cur = NULL;
	struct adhoc_profile ap = { 0 };
	struct sbx_profile np;
	char why[512];
	int r;

	if (!base)
		return 0;	/* gone from the policy: the stored version stands */
	r = load_current(sb, &cur);
	if (r == 0)
		r = new_version(sb, base, &ap);
	if (r == 0) {
		np = *ap.p;
		np.name = cur->profiles[0].name;
		if (!sbx_profile_tightens(&np, &cur->profiles[0], why, sizeof(why)))
			r = sbxd_sandbox_write_profile(sb, &np);
	}
	adhoc_profile_free(&ap);
	sbx_policy_free(cur);
	return r;
}
