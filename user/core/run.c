/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/audit.h"
#include "core/auditlog.h"
#include "core/bpfload.h"
#include "core/counters.h"
#include "core/dnsrun.h"
#include "core/enforce.h"
#include "core/fsplan.h"
#include "core/instance.h"
#include "core/journal.h"
#include "core/logfile.h"
#include "kernel/limits.h"
#include "kernel/netns.h"
#include "kernel/netrate.h"
#include "kernel/features.h"
#include "kernel/seccomp.h"
#include "kernel/seccomp_cache.h"
#include "kernel/systemd.h"
#include "core/run.h"
#include "core/sandbox.h"
#include "core/tty.h"
#include "core/uidpool.h"
#include "util/util.h"

#define TERM_GRACE_MS 2000
/* --log: what one wakeup copies from each output pipe, so that a workload
 * writing faster than the disk takes still leaves the loop to signals, the
 * timeout and audit events between two copies (it waits on the full pipe). */
#define LOG_CHUNK 65536
/* After the sandbox is killed, its processes' ends of the pipes close as
 * they die; an end held outside it must not keep sbx waiting. */
#define LOG_DRAIN_MS 2000
/* A batch of audit lines is written once it passes this (or when the ring
 * is empty): a few thousand writes a second at a million events a second,
 * and a rotated log file passes audit_max_size by at most this much. */
#define AUDIT_BATCH_MAX 65536
/* After a drain that found events, the next one waits this long, the ring
 * left out of the poll set: every drain that empties the ring makes the
 * next event wake the consumer, which the kernel does with an interrupt on
 * the workload's CPU, so a consumer that drains as fast as events come
 * costs the workload an interrupt every few events (bench/analysis.md,
 * section 4). At a million events a second a 256 KiB ring holds 2.7 ms. */
#define AUDIT_DRAIN_PAUSE_NS 200000
#define RING_RETRY_NS 10000000	/* the ring could not be mapped: 100 tries a second */

struct run_state {
	const struct sbx_run_opts *o;
	struct sbx_run_result *res;
	FILE *err;
	struct sbx_bpf bpf;
	bool have_bpf;
	struct sbx_resolved rs;
	struct sbx_sandbox sb;
	bool have_sb;
	struct sbx_limits lim;
	bool have_lim;
	struct sbx_fsplan fs;		/* backend, rules, view, Landlock ruleset */
	bool have_fs;
	int watchdog_fd;		/* write end held while sbx lives; -1 = none */
	struct sbx_audit_ctx actx;
	struct sbx_policy *upd_pol;	/* o->policy_file as read after a live update */
	uint32_t upd_id;		/* the policy id it was read for */
	struct ring_buffer *rb;		/* NULL while idle: ring_release */
	bool ring_map_failed_said;
	bool ring_retry;		/* mapping it failed: retried every RING_RETRY_NS */
	struct sbx_auditlog alog;	/* the instance's shared audit.jsonl (core/auditlog.h) */
	int audit_fd;			/* --audit FILE or -; -1 = none */
	bool audit_torn;		/* it ends in part of a line: the next write ends it first */
	bool alog_unlocked_said;	/* the warning that the log's lock was not had */
	uint64_t reported_ring;		/* drop totals as of the last audit.dropped */
	uint64_t reported_sink;
	uint64_t reported_ns;		/* CLOCK_MONOTONIC of the last audit.dropped; 0 = none */
	struct sbx_journal journal;	/* --audit-journal (core/journal.h) */
	uint64_t last_seq;
	uint64_t next_summary_ms;	/* elapsed time of the next suppression summary */
	bool disk_event;		/* limit.disk was emitted (once per sandbox) */
	uint64_t trim_due_ms;		/* elapsed time of the next idle trim; 0 = none due */
	uint64_t last_trim_ms;		/* elapsed time of the last idle trim; 0 = none yet */
	struct json_buf abuf;		/* audit lines of the current batch */
	uint64_t ring_bytes;		/* the sandbox's ring's size; 0: not known */
	uint64_t drained;		/* bytes of records the current drain took */
	bool drain_pause;		/* the last drain found events: wait before the next */
	void *pstate;
	struct sbx_child child;
	bool spawned;
	bool holding;			/* spawned held, waiting for the go (spawn_held) */
	int sigfd;
	bool refused;			/* the provider's refusal is reported already */
	struct sbx_tty tty;		/* -t; master -1 without */
	bool have_tty;
	struct sbx_tty_modes caller_modes;	/* without -t: put back at the end */
	struct sbx_netrate rate;	/* the profile's bandwidth rate */
	bool have_rate;
	struct sbx_logfile log;		/* --log */
	bool have_log;
	int log_rd;			/* read end of the output pipe; -1 = none or EOF */
	int log_wr;			/* its write end, until the workload has it */
	struct sbx_counters_pub pub;	/* the live counters for sbxd (core/counters.h) */
	struct sbx_dnsrun dns;		/* the sandbox's DNS resolver (core/dnsrun.h) */
	bool have_dns;
	uint64_t t0;			/* CLOCK_MONOTONIC of the start (a pooled run's go) */
};

static int fail(struct run_state *s, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct run_state *s, int r, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->err, "sbx: error: ");
	va_start(ap, fmt);
	vfprintf(s->err, fmt, ap);
	va_end(ap);
	fputc('\n', s->err);
	return r < 0 ? r : -EINVAL;
}

/* A refusal of something the profile says, in the form of policy errors
 * ("FILE:LINE:COL: error: ..."), as `sbx policy check` prints it too. */
static int fail_at(struct run_state *s, int r, const struct sbx_srcpos *pos, const char *msg)
{
	if (!pos->file)
		return fail(s, r, "%s", msg);
	fprintf(s->err, "%s:%u:%u: error: %s\n", pos->file, pos->line, pos->col, msg);
	return r < 0 ? r : -EINVAL;
}

SBX_IDLE_PATH static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sbx_audit_log_path(char *buf, size_t len)
{
	struct sbx_instance p;
	const char *dir = getenv("SBX_LOG_DIR");
	int r = sbx_instance_get(&p);

	if (r < 0)
		return r;
	if (dir && *dir)
		snprintf(buf, len, "%s/audit.jsonl", dir);
	else
		snprintf(buf, len, "/var/log/%s/audit.jsonl", p.name);
	return 0;
}

/* The shared log, rotated by size as $SBX_AUDIT_MAX_SIZE and
 * $SBX_AUDIT_KEEP say (sbxd sets them for its monitors from sbxd.toml). */
static int open_sinks(struct run_state *s)
{
	char path[PATH_MAX], dir[PATH_MAX], why[PATH_MAX + 128];
	uint64_t max_size;
	unsigned keep;
	int fd, r;

	if (sbx_audit_log_path(path, sizeof(path)) < 0)
		return fail(s, -EINVAL, "invalid SBX_INSTANCE");
	if (sbx_auditlog_env(&max_size, &keep, why, sizeof(why)) < 0)
		return fail(s, -EINVAL, "%s", why);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	/* private to root: events name the files and hosts of every sandbox */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(s, -errno, "audit log directory %s: %m", dir);
	r = sbx_auditlog_open(&s->alog, path, max_size, keep, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "audit log %s", why);
	if (!s->o->audit_path)
		return 0;
	if (!strcmp(s->o->audit_path, "-"))
		fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = sbx_open_output(s->o->audit_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0)
		return fail(s, fd, "audit output %s: %s", s->o->audit_path,
			    sbx_open_output_error(fd));
	s->audit_fd = fd;
	return 0;
}

static void flush_audit(struct run_state *s);

