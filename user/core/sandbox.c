/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/counters.h"
#include "core/dnsrun.h"
#include "core/sandbox.h"
#include "core/trace.h"
#include "core/uidpool.h"
#include "kernel/limits.h"
#include "util/util.h"

static bool owner_alive(const struct sbx_slot *s)
{
	return s->owner_pid && sbx_proc_start_time((pid_t)s->owner_pid) == s->owner_start;
}

/* Deletes every LPM entry of one policy id (for slots of a dead manager).
 * The keys are collected in one walk and deleted after it: deleting while
 * walking made the walk start over after every delete, a quadratic sweep
 * with thousands of sandboxes' rules in the map (reclaim after a mass kill).
 * Without memory for the list, each match is deleted and the walk restarts. */
static void lpm_purge(int fd, uint32_t policy_id, size_t key_size)
{
	uint8_t buf[2][sizeof(struct sbx_path_key)], *found = NULL;
	uint32_t be = htobe32(policy_id);
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int cur = 0;

	while (bpf_map_get_next_key(fd, prev, buf[cur]) == 0) {
		if (!memcmp(buf[cur] + 4, &be, 4)) {
			if (n == cap) {
				uint8_t *nf = realloc(found, (cap = cap ? 2 * cap : 64) * key_size);

				if (!nf) {
					bpf_map_delete_elem(fd, buf[cur]);
					prev = NULL;
					cap = n;
					continue;
				}
				found = nf;
			}
			memcpy(found + n++ * key_size, buf[cur], key_size);
		}
		prev = buf[cur];
		cur ^= 1;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, found + i * key_size);
	free(found);
}

/* Deletes every sbx_loaders entry of one policy id (slots of a dead manager). */
static void loaders_purge(int fd, uint32_t policy_id)
{
	struct sbx_loader_key key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (key.policy_id == policy_id) {
			bpf_map_delete_elem(fd, &key);
			prev = NULL;	/* restart: iteration order changed */
			continue;
		}
		prev = &key;
	}
}

void sbx_sandbox_purge_policy(const struct sbx_bpf *b, uint32_t policy_id)
{
	struct sbx_syscall_set nosys = {};
	struct sbx_policy_cfg nopol = {};
	struct sbx_fs_cfg nofs = {};

	/* the configs first: a hook that still reads this id finds mode none */
	bpf_map_update_elem(b->fscfg_fd, &policy_id, &nofs, 0);
	bpf_map_update_elem(b->policies_fd, &policy_id, &nopol, 0);
	bpf_map_update_elem(b->syscalls_fd, &policy_id, &nosys, 0);
	lpm_purge(b->net4_fd, policy_id, sizeof(struct sbx_net4_key));
	lpm_purge(b->net6_fd, policy_id, sizeof(struct sbx_net6_key));
	lpm_purge(b->paths_fd, policy_id, sizeof(struct sbx_path_key));
	lpm_purge(b->execs_fd, policy_id, sizeof(struct sbx_path_key));
	loaders_purge(b->loaders_fd, policy_id);
}

static bool reclaim_slot(struct sbx_bpf *b, uint32_t slot, const struct sbx_slot *s)
{
	char reg[PATH_MAX + 32], line[PATH_MAX + 16], cg[PATH_MAX] = "", id[64] = "";
	struct sbx_slot zero = {};
	unsigned long uid = 0;
	pid_t owner = 0;
	FILE *f;

	sbx_instance_slot_file(&b->paths, slot, reg, sizeof(reg));
	f = sbx_fopen_regular(reg);
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "cgroup=", 7))
			snprintf(cg, sizeof(cg), "%s", line + 7);
		else if (!strncmp(line, "id=", 3))
			snprintf(id, sizeof(id), "%s", line + 3);
		else if (!strncmp(line, "uid=", 4))
			uid = strtoul(line + 4, NULL, 10);
		else if (!strncmp(line, "pid=", 4))
			owner = atoi(line + 4);
	}
	if (f)
		fclose(f);
	/* kill first, lift the policy after: nothing runs unconfined. Only ever
	 * remove a cgroup below our own root; keep the slot if that fails. */
	if (cg[0] && !strncmp(cg, b->root.path, strlen(b->root.path)) &&
	    cg[strlen(b->root.path)] == '/' && sbx_cgroup_destroy(cg) < 0)
		return false;
	if (s->cgroup_id)
		bpf_map_delete_elem(b->cgroups_fd, &s->cgroup_id);
	/* its processes are gone with the cgroup: the uid is free */
	if (uid && owner > 0)
		sbx_uid_release(SBX_UID_LEASE_DIR, (uid_t)uid, owner);
	if (id[0])
		sbx_limits_reclaim(b->paths.name, id);
	for (uint32_t pid = slot * 2; pid <= slot * 2 + 1; pid++)
		sbx_sandbox_purge_policy(b, pid);
	bpf_map_delete_elem(b->rings_fd, &slot);
	bpf_map_update_elem(b->slots_fd, &slot, &zero, 0);
	sbx_counters_remove(&b->paths, slot);
	unlink(reg);
	return true;
}

