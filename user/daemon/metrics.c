/* SPDX-License-Identifier: MIT */
/*
 * sbxd's Prometheus series (docs/monitoring.md lists each one): the
 * daemon's own counters, kept here since sbxd started, and per sandbox of
 * the registry what its BPF maps (sbx_stats, sbx_drops), its cgroups and
 * its monitor's counters file (core/counters.h) say at the time of the
 * scrape. A sandbox's series exist while it is in the registry: Remove
 * ends them, so the label sets are bounded by max_sandboxes.
 *
 * Who sees what: the HTTP endpoint (metrics_listen) and root or an
 * admin_groups member over the API see every sandbox; another caller sees
 * the per-sandbox series of its own sandboxes only, and the daemon-wide
 * series (counts, not names).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bpfload.h"
#include "core/counters.h"
#include "core/instance.h"
#include "core/sandbox.h"
#include "daemon/daemon.h"
#include "kernel/limits.h"
#include "util/prom.h"

/* seconds: a host sandbox starts in tens of ms, a microVM in seconds */
static const double latency_bounds[SBXD_LATENCY_BUCKETS] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void sbxd_metrics_spawned(struct sbxd_sandbox *sb)
{
	if (!sb->start_req_us)
		sb->start_req_us = mono_us();	/* a restart: from its spawn */
	sb->start_pending = true;
	sbxd_tick_on(sb->d);	/* the tick sees it running (sbxd_metrics_check) */
}

void sbxd_metrics_failed(struct sbxd_sandbox *sb)
{
	sb->d->metrics.failed++;
	sb->start_pending = false;
	sb->start_req_us = 0;
}

static void observe(struct sbxd *d, double s)
{
	size_t i = 0;

	while (i < SBXD_LATENCY_BUCKETS && s > latency_bounds[i])
		i++;
	d->metrics.latency[i]++;
	d->metrics.latency_sum += s;
}

/* Started means registered by its monitor with the workload's command
 * executed (a command that cannot run is a failed start, however long the
 * monitor takes to report it). */
void sbxd_metrics_check(struct sbxd *d)
{
	for (struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next) {
		struct sbx_sandbox_info info;

		if (!sb->start_pending || sb->state != SBXD_RUNNING || sbxd_sandbox_locate(sb, &info) < 0 ||
		    !info.exec_done)
			continue;
		observe(d, (double)(mono_us() - sb->start_req_us) / 1e6);
		d->metrics.started++;
		sb->start_pending = false;
		sb->start_req_us = 0;
	}
}

/* Ended before the tick saw it running: sbx's own failures (125 setup,
 * 126/127 the command could not run) are failed starts; anything else
 * ran, too briefly for a latency. */
void sbxd_metrics_exited(struct sbxd_sandbox *sb)
{
	if (!sb->start_pending)
		return;
	if (sb->exit_code >= 125 && sb->exit_code <= 127 && !sb->signal) {
		sbxd_metrics_failed(sb);
		return;
	}
	sb->d->metrics.started++;
	sb->start_pending = false;
	sb->start_req_us = 0;
}

/* ---- the scrape ---- */

struct sample {
	const struct sbxd_sandbox *sb;
	char provider[32];
	bool live;			/* registered: the numbers below are read */
	struct sbx_stats st;
	struct sbx_drops dr;
	struct sbx_usage u;
	struct sbx_monitor_counters mc;
};

struct scrape {
	struct sample *v;
	size_t n;
	size_t running;			/* of all sandboxes, not only those shown */
};

static void read_live(struct sample *s, const struct sbx_instance *in, struct sbx_bpf *b,
		      bool have_bpf, const struct sbx_sandbox_info *info)
{
	struct sbx_limits *l = calloc(1, sizeof(*l));

	s->live = true;
	if (info->provider[0])
		snprintf(s->provider, sizeof(s->provider), "%s", info->provider);
	if (have_bpf)
		sbx_sandbox_stats(b, info->slot, &s->st, &s->dr);
	if (l && sbx_limits_open(l, in->name, info->id, info->cgroup) == 0)
		sbx_limits_read(l, &s->u);
	free(l);
	sbx_counters_read(in, info->slot, info->id, &s->mc);	/* none yet: zeros */
}