/* Events become JSON lines in a memory buffer; flush_audit() writes the
 * whole batch with one write() per sink, so lines of concurrent sandboxes
 * never interleave in the shared log and a flood costs few syscalls. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct run_state *s = ctx;
	const struct sbx_event_hdr *h = data;
	const struct sbx_ev_net *n = data;	/* verdict: first byte after the header */
	struct sbx_run_result *res = s->res;
	size_t mark = s->abuf.len;
	struct json_writer w;
	int r;

	/* the ring's record header (BPF_RINGBUF_HDR_SZ), rounded to 8 as the
	 * kernel lays records out */
	s->drained += (size + 8 + 7) & ~(uint64_t)7;
	if (size < sizeof(*h))
		return 0;
	/* CPUs may deliver out of order: gaps are counted once, at the end */
	res->events++;
	if (h->seq > s->last_seq)
		s->last_seq = h->seq;
	json_init_buf(&w, &s->abuf, false);
	r = sbx_audit_event_json(&w, &s->actx, data, size);
	if (r < 0) {
		s->abuf.len = mark;	/* no half line in the batch */
		if (r != -EINVAL)
			res->unwritten++;	/* no memory for it: a sink's loss, counted */
		return 0;
	}
	if (s->abuf.len >= AUDIT_BATCH_MAX)
		flush_audit(s);
	if (h->type == SBX_EV_SYSCALL_DENIED ? size >= sizeof(struct sbx_ev_syscall) &&
			((const struct sbx_ev_syscall *)data)->verdict == SBX_VERDICT_WOULD_DENY :
	    sbx_event_has_verdict(h->type) && n->verdict == SBX_VERDICT_WOULD_DENY) {
		res->would_deny++;	/* observe mode: reported, not refused */
		return 0;
	}
	if (h->type == SBX_EV_FILE && size >= sizeof(struct sbx_ev_file) && n->verdict == SBX_VERDICT_DENY &&
	    (((const struct sbx_ev_file *)data)->op == SBX_FOP_EXEC ||
	     ((const struct sbx_ev_file *)data)->op == SBX_FOP_MMAP_EXEC))
		res->exec_denials++;	/* an exec, not a file access: counted apart */
	else if (h->type == SBX_EV_SOCK_CREATE || h->type == SBX_EV_NET_QUOTA || h->type == SBX_EV_NET_SOCKOPT ||
		 h->type == SBX_EV_NET_UNIX ||
		 h->type == SBX_EV_SYSCALL_DENIED ||
		 ((h->type == SBX_EV_NET_CONNECT || h->type == SBX_EV_NET_SEND || h->type == SBX_EV_NET_BIND ||
		   h->type == SBX_EV_NET_PACKET || h->type == SBX_EV_FILE) && n->verdict == SBX_VERDICT_DENY))
		res->denials[h->type]++;
	return 0;
}

/* Lines begun in buf (the last one may lack its newline). */
static uint64_t count_lines(const char *buf, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	return n + (len && buf[len - 1] != '\n');
}

/* A full disk (which a workload with a writable grant on the log's
 * filesystem can cause) loses lines, not the sandbox; but they are counted
 * (audit.unwritten). The shared log takes a batch whole or not at all; in
 * --audit's file a line cut short is ended before the next one, so that it
 * does not swallow it. */
static void write_audit_fd(struct run_state *s)
{
	size_t off;

	if (s->audit_torn) {
		if (sbx_write_all(s->audit_fd, "\n", 1) != 1) {
			s->res->unwritten += count_lines(s->abuf.data, s->abuf.len);
			return;
		}
		s->audit_torn = false;
	}
	off = sbx_write_all(s->audit_fd, s->abuf.data, s->abuf.len);
	if (off == s->abuf.len)
		return;
	s->res->unwritten += count_lines(s->abuf.data + off, s->abuf.len - off);
	s->audit_torn = off > 0 && s->abuf.data[off - 1] != '\n';
}

/* --audit-journal: the batch once more, an entry per line; a loss is a
 * sink's loss (audit.unwritten), and the first is said once. */
static void flush_journal(struct run_state *s)
{
	uint64_t lost = sbx_journal_send_lines(&s->journal, s->abuf.data, s->abuf.len);
	char msg[512];

	s->res->unwritten += lost;
	s->res->journal_unwritten += lost;
	s->res->journal_sent = s->journal.sent;
	if (sbx_journal_warning(&s->journal, msg, sizeof(msg)))
		fprintf(s->err, "sbx: warning: %s\n", msg);
}

SBX_IDLE_PATH static void flush_audit(struct run_state *s)
{
	if (!s->abuf.len)
		return;
	if (sbx_auditlog_write(&s->alog, s->abuf.data, s->abuf.len) < 0)
		s->res->unwritten += count_lines(s->abuf.data, s->abuf.len);
	if (s->alog.unlocked && !s->alog_unlocked_said) {
		fprintf(s->err, "sbx: warning: audit log: %s.lock held by another process for over %u ms: "
			"lines written without it, not rotated meanwhile\n", s->alog.name,
			SBX_AUDIT_LOCK_WAIT_MS);
		s->alog_unlocked_said = true;
	}
	if (s->audit_fd >= 0)
		write_audit_fd(s);
	if (s->res->has_journal)
		flush_journal(s);
	json_buf_clear(&s->abuf);
}

/* The ring's consumer (libbpf maps the whole ring, 256 KiB by default,
 * which counts in the monitor's Pss). An idle monitor lets it go
 * (ring_release) and polls the ring's map fd itself, which the kernel marks
 * readable when data waits; the next drain maps it again. The consumer's
 * position lives in the kernel's page, so nothing is lost or read twice. */
SBX_IDLE_PATH static int ring_ready(struct run_state *s)
{
	int r;

	if (s->rb)
		return 0;
	s->rb = ring_buffer__new(s->sb.ring_fd, on_event, s, NULL);
	s->ring_retry = !s->rb;
	if (s->rb)
		return 0;
	r = errno ? -errno : -ENOMEM;
	if (!s->ring_map_failed_said) {
		fprintf(s->err, "sbx: warning: audit ring: mapping it again failed (%s): its events wait in "
			"the ring (counted as dropped if it fills); retrying\n", strerror(-r));
		s->ring_map_failed_said = true;
	}
	return r;
}

SBX_IDLE_PATH static bool ring_has_data(int ring_fd)
{
	struct pollfd p = { .fd = ring_fd, .events = POLLIN };

	/* an error says yes: mapping it reports the problem */
	return poll(&p, 1, 0) != 0;
}

SBX_IDLE_PATH static void ring_release(struct run_state *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
}

SBX_IDLE_PATH static int consume(struct run_state *s)
{
	int r;

	s->drained = 0;
	if (!s->rb && !ring_has_data(s->sb.ring_fd))
		r = 0;	/* released and empty: stays unmapped */
	else if (ring_ready(s) < 0)
		r = -ENOMEM;	/* whatever the cause: retried after a pause */
	else
		r = ring_buffer__consume(s->rb);
	/* a drain that took an eighth of the ring runs again at once: a burst
	 * from many CPUs fills the rest while the consumer would pause */
	s->drain_pause = (r > 0 && s->drained < s->ring_bytes / 8) ||
			 r == -ENOMEM;	/* retried after a pause, not polled in a loop */
	flush_audit(s);
	sbx_counters_publish(&s->pub, &s->sb, s->res);
	return r;
}

static int emit_life(struct run_state *s, uint16_t type, int status)
{
	struct sbx_emit_ctx c = { .slot = s->sb.slot, .type = type,
				  .workload_pid = (uint32_t)s->child.pid };

	if (type == SBX_EV_SANDBOX_EXIT) {
		c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		c.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		c.flags = s->res->timed_out ? 1 : 0;
		if (s->child.no_status)
			c.flags |= SBX_LIFE_NO_STATUS;
	}
	return sbx_bpf_emit(&s->bpf, &c, NULL);
}

/* Asks for a summary of the events the rate limits suppressed since the last
 * one; the program writes none when there are none. The ring is emptied
 * first: a burst of denials may have filled it since the last wakeup, and a
 * summary that finds no room is lost with its counts (the program has
 * marked them reported). Refilling it takes more than a burst's tokens. */
SBX_IDLE_PATH static void audit_summary(struct run_state *s)
{
	struct sbx_emit_ctx c = { .slot = s->sb.slot, .type = SBX_EV_AUDIT_SUPPRESSED,
				  .workload_pid = (uint32_t)s->child.pid };

	consume(s);
	sbx_bpf_emit(&s->bpf, &c, NULL);
}

/* disk = ...: the use of the quota's filesystem into the result, and one
 * limit.disk event the first time it is seen full (blocks or inodes), which
 * is when writes inside fail with ENOSPC. Checked with each audit summary
 * tick (every second) and at the end. */
