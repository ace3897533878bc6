/* SPDX-License-Identifier: MIT */
/*
 * Resource limits on cgroup2 controllers, or on the v1 hierarchies of hybrid
 * hosts. What this file writes, and nothing else:
 *   - the sandbox's cgroup2 directory (made by the caller) and "+ctrl" in the
 *     cgroup.subtree_control of its parent, the sbx root;
 *   - directories it makes itself: <v1 mount><own v1 cgroup>/<instance>/<id>.
 * Cgroups of anyone else (the v1 cgroup sbx runs in included) are only read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/limits.h"
#include "kernel/mountinfo.h"
#include "util/util.h"

#define CPU_PERIOD_US 100000ULL
#define CPU_QUOTA_MIN_US 1000ULL	/* the kernel refuses shorter quotas */
#define NAP_NS (2 * 1000 * 1000)
#define EMPTY_NAPS 1500			/* ~3 s for killed tasks to leave a cgroup */
#define FREEZE_NAPS 500			/* ~1 s for a freezer state change */

/* v1 hierarchy names; the first three are also the cgroup2 controllers. */
static const char *const names[SBX_V1_N] = { "memory", "cpu", "pids", "cpuset", "cpuacct",
					     "freezer" };
static const char *const v2_files[SBX_LIMIT_N] = { "memory.max", "cpu.max", "pids.max",
						   "cpuset.cpus" };
#define CPUS_DIR "/sys/devices/system/cpu"
#define CPUS_TEXT 4096			/* the longest cpuset list sbx writes or reads */

/* v1 directories of the hierarchies to use, before instance/id is added. */
struct plan {
	bool use[SBX_V1_N];
	char base[SBX_V1_N][PATH_MAX];
};

static void nap(void)
{
	struct timespec ts = { 0, NAP_NS };

	nanosleep(&ts, NULL);
}

static int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return path_join(path, sizeof(path), dir, name) == 0 && access(path, F_OK) == 0;
}

static int write_str(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];
	size_t want = strlen(val);
	ssize_t n;
	int fd, r;

	r = path_join(path, sizeof(path), dir, name);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, want);
	r = n < 0 ? -errno : (size_t)n != want ? -EIO : 0;
	close(fd);
	return r;
}

static int write_u64(const char *dir, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return write_str(dir, name, buf);
}

static int read_str(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	r = path_join(path, sizeof(path), dir, name);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r == 0)
		buf[n] = 0;
	return r;
}

static int read_u64(const char *dir, const char *name, uint64_t *ret)
{
	char buf[64], *end;
	unsigned long long v;
	int r;

	r = read_str(dir, name, buf, sizeof(buf));
	if (r < 0)
		return r;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Value of the "key N" line of a flat-keyed file (memory.events, cpu.stat). */
static int read_key(const char *dir, const char *name, const char *key, uint64_t *ret)
{
	char buf[4096];
	size_t n = strlen(key);
	int r;

	r = read_str(dir, name, buf, sizeof(buf));
	if (r < 0)
		return r;
	for (char *line = buf; *line; line++) {
		if (!strncmp(line, key, n) && line[n] == ' ') {
			*ret = strtoull(line + n + 1, NULL, 10);
			return 0;
		}
		line = strchr(line, '\n');
		if (!line)
			break;
	}
	return -ENOENT;
}

/* word is one of the space/comma/newline separated items of list. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool start = p == list || strchr(" ,\n", p[-1]);
		bool end = !p[n] || strchr(" ,\n", p[n]);

		if (start && end)
			return true;
	}
	return false;
}

static int copy_str(char *buf, size_t len, const char *s)
{
	return (size_t)snprintf(buf, len, "%s", s) >= len ? -ENAMETOOLONG : 0;
}

struct v1_find {
	const char *ctrl;
	char *mnt, *root;
	size_t mlen, rlen;
};

static int v1_match(const struct sbx_mount *m, void *arg)
{
	struct v1_find *f = arg;
	int r;

	/* "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu" */
	if (strcmp(m->fstype, "cgroup") || !has_word(m->super_opts, f->ctrl))
		return 0;
	r = copy_str(f->mnt, f->mlen, m->point);
	if (r == 0)
		r = copy_str(f->root, f->rlen, m->root);
	return r < 0 ? r : 1;
}

