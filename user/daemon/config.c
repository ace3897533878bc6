/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auditlog.h"
#include "core/logfile.h"
#include "daemon/config.h"
#include "policy.h"
#include "toml.h"
#include "util/util.h"

void sbxd_config_defaults(struct sbxd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->policy_dir, sizeof(c->policy_dir), "%s", "/etc/sbx/policy.d");
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", SBXD_STATE_DEFAULT);
	snprintf(c->socket, sizeof(c->socket), "%s", SBXD_SOCKET_DEFAULT);
	c->stop_timeout_ms = 10000;
	c->log_max_size = 1 << 20;
	c->log_keep = 3;
	c->audit_max_size = SBX_AUDIT_MAX_SIZE_DEFAULT;
	c->audit_keep = SBX_AUDIT_KEEP_DEFAULT;
	c->max_sandboxes = 4096;
	c->max_per_user = 64;
}

static int set_path(char *dst, size_t cap, const char *v, bool allow_empty, char *why, size_t len)
{
	if (!*v && allow_empty) {
		dst[0] = '\0';
		return 0;
	}
	if (v[0] != '/') {
		snprintf(why, len, "'%s' is not an absolute path", v);
		return -EINVAL;
	}
	if (strlen(v) >= cap) {
		snprintf(why, len, "path longer than %zu bytes", cap - 1);
		return -EINVAL;
	}
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int add_group(struct sbxd_config *c, const char *name, char *why, size_t len)
{
	struct group *g = getgrnam(name);

	if (!g) {
		snprintf(why, len, "admin_groups: no group '%s' on this host", name);
		return -EINVAL;
	}
	if (c->n_admin_gids == SBXD_MAX_ADMIN_GROUPS) {
		snprintf(why, len, "admin_groups: more than %d groups", SBXD_MAX_ADMIN_GROUPS);
		return -EINVAL;
	}
	c->admin_gids[c->n_admin_gids++] = g->gr_gid;
	return 0;
}

static int set_uint(uint64_t *dst, const char *key, const char *v, bool size, uint64_t max,
		    char *why, size_t len)
{
	uint64_t x;
	int r = size ? sbx_parse_size(v, &x) : sbx_parse_duration_ms(v, &x);

	if (r < 0 || x == 0 || x > max) {
		snprintf(why, len, "%s: '%s' is not a %s", key, v,
			 size ? "size such as \"1M\"" : "duration such as \"10s\"");
		return -EINVAL;
	}
	*dst = x;
	return 0;
}

int sbxd_parse_listen(const char *v, struct sockaddr_storage *ret, socklen_t *ret_len,
		      char *why, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	char host[64], *end;
	const char *colon;
	unsigned long port;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			return sbx_fail(why, len, -EINVAL, "metrics_listen: '%s' is not [IPV6]:PORT "
					"(brackets around the address, then :PORT)", v);
		snprintf(host, sizeof(host), "%.*s", (int)(close - v - 1), v + 1);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || colon == v || (size_t)(colon - v) >= sizeof(host) || memchr(v, ':', (size_t)(colon - v)))
			return sbx_fail(why, len, -EINVAL, "metrics_listen: '%s' is not HOST:PORT "
					"such as \"127.0.0.1:9477\" (an IPv6 address goes in brackets: "
					"\"[::1]:9477\")", v);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - v), v);
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return sbx_fail(why, len, -EINVAL, "metrics_listen: '%s': the port must be a number "
				"from 1 to 65535", v);
	if (v[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return sbx_fail(why, len, -EINVAL, "metrics_listen: '%s' is not an IPv6 address",
					host);
		*ret_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return sbx_fail(why, len, -EINVAL, "metrics_listen: '%s' is not an IPv4 address "
					"(a host name is not resolved; an IPv6 address goes in brackets)",
					host);
		*ret_len = sizeof(*a);
	}
	*ret = ss;
	return 0;
}

/* "PROFILE=N": a later one for the same profile replaces the earlier. */
static int set_pool(struct sbxd_config *c, const char *v, char *why, size_t len)
{
	const char *eq = strrchr(v, '=');
	unsigned long long n;
	size_t i, plen;
	char *end;

	if (!eq || eq == v)
		return sbx_fail(why, len, -EINVAL, "pool: '%s' is not PROFILE=N", v);
	plen = (size_t)(eq - v);
	if (plen >= sizeof(c->pools[0].profile))
		return sbx_fail(why, len, -EINVAL, "pool: the profile name '%.*s' is too long",
				(int)plen, v);
	errno = 0;
	n = strtoull(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end || eq[1] == '-' || n > SBXD_POOL_SIZE_MAX)
		return sbx_fail(why, len, -EINVAL, "pool: '%s' is not a number from 0 to %d",
				eq + 1, SBXD_POOL_SIZE_MAX);
	for (i = 0; i < c->n_pools; i++)
		if (strlen(c->pools[i].profile) == plen && !strncmp(c->pools[i].profile, v, plen))
			break;
	if (i == SBXD_MAX_POOLS)
		return sbx_fail(why, len, -EINVAL, "pool: more than %d profiles", SBXD_MAX_POOLS);
	snprintf(c->pools[i].profile, sizeof(c->pools[i].profile), "%.*s", (int)plen, v);
	c->pools[i].size = (uint32_t)n;
	if (i == c->n_pools)
		c->n_pools++;
	return 0;
}

