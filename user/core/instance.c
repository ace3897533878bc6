/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "kernel/seccomp_cache.h"
#include "util/util.h"

static const char name_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

int sbx_instance_get(struct sbx_instance *ret)
{
	struct sbx_instance in = {};
	const char *name = getenv("SBX_INSTANCE");

	if (!name || !*name)
		name = "sbx";
	if (strlen(name) > 48 || name[0] == '.' || name[strspn(name, name_chars)])
		return -EINVAL;
	snprintf(in.name, sizeof(in.name), "%s", name);
	snprintf(in.pin_dir, sizeof(in.pin_dir), "/sys/fs/bpf/%s", name);
	snprintf(in.run_dir, sizeof(in.run_dir), "/run/%s", name);
	*ret = in;
	return 0;
}

/* Searchable, not readable (0711): what is below is root's (the slot
 * registry, which names every sandbox, and the providers' directories, a
 * gVisor bundle's config.json with the profiles' environment, are 0700,
 * files 0600), but sbxd's socket /run/sbx/sbxd.sock (0666) is in the
 * default instance's run directory, and with 0700 the first sandbox made
 * sbxd unreachable for every user but root. chmod: a directory an older
 * sbx made 0755 or 0700, or systemd's RuntimeDirectory. */
int sbx_instance_mkrun(const struct sbx_instance *in)
{
	if (mkdir(in->run_dir, 0711) < 0 && errno != EEXIST)
		return -errno;
	if (chmod(in->run_dir, 0711) < 0)
		return -errno;
	return 0;
}

int sbx_instance_lock(const struct sbx_instance *in)
{
	char path[PATH_MAX + 8];
	int fd, r;

	r = sbx_instance_mkrun(in);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/lock", in->run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void sbx_instance_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int sbx_instance_slot_dir(const struct sbx_instance *in, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/slots", in->run_dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int sbx_instance_slot_file(const struct sbx_instance *in, uint32_t slot, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/slots/%u", in->run_dir, slot) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool registry_file_live(const char *file)
{
	char line[128];
	bool live = false;
	FILE *f = sbx_fopen_regular(file);

	while (f && !live && fgets(line, sizeof(line), f))
		if (!strncmp(line, "pid=", 4) && kill(atoi(line + 4), 0) == 0)
			live = true;
	if (f)
		fclose(f);
	return live;
}

bool sbx_instance_live(const struct sbx_instance *in)
{
	char dir[PATH_MAX + 8], file[PATH_MAX + 300];
	struct dirent *de;
	bool live = false;
	DIR *d;

	if (sbx_instance_slot_dir(in, dir, sizeof(dir)) < 0)
		return false;
	d = opendir(dir);
	while (d && !live && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		live = registry_file_live(file);
	}
	if (d)
		closedir(d);
	return live;
}

void sbx_instance_remove_run_dir(const struct sbx_instance *in)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/slots", in->run_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/root", in->run_dir);
	rmdir(path);
	/* the process provider's stage for the disk quota's tmpfs */
	snprintf(path, sizeof(path), "%s/disk", in->run_dir);
	rmdir(path);
	/* the gVisor provider's caches (its runsc probe, the platform it
	 * chose), and its bundle directory once no sandbox has a bundle there */
	snprintf(path, sizeof(path), "%s/probe-runsc", in->run_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gvisor/platform", in->run_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gvisor", in->run_dir);
	rmdir(path);
	sbx_seccomp_cache_remove(in->run_dir);
	snprintf(path, sizeof(path), "%s/lock", in->run_dir);
	unlink(path);
	rmdir(in->run_dir);
}