/* Mount point and mount root of the v1 hierarchy that has ctrl. */
static int v1_mount(const char *ctrl, char *mnt, size_t mlen, char *root, size_t rlen)
{
	struct v1_find f = { ctrl, mnt, root, mlen, rlen };
	int r = sbx_mountinfo_each(v1_match, &f);

	return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

/* The v1 cgroup this process is in, in the hierarchy that has ctrl. */
static int v1_self(const char *ctrl, char *buf, size_t len)
{
	char line[PATH_MAX + 256];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ESRCH;

	if (!f)
		return -errno;
	/* "4:memory:/process_api/9eae" or "2:cpu,cpuacct:/" */
	while (r == -ESRCH && fgets(line, sizeof(line), f)) {
		char *list = strchr(line, ':'), *path;

		path = list ? strchr(list + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = 0;
		path[strcspn(path, "\n")] = 0;
		if (has_word(list + 1, ctrl))
			r = copy_str(buf, len, path);
	}
	fclose(f);
	return r;
}

/* "<mount><own cgroup>" of a v1 hierarchy: -ENOENT when it is not mounted,
 * -ESRCH when the mount does not show the cgroup this process is in. */
static int v1_base(const char *ctrl, char *buf, size_t len)
{
	char mnt[PATH_MAX], root[PATH_MAX], self[PATH_MAX];
	const char *rel = self;
	size_t n;
	int r;

	r = v1_mount(ctrl, mnt, sizeof(mnt), root, sizeof(root));
	if (r == 0)
		r = v1_self(ctrl, self, sizeof(self));
	if (r < 0)
		return r;
	/* a container's mount may show a subtree only: strip its root */
	n = strlen(root);
	if (strcmp(root, "/")) {
		if (strncmp(self, root, n) || (self[n] && self[n] != '/'))
			return -ESRCH;
		rel = self + n;
	}
	if (!strcmp(rel, "/"))
		rel = "";
	if ((size_t)snprintf(buf, len, "%s%s", mnt, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int parent_dir(char *buf, size_t len, const char *path)
{
	char *slash;
	int r = copy_str(buf, len, path);

	if (r < 0)
		return r;
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return -EINVAL;
	*slash = 0;
	return 0;
}

/* Makes controller k available in the sandbox's cgroup2 directory: its
 * parent, the sbx root (which has no processes), enables it if it may. The
 * host's root cgroup is never the sbx root: it is left alone. */
static int v2_enable(const char *v2_path, enum sbx_limit_kind k)
{
	char root[PATH_MAX], mnt[PATH_MAX], avail[1024], op[32];
	int r;

	if (!v2_path[0])
		return -ENOENT;
	if (exists(v2_path, v2_files[k]))
		return 0;
	r = parent_dir(root, sizeof(root), v2_path);
	if (r == 0 && sbx_cgroup2_mount(mnt, sizeof(mnt)) == 0 && !strcmp(root, mnt))
		r = -ENOENT;
	if (r == 0)
		r = read_str(root, "cgroup.controllers", avail, sizeof(avail));
	if (r < 0)
		return r;
	if (!has_word(avail, names[k]))
		return -ENOENT;
	snprintf(op, sizeof(op), "+%s", names[k]);
	r = write_str(root, "cgroup.subtree_control", op);
	if (r < 0)
		return r;
	return exists(v2_path, v2_files[k]) ? 0 : -ENOENT;
}

/* Read-only variant for the probe: the sbx root may not exist yet, then
 * what it would get is its parent's subtree_control. */
static bool v2_listed(const char *v2_root, enum sbx_limit_kind k)
{
	char parent[PATH_MAX], avail[1024];

	if (!v2_root || !v2_root[0])
		return false;
	if (read_str(v2_root, "cgroup.controllers", avail, sizeof(avail)) == 0)
		return has_word(avail, names[k]);
	if (parent_dir(parent, sizeof(parent), v2_root) < 0 ||
	    read_str(parent, "cgroup.subtree_control", avail, sizeof(avail)) < 0)
		return false;
	return has_word(avail, names[k]);
}

static void no_controller(enum sbx_limit_kind k, int e2, int e1, char *buf, size_t len)
{
	const char *n = names[k];
	char v2[128], v1[160];

	if (e2 == -ENOENT)
		snprintf(v2, sizeof(v2), "cgroup2 lacks it");
	else
		snprintf(v2, sizeof(v2), "cgroup2 cannot enable it: %s", strerror(-e2));
	if (e1 == -ENOENT)
		snprintf(v1, sizeof(v1), "no v1 %s hierarchy is mounted", n);
	else if (e1 == -ESRCH)
		snprintf(v1, sizeof(v1), "the v1 %s mount does not show this process's cgroup", n);
	else
		snprintf(v1, sizeof(v1), "the v1 %s hierarchy is unusable: %s", n, strerror(-e1));
	snprintf(buf, len, "%s: no %s controller (%s and %s)", n, n, v2, v1);
}

static void append(char *why, size_t len, const char *s)
{
	size_t off = strnlen(why, len);

	if (off + 1 < len)
		snprintf(why + off, len - off, "%s%s", off ? "; " : "", s);
}

/* --- cgroup subtrees ------------------------------------------------------ */

/* Kills until the subtree is empty: killed tasks leave it asynchronously,
 * and without a freezer a forking task may add more meanwhile. */
static int kill_until_empty(const char *dir)
{
	for (int i = 0; i < EMPTY_NAPS; i++) {
		int n = sbx_cgroup_signal(dir, SIGKILL);

		if (n <= 0)
			return n;
		nap();
	}
	return -EBUSY;
}

/* A cgroup2 directory's "populated 0" (cgroup.events) covers its whole
 * subtree: no task is left to signal, and the walk of the tree (a dozen
 * system calls per cgroup) is not needed. Anything else (no such file, a
 * read error, populated 1) means walk. */
static bool v2_empty(const char *dir)
{
	uint64_t populated = 1;

	return read_key(dir, "cgroup.events", "populated", &populated) == 0 && populated == 0;
}

/* --- probe ---------------------------------------------------------------- */

static bool describe(const char *v2_root, enum sbx_limit_kind k, char *buf, size_t len)
{
	static const char *const v1_how[SBX_LIMIT_N] = {
		"memory.limit_in_bytes + memory.memsw.limit_in_bytes",
		"cpu.cfs_quota_us + cpu.shares", "pids.max", "cpuset.cpus + cpuset.mems"
	};
	char base[PATH_MAX];
	int e1;

	if (v2_listed(v2_root, k)) {
		snprintf(buf, len, "%s: cgroup2 %s%s", names[k], v2_files[k],
			 k == SBX_LIMIT_MEMORY ? " + memory.swap.max" :
			 k == SBX_LIMIT_CPU ? " + cpu.weight" : "");
		return true;
	}
	e1 = v1_base(names[k], base, sizeof(base));
	if (e1 < 0) {
		no_controller(k, -ENOENT, e1, buf, len);
		return false;
	}
	if (k == SBX_LIMIT_MEMORY && !exists(base, "memory.memsw.limit_in_bytes"))
		snprintf(buf, len, "memory: cgroup v1 memory.limit_in_bytes "
			 "(swap is not limited: swap accounting is off)");
	else
		snprintf(buf, len, "%s: cgroup v1 %s", names[k], v1_how[k]);
	return true;
}

int sbx_limits_probe(const char *v2_root, bool ret_can[SBX_LIMIT_N], char *why, size_t len)
{
	bool can[SBX_LIMIT_N], held;
	char line[512];

	if (!ret_can || !why || !len)
		return -EINVAL;
	why[0] = 0;
	held = sbx_mountinfo_hold() == 0;	/* one read of the mount table */
	for (int k = 0; k < SBX_LIMIT_N; k++) {
		can[k] = describe(v2_root, (enum sbx_limit_kind)k, line, sizeof(line));
		append(why, len, line);
	}
	if (held)
		sbx_mountinfo_release();
	memcpy(ret_can, can, sizeof(can));
	return 0;
}

/* --- create ---------------------------------------------------------------- */

/* Chooses cgroup2 or v1 for limit k; memory is always set up (when it can
 * be) for its peak and OOM accounting. */
static int plan_limit(struct sbx_limits *l, struct plan *pl, enum sbx_limit_kind k,
		      char *why, size_t len)
{
	char msg[512];
	int e2, e1;

	if (!l->want[k] && k != SBX_LIMIT_MEMORY)
		return 0;
	e2 = v2_enable(l->v2_path, k);
	if (e2 == 0) {
		l->on_v2[k] = true;
		return 0;
	}
	e1 = v1_base(names[k], pl->base[k], sizeof(pl->base[k]));
	if (e1 == 0) {
		pl->use[k] = true;
		return 0;
	}
	if (!l->want[k])
		return 0;
	no_controller(k, e2, e1, msg, sizeof(msg));
	append(why, len, msg);
	return -EOPNOTSUPP;
}

/* cpuacct gives CPU time when cgroup2 has no cpu controller; the freezer
 * stops every v1 member at once for the kill. Both are optional. */
static void plan_accounting(const struct sbx_limits *l, struct plan *pl)
{
	/* A cgroup2 directory gives CPU time (cpu.stat) and kills its whole
	 * subtree (cgroup.kill) on its own: then neither is needed, and each
	 * v1 hierarchy joined costs the start-up of every sandbox. */
	bool v2_kill = l->v2_path[0] && exists(l->v2_path, "cgroup.kill");
	bool any = false;

	if (!l->on_v2[SBX_LIMIT_CPU] && !l->v2_path[0])
		pl->use[SBX_V1_CPUACCT] = v1_base(names[SBX_V1_CPUACCT], pl->base[SBX_V1_CPUACCT],
						  sizeof(pl->base[0])) == 0;
	for (int h = 0; h < SBX_V1_FREEZER; h++)
		any |= pl->use[h];
	if (any && !v2_kill)
		pl->use[SBX_V1_FREEZER] = v1_base(names[SBX_V1_FREEZER], pl->base[SBX_V1_FREEZER],
						  sizeof(pl->base[0])) == 0;
}

/* Makes <base>/<instance>/<id> for hierarchy h (or shares the directory of
 * a hierarchy mounted together with it, as in "cpu,cpuacct"). */
static int make_one(struct sbx_limits *l, const struct plan *pl, int h, const char *instance,
		    const char *id)
{
	char dir[PATH_MAX], *path = l->v1_path[h];
	int r = 0;

	for (int j = 0; j < h; j++)
		if (l->v1_path[j][0] && !strcmp(pl->base[j], pl->base[h])) {
			memcpy(path, l->v1_path[j], PATH_MAX);
			return 0;
		}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", pl->base[h], instance) >= sizeof(dir) ||
	    path_join(path, PATH_MAX, dir, id) < 0) {
		path[0] = 0;
		return -ENAMETOOLONG;
	}
	/* retry: a sandbox of the same instance may remove the empty dir */
	for (int i = 0; i < 3; i++) {
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -errno;
		else
			r = mkdir(path, 0755) < 0 ? -errno : 0;
		if (r != -ENOENT)
			break;
	}
	if (r < 0) {
		path[0] = 0;
		rmdir(dir);	/* only succeeds when empty */
	}
	return r;
}

static int make_v1(struct sbx_limits *l, const struct plan *pl, const char *instance,
		   const char *id, char *why, size_t len)
{
	for (int h = 0; h < SBX_V1_N; h++) {
		int r;

		if (!pl->use[h])
			continue;
		r = make_one(l, pl, h, instance, id);
		/* only a limit's own hierarchy is required; accounting is not */
		if (r < 0 && h < SBX_LIMIT_N && l->want[h])
			return sbx_fail(why, len, r, "%s: create v1 cgroup %s/%s/%s: %s", names[h],
					pl->base[h], instance, id, strerror(-r));
	}
	return 0;
}

static int set_str(const char *dir, const char *file, const char *val, char *why, size_t len)
{
	int r = write_str(dir, file, val);

	/* why starts with the limit's name: "memory.max" -> "memory: ..." */
	if (r < 0)
		return sbx_fail(why, len, r, "%.*s: write %s to %s/%s: %s", (int)strcspn(file, "."),
				file, val, dir, file, strerror(-r));
	return 0;
}

static int set_u64(const char *dir, const char *file, uint64_t v, char *why, size_t len)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return set_str(dir, file, buf, why, len);
}

/* v1 memory cgroups inherit oom_kill_disable: make sure the killer runs. */
static int keep_oom_killer(const char *dir, char *why, size_t len)
{
	uint64_t off = 0;

	if (read_key(dir, "memory.oom_control", "oom_kill_disable", &off) < 0 || !off)
		return 0;
	return set_str(dir, "memory.oom_control", "0", why, len);
}

static int apply_memory(struct sbx_limits *l, uint64_t bytes, char *why, size_t len)
{
	const char *m = l->v1_path[SBX_V1_MEMORY];
	int r;

	if (l->on_v2[SBX_LIMIT_MEMORY]) {
		read_key(l->v2_path, "memory.events", "oom_kill", &l->oom_kill_before);
		r = bytes ? set_u64(l->v2_path, "memory.max", bytes, why, len) : 0;
		if (r < 0 || !bytes)
			return r;
		if (exists(l->v2_path, "memory.swap.max"))
			return set_str(l->v2_path, "memory.swap.max", "0", why, len);
		append(why, len, "memory: swap is not limited (no memory.swap.max)");
		return 0;
	}
	if (!m[0])
		return 0;
	r = keep_oom_killer(m, why, len);
	if (r < 0 || !bytes)
		return r;
	/* memsw (RAM + swap) may never be below the RAM limit: RAM first */
	r = set_u64(m, "memory.limit_in_bytes", bytes, why, len);
	if (r == 0 && exists(m, "memory.memsw.limit_in_bytes"))
		return set_u64(m, "memory.memsw.limit_in_bytes", bytes, why, len);
	if (r == 0)
		append(why, len, "memory: swap is not limited "
		       "(no memory.memsw.limit_in_bytes: swap accounting is off)");
	return r;
}

uint64_t sbx_cpu_weight_to_shares(uint32_t w)
{
	uint64_t shares = (uint64_t)w * 1024 / 100;

	return shares < 2 ? 2 : shares;
}

static int apply_cpu_weight(const struct sbx_limits *l, uint32_t w, char *why, size_t len)
{
	if (!w)
		return 0;
	if (l->on_v2[SBX_LIMIT_CPU])
		return set_u64(l->v2_path, "cpu.weight", w, why, len);
	return set_u64(l->v1_path[SBX_V1_CPU], "cpu.shares", sbx_cpu_weight_to_shares(w), why, len);
}

static int apply_cpu(const struct sbx_limits *l, uint32_t milli, char *why, size_t len)
{
	uint64_t quota = (uint64_t)milli * CPU_PERIOD_US / 1000;
	const char *c = l->v1_path[SBX_V1_CPU];
	char val[64];
	int r;

	if (!milli)
		return 0;
	if (quota < CPU_QUOTA_MIN_US)
		quota = CPU_QUOTA_MIN_US;
	if (l->on_v2[SBX_LIMIT_CPU]) {
		snprintf(val, sizeof(val), "%llu %llu", (unsigned long long)quota, CPU_PERIOD_US);
		return set_str(l->v2_path, "cpu.max", val, why, len);
	}
	r = set_u64(c, "cpu.cfs_period_us", CPU_PERIOD_US, why, len);
	return r < 0 ? r : set_u64(c, "cpu.cfs_quota_us", quota, why, len);
}

int sbx_cpus_check_online(const uint64_t cpus[SBX_CPUS_WORDS], char *why, size_t len)
{
	uint64_t online[SBX_CPUS_WORDS];
	char text[CPUS_TEXT];
	int r = read_str(CPUS_DIR, "online", text, sizeof(text));

	if (r == 0)
		r = sbx_cpus_parse(text, online);
	if (r < 0)
		return sbx_fail(why, len, r, "cpus: cannot read the CPUs online from %s/online: %s",
				CPUS_DIR, strerror(-r));
	for (unsigned c = 0; c < SBX_CPUS_MAX; c++)
		if (sbx_cpus_has(cpus, c) && !sbx_cpus_has(online, c))
			return sbx_fail(why, len, -EINVAL, "cpus: CPU %u is not online (the CPUs "
					"online are %.*s, from %s/online)", c, (int)strcspn(text, "\n"), text,
					CPUS_DIR);
	return 0;
}

/* A new v1 cpuset has no CPUs and no memory nodes, and takes no task until
 * it has both: the instance directory gets its parent's (the cpuset sbx runs
 * in), the sandbox the profile's CPUs and the same nodes. */
static int apply_cpuset_v1(const char *dir, const char *cpus, char *why, size_t len)
{
	char parent[PATH_MAX], grand[PATH_MAX], pcpus[CPUS_TEXT], mems[CPUS_TEXT];
	int r = parent_dir(parent, sizeof(parent), dir);

	if (r == 0)
		r = parent_dir(grand, sizeof(grand), parent);
	if (r == 0)
		r = read_str(grand, "cpuset.cpus", pcpus, sizeof(pcpus));
	if (r == 0)
		r = read_str(grand, "cpuset.mems", mems, sizeof(mems));
	if (r < 0)
		return sbx_fail(why, len, r, "cpuset: read the cpuset sbx runs in (%s): %s", dir,
				strerror(-r));
	pcpus[strcspn(pcpus, "\n")] = 0;
	mems[strcspn(mems, "\n")] = 0;
	r = set_str(parent, "cpuset.cpus", pcpus, why, len);
	if (r == 0)
		r = set_str(parent, "cpuset.mems", mems, why, len);
	if (r == 0)
		r = set_str(dir, "cpuset.mems", mems, why, len);
	if (r == 0)
		r = set_str(dir, "cpuset.cpus", cpus, why, len);
	if (r == -EINVAL)
		snprintf(why + strlen(why), len - strlen(why), " (the cpuset sbx runs in has CPUs %s)",
			 pcpus);
	return r;
}

static int apply_cpuset(const struct sbx_limits *l, const uint64_t set[SBX_CPUS_WORDS],
			char *why, size_t len)
{
	char cpus[CPUS_TEXT];
	int r;

	if (!sbx_cpus_any(set))
		return 0;
	r = sbx_cpus_check_online(set, why, len);
	if (r < 0)
		return r;
	sbx_cpus_format(set, cpus, sizeof(cpus));
	if (l->on_v2[SBX_LIMIT_CPUSET])
		return set_str(l->v2_path, "cpuset.cpus", cpus, why, len);
	return apply_cpuset_v1(l->v1_path[SBX_V1_CPUSET], cpus, why, len);
}

static int apply(struct sbx_limits *l, const struct sbx_profile *p, char *why, size_t len)
{
	const char *dir;
	int r;

	r = apply_memory(l, p->memory_bytes, why, len);
	if (r == 0)
		r = apply_cpu(l, p->cpu_milli, why, len);
	if (r == 0)
		r = apply_cpu_weight(l, p->cpu_weight, why, len);
	if (r == 0)
		r = apply_cpuset(l, p->cpus, why, len);
	if (r < 0 || !p->pids)
		return r;
	dir = l->on_v2[SBX_LIMIT_PIDS] ? l->v2_path : l->v1_path[SBX_V1_PIDS];
	return set_u64(dir, "pids.max", p->pids, why, len);
}

/* Removes the v1 directories made so far, and their instance directory
 * when nothing else uses it. The cgroups must be empty already. */
/* The instance's directory above the sandbox's stays for the next sandbox:
 * making and removing a v1 cgroup each run cost every start two more
 * (each an RCU-synchronised css change); sbx unload removes it
 * (sbx_limits_remove_instance). */
static void remove_v1(struct sbx_limits *l)
{
	for (int h = 0; h < SBX_V1_N; h++) {
		char *path = l->v1_path[h];

		if (!path[0] || sbx_cgroup_destroy(path) < 0)
			continue;	/* kept: a later destroy tries again */
		for (int j = h + 1; j < SBX_V1_N; j++)
			if (!strcmp(l->v1_path[j], path))
				l->v1_path[j][0] = 0;
		path[0] = 0;
	}
}

static bool valid_name(const char *s)
{
	return s && s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

int sbx_limits_create(struct sbx_limits *l, const char *instance, const char *id,
		      const char *v2_path, const struct sbx_profile *p, char *why, size_t len)
{
	struct plan *pl;
	bool held;
	int r = 0, e;

	if (!l || !p || !why || !len || !valid_name(instance) || !valid_name(id))
		return -EINVAL;
	why[0] = 0;
	sbx_zero(l, sizeof(*l));
	if (copy_str(l->v2_path, sizeof(l->v2_path), v2_path ? v2_path : "") < 0)
		return -ENAMETOOLONG;
	l->want[SBX_LIMIT_MEMORY] = p->memory_bytes > 0;
	l->want[SBX_LIMIT_CPU] = p->cpu_milli > 0 || p->cpu_weight > 0;
	l->want[SBX_LIMIT_PIDS] = p->pids > 0;
	l->want[SBX_LIMIT_CPUSET] = sbx_cpus_any(p->cpus);
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	/* one read of the mount table for every controller's lookups */
	held = sbx_mountinfo_hold() == 0;
	for (int k = 0; k < SBX_LIMIT_N; k++) {
		e = plan_limit(l, pl, (enum sbx_limit_kind)k, why, len);
		if (e < 0 && r == 0)
			r = e;
	}
	if (r == 0)
		plan_accounting(l, pl);
	if (held)
		sbx_mountinfo_release();
	if (r == 0)
		r = make_v1(l, pl, instance, id, why, len);
	if (r == 0)
		r = apply(l, p, why, len);
	free(pl);
	if (r < 0)
		remove_v1(l);
	return r;
}

int sbx_limits_attach(struct sbx_limits *l, pid_t pid)
{
	if (!l || pid <= 0)
		return -EINVAL;
	for (int h = 0; h < SBX_V1_N; h++) {
		int r;

		if (!l->v1_path[h][0])
			continue;
		r = write_u64(l->v1_path[h], "cgroup.procs", (uint64_t)pid);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Joins "<dir>/tasks" without snprintf or malloc (used after fork). */
static int tasks_path(char *buf, size_t len, const char *dir)
{
	static const char name[] = "/tasks";
	size_t n = strlen(dir);

	if (n + sizeof(name) > len)
		return -ENAMETOOLONG;
	memcpy(buf, dir, n);
	memcpy(buf + n, name, sizeof(name));
	return 0;
}

int sbx_limits_attach_self(const struct sbx_limits *l)
{
	char path[PATH_MAX + 8];

	if (!l)
		return -EINVAL;
	for (int h = 0; h < SBX_V1_N; h++) {
		int fd, r = 0;

		if (!l->v1_path[h][0])
			continue;
		if (tasks_path(path, sizeof(path), l->v1_path[h]) < 0)
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* "0" is the calling thread: the whole process while single-threaded */
		if (write(fd, "0", 1) != 1)
			r = -errno;
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- kill and destroy ------------------------------------------------------ */

static int freezer_set(const char *dir, const char *state)
{
	char cur[32];
	int r = write_str(dir, "freezer.state", state);

	for (int i = 0; r == 0 && i < FREEZE_NAPS; i++) {
		r = read_str(dir, "freezer.state", cur, sizeof(cur));
		if (r == 0 && !strncmp(cur, state, strlen(state)))
			return 0;
		nap();
	}
	return r < 0 ? r : -ETIMEDOUT;
}

/* Frozen tasks cannot fork; SIGKILL takes effect once they are thawed. */
static int freeze_and_kill(const char *dir)
{
	int r = freezer_set(dir, "FROZEN"), k, t;

	k = sbx_cgroup_signal(dir, SIGKILL);
	t = freezer_set(dir, "THAWED");
	if (r == 0)
		r = k < 0 ? k : t;
	return r;
}

int sbx_limits_kill(struct sbx_limits *l)
{
	int r = 0, k;

	if (!l)
		return -EINVAL;
	if (l->v2_path[0])
		sbx_cgroup_kill(l->v2_path);
	if (l->v1_path[SBX_V1_FREEZER][0])
		r = freeze_and_kill(l->v1_path[SBX_V1_FREEZER]);
	for (int h = 0; h < SBX_V1_N; h++) {
		if (!l->v1_path[h][0])
			continue;
		k = kill_until_empty(l->v1_path[h]);
		if (k < 0 && r == 0)
			r = k;
	}
	if (l->v2_path[0] && !v2_empty(l->v2_path)) {
		k = kill_until_empty(l->v2_path);
		if (k < 0 && r == 0)
			r = k;
	}
	l->emptied = r == 0;
	return r;
}

/* After a kill that left every cgroup empty (sbx run's finish), nothing is
 * left to fork: the removal alone follows, and it kills again whatever a
 * cgroup it cannot remove still holds (sbx_cgroup_destroy). That saves a
 * second walk of each hierarchy per run. */
void sbx_limits_destroy(struct sbx_limits *l)
{
	if (!l)
		return;
	if (!l->emptied)
		sbx_limits_kill(l);
	remove_v1(l);
}

/* --- accounting ------------------------------------------------------------ */

static void read_oom(const struct sbx_limits *l, struct sbx_usage *u)
{
	const char *m = l->v1_path[SBX_V1_MEMORY];
	uint64_t n = 0, fails = 0, peak = 0, limit = 0;

	if (l->on_v2[SBX_LIMIT_MEMORY]) {
		if (read_key(l->v2_path, "memory.events", "oom_kill", &n) == 0) {
			u->oom_killed = n > l->oom_kill_before;
			u->oom_kills = u->oom_killed ? n - l->oom_kill_before : 0;
		}
		return;
	}
	if (!m[0])
		return;
	if (read_key(m, "memory.oom_control", "oom_kill", &n) == 0) {
		u->oom_killed = n > 0;
		u->oom_kills = n;
		return;
	}
	/* before 4.13 there is no counter: the limit was hit at full usage */
	if (read_u64(m, "memory.failcnt", &fails) == 0 &&
	    read_u64(m, "memory.max_usage_in_bytes", &peak) == 0 &&
	    read_u64(m, "memory.limit_in_bytes", &limit) == 0)
		u->oom_killed = fails > 0 && peak >= limit;
	u->oom_kills = u->oom_killed;	/* at least one; how many is not known */
}

static void read_peak(const struct sbx_limits *l, struct sbx_usage *u)
{
	uint64_t v;

	if (l->v2_path[0] && read_u64(l->v2_path, "memory.peak", &v) == 0)
		u->peak_memory_bytes = v;
	else if (l->v1_path[SBX_V1_MEMORY][0] &&
		 read_u64(l->v1_path[SBX_V1_MEMORY], "memory.max_usage_in_bytes", &v) == 0)
		u->peak_memory_bytes = v;
}

static void read_cpu(const struct sbx_limits *l, struct sbx_usage *u)
{
	const char *a = l->v1_path[SBX_V1_CPUACCT];
	uint64_t user, sys;
	long hz;

	if (l->v2_path[0] && read_key(l->v2_path, "cpu.stat", "user_usec", &user) == 0 &&
	    read_key(l->v2_path, "cpu.stat", "system_usec", &sys) == 0) {
		u->cpu_user_us = user;
		u->cpu_system_us = sys;
		u->has_cpu = true;
		return;
	}
	hz = sysconf(_SC_CLK_TCK);
	if (!a[0] || hz <= 0 || read_key(a, "cpuacct.stat", "user", &user) < 0 ||
	    read_key(a, "cpuacct.stat", "system", &sys) < 0)
		return;
	/* USER_HZ ticks */
	u->cpu_user_us = user * 1000000 / (uint64_t)hz;
	u->cpu_system_us = sys * 1000000 / (uint64_t)hz;
	u->has_cpu = true;
}

/* Memory in use now: memory.current (cgroup2), else memory.usage_in_bytes (v1). */
static void read_memory_now(const struct sbx_limits *l, struct sbx_usage *u)
{
	const char *m = l->v1_path[SBX_V1_MEMORY];

	u->has_memory = (l->v2_path[0] && read_u64(l->v2_path, "memory.current", &u->memory_bytes) == 0) ||
			(m[0] && read_u64(m, "memory.usage_in_bytes", &u->memory_bytes) == 0);
}

static int count_lines(const char *dir, const char *name, uint64_t *ret)
{
	char path[PATH_MAX], line[64];
	uint64_t n = 0;
	FILE *f;

	if (path_join(path, sizeof(path), dir, name) < 0 || !(f = fopen(path, "re")))
		return -errno;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	*ret = n;
	return 0;
}

/* Tasks (threads, as pids.max counts them): pids.current of the pids
 * controller, else the threads listed in the sandbox's cgroup2 directory
 * (sub-cgroups that a workload made itself are then not counted). */
static void read_pids_now(const struct sbx_limits *l, struct sbx_usage *u)
{
	const char *p = l->v1_path[SBX_V1_PIDS];

	u->has_pids = (l->v2_path[0] && read_u64(l->v2_path, "pids.current", &u->pids) == 0) ||
		      (p[0] && read_u64(p, "pids.current", &u->pids) == 0) ||
		      (l->v2_path[0] && count_lines(l->v2_path, "cgroup.threads", &u->pids) == 0);
}

int sbx_limits_read(const struct sbx_limits *l, struct sbx_usage *ret)
{
	struct sbx_usage u = {};

	if (!l || !ret)
		return -EINVAL;
	read_oom(l, &u);
	read_peak(l, &u);
	read_cpu(l, &u);
	read_memory_now(l, &u);
	read_pids_now(l, &u);
	*ret = u;
	return 0;
}

/* --- a sandbox of another sbx process ---------------------------------------- */

/* The v1 directories sbx_limits_create makes for instance/id, where they exist. */
static void find_v1(struct sbx_limits *l, const char *instance, const char *id)
{
	char base[PATH_MAX], dir[PATH_MAX];

	for (int h = 0; h < SBX_V1_N; h++) {
		if (v1_base(names[h], base, sizeof(base)) < 0)
			continue;
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, instance) >= sizeof(dir) ||
		    path_join(l->v1_path[h], PATH_MAX, dir, id) < 0 || !exists(l->v1_path[h], "."))
			l->v1_path[h][0] = 0;
		for (int j = 0; j < h && l->v1_path[h][0]; j++)
			if (!strcmp(l->v1_path[j], l->v1_path[h]))
				l->v1_path[h][0] = 0;	/* combined hierarchies (cpu,cpuacct) */
	}
}

int sbx_limits_open(struct sbx_limits *l, const char *instance, const char *id, const char *v2_path)
{
	if (!l || !valid_name(instance) || !valid_name(id))
		return -EINVAL;
	sbx_zero(l, sizeof(*l));
	if (copy_str(l->v2_path, sizeof(l->v2_path), v2_path ? v2_path : "") < 0)
		return -ENAMETOOLONG;
	find_v1(l, instance, id);
	return 0;
}

/* --- changing the limits of a running sandbox ------------------------------ */

#define V1_UNLIMITED (1ULL << 62)	/* v1 reads PAGE_COUNTER_MAX pages: about 2^63 */

/* Where limit k of a running sandbox is written: its cgroup2 directory when
 * the controller is enabled there, else its v1 directory; NULL if neither. */
static const char *limit_dir(const struct sbx_limits *l, enum sbx_limit_kind k, bool *ret_v2)
{
	*ret_v2 = l->v2_path[0] && exists(l->v2_path, v2_files[k]);
	if (*ret_v2)
		return l->v2_path;
	return l->v1_path[k][0] ? l->v1_path[k] : NULL;
}

/* "max" or a number, as cgroup2 limit files (and v1 pids.max) hold them. */
static int read_max(const char *dir, const char *name, uint64_t *ret)
{
	char buf[64];
	int r = read_str(dir, name, buf, sizeof(buf));

	if (r < 0)
		return r;
	if (!strncmp(buf, "max", 3)) {
		*ret = 0;
		return 0;
	}
	return read_u64(dir, name, ret);
}

static int read_cpu_milli(const char *dir, bool v2, uint32_t *ret)
{
	uint64_t q = 0, per = CPU_PERIOD_US;
	char buf[64];
	long long v1q;
	int r;

	if (v2) {
		r = read_str(dir, "cpu.max", buf, sizeof(buf));
		if (r < 0)
			return r;
		if (!strncmp(buf, "max", 3))
			q = 0;
		else if (sscanf(buf, "%" SCNu64 " %" SCNu64, &q, &per) != 2 || !per)
			return -EINVAL;
	} else {
		r = read_str(dir, "cpu.cfs_quota_us", buf, sizeof(buf));
		if (r < 0)
			return r;
		v1q = strtoll(buf, NULL, 10);
		q = v1q < 0 ? 0 : (uint64_t)v1q;
		if (q && (r = read_u64(dir, "cpu.cfs_period_us", &per)) < 0)
			return r;
	}
	*ret = per ? (uint32_t)(q * 1000 / per) : 0;
	return 0;
}

int sbx_limits_values(const struct sbx_limits *l, struct sbx_limit_values *ret, char *why,
		      size_t len)
{
	struct sbx_limit_values v = {};
	const char *dir;
	uint64_t x;
	bool v2;
	int r = 0;

	if ((dir = limit_dir(l, SBX_LIMIT_MEMORY, &v2))) {
		r = v2 ? read_max(dir, "memory.max", &x) : read_u64(dir, "memory.limit_in_bytes", &x);
		v.memory_bytes = !v2 && x >= V1_UNLIMITED ? 0 : x;
	}
	if (r == 0 && (dir = limit_dir(l, SBX_LIMIT_CPU, &v2)))
		r = read_cpu_milli(dir, v2, &v.cpu_milli);
	if (r == 0 && (dir = limit_dir(l, SBX_LIMIT_PIDS, &v2)) && (r = read_max(dir, "pids.max", &x)) == 0)
		v.pids = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
	if (r < 0)
		return sbx_fail(why, len, r, "read the limits of %s: %s", l->v2_path, strerror(-r));
	*ret = v;
	return 0;
}

static int change_memory_v1(const char *dir, uint64_t bytes, char *why, size_t len)
{
	bool memsw = exists(dir, "memory.memsw.limit_in_bytes");
	const char *val = "-1";
	uint64_t cur = 0;
	char buf[32];
	int r;

	if (bytes) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)bytes);
		val = buf;
	}
	if (!memsw)
		return set_str(dir, "memory.limit_in_bytes", val, why, len);
	/* memsw (RAM + swap) may never be below the RAM limit: raise it first,
	 * lower it last */
	r = read_u64(dir, "memory.limit_in_bytes", &cur);
	if (r < 0)
		return sbx_fail(why, len, r, "memory: read %s/memory.limit_in_bytes: %s", dir,
				strerror(-r));
	if (!bytes || bytes > cur) {
		r = set_str(dir, "memory.memsw.limit_in_bytes", val, why, len);
		return r < 0 ? r : set_str(dir, "memory.limit_in_bytes", val, why, len);
	}
	r = set_str(dir, "memory.limit_in_bytes", val, why, len);
	return r < 0 ? r : set_str(dir, "memory.memsw.limit_in_bytes", val, why, len);
}

static int change_cpu(const char *dir, bool v2, uint32_t milli, char *why, size_t len)
{
	uint64_t quota = (uint64_t)milli * CPU_PERIOD_US / 1000;
	char val[64];
	int r;

	if (milli && quota < CPU_QUOTA_MIN_US)
		quota = CPU_QUOTA_MIN_US;
	if (v2) {
		if (!milli)
			snprintf(val, sizeof(val), "max %llu", CPU_PERIOD_US);
		else
			snprintf(val, sizeof(val), "%llu %llu", (unsigned long long)quota, CPU_PERIOD_US);
		return set_str(dir, "cpu.max", val, why, len);
	}
	if (!milli)
		return set_str(dir, "cpu.cfs_quota_us", "-1", why, len);
	r = set_u64(dir, "cpu.cfs_period_us", CPU_PERIOD_US, why, len);
	return r < 0 ? r : set_u64(dir, "cpu.cfs_quota_us", quota, why, len);
}

int sbx_limits_change(const struct sbx_limits *l, enum sbx_limit_kind k,
		      const struct sbx_limit_values *v, char *why, size_t len)
{
	const char *dir;
	bool v2;

	if (k == SBX_LIMIT_CPUSET || k >= SBX_LIMIT_N)
		return sbx_fail(why, len, -EINVAL, "%s: not changeable in a running sandbox",
				names[k < SBX_LIMIT_N ? k : 0]);
	dir = limit_dir(l, k, &v2);
	if (!dir)
		return sbx_fail(why, len, -EOPNOTSUPP,
				"%s: the sandbox has no %s cgroup (it started without this limit, "
				"and a running sandbox cannot be moved into one atomically)",
				names[k], names[k]);
	switch (k) {
	case SBX_LIMIT_MEMORY:
		if (!v2)
			return change_memory_v1(dir, v->memory_bytes, why, len);
		return v->memory_bytes ? set_u64(dir, "memory.max", v->memory_bytes, why, len) :
					 set_str(dir, "memory.max", "max", why, len);
	case SBX_LIMIT_CPU:
		return change_cpu(dir, v2, v->cpu_milli, why, len);
	default:
		return v->pids ? set_u64(dir, "pids.max", v->pids, why, len) :
				 set_str(dir, "pids.max", "max", why, len);
	}
}

/* --- reclaiming what a dead manager left ------------------------------------ */

void sbx_limits_reclaim(const char *instance, const char *id)
{
	struct sbx_limits l;

	/* no cgroup2 path: its directory is the caller's to remove */
	if (sbx_limits_open(&l, instance, id, NULL) == 0)
		sbx_limits_destroy(&l);
}

/* Removes the empty v1 sandbox directories of one hierarchy's instance
 * directory, then the instance directory: rmdir refuses a cgroup that still
 * has tasks, so a live sandbox keeps its directories. */
static void remove_instance_dir(const char *dir)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !valid_name(de->d_name))
			continue;
		if (path_join(sub, sizeof(sub), dir, de->d_name) == 0)
			rmdir(sub);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

void sbx_limits_remove_instance(const char *instance)
{
	char base[PATH_MAX], dir[PATH_MAX];

	if (!valid_name(instance))
		return;
	for (int h = 0; h < SBX_V1_N; h++)
		if (v1_base(names[h], base, sizeof(base)) == 0 &&
		    path_join(dir, sizeof(dir), base, instance) == 0)
			remove_instance_dir(dir);
}