SBX_IDLE_PATH static void disk_check(struct run_state *s)
{
	const struct sbx_provider *pv = s->o->provider;
	struct sbx_disk_usage u;
	struct sbx_emit_ctx c = { .slot = s->sb.slot, .type = SBX_EV_LIMIT_DISK,
				  .workload_pid = (uint32_t)s->child.pid };

	if (!pv->disk_usage || !s->pstate || pv->disk_usage(s->pstate, &u) < 0)
		return;
	s->res->has_disk = true;
	s->res->disk = u;
	if (!u.full || s->disk_event)
		return;
	s->disk_event = true;
	s->res->disk_full = true;
	c.used_bytes = u.used_bytes;
	c.limit_bytes = u.limit_bytes;
	c.inodes_used = u.inodes_used;
	c.inodes_limit = u.inodes_limit;
	memcpy(c.mount, u.mount, sizeof(c.mount));
	sbx_bpf_emit(&s->bpf, &c, NULL);
}

/* Back-pressure made visible (docs/audit.md, audit.dropped): the events the
 * sandbox's ring lost because this consumer read too slowly, and the lines
 * a sink did not take, since the last report. Checked with the summary tick
 * (so at most once a second) and at the end; one warning on stderr and one
 * audit line each time something was lost. It does not go through the ring,
 * which may be the very thing that is full. */
#define AUDIT_DROPPED_NS 1000000000ull	/* at most one audit.dropped a second */

SBX_IDLE_PATH static void drop_report(struct run_state *s, bool final)
{
	struct sbx_run_result *res = s->res;
	uint64_t ring, sink, now, lost, u0, j0;
	struct json_writer w;
	struct sbx_stats st;
	struct sbx_drops d;
	char ts[64];

	/* the events still in the batch first: their losses are in this report */
	flush_audit(s);
	if (sbx_sandbox_stats(&s->bpf, s->sb.slot, &st, &d) == 0)
		res->drops = d;
	ring = res->drops.ring - s->reported_ring;
	/* the log and --audit; journald's losses have their own warning and
	 * count (audit.journal.unwritten) */
	lost = res->unwritten - res->journal_unwritten;
	sink = lost - s->reported_sink;
	if (!ring && !sink)
		return;
	/* the tick may come early after a long drain: a second between lines */
	now = now_ns(CLOCK_MONOTONIC);
	if (!final && s->reported_ns && now - s->reported_ns < AUDIT_DROPPED_NS)
		return;
	s->reported_ns = now;
	s->reported_ring = res->drops.ring;
	s->reported_sink = lost;
	fprintf(s->err, "sbx: warning: %s: %" PRIu64 " audit events dropped (the ring was full: "
		"sbx read too slowly), %" PRIu64 " audit lines not written; %" PRIu64 " and %" PRIu64
		" since the start\n", s->sb.id, ring, sink, (uint64_t)res->drops.ring, lost);
	fflush(s->err);
	sbx_format_time((int64_t)now_ns(CLOCK_REALTIME), ts, sizeof(ts));
	json_init_buf(&w, &s->abuf, false);
	json_begin_object(&w);
	json_kv_string(&w, "time", ts);
	json_kv_string(&w, "sandbox", s->sb.id);
	if (s->o->container_id)
		json_kv_string(&w, "container", s->o->container_id);
	json_kv_string(&w, "profile", s->o->profile->name);
	json_kv_string(&w, "event", "audit.dropped");
	json_kv_uint(&w, "ring", ring);
	json_kv_uint(&w, "sink", sink);
	json_kv_uint(&w, "ring_total", (uint64_t)res->drops.ring);
	json_kv_uint(&w, "sink_total", lost);
	if (json_end_object(&w) < 0)
		json_buf_clear(&s->abuf);	/* no memory for it: no half line; the warning said it */
	/* this line's own loss (the disk still full) is no event lost: the
	 * counts are those of events (audit.unwritten = lines of events) */
	u0 = res->unwritten;
	j0 = res->journal_unwritten;
	flush_audit(s);
	res->unwritten = u0;
	res->journal_unwritten = j0;
}

#define AUDIT_SUMMARY_MS 1000	/* at least once a second while events are suppressed */

/* The summary tick of the wait loop: due now, or how long poll may wait. */
SBX_IDLE_PATH static int audit_summary_tick(struct run_state *s, uint64_t el, int wait_ms)
{
	if (el >= s->next_summary_ms) {
		audit_summary(s);
		disk_check(s);
		drop_report(s, false);
		s->next_summary_ms = el + AUDIT_SUMMARY_MS;
	}
	if (wait_ms < 0 || (uint64_t)wait_ms > s->next_summary_ms - el)
		wait_ms = (int)(s->next_summary_ms - el);
	return wait_ms;
}

