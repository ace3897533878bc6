/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/uidpool.h"
#include "util/util.h"

/* ---- the range ------------------------------------------------------------- */

static int parse_u32(const char *s, char **end, uint32_t *ret)
{
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno || v >= 0xffffffffull)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int sbx_uid_range_parse(const char *s, struct sbx_uid_range *ret, char *why, size_t len)
{
	struct sbx_uid_range r;
	char *end;

	if (parse_u32(s, &end, &r.first) < 0 || *end != '-' ||
	    parse_u32(end + 1, &end, &r.last) < 0 || *end || r.first > r.last)
		return sbx_fail(why, len, -EINVAL, "SBX_UID_RANGE '%s' is not FIRST-LAST (decimal "
				"uids, FIRST <= LAST < 4294967295)", s);
	*ret = r;
	return 0;
}

static bool overlaps(const struct sbx_uid_range *r, uint64_t first, uint64_t last)
{
	return first <= r->last && last >= r->first;
}

static const struct {
	uint32_t first, last;
	const char *what;
} reserved[] = {
	{ 0, 0, "root (0)" },
	{ 61184, 65519, "systemd's DynamicUser range (61184-65519)" },
	{ 65534, 65535, "nobody (65534) and 65535" },
};

/* name:x:ID:... (passwd, group): the first entry of file whose ID is in r. */
static int colon_file_check(const struct sbx_uid_range *r, const char *file, char *why, size_t len)
{
	_cleanup_fclose_ FILE *f = file ? fopen(file, "re") : NULL;
	char line[1024];
	uint32_t id;

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *end;

		c = c ? strchr(c + 1, ':') : NULL;
		if (!c || parse_u32(c + 1, &end, &id) < 0 || *end != ':' || !overlaps(r, id, id))
			continue;
		line[strcspn(line, ":")] = 0;
		return sbx_fail(why, len, -EEXIST, "the sandbox uid range %u-%u holds '%s' (%u) of %s",
				r->first, r->last, line, id, file);
	}
	return 0;
}

/* name:FIRST:COUNT (subuid, subgid): the first range of file that overlaps r. */
static int sub_file_check(const struct sbx_uid_range *r, const char *file, char *why, size_t len)
{
	_cleanup_fclose_ FILE *f = file ? fopen(file, "re") : NULL;
	char line[1024];
	uint32_t first, count;

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *end;

		if (!c || parse_u32(c + 1, &end, &first) < 0 || *end != ':' ||
		    parse_u32(end + 1, &end, &count) < 0 || !count ||
		    !overlaps(r, first, (uint64_t)first + count - 1))
			continue;
		*c = 0;
		return sbx_fail(why, len, -EEXIST, "the sandbox uid range %u-%u overlaps %s's range "
				"%u-%llu of %s", r->first, r->last, line, first,
				(unsigned long long)first + count - 1, file);
	}
	return 0;
}

int sbx_uid_range_check(const struct sbx_uid_range *r, const char *passwd, const char *group,
			const char *subuid, const char *subgid, char *why, size_t len)
{
	int e;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (overlaps(r, reserved[i].first, reserved[i].last))
			return sbx_fail(why, len, -EEXIST, "the sandbox uid range %u-%u holds %s",
					r->first, r->last, reserved[i].what);
	if ((e = colon_file_check(r, passwd, why, len)) < 0 ||
	    (e = colon_file_check(r, group, why, len)) < 0 ||
	    (e = sub_file_check(r, subuid, why, len)) < 0 ||
	    (e = sub_file_check(r, subgid, why, len)) < 0)
		return e;
	return 0;
}

int sbx_uid_range_get(struct sbx_uid_range *ret, char *why, size_t len)
{
	struct sbx_uid_range r = { SBX_UID_FIRST, SBX_UID_LAST };
	const char *env = getenv("SBX_UID_RANGE");
	int e;

	if (env && *env && (e = sbx_uid_range_parse(env, &r, why, len)) < 0)
		return e;
	e = sbx_uid_range_check(&r, "/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid",
				why, len);
	if (e < 0)
		return e;
	*ret = r;
	return 0;
}

/* The id that a profile's user or group names, when it is a number or a
 * known name; false for "caller" and names nobody knows. */
static bool named_id(const char *name, bool group, uint32_t *ret)
{
	struct passwd *pw;
	struct group *gr;
	char *end;

	if (!name || !strcmp(name, "caller"))
		return false;
	if (parse_u32(name, &end, ret) == 0 && !*end)
		return true;
	if (group ? !(gr = getgrnam(name)) : !(pw = getpwnam(name)))
		return false;
	*ret = group ? gr->gr_gid : pw->pw_uid;
	return true;
}

