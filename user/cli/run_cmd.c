/* SPDX-License-Identifier: MIT */
/* `sbx run`: load the policy, pick the profile and provider, run, report. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/adhoc.h"
#include "cli/cli.h"
#include "cli/daemon.h"
#include "cli/policy_source.h"
#include "core/enforce.h"
#include "core/instance.h"
#include "core/logfile.h"
#include "core/run.h"
#include "probecache.h"
#include "core/poolgo.h"
#include "util/util.h"

enum {
	OPT_POLICY = 1, OPT_PROFILE, OPT_PROVIDER, OPT_ENV, OPT_RESULT, OPT_AUDIT,
	OPT_RING, OPT_RESULT_FD, OPT_INTERACTIVE, OPT_TTY, OPT_LOG, OPT_LOG_MAX_SIZE, OPT_LOG_KEEP,
	OPT_NAME, OPT_AUDIT_JOURNAL, OPT_OBSERVE,
};

static const struct cli_option run_opts[] = {
	{ "policy", 'P', true, OPT_POLICY, CLI_ARG_FILE },
	{ "profile", 0, true, OPT_PROFILE, CLI_ARG_PROFILE },
	{ "provider", 0, true, OPT_PROVIDER, CLI_ARG_PROVIDER },
	{ "env", 0, true, OPT_ENV, CLI_ARG_NONE },
	{ "result", 0, true, OPT_RESULT, CLI_ARG_FILE },
	{ "audit", 0, true, OPT_AUDIT, CLI_ARG_FILE },
	{ "ring-size", 0, true, OPT_RING, CLI_ARG_NONE },	{ "result-fd", 0, true, OPT_RESULT_FD, CLI_ARG_NONE },
	{ "log", 0, true, OPT_LOG, CLI_ARG_FILE },		{ "log-max-size", 0, true, OPT_LOG_MAX_SIZE, CLI_ARG_NONE },
	{ "log-keep", 0, true, OPT_LOG_KEEP, CLI_ARG_NONE },
	{ "audit-journal", 0, false, OPT_AUDIT_JOURNAL, CLI_ARG_NONE },
	{ "observe", 0, false, OPT_OBSERVE, CLI_ARG_NONE },
	ADHOC_CLI_OPTIONS,			/* adhoc.h: --net, --ro, --rw, --timeout, ... */
	{ "print-profile", 0, false, ADHOC_OPT_PRINT, CLI_ARG_NONE },
	{ "interactive", 'i', false, OPT_INTERACTIVE, CLI_ARG_NONE }, { "tty", 't', false, OPT_TTY, CLI_ARG_NONE },
	{ "name", 0, true, OPT_NAME, CLI_ARG_NONE },		CLI_SOCKET_OPTION,
	{ 0 }
};

struct run_args {
	const char *policies[64];
	size_t n_policies;
	const char *profile, *provider, *env, *result, *audit;
	const char *ring, *result_fd;
	const char *log, *log_max_size, *log_keep;
	const char *name, *socket;	/* through sbxd only */
	struct adhoc_args adhoc;	/* the flags that build the profile (adhoc.h) */
	bool interactive, tty, audit_journal, observe;
};

static int parse_args(const struct cli_verb *self, struct cli_parser *a, struct run_args *ra)
{
	int r;

	while ((r = cli_next_option(a)) > 0) {
		switch (r) {
		case OPT_POLICY:
			if (ra->n_policies == sizeof(ra->policies) / sizeof(ra->policies[0]))
				return cli_usage(self, "too many --policy options");
			ra->policies[ra->n_policies++] = a->arg;
			break;
		case OPT_PROFILE: ra->profile = a->arg; break;
		case OPT_PROVIDER: ra->provider = a->arg; break;
		case OPT_ENV: ra->env = a->arg; break;
		case OPT_RESULT: ra->result = a->arg; break;
		case OPT_AUDIT: ra->audit = a->arg; break;
		case OPT_RING: ra->ring = a->arg; break;
		case OPT_RESULT_FD: ra->result_fd = a->arg; break;
		case OPT_INTERACTIVE: ra->interactive = true; break;
		case OPT_TTY: ra->tty = true; break;
		case OPT_AUDIT_JOURNAL: ra->audit_journal = true; break;
		case OPT_OBSERVE: ra->observe = true; break;
		case OPT_LOG: ra->log = a->arg; break;
		case OPT_LOG_MAX_SIZE: ra->log_max_size = a->arg; break;
		case OPT_LOG_KEEP: ra->log_keep = a->arg; break;
		case OPT_NAME: ra->name = a->arg; break;
		case CLI_OPT_SOCKET: ra->socket = a->arg; break;
		default:
			if (adhoc_take(&ra->adhoc, r, a->arg) < 0)
				return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	ra->adhoc.provider = ra->provider;
	if (ra->adhoc.print_profile)
		return 0;	/* prints the profile, runs nothing */
	if (a->n_args == 0)
		return cli_usage(self, "missing the command to run (after --)");
	if (ra->result && ra->result_fd)
		return cli_usage(self, "--result and --result-fd are exclusive");
	if (!ra->log && (ra->log_max_size || ra->log_keep))
		return cli_usage(self, "--log-max-size and --log-keep need --log FILE");
	if (ra->log && ra->tty)
		return cli_usage(self, "--log with -t: the pty's output is for the terminal "
				 "(run without -t to capture the output)");
	/* stdin passes through with or without -i; -t relays it through a pty */
	if (ra->tty && !isatty(STDIN_FILENO))
		return cli_usage(self, "-t: stdin is not a terminal; a pty needs one to relay "
				 "(use -i alone, or no option, to pass stdin as it is)");
	return 0;
}

static void print_diags(const struct sbx_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].line)
			fprintf(stderr, "%s:%u:%u: error: %s\n", d->v[i].file, d->v[i].line, d->v[i].col,
				d->v[i].msg);
		else
			fprintf(stderr, "%s: error: %s\n", d->v[i].file ? d->v[i].file : "sbx", d->v[i].msg);
	}
}

