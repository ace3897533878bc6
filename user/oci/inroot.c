/* SPDX-License-Identifier: MIT */
/*
 * Paths inside a container's root, resolved one component at a time
 * (inside.h, oci_inroot_open). openat2(RESOLVE_IN_ROOT) would stop a ".."
 * at the root silently; this walker says so instead (-EXDEV), which is what
 * sbx-oci reports for a hostile mount target, and it makes what is missing
 * on the way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/inside.h"
#include "util/util.h"

#define MAX_LINKS 40
#define MAX_DEPTH 128

/* The walk's state: the directories entered (each a descriptor, so that
 * ".." goes back to where the walk came from, not to whatever a rename
 * made the parent), and the path inside the root that they spell. */
struct walk {
	int rootfd;
	int fds[MAX_DEPTH];
	size_t cut[MAX_DEPTH];	/* strlen(path) before each directory */
	size_t depth;
	char path[PATH_MAX];
};

static void walk_pop(struct walk *w)
{
	close(w->fds[--w->depth]);
	w->path[w->cut[w->depth]] = 0;
}

static int walk_push(struct walk *w, int fd, const char *name)
{
	size_t n = strlen(w->path);

	if (w->depth == MAX_DEPTH || n + 1 + strlen(name) >= sizeof(w->path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	w->cut[w->depth] = n;
	w->fds[w->depth++] = fd;
	snprintf(w->path + n, sizeof(w->path) - n, "/%s", name);
	return 0;
}

/* name in the current directory, made when missing and asked to. */
static int walk_open(struct walk *w, const char *name, bool last, int flags)
{
	int dir = w->depth ? w->fds[w->depth - 1] : w->rootfd;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !(flags & OCI_INROOT_MKDIR))
		return fd < 0 ? -errno : fd;
	if (last && (flags & OCI_INROOT_MKFILE)) {
		fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -errno;
		if (fd >= 0)
			close(fd);
	} else if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) {
		return -errno;
	}
	fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* rest becomes the link's target followed by what was left of rest. */
static int walk_link(struct walk *w, int fd, char *rest, size_t size, const char *left)
{
	char target[PATH_MAX], joined[PATH_MAX * 2];
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);

	close(fd);
	if (n < 0)
		return -errno;
	target[n] = 0;
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", target, left) >= size)
		return -ENAMETOOLONG;
	memcpy(rest, joined, strlen(joined) + 1);
	if (target[0] == '/')
		while (w->depth)
			walk_pop(w);
	return 0;
}

/* One component of rest at *pos: 0 to go on, or -errno. */
static int walk_step(struct walk *w, char *rest, size_t size, size_t *pos, int flags, int *links)
{
	char name[NAME_MAX + 1], *p = rest + *pos;
	size_t n = strcspn(p, "/");
	struct stat st;
	bool last;
	int fd, r;

	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, p, n);
	name[n] = 0;
	p += n;
	*pos += n;
	last = !p[strspn(p, "/")];
	if (!strcmp(name, "."))
		return 0;
	if (!strcmp(name, "..")) {
		if (!w->depth)
			return -EXDEV;
		walk_pop(w);
		return 0;
	}
	fd = walk_open(w, name, last, flags);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		if (++*links > MAX_LINKS) {
			close(fd);
			return -ELOOP;
		}
		*pos = 0;
		return walk_link(w, fd, rest, size, p);
	}
	if (!last && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	return walk_push(w, fd, name);
}

int oci_inroot_open(int rootfd, const char *path, int flags, char *ret_path, size_t ret_len)
{
	struct walk w = { .rootfd = rootfd };
	char rest[PATH_MAX];
	size_t pos = 0;
	int links = 0, r = 0;

	if ((size_t)snprintf(rest, sizeof(rest), "%s", path) >= sizeof(rest))
		return -ENAMETOOLONG;
	while (!r) {
		pos += strspn(rest + pos, "/");
		if (!rest[pos])
			break;
		r = walk_step(&w, rest, sizeof(rest), &pos, flags, &links);
	}
	if (!r && ret_path)
		snprintf(ret_path, ret_len, "%s", w.depth ? w.path : "/");
	if (!r && w.depth)
		r = w.fds[--w.depth];	/* the last one: the caller's */
	else if (!r && (r = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	while (w.depth)
		close(w.fds[--w.depth]);
	return r;
}

const char *oci_inroot_error(int err)
{
	switch (err) {
	case -EXDEV:
		return "\"..\" leads out of the container's root";
	case -ELOOP:
		return "more than 40 symbolic links";
	default:
		return strerror(-err);
	}
}