int sbxd_config_set(struct sbxd_config *c, const char *key, const char *v, char *why, size_t len)
{
	uint64_t x;

	if (!strcmp(key, "pool"))
		return set_pool(c, v, why, len);

	if (!strcmp(key, "policy_dir"))
		return set_path(c->policy_dir, sizeof(c->policy_dir), v, false, why, len);
	if (!strcmp(key, "state_dir"))
		return set_path(c->state_dir, sizeof(c->state_dir), v, false, why, len);
	if (!strcmp(key, "socket"))
		return set_path(c->socket, sizeof(c->socket), v, false, why, len);
	if (!strcmp(key, "audit_dir"))
		return set_path(c->audit_dir, sizeof(c->audit_dir), v, true, why, len);
	if (!strcmp(key, "cgroup_root"))
		return set_path(c->cgroup_root, sizeof(c->cgroup_root), v, true, why, len);
	if (!strcmp(key, "sbx"))
		return set_path(c->sbx_binary, sizeof(c->sbx_binary), v, true, why, len);
	if (!strcmp(key, "admin_groups"))
		return add_group(c, v, why, len);
	if (!strcmp(key, "metrics_listen")) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (!*v) {
			c->metrics_listen[0] = '\0';	/* off */
			return 0;
		}
		if (strlen(v) >= sizeof(c->metrics_listen))
			return sbx_fail(why, len, -EINVAL, "metrics_listen: '%s' is too long", v);
		if (sbxd_parse_listen(v, &ss, &sl, why, len) < 0)
			return -EINVAL;
		snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s", v);
		return 0;
	}
	if (!strcmp(key, "audit_journal")) {
		bool on = !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1");

		if (!on && strcmp(v, "false") && strcmp(v, "no") && strcmp(v, "0"))
			return sbx_fail(why, len, -EINVAL, "audit_journal: '%s' is not true or false", v);
		c->audit_journal = on;
		return 0;
	}
	if (!strcmp(key, "stop_timeout"))
		return set_uint(&c->stop_timeout_ms, key, v, false, 24ull * 3600 * 1000, why, len);
	if (!strcmp(key, "log_max_size")) {
		int r = set_uint(&c->log_max_size, key, v, true, SBX_LOG_MAX_SIZE_MAX, why, len);

		if (r == 0 && c->log_max_size < SBX_LOG_MAX_SIZE_MIN)
			return sbx_fail(why, len, -EINVAL, "log_max_size: '%s' is below %llu bytes", v,
					SBX_LOG_MAX_SIZE_MIN);
		return r;
	}
	if (!strcmp(key, "audit_max_size")) {
		if (sbx_auditlog_parse_size(v, &c->audit_max_size) < 0)
			return sbx_fail(why, len, -EINVAL, "audit_max_size: '%s' is not 0 (no rotation) "
					"or a size from 4K to 1T such as \"64M\"", v);
		return 0;
	}
	if (!strcmp(key, "audit_keep")) {
		unsigned k;

		if (sbx_auditlog_parse_keep(v, &k) < 0)
			return sbx_fail(why, len, -EINVAL, "audit_keep: '%s' is not a number from 0 to %u",
					v, SBX_AUDIT_KEEP_MAX);
		c->audit_keep = k;
		return 0;
	}
	if (!strcmp(key, "log_keep") || !strcmp(key, "max_sandboxes") ||
	    !strcmp(key, "max_sandboxes_per_user")) {
		char *end;

		errno = 0;
		x = strtoull(v, &end, 10);
		uint64_t lo = !strcmp(key, "log_keep") ? 0 : 1;
		uint64_t hi = !strcmp(key, "log_keep") ? SBX_LOG_KEEP_MAX : 1000000;

		if (errno || end == v || *end || x < lo || x > hi) {
			snprintf(why, len, "%s: '%s' is not a number from %llu to %llu", key, v,
				 (unsigned long long)lo, (unsigned long long)hi);
			return -EINVAL;
		}
		if (!strcmp(key, "log_keep"))
			c->log_keep = (uint32_t)x;
		else if (!strcmp(key, "max_sandboxes"))
			c->max_sandboxes = (uint32_t)x;
		else
			c->max_per_user = (uint32_t)x;
		return 0;
	}
	snprintf(why, len, "unknown setting '%s'", key);
	return -ENOENT;
}

static bool int_key(const char *key)
{
	return !strcmp(key, "log_keep") || !strcmp(key, "max_sandboxes") ||
	       !strcmp(key, "max_sandboxes_per_user") || !strcmp(key, "audit_keep");
}