/* --profile NAME; else the only profile of a policy named by --policy or
 * $SBX_POLICY; else "default" (the policy directory's, or the built-in). */
static const struct sbx_profile *pick_profile(const struct cli_policy *cp, const char *name)
{
	const struct sbx_policy *pol = cp->pol;
	const struct sbx_profile *p;

	if (!name && cp->named && pol->n_profiles == 1)
		return &pol->profiles[0];
	if (!name && cp->named && !sbx_policy_find(pol, SBX_DEFAULT_PROFILE)) {
		log_error("the policy defines %zu profiles; choose one with --profile "
			  "(--profile default for the built-in one)", pol->n_profiles);
		return NULL;
	}
	p = cli_policy_find(cp, name ? name : SBX_DEFAULT_PROFILE);
	if (!p) {
		fprintf(stderr, "sbx: error: no profile '%s'; available:", name);
		for (size_t i = 0; pol && i < pol->n_profiles; i++)
			fprintf(stderr, " %s", pol->profiles[i].name);
		if (!sbx_policy_find(pol, SBX_DEFAULT_PROFILE))
			fprintf(stderr, " %s", SBX_DEFAULT_PROFILE);
		fputc('\n', stderr);
	}
	return p;
}

/* Probe results are cached in the instance's run directory (probecache.h),
 * so that choosing a provider starts no helper program on every run. */
static void use_probe_cache(void)
{
	static struct sbx_instance in;

	if (sbx_instance_get(&in) == 0 && sbx_instance_mkrun(&in) == 0)
		sbx_probe_cache_set_dir(in.run_dir);
}

static const struct sbx_provider *named_provider(const char *name)
{
	const struct sbx_provider *pv = sbx_provider_find(name);
	char why[512];

	if (!pv) {
		log_error("unknown provider '%s' (see sbx providers)", name);
		return NULL;
	}
	if (pv->probe(why, sizeof(why)) < 0) {
		log_error("provider '%s' is not available here: %s", name, why);
		return NULL;
	}
	return pv;
}

/* "auto": the strongest available provider that meets min_isolation, that
 * enforces the profile (core/enforce.c) and that can find prog in its view
 * (the microVM guest has no host programs). Strongest first, so weaker ones
 * are not even probed. When available providers exist but none finds prog,
 * the run ends as "command not found" (127); when none can run the profile
 * at all (e.g. gVisor with too low a pids), as sbx's failure (125). */
static const struct sbx_provider *auto_provider(const struct sbx_profile *p, const char *prog,
						int *ret_code)
{
	char why[512], skipped[2048] = "", unavail[2048] = "";
	size_t n = 0, off = 0, uoff = 0;
	bool missing = false;	/* a provider did not find prog (else: the profile is the problem) */
	int r;

	while (sbx_providers[n])
		n++;
	while (n--) {
		const struct sbx_provider *pv = sbx_providers[n];

		/* mock runs nothing and wasm runs only modules: never picked by auto */
		if (pv->level == SBX_ISO_WASM || pv->level < p->min_isolation || !strcmp(pv->name, "mock"))
			continue;
		/* nor one that cannot enforce the profile (e.g. fs.exec under gVisor) */
		if (sbx_enforce_refuses(p, pv->name))
			continue;
		/* kept to say what is missing when no provider is left */
		if (pv->probe(why, sizeof(why)) < 0) {
			if (uoff < sizeof(unavail))
				uoff += (size_t)snprintf(unavail + uoff, sizeof(unavail) - uoff, "; %s: %s",
							 pv->name, why);
			continue;
		}
		r = pv->can_run ? pv->can_run(p, prog, why, sizeof(why)) : 0;
		if (r == 0)
			return pv;
		missing |= r != -EINVAL && r != -EOPNOTSUPP;
		if (off < sizeof(skipped))
			off += (size_t)snprintf(skipped + off, sizeof(skipped) - off, "; %s: %s", pv->name, why);
	}
	if (off) {
		*ret_code = missing ? SBX_EXIT_NOT_FOUND : SBX_EXIT_SBX_FAILED;
		log_error("%s: no available provider for profile '%s' can run it%s", prog, p->name, skipped);
		return NULL;
	}
	log_error("no available provider gives isolation '%s' or stronger for profile '%s' "
		  "(see sbx providers)%s", sbx_isolation_name(p->min_isolation), p->name, unavail);
	return NULL;
}

static const struct sbx_provider *pick_provider(const struct sbx_profile *p, const char *flag,
						const char *prog, int *ret_code)
{
	const char *name = flag ? flag : p->provider ? p->provider : "auto";

	use_probe_cache();
	return strcmp(name, "auto") ? named_provider(name) : auto_provider(p, prog, ret_code);
}

