/* SPDX-License-Identifier: MIT */
/* libsbx: one wrapper per method of org.sbx.Manager (libsbx.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libsbx/libsbx.h"
#include "varlink/varlink.h"

/* ---- building parameters: each helper leaves o NULL on ENOMEM ---- */

static void add_str(json_object **o, const char *key, const char *v)
{
	if (*o && v && json_object_object_add(*o, key, json_object_new_string(v))) {
		json_object_put(*o);
		*o = NULL;
	}
}

static void add_int(json_object **o, const char *key, int64_t v)
{
	if (*o && json_object_object_add(*o, key, json_object_new_int64(v))) {
		json_object_put(*o);
		*o = NULL;
	}
}

static void add_bool(json_object **o, const char *key, bool v)
{
	if (*o && json_object_object_add(*o, key, json_object_new_boolean(v))) {
		json_object_put(*o);
		*o = NULL;
	}
}

static void add_strv(json_object **o, const char *key, const char *const *v)
{
	json_object *a;

	if (!*o || !v)
		return;
	a = json_object_new_array();
	for (; a && *v; v++)
		if (json_object_array_add(a, json_object_new_string(*v))) {
			json_object_put(a);
			a = NULL;
		}
	if (!a || json_object_object_add(*o, key, a)) {
		json_object_put(a);
		json_object_put(*o);
		*o = NULL;
	}
}

static void add_obj(json_object **o, const char *key, json_object *v)
{
	if (!*o) {
		json_object_put(v);
		return;
	}
	if (!v || json_object_object_add(*o, key, v)) {
		json_object_put(v);
		json_object_put(*o);
		*o = NULL;
	}
}

static json_object *overrides(const struct sbx_overrides *ov)
{
	json_object *o = json_object_new_object();

	add_str(&o, "net", ov->net);
	add_strv(&o, "allow_host", ov->allow_host);
	add_strv(&o, "ro", ov->ro);
	add_strv(&o, "rw", ov->rw);
	add_strv(&o, "exec", ov->exec);
	add_str(&o, "cwd", ov->cwd);
	add_str(&o, "timeout", ov->timeout);
	add_str(&o, "memory", ov->memory);
	add_str(&o, "cpu", ov->cpu);
	add_str(&o, "pids", ov->pids);
	return o;
}

/* A call whose reply has one member of interest, handed to *ret. */
static int call_member(struct sbx_client *c, const char *method, json_object *params,
		       const char *member, json_object **ret)
{
	json_object *reply = NULL, *v = NULL;
	int r;

	if (!params)
		return -ENOMEM;
	r = sbx_call_simple(c, method, params, &reply);
	if (r < 0)
		return r;
	if (ret) {
		if (!json_object_object_get_ex(reply, member, &v) || !v) {
			json_object_put(reply);
			return -EBADMSG;
		}
		*ret = json_object_get(v);
	}
	json_object_put(reply);
	return 0;
}

static json_object *named(const char *name)
{
	json_object *o = json_object_new_object();

	add_str(&o, "name", name);
	return o;
}

int sbx_version(struct sbx_client *c, struct sbx_version *ret)
{
	json_object *reply = NULL;
	const char *v = "";
	int r = sbx_call_simple(c, "Version", NULL, &reply);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	if (vl_get_string(reply, "version", &v) < 0 || vl_get_int(reply, "abi", &ret->abi) < 0 ||
	    vl_get_int(reply, "api", &ret->api) < 0)
		r = -EBADMSG;
	snprintf(ret->version, sizeof(ret->version), "%s", v);
	json_object_put(reply);
	return r;
}

struct run_state {
	sbx_started_fn started;
	void *userdata;
	int exit_code;
	bool have_exit;
	json_object *result;
};

static int run_cb(json_object *p, bool continues, void *userdata)
{
	struct run_state *s = userdata;
	const char *name = "";
	json_object *res = NULL;
	int64_t code;
	bool started = false;

	vl_get_string(p, "name", &name);
	if (vl_get_bool(p, "started", &started) == 0 && started && s->started)
		s->started(name, s->userdata);
	if (vl_get_int(p, "exit_code", &code) == 0) {
		s->exit_code = (int)code;
		s->have_exit = true;
	}
	if (json_object_object_get_ex(p, "result", &res) && res) {
		json_object_put(s->result);
		s->result = json_object_get(res);
	}
	return 0;
}

int sbx_run_command(struct sbx_client *c, const char *profile, const char *const *argv,
	    const struct sbx_overrides *ov, const char *name, const int stdio_fds[3], bool tty,
	    sbx_started_fn started, void *userdata, int *ret_exit_code, json_object **ret_result)
{
	struct run_state s = { .started = started, .userdata = userdata };
	json_object *p = json_object_new_object();
	int r;

	add_str(&p, "profile", profile);
	add_strv(&p, "command", argv);
	if (ov)
		add_obj(&p, "overrides", overrides(ov));
	add_str(&p, "name", name);
	if (tty)
		add_bool(&p, "tty", true);
	if (!p)
		return -ENOMEM;
	r = sbx_call(c, "Run", p, SBX_CALL_MORE, stdio_fds, stdio_fds ? 3 : 0, run_cb, &s);
	if (r == 0 && !s.have_exit)
		r = -EBADMSG;
	if (r == 0 && ret_exit_code)
		*ret_exit_code = s.exit_code;
	if (r == 0 && ret_result)
		*ret_result = s.result;
	else
		json_object_put(s.result);
	return r;
}