static int note_degraded(struct run_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note_degraded(struct run_state *s, const char *fmt, ...)
{
	struct sbx_run_result *res = s->res;
	char **nv = realloc(res->degraded, (res->n_degraded + 1) * sizeof(*nv));
	va_list ap;
	int r;

	if (!nv)
		return -ENOMEM;
	res->degraded = nv;
	va_start(ap, fmt);
	r = vasprintf(&nv[res->n_degraded], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	res->n_degraded++;
	return 0;
}

/* What the host and the provider offer the filesystem plan. */
static void fs_features(const struct run_state *s, struct sbx_fsplan_features *ret)
{
	const struct sbx_provider *pv = s->o->provider;

	*ret = (struct sbx_fsplan_features){
		.bpf_lsm = s->bpf.cfg.flags & SBX_CFGF_BPF_LSM,
		.landlock_abi = pv->foreign ? 0 : sbx_landlock_abi(),	/* applied in the workload */
		.view = pv->level >= SBX_ISO_PROCESS && !pv->foreign,	/* providers with their own view */
		.provider = pv->name,
	};
}

/* The kernel backend as the enforcement table (core/enforce.h) knows it. */
static int enforce_backend(enum sbx_fsplan_backend b)
{
	return b == SBX_FSPLAN_BPF_LSM ? SBX_FSB_BPF_LSM : b == SBX_FSPLAN_LANDLOCK ? SBX_FSB_LANDLOCK : 0;
}

/* The filesystem plan (core/fsplan.h) for this profile, host and provider;
 * what it cannot express is in its refusal or its degraded list. */
static int plan_fs(struct run_state *s, const struct sbx_fsplan_features *ft)
{
	char why[1024] = "";
	int r = sbx_fsplan_make(s->o->profile, ft, &s->fs, why, sizeof(why));

	if (r < 0)
		return fail(s, r, "%s", why);
	s->have_fs = true;
	for (size_t i = 0; i < s->fs.n_degraded && r == 0; i++)
		r = note_degraded(s, "%s", s->fs.degraded[i]);
	return r;
}

/* What the chosen provider cannot enforce of this profile (core/enforce.c):
 * refused under "strict", run and reported under "best-effort". */
static int check_enforceable(struct run_state *s)
{
	const struct sbx_profile *p = s->o->profile;
	const struct sbx_provider *pv = s->o->provider;
	struct sbx_enforce_report rep;
	struct sbx_enforce_features f;
	struct sbx_fsplan_features ft;
	char why[512] = "";
	int r;

	if (pv->level < p->min_isolation || (p->min_isolation != SBX_ISO_WASM && pv->level == SBX_ISO_WASM
					     && p->min_isolation > SBX_ISO_PROCESS))
		return fail(s, -EPERM, "profile '%s' needs isolation '%s' but provider '%s' gives '%s'",
			    p->name, sbx_isolation_name(p->min_isolation), pv->name,
			    sbx_isolation_name(pv->level));
	if (p->observe && strcmp(pv->name, "process") && strcmp(pv->name, "host"))
		return fail(s, -EOPNOTSUPP, "--observe: provider '%s' enforces what sbx's programs do not "
			    "see; observe runs with the process or host provider", pv->name);
	fs_features(s, &ft);
	f = (struct sbx_enforce_features){ .fs_backend = enforce_backend(sbx_fsplan_backend(p, &ft)),
					    .landlock = ft.landlock_abi > 0,
					    .unix_hooks = s->bpf.cfg.flags & (SBX_CFGF_UNIX_HOOKS |
									     SBX_CFGF_BPF_LSM),
					    .unix_peer = s->bpf.cfg.flags & SBX_CFGF_BPF_LSM };
	r = sbx_enforceability(p, pv->name, &f, &rep, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "%s", why);
	for (size_t i = 0; i < rep.n && r == 0; i++)
		r = rep.v[i].refuse ? fail_at(s, -EOPNOTSUPP, &rep.v[i].pos, rep.v[i].msg) :
				      note_degraded(s, "%s", rep.v[i].msg);
	sbx_enforce_report_free(&rep);
	for (size_t i = 0; i < s->rs.n_unenforced && r == 0; i++)
		r = note_degraded(s, "network entry %s", s->rs.unenforced[i]);
	return r < 0 ? r : plan_fs(s, &ft);
}

/* cgroup limits for every provider; what no controller here can enforce is
 * refused under strict, dropped and reported under best-effort. Made without
 * limits too: the memory controller then only accounts (sbx stats, the
 * result's peak memory), which a hybrid host's cgroup2 cannot. */
static void drop_limit(struct sbx_profile *eff, int k)
{
	if (k == SBX_LIMIT_MEMORY)
		eff->memory_bytes = 0;
	else if (k == SBX_LIMIT_CPU)
		eff->cpu_milli = eff->cpu_weight = 0;
	else if (k == SBX_LIMIT_PIDS)
		eff->pids = 0;
	else
		memset(eff->cpus, 0, sizeof(eff->cpus));
}

static int setup_limits(struct run_state *s)
{
	static const char *const names[SBX_LIMIT_N] = { "memory", "cpu", "pids", "cpus" };
	struct sbx_profile eff = *s->o->profile;
	bool can[SBX_LIMIT_N], want[SBX_LIMIT_N] = { eff.memory_bytes, eff.cpu_milli || eff.cpu_weight,
						     eff.pids, sbx_cpus_any(eff.cpus) };
	char why[1024] = "";
	int r = 0;

	if (want[0] || want[1] || want[2] || want[3])
		r = sbx_limits_probe(s->bpf.root.path, can, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "cgroup limits: %s", why);
	for (int i = 0; i < SBX_LIMIT_N; i++) {
		if (!want[i] || can[i])
			continue;
		if (eff.enforcement == SBX_ENFORCE_STRICT)
			return fail(s, -EOPNOTSUPP, "profile '%s': '%s' cannot be enforced here (%s); "
				    "use enforcement = \"best-effort\" to run without it", eff.name,
				    names[i], why);
		if (note_degraded(s, "%s: not enforced (%s)", names[i], why) < 0)
			return -ENOMEM;
		drop_limit(&eff, i);
	}
	r = sbx_limits_create(&s->lim, s->bpf.paths.name, s->sb.id, s->sb.cgroup_path, &eff,
			      why, sizeof(why));
	if (r < 0)
		return fail(s, r, "cgroup limits: %s", why);
	s->have_lim = true;
	return 0;
}

/* On a systemd host, the cgroup sbx runs in belongs to a unit (a login
 * session's scope, a service): controllers cannot be enabled there and
 * systemd may move or remove what sbx made. Unless a root is given
 * (SBX_CGROUP_ROOT: sbxd's delegated subtree, a test's), sbx moves into a
 * transient delegated scope first (kernel/systemd.h). Without one: refused
 * under strict, the old placement and a degraded entry under best-effort. */
static int systemd_scope(struct run_state *s)
{
	const char *env = getenv("SBX_CGROUP_ROOT");
	struct sbx_instance in;
	char why[512] = "", msg[768];
	int r;

	if ((env && *env) || !sbx_systemd_booted() || sbx_systemd_scope_cgroup())
		return 0;
	r = sbx_instance_get(&in);
	if (r < 0)
		return 0;	/* sbx_bpf_open names the bad SBX_INSTANCE */
	r = sbx_systemd_enter_scope(in.name, why, sizeof(why));
	if (r == 0)
		return 0;
	snprintf(msg, sizeof(msg), "systemd is PID 1 but no delegated scope could be had (%s): "
		 "cgroup limits cannot be enabled in a cgroup systemd owns, and systemd may "
		 "remove sbx's cgroups", why);
	if (s->o->profile->enforcement == SBX_ENFORCE_STRICT)
		return fail(s, r, "%s; use enforcement = \"best-effort\" to run in the caller's "
			    "cgroup, or set SBX_CGROUP_ROOT", msg);
	fprintf(s->err, "sbx: warning: %s\n", msg);
	return note_degraded(s, "cgroup placement: %s", msg);
}

/* The profile a live update moved the sandbox to: sbxd writes it to the
 * sandbox's policy file before the flip, so the file read when the first
 * event of the new id comes names the entries that id was compiled from. */
static const struct sbx_profile *updated_profile(void *data, uint32_t policy_id)
{
	struct run_state *s = data;
	struct sbx_diags diags = { 0 };
	const char *paths[1] = { s->o->policy_file };

	if (!s->o->policy_file)
		return NULL;
	if (!s->upd_pol || s->upd_id != policy_id) {
		s->upd_pol = sbx_policy_free(s->upd_pol);
		if (sbx_policy_load(paths, 1, NULL, &s->upd_pol, &diags) < 0)
			s->upd_pol = NULL;
		sbx_diags_free(&diags);
		s->upd_id = policy_id;
	}
	return s->upd_pol ? sbx_policy_find(s->upd_pol, s->o->profile->name) : NULL;
}

/* Host names: the sandbox's resolver runs before the workload can ask it.
 * A process sandbox with a veth pair reaches it at the pair's host end; every
 * other one shares the host's loopback. */
static int start_dns(struct run_state *s)
{
	const struct sbx_profile *p = s->o->profile;
	struct in_addr veth, *listen4 = NULL;
	char why[512] = "";
	int r;

	if (!s->o->provider->dns_names || !sbx_dnsrun_needed(p, p->observe))
		return 0;
	if (!strcmp(s->o->provider->name, "process") && p->net.namespace == SBX_NETNS_PRIVATE) {
		r = sbx_veth_host_addr(s->sb.slot, p, &veth, why, sizeof(why));
		if (r < 0)
			return fail(s, r, "DNS resolver: %s", why);
		listen4 = &veth;
	}
	r = sbx_dnsrun_start(&s->dns, &s->bpf, s->sb.slot, p, listen4, p->observe, why, sizeof(why));
	if (r < 0 && p->enforcement == SBX_ENFORCE_STRICT)
		return fail(s, r, "%s; host names cannot be enforced without it: refusing under "
			    "enforcement = \"strict\"", why);
	if (r < 0)
		return note_degraded(s, "host names are not enforced: %s", why);
	s->have_dns = true;
	return 0;
}

/* 0 when it cannot be told: the consumer then never pauses. */
static uint64_t ring_size(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

/* noinline, with spawn: their frames lie below sbx_run's, where
 * sbx_trim_memory gives them back while the workload runs */
static __attribute__((noinline)) int setup(struct run_state *s)
{
	const struct sbx_profile *p = s->o->profile;
	char why[1024] = "";
	int r;

	r = sbx_resolve(p, s->o->provider->dns_names, &s->rs, why, sizeof(why));
	if (r < 0 && r != -ENOMEM) {
		/* "FILE:LINE:COL: error: ...", as sbx policy check says it */
		fprintf(s->err, "%s\n", why);
		return r;
	}
	if (r < 0)
		return fail(s, r, "resolving host names: %s", strerror(-r));
	sbx_trace("resolve host names");
	r = systemd_scope(s);
	if (r < 0)
		return r;
	sbx_trace("systemd scope");
	r = sbx_bpf_open(&s->bpf, s->o->ring_size, 0, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "BPF setup: %s", why);
	s->have_bpf = true;
	sbx_trace("bpf open (adopt pins)");
	for (size_t i = 0; s->o->degraded && s->o->degraded[i]; i++)
		if (note_degraded(s, "%s", s->o->degraded[i]) < 0)
			return fail(s, -ENOMEM, "out of memory");
	r = check_enforceable(s);	/* needs sbx_config: BPF LSM or not */
	if (r < 0)
		return r;
	sbx_trace("enforceability, fs plan");
	r = sbx_sandbox_create(&s->bpf, p, &s->rs, &s->sb, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "sandbox: %s", why);
	s->have_sb = true;
	snprintf(s->res->id, sizeof(s->res->id), "%s", s->sb.id);
	sbx_trace("sandbox create (slot, cgroup)");
	r = setup_limits(s);
	if (r < 0)
		return r;
	sbx_trace("cgroup limits");
	r = sbx_sandbox_set_fs(&s->sb, &s->fs, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "filesystem policy: %s", why);
	sbx_trace("fs policy maps");
	s->actx = (struct sbx_audit_ctx){ .sandbox_id = s->sb.id, .profile = p, .fs = &s->fs,
					  .mono_to_real_ns = sbx_audit_clock_offset(),
					  .provider = s->o->provider->name, .degraded = s->res->degraded,
					  .n_degraded = s->res->n_degraded,
					  /* a foreign workload runs as its starter says */
					  .uid = s->o->provider->foreign ? 0 : s->sb.uid,
					  .policy_id = s->sb.policy_id, .profile_of = updated_profile,
					  .profile_data = s, .container = s->o->container_id };
	r = open_sinks(s);
	if (r < 0)
		return r;
	if ((s->res->has_journal = s->o->audit_journal) && sbx_journal_open(&s->journal) < 0)
		flush_journal(s);	/* says once that journald is missing */
	/* before the ring's consumer: the resolver is a fork of the monitor
	 * that lives as long as the sandbox, and a mapping at its fork would
	 * stay in it (the ring's pages in its Pss) whatever the monitor lets
	 * go; the watchdog, forked later, drops its copy itself */
	r = start_dns(s);
	sbx_trace("dns resolver");
	if (r < 0)
		return r;
	s->rb = ring_buffer__new(s->sb.ring_fd, on_event, s, NULL);
	if (!s->rb)
		return fail(s, -errno, "ring buffer consumer: %m");
	s->ring_bytes = ring_size(s->sb.ring_fd);
	sbx_trace("audit sinks, ring buffer");
	return 0;
}

static int setup_signals(struct run_state *s, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	/* forwarded too: a workload's reload or status signal must not kill sbx
	 * (and the workload with it, through PR_SET_PDEATHSIG) */
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (s->o->tty)
		sigaddset(&set, SIGWINCH);	/* copied to the pty, not forwarded */
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return fail(s, -errno, "sigprocmask: %m");
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return fail(s, -errno, "signalfd: %m");
	/* the relay writes to stdout: a reader gone is EPIPE, not sbx's death */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (s->o->tty && sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return fail(s, -errno, "sigprocmask: %m");
	return 0;
}

static int on_started(void *ctx, pid_t pid)
{
	struct run_state *s = ctx;

	s->child.pid = pid;
	/* a foreign workload was placed in the cgroup2 directory by its
	 * starter (clone3); the v1 cgroups of the limits are sbx's to join */
	if (s->o->provider->foreign && s->have_lim) {
		int r = sbx_limits_attach(&s->lim, pid);

		if (r < 0)
			return fail(s, r, "place pid %d in the sandbox's v1 cgroups: %s", (int)pid,
				    strerror(-r));
	}
	sbx_sandbox_register(&s->sb, s->o->profile->name, s->o->provider->name, pid, false);
	/* held: emitted at the go, before the command reaches the sandbox */
	return s->holding ? 0 : emit_life(s, SBX_EV_SANDBOX_START, 0);
}

/* Providers without a pid namespace of their own cannot make the kernel kill
 * the workload's children when sbx dies. A watchdog process outside the
 * sandbox does: it waits on a pipe that only sbx holds open, and on EOF
 * without a "done" byte (sbx was killed) it kills the sandbox's cgroup. */
static void watchdog_main(int rfd, const char *cgroup, const char *registry, uid_t uid,
			  pid_t owner, struct sbx_limits *lim)
{
	char counters[PATH_MAX + 48];	/* the monitor's (core/counters.h) */
	char c;
	ssize_t n;

	for (int fd = 3; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);
	setsid();
	snprintf(counters, sizeof(counters), "%s.counters", registry);
	/* it waits for the whole run: what setup left mapped, copied from the
	 * monitor, goes (the cleanup below maps back what it uses) */
	sbx_trim_memory(true);
	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		/* the next sbx reclaims the slot's map entries; the registry
		 * names the sandbox's v1 cgroups for that reclaim, so they go
		 * before it does; the uid is free once the processes are gone */
		int r = sbx_cgroup_destroy(cgroup);

		if (lim)
			sbx_limits_destroy(lim);
		if (r >= 0 && uid)
			sbx_uid_release(SBX_UID_LEASE_DIR, uid, owner);
		unlink(counters);
		unlink(registry);
	}
	_exit(0);
}

static int start_watchdog(struct run_state *s)
{
	char registry[PATH_MAX + 32];
	int p[2];
	pid_t pid;

	if (s->o->provider->level != SBX_ISO_NONE && !s->o->provider->foreign)
		return 0;
	sbx_instance_slot_file(&s->bpf.paths, s->sb.slot, registry, sizeof(registry));
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(s, -errno, "watchdog pipe: %m");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return fail(s, -errno, "fork the watchdog: %m");
	}
	if (pid == 0) {
		close(p[1]);
		ring_release(s);	/* the monitor's mapping, copied by the fork */
		watchdog_main(p[0], s->sb.cgroup_path, registry, s->sb.uid, getppid(),
			      s->have_lim ? &s->lim : NULL);
	}
	close(p[0]);
	s->watchdog_fd = p[1];
	return 0;
}

static void stop_watchdog(struct run_state *s)
{
	if (s->watchdog_fd < 0)
		return;
	/* (if the byte is lost, the watchdog cleans up what teardown does anyway) */
	ssize_t n = write(s->watchdog_fd, "d", 1);

	(void)n;
	close(s->watchdog_fd);
	s->watchdog_fd = -1;
}

/* In the child: join the v1 cgroups of the limits (cgroup2 is clone3's job). */
static int child_setup(void *ctx)
{
	struct run_state *s = ctx;

	return s->have_lim ? sbx_limits_attach_self(&s->lim) : 0;
}

/* What the provider cannot make work here (provider.h unenforced): a
 * refusal under strict, in the form of the enforcement table's; a warning
 * and a degraded entry under best-effort. */
static int on_unenforced(void *ctx, const struct sbx_srcpos *pos, const char *msg)
{
	struct run_state *s = ctx;

	if (s->o->profile->enforcement == SBX_ENFORCE_STRICT) {
		s->refused = true;
		return fail_at(s, -EOPNOTSUPP, pos, msg);
	}
	fprintf(s->err, "sbx: warning: %s\n", msg);
	return note_degraded(s, "%s", msg);
}

/* -t: the pty the provider hands to the workload instead of the caller's
 * terminal; providers that cannot (the microVM guest has no terminal) are
 * refused by name. */
static int open_tty(struct run_state *s, struct sbx_spawn *sp)
{
	char why[256] = "";
	int r;

	if (!s->o->tty) {
		sbx_tty_modes_save(&s->caller_modes);
		return 0;
	}
	if (!s->o->provider->tty)
		return fail(s, -EOPNOTSUPP, "-t: provider %s cannot give the workload a terminal",
			    s->o->provider->name);
	r = sbx_tty_open(&s->tty, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "%s", why);
	s->have_tty = true;
	sp->tty = true;
	sp->tty_fd = s->tty.slave;
	return 0;
}

/* The tc programs and maps of a bandwidth rate, for the provider that makes
 * the sandbox's veth pair (kernel/netrate.h). */
static int open_rate(struct run_state *s, struct sbx_spawn *sp)
{
	const struct sbx_profile *p = s->o->profile;
	char why[512];
	int r;

	/* accounting starts clean whatever the slot's last sandbox left */
	r = sbx_sandbox_rate_reset(&s->bpf, s->sb.slot);
	if (r < 0)
		return fail(s, r, "clear the slot's rate entry: %s", strerror(-r));
	if (!p->egress_rate && !p->ingress_rate)
		return 0;
	s->rate = (struct sbx_netrate){ .egress_bps = p->egress_rate, .ingress_bps = p->ingress_rate,
					.burst = p->rate_burst, .rates_fd = s->bpf.rates_fd,
					.rate_ifs_fd = s->bpf.rate_ifs_fd };
	r = sbx_bpf_rate_progs(&s->bpf, &s->rate.prog_sandbox_fd, &s->rate.prog_host_fd, why,
			       sizeof(why));
	if (r < 0)
		return fail(s, r, "egress_rate/ingress_rate: %s", why);
	s->have_rate = true;
	sp->netrate = &s->rate;
	return 0;
}

/* --log: the file, and one pipe that becomes both stdout and stderr of the
 * workload (sbx_spawn.out_fd/err_fd), as `2>&1` would: the log keeps the
 * order in which the two were written (a write of up to PIPE_BUF bytes is
 * never split), which two pipes read in turn would not. */
static int open_log(struct run_state *s, struct sbx_spawn *sp)
{
	const struct sbx_run_opts *o = s->o;
	char why[PATH_MAX + 128] = "";
	int p[2], r;

	if (!o->log_path)
		return 0;
	if (o->tty)
		return fail(s, -EINVAL, "--log with -t: the pty's output is for the terminal "
			    "(run without -t to capture the output)");
	if (o->provider->relays_output)
		return fail(s, -EOPNOTSUPP, "--log: provider %s relays the workload's output "
			    "itself and cannot capture it to a log", o->provider->name);
	r = sbx_logfile_open(&s->log, o->log_path,
			     o->log_max_size ? o->log_max_size : SBX_LOG_MAX_SIZE_DEFAULT,
			     o->log_keep_set ? o->log_keep : SBX_LOG_KEEP_DEFAULT, why, sizeof(why));
	if (r < 0)
		return fail(s, r, "--log %s", why);
	s->have_log = true;
	s->res->has_log = true;
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(s, -errno, "--log: pipe: %m");
	s->log_rd = p[0];
	s->log_wr = p[1];
	if (fcntl(s->log_rd, F_SETFL, O_NONBLOCK) < 0)
		return fail(s, -errno, "--log: pipe: %m");
	sp->out_fd = sp->err_fd = s->log_wr;
	return 0;
}

/* One read of the output pipe into the log (at most LOG_CHUNK bytes). */
static void log_pump(struct run_state *s)
{
	static char buf[LOG_CHUNK];
	ssize_t n;

	if (s->log_rd < 0)
		return;
	n = read(s->log_rd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF: every holder of the write end is gone */
		close(s->log_rd);
		s->log_rd = -1;
		return;
	}
	/* a failed write is counted (log_unwritten); the sandbox goes on */
	sbx_logfile_append(&s->log, buf, (size_t)n);
}

/* After the sandbox was killed: what is left in the pipe, up to the EOF that
 * comes when the last of its processes is gone (bounded, in case a holder
 * outside the sandbox keeps it open). */
static void drain_log(struct run_state *s)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) / 1000000 + LOG_DRAIN_MS;

	while (s->log_rd >= 0) {
		struct pollfd p = { .fd = s->log_rd, .events = POLLIN };
		uint64_t now = now_ns(CLOCK_MONOTONIC) / 1000000;
		int r;

		if (now >= end)
			break;
		r = poll(&p, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		log_pump(s);
	}
}

static void close_log(struct run_state *s)
{
	if (s->log_wr >= 0)
		close(s->log_wr);
	if (s->log_rd >= 0)
		close(s->log_rd);
	s->log_wr = s->log_rd = -1;
	if (!s->have_log)
		return;
	s->res->log_bytes = s->log.written;
	s->res->log_unwritten = s->log.unwritten;
	sbx_logfile_close(&s->log);
	s->have_log = false;
}

/* sbx's own directories besides the run directory, which a root workload
 * may not write (struct sbx_spawn own_dirs): the audit log's, and sbxd's
 * state directory, which sbxd names in SBX_STATE_DIR for its monitors. */
static void own_dirs(char logdir[PATH_MAX], const char *ret[SBX_OWN_DIRS_MAX + 1])
{
	const char *state = getenv("SBX_STATE_DIR");
	size_t n = 0;
	char *slash;

	if (sbx_audit_log_path(logdir, PATH_MAX) == 0 && (slash = strrchr(logdir, '/')) &&
	    slash != logdir) {
		*slash = 0;
		ret[n++] = logdir;
	}
	if (state && state[0] == '/')
		ret[n++] = state;
	ret[n] = NULL;
}

/* The syscall tracepoints, if the sandbox's policy needs them (core/trace.h):
 * attached before the workload is spawned, so that none of its refusals goes
 * unaudited. What the audit needs is refused under strict when it cannot be
 * had, as an unenforceable rule is. */
static int trace_on(struct run_state *s)
{
	char why[1024] = "";
	int r = sbx_sandbox_trace(&s->sb, why, sizeof(why));

	if (r >= 0)
		return 0;
	if (s->o->profile->enforcement == SBX_ENFORCE_STRICT)
		return fail(s, r, "syscall audit (tp_btf/sys_enter and sys_exit, which report "
			    "refusals of seccomp and Landlock and observe mode): %s; refusing "
			    "under enforcement = \"strict\"", why);
	fprintf(s->err, "sbx: warning: syscall audit is off: %s\n", why);
	return note_degraded(s, "syscall audit (refusals of seccomp and Landlock are not "
			     "reported): %s", why);
}

/* Pooled (o->wait_go): wait for sbxd's go, which sets what varies per
 * start; the run's clock starts again from there. */
static int wait_go(struct run_state *s, struct sbx_spawn *sp)
{
	int r;

	if (!s->o->wait_go)
		return 0;
	r = s->o->wait_go(s->o->wait_go_ctx, s->sigfd, s->holding ? s->child.pidfd : -1);
	if (r < 0)
		return fail(s, r, "the pool entry was not handed out: %s", strerror(-r));
	sp->argv = s->o->argv;
	s->t0 = now_ns(CLOCK_MONOTONIC);
	return 0;
}

/* The provider's preparation, which depends on the profile alone: in a
 * pooled run it is done before the go. */
static int prepare(struct run_state *s, struct sbx_spawn *sp)
{
	const struct sbx_provider *pv = s->o->provider;
	char why[1024] = "";
	int r;

	r = pv->prepare(sp, &s->pstate, why, sizeof(why));
	if (r < 0 && s->refused)
		return r;
	if (r < 0)
		return fail(s, r, "provider %s: %s", pv->name, why);
	/* spawn.c installs it in every sandbox, observed ones too; observe
	 * reports by syscall number alone, so calls refused only for some
	 * arguments are left out of the set (docs/learn.md) */
	if (s->o->profile->observe)
		sbx_seccomp_observe_unmark((uint64_t *)sp->refused->bits, s->o->profile);
	else
		sbx_tty_guard_mark((uint64_t *)sp->refused->bits, sbx_io_uring_refused(s->o->profile));
	r = sbx_sandbox_set_syscalls(&s->sb, sp->refused);
	if (!r && *sp->policy_flags)
		r = sbx_sandbox_add_policy_flags(&s->sb, *sp->policy_flags);
	if (r < 0)
		return fail(s, r, "write the refused-syscall set: %s", strerror(-r));
	return 0;
}

/* After the workload's exec (or its failure): the ends the workload holds
 * now are closed here, and the sandbox is registered as running. */
static int exec_done(struct run_state *s, int r, const char *why)
{
	const struct sbx_provider *pv = s->o->provider;

	if (s->log_wr >= 0) {
		/* the workload holds it now: EOF once it and its children are gone */
		close(s->log_wr);
		s->log_wr = -1;
	}
	if (s->have_tty && s->tty.slave >= 0) {
		/* the workload holds it now: EIO on the master once it is gone */
		close(s->tty.slave);
		s->tty.slave = -1;
	}
	if (r < 0)
		return fail(s, r, "provider %s: %s", pv->name, why);
	if (!s->child.exec_errno)
		sbx_sandbox_register(&s->sb, s->o->profile->name, pv->name, s->child.pid, true);
	return 0;
}

/*
 * A pooled run whose provider can hold (provider.h go): before the go the
 * sandbox's init is started, builds the whole view and forks the
 * workload's process, which confines itself as a cold start's does
 * (identity, capabilities, no_new_privs, rlimits, Landlock) and then waits;
 * the go brings the command and its stdio, and it sets nofile, installs the
 * seccomp filter and execs (providers/process.c workload_main). Nothing of
 * the command's runs before the go and its whole confinement, and nothing
 * reaches the sandbox but the one message of sbx_child_go. -t is never pooled (sbxd starts those
 * cold: the pty is part of the view).
 */
static int spawn_held(struct run_state *s, struct sbx_spawn *sp)
{
	const struct sbx_provider *pv = s->o->provider;
	char why[1024] = "";
	int fds[3], r;

	r = start_watchdog(s);
	if (r < 0)
		return r;
	r = open_rate(s, sp);
	if (r < 0)
		return r;
	sp->held = true;
	sp->argv = NULL;
	s->holding = true;	/* the start event waits for the go */
	r = pv->spawn(s->pstate, sp, &s->child, why, sizeof(why));
	s->spawned = s->child.pidfd >= 0;
	if (r < 0)
		return fail(s, r, "provider %s: %s", pv->name, why);
	sbx_trace("provider spawn (held: the view built)");
	r = wait_go(s, sp);
	if (r < 0)
		return r;
	sbx_trace("wait for the go");
	s->holding = false;
	if (s->o->tty)
		return fail(s, -EINVAL, "-t: a held sandbox has no terminal (sbxd starts it cold)");
	r = emit_life(s, SBX_EV_SANDBOX_START, 0);
	if (r < 0)
		return fail(s, r, "the sandbox's start event: %s", strerror(-r));
	r = open_log(s, sp);
	if (r < 0)
		return r;
	r = trace_on(s);
	if (r < 0)
		return r;
	sbx_trace("log, syscall tracing");
	fds[0] = STDIN_FILENO;
	fds[1] = sp->out_fd > 2 ? sp->out_fd : STDOUT_FILENO;
	fds[2] = sp->err_fd > 2 ? sp->err_fd : STDERR_FILENO;
	r = pv->go(s->pstate, sp, fds, &s->child, why, sizeof(why));
	sbx_trace("provider go (until exec)");
	return exec_done(s, r, why);
}

static __attribute__((noinline)) int spawn(struct run_state *s)
{
	const struct sbx_provider *pv = s->o->provider;
	struct sbx_syscall_set refused = { 0 };
	const char *own[SBX_OWN_DIRS_MAX + 1];
	char logdir[PATH_MAX];
	uint32_t policy_flags = 0;
	struct sbx_spawn sp = { .id = s->sb.id, .profile = s->o->profile, .argv = s->o->argv,
				.cgroup_fd = s->sb.cgroup_fd, .cgroup_path = s->sb.cgroup_path,
				.run_dir = s->bpf.paths.run_dir, .own_dirs = own,
				.slot = s->sb.slot, .uid = s->sb.uid, .started = on_started, .started_ctx = s,
				.refused = &refused, .policy_flags = &policy_flags,
				.child_setup = child_setup, .child_setup_ctx = s,
				.landlock = s->o->profile->observe ? NULL : &s->fs.ll,	/* observe: fsaudit.h judges */
				.fs = &s->fs,
				.fs_backend = enforce_backend(s->fs.backend),
				.unenforced = on_unenforced, .unenforced_ctx = s };
	char why[1024] = "";
	int r;

	own_dirs(logdir, own);
	/* the compiled filter is kept in the instance's run directory */
	sbx_seccomp_cache_set_dir(s->bpf.paths.run_dir);
	r = prepare(s, &sp);
	if (r < 0)
		return r;
	sbx_trace("provider prepare, refused-syscall set");
	if (s->o->wait_go && pv->go)
		return spawn_held(s, &sp);
	r = wait_go(s, &sp);
	if (r < 0)
		return r;
	r = start_watchdog(s);
	if (r < 0)
		return r;
	r = open_tty(s, &sp);
	if (r < 0)
		return r;
	r = open_rate(s, &sp);
	if (r < 0)
		return r;
	/* after the watchdog's fork: it must not hold the pipe open */
	r = open_log(s, &sp);
	if (r < 0)
		return r;
	sbx_trace("watchdog, tty, rate, log");
	/* after the go: an idle pool entry keeps no tracing attached */
	r = trace_on(s);
	if (r < 0)
		return r;
	sbx_trace("syscall tracing");
	r = pv->spawn(s->pstate, &sp, &s->child, why, sizeof(why));
	sbx_trace("provider spawn (until exec)");
	s->spawned = s->child.pidfd >= 0;
	return exec_done(s, r, why);
}

static int tty_raw(struct run_state *s)
{
	char why[256] = "";
	int r = sbx_tty_make_raw(&s->tty, why, sizeof(why));

	return r < 0 ? fail(s, r, "%s", why) : 0;
}

#define IDLE_TRIM_MS 100	/* quiet this long after activity: trim again */
#define TRIM_SPACING_MS 1000	/* at most one idle trim a second: each reads smaps */

/* The idle trim of the wait loop: once the loop has been quiet for
 * IDLE_TRIM_MS after activity (the start, the workload's events, log
 * lines), sbx_trim_memory gives back the code and data that ran since (the
 * first time: all the start's), at most once every TRIM_SPACING_MS. A run
 * shorter than IDLE_TRIM_MS never pays for it. busy: poll reported
 * activity. Returns how long poll may wait. */
SBX_IDLE_PATH static int idle_trim_tick(struct run_state *s, uint64_t el, bool busy, int wait_ms)
{
	uint64_t due;

	if (busy) {
		due = el + IDLE_TRIM_MS;
		if (s->last_trim_ms && due < s->last_trim_ms + TRIM_SPACING_MS)
			due = s->last_trim_ms + TRIM_SPACING_MS;
		s->trim_due_ms = due;
	} else if (s->trim_due_ms && el >= s->trim_due_ms) {
		/* drained first: what came since the last wakeup is written
		 * before the ring's mapping goes */
		if (consume(s) >= 0 && !s->drain_pause)
			ring_release(s);
		sbx_trim_memory(true);
		s->trim_due_ms = 0;
		s->last_trim_ms = el ? el : 1;
	}
	if (s->trim_due_ms && (wait_ms < 0 || (uint64_t)wait_ms > s->trim_due_ms - el))
		wait_ms = (int)(s->trim_due_ms - el);
	return wait_ms;
}

SBX_IDLE_PATH static __attribute__((noinline)) int wait_loop(struct run_state *s, int *ret_status)
{
	const struct sbx_provider *pv = s->o->provider;
	uint64_t timeout = s->o->profile->timeout_ms, start = now_ns(CLOCK_MONOTONIC);
	uint64_t kill_at = 0;
	bool busy = true;	/* the start counts as activity: the first idle trim follows it */

	for (;;) {
		struct pollfd pfd[5 + SBX_TTY_NFDS] = {
			{ .fd = s->child.pidfd, .events = POLLIN },
			{ .fd = s->sigfd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },	/* the ring: below */
			{ .fd = s->log_rd, .events = POLLIN },	/* -1: ignored */
			{ .fd = s->have_dns ? sbx_dnsrun_fd(&s->dns) : -1, .events = POLLIN },
		};
		int n = 5 + (s->have_tty ? sbx_tty_pollfds(&s->tty, pfd + 5) : 0);
		uint64_t now = now_ns(CLOCK_MONOTONIC), el = (now - start) / 1000000;
		struct timespec ts, *tsp = NULL,
			pause = { .tv_nsec = s->ring_retry ? RING_RETRY_NS : AUDIT_DRAIN_PAUSE_NS };
		int wait_ms = -1;

		if (timeout && !s->res->timed_out && el >= timeout) {
			s->res->timed_out = true;
			sbx_cgroup_signal(s->sb.cgroup_path, SIGTERM);
			kill_at = el + TERM_GRACE_MS;
		}
		if (kill_at && el >= kill_at) {
			sbx_cgroup_kill(s->sb.cgroup_path);
			if (s->have_lim)
				sbx_limits_kill(&s->lim);
			kill_at = 0;
		}
		if (timeout && !s->res->timed_out)
			wait_ms = (int)(timeout - el);
		else if (kill_at)
			wait_ms = (int)(kill_at - el);
		wait_ms = audit_summary_tick(s, el, wait_ms);
		wait_ms = idle_trim_tick(s, el, busy, wait_ms);
		if (wait_ms >= 0) {
			ts = (struct timespec){ .tv_sec = wait_ms / 1000, .tv_nsec = wait_ms % 1000 * 1000000l };
			tsp = &ts;
		}
		/* after the summary tick, which drains the ring too */
		if (!s->drain_pause)
			pfd[2].fd = s->rb ? ring_buffer__epoll_fd(s->rb) : s->sb.ring_fd;
		else if (!tsp || ts.tv_sec || ts.tv_nsec > pause.tv_nsec)
			tsp = &pause;
		if (ppoll(pfd, (nfds_t)n, tsp, NULL) < 0 && errno != EINTR)
			return fail(s, -errno, "poll: %m");
		busy = s->drain_pause;	/* events keep coming: not idle */
		for (int i = 1; i < n; i++)
			busy |= pfd[i].revents != 0;
		if (s->have_tty)
			sbx_tty_relay(&s->tty, pfd + 5, n - 5);
		if (pfd[4].revents) {
			/* it forks the resolver again: not with the ring mapped */
			ring_release(s);
			sbx_dnsrun_reap(&s->dns);
		}
		if (pfd[3].revents)
			log_pump(s);
		if (pfd[2].revents || s->drain_pause)
			consume(s);
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGWINCH)
					sbx_tty_resize(&s->tty);
				else
					pv->signal(s->pstate, &s->child, (int)si.ssi_signo);
		}
		if (pfd[0].revents) {
			int r;

			if (s->have_tty)
				sbx_tty_drain(&s->tty);
			r = pv->wait(s->pstate, &s->child, ret_status);
			if (r != -EAGAIN || !pv->foreign)
				return r;
		}
	}
}

