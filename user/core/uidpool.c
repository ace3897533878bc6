/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/* ---- processes of a uid ---------------------------------------------------- */

static bool status_has_uid(int dfd, const char *pid, uid_t uid)
{
	char path[64], line[256];
	unsigned u[4];
	FILE *f;
	int fd;
	bool hit = false;

	snprintf(path, sizeof(path), "%s/status", pid);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "re") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4) {
			hit = u[0] == uid || u[1] == uid || u[2] == uid || u[3] == uid;
			break;
		}
	fclose(f);
	return hit;
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

/* The leased uids of r, sorted; with reclaim, stale leases are removed instead. */
static int leased(const char *dir, const struct sbx_uid_range *r, bool reclaim, uint32_t **ret,
		  size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	uint32_t *v = NULL, uid;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *end;

	while (d && (de = readdir(d))) {
		if (parse_u32(de->d_name, &end, &uid) < 0 || *end || !overlaps(r, uid, uid))
			continue;
		if (reclaim && lease_stale(dir, uid)) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%u", dir, uid);
			unlink(path);
			continue;
		}
		if (n == cap) {
			uint32_t *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = uid;
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
	_cleanup_free_ uint32_t *v = NULL;
	uint32_t uid = 0;
	size_t n = 0;
	int lock, e;

	lock = lock_dir(dir);
	if (lock < 0)
		return sbx_fail(why, len, lock, "lock %s/lock: %s", dir, strerror(-lock));
	e = leased(dir, r, false, &v, &n);
	if (!e && (e = lowest_free(r, v, n, &uid)) == -ENOSPC) {
		/* full: take back the leases of dead owners whose uid is unused */
		free(TAKE_PTR(v));
		e = leased(dir, r, true, &v, &n);
		if (!e)
			e = lowest_free(r, v, n, &uid);
	}
	if (!e)
		e = write_lease(dir, uid, l);
	close(lock);
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
	pid_t pid;
	int lock = lock_dir(dir);

	if (lock < 0)
		return;
	lease_owner(dir, uid, &pid, &start);
	snprintf(path, sizeof(path), "%s/%u", dir, (unsigned)uid);
	if (pid == owner_pid)
		unlink(path);
	close(lock);
}