static void result_network(struct json_writer *w, const struct sbx_run_result *r)
{
	json_key(w, "network");
	json_begin_object(w);
	json_kv_uint(w, "bytes_in", r->st.bytes_in);
	json_kv_uint(w, "bytes_out", r->st.bytes_out);
	json_kv_uint(w, "packets_in", r->st.packets_in);
	json_kv_uint(w, "packets_out", r->st.packets_out);
	json_kv_uint(w, "packets_dropped", r->st.packets_dropped);
	json_kv_uint(w, "connect_allowed", r->st.connect_allowed);
	json_kv_uint(w, "connect_denied", r->st.connect_denied);
	json_kv_uint(w, "send_allowed", r->st.send_allowed);
	json_kv_uint(w, "send_denied", r->st.send_denied);
	json_kv_uint(w, "bind_denied", r->st.bind_denied);
	json_kv_uint(w, "socket_denied", r->st.sock_denied);
	json_kv_bool(w, "quota_exceeded", r->st.quota_hits > 0);
	cli_json_rate(w, &r->rate);
	json_end_object(w);
}

static void result_audit(struct json_writer *w, const struct sbx_run_result *r)
{
	json_key(w, "denials");
	json_begin_object(w);
	json_kv_uint(w, "net.connect", r->denials[SBX_EV_NET_CONNECT]);
	json_kv_uint(w, "net.send", r->denials[SBX_EV_NET_SEND]);
	json_kv_uint(w, "net.bind", r->denials[SBX_EV_NET_BIND]);
	json_kv_uint(w, "net.socket", r->denials[SBX_EV_SOCK_CREATE]);
	json_kv_uint(w, "net.sockopt", r->denials[SBX_EV_NET_SOCKOPT]);
	json_kv_uint(w, "net.unix", r->denials[SBX_EV_NET_UNIX]);
	json_kv_uint(w, "net.packet", r->denials[SBX_EV_NET_PACKET]);
	json_kv_uint(w, "net.quota", r->denials[SBX_EV_NET_QUOTA]);
	json_kv_uint(w, "file", r->denials[SBX_EV_FILE]);
	json_kv_uint(w, "exec", r->exec_denials);
	json_kv_uint(w, "syscall", r->denials[SBX_EV_SYSCALL_DENIED]);
	json_end_object(w);
	json_key(w, "audit");
	json_begin_object(w);
	json_kv_uint(w, "events", r->events);
	json_kv_uint(w, "dropped", r->drops.ring);
	json_kv_uint(w, "global_dropped", r->drops.global);
	json_kv_uint(w, "sequence_gaps", r->seq_gaps);
	json_kv_uint(w, "unwritten", r->unwritten);
	if (r->has_journal) {
		json_key(w, "journal");
		json_begin_object(w);
		json_kv_uint(w, "sent", r->journal_sent);
		json_kv_uint(w, "unwritten", r->journal_unwritten);
		json_end_object(w);
	}
	json_key(w, "suppressed");
	json_begin_object(w);
	json_kv_uint(w, "allow", r->st.suppressed_allow);
	json_kv_uint(w, "deny", r->st.suppressed_deny);
	json_end_object(w);
	json_end_object(w);
}

/* Where the result goes, opened before the workload starts, so that a
 * destination sbx cannot write fails the run (125) before anything ran. "-"
 * is stderr: stdout carries the workload's output and nothing else. Every
 * descriptor is close-on-exec: the workload cannot write a result of its own. */
struct result_out {
	FILE *f;
	const char *path;		/* a file sbx made: removed when no result comes */
};

static int open_result_fd(const char *arg, struct result_out *out)
{
	char *end;
	long fd;
	int fl;

	errno = 0;
	fd = strtol(arg, &end, 10);
	if (errno || *end || end == arg || fd < 3 || fd > INT_MAX)
		return log_error("--result-fd '%s': expected a descriptor number of 3 or more "
				 "(--result - writes to stderr)", arg);
	fl = fcntl((int)fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return log_error("--result-fd %ld: %s", fd, fl < 0 ? "not an open descriptor" :
				 "not open for writing");
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 || !(out->f = fdopen((int)fd, "w")))
		return log_error_errno(-errno, "--result-fd %ld: %m", fd);
	return 0;
}