static uint64_t cgroup_cpu_us(const char *cg)
{
	char path[PATH_MAX + 16], key[64];
	unsigned long long v, us = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.stat", cg);
	f = fopen(path, "re");
	while (f && fscanf(f, "%63s %llu", key, &v) == 2)
		if (!strcmp(key, "usage_usec"))
			us = v;
	if (f)
		fclose(f);
	return us;
}

static int exit_code_of(struct run_state *s, int status)
{
	struct sbx_run_result *res = s->res;

	res->status_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (res->timed_out)
		return 124;
	if (res->signal)
		return 128 + res->signal;
	return res->status_code;
}

/* After the workload: stop stragglers, drain events, close the stream. */
static void finish(struct run_state *s, int status)
{
	struct sbx_run_result *res = s->res;
	struct rusage ru;

	struct sbx_usage u = { 0 };

	sbx_cgroup_kill(s->sb.cgroup_path);
	if (s->have_lim) {
		sbx_limits_kill(&s->lim);
		sbx_limits_read(&s->lim, &u);
	}
	/* what the workload and the stragglers just killed wrote before */
	drain_log(s);
	res->oom_killed = u.oom_killed;
	res->cpu_user_us = u.cpu_user_us;
	res->cpu_system_us = u.cpu_system_us;
	res->cpu_us = u.cpu_user_us + u.cpu_system_us;
	if (!res->cpu_us)
		res->cpu_us = cgroup_cpu_us(s->sb.cgroup_path);
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		res->peak_rss_kib = (uint64_t)ru.ru_maxrss;
	if (u.peak_memory_bytes)
		res->peak_rss_kib = u.peak_memory_bytes / 1024;
	consume(s);
	audit_summary(s);
	disk_check(s);
	/* the workload is gone: what was lost is known, and said before
	 * sandbox.exit, which is the last line of a sandbox */
	drop_report(s, true);
	emit_life(s, SBX_EV_SANDBOX_EXIT, status);
	consume(s);
	sbx_sandbox_stats(&s->bpf, s->sb.slot, &res->st, &res->drops);
	sbx_sandbox_rate(&s->bpf, s->sb.slot, &res->rate);
	/* every sequence number up to the last one handed out should have
	 * arrived, but those of the events the rate limits suppressed */
	uint64_t supp = res->st.suppressed_allow + res->st.suppressed_deny;
	uint64_t expected = res->st.seq > supp ? res->st.seq - supp : 0;

	res->seq_gaps = expected > res->events ? expected - res->events : 0;
}

