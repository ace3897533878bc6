/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/mountinfo.h"
#include "util/util.h"

/* The kernel writes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = 0;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue":
 * id, parent, dev, root, point, options, optional fields up to "-", then
 * fstype, source, superblock options. */
int sbx_mountinfo_parse(char *line, struct sbx_mount *ret)
{
	char *f[9], *p = line, *sep;
	unsigned int major, minor;
	int n = 0, id;

	line[strcspn(line, "\n")] = 0;
	while (n < 6 && (f[n] = strsep(&p, " ")) && *f[n])
		n++;
	if (n < 6)
		return -EINVAL;
	do
		sep = strsep(&p, " ");
	while (sep && strcmp(sep, "-"));
	while (sep && n < 9 && (f[n] = strsep(&p, " ")))
		n++;
	if (n < 9 || !*f[6])
		return -EINVAL;
	if (sscanf(f[0], "%d", &id) != 1 || sscanf(f[2], "%u:%u", &major, &minor) != 2)
		return -EINVAL;
	unescape(f[3]);
	unescape(f[4]);
	unescape(f[7]);
	*ret = (struct sbx_mount){
		.id = id, .major = major, .minor = minor, .root = f[3], .point = f[4], .fstype = f[6], .source = f[7], .super_opts = f[8],
	};
	return 0;
}

/* The table while a caller holds it (sbx_mountinfo_hold), else NULL. */
static char *held;
static size_t held_len;
static unsigned int holds;

/* Reads the whole table into memory. */
static int read_table(char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	if (!f)
		return -errno;
	do {
		if (cap - len < 4096) {
			nb = realloc(buf, cap = cap ? 2 * cap : 16384);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int sbx_mountinfo_hold(void)
{
	int r;

	if (holds) {
		holds++;
		return 0;
	}
	r = read_table(&held, &held_len);
	if (r == 0)
		holds = 1;
	return r;
}

void sbx_mountinfo_release(void)
{
	if (!holds || --holds)
		return;
	free(held);
	held = NULL;
	held_len = 0;
}

int sbx_mountinfo_each(int (*fn)(const struct sbx_mount *m, void *arg), void *arg)
{
	_cleanup_fclose_ FILE *f = held ? fmemopen(held, held_len, "r") :
					  fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct sbx_mount m;
	int r = 0;

	if (!f)
		return -errno;
	while (r == 0 && getline(&line, &cap, f) > 0)
		if (sbx_mountinfo_parse(line, &m) == 0)
			r = fn(&m, arg);
	return r;
}
