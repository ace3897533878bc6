/* SPDX-License-Identifier: MIT */
/*
 * linux.resources.devices on a host with the v1 devices hierarchy (hybrid
 * layouts): a devices cgroup of the container's own,
 * <mount><own devices cgroup>/sbx-oci/<sandbox id>, whose list starts empty
 * ("a" denied) and gets the spec's rules in order, then runc's default
 * allowed devices (runc_allowed below) and those of linux.devices. The creator makes it and
 * places the init in it (oci_enforce_done) before the init forks; the
 * manager removes it once the container's processes are gone. On a pure
 * cgroup2 host the rules would need a BPF device program, which sbx has
 * not: there they are not applied (refused under strict).
 * oci_cgroups_v1_join puts a process started by `sbx-oci exec` in the init's
 * v1 cgroups (these devices, sbx's memory and pids limits).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/mountinfo.h"
#include "oci/devcgroup.h"
#include "util/util.h"

#define DEV_DIR "sbx-oci"

/* The mount point of the v1 hierarchy with the devices controller. */
static int devices_mount(char *buf, size_t len)
{
	char line[4096], mnt[PATH_MAX], opts[1024];
	FILE *f = fopen("/proc/self/mounts", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char type[64];

		if (sscanf(line, "%*s %4095s %63s %1023s", mnt, type, opts) != 3 || strcmp(type, "cgroup"))
			continue;
		for (char *o = strtok(opts, ","); o && r < 0; o = strtok(NULL, ","))
			if (!strcmp(o, "devices"))
				r = (size_t)snprintf(buf, len, "%s", mnt) >= len ? -ENAMETOOLONG : 0;
	}
	fclose(f);
	return r;
}

/* This process's cgroup in it ("N:devices:/path" of /proc/self/cgroup). */
static int devices_self(char *buf, size_t len)
{
	char line[PATH_MAX + 64];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;

		if (!p || (size_t)(p - c - 1) != strlen("devices") || strncmp(c + 1, "devices", 7))
			continue;
		p[1 + strcspn(p + 1, "\n")] = 0;
		r = (size_t)snprintf(buf, len, "%s", strcmp(p + 1, "/") ? p + 1 : "") >= len ?
			    -ENAMETOOLONG : 0;
	}
	fclose(f);
	return r;
}

int oci_devices_path(const char *sandbox_id, char *buf, size_t len)
{
	char mnt[PATH_MAX], self[PATH_MAX];
	int r = devices_mount(mnt, sizeof(mnt));

	if (!r)
		r = devices_self(self, sizeof(self));
	if (r < 0)
		return r;
	if (sandbox_id)
		r = (size_t)snprintf(buf, len, "%s%s/" DEV_DIR "/%s", mnt, self, sandbox_id) >= len;
	else
		r = (size_t)snprintf(buf, len, "%s%s/" DEV_DIR, mnt, self) >= len;
	return r ? -ENAMETOOLONG : 0;
}

bool oci_devices_supported(void)
{
	char path[PATH_MAX];

	return oci_devices_path(NULL, path, sizeof(path)) == 0;
}

/* "c 1:3 rwm" ("*" for -1; type 'a' is every device). */
static void rule_text(const struct oci_device_rule *d, char *buf, size_t len)
{
	char maj[24] = "*", min[24] = "*";

	if (d->type == 'a' || !d->type) {
		snprintf(buf, len, "a *:* %s", d->access[0] ? d->access : "rwm");
		return;
	}
	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%lld", (long long)d->minor);
	snprintf(buf, len, "%c %s:%s %s", d->type, maj, min, d->access[0] ? d->access : "rwm");
}

/* The devices runc allows after the spec's rules whatever they say (its
 * AllowedDevices): mknod of any, the ones every container's /dev has
 * (null, zero, full, random, urandom, tty, console, ptmx) and the ptys.
 * Without them the deny-all rule of every engine's config.json (containerd
 * sends nothing else) leaves the container no /dev/null and no terminal. */
static const char *const runc_allowed[] = {
	"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
	"c 1:5 rwm", "c 1:9 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm",
};