static int collect(struct sbxd *d, const struct vl_peer *peer, struct scrape *sc)
{
	struct sbx_sandbox_info *reg = NULL;
	struct sbx_instance in;
	struct sbx_bpf b;
	bool have_bpf;
	char why[256];
	size_t n = 0;

	memset(sc, 0, sizeof(*sc));
	if (sbx_instance_get(&in) < 0 || sbx_sandbox_list(&in, &reg, &n) < 0)
		n = 0;
	sc->v = calloc(d->n_sandboxes + 1, sizeof(*sc->v));
	if (!sc->v) {
		free(reg);
		return -ENOMEM;
	}
	have_bpf = n && sbx_bpf_adopt(&b, why, sizeof(why)) == 0;
	for (struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next) {
		const struct sbx_sandbox_info *info = sb->state == SBXD_RUNNING ?
			sbxd_sandbox_match(sb, reg, n) : NULL;
		struct sample *s;

		if (info)
			sc->running++;
		if (peer && !sbxd_may_see(d, peer, sb))
			continue;
		s = &sc->v[sc->n++];
		s->sb = sb;
		snprintf(s->provider, sizeof(s->provider), "%s", sb->provider ? sb->provider : "");
		if (info)
			read_live(s, &in, &b, have_bpf, info);
	}
	if (have_bpf)
		sbx_bpf_close(&b);
	free(reg);
	return 0;
}

typedef uint64_t (*value_fn)(const struct sample *s);

struct family {
	const char *name, *type, *help;
	value_fn get;
	bool all;			/* every sandbox of the registry, not only the live ones */
};

#define V(fn, expr) static uint64_t fn(const struct sample *s) { return (expr); }
V(v_running, s->live)
V(v_rx, s->st.bytes_in)
V(v_tx, s->st.bytes_out)
V(v_conn_ok, s->st.connect_allowed)
V(v_conn_no, s->st.connect_denied)
V(v_net_no, s->mc.net_denials)
V(v_file_no, s->mc.file_denials)
V(v_exec_no, s->mc.exec_denials)
V(v_sys_no, s->mc.syscall_denials)
V(v_mem, s->u.memory_bytes)
V(v_peak, s->u.peak_memory_bytes)
V(v_oom, s->u.oom_kills)
V(v_emitted, s->st.seq)
V(v_read, s->mc.events)
V(v_written, s->mc.events > s->mc.unwritten ? s->mc.events - s->mc.unwritten : 0)
V(v_ring, s->dr.ring)
V(v_global, s->dr.global)
V(v_consumer, s->mc.unwritten)
V(v_suppressed, s->st.suppressed_allow + s->st.suppressed_deny)
#undef V

