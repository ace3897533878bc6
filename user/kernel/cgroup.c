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

int sbx_cgroup2_mount(char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	/* "36 25 0:30 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw" */
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if ((size_t)snprintf(buf, len, "%s", mnt) >= len)
			r = -ENAMETOOLONG;
		else
			r = 0;
		break;
	}
	fclose(f);
	return r;
}

static int self_cgroup2_path(char *buf, size_t len)
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

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
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
		r = self_cgroup2_path(self, sizeof(self));
		if (r < 0)
			return r;
		if ((size_t)snprintf(c.path, sizeof(c.path), "%s%s/%s", c.mount,
				     strcmp(self, "/") ? self : "", instance) >= sizeof(c.path))
			return -ENAMETOOLONG;
	}
	if (create) {
		r = mkdir_p(c.path);
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

/* Calls fn for path and every cgroup below it, children first. */
static int walk_cgroups(const char *path, int (*fn)(const char *path, void *arg), void *arg,
			int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > 64)
		return -ELOOP;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && !r) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		r = walk_cgroups(sub, fn, arg, depth + 1);
	}
	closedir(d);
	return r ? r : fn(path, arg);
}

static int signal_procs(const char *path, void *arg)
{
	char file[PATH_MAX + 16];
	int sig = *(int *)arg, pid;
	FILE *f;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return 0;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, sig);
	fclose(f);
	return 0;
}

int sbx_cgroup_signal(const char *path, int sig)
{
	return walk_cgroups(path, signal_procs, &sig, 0);
}

int sbx_cgroup_kill(const char *path)
{
	char file[PATH_MAX + 16];
	int fd, sig = SIGKILL;

	/* cgroup.kill covers the whole subtree at once; older kernels lack it */
	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "1", 1) == 1) {
		close(fd);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return sbx_cgroup_signal(path, sig);
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
		r = walk_cgroups(path, remove_one, NULL, 0);
		if (r != -EBUSY)
			return r;
		sbx_cgroup_kill(path);
		nanosleep(&ts, NULL);
	}
	return r;
}
