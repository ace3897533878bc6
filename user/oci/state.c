// SPDX-License-Identifier: MIT
/*
 * sbx-oci's state directory (state.h): ROOT is root's and 0700; each
 * container has ROOT/ID with state.json (written atomically) and, between
 * create and start, exec.fifo. Nothing here follows a symbolic link: a
 * ROOT or ROOT/ID that is one, or that another user owns, is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "../util/util.h"
#include "state.h"

bool oci_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > OCI_ID_MAX || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (const char *p = id; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || (c >= '+' && c <= '.');
		if (!ok)
			return false;
	}
	return true;
}

static int check_dir(const char *path, const char *what, char *why, size_t len)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return sbx_fail(why, len, -errno, "%s %s: %s", what, path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return sbx_fail(why, len, -ELOOP, "%s %s is a symbolic link: refused", what, path);
	if (!S_ISDIR(st.st_mode))
		return sbx_fail(why, len, -ENOTDIR, "%s %s is not a directory", what, path);
	if (st.st_uid != 0)
		return sbx_fail(why, len, -EPERM, "%s %s is owned by uid %u, not root: refused", what,
				path, (unsigned)st.st_uid);
	if (st.st_mode & 022)
		return sbx_fail(why, len, -EPERM, "%s %s is writable by others (mode %04o): refused",
				what, path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int oci_root_check(const char *root, bool create, char *why, size_t len)
{
	if (root[0] != '/')
		return sbx_fail(why, len, -EINVAL, "--root %s: not an absolute path", root);
	if (create) {
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%s", root);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			int r = sbx_mkdir_p(parent, 0755);
			if (r < 0 && r != -EEXIST)
				return sbx_fail(why, len, r, "--root: mkdir %s: %s", parent, strerror(-r));
		}
		if (mkdir(root, 0700) < 0 && errno != EEXIST)
			return sbx_fail(why, len, -errno, "--root: mkdir %s: %s", root, strerror(errno));
	}
	return check_dir(root, "the state root", why, len);
}

int oci_state_mkdir(const char *root, const char *id, char *ret_dir, size_t dir_len, char *why,
		    size_t len)
{
	char dir[PATH_MAX];

	if (!oci_id_valid(id))
		return sbx_fail(why, len, -EINVAL,
				"invalid container id \"%s\": it must match ^[\\w+-\\.]+$ and be neither . nor ..",
				id);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", root, id) >= sizeof(dir))
		return sbx_fail(why, len, -ENAMETOOLONG, "container id \"%s\": path too long", id);
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return sbx_fail(why, len, -EEXIST, "container with id exists: %s", id);
		return sbx_fail(why, len, -errno, "mkdir %s: %s", dir, strerror(errno));
	}
	snprintf(ret_dir, dir_len, "%s", dir);
	return 0;
}

void oci_now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

int oci_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start)
{
	char path[64], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* after the last ')': field 3 (state) onwards */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	char state = *p;
	unsigned long long start = 0;
	/* fields 3..22: state is 3, start time 22 -> skip 19 fields after state */
	int field = 3;
	for (char *q = p; *q && field < 22; q++)
		if (*q == ' ') {
			field++;
			if (field == 22)
				start = strtoull(q + 1, NULL, 10);
		}
	if (field != 22)
		return -EIO;
	if (ret_state)
		*ret_state = state;
	if (ret_start)
		*ret_start = start;
	return 0;
}

bool oci_state_alive(const struct oci_state *st)
{
	char s;
	uint64_t start;

	if (st->pid <= 0 || oci_proc_stat(st->pid, &s, &start) < 0)
		return false;
	return start == st->start_time && s != 'Z' && s != 'X' && s != 'x';
}

const char *oci_state_status(const struct oci_state *st)
{
	char fifo[PATH_MAX + 16];
	struct stat sb;

	if (!oci_state_alive(st))
		return st->creating && st->pid == 0 ? "creating" : "stopped";
	if (st->creating)
		return "creating";
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	if (lstat(fifo, &sb) == 0)
		return "created";
	if (st->cgroup[0]) {
		char path[PATH_MAX + 16], v = '0';
		snprintf(path, sizeof(path), "%s/cgroup.freeze", st->cgroup);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &v, 1) != 1)
				v = '0';
			close(fd);
		}
		if (v == '1')
			return "paused";
	}
	return "running";
}

int oci_write_atomic(const char *path, const char *data, size_t n, char *why, size_t len)
{
	char tmp[PATH_MAX + 32];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return sbx_fail(why, len, -ENAMETOOLONG, "%s: path too long", path);
	_cleanup_close_ int fd =
		open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "create %s: %s", tmp, strerror(errno));
	if (sbx_write_all(fd, data, n) != n || fsync(fd) < 0) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		return sbx_fail(why, len, -e, "write %s: %s", tmp, strerror(e));
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sbx_fail(why, len, -e, "rename %s to %s: %s", tmp, path, strerror(e));
	}
	return 0;
}

