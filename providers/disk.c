/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "disk.h"
#include "util/util.h"

#define INODE_BYTES 4096	/* one inode per 4 KiB of quota: a million empty
				 * files cannot hide beyond it */
#define INODES_MIN 1024

static int config(int fs, const char *key, const char *val, char *why, size_t len)
{
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, val, 0) < 0)
		return sbx_fail(why, len, -errno, "disk: tmpfs option %s=%s: %m", key, val);
	return 0;
}

static int make_dirs(int mfd, char *why, size_t len)
{
	static const char *const dirs[] = { SBX_DISK_TMP, SBX_DISK_SHM };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdirat(mfd, dirs[i], 0700) < 0 || fchmodat(mfd, dirs[i], 01777, 0) < 0)
			return sbx_fail(why, len, -errno, "disk: mkdir %s on the tmpfs: %m", dirs[i]);
	return 0;
}

int sbx_disk_create(uint64_t bytes, int *ret_fd, char *why, size_t len)
{
	char size[32], inodes[32];
	uint64_t n = bytes / INODE_BYTES;
	int fs, mfd = -1, r;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
	snprintf(inodes, sizeof(inodes), "%llu", (unsigned long long)(n < INODES_MIN ? INODES_MIN : n));
	fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return sbx_fail(why, len, -errno, "disk: fsopen tmpfs: %m (the new mount API, "
				"Linux 5.2, is needed for a disk quota)");
	r = config(fs, "size", size, why, len);
	if (!r)
		r = config(fs, "nr_inodes", inodes, why, len);
	if (!r)
		r = config(fs, "mode", "0755", why, len);
	if (!r && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = sbx_fail(why, len, -errno, "disk: create the tmpfs: %m");
	if (!r) {
		mfd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		if (mfd < 0)
			r = sbx_fail(why, len, -errno, "disk: fsmount: %m");
	}
	close(fs);
	if (!r)
		r = make_dirs(mfd, why, len);
	if (r < 0) {
		if (mfd >= 0)
			close(mfd);
		return r;
	}
	*ret_fd = mfd;
	return 0;
}

int sbx_disk_stage(int fd, const char *stage, char *why, size_t len)
{
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, stage, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_fail(why, len, -errno, "disk: attach the tmpfs at %s: %m", stage);
	return 0;
}

int sbx_disk_unstage(const char *stage, char *why, size_t len)
{
	if (umount2(stage, MNT_DETACH) < 0)
		return sbx_fail(why, len, -errno, "disk: detach %s: %m", stage);
	return 0;
}

SBX_IDLE_PATH int sbx_disk_usage(int fd, struct sbx_disk_usage *ret)
{
	struct statfs sf;

	if (fd < 0)
		return -ENOENT;
	if (fstatfs(fd, &sf) < 0)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	ret->limit_bytes = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
	ret->used_bytes = (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
	ret->inodes_limit = sf.f_files;
	ret->inodes_used = sf.f_files - sf.f_ffree;
	ret->full = sf.f_bfree == 0 || sf.f_ffree == 0;
	snprintf(ret->mount, sizeof(ret->mount), "/tmp");
	return 0;
}