static bool owner_dead(const struct sbx_slot *s)
{
	/* kill(0) is cheap; the start time also catches a reused pid */
	if (kill((pid_t)s->owner_pid, 0) < 0 && errno == ESRCH)
		return true;
	return !owner_alive(s);
}

/* Reads slots 0..n-1 in one batch (one syscall instead of thousands). */
static int read_slots(struct sbx_bpf *b, struct sbx_slot *all, uint32_t n)
{
	/* on the heap, not in .bss: the monitor gives the pages back after
	 * the start (sbx_trim_memory); 16 KiB is too much for the stack */
	uint32_t *keys = malloc(n * sizeof(*keys));
	__u32 out_batch = 0, count = n;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int r;

	if (!keys)
		return -ENOMEM;
	r = bpf_map_lookup_batch(b->slots_fd, NULL, &out_batch, keys, all, &count, &opts);
	r = r < 0 ? -errno : 0;
	free(keys);
	if (r < 0 && r != -ENOENT)
		return r;
	if (count != n) {
		/* older kernels: fall back to single lookups */
		for (uint32_t i = 0; i < n; i++)
			if (bpf_map_lookup_elem(b->slots_fd, &i, &all[i]) < 0)
				return -errno;
	}
	return 0;
}

/*
 * The slot bound: no slot at or above it is active. Slots are taken lowest
 * first, so with a few sandboxes running a start reads a few slots instead
 * of all 4,096 (a batch lookup of the whole map took ~1.3 ms, at the start
 * and again at the end of every traced run). It is the content of the
 * instance's lock file, read and written only under that lock, and raised
 * before a slot above it is activated: a crash leaves it too high, never
 * too low. Missing or unreadable, it is SBX_MAX_SANDBOXES (a full read).
 *
 * It says what to read, never what is free: a slot is taken only after the
 * read under the lock found it inactive, so a wrong bound cannot hand one
 * slot to two sandboxes. The slot at the bound is read as well; found
 * active, the bound is stale (written by no sbx that keeps it) and the whole
 * map is read (read_active_slots), for the allocation and for the last-user
 * check of the tracepoints alike.
 */
static uint32_t slot_bound(int lock)
{
	char buf[16];
	ssize_t n = pread(lock, buf, sizeof(buf) - 1, 0);
	unsigned long v;
	char *end;

	if (n <= 0)
		return SBX_MAX_SANDBOXES;
	buf[n] = 0;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || *end != '\n' || v > SBX_MAX_SANDBOXES)
		return SBX_MAX_SANDBOXES;
	return (uint32_t)v;
}