int oci_state_write(const struct oci_state *st, char *why, size_t len)
{
	char path[PATH_MAX + 16];
	json_object *o = json_object_new_object();
	json_object *ann = NULL;

	if (!o)
		return sbx_fail(why, len, -ENOMEM, "state.json: out of memory");
	if (st->annotations_json)
		ann = json_tokener_parse(st->annotations_json);
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int64(st->pid));
	json_object_object_add(o, "start_time", json_object_new_uint64(st->start_time));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	json_object_object_add(o, "cgroup", json_object_new_string(st->cgroup));
	json_object_object_add(o, "sandbox_id", json_object_new_string(st->sandbox_id));
	json_object_object_add(o, "created", json_object_new_string(st->created));
	json_object_object_add(o, "owner", json_object_new_string(st->owner));
	json_object_object_add(o, "creating", json_object_new_boolean(st->creating));
	json_object_object_add(o, "annotations", ann ? ann : json_object_new_object());
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	int r = oci_write_atomic(path, s, strlen(s), why, len);
	json_object_put(o);
	return r;
}

static void copy_str(json_object *o, const char *key, char *dst, size_t n)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(dst, n, "%s", json_object_get_string(v));
}

int oci_state_read(const char *root, const char *id, struct oci_state *ret, char *why, size_t len)
{
	struct oci_state st = { 0 };
	char path[PATH_MAX + 16];
	_cleanup_free_ char *data = NULL;
	size_t n;
	json_object *v;
	int r;

	if (!oci_id_valid(id))
		return sbx_fail(why, len, -ENOENT, "container %s does not exist", id);
	snprintf(st.id, sizeof(st.id), "%s", id);
	if ((size_t)snprintf(st.dir, sizeof(st.dir), "%s/%s", root, id) >= sizeof(st.dir))
		return sbx_fail(why, len, -ENOENT, "container %s does not exist", id);
	struct stat sb;
	if (lstat(st.dir, &sb) < 0) {
		if (errno == ENOENT)
			return sbx_fail(why, len, -ENOENT, "container %s does not exist", id);
		return sbx_fail(why, len, -errno, "%s: %s", st.dir, strerror(errno));
	}
	r = check_dir(st.dir, "the state directory", why, len);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/state.json", st.dir);
	r = sbx_read_file(path, &data, &n, 1 << 20);
	if (r == -ENOENT)
		return sbx_fail(why, len, -EAGAIN, "container %s is being created (no state yet)", id);
	if (r < 0)
		return sbx_fail(why, len, r, "read %s: %s", path, strerror(-r));
	json_object *o = json_tokener_parse(data);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return sbx_fail(why, len, -EINVAL, "%s: not a state document", path);
	}
	copy_str(o, "bundle", st.bundle, sizeof(st.bundle));
	copy_str(o, "rootfs", st.rootfs, sizeof(st.rootfs));
	copy_str(o, "cgroup", st.cgroup, sizeof(st.cgroup));
	copy_str(o, "sandbox_id", st.sandbox_id, sizeof(st.sandbox_id));
	copy_str(o, "created", st.created, sizeof(st.created));
	copy_str(o, "owner", st.owner, sizeof(st.owner));
	if (json_object_object_get_ex(o, "pid", &v))
		st.pid = (pid_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "start_time", &v))
		st.start_time = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "creating", &v))
		st.creating = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "annotations", &v)) {
		st.annotations_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		if (!st.annotations_json) {
			json_object_put(o);
			return sbx_fail(why, len, -ENOMEM, "out of memory");
		}
	}
	json_object_put(o);
	*ret = st;
	return 0;
}

void oci_state_clear(struct oci_state *st)
{
	free(st->annotations_json);
	st->annotations_json = NULL;
}

char *oci_state_json(const struct oci_state *st, const char *status)
{
	json_object *o = json_object_new_object();
	json_object *ann = st->annotations_json ? json_tokener_parse(st->annotations_json) : NULL;
	char *s;

	if (!o)
		return NULL;
	json_object_object_add(o, "ociVersion", json_object_new_string("1.0.2"));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int64(strcmp(status, "stopped") ? st->pid : 0));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	json_object_object_add(o, "created", json_object_new_string(st->created));
	json_object_object_add(o, "owner", json_object_new_string(st->owner));
	if (ann && json_object_object_length(ann))
		json_object_object_add(o, "annotations", ann);
	else
		json_object_put(ann);
	if (st->sandbox_id[0])
		json_object_object_add(o, "sbx.sandbox", json_object_new_string(st->sandbox_id));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

int oci_state_remove(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int dfd = dirfd(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dfd, e->d_name, 0);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