int sbx_start(struct sbx_client *c, const char *name, const char *profile,
	      const char *const *argv, const struct sbx_overrides *ov, const char *restart,
	      int64_t max_restarts, json_object **ret_sandbox)
{
	json_object *p = named(name);

	add_str(&p, "profile", profile);
	add_strv(&p, "command", argv);
	if (ov)
		add_obj(&p, "overrides", overrides(ov));
	add_str(&p, "restart", restart);
	if (max_restarts >= 0)
		add_int(&p, "max_restarts", max_restarts);
	return call_member(c, "Start", p, "sandbox", ret_sandbox);
}

/* Stop and Restart: the sandbox, and a grace period when one is given. */
static int call_stopping(struct sbx_client *c, const char *method, const char *name,
			 int64_t timeout_ms, json_object **ret_sandbox)
{
	json_object *p = named(name);

	if (timeout_ms >= 0)
		add_int(&p, "timeout_ms", timeout_ms);
	return call_member(c, method, p, "sandbox", ret_sandbox);
}

int sbx_stop(struct sbx_client *c, const char *name, int64_t timeout_ms, json_object **ret_sandbox)
{
	return call_stopping(c, "Stop", name, timeout_ms, ret_sandbox);
}

int sbx_kill(struct sbx_client *c, const char *name, const char *signal)
{
	json_object *p = named(name);

	add_str(&p, "signal", signal);
	return call_member(c, "Kill", p, NULL, NULL);
}

int sbx_restart(struct sbx_client *c, const char *name, int64_t timeout_ms,
		json_object **ret_sandbox)
{
	return call_stopping(c, "Restart", name, timeout_ms, ret_sandbox);
}

int sbx_remove(struct sbx_client *c, const char *name, bool force)
{
	json_object *p = named(name);

	if (force)
		add_bool(&p, "force", true);
	return call_member(c, "Remove", p, NULL, NULL);
}

int sbx_status(struct sbx_client *c, const char *name, json_object **ret_sandbox)
{
	return call_member(c, "Status", named(name), "sandbox", ret_sandbox);
}

int sbx_list(struct sbx_client *c, json_object **ret_sandboxes)
{
	return call_member(c, "List", json_object_new_object(), "sandboxes", ret_sandboxes);
}

int sbx_profiles(struct sbx_client *c, json_object **ret_profiles)
{
	return call_member(c, "Profiles", json_object_new_object(), "profiles", ret_profiles);
}

int sbx_pools(struct sbx_client *c, json_object **ret_pools)
{
	return call_member(c, "Pools", json_object_new_object(), "pools", ret_pools);
}

int sbx_metrics(struct sbx_client *c, char **ret_text)
{
	json_object *t = NULL;
	char *s;
	int r = call_member(c, "Metrics", json_object_new_object(), "text", &t);

	if (r < 0)
		return r;
	if (!json_object_is_type(t, json_type_string)) {
		json_object_put(t);
		return -EBADMSG;
	}
	s = strdup(json_object_get_string(t));
	json_object_put(t);
	if (!s)
		return -ENOMEM;
	*ret_text = s;
	return 0;
}

struct data_state {
	sbx_data_fn cb;
	void *userdata;
};

static int logs_cb(json_object *p, bool continues, void *userdata)
{
	struct data_state *s = userdata;
	json_object *d = NULL;

	if (!json_object_object_get_ex(p, "data", &d) || !json_object_is_type(d, json_type_string))
		return 0;
	if (!s->cb || json_object_get_string_len(d) == 0)
		return 0;
	return s->cb(json_object_get_string(d), (size_t)json_object_get_string_len(d), s->userdata) ? 1 : 0;
}

int sbx_logs(struct sbx_client *c, const char *name, int64_t tail, bool follow,
	     sbx_data_fn cb, void *userdata)
{
	struct data_state s = { cb, userdata };
	json_object *p = named(name);

	if (tail >= 0)
		add_int(&p, "tail", tail);
	if (follow)
		add_bool(&p, "follow", true);
	if (!p)
		return -ENOMEM;
	return sbx_call(c, "Logs", p, follow ? SBX_CALL_MORE : 0, NULL, 0, logs_cb, &s);
}

int sbx_update(struct sbx_client *c, const char *name, const struct sbx_update *u,
	       json_object **ret_sandbox)
{
	json_object *p = named(name);

	add_str(&p, "memory", u->memory);
	add_str(&p, "pids", u->pids);
	add_str(&p, "cpu", u->cpu);
	add_strv(&p, "allow", u->allow);
	add_strv(&p, "deny", u->deny);
	add_strv(&p, "deny_path", u->deny_path);
	add_strv(&p, "ro", u->ro);
	add_strv(&p, "rw", u->rw);
	return call_member(c, "Update", p, "sandbox", ret_sandbox);
}

int sbx_reload(struct sbx_client *c, bool running, json_object **ret)
{
	json_object *p = json_object_new_object();

	if (running)
		add_bool(&p, "running", true);
	if (!p)
		return -ENOMEM;
	return sbx_call_simple(c, "Reload", p, ret);
}

struct event_state {
	sbx_event_fn cb;
	void *userdata;
};

static int event_cb(json_object *p, bool continues, void *userdata)
{
	struct event_state *s = userdata;
	json_object *e = NULL;

	if (!json_object_object_get_ex(p, "event", &e) || !e || !s->cb)
		return 0;
	return s->cb(e, s->userdata) ? 1 : 0;
}

int sbx_subscribe(struct sbx_client *c, const char *name, sbx_event_fn cb, void *userdata)
{
	struct event_state s = { cb, userdata };
	json_object *p = json_object_new_object();

	add_str(&p, "name", name);
	if (!p)
		return -ENOMEM;
	return sbx_call(c, "Subscribe", p, SBX_CALL_MORE, NULL, 0, event_cb, &s);
}