/* Fixed width: a rewrite never leaves a longer old value's tail behind. */
static int set_slot_bound(int lock, uint32_t bound)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%010u\n", bound);

	if (pwrite(lock, buf, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

/* Reads every slot that may be active into all: those below the bound and
 * the one at it, which found active means a stale bound: then the whole map
 * is read. Returns how many were read, or -errno. */
static long read_active_slots(struct sbx_bpf *b, struct sbx_slot *all, int lock)
{
	uint32_t bound = slot_bound(lock);
	uint32_t n = bound < SBX_MAX_SANDBOXES ? bound + 1 : SBX_MAX_SANDBOXES;
	int r = read_slots(b, all, n);

	if (r == 0 && n < SBX_MAX_SANDBOXES && (all[n - 1].flags & SBX_SLOTF_ACTIVE)) {
		n = SBX_MAX_SANDBOXES;
		r = read_slots(b, all, n);
	}
	return r < 0 ? r : (long)n;
}

/* One past the last active slot of all[0..n-1] (every slot that may be
 * active): the bound they imply. */
static uint32_t active_end(const struct sbx_slot *all, uint32_t n)
{
	for (uint32_t i = n; i > 0; i--)
		if (all[i - 1].flags & SBX_SLOTF_ACTIVE)
			return i;
	return 0;
}

/* A manager gone for sure: no process has its pid. (A pid reused by
 * another process takes owner_dead's start-time check.) */
static bool owner_gone(const struct sbx_slot *s)
{
	return kill((pid_t)s->owner_pid, 0) < 0 && errno == ESRCH;
}

/* Reclaims the active slots among all[0..n-1] whose manager dead() says is
 * dead; returns the first free slot, or -1. */
static long sweep_slots(struct sbx_bpf *b, struct sbx_slot *all, uint32_t n,
			bool (*dead)(const struct sbx_slot *))
{
	long found = -1;

	for (uint32_t i = 0; i < n; i++) {
		if ((all[i].flags & SBX_SLOTF_ACTIVE) && dead(&all[i]) && reclaim_slot(b, i, &all[i]))
			all[i].flags = 0;
		if (!(all[i].flags & SBX_SLOTF_ACTIVE) && found < 0)
			found = i;
	}
	return found;
}

/* The first free slot among all[0..n-1] after reclaiming dead managers' (see
 * alloc_slot), or -1. */
static long find_slot(struct sbx_bpf *b, struct sbx_slot *all, uint32_t n)
{
	long found = sweep_slots(b, all, n, owner_gone);

	return found < 0 ? sweep_slots(b, all, n, owner_dead) : found;
}

/*
 * Reserves a free slot under the lock, reclaiming every slot whose manager
 * died (its sandbox stays confined until then: fail closed). The sweep of
 * every start asks kill(0) alone: reading each live manager's start time
 * (/proc/PID/stat) for every start was the instance lock's longest hold with
 * a thousand sandboxes. A slot whose manager's pid was reused is reclaimed
 * by the full check, made when no slot is free and by sbx unload
 * (sbx_sandbox_reap). Only the slots below the bound are read (slot_bound).
 */
static int alloc_slot(struct sbx_bpf *b, uint32_t *ret)
{
	struct sbx_slot mine = { .flags = SBX_SLOTF_ACTIVE }, *all;
	long found = -1, nread;
	uint32_t n;
	int lock, r;

	all = calloc(SBX_MAX_SANDBOXES, sizeof(*all));
	if (!all)
		return -ENOMEM;
	lock = sbx_instance_lock(&b->paths);
	if (lock < 0) {
		free(all);
		return lock;
	}
	nread = read_active_slots(b, all, lock);
	r = nread < 0 ? (int)nread : 0;
	n = nread < 0 ? 0 : (uint32_t)nread;
	if (!r)
		found = find_slot(b, all, n);
	if (!r)
		sbx_trace_sweep(b, all);	/* reclaimed slots may have been the last users */
	if (!r && found < 0)
		r = -ENOSPC;
	if (!r)
		r = set_slot_bound(lock, active_end(all, n) > (uint32_t)found ?
					  active_end(all, n) : (uint32_t)found + 1);
	if (!r) {
		uint32_t slot = (uint32_t)found;

		mine.owner_pid = (uint64_t)getpid();
		mine.owner_start = sbx_proc_start_time(getpid());
		r = bpf_map_update_elem(b->slots_fd, &slot, &mine, 0) ? -errno : 0;
		if (!r)
			*ret = slot;
	}
	sbx_instance_unlock(lock);
	free(all);
	return r;
}

static int fill_policy(struct sbx_sandbox *sb)
{
	struct sbx_bpf *b = sb->bpf;
	struct sbx_compiled *c = &sb->comp;

	if (bpf_map_update_elem(b->policies_fd, &sb->policy_id, &c->cfg, 0))
		return -errno;
	for (size_t i = 0; i < c->n_v4; i++)
		if (bpf_map_update_elem(b->net4_fd, &c->v4[i].key, &c->v4[i].val, 0))
			return -errno;
	for (size_t i = 0; i < c->n_v6; i++)
		if (bpf_map_update_elem(b->net6_fd, &c->v6[i].key, &c->v6[i].val, 0))
			return -errno;
	return 0;
}

int sbx_sandbox_set_syscalls(struct sbx_sandbox *sb, const struct sbx_syscall_set *set)
{
	if (bpf_map_update_elem(sb->bpf->syscalls_fd, &sb->policy_id, set, 0))
		return -errno;
	return 0;
}

int sbx_sandbox_add_policy_flags(struct sbx_sandbox *sb, uint32_t flags)
{
	sb->comp.cfg.flags |= flags;
	if (bpf_map_update_elem(sb->bpf->policies_fd, &sb->policy_id, &sb->comp.cfg, 0))
		return -errno;
	return 0;
}

static int fs_update(int fd, const struct sbx_fsplan_rule *r, uint32_t policy_id, bool del)
{
	struct sbx_path_rule v = { .access = r->access, .rule = r->rule, .flags = r->flags };
	struct sbx_path_key k;

	sbx_fsplan_key(r, policy_id, &k);
	if (del)
		return bpf_map_delete_elem(fd, &k) ? -errno : 0;
	return bpf_map_update_elem(fd, &k, &v, 0) ? -errno : 0;
}

/* The exec guard's condition (bpf/lib/fsaudit.h, sbx_exec_guard): exec is
 * restricted, and BPF LSM does not enforce the policy. */
static bool exec_guarded(const struct sbx_fs_cfg *c)
{
	if (c->flags & (SBX_FSF_ENFORCE | SBX_FSF_FULL))
		return false;
	return (c->flags & SBX_FSF_EXEC_LIST) || !(c->mode_access & SBX_FACC_X);
}

static int loader_update(int fd, uint32_t policy_id, const struct sbx_loader_file *l, bool del)
{
	struct sbx_loader_key k = { .policy_id = policy_id, .dev = l->dev, .ino = l->ino };
	struct sbx_loader v = { .flags = l->flags };

	if (del)
		return bpf_map_delete_elem(fd, &k) ? -errno : 0;
	memcpy(v.path, l->path, sizeof(v.path));
	return bpf_map_update_elem(fd, &k, &v, 0) ? -errno : 0;
}

/* The interpreters of the host and of the programs the policy lets run (its
 * executable file rules; a directory's programs are not read), into
 * sbx_loaders under the sandbox's policy id. */
static int set_loaders(struct sbx_sandbox *sb, char *why, size_t len)
{
	_cleanup_free_ const char **progs = calloc(sb->fs->n + 1, sizeof(*progs));
	size_t n = 0;
	int r;

	sb->loaders = calloc(1, sizeof(*sb->loaders));
	if (!progs || !sb->loaders)
		return sbx_fail(why, len, -ENOMEM, "exec guard: out of memory");
	for (size_t i = 0; i < sb->fs->n; i++) {
		const struct sbx_fsplan_rule *ru = &sb->fs->rules[i];

		if (!ru->dir && ((ru->flags & SBX_PRF_EXEC_LIST) || (ru->access & SBX_FACC_X)))
			progs[n++] = ru->path;
	}
	r = sbx_loaders_find(progs, n, sb->loaders, why, len);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sb->loaders->n; i++) {
		r = loader_update(sb->bpf->loaders_fd, sb->policy_id, &sb->loaders->v[i], false);
		if (r < 0)
			return sbx_fail(why, len, r, "write sbx_loaders: %s", strerror(-r));
	}
	return 0;
}

static int fs_map(const struct sbx_sandbox *sb, const struct sbx_fsplan_rule *r)
{
	return r->flags & SBX_PRF_EXEC_LIST ? sb->bpf->execs_fd : sb->bpf->paths_fd;
}

int sbx_sandbox_set_fs(struct sbx_sandbox *sb, const struct sbx_fsplan *pl, char *why,
		       size_t len)
{
	int r = 0;

	sb->fs = pl;
	for (size_t i = 0; i < pl->n && !r; i++)
		r = fs_update(fs_map(sb, &pl->rules[i]), &pl->rules[i], sb->policy_id, false);
	if (r < 0)
		return sbx_fail(why, len, r, "write the fs rules: %s", strerror(-r));
	/* before sbx_fscfg turns the guard on for this policy */
	if (exec_guarded(&pl->cfg) && (r = set_loaders(sb, why, len)) < 0)
		return r;
	if (bpf_map_update_elem(sb->bpf->fscfg_fd, &sb->policy_id, &pl->cfg, 0))
		return sbx_fail(why, len, -errno, "write sbx_fscfg: %s", strerror(errno));
	return 0;
}

static void clear_fs(struct sbx_sandbox *sb)
{
	struct sbx_fs_cfg none = { 0 };
	const struct sbx_fsplan *pl = sb->fs;

	if (!pl)
		return;
	bpf_map_update_elem(sb->bpf->fscfg_fd, &sb->policy_id, &none, 0);
	for (size_t i = 0; i < pl->n; i++)
		fs_update(fs_map(sb, &pl->rules[i]), &pl->rules[i], sb->policy_id, true);
	for (size_t i = 0; sb->loaders && i < sb->loaders->n; i++)
		loader_update(sb->bpf->loaders_fd, sb->policy_id, &sb->loaders->v[i], true);
	free(sb->loaders);
	sb->loaders = NULL;
	sb->fs = NULL;
}

static void clear_policy(struct sbx_sandbox *sb)
{
	struct sbx_syscall_set none = {};

	clear_fs(sb);
	struct sbx_policy_cfg zero = {};
	struct sbx_bpf *b = sb->bpf;

	bpf_map_update_elem(b->syscalls_fd, &sb->policy_id, &none, 0);
	for (size_t i = 0; i < sb->comp.n_v4; i++)
		bpf_map_delete_elem(b->net4_fd, &sb->comp.v4[i].key);
	for (size_t i = 0; i < sb->comp.n_v6; i++)
		bpf_map_delete_elem(b->net6_fd, &sb->comp.v6[i].key);
	bpf_map_update_elem(b->policies_fd, &sb->policy_id, &zero, 0);
}

/* The sandbox was one of the tracepoints' users (core/trace.h): its slot is
 * cleared, so the links go if it was the last. Under the lock: lock (when
 * taking it failed, lock is negative and the whole map is read). */
static void trace_release(struct sbx_bpf *b, int lock)
{
	struct sbx_slot *all = calloc(SBX_MAX_SANDBOXES, sizeof(*all));

	if (all && read_active_slots(b, all, lock) >= 0)
		sbx_trace_sweep(b, all);
	free(all);
}

int sbx_sandbox_trace(struct sbx_sandbox *sb, char *why, size_t len)
{
	int r = sbx_trace_policy_needs(sb->bpf, sb->policy_id), lock;

	if (r <= 0)
		return r < 0 ? sbx_fail(why, len, r, "read the policy: %s", strerror(-r)) : 0;
	lock = sbx_instance_lock(&sb->bpf->paths);
	if (lock < 0)
		return sbx_fail(why, len, lock, "lock %s: %s", sb->bpf->paths.run_dir,
				strerror(-lock));
	r = sbx_trace_acquire_locked(sb->bpf, sb->slot, sb->trace_fds, why, len);
	sb->traced = r == 0;
	sbx_instance_unlock(lock);
	return r < 0 ? r : 1;
}

/* Removes the sandbox's policy entries. After a live update (core/update.h)
 * the slot's ids hold what the updater wrote, which this process does not
 * know key by key: both ids are swept then. Under the instance lock, so that
 * an update running now either finishes before or sees the slot gone. */
static void release_policy(struct sbx_sandbox *sb)
{
	struct sbx_slot s = {};
	int lock = sbx_instance_lock(&sb->bpf->paths);
	bool read = sb->have_slot && bpf_map_lookup_elem(sb->bpf->slots_fd, &sb->slot, &s) == 0;
	bool updated = read && (s.flags & SBX_SLOTF_UPDATED);
	/* flagged by this sbx or by an updater (core/trace.h) */
	bool traced = read && (s.flags & SBX_SLOTF_TRACE);

	if (sb->have_policy)
		clear_policy(sb);
	if (updated) {
		sbx_sandbox_purge_policy(sb->bpf, sb->slot * 2);
		sbx_sandbox_purge_policy(sb->bpf, sb->slot * 2 + 1);
	}
	if (sb->have_slot) {
		struct sbx_slot zero = {};

		/* inactive before the lock goes: an updater checks the flag */
		bpf_map_update_elem(sb->bpf->slots_fd, &sb->slot, &zero, 0);
	}
	if (traced)
		trace_release(sb->bpf, lock);
	/* after the sweep, under the lock: a sandbox starting next finds the
	 * links either still pinned or gone with this fd, never half */
	if (sb->traced)
		sbx_trace_close(sb->trace_fds);
	sb->traced = false;
	if (lock >= 0)
		sbx_instance_unlock(lock);
}

static int reset_counters(struct sbx_sandbox *sb)
{
	struct sbx_bpf *b = sb->bpf;
	struct sbx_stats st = {};
	int ncpu = libbpf_num_possible_cpus();
	struct sbx_drops *d;
	int r = 0;

	if (ncpu < 0)
		return ncpu;
	d = calloc((size_t)ncpu, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (bpf_map_update_elem(b->stats_fd, &sb->slot, &st, 0) ||
	    bpf_map_update_elem(b->drops_fd, &sb->slot, d, 0))
		r = -errno;
	free(d);
	return r;
}

static int discard_event(void *ctx, void *data, size_t size)
{
	return 0;
}

/* Empties a ring left by the slot's previous sandbox (its consumer may have
 * died before draining it); nothing new arrives while the slot is inactive. */
static int drain_ring(int fd)
{
	struct ring_buffer *rb = ring_buffer__new(fd, discard_event, NULL, NULL);
	int r;

	if (!rb)
		return -errno;
	r = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return r < 0 ? r : 0;
}

/* Each slot keeps its ring buffer from one sandbox to the next: updating a
 * map-in-map waits for an RCU grace period (milliseconds), so it is done once
 * per slot, not once per sandbox. */
static int make_ring(struct sbx_sandbox *sb)
{
	struct sbx_bpf *b = sb->bpf;
	__u32 id = 0;

	if (bpf_map_lookup_elem(b->rings_fd, &sb->slot, &id) == 0 && id) {
		sb->ring_fd = bpf_map_get_fd_by_id(id);
		if (sb->ring_fd >= 0)
			return drain_ring(sb->ring_fd);
	}
	sb->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "sbx_ring", 0, 0, b->cfg.ring_size, NULL);
	if (sb->ring_fd < 0)
		return -errno;
	if (bpf_map_update_elem(b->rings_fd, &sb->slot, &sb->ring_fd, 0))
		return -errno;
	return 0;
}

/* A slot's resolver entry and pins (core/dnsrun.h) go with its sandbox; one
 * killed with its manager leaves them, and the next sandbox of the slot must
 * not find its port-53 traffic sent to a dead resolver or its pins open. */
static int dns_reset(const struct sbx_bpf *b, uint32_t slot)
{
	struct sbx_dns_slot cur = { 0 }, off = { 0 };

	if (bpf_map_lookup_elem(b->dns_fd, &slot, &cur) < 0)
		return -errno;
	if (!memcmp(&cur, &off, sizeof(cur)))
		return 0;
	if (bpf_map_update_elem(b->dns_fd, &slot, &off, BPF_ANY) < 0)
		return -errno;
	sbx_dns_ports_set(b->dns_ports_fd, &cur, slot, false);
	return sbx_dns_flush_pins(b->pins_fd, slot) < 0 ? -EIO : 0;
}

static int activate(struct sbx_sandbox *sb)
{
	struct sbx_slot s = {
		.flags = SBX_SLOTF_ACTIVE, .policy_id = sb->policy_id, .cgroup_id = sb->cgroup_id,
		.owner_pid = (uint64_t)getpid(), .owner_start = sbx_proc_start_time(getpid()),
	};
	struct sbx_bpf *b = sb->bpf;

	if (bpf_map_update_elem(b->slots_fd, &sb->slot, &s, 0) ||
	    bpf_map_update_elem(b->cgroups_fd, &sb->cgroup_id, &sb->slot, BPF_NOEXIST))
		return -errno;
	sb->active = true;
	return 0;
}

/* The kernel reports the profile's entry index (what a consumer can map to
 * the policy), not the index among resolved addresses. */
void sbx_sandbox_remap_rules(struct sbx_compiled *c, const struct sbx_resolved *res)
{
	for (size_t i = 0; i < c->n_v4; i++)
		for (uint32_t j = 0; j < c->v4[i].val.n; j++)
			c->v4[i].val.r[j].rule = (uint32_t)res->src[c->v4[i].val.r[j].rule];
	for (size_t i = 0; i < c->n_v6; i++)
		for (uint32_t j = 0; j < c->v6[i].val.n; j++)
			c->v6[i].val.r[j].rule = (uint32_t)res->src[c->v6[i].val.r[j].rule];
}

static void new_id(char *buf, size_t len)
{
	uint32_t rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	snprintf(buf, len, "sbx-%08x", rnd);
}

/* A uid of the sandbox's own, leased host-wide (core/uidpool.h). */
static int lease_uid(struct sbx_sandbox *sb, char *why, size_t len)
{
	struct sbx_uid_lease l = { .instance = sb->bpf->paths.name, .slot = sb->slot,
				   .cgroup = sb->cgroup_path, .owner_pid = getpid(),
				   .owner_start = sbx_proc_start_time(getpid()) };
	struct sbx_uid_range range;
	int r;

	r = sbx_uid_range_get(&range, why, len);
	if (r < 0)
		return r;
	return sbx_uid_alloc(SBX_UID_LEASE_DIR, &range, &l, &sb->uid, why, len);
}

/* The steps of sbx_sandbox_create; each records what it made in sb, so that
 * sbx_sandbox_destroy undoes exactly that. */
static int create_steps(struct sbx_bpf *b, const struct sbx_profile *p,
			const struct sbx_resolved *res, struct sbx_sandbox *sb, char *why, size_t len)
{
	int r = alloc_slot(b, &sb->slot);

	if (r == -ENOSPC)
		return sbx_fail(why, len, r, "all %d sandbox slots are in use", SBX_MAX_SANDBOXES);
	if (r < 0)
		return sbx_fail(why, len, r, "allocate a sandbox slot: %s", strerror(-r));
	sb->have_slot = true;
	sbx_trace(" create: slot");
	sb->policy_id = sb->slot * 2;
	r = sbx_compile(p, res->entries, res->n, sb->policy_id, &sb->comp, why, len);
	if (r < 0)
		return r;
	sbx_sandbox_remap_rules(&sb->comp, res);
	sb->have_policy = true;
	r = fill_policy(sb);
	if (r < 0)
		return sbx_fail(why, len, r, "write policy maps: %s", strerror(-r));
	r = reset_counters(sb);
	if (!r)
		r = dns_reset(b, sb->slot);
	if (!r)
		r = make_ring(sb);
	if (r < 0)
		return sbx_fail(why, len, r, "set up counters and ring buffer: %s", strerror(-r));
	r = sbx_cgroup_create(&b->root, sb->id, sb->cgroup_path, sizeof(sb->cgroup_path),
			      &sb->cgroup_id);
	if (r < 0)
		return sbx_fail(why, len, r, "create cgroup %s/%s: %s", b->root.path, sb->id,
				strerror(-r));
	sb->cgroup_fd = r;
	sb->have_cgroup = true;
	sbx_trace(" create: policy, ring, cgroup");
	r = activate(sb);
	if (r < 0)
		return sbx_fail(why, len, r, "activate sandbox: %s", strerror(-r));
	r = sbx_uid_range_refuse_named(p->user, p->group, why, len);
	if (r < 0)
		return r;
	return p->user ? 0 : lease_uid(sb, why, len);
}

int sbx_sandbox_create(struct sbx_bpf *b, const struct sbx_profile *p,
		       const struct sbx_resolved *res, struct sbx_sandbox *sb,
		       char *why, size_t len)
{
	int r;

	sbx_zero(sb, sizeof(*sb));
	sb->bpf = b;
	sb->cgroup_fd = sb->ring_fd = -1;
	sb->trace_fds[0] = sb->trace_fds[1] = -1;
	new_id(sb->id, sizeof(sb->id));
	r = create_steps(b, p, res, sb, why, len);
	if (r < 0)
		sbx_sandbox_destroy(sb);
	return r;
}

int sbx_sandbox_register(struct sbx_sandbox *sb, const char *profile, const char *provider,
			 pid_t workload_pid, bool exec_done)
{
	char dir[PATH_MAX + 8], path[PATH_MAX + 32], tmp[PATH_MAX + 40];
	struct timespec now;
	FILE *f;
	int fd, r;

	/* private to root, like the run directory (sbx_instance_mkrun) */
	r = sbx_instance_mkrun(&sb->bpf->paths);
	if (r < 0)
		return r;
	sbx_instance_slot_dir(&sb->bpf->paths, dir, sizeof(dir));
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || chmod(dir, 0700) < 0)
		return -errno;
	sbx_instance_slot_file(&sb->bpf->paths, sb->slot, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "id=%s\nprofile=%s\nprovider=%s\ncgroup=%s\npid=%d\nworkload=%d\nstarted=%llu\n",
		sb->id, profile, provider, sb->cgroup_path, (int)getpid(), (int)workload_pid,
		(unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec);
	if (sb->uid)
		fprintf(f, "uid=%u\n", (unsigned)sb->uid);
	if (exec_done)
		fputs("exec=done\n", f);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return -errno;
	return 0;
}

void sbx_sandbox_destroy(struct sbx_sandbox *sb)
{
	struct sbx_bpf *b = sb->bpf;
	char reg[PATH_MAX + 32];
	bool killed = false;

	if (!b)
		return;
	if (sb->have_cgroup) {
		/* kill stragglers before the policy goes, so nothing runs unconfined;
		 * the uid is free once they are gone (else a later sbx takes it
		 * back when no process of it is left: core/uidpool.h) */
		killed = sbx_cgroup_destroy(sb->cgroup_path) >= 0;
		bpf_map_delete_elem(b->cgroups_fd, &sb->cgroup_id);
		close(sb->cgroup_fd);
	}
	sbx_trace(" teardown: cgroup");
	if (sb->uid && killed)
		sbx_uid_release(SBX_UID_LEASE_DIR, sb->uid, getpid());
	sbx_trace(" teardown: uid release");
	if (sb->ring_fd >= 0)
		close(sb->ring_fd);	/* the slot keeps the ring for its next sandbox */
	if (sb->have_policy || sb->have_slot)
		release_policy(sb);
	sbx_trace(" teardown: policy, slot");
	sbx_compiled_free(&sb->comp);
	if (sb->have_slot) {
		sbx_instance_slot_file(&b->paths, sb->slot, reg, sizeof(reg));
		sbx_counters_remove(&b->paths, sb->slot);
		unlink(reg);
	}
	memset(sb, 0, sizeof(*sb));
	sb->cgroup_fd = sb->ring_fd = -1;
}

int sbx_sandbox_rate(const struct sbx_bpf *b, uint32_t slot, struct sbx_rate *ret)
{
	struct sbx_rate r;

	if (b->rates_fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(b->rates_fd, &slot, &r))
		return -errno;
	*ret = r;
	return 0;
}

int sbx_sandbox_rate_reset(const struct sbx_bpf *b, uint32_t slot)
{
	struct sbx_rate zero = { 0 };

	return bpf_map_update_elem(b->rates_fd, &slot, &zero, 0) ? -errno : 0;
}

SBX_IDLE_PATH int sbx_sandbox_stats(const struct sbx_bpf *b, uint32_t slot, struct sbx_stats *ret_st,
		      struct sbx_drops *ret_drops)
{
	static int ncpu;	/* libbpf's code for it is not on the idle path */
	struct sbx_drops *d, sum = {};
	int r;

	if (!ncpu)
		ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0)
		return ncpu;
	r = sbx_bpf_lookup(b->stats_fd, &slot, ret_st);
	if (r < 0)
		return r;
	d = calloc((size_t)ncpu, sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = sbx_bpf_lookup(b->drops_fd, &slot, d);
	if (r < 0) {
		free(d);
		return r;
	}
	for (int i = 0; i < ncpu; i++) {
		sum.ring += d[i].ring;
		sum.global += d[i].global;
	}
	free(d);
	*ret_drops = sum;
	return 0;
}

static int read_info(const struct sbx_instance *p, uint32_t slot, struct sbx_sandbox_info *ret)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 32];
	struct sbx_sandbox_info in = { .slot = slot };
	unsigned long long started = 0;
	FILE *f;

	sbx_instance_slot_file(p, slot, path, sizeof(path));
	f = sbx_fopen_regular(path);	/* no FIFO stalls sbxd's list */
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = 0;
		v[strcspn(v, "\n")] = 0;
		if (!strcmp(line, "id"))
			snprintf(in.id, sizeof(in.id), "%s", v);
		else if (!strcmp(line, "profile"))
			snprintf(in.profile, sizeof(in.profile), "%s", v);
		else if (!strcmp(line, "provider"))
			snprintf(in.provider, sizeof(in.provider), "%s", v);
		else if (!strcmp(line, "cgroup"))
			snprintf(in.cgroup, sizeof(in.cgroup), "%s", v);
		else if (!strcmp(line, "pid"))
			in.owner_pid = atoi(v);
		else if (!strcmp(line, "workload"))
			in.workload_pid = atoi(v);
		else if (!strcmp(line, "started"))
			started = strtoull(v, NULL, 10);
		else if (!strcmp(line, "exec"))
			in.exec_done = !strcmp(v, "done");
	}
	fclose(f);
	in.started_ns = started;
	if (!in.id[0] || in.owner_pid <= 0 || kill(in.owner_pid, 0) < 0)
		return -ESRCH;
	*ret = in;
	return 0;
}

