/* SPDX-License-Identifier: MIT */
/*
 * sbx-oci's state directory: ROOT/ID/state.json per container, written
 * atomically; the status is computed live from the init's pid and start
 * time and from ROOT/ID/exec.fifo (docs/oci.md).
 */
#ifndef SBX_OCI_STATE_H
#define SBX_OCI_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OCI_DEFAULT_ROOT "/run/sbx-oci"
#define OCI_ID_MAX 1024

struct oci_annotation;

struct oci_state {
	char id[OCI_ID_MAX + 1];
	char dir[PATH_MAX];		/* ROOT/ID */
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	char cgroup[PATH_MAX];		/* the container's cgroup2 directory, or "" */
	char sandbox_id[64];
	char created[64];		/* RFC 3339, UTC, nanoseconds */
	char owner[64];
	pid_t pid;			/* 0: none yet */
	uint64_t start_time;		/* /proc/PID/stat field 22 */
	bool creating;			/* create has not finished */
	char *annotations_json;		/* a JSON object, heap; NULL: {} */
};

/* runc's rule for ids: ^[\w+-\.]+$ (the class holds ',' too: "+-." is a
 * range), neither "." nor "..". */
bool oci_id_valid(const char *id);
/* ROOT exists (made 0700 when missing and create), is a directory, no
 * symbolic link, and root's. */
int oci_root_check(const char *root, bool create, char *why, size_t len);
/* mkdir ROOT/ID (0700); a duplicate id is -EEXIST with a sentence. */
int oci_state_mkdir(const char *root, const char *id, char *ret_dir, size_t dir_len, char *why,
		    size_t len);
/* Reads ROOT/ID/state.json. An unknown id: -ENOENT, "container ID does not
 * exist". A directory without state.json (create still running, or one that
 * died before writing it): -EAGAIN. */
int oci_state_read(const char *root, const char *id, struct oci_state *ret, char *why, size_t len);
int oci_state_write(const struct oci_state *st, char *why, size_t len);
void oci_state_clear(struct oci_state *st);
/* "creating", "created", "running", "paused" (its cgroup is frozen) or
 * "stopped". */
const char *oci_state_status(const struct oci_state *st);
/* Whether the init (pid + start time) still runs (not a zombie). */
bool oci_state_alive(const struct oci_state *st);
/* The runtime-spec state document (runc's fields too: rootfs, created,
 * owner), one line; heap. */
char *oci_state_json(const struct oci_state *st, const char *status);
/* Removes ROOT/ID and what is in it (no subdirectories). */
int oci_state_remove(const char *dir);
/* Writes data to path atomically (temp file + rename), mode 0644. */
int oci_write_atomic(const char *path, const char *data, size_t n, char *why, size_t len);
/* The current time in RFC 3339 (UTC, nanoseconds). */
void oci_now_rfc3339(char *buf, size_t len);
/* The state char (R, S, Z...) and start time of /proc/PID/stat; -errno. */
int oci_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start);

#endif