int sbx_uid_range_refuse_named(const char *user, const char *group, char *why, size_t len)
{
	struct sbx_uid_range r = { SBX_UID_FIRST, SBX_UID_LAST };
	const char *env = getenv("SBX_UID_RANGE");
	uint32_t id;

	if (env && *env)
		(void)sbx_uid_range_parse(env, &r, NULL, 0);	/* a bad one: the default's */
	if (named_id(user, false, &id) && overlaps(&r, id, id))
		return sbx_fail(why, len, -EPERM, "user '%s' (%u) is in the sandbox uid range %u-%u: "
				"it would share the uid of another sandbox", user, id, r.first, r.last);
	if (named_id(group, true, &id) && overlaps(&r, id, id))
		return sbx_fail(why, len, -EPERM, "group '%s' (%u) is in the sandbox uid range %u-%u: "
				"it would share the gid of another sandbox", group, id, r.first, r.last);
	return 0;
}

/* ---- processes of a uid ---------------------------------------------------- */

/* The four ids after "\nKEY:" in a status text (tab-separated decimals). */
static bool status_line(const char *buf, const char *key, uint32_t ids[4])
{
	const char *p = strstr(buf, key);
	char *end;

	if (!p)
		return false;
	p += strlen(key);
	for (int i = 0; i < 4; i++) {
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || errno || v > UINT32_MAX)
			return false;
		ids[i] = (uint32_t)v;
		p = end;
	}
	return true;
}

/* The ids of a process's Uid: and Gid: lines (real, effective, saved, fs);
 * false when it has gone. Every process of the host is read this way on each
 * start (3,000 of them on a busy host): one read() into a buffer, not stdio
 * (fstat, fcntl, a second read), and strtoul rather than sscanf on every
 * line. The lines come in the first few hundred bytes, and the kernel
 * escapes a newline in the name before them. */
static bool status_ids(int dfd, const char *pid, uint32_t ids[8])
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/status", pid);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return status_line(buf, "\nUid:", ids) && status_line(buf, "\nGid:", ids + 4);
}

static bool status_has_uid(int dfd, const char *pid, uid_t uid)
{
	uint32_t ids[8];

	if (!status_ids(dfd, pid, ids))
		return false;
	return ids[0] == uid || ids[1] == uid || ids[2] == uid || ids[3] == uid;
}

bool sbx_uid_in_use(uid_t uid)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return true;	/* cannot tell: keep the lease */
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    status_has_uid(dirfd(d), de->d_name, uid))
			return true;
	return false;
}

static int push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		uint32_t *nv = realloc(*v, (*cap = *cap ? 2 * *cap : 64) * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* Adds to v every id of r that a living process has as a uid or gid: such
 * an id is not free, whatever the leases say. A sandbox's process may have
 * outlived its lease outside its cgroup (a set-id program it left on the
 * host, run later by someone else), and a second sandbox given that uid
 * would share it: signals, ptrace, /proc, the per-user limits. */
static int running_ids(const struct sbx_uid_range *r, uint32_t **v, size_t *n, size_t *cap)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	uint32_t ids[8];
	int e = 0;

	if (!d)
		return -errno;
	while (!e && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    !status_ids(dirfd(d), de->d_name, ids))
			continue;
		for (int i = 0; i < 8 && !e; i++)
			if (overlaps(r, ids[i], ids[i]))
				e = push_u32(v, n, cap, ids[i]);
	}
	return e;
}

/* ---- what a uid leaves behind ------------------------------------------------ */

/* SysV IPC objects outlive their processes: a segment, queue or semaphore set
 * that a sandbox made private to its uid (mode 0600) would be the next holder's
 * to read. The table's columns: id is the second; uid, gid, cuid, cgid
 * start at column `owner` (7 for shm and msg, 4 for sem). */
static void purge_sysv(const char *table, int owner, uid_t uid, int (*rm)(int))
{
	_cleanup_fclose_ FILE *f = fopen(table, "re");
	char line[512];

	if (f && !fgets(line, sizeof(line), f))
		return;		/* the header */
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long col[12];
		int n = 0, off = 0, used;

		while (n < 12 && sscanf(line + off, "%llu%n", &col[n], &used) == 1) {
			off += used;
			n++;
		}
		if (n < owner + 4)
			continue;
		for (int i = owner; i < owner + 4; i++)
			if (col[i] == uid) {
				rm((int)col[1]);
				break;
			}
	}
}

static int rm_shm(int id) { return shmctl(id, IPC_RMID, NULL); }
static int rm_msg(int id) { return msgctl(id, IPC_RMID, NULL); }
static int rm_sem(int id) { return semctl(id, 0, IPC_RMID); }

/* POSIX shared memory and message queues: files of their own filesystems,
 * removed like SysV objects (systemd's RemoveIPC= does the same). */
