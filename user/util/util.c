/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

int sbx_fail(char *why, size_t len, int err, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return err;
}

static int mkdir_one(const char *path, mode_t mode)
{
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -errno;
}

int sbx_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	int r;

	if (!path || !*path)
		return -(errno = EINVAL);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return -(errno = ENAMETOOLONG);
	/* usually only the last component is missing: try that first */
	r = mkdir_one(tmp, mode);
	if (r != -ENOENT)
		return r;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = 0;
		r = mkdir_one(tmp, mode);
		*p = '/';
		if (r < 0)
			return r;
	}
	return mkdir_one(tmp, mode);
}