static int open_result(const struct run_args *ra, struct result_out *out)
{
	int fd;

	*out = (struct result_out){ 0 };
	if (ra->result_fd)
		return open_result_fd(ra->result_fd, out);
	if (!ra->result)
		return 0;
	if (!strcmp(ra->result, "-")) {
		out->f = stderr;
		return 0;
	}
	fd = sbx_open_output(ra->result, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		out->path = ra->result;
	else if (fd == -EEXIST)
		fd = sbx_open_output(ra->result, O_WRONLY, 0);
	if (fd < 0)
		return log_error_errno(fd, "--result %s: %s", ra->result, sbx_open_output_error(fd));
	if (!(out->f = fdopen(fd, "w"))) {
		int e = -errno;

		close(fd);
		if (out->path)
			unlink(out->path);
		return log_error_errno(e, "--result %s: %m", ra->result);
	}
	return 0;
}

/* Closes the destination; a file sbx made for a run that has no result
 * (sbx failed before the workload ran) is removed again. */
static void close_result(struct result_out *out, bool written)
{
	if (!out->f)
		return;
	if (out->f != stderr)
		fclose(out->f);
	if (!written && out->path)
		unlink(out->path);
	out->f = NULL;
}

/* "cpus": the CPU set the sandbox was pinned to, "cpu_weight": its weight
 * (null when the profile sets none). */
static void result_cpus(struct json_writer *w, const struct sbx_profile *p)
{
	char buf[256];

	if (sbx_cpus_any(p->cpus)) {
		sbx_cpus_format(p->cpus, buf, sizeof(buf));
		json_kv_string(w, "cpus", buf);
	} else {
		json_kv_null(w, "cpus");
	}
	if (p->cpu_weight)
		json_kv_uint(w, "cpu_weight", p->cpu_weight);
	else
		json_kv_null(w, "cpu_weight");
}

/* "disk": {"mount", "used_bytes", "limit_bytes", "inodes_used",
 * "inodes_limit", "full"}, or null without disk = ... */
static void result_disk(struct json_writer *w, const struct sbx_run_result *r)
{
	if (!r->has_disk) {
		json_kv_null(w, "disk");
		return;
	}
	json_key(w, "disk");
	json_begin_object(w);
	json_kv_string(w, "mount", r->disk.mount);
	json_kv_uint(w, "used_bytes", r->disk.used_bytes);
	json_kv_uint(w, "limit_bytes", r->disk.limit_bytes);
	json_kv_uint(w, "inodes_used", r->disk.inodes_used);
	json_kv_uint(w, "inodes_limit", r->disk.inodes_limit);
	json_kv_bool(w, "full", r->disk_full);
	json_end_object(w);
}

static int write_result(struct result_out *out, const struct sbx_profile *p,
			const struct sbx_provider *pv, const struct sbx_run_result *r)
{
	struct json_writer w;
	FILE *f = out->f;
	int rc;

	/* an existing file held an older result: replace it, not overwrite a prefix */
	if (f != stderr && fflush(f) == 0 && ftruncate(fileno(f), 0) < 0 && errno != EINVAL)
		return log_error_errno(-errno, "--result: %m");
	json_init(&w, f, cli_opts.pretty);
	json_begin_object(&w);
	json_kv_string(&w, "sandbox", r->id[0] ? r->id : NULL);
	json_kv_string(&w, "profile", p->name);
	if (p->observe) {
		json_kv_bool(&w, "observe", true);	/* nothing was enforced */
		json_kv_uint(&w, "would_deny", r->would_deny);
	}
	json_kv_string(&w, "provider", pv->name);
	json_kv_string(&w, "isolation", sbx_isolation_name(pv->level));
	json_kv_int(&w, "exit_code", r->exit_code);
	if (r->signal)
		json_kv_int(&w, "signal", r->signal);
	else
		json_kv_null(&w, "signal");
	json_kv_bool(&w, "timed_out", r->timed_out);
	json_kv_bool(&w, "exec_failed", r->exec_failed);
	json_kv_bool(&w, "oom_killed", r->oom_killed);
	json_kv_uint(&w, "wall_ms", r->wall_ns / 1000000);
	json_kv_uint(&w, "cpu_ms", r->cpu_us / 1000);
	json_kv_uint(&w, "cpu_user_ms", r->cpu_user_us / 1000);
	json_kv_uint(&w, "cpu_system_ms", r->cpu_system_us / 1000);
	json_kv_uint(&w, "peak_memory_bytes", r->peak_rss_kib * 1024);
	result_cpus(&w, p);
	result_disk(&w, r);
	result_network(&w, r);
	result_audit(&w, r);
	if (r->has_log) {
		json_key(&w, "log");
		json_begin_object(&w);
		json_kv_uint(&w, "bytes", r->log_bytes);
		json_kv_uint(&w, "unwritten", r->log_unwritten);
		json_end_object(&w);
	}
	json_kv_string(&w, "enforcement", sbx_enforcement_name(p->enforcement));
	json_key(&w, "degraded");
	json_begin_array(&w);
	for (size_t i = 0; i < r->n_degraded; i++)
		json_string(&w, r->degraded[i]);
	json_end_array(&w);
	json_end_object(&w);
	rc = json_finish(&w);
	if (rc == 0 && fflush(f) != 0)
		rc = -errno;
	if (rc < 0)
		log_error_errno(rc, "writing the result: %m");
	return rc;
}

/* Loads the policy, picks the profile and builds the run's profile from it
 * and the flags (adhoc.c). Returns 0 or a negative errno, reported. */
static int load_profile(const struct run_args *ra, struct cli_policy *cp, struct adhoc_profile *ret)
{
	struct sbx_diags diags = { 0 };
	const struct sbx_profile *found;
	int r;

	r = cli_policy_load(ra->policies, ra->n_policies, ra->env ? ra->env : getenv("SBX_ENV"), cp,
			    &diags);
	if (r < 0) {
		print_diags(&diags);
		sbx_diags_free(&diags);
		if (r != -EINVAL)
			log_error_errno(r, "loading policy: %m");
		return r;
	}
	sbx_trace("policy load");
	found = pick_profile(cp, ra->profile);
	if (!found)
		return -ENOENT;
	r = adhoc_build(&ra->adhoc, found, adhoc_may_widen(found), ret);
	sbx_trace("profile");
	return r;
}

/* --print-profile: the effective profile as a policy file on stdout. */
static int print_profile(const struct run_args *ra)
{
	struct cli_policy cp = { 0 };
	struct adhoc_profile ap = { 0 };
	int r = load_profile(ra, &cp, &ap);

	if (r == 0) {
		printf("# sbx run --print-profile: load it with sbx run --policy FILE\n");
		r = sbx_profile_write_toml(ap.p, stdout);
		if (r < 0)
			log_error_errno(r, "writing the profile: %m");
	}
	adhoc_profile_free(&ap);
	cli_policy_free(&cp);
	return r < 0 ? SBX_EXIT_SBX_FAILED : SBX_EXIT_OK;
}

/* --ring-size into o; o->provider stays NULL when it is refused. */
static void set_ring_size(const struct run_args *ra, struct sbx_run_opts *o)
{
	uint64_t v = 0;

	if (!ra->ring)
		return;
	if (sbx_parse_size(ra->ring, &v) < 0 || v < 4096 || v > (1u << 30) || (v & (v - 1))) {
		log_error("--ring-size '%s': expected a power of two from 4K to 1G", ra->ring);
		o->provider = NULL;
	}
	o->ring_size = (uint32_t)v;
}

/* --log, --log-max-size, --log-keep into o; o->provider stays NULL when
 * one is refused. */
static void set_log(const struct run_args *ra, struct sbx_run_opts *o)
{
	uint64_t v = 0;
	char *end;
	unsigned long k;

	o->log_path = ra->log;
	if (ra->log_max_size) {
		if (sbx_parse_size(ra->log_max_size, &v) < 0 || v < SBX_LOG_MAX_SIZE_MIN ||
		    v > SBX_LOG_MAX_SIZE_MAX) {
			log_error("--log-max-size '%s': expected a size from 4K to 1T", ra->log_max_size);
			o->provider = NULL;
		}
		o->log_max_size = v;
	}
	if (ra->log_keep) {
		errno = 0;
		k = strtoul(ra->log_keep, &end, 10);
		if (errno || end == ra->log_keep || *end || ra->log_keep[0] == '-' ||
		    k > SBX_LOG_KEEP_MAX) {
			log_error("--log-keep '%s': expected a number of rotated files from 0 to %u",
				  ra->log_keep, SBX_LOG_KEEP_MAX);
			o->provider = NULL;
		}
		o->log_keep = (unsigned)k;
		o->log_keep_set = true;
	}
}

/* --observe (docs/learn.md): nothing is refused, every refusal is reported.
 * Network mode "none" would put the workload in a namespace of its own,
 * where it could not try the network at all: observed in the host's, with
 * every connect reported. */
static void observe_profile(struct sbx_profile *p)
{
	p->observe = true;
	if (p->net.namespace == SBX_NETNS_AUTO && p->net.mode == SBX_NET_NONE)
		p->net.namespace = SBX_NETNS_HOST;
}

/* Runs the command and writes its result; sbx_run's exit code. */
static int run_workload(struct sbx_run_opts *o, const struct cli_parser *a,
			const struct run_args *ra, struct result_out *out, bool *written)
{
	/* the parser's argument list is not NULL-terminated */
	_cleanup_free_ char **cmd = calloc((size_t)a->n_args + 1, sizeof(*cmd));
	struct sbx_run_result res;
	int code;

	if (!cmd)
		return log_error_errno(-ENOMEM, "sbx run: %m"), SBX_EXIT_SBX_FAILED;
	for (int i = 0; i < a->n_args; i++)
		cmd[i] = a->args[i];
	o->argv = cmd;
	o->audit_path = ra->audit;
	o->result_path = ra->result;
	o->tty = ra->tty;
	o->audit_journal = ra->audit_journal || (getenv("SBX_AUDIT_JOURNAL") &&
						  !strcmp(getenv("SBX_AUDIT_JOURNAL"), "1"));
	if (o->profile->observe)
		fprintf(stderr, "sbx: warning: observe mode: the profile '%s' is NOT enforced; what it "
			"refuses is let through and reported as would_deny\n", o->profile->name);
	code = sbx_run(o, &res, stderr);
	sbx_trace("run done");
	if (o->profile->observe && !res.failed)
		fprintf(stderr, "sbx: observe mode: nothing was enforced; %llu would_deny events\n",
			(unsigned long long)res.would_deny);
	/* no result when sbx failed; a workload's own 125 has one */
	if (out->f && !res.failed)
		*written = write_result(out, o->profile, o->provider, &res) == 0;
	sbx_run_result_free(&res);
	return code;
}

/* The flags that only direct mode has: they name files of the caller's
 * or choose what the daemon decides (sbx-run(1), "Direct mode and sbxd"). */
static const char *direct_flag(const struct run_args *ra)
{
	if (ra->n_policies)
		return "--policy";
	if (ra->result)
		return "--result";
	if (ra->result_fd)
		return "--result-fd";
	if (ra->audit)
		return "--audit";
	if (ra->env)
		return "--env";
	if (ra->provider)
		return "--provider";
	if (ra->ring)
		return "--ring-size";
	if (ra->log)
		return "--log";
	if (ra->audit_journal)
		return "--audit-journal";
	if (ra->observe)
		return "--observe";
	if (getenv("SBX_POLICY") && *getenv("SBX_POLICY"))
		return "$SBX_POLICY";
	if (getenv("SBX_ENV") && *getenv("SBX_ENV"))
		return "$SBX_ENV";
	return NULL;
}

/*
 * Direct mode or sbxd: $SBX_DIRECT=1 or a direct-only flag means direct
 * mode; else a daemon that listens runs it; else root runs it directly
 * and anyone else is told to start sbxd. Returns 1 for direct mode (*ret
 * NULL), 0 with a client in *ret, or the exit status when neither works.
 */
static int choose_mode(const struct run_args *ra, struct sbx_client **ret)
{
	const char *direct = getenv("SBX_DIRECT"), *flag = direct_flag(ra);
	int r;

	*ret = NULL;
	if (ra->name && flag)
		return log_error("--name runs through sbxd, %s is for direct mode alone", flag),
		       SBX_EXIT_SBX_FAILED;
	if ((direct && !strcmp(direct, "1")) || flag) {
		if (ra->name || ra->socket)
			return log_error("%s is for sbx run through sbxd, not in direct mode (%s)",
					 ra->name ? "--name" : "--socket", flag ? flag : "$SBX_DIRECT=1"),
			       SBX_EXIT_SBX_FAILED;
		return 1;
	}
	r = cli_daemon_open(ra->socket, geteuid() == 0 && !ra->socket && !ra->name, ret);
	if (r == 0)
		return 0;
	if (cli_daemon_absent(r) && geteuid() == 0 && !ra->socket && !ra->name)
		return 1;
	if (cli_daemon_absent(r) && geteuid() != 0)
		log_error("without sbxd, sbx run needs root (direct mode)");
	return SBX_EXIT_SBX_FAILED;
}

/* sbx run through the daemon. */
static int run_daemon(struct sbx_client *c, const struct run_args *ra, const struct cli_parser *a)
{
	char **cmd = calloc((size_t)a->n_args + 1, sizeof(*cmd));
	int code;

	if (!cmd)
		return log_error_errno(-ENOMEM, "sbx run: %m"), SBX_EXIT_SBX_FAILED;
	for (int i = 0; i < a->n_args; i++)
		cmd[i] = a->args[i];
	code = cli_daemon_run(c, ra->profile, ra->name, &ra->adhoc, cmd, ra->tty);
	free(cmd);
	sbx_client_close(c);
	return code;
}

/* ---- a pooled monitor of sbxd's (core/poolgo.h, docs/api.md) ----
 * sbxd starts it with $SBX_POOL_FD and a placeholder command; the go
 * brings the command, the stdio, the result and log files and -t, which
 * are all the per-start values there are: the profile it was built for
 * and the caller's identity are the pool's key. */
struct pool_ctx {
	int sock;		/* the go socket; after the go, where SBX_POOL_DONE goes */
	int log_fd;		/* the entry's own stderr (STATE/pool/PROFILE.log) */
	struct run_args *ra;
	struct result_out *out;
	bool *written;
	struct sbx_run_opts *o;
	struct sbx_pool_go go;
};

static int pool_go(void *ctx, int sigfd, int childfd)
{
	struct pool_ctx *pc = ctx;
	struct sbx_pool_go *g = &pc->go;
	const struct sbx_provider *pv = pc->o->provider;
	int r = sbx_pool_go_wait(pc->sock, sigfd, childfd, g);

	if (r < 0) {
		close(pc->sock);
		pc->sock = -1;
		return r;
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(g->fds[i], i) < 0 && r == 0)
			r = -errno;
		close(g->fds[i]);
		g->fds[i] = -1;
	}
	if (r < 0)
		return r;
	pc->ra->result = g->result;
	pc->ra->log = g->log;
	pc->ra->log_max_size = g->log_max_size;
	pc->ra->log_keep = g->log_keep;
	set_log(pc->ra, pc->o);
	if (!pc->o->provider) {
		pc->o->provider = pv;	/* teardown needs it */
		return -EINVAL;
	}
	if (open_result(pc->ra, pc->out) < 0)
		return -EIO;
	pc->o->argv = g->argv;
	pc->o->tty = g->tty;
	pc->o->policy_file = g->policy;
	return 0;
}