static void purge_dir(const char *dir, uid_t uid)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;

	while (d && (de = readdir(d)))
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode) && (st.st_uid == uid || st.st_gid == uid))
			unlinkat(dirfd(d), de->d_name, 0);
}

/* The child of purge_keyrings: raw system calls only, for it shares the
 * parent's memory (glibc's set*id wrappers would also signal its threads). */
static int clear_keyrings(void *arg)
{
	uid_t uid = *(const uid_t *)arg;
	long p;

	if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, uid, uid, uid) < 0 ||
	    syscall(SYS_setresuid, uid, uid, uid) < 0)
		_exit(1);
	p = syscall(SYS_keyctl, KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_USER_SESSION_KEYRING);
	if (p > 0)
		syscall(SYS_keyctl, KEYCTL_CLEAR, p);
	syscall(SYS_keyctl, KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING);
	syscall(SYS_keyctl, KEYCTL_CLEAR, KEY_SPEC_USER_SESSION_KEYRING);
	_exit(0);
}

/* Sharing sbx's memory with a task of the sandbox's uid is safe only while
 * that memory is not dumpable once the child's credentials change (the
 * kernel sets it to fs.suid_dumpable then): with 0, a process of that uid
 * cannot ptrace the child or use process_vm_writev on it. Any other value
 * (1 lets the same uid in): a fork, whose memory is a throwaway copy. */
static bool shared_purge_safe(void)
{
	char v[4] = "";
	int fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, v, sizeof(v) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 && v[0] == '0' && (v[1] == '\n' || !v[1]);
}

/* The uid's keyrings (user, user session, persistent) outlive its processes
 * in the kernel's register of users, and hold what a workload put there with
 * add_key for the next holder of the uid. Only the uid itself may clear
 * them: a child takes it, clears them and exits. Where safe the child
 * shares sbx's memory (CLONE_VM | CLONE_VFORK, sbx waits meanwhile): a
 * fork copies the page tables of sbx and its libraries and tears them down
 * again, twice a run (at the lease and at the release). Credentials are
 * per task, so the child's uid is its own. */
static void purge_keyrings(uid_t uid)
{
	static char stack[16384] __attribute__((aligned(16)));
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	bool shared = shared_purge_safe();
	pid_t pid;
	int st;

	pid = shared ? clone(clear_keyrings, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &uid) :
		       fork();
	if (pid == 0)
		clear_keyrings(&uid);	/* the fork's child; does not return */
	if (pid < 0)
		return;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* the child's set*id made the shared memory non-dumpable: sbx's own
	 * state (core dumps, root's ptrace) as it was */
	if (shared && dumpable > 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
}

/* The IPC objects of uid in sbx's IPC namespace (the host provider's: the
 * process provider's workload has a namespace of its own, gone with it). */
static void purge_ipc(uid_t uid)
{
	purge_sysv("/proc/sysvipc/shm", 7, uid, rm_shm);
	purge_sysv("/proc/sysvipc/msg", 7, uid, rm_msg);
	purge_sysv("/proc/sysvipc/sem", 4, uid, rm_sem);
	sbx_trace(" purge: sysv");
	purge_dir("/dev/shm", uid);
	purge_dir("/dev/mqueue", uid);
	sbx_trace(" purge: dirs");
	purge_keyrings(uid);
}

/* ---- leases ------------------------------------------------------------------ */

static int lock_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || chmod(dir, 0700) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* The owner recorded in a lease (0 when there is none). */
static void lease_owner(const char *dir, uint32_t uid, pid_t *ret_pid, uint64_t *ret_start)
{
	char path[PATH_MAX], line[PATH_MAX + 16];
	_cleanup_fclose_ FILE *f = NULL;

	*ret_pid = 0;
	*ret_start = 0;
	snprintf(path, sizeof(path), "%s/%u", dir, uid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "pid=", 4))
			*ret_pid = atoi(line + 4);
		else if (!strncmp(line, "start=", 6))
			*ret_start = strtoull(line + 6, NULL, 10);
	}
}

