/* SPDX-License-Identifier: MIT */
/* `sbx ps`, `sbx stats`, `sbx kill` and `sbx unload`: the live state. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/daemon.h"
#include "core/counters.h"
#include "core/sandbox.h"
#include "kernel/limits.h"

#define HELP_JSON \
	"  -j, --json      print JSON on stdout\n" \
	"  -p, --pretty    indent the JSON output; implies --json\n" \
	"  -h, --help      show this help\n"

/* Parses a verb without options of its own. Returns 0 to go on, or the exit
 * status to return at once (after --help, or on a usage error). */
static int no_options(const struct cli_verb *self, int argc, char **argv, struct cli_parser *a,
		      int max_args)
{
	int r;

	cli_parser_init(a, self, argc, argv);
	r = cli_next_option(a);
	if (r < 0)
		return cli_parse_exit(r) == 0 ? -1 : cli_parse_exit(r);
	if (a->n_args > max_args)
		return cli_usage(self, "unexpected argument '%s'", a->args[max_args]);
	return 0;
}

/* no_options() said stop: -1 means --help was printed (exit 0). */
#define NO_OPTIONS_EXIT(r) ((r) < 0 ? SBX_EXIT_OK : (r))

void cli_json_rate(struct json_writer *w, const struct sbx_rate *r)
{
	static const char *const dirs[] = { [SBX_RATE_EGRESS] = "egress",
					    [SBX_RATE_INGRESS] = "ingress" };

	json_key(w, "rate");
	json_begin_object(w);
	for (int i = 0; i < 2; i++) {
		const struct sbx_rate_state *d = &r->dir[i];

		if (!d->bytes_per_sec) {
			json_kv_null(w, dirs[i]);
			continue;
		}
		json_key(w, dirs[i]);
		json_begin_object(w);
		json_kv_uint(w, "limit_bps", d->bytes_per_sec * 8);
		json_kv_string(w, "backend", d->flags & SBX_RATEF_TBF ? "tbf" : "edt");
		json_kv_uint(w, "burst_bytes", d->burst_ns * d->bytes_per_sec / 1000000000ull);
		json_kv_uint(w, "bytes", d->bytes);
		json_kv_uint(w, "packets", d->packets);
		json_kv_uint(w, "packets_dropped", d->drops);
		json_end_object(w);
	}
	json_end_object(w);
}

static void rate_text(const struct sbx_rate *r)
{
	static const char *const dirs[] = { "egress", "ingress" };

	for (int i = 0; i < 2; i++) {
		const struct sbx_rate_state *d = &r->dir[i];

		if (!d->bytes_per_sec)
			printf("%-17s unlimited\n", dirs[i]);
		else
			printf("%-17s %llu bit/s (%s): %llu bytes, %llu packets, %llu dropped over the horizon\n",
			       dirs[i], (unsigned long long)d->bytes_per_sec * 8,
			       d->flags & SBX_RATEF_TBF ? "tbf" : "edt",
			       (unsigned long long)d->bytes, (unsigned long long)d->packets,
			       (unsigned long long)d->drops);
	}
}

static void stats_json(struct json_writer *w, const struct sbx_stats *st, const struct sbx_drops *d)
{
	json_kv_uint(w, "connect_allowed", st->connect_allowed);
	json_kv_uint(w, "connect_denied", st->connect_denied);
	json_kv_uint(w, "send_allowed", st->send_allowed);
	json_kv_uint(w, "send_denied", st->send_denied);
	json_kv_uint(w, "bind_allowed", st->bind_allowed);
	json_kv_uint(w, "bind_denied", st->bind_denied);
	json_kv_uint(w, "socket_denied", st->sock_denied);
	json_kv_uint(w, "bytes_in", st->bytes_in);
	json_kv_uint(w, "bytes_out", st->bytes_out);
	json_kv_uint(w, "packets_in", st->packets_in);
	json_kv_uint(w, "packets_out", st->packets_out);
	json_kv_uint(w, "packets_dropped", st->packets_dropped);
	json_kv_uint(w, "quota_hits", st->quota_hits);
	json_kv_uint(w, "events", st->seq);
	json_kv_uint(w, "events_dropped", d->ring);
	json_kv_uint(w, "global_events_dropped", d->global);
	json_kv_uint(w, "events_suppressed_allow", st->suppressed_allow);
	json_kv_uint(w, "events_suppressed_deny", st->suppressed_deny);
}

/* What the sandbox's monitor counted (core/counters.h); zeros before its
 * first publication. */