/* The caller's stdio leave the monitor before its teardown: the Run is
 * answered, and a pipe to `sbx run` must see its end now, not after the
 * teardown; what the teardown says goes to the entry's log. */
static void pool_leave_stdio(struct pool_ctx *pc)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	if (pc->log_fd >= 0)
		dup2(pc->log_fd, STDERR_FILENO);
	else if (null >= 0)
		dup2(STDIN_FILENO, STDERR_FILENO);
}

/* The workload ended (run.h finished): the result, then SBX_POOL_DONE. */
static void pool_done(void *ctx, const struct sbx_run_result *res)
{
	struct pool_ctx *pc = ctx;
	char c = SBX_POOL_DONE;

	if (pc->sock < 0)
		return;
	if (pc->out->f) {
		*pc->written = write_result(pc->out, pc->o->profile, pc->o->provider, res) == 0;
		close_result(pc->out, *pc->written);
	}
	/* a Start's monitor has no caller's stdio, and its stderr is its
	 * own monitor.log to the end */
	if (!pc->ra->log)
		pool_leave_stdio(pc);
	/* no result written: sbxd reads the exit status at the monitor's end */
	if (*pc->written && send(pc->sock, &c, 1, MSG_NOSIGNAL) != 1)
		fprintf(stderr, "sbx: the pool's done byte: %m\n");
	close(pc->sock);
	pc->sock = -1;
}