static int cmp_info(const void *a, const void *b)
{
	const struct sbx_sandbox_info *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

int sbx_sandbox_list(const struct sbx_instance *p, struct sbx_sandbox_info **ret, size_t *ret_n)
{
	char dir[PATH_MAX + 8];
	struct sbx_sandbox_info *v = NULL, in;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	sbx_instance_slot_dir(p, dir, sizeof(dir));
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			char *end;
			unsigned long slot = strtoul(de->d_name, &end, 10);
			struct sbx_sandbox_info *nv;

			if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || slot >= SBX_MAX_SANDBOXES)
				continue;
			if (read_info(p, (uint32_t)slot, &in) < 0)
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			v = nv;
			v[n++] = in;
		}
		closedir(d);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_info);
	*ret = v;
	*ret_n = n;
	return 0;
}

int sbx_sandbox_lookup(const struct sbx_instance *p, const char *id, struct sbx_sandbox_info *ret)
{
	struct sbx_sandbox_info *v;
	size_t n, found = 0, at = 0;
	int r = sbx_sandbox_list(p, &v, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].id, id)) {
			found = 1;
			at = i;
			break;
		}
		if (!strncmp(v[i].id, id, strlen(id)) || !strncmp(v[i].id + 4, id, strlen(id))) {
			found++;
			at = i;
		}
	}
	if (found == 1)
		*ret = v[at];
	free(v);
	return found == 1 ? 0 : found ? -ENOTUNIQ : -ENOENT;
}

