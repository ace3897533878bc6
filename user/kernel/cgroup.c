/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/mountinfo.h"
#include "util/util.h"

struct found {
	char *buf;
	size_t len;
};

static int is_cgroup2(const struct sbx_mount *m, void *arg)
{
	struct found *f = arg;

	if (strcmp(m->fstype, "cgroup2"))
		return 0;
	return (size_t)snprintf(f->buf, f->len, "%s", m->point) >= f->len ? -ENAMETOOLONG : 1;
}

int sbx_cgroup2_mount(char *buf, size_t len)
{
	struct found f = { buf, len };
	int r = sbx_mountinfo_each(is_cgroup2, &f);

	return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

int sbx_cgroup2_self(char *buf, size_t len)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		r = (size_t)snprintf(buf, len, "%s", line + 3) >= len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return r;
}

int sbx_cgroup_id(const char *path, uint64_t *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ret = st.st_ino;
	return 0;
}

static uint32_t path_level(const char *mount, const char *path)
{
	uint32_t level = 0;
	const char *p = path + strlen(mount);

	for (; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			level++;
	return level;
}

int sbx_cgroot_get(struct sbx_cgroot *ret, const char *instance, int create)
{
	struct sbx_cgroot c = {};
	char self[PATH_MAX];
	const char *env = getenv("SBX_CGROUP_ROOT");
	int r;

	r = sbx_cgroup2_mount(c.mount, sizeof(c.mount));
	if (r < 0)
		return r;
	if (env && *env) {
		if (env[0] != '/' || strncmp(env, c.mount, strlen(c.mount)))
			return -EINVAL;
		snprintf(c.path, sizeof(c.path), "%s", env);
	} else {
		r = sbx_cgroup2_self(self, sizeof(self));
		if (r < 0)
			return r;
		if ((size_t)snprintf(c.path, sizeof(c.path), "%s%s/%s", c.mount,
				     strcmp(self, "/") ? self : "", instance) >= sizeof(c.path))
			return -ENAMETOOLONG;
	}
	if (create) {
		r = sbx_mkdir_p(c.path, 0755);
		if (r < 0)
			return r;
	}
	r = sbx_cgroup_id(c.path, &c.id);
	if (r < 0)
		return r;
	c.level = path_level(c.mount, c.path);
	*ret = c;
	return 0;
}

int sbx_cgroup_create(const struct sbx_cgroot *root, const char *name, char *ret_path,
		      size_t len, uint64_t *ret_id)
{
	char path[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root->path, name) >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		rmdir(path);
		return r;
	}
	r = sbx_cgroup_id(path, ret_id);
	if (r < 0) {
		close(fd);
		rmdir(path);
		return r;
	}
	snprintf(ret_path, len, "%s", path);
	return fd;
}

static int walk(const char *path, int (*fn)(const char *path, void *arg), void *arg, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	char sub[PATH_MAX];
	struct dirent *de;
	int r = 0, n;

	if (depth > 64)
		return -ELOOP;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		n = walk(sub, fn, arg, depth + 1);
		if (r >= 0)
			r = n < 0 ? n : r + n;
	}
	n = fn(path, arg);
	return r < 0 ? r : n < 0 ? n : r + n;
}

int sbx_cgroup_walk(const char *path, int (*fn)(const char *path, void *arg), void *arg)
{
	return walk(path, fn, arg, 0);
}

static int signal_procs(const char *path, void *arg)
{
	_cleanup_fclose_ FILE *f = NULL;
	char file[PATH_MAX + 16];
	int sig = *(int *)arg, pid, n = 0;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0 && kill(pid, sig) == 0)
			n++;
	return n;
}

int sbx_cgroup_signal(const char *path, int sig)
{
	return sbx_cgroup_walk(path, signal_procs, &sig);
}

int sbx_cgroup_kill(const char *path)
{
	char file[PATH_MAX + 16];
	int fd, r;

	/* cgroup.kill covers the whole subtree at once; older kernels lack it */
	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "1", 1) == 1) {
		close(fd);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	r = sbx_cgroup_signal(path, SIGKILL);
	return r < 0 ? r : 0;
}

static int remove_one(const char *path, void *arg)
{
	return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}

int sbx_cgroup_destroy(const char *path)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int r = 0;

	/* Killed tasks leave asynchronously: retry for ~5 s. Sub-cgroups the
	 * workload made go first (rmdir of a parent fails while they exist). */
	for (int i = 0; i < 2500; i++) {
		r = sbx_cgroup_walk(path, remove_one, NULL);
		if (r != -EBUSY)
			return r;
		sbx_cgroup_kill(path);
		nanosleep(&ts, NULL);
	}
	return r;
}