/* $SBX_POOL_FD: this run is a pool entry; 0 when it is not, 1 when it is. */
static int pool_init(struct pool_ctx *pc)
{
	const char *v = getenv("SBX_POOL_FD");
	char *end;
	long fd;

	if (!v)
		return 0;
	errno = 0;
	fd = strtol(v, &end, 10);
	unsetenv("SBX_POOL_FD");	/* not the workload's */
	if (errno || *end || end == v || fd < 3 || fd > INT_MAX || fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_error("$SBX_POOL_FD '%s': not an inherited descriptor", v);
	pc->sock = (int)fd;
	pc->log_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	pc->o->wait_go = pool_go;
	pc->o->wait_go_ctx = pc;
	pc->o->finished = pool_done;
	pc->o->finished_ctx = pc;
	return 1;
}

static int run_run(const struct cli_verb *self, int argc, char **argv)
{
	struct sbx_client *client;
	struct run_args ra = { 0 };
	struct cli_policy cp = { 0 };
	struct adhoc_profile ap = { 0 };
	struct sbx_run_opts o = { 0 };
	struct result_out out;
	struct cli_parser a;
	bool written = false;
	/* no "= { ... }": that zeroes go's 32 KiB argv, whose pages this frame,
	 * under the monitor's for the whole run, would keep; a pooled run's
	 * sbx_pool_go_wait fills go whole, and only go.buf is freed */
	struct pool_ctx pc;
	int r, code = SBX_EXIT_SBX_FAILED;

	pc.sock = -1;
	pc.log_fd = -1;
	pc.written = &written;
	pc.ra = &ra;
	pc.out = &out;
	pc.o = &o;
	pc.go.buf = NULL;
	cli_parser_init(&a, self, argc, argv);
	a.stop_at_args = true;
	r = parse_args(self, &a, &ra);
	/* Usage errors exit 125 like docker run, podman run and env: the codes
	 * below 124 are the workload's (EXIT STATUS in docs/man/sbx-run.1). */
	if (r == -ECANCELED)
		return SBX_EXIT_OK;	/* --help */
	if (r)
		return SBX_EXIT_SBX_FAILED;
	if (ra.adhoc.print_profile)
		return print_profile(&ra);
	r = choose_mode(&ra, &client);
	if (r == 0)
		return run_daemon(client, &ra, &a);
	if (r != 1)
		return r;
	if (open_result(&ra, &out) < 0)
		return SBX_EXIT_SBX_FAILED;
	if (load_profile(&ra, &cp, &ap) == 0) {
		if (ra.observe)
			observe_profile(ap.p);
		o.profile = ap.p;
		/* flags that rebuilt the profile make it one no file holds */
		if (ra.n_policies == 1 && !ap.pol)
			o.policy_file = ra.policies[0];
		o.provider = pick_provider(ap.p, ra.provider, a.args[0], &code);
		sbx_trace("provider probe");
	}
	set_ring_size(&ra, &o);
	set_log(&ra, &o);
	if (o.provider && pool_init(&pc) < 0)
		o.provider = NULL;
	if (o.provider)
		code = run_workload(&o, &a, &ra, &out, &written);
	close_result(&out, written);
	sbx_pool_go_free(&pc.go);
	if (pc.sock >= 0)
		close(pc.sock);
	if (pc.log_fd >= 0)
		close(pc.log_fd);
	adhoc_profile_free(&ap);
	cli_policy_free(&cp);
	return code;
}

const struct cli_verb cli_verb_run = {
	.name = "run",
	.cmd = "run",
	.run = run_run,
	.opts = run_opts,
	.args = CLI_ARG_COMMAND,
	.summary = "run a command in a sandbox under a policy profile",
	.synopsis = "run [-i] [-t] [-P|--policy PATH]... [--profile NAME] [--provider NAME|auto]\n"
		    "    [--env NAME] [--audit FILE|-] [--result FILE|- | --result-fd N] [--timeout D]\n"
		    "    [--log FILE [--log-max-size S] [--log-keep N]] [--observe]\n"
		    "    [--memory S] [--cpu N] [--pids N] [--ring-size S]\n"
		    "    [--net none|host|allow=ADDR[,ADDR...]] [--allow-host NAME[:PORT]]... [--ro PATH]...\n"
		    "    [--rw PATH]... [--exec PATH]... [--cwd DIR] [--print-profile]\n"
		    "    [--name NAME] [--socket PATH] -- CMD [ARG]...",
	.description =
		"  Create a sandbox for the profile, start CMD inside it from its first\n"
		"  instruction, and wait for it. The sandbox gets its own cgroup below sbx's\n"
		"  cgroup root; sbx's eBPF programs (loaded and attached once, then pinned\n"
		"  under /sys/fs/bpf/sbx) enforce the profile's network policy on it and\n"
		"  count what it does. stdin, stdout and stderr pass through; SIGINT,\n"
		"  SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the\n"
		"  workload. CMD runs in a session of its own: the caller's terminal is\n"
		"  never its controlling terminal, and TIOCSTI/TIOCLINUX are refused (no\n"
		"  typing into the caller's shell). With -t it gets a pty of sbx's\n"
		"  instead. When CMD\n"
		"  exits, every process left in the sandbox is killed and the cgroup and\n"
		"  map entries are removed.\n"
		"\n"
		"  Every audit event is appended as one JSON line to the instance's audit\n"
		"  log (/var/log/sbx/audit.jsonl, see sbx audit) and, with --audit, to FILE\n"
		"  (or stderr for -). The format is documented in docs/audit.md.\n"
		"  With --audit-journal (or $SBX_AUDIT_JOURNAL=1) each event is also a\n"
		"  journald entry with SBX_* fields (journalctl SBX_ACTION=deny).\n"
		"\n"
		"  What the chosen provider cannot enforce (e.g. user and group under the host\n"
		"  provider) makes sbx refuse to run under enforcement = \"strict\"; under\n"
		"  \"best-effort\" the run goes ahead and the result's \"degraded\" list says\n"
		"  what was not enforced.\n"
		"\n"
		"  Without --policy and --profile, `sbx run -- CMD` uses the profile\n"
		"  \"default\": a policy directory's if one defines it, else the built-in\n"
		"  one (process provider, no network, read-only view of the host, 10m,\n"
		"  1G memory, 1 CPU, 256 pids; see `sbx policy show --profile default`).\n"
		"\n"
		"  Ad-hoc sandboxes: --net, --allow-host, --ro, --rw, --exec and the limits\n"
		"  build the run's profile on top of the selected one. On the built-in\n"
		"  \"default\" they may set anything (the result is named \"adhoc\"); on a\n"
		"  profile from a policy file they may only tighten it, unless sbx runs as\n"
		"  root. --print-profile prints the result as a policy file.\n"
		"\n"
		"  Through sbxd: when the daemon's socket answers, sbx run calls its Run\n"
		"  method with the profile, the ad-hoc flags, -t and its own stdin, stdout\n"
		"  and stderr (passed as descriptors); signals to sbx are forwarded to the\n"
		"  sandbox, and sbx exits with the workload's status. Direct mode (all in\n"
		"  this process, root only) is used instead with $SBX_DIRECT=1, with any of\n"
		"  --policy, --env, --provider, --result, --result-fd, --audit, --ring-size,\n"
		"  --log, --audit-journal, --print-profile, $SBX_POLICY or $SBX_ENV, and\n"
		"  when no daemon listens and the caller is root; anyone else is told to\n"
		"  start sbxd.\n",
	.options =
		"  -P, --policy PATH  policy file or directory (repeatable); default $SBX_POLICY,\n"
		"                     else $SBX_POLICY_DIR (default /etc/sbx/policy.d) if it has\n"
		"                     *.toml files, else only the built-in profile \"default\"\n"
		"  --profile NAME     the profile to run; default: the only profile of a policy\n"
		"                     named by --policy or $SBX_POLICY, else \"default\"\n"
		"  --provider NAME    provider to use instead of the profile's (or auto)\n"
		"  --env NAME         apply the overlay [env.NAME]; default $SBX_ENV\n"
		"  --audit FILE|-     also write the audit events as JSON lines to FILE or stderr\n"
		"  --audit-journal    also send each audit event to journald as an entry with\n"
		"                     SBX_* fields (docs/audit.md); also $SBX_AUDIT_JOURNAL=1\n"
		"  --result FILE|-    write the execution result as one JSON object to FILE,\n"
		"                     or to stderr for - (stdout stays the workload's alone)\n"
		"  --result-fd N      write the result to the inherited descriptor N (>= 3),\n"
		"                     e.g. --result-fd 3 3>result.json; never seen by CMD\n"
		"  --log FILE         capture CMD's stdout and stderr (one stream, as 2>&1, raw\n"
		"                     bytes) to FILE, rotated before it passes --log-max-size\n"
		"                     (FILE.1 .. FILE.N); a link at FILE is refused\n"
		"  --log-max-size S   the bound of each log file, 4K to 1T (default 1M)\n"
		"  --log-keep N       rotated files kept, 0 to 999 (default 3)\n"
		"  --net none|host|allow=ADDR[,ADDR...]\n"
		"                     no network; the host's (mode full); or only these\n"
		"                     destinations (127.0.0.1:8080, 192.0.2.0/24:443/tcp)\n"
		"  --allow-host NAME[:PORT]  also allow this host name (repeatable)\n"
		"  --ro PATH          read access to PATH (repeatable)\n"
		"  --rw PATH          read and write access to PATH (repeatable)\n"
		"  --exec PATH        only these programs or directories may execute (repeatable)\n"
		"  --cwd DIR          start CMD in DIR (e.g. --cwd . with --rw .)\n"
		"  --timeout D        the timeout (30s, 1m30s, 250ms)\n"
		"  --memory S         the memory limit (64M, 1G)\n"
		"  --cpu N            the CPU limit (0.5, 2)\n"
		"  --pids N           the process limit\n"
		"  --print-profile    print the effective profile as a policy file; run nothing\n"
		"  --ring-size S      per-sandbox ring buffer size when sbx loads its programs\n"
		"  --observe          learning mode: enforce NOTHING the profile refuses; report\n"
		"                     each refusal as a would_deny audit event and let it\n"
		"                     through (network, files, exec, syscalls; what a host\n"
		"                     without BPF LSM cannot see: docs/learn.md). Turn the log\n"
		"                     into a profile with `sbx learn`. Direct mode only; the\n"
		"                     process and host providers only\n"
		"  --name NAME        through sbxd: the sandbox's name (default run-PID-N)\n"
		CLI_SOCKET_HELP
		"  -i, --interactive  keep stdin attached (the default; accepted as in podman)\n"
		"  -t, --tty          give CMD a pseudo-terminal of sbx's in its own session\n"
		"                     (needs a terminal on stdin); sbx relays the caller's\n"
		"                     terminal in raw mode, window size changes and Ctrl-C\n"
		"  -h, --help         show this help\n",
	.exit_status =
		"  N      the workload's exit status (0-255)\n"
		"  128+N  the workload died of signal N\n"
		"  124    the workload timed out (SIGTERM, then SIGKILL after 2 s)\n"
		"  125    sbx itself failed: usage error, bad policy, unenforceable profile,\n"
		"         setup error; nothing ran, or sbx lost track of the workload\n"
		"  126    the command could not be executed\n"
		"  127    the command was not found\n"
		"  A workload may itself exit 124-127; the result tells them apart: none is\n"
		"  written when sbx failed, \"timed_out\" is true only after a timeout and\n"
		"  \"exec_failed\" only when CMD could not be executed.\n",
	.examples =
		"  sbx run -- ls -l /\n"
		"  sbx run --net allow=127.0.0.1:8080 -- curl -s http://127.0.0.1:8080/\n"
		"  sbx run --print-profile --net allow=127.0.0.1:8080 --rw /srv/data >agent.toml\n"
		"  sbx run --policy policy/examples/demo-host.toml --audit - -- \\\n"
		"      bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081'\n"
		"  sbx run -P web.toml --profile fetch --result - -- python3 fetch.py >page.html\n"
		"  sbx run -P web.toml --result-fd 3 -- ./job 3>result.json | consumer\n"
		"  sbx run -it --profile agent -- bash\n"
		"  sbx run --log web.log --log-max-size 10M --log-keep 5 -- ./server\n"
		"  sbx run --observe --profile tight --audit obs.jsonl -- ./job\n",
	.sub = NULL,
};