static bool lease_stale(const char *dir, uint32_t uid)
{
	pid_t pid;
	uint64_t start;

	lease_owner(dir, uid, &pid, &start);
	if (pid > 0 && kill(pid, 0) == 0 && sbx_proc_start_time(pid) == start)
		return false;
	return !sbx_uid_in_use(uid);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The uids of r that are taken, sorted: leased, or in procs (the ids of
 * living processes, running_ids). With reclaim, stale leases are removed
 * instead. */
static int leased(const char *dir, const struct sbx_uid_range *r, bool reclaim,
		  const uint32_t *procs, size_t n_procs, uint32_t **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	uint32_t *v = NULL, uid;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *end;
	int e = 0;

	while (!e && d && (de = readdir(d))) {
		if (parse_u32(de->d_name, &end, &uid) < 0 || *end || !overlaps(r, uid, uid))
			continue;
		if (reclaim && lease_stale(dir, uid)) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%u", dir, uid);
			unlink(path);
			continue;
		}
		e = push_u32(&v, &n, &cap, uid);
	}
	for (size_t i = 0; !e && i < n_procs; i++)
		e = push_u32(&v, &n, &cap, procs[i]);
	if (e < 0) {
		free(v);
		return e;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The lowest uid of r that is neither leased nor known to the user or group
 * databases (an account added after the range was checked). */
static int lowest_free(const struct sbx_uid_range *r, const uint32_t *v, size_t n, uint32_t *ret)
{
	uint64_t uid = r->first;
	size_t i = 0;

	for (; uid <= r->last; uid++) {
		while (i < n && v[i] < uid)
			i++;
		if (i < n && v[i] == uid)
			continue;
		if (getpwuid((uid_t)uid) || getgrgid((gid_t)uid))
			continue;
		*ret = (uint32_t)uid;
		return 0;
	}
	return -ENOSPC;
}

static int write_lease(const char *dir, uint32_t uid, const struct sbx_uid_lease *l)
{
	char path[PATH_MAX];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/%u", dir, uid);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	fprintf(f, "instance=%s\nslot=%u\ncgroup=%s\npid=%d\nstart=%llu\n", l->instance, l->slot,
		l->cgroup ? l->cgroup : "", (int)l->owner_pid, (unsigned long long)l->owner_start);
	if (fclose(f) != 0) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

int sbx_uid_alloc(const char *dir, const struct sbx_uid_range *r, const struct sbx_uid_lease *l,
		  uid_t *ret, char *why, size_t len)
{
	_cleanup_free_ uint32_t *v = NULL, *procs = NULL;
	size_t n = 0, n_procs = 0, cap = 0;
	uint32_t uid = 0;
	int lock, e;

	/*
	 * The ids of living processes are read before the lock: reading every
	 * process's status is the slow part (tens of milliseconds with a
	 * thousand sandboxes running), and under the host's one lease lock it
	 * made every start wait for all the others'. Nothing is lost: a
	 * sandbox's processes hold a lease, read under the lock; anything else
	 * could take an id of the range (a set-id exec) after the scan as well
	 * when the scan was under the lock, which excludes no exec.
	 */
	e = running_ids(r, &procs, &n_procs, &cap);
	sbx_trace(" uid: scan of processes");
	if (e < 0)
		return sbx_fail(why, len, e, "read the ids of running processes: %s", strerror(-e));
	lock = lock_dir(dir);
	if (lock < 0)
		return sbx_fail(why, len, lock, "lock %s/lock: %s", dir, strerror(-lock));
	e = leased(dir, r, false, procs, n_procs, &v, &n);
	if (!e && (e = lowest_free(r, v, n, &uid)) == -ENOSPC) {
		/* full: take back the leases of dead owners whose uid is unused */
		free(TAKE_PTR(v));
		e = leased(dir, r, true, procs, n_procs, &v, &n);
		if (!e)
			e = lowest_free(r, v, n, &uid);
	}
	if (!e)
		e = write_lease(dir, uid, l);
	close(lock);
	/* what a dead owner's sandbox may have left: after the lock (it forks
	 * and scans; every start on the host waited for it), the lease keeps
	 * the uid ours meanwhile */
	sbx_trace(" uid: lease under lock");
	if (!e)
		purge_ipc(uid);
	sbx_trace(" uid: purge");
	if (e == -ENOSPC)
		return sbx_fail(why, len, e, "every uid of the sandbox uid range %u-%u is in use "
				"(SBX_UID_RANGE)", r->first, r->last);
	if (e < 0)
		return sbx_fail(why, len, e, "lease a sandbox uid in %s: %s", dir, strerror(-e));
	*ret = uid;
	return 0;
}

void sbx_uid_release(const char *dir, uid_t uid, pid_t owner_pid)
{
	char path[PATH_MAX];
	uint64_t start;
	bool alive_owner;
	pid_t pid;
	int lock;

	/* A living owner purges before the lock: nobody reclaims its lease
	 * meanwhile (reclaim takes the leases of dead owners only). For a dead
	 * one (the watchdog's call) the lease may be reclaimed and handed out
	 * at any moment: check and purge under the lock. */
	lease_owner(dir, uid, &pid, &start);
	alive_owner = pid == owner_pid && owner_pid == getpid();

	if (alive_owner)
		purge_ipc(uid);
	lock = lock_dir(dir);
	if (lock < 0)
		return;
	lease_owner(dir, uid, &pid, &start);
	snprintf(path, sizeof(path), "%s/%u", dir, (unsigned)uid);
	if (pid == owner_pid) {
		if (!alive_owner)
			purge_ipc(uid);
		unlink(path);
	}
	close(lock);
}
