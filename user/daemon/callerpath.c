/* SPDX-License-Identifier: MIT */
/*
 * The paths of an unprivileged caller's overrides (ro, rw, exec, cwd) are
 * resolved as that caller, not as root. Resolved by sbxd, a path told
 * whether a file exists in a directory the caller cannot read (the error
 * differs), and a cwd in such a directory started the workload there: the
 * monitor changes into it as root, and relative paths then pass the 0700
 * directory above that neither the caller nor the workload may search.
 *
 * A child takes the caller's uid, gid and groups (SO_PEERCRED and
 * SO_PEERGROUPS), resolves each path with realpath(3) (cwd also with
 * chdir(2): the caller must be able to enter it) and writes the results to a
 * pipe; the overrides then carry the real paths, which the rest of sbxd
 * checks against the profile as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "util/util.h"

static const char *const path_keys[] = { "ro", "rw", "exec", "cwd", NULL };

/* A path to resolve: exec names without '/' are looked up in $PATH later. */
static bool resolvable(const char *key, const char *s)
{
	return strcmp(key, "exec") || strchr(s, '/');
}

/* The paths of key: cwd is one string, the others arrays of strings; other
 * types are left to the overrides' own checks. */
static size_t n_paths(json_object *v, const char *key)
{
	if (!strcmp(key, "cwd"))
		return json_object_is_type(v, json_type_string) ? 1 : 0;
	return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

static const char *path_at(json_object *v, const char *key, size_t i)
{
	json_object *e = strcmp(key, "cwd") ? json_object_array_get_idx(v, i) : v;
	const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;

	return s && resolvable(key, s) ? s : NULL;
}

/* In the child: one record per path, "0<real path>\0" or "1<errno>\0". */
static void child_resolve(const struct vl_peer *peer, json_object *ov, int fd)
{
	char real[PATH_MAX], rec[PATH_MAX + 2];

	if (setgroups(peer->n_groups, peer->groups) < 0 || setresgid(peer->gid, peer->gid, peer->gid) < 0 ||
	    setresuid(peer->uid, peer->uid, peer->uid) < 0)
		_exit(1);
	for (size_t k = 0; path_keys[k]; k++) {
		json_object *v = NULL;

		json_object_object_get_ex(ov, path_keys[k], &v);
		for (size_t i = 0, n = n_paths(v, path_keys[k]); i < n; i++) {
			const char *s = path_at(v, path_keys[k], i);
			int len;

			if (!s)
				continue;
			if (realpath(s, real) && (strcmp(path_keys[k], "cwd") || chdir(real) == 0))
				len = snprintf(rec, sizeof(rec), "0%s", real);
			else
				len = snprintf(rec, sizeof(rec), "1%d", errno);
			if (write(fd, rec, (size_t)len + 1) != len + 1)
				_exit(1);
		}
	}
	_exit(0);
}

static int read_all(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	ssize_t n;

	for (;;) {
		if (cap - len < 4096) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap + 65536) : NULL;

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Replaces each resolvable path of ov by its record; why names the first
 * one the caller cannot resolve. */
static int apply(json_object *ov, const char *buf, size_t len, char *why, size_t wlen)
{
	size_t off = 0;

	for (size_t k = 0; path_keys[k]; k++) {
		json_object *v = NULL;
		bool arr;

		json_object_object_get_ex(ov, path_keys[k], &v);
		arr = strcmp(path_keys[k], "cwd") != 0;
		for (size_t i = 0, n = n_paths(v, path_keys[k]); i < n; i++) {
			const char *s = path_at(v, path_keys[k], i), *rec = buf + off;

			if (!s)
				continue;
			if (off >= len || !memchr(rec, '\0', len - off))
				return sbx_fail(why, wlen, -EIO, "resolving the overrides' paths failed");
			off += strlen(rec) + 1;
			if (rec[0] != '0')
				return sbx_fail(why, wlen, -atoi(rec + 1), "overrides.%s '%.200s': %s "
						"(resolved as the caller)", path_keys[k], s,
						strerror(atoi(rec + 1)));
			if (arr)
				json_object_array_put_idx(v, i, json_object_new_string(rec + 1));
			else
				json_object_object_add(ov, path_keys[k], json_object_new_string(rec + 1));
		}
	}
	return 0;
}

int sbxd_caller_paths(const struct vl_peer *peer, json_object *ov, char *why, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	int pfd[2], status = 0, r;
	pid_t pid;

	if (peer->uid == 0 || !ov || !json_object_is_type(ov, json_type_object))
		return 0;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sbx_fail(why, len, -errno, "pipe: %m");
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return sbx_fail(why, len, r, "fork: %s", strerror(-r));
	}
	if (pid == 0) {
		close(pfd[0]);
		child_resolve(peer, ov, pfd[1]);
	}
	close(pfd[1]);
	r = read_all(pfd[0], &buf, &n);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = sbx_fail(why, len, -EIO, "resolving the overrides' paths as the caller failed");
	else if (r < 0)
		sbx_fail(why, len, r, "resolving the overrides' paths: %s", strerror(-r));
	if (r == 0)
		r = apply(ov, buf, n, why, len);
	free(buf);
	return r;
}
