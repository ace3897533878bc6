/* SPDX-License-Identifier: MIT */
/*
 * sbxd's settings: built-in defaults, then /etc/sbx/sbxd.toml (or --config),
 * then the command-line flags, each later one winning. The file is strict
 * TOML: an unknown key, a wrong type or a bad value is an error at
 * file:line:col, and sbxd does not start. docs/man/sbxd.8 lists every key.
 */
#ifndef SBXD_CONFIG_H
#define SBXD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SBXD_CONFIG_DEFAULT	"/etc/sbx/sbxd.toml"
#define SBXD_SOCKET_DEFAULT	"/run/sbx/sbxd.sock"
#define SBXD_STATE_DEFAULT	"/var/lib/sbx"
#define SBXD_MAX_ADMIN_GROUPS	32
#define SBXD_MAX_POOLS		32	/* profiles with a warm pool */
#define SBXD_POOL_SIZE_MAX	64	/* entries of one pool */

/* pool.PROFILE = N: N sandboxes of PROFILE kept built and waiting (pool.c) */
struct sbxd_pool_cfg {
	char profile[128];
	uint32_t size;
};

struct sbxd_config {
	char policy_dir[PATH_MAX];	/* policy_dir, default /etc/sbx/policy.d */
	char state_dir[PATH_MAX];	/* state_dir */
	char socket[108];		/* socket (sun_path) */
	char audit_dir[PATH_MAX];	/* audit_dir: audit.jsonl goes there; "" = sbx's default */
	char cgroup_root[PATH_MAX];	/* cgroup_root; "" = the daemon's own (delegated) cgroup */
	char sbx_binary[PATH_MAX];	/* sbx: the monitor binary; "" = sbx beside sbxd */
	gid_t admin_gids[SBXD_MAX_ADMIN_GROUPS];	/* admin_groups, resolved */
	size_t n_admin_gids;
	uint64_t stop_timeout_ms;	/* stop_timeout, default 10s */
	uint64_t log_max_size;		/* log_max_size, default 1M */
	uint32_t log_keep;		/* log_keep, default 3 */
	uint64_t audit_max_size;	/* audit_max_size: audit.jsonl rotates there; 0 = never */
	uint32_t audit_keep;		/* audit_keep: rotated audit logs kept */
	uint32_t max_sandboxes;		/* max_sandboxes, default 4096 */
	uint32_t max_per_user;		/* max_sandboxes_per_user, default 64 (root: no cap) */
	bool audit_journal;		/* audit_journal: events to journald too, default false */
	bool certification;		/* --varlink-certification (flag only) */
	char metrics_listen[80];	/* metrics_listen: "HOST:PORT" or "[V6]:PORT"; "" = off */
	struct sbxd_pool_cfg pools[SBXD_MAX_POOLS];	/* [pool] or --pool PROFILE=N */
	size_t n_pools;
};

void sbxd_config_defaults(struct sbxd_config *c);

/* Reads path into c. A missing file is fine when !required (the defaults
 * stand). Errors: -EINVAL with "FILE:LINE:COL: message" in why. */
int sbxd_config_load(struct sbxd_config *c, const char *path, bool required, char *why, size_t len);

/* One setting by its key, as the flags give it (--state-dir DIR sets
 * "state_dir"). -EINVAL with why. */
int sbxd_config_set(struct sbxd_config *c, const char *key, const char *value, char *why, size_t len);

/* Parses "127.0.0.1:9477" (IPv4 dotted quad) or "[::1]:9477" (IPv6 in
 * brackets), port 1-65535, into ret. -EINVAL with why naming the problem. */
int sbxd_parse_listen(const char *v, struct sockaddr_storage *ret, socklen_t *ret_len,
		      char *why, size_t len);

#endif
