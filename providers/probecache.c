/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probecache.h"

static const char *cache_dir;

void sbx_probe_cache_set_dir(const char *dir)
{
	cache_dir = dir;
}

/* "path dev ino size mtime.ns": what identifies the binary as it is now. */
static int binary_key(const char *bin, char *key, size_t len)
{
	struct stat st;

	if (stat(bin, &st) < 0)
		return -errno;
	if ((size_t)snprintf(key, len, "%s %llu %llu %lld %lld.%09ld", bin,
			     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			     (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			     st.st_mtim.tv_nsec) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int entry_path(const char *name, char *path, size_t len)
{
	if (!cache_dir)
		return -ENOENT;
	if ((size_t)snprintf(path, len, "%s/probe-%s", cache_dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int sbx_probe_cache_get(const char *name, const char *bin, char *val, size_t len)
{
	char path[PATH_MAX], key[PATH_MAX + 128], line[PATH_MAX + 128];
	struct stat st;
	FILE *f;
	int r;

	if ((r = entry_path(name, path, sizeof(path))) < 0 || (r = binary_key(bin, key, sizeof(key))) < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* only a file of ours counts: root's, not writable by anyone else */
	r = fstat(fileno(f), &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 0077) ? -ENOENT : 0;
	if (!r && !fgets(line, sizeof(line), f))
		r = -ENOENT;
	if (!r) {
		line[strcspn(line, "\n")] = 0;
		r = strcmp(line, key) ? -ENOENT : 0;
	}
	if (!r && !fgets(val, (int)len, f))
		r = -ENOENT;
	fclose(f);
	if (!r)
		val[strcspn(val, "\n")] = 0;
	return r;
}

int sbx_probe_cache_put(const char *name, const char *bin, const char *val)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], key[PATH_MAX + 128];
	FILE *f;
	int fd, r;

	if ((r = entry_path(name, path, sizeof(path))) < 0 || (r = binary_key(bin, key, sizeof(key))) < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "we");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fprintf(f, "%s\n%.*s\n", key, (int)strcspn(val, "\n"), val);
	r = fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