static struct sbx_monitor_counters read_monitor(const struct sbx_sandbox_info *in)
{
	struct sbx_monitor_counters mc = { 0 };
	struct sbx_instance p;

	if (sbx_instance_get(&p) == 0 && sbx_counters_read(&p, in->slot, in->id, &mc) < 0)
		memset(&mc, 0, sizeof(mc));
	return mc;
}

static void monitor_json(struct json_writer *w, const struct sbx_monitor_counters *mc)
{
	json_kv_uint(w, "events_read", mc->events);
	json_kv_uint(w, "events_unwritten", mc->unwritten);
	json_kv_uint(w, "network_denials", mc->net_denials);
	json_kv_uint(w, "file_denials", mc->file_denials);
	json_kv_uint(w, "exec_denials", mc->exec_denials);
	json_kv_uint(w, "syscall_denials", mc->syscall_denials);
}

/* Memory, CPU time and tasks from the sandbox's cgroups (cgroup2, or the v1
 * hierarchies of a hybrid host); has_* false where no controller reports it. */
static int read_usage(const struct sbx_sandbox_info *in, struct sbx_usage *u)
{
	struct sbx_instance p;
	struct sbx_limits *l;
	int r;

	*u = (struct sbx_usage){ 0 };
	r = sbx_instance_get(&p);
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));	/* PATH_MAX per hierarchy: not for the stack */
	if (!l)
		return -ENOMEM;
	r = sbx_limits_open(l, p.name, in->id, in->cgroup);
	if (r == 0)
		r = sbx_limits_read(l, u);
	free(l);
	return r;
}

static void json_kv_known(struct json_writer *w, const char *key, bool known, uint64_t v)
{
	if (known)
		json_kv_uint(w, key, v);
	else
		json_kv_null(w, key);
}

static void usage_json(struct json_writer *w, const struct sbx_usage *u)
{
	json_kv_known(w, "memory_bytes", u->has_memory, u->memory_bytes);
	json_kv_known(w, "memory_peak_bytes", u->peak_memory_bytes > 0, u->peak_memory_bytes);
	json_kv_known(w, "cpu_user_ms", u->has_cpu, u->cpu_user_us / 1000);
	json_kv_known(w, "cpu_system_ms", u->has_cpu, u->cpu_system_us / 1000);
	json_kv_known(w, "pids", u->has_pids, u->pids);
}

/* "12.5 MiB"; "-" when unknown. */
static const char *fmt_bytes(bool known, uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	unsigned i = 0;

	if (!known)
		return "-";
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", d, units[i]);
	return buf;
}

static void usage_text(const struct sbx_usage *u)
{
	char now[32], peak[32];

	printf("memory            %s now, %s peak\n", fmt_bytes(u->has_memory, u->memory_bytes, now, sizeof(now)),
	       fmt_bytes(u->peak_memory_bytes > 0, u->peak_memory_bytes, peak, sizeof(peak)));
	if (u->has_cpu)
		printf("cpu time          %.3f s (%.3f user, %.3f system)\n",
		       (double)(u->cpu_user_us + u->cpu_system_us) / 1e6, (double)u->cpu_user_us / 1e6,
		       (double)u->cpu_system_us / 1e6);
	else
		printf("cpu time          -\n");
	if (u->has_pids)
		printf("pids              %llu\n", (unsigned long long)u->pids);
	else
		printf("pids              -\n");
}

/* The use of the process provider's /tmp (with disk = ..., the quota that
 * /tmp and /dev/shm share), read through the sandbox init's root. */
struct disk_use {
	bool known;
	uint64_t used, size;
};

#define TMPFS_MAGIC_ 0x01021994

static struct disk_use read_disk(const struct sbx_sandbox_info *in)
{
	struct disk_use d = { 0 };
	char path[64];
	struct statfs sf;