int sbx_sandbox_reap(const struct sbx_instance *p, char *why, size_t len)
{
	struct sbx_slot *all;
	struct sbx_bpf b;
	int lock, live = 0, r;

	r = sbx_bpf_adopt(&b, why, len);
	if (r == -ENOENT)
		return 0;
	if (r == -ESTALE)	/* another sbx version's layout: trust the registry */
		return sbx_instance_live(p) ? 1 : 0;
	if (r < 0)
		return r;
	all = calloc(SBX_MAX_SANDBOXES, sizeof(*all));
	lock = all ? sbx_instance_lock(p) : -ENOMEM;
	r = lock < 0 ? lock : read_slots(&b, all, SBX_MAX_SANDBOXES);
	for (uint32_t i = 0; i < SBX_MAX_SANDBOXES && r == 0; i++) {
		if (!(all[i].flags & SBX_SLOTF_ACTIVE))
			continue;
		if (!owner_dead(&all[i]) || !reclaim_slot(&b, i, &all[i]))
			live++;	/* alive, or its cgroup could not be emptied */
		else
			all[i].flags = 0;
	}
	if (r == 0) {
		sbx_trace_sweep(&b, all);
		/* the whole map was read: the bound can come down to what is left */
		(void)set_slot_bound(lock, active_end(all, SBX_MAX_SANDBOXES));
	}
	if (r < 0)
		snprintf(why, len, "read sandbox slots: %s", strerror(-r));
	if (lock >= 0)
		sbx_instance_unlock(lock);
	free(all);
	sbx_bpf_close(&b);
	return r < 0 ? r : live;
}
