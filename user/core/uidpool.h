/* SPDX-License-Identifier: MIT */
/*
 * The sandbox uids: a host uid (and the gid of the same number) of its own
 * for every sandbox whose profile names no user, so that the per-user
 * kernel limits (inotify instances and watches, RLIMIT_NPROC, pipe pages,
 * user namespaces, POSIX message queue bytes, all counted per host uid) of
 * one sandbox are not those of every other sandbox and of the host's nobody.
 *
 * The range is $SBX_UID_RANGE ("FIRST-LAST", inclusive), by default
 * SBX_UID_FIRST..SBX_UID_LAST: above the container ranges of systemd-nspawn
 * (524288..1879048191) and of useradd's /etc/subuid (100000..600165535),
 * below systemd's foreign range (2147352576..) and 2^31. sbx refuses a range
 * that holds uid 0, nobody (65534), 65535, systemd's DynamicUser range
 * (61184..65519), an account of /etc/passwd, a group of /etc/group or a
 * range of /etc/subuid or /etc/subgid.
 *
 * Leases are host-wide, whatever $SBX_INSTANCE is: one file per uid in use,
 *   /run/sbx-uids/<uid>: instance=..., slot=..., cgroup=..., pid=..., start=...
 * made under /run/sbx-uids/lock. The owner (the sbx that runs the sandbox)
 * kills the sandbox's cgroup before it removes its lease. A lease whose
 * owner died is taken back only once no process of that uid is left (the
 * instance's next sbx kills the orphaned cgroup first: sandbox.c), so a uid
 * is never handed to a second sandbox while the first one's processes live.
 */
#ifndef SBX_UIDPOOL_H
#define SBX_UIDPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_UID_FIRST 2080374784u	/* 0x7c000000 */
#define SBX_UID_LAST  2080440319u	/* 0x7c00ffff: 65536 uids */
#define SBX_UID_LEASE_DIR "/run/sbx-uids"

struct sbx_uid_range {
	uint32_t first, last;		/* inclusive */
};

/* Parses "FIRST-LAST" (decimal, FIRST <= LAST, LAST < 2^32 - 1). */
int sbx_uid_range_parse(const char *s, struct sbx_uid_range *ret, char *why, size_t len);

/* $SBX_UID_RANGE, or the default range, checked against the host's files
 * (sbx_uid_range_check with /etc/passwd, /etc/group, /etc/subuid, /etc/subgid). */
int sbx_uid_range_get(struct sbx_uid_range *ret, char *why, size_t len);

/* -EEXIST with the reason when the range holds a reserved id, an entry of
 * passwd or group (colon files: name:x:ID:...), or overlaps a range of
 * subuid or subgid (name:FIRST:COUNT). A file that does not exist counts as
 * empty; any path may be NULL. */
int sbx_uid_range_check(const struct sbx_uid_range *r, const char *passwd, const char *group,
			const char *subuid, const char *subgid, char *why, size_t len);

/* -EPERM with the reason when a profile's explicit user or group (a number
 * or a name; "caller" is not looked at) is an id of the sandbox uid range
 * ($SBX_UID_RANGE, else the default): sbx leases those ids to sandboxes one
 * at a time, and a profile that names one would share it with whichever
 * sandbox has it (signals, ptrace, /proc, its files and per-user limits). */
int sbx_uid_range_refuse_named(const char *user, const char *group, char *why, size_t len);

struct sbx_uid_lease {
	const char *instance;
	uint32_t slot;
	const char *cgroup;
	pid_t owner_pid;		/* the sbx that runs the sandbox */
	uint64_t owner_start;		/* its start time (sbx_proc_start_time) */
};

/* Leases the lowest free uid of r in dir (SBX_UID_LEASE_DIR but for tests),
 * taking back the leases of dead owners whose uid runs no process. A uid
 * that a living process has (as a uid or gid) is not free, leased or not.
 * The SysV IPC objects, /dev/shm and /dev/mqueue files and keyrings of the
 * uid are removed before it is handed out, and again by sbx_uid_release. -ENOSPC
 * when every uid of the range is in use. */
int sbx_uid_alloc(const char *dir, const struct sbx_uid_range *r, const struct sbx_uid_lease *l,
		  uid_t *ret, char *why, size_t len);

/* Removes the lease of uid (only when it is owner_pid's). Call it after the
 * sandbox's processes are gone. */
void sbx_uid_release(const char *dir, uid_t uid, pid_t owner_pid);

/* Whether a process whose real, effective, saved or fs uid is uid exists. */
bool sbx_uid_in_use(uid_t uid);

#endif
