/* SPDX-License-Identifier: MIT */
/* A sandbox as the API shows it (the Sandbox type of docs/api.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bpfload.h"
#include "core/instance.h"
#include "core/sandbox.h"
#include "daemon/daemon.h"
#include "kernel/limits.h"
#include "policy.h"
#include "util/util.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The limits the monitor runs with: from its profile file (an Update
 * rewrites it). */
static json_object *limits_json(struct sbxd_sandbox *sb)
{
	json_object *o = json_object_new_object();
	struct sbx_policy *pol = NULL;
	struct sbx_diags diags = { 0 };
	char path[4200], buf[64];
	const char *paths[1] = { path };

	if (!o)
		return NULL;
	snprintf(path, sizeof(path), "%s/profile.toml", sb->dir);
	if (sbx_policy_load(paths, 1, NULL, &pol, &diags) == 0 && pol->n_profiles) {
		const struct sbx_profile *p = &pol->profiles[0];

		json_object_object_add(o, "memory", json_object_new_int64((int64_t)p->memory_bytes));
		json_object_object_add(o, "pids", json_object_new_int64((int64_t)p->pids));
		if (p->cpu_milli)
			snprintf(buf, sizeof(buf), "%u.%03u", p->cpu_milli / 1000, p->cpu_milli % 1000);
		else
			buf[0] = '\0';
		json_object_object_add(o, "cpu", json_object_new_string(buf));
		if (p->timeout_ms)
			snprintf(buf, sizeof(buf), "%llums", (unsigned long long)p->timeout_ms);
		else
			buf[0] = '\0';
		json_object_object_add(o, "timeout", json_object_new_string(buf));
	} else {
		json_object_object_add(o, "memory", json_object_new_int64(0));
		json_object_object_add(o, "pids", json_object_new_int64(0));
		json_object_object_add(o, "cpu", json_object_new_string(""));
		json_object_object_add(o, "timeout", json_object_new_string(""));
	}
	sbx_policy_free(pol);
	sbx_diags_free(&diags);
	return o;
}

static json_object *counters_json(const struct sbx_sandbox_info *info)
{
	struct sbx_instance in;
	struct sbx_stats st = { 0 };
	struct sbx_drops dr;
	struct sbx_usage u = { 0 };
	struct sbx_limits *l;
	struct sbx_bpf b;
	char why[256];
	json_object *o;
	uint64_t denials;

	if (sbx_instance_get(&in) < 0)
		return NULL;
	if (sbx_bpf_adopt(&b, why, sizeof(why)) == 0) {
		sbx_sandbox_stats(&b, info->slot, &st, &dr);
		sbx_bpf_close(&b);
	}
	l = calloc(1, sizeof(*l));
	if (l && sbx_limits_open(l, in.name, info->id, info->cgroup) == 0)
		sbx_limits_read(l, &u);
	free(l);
	o = json_object_new_object();
	if (!o)
		return NULL;
	denials = st.connect_denied + st.send_denied + st.bind_denied + st.sock_denied;
	json_object_object_add(o, "bytes_in", json_object_new_int64((int64_t)st.bytes_in));
	json_object_object_add(o, "bytes_out", json_object_new_int64((int64_t)st.bytes_out));
	json_object_object_add(o, "connect_allowed", json_object_new_int64((int64_t)st.connect_allowed));
	json_object_object_add(o, "connect_denied", json_object_new_int64((int64_t)st.connect_denied));
	json_object_object_add(o, "denials", json_object_new_int64((int64_t)denials));
	json_object_object_add(o, "memory_current", json_object_new_int64((int64_t)u.memory_bytes));
	json_object_object_add(o, "memory_peak", json_object_new_int64((int64_t)u.peak_memory_bytes));
	json_object_object_add(o, "cpu_usec", json_object_new_int64((int64_t)(u.cpu_user_us + u.cpu_system_us)));
	return o;
}

/* Why sbx failed or could not execute the command (exit codes 125-127):
 * the last line its monitor wrote. */
static json_object *monitor_error(struct sbxd_sandbox *sb)
{
	char path[4200], *buf = NULL, *end, *line;
	size_t n;
	json_object *o = NULL;

	snprintf(path, sizeof(path), "%s/monitor.log", sb->dir);
	if (sbx_read_file(path, &buf, &n, 1 << 20) < 0)
		return NULL;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	end = buf + n;
	line = memrchr(buf, '\n', n);
	line = line ? line + 1 : buf;
	if (!strncmp(line, "sbx: error: ", 12))
		line += 12;
	if (line < end)
		o = json_object_new_string_len(line, (int)(end - line > 2000 ? 2000 : end - line));
	free(buf);
	return o;
}

json_object *sbxd_sandbox_json(struct sbxd_sandbox *sb, bool counters)
{
	struct sbx_sandbox_info info;

	return sbxd_sandbox_json_at(sb, counters, sbxd_sandbox_locate(sb, &info) == 0 ? &info : NULL);
}

json_object *sbxd_sandbox_json_at(struct sbxd_sandbox *sb, bool counters,
				  const struct sbx_sandbox_info *info)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	pid_t pid = info ? info->workload_pid : 0;

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, "name", json_object_new_string(sb->name));
	json_object_object_add(o, "id", json_object_new_string(sb->id));
	json_object_object_add(o, "profile", json_object_new_string(sb->profile ? sb->profile : ""));
	json_object_object_add(o, "provider", json_object_new_string(sb->provider ? sb->provider : ""));
	json_object_object_add(o, "owner_uid", json_object_new_int64(sb->owner));
	json_object_object_add(o, "state", json_object_new_string(sbxd_state_name(sb->state)));
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	json_object_object_add(o, "started", json_object_new_int64((int64_t)sb->started_us));
	json_object_object_add(o, "uptime_usec", json_object_new_int64(
		sb->state == SBXD_RUNNING && sb->started_us ? (int64_t)(now_us() - sb->started_us) : 0));
	if (sb->has_exit) {
		json_object_object_add(o, "exit_code", json_object_new_int(sb->exit_code));
		if (sb->signal)
			json_object_object_add(o, "signal", json_object_new_string(sigabbrev_np(sb->signal) ? sigabbrev_np(sb->signal) : "?"));
		if (sb->exit_code >= 125 && sb->exit_code <= 127) {	/* sbx's own codes */
			json_object *e = monitor_error(sb);

			if (e)
				json_object_object_add(o, "error", e);
		}
	}
	json_object_object_add(o, "restarts", json_object_new_int64(sb->restarts));
	json_object_object_add(o, "pooled", json_object_new_boolean(sb->pooled));
	json_object_object_add(o, "restart", json_object_new_string(sbxd_restart_name(sb->restart)));
	json_object_object_add(o, "max_restarts", json_object_new_int64(sb->max_restarts));
	json_object_object_add(o, "policy_version", json_object_new_int64(sb->policy_version));
	for (char **v = sb->argv; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	json_object_object_add(o, "command", a);
	json_object_object_add(o, "limits", limits_json(sb));
	if (counters) {
		json_object *c = info ? counters_json(info) : NULL;

		if (c)
			json_object_object_add(o, "counters", c);
	}
	return o;
}