static const struct family families[] = {
	{ "sbx_sandbox_running", "gauge",
	  "1 while the sandbox's workload runs, 0 once it ended (until Remove).", v_running, true },
	{ "sbx_sandbox_network_receive_bytes_total", "counter",
	  "Bytes the sandbox received over the network.", v_rx, false },
	{ "sbx_sandbox_network_transmit_bytes_total", "counter",
	  "Bytes the sandbox sent over the network.", v_tx, false },
	{ "sbx_sandbox_connects_allowed_total", "counter",
	  "connect(2) calls the network policy allowed.", v_conn_ok, false },
	{ "sbx_sandbox_connects_denied_total", "counter",
	  "connect(2) calls the network policy denied.", v_conn_no, false },
	{ "sbx_sandbox_network_denials_total", "counter",
	  "Network denial events (connect, send, bind, socket, unix, sockopt, quota, packet) "
	  "the monitor read.", v_net_no, false },
	{ "sbx_sandbox_file_denials_total", "counter",
	  "File access denial events the monitor read (execs aside).", v_file_no, false },
	{ "sbx_sandbox_exec_denials_total", "counter",
	  "Exec and mmap(PROT_EXEC) denial events the monitor read.", v_exec_no, false },
	{ "sbx_sandbox_syscall_denials_total", "counter",
	  "Syscalls the sandbox's seccomp filter refused, as events the monitor read.", v_sys_no, false },
	{ "sbx_sandbox_memory_bytes", "gauge", "Memory the sandbox's cgroup uses now.", v_mem, false },
	{ "sbx_sandbox_memory_peak_bytes", "gauge",
	  "The most memory the sandbox's cgroup used (0 when the kernel does not report it).", v_peak, false },
	{ "sbx_sandbox_cpu_seconds_total", "counter", "CPU time of the sandbox's processes.", NULL, false },
	{ "sbx_sandbox_oom_kills_total", "counter",
	  "Processes of the sandbox the OOM killer killed.", v_oom, false },
	{ "sbx_sandbox_audit_events_emitted_total", "counter",
	  "Audit events the kernel side numbered for the sandbox (sequence numbers handed out).",
	  v_emitted, false },
	{ "sbx_sandbox_audit_events_read_total", "counter",
	  "Audit events the monitor read from the sandbox's ring buffer.", v_read, false },
	{ "sbx_sandbox_audit_events_written_total", "counter",
	  "Audit events the monitor wrote to the audit log.", v_written, false },
	{ "sbx_sandbox_audit_ring_drops_total", "counter",
	  "Audit events lost because the sandbox's ring buffer was full (sbx_drops.ring).", v_ring, false },
	{ "sbx_sandbox_audit_global_ring_drops_total", "counter",
	  "Copies of audit events lost because the instance's global ring was full (sbx_drops.global).",
	  v_global, false },
	{ "sbx_sandbox_audit_consumer_drops_total", "counter",
	  "Audit lines read but lost by a sink (a failed write, a full disk).", v_consumer, false },
	{ "sbx_sandbox_audit_suppressed_total", "counter",
	  "Audit events the per-sandbox rate limits kept out of the ring buffer.", v_suppressed, false },
};

static void emit_family(FILE *f, const struct family *fa, const struct scrape *sc)
{
	bool any = false;

	for (size_t i = 0; i < sc->n; i++) {
		const struct sample *s = &sc->v[i];
		const struct prom_label l[] = {
			{ "sandbox", s->sb->name }, { "profile", s->sb->profile }, { "provider", s->provider },
		};

		if (!s->live && !fa->all)
			continue;
		if (!any)
			prom_family(f, fa->name, fa->type, fa->help);
		any = true;
		if (fa->get)
			prom_sample_u64(f, fa->name, l, 3, fa->get(s));
		else	/* CPU time is the one in seconds with a fraction */
			prom_sample_double(f, fa->name, l, 3,
					   (double)(s->u.cpu_user_us + s->u.cpu_system_us) / 1e6);
	}
}

/* The warm pools (pool.c), one sample per pool.PROFILE of the configuration. */
static void emit_pools(FILE *f, const struct sbxd *d)
{
	static const struct { const char *name, *type, *help; } fams[] = {
		{ "sbx_pool_size", "gauge", "Entries a warm pool keeps (pool.PROFILE = N)." },
		{ "sbx_pool_ready", "gauge", "Entries of a warm pool built and waiting for a start." },
		{ "sbx_pool_hits_total", "counter", "Starts that took a warm pool's entry." },
		{ "sbx_pool_misses_total", "counter",
		  "Starts of a pool's key (its profile, by root, no overrides) that found no entry "
		  "ready and started cold." },
		{ "sbx_pool_failures_total", "counter", "Pool entries whose setup failed." },
	};

	if (!d->n_pools)
		return;
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		prom_family(f, fams[k].name, fams[k].type, fams[k].help);
		for (size_t i = 0; i < d->n_pools; i++) {
			const struct sbxd_pool *p = &d->pools[i];
			const struct prom_label l[] = { { "profile", p->profile } };
			uint64_t v[] = { p->size, p->n_ready, p->hits, p->misses, p->failures };

			prom_sample_u64(f, fams[k].name, l, 1, v[k]);
		}
	}
}

