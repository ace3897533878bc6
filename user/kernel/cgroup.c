/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/mountinfo.h"
#include "kernel/systemd.h"
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

int sbx_cgroup_id_exists(uint64_t id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = 0xfe /* FILEID_KERNFS */ },
		.id = id };
	_cleanup_close_ int mfd = -1;
	char mnt[PATH_MAX];
	int fd, r;

	r = sbx_cgroup2_mount(mnt, sizeof(mnt));
	if (r < 0)
		return r;
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return -errno;
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ESTALE || errno == ENOENT ? 0 : -errno;
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

/* Where the instance root goes, relative to the mount: beneath the systemd
 * scope this process entered (kernel/systemd.h); for a reader on a systemd
 * host, beneath the instance's scope while that holds a root; else beneath
 * the cgroup this process runs in. */
static int own_base(char *buf, size_t len, const char *instance, int create)
{
	const char *scope = sbx_systemd_scope_cgroup();
	char name[128], probe[PATH_MAX * 2];
	struct stat st;

	if (scope)
		return (size_t)snprintf(buf, len, "%s", scope) >= len ? -ENAMETOOLONG : 0;
	if (!create && sbx_systemd_booted() &&
	    sbx_systemd_scope_name(instance, name, sizeof(name)) == 0) {
		char mnt[PATH_MAX];

		if (sbx_cgroup2_mount(mnt, sizeof(mnt)) == 0 &&
		    (size_t)snprintf(probe, sizeof(probe), "%s/" SBX_SYSTEMD_SLICE "/%s/%s", mnt,
				     name, instance) < sizeof(probe) &&
		    stat(probe, &st) == 0)
			return (size_t)snprintf(buf, len, "/" SBX_SYSTEMD_SLICE "/%s", name) >= len ?
				       -ENAMETOOLONG : 0;
	}
	return sbx_cgroup2_self(buf, len);
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
		r = own_base(self, sizeof(self), instance, create);
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

/* One directory on the walk: its name in its parent, and the names of its
 * subdirectories, read at once so that no more than one directory stays
 * open whatever the depth. */
struct frame {
	char *name;
	char **subs;
	size_t n, next;
};

static void frame_free(struct frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->subs[i]);
	free(f->subs);
	free(f->name);
}

static bool is_subdir(int fd, const struct dirent *de)
{
	struct stat st;

	if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
		return false;	/* but ".x" is a cgroup like any other */
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Fills f with name and the subdirectories of the directory fd. */
static int frame_read(struct frame *f, int fd, const char *name)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	char **nv;

	*f = (struct frame){ .name = strdup(name) };
	if (dfd < 0 || !f->name) {
		if (dfd >= 0)
			close(dfd);
		return dfd < 0 ? -errno : -ENOMEM;
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!is_subdir(fd, de))
			continue;
		nv = realloc(f->subs, (f->n + 1) * sizeof(*nv));
		if (!nv || !(nv[f->n] = strdup(de->d_name))) {
			if (nv)
				f->subs = nv;
			return -ENOMEM;
		}
		f->subs = nv;
		f->n++;
	}
	return 0;
}

static void account(int *first_err, int *sum, int k)
{
	if (k < 0 && !*first_err)
		*first_err = k;
	else if (k > 0)
		*sum += k;
}

/* Descends into the subdirectory name of the top frame: *cur becomes its fd. */
static int push(struct frame **st, size_t *n, int *cur, const char *name)
{
	struct frame *nv = realloc(*st, (*n + 1) * sizeof(**st));
	int c, r;

	if (!nv)
		return -ENOMEM;
	*st = nv;
	c = openat(*cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c < 0)
		return errno == ENOENT ? 0 : -errno;	/* gone meanwhile: nothing to do */
	r = frame_read(&nv[*n], c, name);
	if (r < 0) {
		frame_free(&nv[*n]);
		close(c);
		return r;
	}
	close(*cur);
	*cur = c;
	(*n)++;
	return 0;
}

/* Depth first with the stack on the heap and one directory fd at a time
 * (going up through "..": a cgroup cannot move to another parent), so any
 * depth and any path length: a workload's tree of sub-cgroups is not bounded
 * by PATH_MAX or by sbx's open files. */
static int walk_from(int pfd, const char *base, sbx_cgroup_fn fn, void *arg)
{
	struct frame *st = NULL;
	size_t n = 0;
	int cur, up, err = 0, sum = 0;

	cur = fcntl(pfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	account(&err, &sum, push(&st, &n, &cur, base));
	while (n) {
		struct frame *top = &st[n - 1];

		if (top->next < top->n) {
			account(&err, &sum, push(&st, &n, &cur, top->subs[top->next++]));
			continue;
		}
		/* every child done: the directory itself, from its parent */
		up = n > 1 ? openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : pfd;
		if (up < 0) {
			account(&err, &sum, -errno);
			break;
		}
		account(&err, &sum, fn(up, top->name, arg));
		close(cur);
		cur = n > 1 ? up : -1;
		frame_free(top);
		n--;
	}
	while (n)
		frame_free(&st[--n]);
	free(st);
	if (cur >= 0)
		close(cur);
	return err ? err : sum;
}

int sbx_cgroup_walk(const char *path, sbx_cgroup_fn fn, void *arg)
{
	_cleanup_close_ int pfd = -1;
	char dir[PATH_MAX], *slash;
	size_t n;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return -ENAMETOOLONG;
	for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = 0;
	slash = strrchr(dir, '/');
	if (!slash || !slash[1])
		return -EINVAL;	/* relative, or "/" itself */
	*slash = 0;
	pfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT ? 0 : -errno;
	return walk_from(pfd, slash + 1, fn, arg);
}

static int signal_procs(int dirfd, const char *name, void *arg)
{
	_cleanup_fclose_ FILE *f = NULL;
	char file[NAME_MAX + 16];
	int sig = *(int *)arg, pid, n = 0, fd;

	snprintf(file, sizeof(file), "%s/cgroup.procs", name);
	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
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

static int remove_one(int dirfd, const char *name, void *arg)
{
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -errno;
}

int sbx_cgroup_destroy(const char *path)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int r = 0;

	/* Mostly the cgroup is empty by now (the caller killed its tasks and
	 * waited): the kernel refuses to remove a cgroup that has a task or a
	 * child cgroup, so a plain rmdir that succeeds needs nothing more, and
	 * saves a kill and a walk of the tree (per hierarchy on v1 hosts). */
	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	/* Kill before walking: a task left alive would make cgroups (or fork)
	 * while the walk removes them. Killed tasks leave asynchronously: retry
	 * for ~5 s. Sub-cgroups the workload made go first (rmdir of a parent
	 * fails while they exist). */
	for (int i = 0; i < 2500; i++) {
		sbx_cgroup_kill(path);
		r = sbx_cgroup_walk(path, remove_one, NULL);
		if (r != -EBUSY)
			return r;
		nanosleep(&ts, NULL);
	}
	return r;
}