int oci_devices_create(const char *sandbox_id, const struct oci_device_rule *rules, size_t n,
		       const struct oci_device *devs, size_t n_devs, char *ret_path, size_t path_len,
		       char *why, size_t len)
{
	char path[PATH_MAX], parent[PATH_MAX], text[96];
	int r = oci_devices_path(NULL, parent, sizeof(parent));

	if (!r)
		r = oci_devices_path(sandbox_id, path, sizeof(path));
	if (r < 0)
		return sbx_fail(why, len, r, "linux.resources.devices: no v1 devices cgroup: %s",
				strerror(-r));
	if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || mkdir(path, 0755) < 0)
		return sbx_fail(why, len, -errno, "linux.resources.devices: mkdir %s: %m", path);
	r = sbx_write_at(path, "devices.deny", "a");
	for (size_t i = 0; i < n && r == 0; i++) {
		rule_text(&rules[i], text, sizeof(text));
		r = sbx_write_at(path, rules[i].allow ? "devices.allow" : "devices.deny", text);
		if (r < 0) {
			sbx_fail(why, len, r, "linux.resources.devices[%zu]: '%s' %s: %s", i, text,
				 rules[i].allow ? "allow" : "deny", strerror(-r));
			oci_devices_remove(path);
			return r;
		}
	}
	for (size_t i = 0; i < sizeof(runc_allowed) / sizeof(runc_allowed[0]) && r == 0; i++)
		r = sbx_write_at(path, "devices.allow", runc_allowed[i]);
	/* and, as runc, the nodes that linux.devices makes */
	for (size_t i = 0; i < n_devs && r == 0; i++) {
		if (devs[i].type == 'p')
			continue;
		snprintf(text, sizeof(text), "%c %lld:%lld rwm", devs[i].type == 'b' ? 'b' : 'c',
			 (long long)devs[i].major, (long long)devs[i].minor);
		r = sbx_write_at(path, "devices.allow", text);
	}
	if (r < 0) {
		oci_devices_remove(path);
		return sbx_fail(why, len, r, "linux.resources.devices: %s: the rules: %s", path,
				strerror(-r));
	}
	snprintf(ret_path, path_len, "%s", path);
	return 0;
}

int oci_devices_attach(const char *path, pid_t pid)
{
	char v[24];

	snprintf(v, sizeof(v), "%d", (int)pid);
	return sbx_write_at(path, "cgroup.procs", v);
}

void oci_devices_remove(const char *path)
{
	char parent[PATH_MAX];
	char *slash;

	if (rmdir(path) < 0)
		return;
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash) {
		*slash = 0;
		rmdir(parent);	/* the last container's: EBUSY or ENOTEMPTY otherwise */
	}
}

/* ---- the init's v1 cgroups, for exec -------------------------------------- */

struct v1_hier {
	const char *ctrls;		/* "memory", "cpu,cpuacct", "name=systemd" */
	char point[PATH_MAX], root[PATH_MAX];
};

/* Whether every comma-separated word of ctrls is one of opts. */
static bool all_in(const char *ctrls, const char *opts)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", ctrls);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(w);
		const char *p = opts;
		bool found = false;

		while (p && *p && !found) {
			found = !strncmp(p, w, n) && (p[n] == ',' || !p[n]);
			p = strchr(p, ',');
			p = p ? p + 1 : NULL;
		}
		if (!found)
			return false;
	}
	return true;
}

static int v1_hier_match(const struct sbx_mount *m, void *arg)
{
	struct v1_hier *h = arg;

	if (strcmp(m->fstype, "cgroup") || !all_in(h->ctrls, m->super_opts))
		return 0;
	snprintf(h->point, sizeof(h->point), "%s", m->point);
	snprintf(h->root, sizeof(h->root), "%s", m->root);
	return 1;
}

/* The line of /proc/PID/cgroup ("ID:CTRLS:PATH") of hierarchy id; its path
 * into path. False when there is none. */
static bool cgroup_of(const char *file, const char *id, char *path, size_t len)
{
	char line[PATH_MAX + 256];
	size_t n = strlen(id);
	bool found = false;
	FILE *f = fopen(file, "re");

	while (f && !found && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		if (!p || (size_t)(c - line) != n || strncmp(line, id, n))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(path, len, "%s", p + 1);
		found = true;
	}
	if (f)
		fclose(f);
	return found;
}

int oci_cgroups_v1_join(pid_t pid, char *why, size_t len)
{
	char file[64], line[PATH_MAX + 256], mine[PATH_MAX], dir[PATH_MAX * 2 + 2];
	FILE *f;
	int r = 0;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return sbx_fail(why, len, -errno, "%s: %s", file, strerror(errno));
	while (r == 0 && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		struct v1_hier h = { 0 };
		size_t rl;

		line[strcspn(line, "\n")] = 0;
		if (!p || p == c + 1 || !strncmp(line, "0:", 2))
			continue;	/* cgroup2 (CLONE_INTO_CGROUP's) */
		*c = *p = 0;
		h.ctrls = c + 1;
		if (cgroup_of("/proc/self/cgroup", line, mine, sizeof(mine)) && !strcmp(mine, p + 1))
			continue;
		if (sbx_mountinfo_each(v1_hier_match, &h) <= 0) {
			r = sbx_fail(why, len, -ENOENT, "exec: the container's v1 %s cgroup %s: the "
				     "hierarchy is not mounted here", h.ctrls, p + 1);
			break;
		}
		rl = strcmp(h.root, "/") ? strlen(h.root) : 0;
		if (rl && (strncmp(p + 1, h.root, rl) || (p[1 + rl] && p[1 + rl] != '/'))) {
			r = sbx_fail(why, len, -ENOENT, "exec: the container's v1 %s cgroup %s lies "
				     "outside the mount of that hierarchy (%s)", h.ctrls, p + 1, h.root);
			break;
		}
		snprintf(dir, sizeof(dir), "%s%s", h.point, p + 1 + rl);
		r = sbx_write_at(dir, "cgroup.procs", "0");
		if (r < 0)
			sbx_fail(why, len, r, "exec: joining the container's v1 %s cgroup %s: %s",
				 h.ctrls, dir, strerror(-r));
	}
	fclose(f);
	return r;
}