static void emit_daemon(FILE *f, const struct sbxd *d, const struct scrape *sc)
{
	prom_family(f, "sbx_sandboxes_running", "gauge",
		    "Sandboxes of sbxd whose workload runs now (all users).");
	prom_sample_u64(f, "sbx_sandboxes_running", NULL, 0, sc->running);
	prom_family(f, "sbx_sandboxes", "gauge", "Sandboxes in sbxd's registry (all users).");
	prom_sample_u64(f, "sbx_sandboxes", NULL, 0, d->n_sandboxes);
	prom_family(f, "sbx_sandboxes_started_total", "counter",
		    "Sandbox starts (Start, Run and restarts) that reached running, since sbxd started.");
	prom_sample_u64(f, "sbx_sandboxes_started_total", NULL, 0, d->metrics.started);
	prom_family(f, "sbx_sandboxes_failed_total", "counter",
		    "Sandbox starts that failed (the monitor could not be spawned, or sbx exited "
		    "125-127 before the sandbox ran), since sbxd started.");
	prom_sample_u64(f, "sbx_sandboxes_failed_total", NULL, 0, d->metrics.failed);
	prom_family(f, "sbx_sandbox_start_duration_seconds", "histogram",
		    "Time from a Start or Run request (or a restart's spawn) to the sandbox running.");
	prom_histogram(f, "sbx_sandbox_start_duration_seconds", NULL, 0, latency_bounds,
		       d->metrics.latency, SBXD_LATENCY_BUCKETS, d->metrics.latency_sum);
	emit_pools(f, d);
}

#define SBXD_METRICS_CACHE_MS 1000

/* What a scrape's text depends on that sbxd itself changes: its
 * sandboxes, their states and restarts, its counters. */
static uint64_t fingerprint(const struct sbxd *d)
{
	uint64_t h = 1469598103934665603ull;

#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ull)
	MIX(d->metrics.started);
	MIX(d->metrics.failed);
	for (size_t i = 0; i < d->n_pools; i++) {
		MIX(d->pools[i].n_ready);
		MIX(d->pools[i].hits);
		MIX(d->pools[i].misses);
		MIX(d->pools[i].failures);
	}
	for (const struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next) {
		MIX((uintptr_t)sb);
		MIX(sb->state);
		MIX(sb->restarts);
		MIX(sb->monitor);
	}
#undef MIX
	return h;
}

static int from_cache(const struct sbxd *d, uint64_t fp, char **ret, size_t *ret_len)
{
	char *t;

	if (!d->metrics.cache || d->metrics.cache_fp != fp ||
	    mono_us() - d->metrics.cache_us >= SBXD_METRICS_CACHE_MS * 1000ull)
		return -ENOENT;
	t = malloc(d->metrics.cache_len + 1);
	if (!t)
		return -ENOMEM;
	memcpy(t, d->metrics.cache, d->metrics.cache_len + 1);
	*ret = t;
	*ret_len = d->metrics.cache_len;
	return 0;
}

static void to_cache(struct sbxd *d, uint64_t fp, const char *text, size_t len)
{
	char *t = malloc(len + 1);

	if (!t)
		return;
	memcpy(t, text, len + 1);
	free(d->metrics.cache);
	d->metrics.cache = t;
	d->metrics.cache_len = len;
	d->metrics.cache_us = mono_us();
	d->metrics.cache_fp = fp;
}

void sbxd_metrics_free(struct sbxd *d)
{
	free(d->metrics.cache);
	d->metrics.cache = NULL;
}

static int render(struct sbxd *d, const struct vl_peer *peer, char **ret, size_t *ret_len);

/* peer NULL: everything (the endpoint, an admin), maybe the cached text. */
int sbxd_metrics_text(struct sbxd *d, const struct vl_peer *peer, char **ret, size_t *ret_len)
{
	uint64_t fp;
	int r;

	if (peer)
		return render(d, peer, ret, ret_len);
	fp = fingerprint(d);
	r = from_cache(d, fp, ret, ret_len);
	if (r != -ENOENT)
		return r;
	r = render(d, NULL, ret, ret_len);
	if (r == 0)
		to_cache(d, fp, *ret, *ret_len);
	return r;
}

static int render(struct sbxd *d, const struct vl_peer *peer, char **ret, size_t *ret_len)
{
	struct scrape sc;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	r = collect(d, peer, &sc);
	if (r < 0)
		return r;
	f = open_memstream(&buf, &len);
	if (!f) {
		free(sc.v);
		return -errno;
	}
	emit_daemon(f, d, &sc);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		emit_family(f, &families[i], &sc);
	free(sc.v);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}