static void teardown(struct run_state *s, sigset_t *old)
{
	if (s->spawned && s->child.pidfd >= 0) {
		int st;

		sbx_child_signal(&s->child, SIGKILL);
		s->o->provider->wait(s->pstate, &s->child, &st);
	}
	sbx_child_drop(&s->child);	/* a held init that never got its go */
	if (s->pstate || s->spawned)
		s->o->provider->cleanup(s->pstate);
	sbx_trace(" teardown: provider");
	if (s->have_rate) {
		/* the filters hold the programs */
		close(s->rate.prog_sandbox_fd);
		close(s->rate.prog_host_fd);
	}
	stop_watchdog(s);
	close_log(s);
	if (s->have_tty)
		sbx_tty_close(&s->tty);
	else
		sbx_tty_modes_restore(&s->caller_modes);
	if (s->have_dns)
		sbx_dnsrun_stop(&s->dns);
	ring_buffer__free(s->rb);
	json_buf_free(&s->abuf);
	sbx_trace(" teardown: watchdog, log, dns, ring");
	if (s->have_lim)
		sbx_limits_destroy(&s->lim);
	sbx_trace(" teardown: limits");
	if (s->have_sb)
		sbx_sandbox_destroy(&s->sb);
	if (s->have_bpf)
		sbx_bpf_close(&s->bpf);
	sbx_resolved_free(&s->rs);
	if (s->have_fs)
		sbx_fsplan_free(&s->fs);
	sbx_auditlog_close(&s->alog);
	if (s->audit_fd >= 0)
		close(s->audit_fd);
	if (s->res->has_journal)
		sbx_journal_close(&s->journal);
	if (s->sigfd >= 0)
		close(s->sigfd);
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* The state lives in fresh anonymous pages, not on the stack: zeroed by
 * the kernel, a page of it is resident only once used (most of the limits'
 * and tty's buffers never are), for the monitor's whole life. */
static struct run_state *run_state_new(const struct sbx_run_opts *o, struct sbx_run_result *res,
				       FILE *err_out)
{
	struct run_state *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		return NULL;
	s->o = o;
	s->res = res;
	s->err = err_out;
	s->sigfd = s->watchdog_fd = s->audit_fd = s->log_rd = s->log_wr = -1;
	s->alog.dirfd = s->alog.lockfd = s->alog.fd = -1;
	s->child.pid = s->child.pidfd = -1;
	s->child.cmd_fd = s->child.report_fd = -1;
	return s;
}

int sbx_run(const struct sbx_run_opts *o, struct sbx_run_result *res, FILE *err_out)
{
	struct run_state *s;
	int status = 0, code = 125, r;
	sigset_t old;

	memset(res, 0, sizeof(*res));
	s = run_state_new(o, res, err_out);
	if (!s) {
		fprintf(err_out, "sbx: error: %s\n", strerror(errno));
		res->failed = true;
		res->exit_code = code;
		return code;
	}
	s->t0 = now_ns(CLOCK_MONOTONIC);
	sigprocmask(SIG_SETMASK, NULL, &old);
	r = setup(s);
	if (!r)
		r = setup_signals(s, &old);
	if (!r)
		r = spawn(s);
	if (!r && s->child.exec_errno) {
		res->exec_failed = true;
		fprintf(s->err, "sbx: error: %s: %s\n", o->argv[0], strerror(s->child.exec_errno));
		code = s->child.exec_errno == ENOENT ? 127 : 126;
	}
	if (!r && s->have_tty)
		r = tty_raw(s);
	if (!r)
		sbx_trim_memory(false);	/* setup's heap and stack; the rest once idle */
	if (!r)
		r = wait_loop(s, &status);
	sbx_trace("workload");
	if (!r) {
		finish(s, status);
		if (!res->exec_failed)
			code = exit_code_of(s, status);
	}
	res->exit_code = code;
	res->failed = r < 0;
	res->wall_ns = now_ns(CLOCK_MONOTONIC) - s->t0;
	sbx_trace("finish (drain, stats)");
	if (o->finished && !res->failed) {
		close_log(s);	/* its byte counts are in the result */
		o->finished(o->finished_ctx, res);
		sbx_trace("finished (result out)");
	}
	teardown(s, &old);
	sbx_trace("teardown");
	sbx_policy_free(s->upd_pol);
	munmap(s, sizeof(*s));
	return code;
}

void sbx_run_result_free(struct sbx_run_result *r)
{
	for (size_t i = 0; i < r->n_degraded; i++)
		free(r->degraded[i]);
	free(r->degraded);
	r->degraded = NULL;
	r->n_degraded = 0;
}