	if (strcmp(in->provider, "process") || in->workload_pid <= 0)
		return d;
	snprintf(path, sizeof(path), "/proc/%d/root/tmp", (int)in->workload_pid);
	if (statfs(path, &sf) < 0 || sf.f_type != TMPFS_MAGIC_)
		return d;
	d.known = true;
	d.size = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
	d.used = (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
	return d;
}

static void disk_json(struct json_writer *w, struct disk_use d)
{
	json_kv_known(w, "disk_used_bytes", d.known, d.used);
	json_kv_known(w, "disk_limit_bytes", d.known, d.size);
}

static void disk_text(struct disk_use d)
{
	char used[32], size[32];

	if (!d.known) {
		printf("disk (/tmp)       -\n");
		return;
	}
	printf("disk (/tmp)       %s of %s\n", fmt_bytes(d.known, d.used, used, sizeof(used)),
	       fmt_bytes(d.known, d.size, size, sizeof(size)));
}

static void info_json(struct json_writer *w, const struct sbx_sandbox_info *in)
{
	json_kv_string(w, "id", in->id);
	json_kv_uint(w, "slot", in->slot);
	json_kv_string(w, "profile", in->profile);
	json_kv_string(w, "provider", in->provider);
	json_kv_int(w, "pid", in->workload_pid);
	json_kv_int(w, "manager_pid", in->owner_pid);
	json_kv_string(w, "cgroup", in->cgroup);
	json_kv_uint(w, "started_ns", in->started_ns);
}

static int open_state(struct sbx_bpf *b, bool *loaded)
{
	char why[512];
	int r = sbx_bpf_adopt(b, why, sizeof(why));

	*loaded = r == 0;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_error("%s", why);
	return 0;
}

static int ps_run(const struct cli_verb *self, int argc, char **argv)
{
	struct sbx_sandbox_info *v = NULL;
	struct cli_parser a;
	struct json_writer w;
	struct sbx_bpf b;
	size_t n = 0;
	bool loaded;
	int r;

	if ((r = no_options(self, argc, argv, &a, 0)))
		return NO_OPTIONS_EXIT(r);
	if (open_state(&b, &loaded) < 0)
		return SBX_EXIT_FAILURE;
	if (loaded && sbx_sandbox_list(&b.paths, &v, &n) < 0)
		n = 0;
	if (cli_opts.json) {
		cli_json_begin(&w);
		json_begin_object(&w);
		json_kv_bool(&w, "loaded", loaded);
		json_key(&w, "sandboxes");
		json_begin_array(&w);
	} else {
		printf("%-13s %5s %-28s %-8s %8s %9s %9s %12s %12s\n", "ID", "SLOT", "PROFILE",
		       "PROVIDER", "PID", "CONN-OK", "DENIED", "BYTES-IN", "BYTES-OUT");
	}
	for (size_t i = 0; i < n; i++) {
		struct sbx_stats st = { 0 };
		struct sbx_drops d = { 0 };

		sbx_sandbox_stats(&b, v[i].slot, &st, &d);
		if (cli_opts.json) {
			struct sbx_monitor_counters mc = read_monitor(&v[i]);

			json_begin_object(&w);
			info_json(&w, &v[i]);
			stats_json(&w, &st, &d);
			monitor_json(&w, &mc);
			json_end_object(&w);
			continue;
		}
		printf("%-13s %5u %-28.28s %-8s %8d %9llu %9llu %12llu %12llu\n", v[i].id, v[i].slot,
		       v[i].profile, v[i].provider, (int)v[i].workload_pid,
		       (unsigned long long)(st.connect_allowed + st.send_allowed),
		       (unsigned long long)(st.connect_denied + st.send_denied + st.bind_denied + st.sock_denied),
		       (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out);
	}
	if (loaded)
		sbx_bpf_close(&b);
	free(v);
	if (cli_opts.json) {
		json_end_array(&w);
		json_end_object(&w);
		return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
	}
	return SBX_EXIT_OK;
}

static int find_one(const struct cli_verb *self, struct cli_parser *a, struct sbx_sandbox_info *in)
{
	struct sbx_instance p;
	int r;

	if (a->n_args != 1)
		return cli_usage(self, "expected exactly one sandbox ID");
	if (sbx_instance_get(&p) < 0)
		return log_error("invalid SBX_INSTANCE"), SBX_EXIT_FAILURE;
	r = sbx_sandbox_lookup(&p, a->args[0], in);
	if (r == -ENOTUNIQ)
		return log_error("'%s' matches several sandboxes; give more of the ID", a->args[0]), SBX_EXIT_FAILURE;
	if (r < 0)
		return log_error("no running sandbox '%s' (see sbx ps)", a->args[0]), SBX_EXIT_FAILURE;
	return 0;
}

static int stats_run(const struct cli_verb *self, int argc, char **argv)
{
	struct sbx_sandbox_info in;
	struct sbx_usage u;
	struct sbx_stats st;
	struct sbx_drops d;
	struct sbx_rate rate = { 0 };
	struct sbx_monitor_counters mc;
	struct cli_parser a;
	struct json_writer w;
	struct sbx_bpf b;
	char why[512];
	int r;

	if ((r = no_options(self, argc, argv, &a, 1)))
		return NO_OPTIONS_EXIT(r);
	if ((r = find_one(self, &a, &in)))
		return r;
	if (sbx_bpf_adopt(&b, why, sizeof(why)) < 0)
		return log_error("%s", why), SBX_EXIT_FAILURE;
	r = sbx_sandbox_stats(&b, in.slot, &st, &d);
	sbx_sandbox_rate(&b, in.slot, &rate);
	sbx_bpf_close(&b);
	if (r < 0)
		return log_error_errno(r, "read counters: %m"), SBX_EXIT_FAILURE;
	r = read_usage(&in, &u);
	if (r < 0)
		return log_error_errno(r, "read the cgroup usage of %s: %m", in.id), SBX_EXIT_FAILURE;
	mc = read_monitor(&in);
	if (cli_opts.json) {
		cli_json_begin(&w);
		json_begin_object(&w);
		info_json(&w, &in);
		usage_json(&w, &u);
		disk_json(&w, read_disk(&in));
		stats_json(&w, &st, &d);
		monitor_json(&w, &mc);
		cli_json_rate(&w, &rate);
		json_end_object(&w);
		return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
	}
	printf("sandbox           %s (slot %u)\nprofile           %s\nprovider          %s\n"
	       "pid               %d\ncgroup            %s\n", in.id, in.slot, in.profile, in.provider,
	       (int)in.workload_pid, in.cgroup);
	usage_text(&u);
	disk_text(read_disk(&in));
	printf("connect           %llu allowed, %llu denied\nsend              %llu allowed, %llu denied\n"
	       "bind              %llu allowed, %llu denied\nsockets denied    %llu\n",
	       (unsigned long long)st.connect_allowed, (unsigned long long)st.connect_denied,
	       (unsigned long long)st.send_allowed, (unsigned long long)st.send_denied,
	       (unsigned long long)st.bind_allowed, (unsigned long long)st.bind_denied,
	       (unsigned long long)st.sock_denied);
	printf("bytes             %llu in, %llu out\npackets           %llu in, %llu out, %llu dropped\n"
	       "quota hits        %llu\nevents            %llu (%llu dropped, %llu dropped from the global ring)\n",
	       (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
	       (unsigned long long)st.packets_in, (unsigned long long)st.packets_out,
	       (unsigned long long)st.packets_dropped, (unsigned long long)st.quota_hits,
	       (unsigned long long)st.seq, (unsigned long long)d.ring, (unsigned long long)d.global);
	printf("suppressed        %llu allow, %llu deny (audit rate limits)\n",
	       (unsigned long long)st.suppressed_allow, (unsigned long long)st.suppressed_deny);
	printf("monitor           %llu events read, %llu lines unwritten\n"
	       "denial events     %llu network, %llu file, %llu exec, %llu syscall\n",
	       (unsigned long long)mc.events, (unsigned long long)mc.unwritten,
	       (unsigned long long)mc.net_denials, (unsigned long long)mc.file_denials,
	       (unsigned long long)mc.exec_denials, (unsigned long long)mc.syscall_denials);
	rate_text(&rate);
	return SBX_EXIT_OK;
}

/* A direct-mode sandbox: SIGKILL to every process of its cgroup. */
static int kill_direct(const struct cli_verb *self, struct cli_parser *a)
{
	struct sbx_sandbox_info in;
	int r;

	if ((r = find_one(self, a, &in)))
		return r;
	r = sbx_cgroup_kill(in.cgroup);
	if (r < 0)
		return log_error_errno(r, "kill %s: %m", in.id), SBX_EXIT_FAILURE;
	if (cli_opts.json) {
		struct json_writer w;

		cli_json_begin(&w);
		json_begin_object(&w);
		json_kv_string(&w, "killed", in.id);
		json_kv_int(&w, "manager_pid", in.owner_pid);
		json_end_object(&w);
		return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
	}
	printf("killed %s; its sbx run (pid %d) reports the result and cleans up\n", in.id,
	       (int)in.owner_pid);
	return SBX_EXIT_OK;
}

/* Whether a direct-mode sandbox matches id (without reporting). */
static bool direct_exists(const char *id)
{
	struct sbx_sandbox_info in;
	struct sbx_instance p;

	return sbx_instance_get(&p) == 0 && sbx_sandbox_lookup(&p, id, &in) != -ENOENT;
}

#define KILL_NOT_IN_DAEMON (-1)

/* Through sbxd: an exit status, or KILL_NOT_IN_DAEMON when the daemon has
 * no such sandbox (the caller tries direct mode). */
static int kill_daemon(struct sbx_client *c, const char *name, const char *sig)
{
	const struct sbx_error *e;
	int r = sbx_kill(c, name, sig);

	e = sbx_client_last_error(c);
	if (r == -ENOENT && e->name && strstr(e->name, ".NoSuchSandbox"))
		return KILL_NOT_IN_DAEMON;
	if (r < 0)
		return cli_daemon_error(c, r), SBX_EXIT_FAILURE;
	if (cli_opts.json) {
		struct json_writer w;

		cli_json_begin(&w);
		json_begin_object(&w);
		json_kv_string(&w, "signalled", name);
		json_kv_string(&w, "signal", sig ? sig : "TERM");
		json_end_object(&w);
		return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
	}
	sig = sig ? sig : "TERM";
	printf("sent %s%s to %s\n", isdigit((unsigned char)*sig) ? "signal " : "SIG", sig, name);
	return SBX_EXIT_OK;
}

enum { OPT_KILL_SIGNAL = 1 };

static const struct cli_option kill_opts[] = {
	{ "signal", 's', true, OPT_KILL_SIGNAL, CLI_ARG_NONE }, CLI_SOCKET_OPTION, { 0 }
};

static int kill_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *sig = NULL, *socket = NULL;
	struct sbx_client *c = NULL;
	struct cli_parser a;
	int r;

	cli_parser_init(&a, self, argc, argv);
	while ((r = cli_next_option(&a)) > 0) {
		if (r == OPT_KILL_SIGNAL)
			sig = a.arg;
		else
			socket = a.arg;
	}
	if (r < 0)
		return cli_parse_exit(r);
	if (a.n_args != 1)
		return cli_usage(self, "expected exactly one sandbox NAME or ID");
	if (sig && !strncasecmp(sig, "SIG", 3))
		sig += 3;
	/* the daemon's sandboxes first; then those of direct-mode sbx run */
	r = cli_daemon_open(socket, true, &c);
	if (r < 0 && !cli_daemon_absent(r))
		return SBX_EXIT_FAILURE;
	if (r == 0) {
		r = kill_daemon(c, a.args[0], sig);
		sbx_client_close(c);
		if (r != KILL_NOT_IN_DAEMON)
			return r;
		if (!direct_exists(a.args[0]))
			return log_error("no sandbox '%s' (see sbx ls and sbx ps)", a.args[0]), SBX_EXIT_FAILURE;
	}
	if (sig && strcasecmp(sig, "KILL") && strcmp(sig, "9"))
		return log_error("-s %s: a sandbox of direct-mode sbx run is killed with SIGKILL only; "
				 "other signals need sbxd", sig), SBX_EXIT_FAILURE;
	return kill_direct(self, &a);
}

/* Refuses while sandboxes run: removing the pins detaches the programs and
 * would leave them unconfined. Sandboxes of managers that died are killed
 * first (sbx_sandbox_reap), so none outlives its confinement. */
static int unload_run(const struct cli_verb *self, int argc, char **argv)
{
	struct cli_parser a;
	struct sbx_instance p;
	char why[512] = "";
	int lock, live, r;

	if ((r = no_options(self, argc, argv, &a, 0)))
		return NO_OPTIONS_EXIT(r);
	if (sbx_instance_get(&p) < 0)
		return log_error("invalid SBX_INSTANCE"), SBX_EXIT_FAILURE;
	live = sbx_sandbox_reap(&p, why, sizeof(why));
	if (live < 0)
		return log_error("%s", why), SBX_EXIT_FAILURE;
	if (live > 0)
		return log_error("%d sandbox%s still running (see sbx ps); unloading would leave %s "
				 "unconfined", live, live == 1 ? " is" : "es are", live == 1 ? "it" : "them"),
		       SBX_EXIT_FAILURE;
	lock = sbx_instance_lock(&p);
	if (lock < 0)
		return log_error_errno(lock, "lock %s: %m", p.run_dir), SBX_EXIT_FAILURE;
	r = sbx_bpf_unload(&p, why, sizeof(why));
	sbx_instance_unlock(lock);
	if (r < 0)
		return log_error("%s", why), SBX_EXIT_FAILURE;
	if (cli_opts.json) {
		struct json_writer w;

		cli_json_begin(&w);
		json_begin_object(&w);
		json_kv_int(&w, "pins_removed", r);
		json_kv_string(&w, "pin_dir", p.pin_dir);
		json_end_object(&w);
		return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
	}
	printf("removed %d pins from %s\n", r, p.pin_dir);
	return SBX_EXIT_OK;
}

const struct cli_verb cli_verb_ps = {
	.name = "ps", .cmd = "ps", .run = ps_run,
	.summary = "list running sandboxes with their counters",
	.synopsis = "ps [--json]",
	.description =
		"  List the sandboxes of this sbx instance that are running now: id, slot,\n"
		"  profile, provider, workload pid, connections allowed and denied, and\n"
		"  bytes in and out as counted by the eBPF programs. With --json:\n"
		"    {\"loaded\": true, \"sandboxes\": [{\"id\": ..., \"connect_allowed\": ..., ...}]}\n",
	.options = HELP_JSON,
	.exit_status = "  0  success\n  1  the pinned state could not be read\n  2  usage error\n",
	.examples = "  sbx ps\n  sbx ps --json | jq '.sandboxes[].id'\n",
};

const struct cli_verb cli_verb_stats = {
	.name = "stats", .cmd = "stats", .run = stats_run,
	.summary = "show one sandbox's counters",
	.synopsis = "stats [--json] ID",
	.description =
		"  Print what a running sandbox uses and every counter of it: memory now\n"
		"  and at its peak, CPU time (user and system) and tasks, read from its\n"
		"  cgroups (cgroup2, or the v1 controllers of a hybrid host; \"-\", or null\n"
		"  in JSON, where no controller reports one); connects and sends allowed\n"
		"  and denied, binds, refused sockets, bytes and packets in and out,\n"
		"  packets dropped, quota hits, audit events emitted and dropped. ID may be\n"
		"  a unique prefix of the sandbox id (with or without \"sbx-\").\n"
		"  JSON keys: memory_bytes, memory_peak_bytes, cpu_user_ms, cpu_system_ms,\n"
		"  pids, then the counters as in sbx ps --json.\n",
	.options = HELP_JSON,
	.exit_status = "  0  success\n  1  no such sandbox, or its counters could not be read\n  2  usage error\n",
	.examples = "  sbx stats sbx-1a2b3c4d\n  sbx stats --json 1a2b\n",
};

const struct cli_verb cli_verb_kill = {
	.name = "kill", .cmd = "kill", .run = kill_run,
	.opts = kill_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "signal a sandbox of sbxd, or kill a sandbox of sbx run",
	.synopsis = "kill [-s SIGNAL] [--socket PATH] [--json] NAME|ID",
	.description =
		"  When sbxd runs and has a sandbox NAME, send it SIGNAL (default TERM)\n"
		"  through the daemon. Otherwise (no daemon, or no sandbox of that name in\n"
		"  it) ID names a sandbox of a direct-mode sbx run (sbx ps): SIGKILL every\n"
		"  process in its cgroup; the sbx run that owns it then reports the result\n"
		"  (exit code 137) and removes it. Direct-mode sandboxes take SIGKILL only.\n",
	.options =
		"  -s, --signal SIG   the signal for a sandbox of sbxd: a name (HUP, SIGHUP)\n"
		"                     or a number; default TERM\n"
		CLI_SOCKET_HELP
		HELP_JSON,
	.exit_status = "  0  signalled (killed)\n  1  no such sandbox, or sbxd refused\n  2  usage error\n",
	.examples = "  sbx kill web\n  sbx kill -s HUP web\n  sbx kill sbx-1a2b3c4d\n",
};

const struct cli_verb cli_verb_unload = {
	.name = "unload", .cmd = "unload", .run = unload_run,
	.summary = "detach and remove sbx's pinned BPF programs and maps",
	.synopsis = "unload [--json]",
	.description =
		"  Remove everything sbx pinned under /sys/fs/bpf/<instance> (maps, links,\n"
		"  programs), which detaches the programs, and remove sbx's cgroup root when\n"
		"  it is empty. Refused while sandboxes are running, because they would\n"
		"  continue unconfined. The next sbx run loads everything again.\n",
	.options = HELP_JSON,
	.exit_status = "  0  unloaded (or nothing was loaded)\n  1  sandboxes are running, or removal failed\n  2  usage error\n",
	.examples = "  sbx unload\n  SBX_INSTANCE=test sbx unload\n",
};