/* The settings whose value is a string (admin_groups and int_key()'s aside). */
static bool string_key(const char *key)
{
	static const char *const keys[] = {
		"policy_dir", "state_dir", "socket", "audit_dir", "cgroup_root", "sbx",
		"stop_timeout", "log_max_size", "metrics_listen", "audit_max_size",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* [pool]: PROFILE = N for each profile with a warm pool. */
static int load_pools(struct sbxd_config *c, const struct toml_value *v, char *why, size_t len)
{
	char one[256];

	if (v->type != TOML_TABLE)
		return sbx_fail(why, len, -EINVAL, "pool must be a table of PROFILE = N, not %s",
				toml_type_name(v->type));
	for (size_t i = 0; i < v->u.tab.n; i++) {
		const struct toml_kv *kv = &v->u.tab.kvs[i];

		if (kv->val->type != TOML_INTEGER)
			return sbx_fail(why, len, -EINVAL, "pool.%s must be an integer, not %s", kv->key,
					toml_type_name(kv->val->type));
		if (kv->val->u.integer < 0 || kv->val->u.integer > SBXD_POOL_SIZE_MAX)
			return sbx_fail(why, len, -EINVAL, "pool.%s: %lld is not from 0 to %d", kv->key,
					(long long)kv->val->u.integer, SBXD_POOL_SIZE_MAX);
		snprintf(one, sizeof(one), "%s=%lld", kv->key, (long long)kv->val->u.integer);
		if (strlen(kv->key) != kv->key_len)
			return sbx_fail(why, len, -EINVAL, "pool: a profile name contains a NUL character");
		if (set_pool(c, one, why, len) < 0)
			return -EINVAL;
	}
	return 0;
}

/* One key of the file: strings, the integers log_keep, max_sandboxes and
 * max_sandboxes_per_user,
 * and the array admin_groups. */
static int load_kv(struct sbxd_config *c, const struct toml_kv *kv, char *why, size_t len)
{
	const struct toml_value *v = kv->val;
	char num[32];

	if (!strcmp(kv->key, "admin_groups")) {
		if (v->type != TOML_ARRAY) {
			snprintf(why, len, "admin_groups must be an array of group names, not %s",
				 toml_type_name(v->type));
			return -EINVAL;
		}
		c->n_admin_gids = 0;
		for (size_t i = 0; i < v->u.arr.n; i++) {
			if (v->u.arr.items[i]->type != TOML_STRING) {
				snprintf(why, len, "admin_groups[%zu] must be a string", i);
				return -EINVAL;
			}
			if (add_group(c, v->u.arr.items[i]->u.str.ptr, why, len) < 0)
				return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(kv->key, "pool"))
		return load_pools(c, v, why, len);
	if (!strcmp(kv->key, "audit_journal")) {
		if (v->type != TOML_BOOL) {
			snprintf(why, len, "audit_journal must be true or false, not %s", toml_type_name(v->type));
			return -EINVAL;
		}
		c->audit_journal = v->u.boolean;
		return 0;
	}
	if (int_key(kv->key)) {
		if (v->type != TOML_INTEGER) {
			snprintf(why, len, "%s must be an integer, not %s", kv->key, toml_type_name(v->type));
			return -EINVAL;
		}
		snprintf(num, sizeof(num), "%lld", (long long)v->u.integer);
		return sbxd_config_set(c, kv->key, num, why, len) < 0 ? -EINVAL : 0;
	}
	if (!string_key(kv->key)) {
		snprintf(why, len, "unknown setting '%s'", kv->key);
		return -EINVAL;
	}
	if (v->type != TOML_STRING) {
		snprintf(why, len, "%s must be a string, not %s", kv->key, toml_type_name(v->type));
		return -EINVAL;
	}
	if (strlen(v->u.str.ptr) != v->u.str.len) {
		snprintf(why, len, "%s contains a NUL character", kv->key);
		return -EINVAL;
	}
	return sbxd_config_set(c, kv->key, v->u.str.ptr, why, len) < 0 ? -EINVAL : 0;
}

int sbxd_config_load(struct sbxd_config *c, const char *path, bool required, char *why, size_t len)
{
	struct toml_value *root = NULL;
	struct toml_error err;
	char *buf = NULL, msg[512];
	size_t n;
	int r;

	r = sbx_read_file(path, &buf, &n, 1 << 20);
	if (r == -ENOENT && !required)
		return 0;
	if (r < 0) {
		snprintf(why, len, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	r = toml_parse(buf, n, &root, &err);
	free(buf);
	if (r < 0) {
		snprintf(why, len, "%s:%u:%u: %s", path, err.pos.line, err.pos.col, err.msg);
		return -EINVAL;
	}
	for (size_t i = 0; i < root->u.tab.n; i++) {
		const struct toml_kv *kv = &root->u.tab.kvs[i];

		msg[0] = '\0';
		if (load_kv(c, kv, msg, sizeof(msg)) < 0) {
			snprintf(why, len, "%s:%u:%u: %s", path, kv->key_pos.line, kv->key_pos.col, msg);
			toml_free(root);
			return -EINVAL;
		}
	}
	toml_free(root);
	return 0;
}
