/* SPDX-License-Identifier: MIT */
/*
 * The verbs that talk to sbxd through libsbx: start, stop, restart, rm,
 * status, ls, logs, update and reload, and sbx run's daemon mode.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/daemon.h"
#include "policy.h"

#define HELP_COMMON \
	CLI_SOCKET_HELP \
	"  -j, --json         print JSON on stdout (errors as {\"error\": \"...\"})\n" \
	"  -p, --pretty       indent the JSON output; implies --json\n" \
	"  -h, --help         show this help\n"

#define EXIT_DAEMON \
	"  1  sbxd is not running, or it refused the call (the message says why:\n" \
	"     no such sandbox, permission denied, an invalid parameter, ...)\n" \
	"  2  usage error\n"

/* ---- connection and errors ------------------------------------------------ */

int cli_daemon_open(const char *socket, bool quiet, struct sbx_client **ret)
{
	const char *path = socket && *socket ? socket : getenv("SBX_SOCKET");
	int r;

	if (!path || !*path)
		path = SBX_SOCKET_DEFAULT;
	r = sbx_client_open(path, ret);
	if (r == 0 || (quiet && cli_daemon_absent(r)))
		return r;
	if (r == -ENOENT)
		log_error("sbxd is not running (no socket at %s); start it with 'systemctl start sbxd' "
			  "or 'sbxd &'", path);
	else if (r == -ECONNREFUSED)
		log_error("sbxd is not running (nothing listens on %s); start it with "
			  "'systemctl start sbxd' or 'sbxd &'", path);
	else
		log_error_errno(r, "cannot connect to sbxd at %s: %m", path);
	return r;
}

int cli_daemon_error(struct sbx_client *c, int r)
{
	const struct sbx_error *e = sbx_client_last_error(c);

	if (e->message[0])
		log_error("%s", e->message);
	else
		log_error_errno(r, "sbxd: %m");
	return r;
}

/* Reports a failed call; the verb's exit status. */
static int fail_exit(struct sbx_client *c, int r)
{
	cli_daemon_error(c, r);
	return SBX_EXIT_FAILURE;
}

/* The client of a verb, or the exit status when there is none. */
static int open_or_exit(const char *socket, struct sbx_client **ret)
{
	return cli_daemon_open(socket, false, ret) < 0 ? SBX_EXIT_FAILURE : 0;
}

/* Prints a json-c value as the verb's output (--json). */
static int print_json(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, cli_opts.pretty ? JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);

	if (!s || printf("%s\n", s) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "sbx: error: writing JSON output: %m\n");
		return SBX_EXIT_FAILURE;
	}
	return SBX_EXIT_OK;
}

/* {"ok": true} style objects for verbs whose reply is empty. */
static int print_done(const char *key, const char *name)
{
	struct json_writer w;

	if (!cli_opts.json)
		return SBX_EXIT_OK;
	cli_json_begin(&w);
	json_begin_object(&w);
	json_kv_string(&w, key, name);
	json_end_object(&w);
	return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

/* ---- reading a Sandbox object ---------------------------------------------- */

static const char *str_of(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v || !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

/* -1 when missing or null */
static int64_t int_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

/* "3d4h", "1h2m", "5m3s", "12s", "-" */
static void fmt_duration(char *buf, size_t len, int64_t usec)
{
	int64_t s = usec / 1000000;

	if (usec <= 0)
		snprintf(buf, len, "-");
	else if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

static void fmt_bytes(char *buf, size_t len, int64_t v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	size_t u = 0;

	if (v < 0) {
		snprintf(buf, len, "-");
		return;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRId64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", d, units[u]);
}

/* "3", "137 (SIGKILL)", "-" */
static void fmt_exit(char *buf, size_t len, json_object *sb)
{
	int64_t code = int_of(sb, "exit_code");
	const char *sig = str_of(sb, "signal", NULL);

	if (code < 0)
		snprintf(buf, len, "-");
	else if (sig)	/* "TERM" as SIGTERM; a description as it is */
		snprintf(buf, len, "%" PRId64 " (%s%s)", code,
			 strspn(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+") == strlen(sig) &&
			 strncmp(sig, "SIG", 3) ? "SIG" : "", sig);
	else
		snprintf(buf, len, "%" PRId64, code);
}

static void fmt_command(char *buf, size_t len, json_object *sb)
{
	json_object *a = NULL;
	size_t off = 0;

	buf[0] = '\0';
	json_object_object_get_ex(sb, "command", &a);
	for (size_t i = 0; a && i < json_object_array_length(a) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "",
					json_object_get_string(json_object_array_get_idx(a, i)));
}

/* ---- sbx status ------------------------------------------------------------ */

static void print_limits(json_object *sb)
{
	json_object *l = NULL;
	char mem[32];
	const char *cpu, *timeout;
	int64_t pids;

	json_object_object_get_ex(sb, "limits", &l);
	if (!l)
		return;
	if (int_of(l, "memory") > 0)
		fmt_bytes(mem, sizeof(mem), int_of(l, "memory"));
	else
		snprintf(mem, sizeof(mem), "none");
	pids = int_of(l, "pids");
	cpu = str_of(l, "cpu", "");
	timeout = str_of(l, "timeout", "");
	printf("limits            memory %s, pids ", mem);
	if (pids > 0)
		printf("%" PRId64, pids);
	else
		printf("none");
	printf(", cpu %s, timeout %s\n", *cpu ? cpu : "none", *timeout ? timeout : "none");
}

static void print_counters(json_object *sb)
{
	json_object *c = NULL;
	char now[32], peak[32], in[32], out[32];
	int64_t cpu;

	json_object_object_get_ex(sb, "counters", &c);
	if (!c) {
		printf("counters          - (the sandbox is not running)\n");
		return;
	}
	fmt_bytes(now, sizeof(now), int_of(c, "memory_current"));
	fmt_bytes(peak, sizeof(peak), int_of(c, "memory_peak"));
	fmt_bytes(in, sizeof(in), int_of(c, "bytes_in"));
	fmt_bytes(out, sizeof(out), int_of(c, "bytes_out"));
	cpu = int_of(c, "cpu_usec");
	printf("memory            %s now, %s peak\n", now, peak);
	if (cpu >= 0)
		printf("cpu time          %.3f s\n", (double)cpu / 1e6);
	else
		printf("cpu time          -\n");
	printf("network           %s in, %s out\n", in, out);
	printf("connects          %" PRId64 " allowed, %" PRId64 " denied\n",
	       int_of(c, "connect_allowed"), int_of(c, "connect_denied"));
	printf("denials           %" PRId64 "\n", int_of(c, "denials"));
}

static void print_status(json_object *sb)
{
	char up[32], ex[64], cmd[1024];
	int64_t max = int_of(sb, "max_restarts");

	fmt_duration(up, sizeof(up), int_of(sb, "uptime_usec"));
	fmt_exit(ex, sizeof(ex), sb);
	fmt_command(cmd, sizeof(cmd), sb);
	printf("name              %s\n", str_of(sb, "name", ""));
	printf("id                %s\n", str_of(sb, "id", ""));
	printf("state             %s\n", str_of(sb, "state", "?"));
	if (int_of(sb, "pid") > 0)
		printf("pid               %" PRId64 "\n", int_of(sb, "pid"));
	else
		printf("pid               -\n");
	printf("uptime            %s\n", up);
	printf("exit code         %s\n", ex);
	if (*str_of(sb, "error", ""))
		printf("error             %s\n", str_of(sb, "error", ""));
	printf("restarts          %" PRId64 " (restart %s", int_of(sb, "restarts"),
	       str_of(sb, "restart", "no"));
	if (max > 0)
		printf(", at most %" PRId64 ")\n", max);
	else
		printf(")\n");
	printf("profile           %s (provider %s, policy version %" PRId64 ")\n",
	       str_of(sb, "profile", ""), str_of(sb, "provider", ""), int_of(sb, "policy_version"));
	printf("owner             uid %" PRId64 "\n", int_of(sb, "owner_uid"));
	printf("command           %s\n", cmd);
	print_limits(sb);
	print_counters(sb);
}

/* ---- shared parsing ----------------------------------------------------------- */

enum {
	OPT_NAME = 1, OPT_RESTART, OPT_MAX_RESTARTS, OPT_PROFILE, OPT_TIME, OPT_FORCE,
	OPT_FOLLOW, OPT_TAIL, OPT_ALLOW, OPT_DENY, OPT_DENY_PATH, OPT_RUNNING, OPT_SIGNAL,
};

/* NAME as the only argument. */
static int one_name(const struct cli_verb *self, const struct cli_parser *p, const char **ret)
{
	if (p->n_args == 0)
		return cli_usage(self, "missing the sandbox name");
	if (p->n_args > 1)
		return cli_usage(self, "unexpected argument '%s'", p->args[1]);
	*ret = p->args[0];
	return 0;
}

static int parse_time(const struct cli_verb *self, const char *arg, int64_t *ret)
{
	uint64_t ms;

	if (sbx_parse_duration_ms(arg, &ms) < 0 || ms > 86400000)
		return cli_usage(self, "--time '%s': expected a duration up to 24h (10s, 1m30s, 0)", arg);
	*ret = (int64_t)ms;
	return 0;
}

/* A reply's sandbox: the JSON, or the human form of print. */
static int print_sandbox(json_object *sb, void (*print)(json_object *))
{
	if (cli_opts.json)
		return print_json(sb);
	print(sb);
	return SBX_EXIT_OK;
}

/* Ends a verb whose call (result r) replies with a Sandbox: prints it, or
 * the error; releases the reply and the client. */
static int sandbox_reply(struct sbx_client *c, int r, json_object *sb, void (*print)(json_object *))
{
	r = r < 0 ? fail_exit(c, r) : print_sandbox(sb, print);
	json_object_put(sb);
	sbx_client_close(c);
	return r;
}

/* The options of a verb that has --socket and at most one flag (NULL: none),
 * which any other option in opts sets: 0, or cli_next_option's error. */
static int parse_flag_opts(const struct cli_verb *self, int argc, char **argv,
			   struct cli_parser *p, const char **socket, bool *flag)
{
	int r;

	cli_parser_init(p, self, argc, argv);
	while ((r = cli_next_option(p)) > 0) {
		if (r == CLI_OPT_SOCKET)
			*socket = p->arg;
		else if (flag)
			*flag = true;
	}
	return r;
}

static void print_name(json_object *sb)
{
	printf("%s\n", str_of(sb, "name", ""));
}

static void print_state(json_object *sb)
{
	char ex[64];

	fmt_exit(ex, sizeof(ex), sb);
	if (!strcmp(str_of(sb, "state", ""), "running") && int_of(sb, "pid") > 0)
		printf("%s: running (pid %" PRId64 ")\n", str_of(sb, "name", ""), int_of(sb, "pid"));
	else if (!strcmp(str_of(sb, "state", ""), "running") || int_of(sb, "exit_code") < 0)
		printf("%s: %s\n", str_of(sb, "name", ""), str_of(sb, "state", "?"));
	else
		printf("%s: %s (exit code %s)\n", str_of(sb, "name", ""), str_of(sb, "state", "?"), ex);
}

/* ---- sbx start ------------------------------------------------------------------ */

int cli_daemon_overrides(const struct adhoc_args *a, struct cli_overrides *ret)
{
	const struct adhoc_list *lists[4] = { &a->allow_host, &a->ro, &a->rw, &a->exec };

	memset(ret, 0, sizeof(*ret));
	if (a->net.n > 1)
		return log_error("--net: give it once through sbxd (allow=ADDR,ADDR... lists several)");
	if (a->print_profile)
		return log_error("--print-profile is for sbx run alone");
	ret->ov.net = a->net.n ? a->net.v[0] : NULL;
	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < lists[i]->n; j++)
			ret->lists[i][j] = lists[i]->v[j];
		ret->lists[i][lists[i]->n] = NULL;
	}
	ret->ov.allow_host = a->allow_host.n ? ret->lists[0] : NULL;
	ret->ov.ro = a->ro.n ? ret->lists[1] : NULL;
	ret->ov.rw = a->rw.n ? ret->lists[2] : NULL;
	ret->ov.exec = a->exec.n ? ret->lists[3] : NULL;
	ret->ov.cwd = a->cwd;
	ret->ov.timeout = a->timeout;
	ret->ov.memory = a->memory;
	ret->ov.cpu = a->cpu;
	ret->ov.pids = a->pids;
	return 0;
}

static const struct cli_option start_opts[] = {
	{ "name", 'n', true, OPT_NAME, CLI_ARG_NONE },	{ "restart", 0, true, OPT_RESTART, CLI_ARG_NONE },
	{ "max-restarts", 0, true, OPT_MAX_RESTARTS, CLI_ARG_NONE }, { "profile", 0, true, OPT_PROFILE, CLI_ARG_PROFILE },
	ADHOC_CLI_OPTIONS,			CLI_SOCKET_OPTION,
	{ 0 }
};

/* no, on-failure (or on_failure), always: the API's spelling */
static const char *restart_policy(const char *arg)
{
	if (!strcmp(arg, "no") || !strcmp(arg, "always"))
		return arg;
	if (!strcmp(arg, "on-failure") || !strcmp(arg, "on_failure"))
		return "on_failure";
	return NULL;
}

static int start_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *name = NULL, *restart = NULL, *profile = NULL, *socket = NULL;
	struct adhoc_args a = { 0 };
	struct cli_overrides ov;
	int64_t max = -1;
	struct sbx_client *c;
	json_object *sb = NULL;
	struct cli_parser p;
	char **cmd, *end;
	int r;

	cli_parser_init(&p, self, argc, argv);
	p.stop_at_args = true;
	while ((r = cli_next_option(&p)) > 0) {
		switch (r) {
		case OPT_NAME: name = p.arg; break;
		case OPT_PROFILE: profile = p.arg; break;
		case CLI_OPT_SOCKET: socket = p.arg; break;
		case OPT_RESTART:
			restart = restart_policy(p.arg);
			if (!restart)
				return cli_usage(self, "--restart '%s': expected no, on-failure or always", p.arg);
			break;
		case OPT_MAX_RESTARTS:
			errno = 0;
			max = strtoll(p.arg, &end, 10);
			if (errno || *end || end == p.arg || max < 0 || max > 1000000)
				return cli_usage(self, "--max-restarts '%s': expected 0 (no cap) to 1000000", p.arg);
			break;
		default:
			if (adhoc_take(&a, r, p.arg) < 0)
				return SBX_EXIT_USAGE;
		}
	}
	if (r < 0)
		return cli_parse_exit(r);
	if (!name)
		return cli_usage(self, "missing --name NAME");
	if (p.n_args == 0)
		return cli_usage(self, "missing the command to run (after --)");
	if (cli_daemon_overrides(&a, &ov) < 0)
		return SBX_EXIT_USAGE;
	cmd = calloc((size_t)p.n_args + 1, sizeof(*cmd));
	if (!cmd)
		return log_error_errno(-ENOMEM, "%m"), SBX_EXIT_FAILURE;
	memcpy(cmd, p.args, (size_t)p.n_args * sizeof(*cmd));
	if ((r = open_or_exit(socket, &c))) {
		free(cmd);
		return r;
	}
	r = sbx_start(c, name, profile, (const char *const *)cmd, &ov.ov, restart, max, &sb);
	free(cmd);
	return sandbox_reply(c, r, sb, print_name);
}

/* ---- sbx stop, restart ------------------------------------------------------------ */

static const struct cli_option stop_opts[] = {
	{ "time", 't', true, OPT_TIME, CLI_ARG_NONE }, CLI_SOCKET_OPTION, { 0 }
};

static int stop_or_restart(const struct cli_verb *self, int argc, char **argv, bool restart)
{
	const char *name = NULL, *socket = NULL;
	int64_t ms = -1;
	struct sbx_client *c;
	json_object *sb = NULL;
	struct cli_parser p;
	int r;

	cli_parser_init(&p, self, argc, argv);
	while ((r = cli_next_option(&p)) > 0) {
		if (r == OPT_TIME && parse_time(self, p.arg, &ms))
			return SBX_EXIT_USAGE;
		if (r == CLI_OPT_SOCKET)
			socket = p.arg;
	}
	if (r < 0)
		return cli_parse_exit(r);
	if (one_name(self, &p, &name))
		return SBX_EXIT_USAGE;
	if ((r = open_or_exit(socket, &c)))
		return r;
	r = restart ? sbx_restart(c, name, ms, &sb) : sbx_stop(c, name, ms, &sb);
	return sandbox_reply(c, r, sb, print_state);
}

static int stop_run(const struct cli_verb *self, int argc, char **argv)
{
	return stop_or_restart(self, argc, argv, false);
}

static int restart_run(const struct cli_verb *self, int argc, char **argv)
{
	return stop_or_restart(self, argc, argv, true);
}

/* ---- sbx rm ------------------------------------------------------------------------ */

static const struct cli_option rm_opts[] = {
	{ "force", 'f', false, OPT_FORCE, CLI_ARG_NONE }, CLI_SOCKET_OPTION, { 0 }
};

static int rm_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *socket = NULL;
	bool force = false;
	struct sbx_client *c;
	struct cli_parser p;
	int r, rc = SBX_EXIT_OK;

	r = parse_flag_opts(self, argc, argv, &p, &socket, &force);
	if (r < 0)
		return cli_parse_exit(r);
	if (p.n_args == 0)
		return cli_usage(self, "missing the sandbox name");
	if (cli_opts.json && p.n_args > 1)
		return cli_usage(self, "--json takes one NAME");
	if ((r = open_or_exit(socket, &c)))
		return r;
	/* each name on its own: one that fails does not keep the others */
	for (int i = 0; i < p.n_args; i++) {
		r = sbx_remove(c, p.args[i], force);
		if (r < 0) {
			cli_daemon_error(c, r);
			rc = SBX_EXIT_FAILURE;
			continue;
		}
		if (cli_opts.json)
			rc = print_done("removed", p.args[i]);
		else
			printf("%s\n", p.args[i]);
	}
	sbx_client_close(c);
	return rc;
}

/* ---- sbx status, ls ----------------------------------------------------------------- */

static const struct cli_option socket_opts[] = { CLI_SOCKET_OPTION, { 0 } };

static void print_pools(json_object *pools)
{
	size_t n = json_object_array_length(pools);

	if (!n) {
		printf("no warm pools (pool.PROFILE = N in sbxd.toml, or sbxd --pool)\n");
		return;
	}
	printf("%-24s %6s %6s %8s %8s %8s\n", "POOL", "SIZE", "READY", "HITS", "MISSES", "FAILURES");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(pools, i);

		printf("%-24s %6" PRId64 " %6" PRId64 " %8" PRId64 " %8" PRId64 " %8" PRId64 "\n",
		       str_of(o, "profile", ""), int_of(o, "size"), int_of(o, "ready"), int_of(o, "hits"),
		       int_of(o, "misses"), int_of(o, "failures"));
		if (*str_of(o, "reason", ""))
			printf("  (no pool: %s)\n", str_of(o, "reason", ""));
	}
}

/* The answer of a call that returns a list (r its result, list the array):
 * a table by print, or with --json {"key": list}. Closes c. */
static int list_reply(struct sbx_client *c, int r, json_object *list, const char *key,
		      void (*print)(json_object *))
{
	json_object *o;

	if (r < 0)
		r = fail_exit(c, r);
	sbx_client_close(c);
	if (r)
		return r;
	if (!cli_opts.json) {
		print(list);
		json_object_put(list);
		return SBX_EXIT_OK;
	}
	o = json_object_new_object();
	if (!o || json_object_object_add(o, key, list)) {
		json_object_put(list);
		json_object_put(o);
		return log_error_errno(-ENOMEM, "%m"), SBX_EXIT_FAILURE;
	}
	r = print_json(o);
	json_object_put(o);
	return r;
}

/* sbx status without NAME: the daemon's own state, its warm pools. */
static int daemon_status(struct sbx_client *c)
{
	json_object *pools = NULL;
	int r = sbx_pools(c, &pools);

	return list_reply(c, r, pools, "pools", print_pools);
}

static int status_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *name = NULL, *socket = NULL;
	struct sbx_client *c;
	json_object *sb = NULL;
	struct cli_parser p;
	int r;

	r = parse_flag_opts(self, argc, argv, &p, &socket, NULL);
	if (r < 0)
		return cli_parse_exit(r);
	if (p.n_args > 1)
		return cli_usage(self, "unexpected argument '%s'", p.args[1]);
	if ((r = open_or_exit(socket, &c)))
		return r;
	if (p.n_args == 0)
		return daemon_status(c);
	name = p.args[0];
	r = sbx_status(c, name, &sb);
	return sandbox_reply(c, r, sb, print_status);
}

static void print_table(json_object *list)
{
	printf("%-20s %-10s %7s %8s %8s %-8s %-16s %s\n", "NAME", "STATE", "PID", "UPTIME", "RESTARTS",
	       "EXIT", "PROFILE", "COMMAND");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *sb = json_object_array_get_idx(list, i);
		char up[32], ex[64], cmd[256], pid[24];

		fmt_duration(up, sizeof(up), int_of(sb, "uptime_usec"));
		fmt_exit(ex, sizeof(ex), sb);
		fmt_command(cmd, sizeof(cmd), sb);
		if (int_of(sb, "pid") > 0)
			snprintf(pid, sizeof(pid), "%" PRId64, int_of(sb, "pid"));
		else
			snprintf(pid, sizeof(pid), "-");
		printf("%-20s %-10s %7s %8s %8" PRId64 " %-8s %-16s %s\n", str_of(sb, "name", ""),
		       str_of(sb, "state", "?"), pid, up, int_of(sb, "restarts"), ex,
		       str_of(sb, "profile", ""), cmd);
	}
}

static int ls_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *socket = NULL;
	struct sbx_client *c;
	json_object *list = NULL;
	struct cli_parser p;
	int r;

	r = parse_flag_opts(self, argc, argv, &p, &socket, NULL);
	if (r < 0)
		return cli_parse_exit(r);
	if (p.n_args)
		return cli_usage(self, "unexpected argument '%s'", p.args[0]);
	if ((r = open_or_exit(socket, &c)))
		return r;
	r = sbx_list(c, &list);
	return list_reply(c, r, list, "sandboxes", print_table);
}

/* ---- sbx metrics --------------------------------------------------------------------- */

static int metrics_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *socket = NULL;
	struct sbx_client *c;
	struct cli_parser p;
	json_object *o;
	char *text = NULL;
	int r;

	r = parse_flag_opts(self, argc, argv, &p, &socket, NULL);
	if (r < 0)
		return cli_parse_exit(r);
	if (p.n_args)
		return cli_usage(self, "unexpected argument '%s'", p.args[0]);
	if ((r = open_or_exit(socket, &c)))
		return r;
	r = sbx_metrics(c, &text);
	if (r < 0)
		r = fail_exit(c, r);
	sbx_client_close(c);
	if (r)
		return r;
	if (!cli_opts.json) {
		fputs(text, stdout);
		free(text);
		return SBX_EXIT_OK;
	}
	o = json_object_new_object();
	if (!o || json_object_object_add(o, "text", json_object_new_string(text))) {
		json_object_put(o);
		free(text);
		return log_error_errno(-ENOMEM, "%m"), SBX_EXIT_FAILURE;
	}
	free(text);
	r = print_json(o);
	json_object_put(o);
	return r;
}

/* ---- sbx logs ------------------------------------------------------------------------ */

static const struct cli_option logs_opts[] = {
	{ "follow", 'f', false, OPT_FOLLOW, CLI_ARG_NONE }, { "tail", 'n', true, OPT_TAIL, CLI_ARG_NONE }, CLI_SOCKET_OPTION,
	{ 0 }
};

static int write_data(const char *data, size_t len, void *userdata)
{
	bool *failed = userdata;

	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
		/* stdout closed (| head) ends the output, not in failure */
		*failed = errno != EPIPE;
		return 1;
	}
	return 0;
}

static int logs_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *name = NULL, *socket = NULL;
	bool follow = false, failed = false;
	int64_t tail = -1;
	struct sbx_client *c;
	struct cli_parser p;
	char *end;
	int r;

	cli_parser_init(&p, self, argc, argv);
	while ((r = cli_next_option(&p)) > 0) {
		switch (r) {
		case OPT_FOLLOW: follow = true; break;
		case CLI_OPT_SOCKET: socket = p.arg; break;
		case OPT_TAIL:
			errno = 0;
			tail = strtoll(p.arg, &end, 10);
			if (errno || *end || end == p.arg || tail < 0 || tail > 10000000)
				return cli_usage(self, "--tail '%s': expected a number of lines (0 to 10000000)",
						 p.arg);
			break;
		}
	}
	if (r < 0)
		return cli_parse_exit(r);
	if (one_name(self, &p, &name))
		return SBX_EXIT_USAGE;
	if (cli_opts.json)
		return cli_usage(self, "the output is the workload's own: --json does not apply");
	if ((r = open_or_exit(socket, &c)))
		return r;
	signal(SIGPIPE, SIG_IGN);
	r = sbx_logs(c, name, tail, follow, write_data, &failed);
	if (r < 0)
		cli_daemon_error(c, r);
	sbx_client_close(c);
	return r < 0 || failed ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

/* ---- sbx update ------------------------------------------------------------------------ */

#define MAX_LIST 64

static const struct cli_option update_opts[] = {
	{ "memory", 0, true, ADHOC_OPT_MEMORY, CLI_ARG_NONE },	{ "pids", 0, true, ADHOC_OPT_PIDS, CLI_ARG_NONE },
	{ "cpu", 0, true, ADHOC_OPT_CPU, CLI_ARG_NONE },		{ "allow", 0, true, OPT_ALLOW, CLI_ARG_NONE },
	{ "deny", 0, true, OPT_DENY, CLI_ARG_NONE },			{ "deny-path", 0, true, OPT_DENY_PATH, CLI_ARG_NONE },
	{ "ro", 0, true, ADHOC_OPT_RO, CLI_ARG_FILE }, { "rw", 0, true, ADHOC_OPT_RW, CLI_ARG_FILE },
	CLI_SOCKET_OPTION,
	{ 0 }
};

struct strlist {
	const char *v[MAX_LIST + 1];
	size_t n;
};

static int push(const struct cli_verb *self, struct strlist *l, const char *flag, const char *arg)
{
	if (l->n == MAX_LIST)
		return cli_usage(self, "--%s: at most %d", flag, MAX_LIST);
	l->v[l->n++] = arg;
	l->v[l->n] = NULL;
	return 0;
}

static int update_run(const struct cli_verb *self, int argc, char **argv)
{
	struct strlist allow = { 0 }, deny = { 0 }, deny_path = { 0 }, ro = { 0 }, rw = { 0 };
	struct sbx_update u = { 0 };
	const char *name = NULL, *socket = NULL;
	struct sbx_client *c;
	json_object *sb = NULL;
	struct cli_parser p;
	int r, bad = 0;

	cli_parser_init(&p, self, argc, argv);
	while ((r = cli_next_option(&p)) > 0 && !bad) {
		switch (r) {
		case ADHOC_OPT_MEMORY: u.memory = p.arg; break;
		case ADHOC_OPT_PIDS: u.pids = p.arg; break;
		case ADHOC_OPT_CPU: u.cpu = p.arg; break;
		case CLI_OPT_SOCKET: socket = p.arg; break;
		case OPT_ALLOW: bad = push(self, &allow, "allow", p.arg); break;
		case OPT_DENY: bad = push(self, &deny, "deny", p.arg); break;
		case OPT_DENY_PATH: bad = push(self, &deny_path, "deny-path", p.arg); break;
		case ADHOC_OPT_RO: bad = push(self, &ro, "ro", p.arg); break;
		case ADHOC_OPT_RW: bad = push(self, &rw, "rw", p.arg); break;
		}
	}
	if (bad)
		return SBX_EXIT_USAGE;
	if (r < 0)
		return cli_parse_exit(r);
	if (one_name(self, &p, &name))
		return SBX_EXIT_USAGE;
	u.allow = allow.n ? allow.v : NULL;
	u.deny = deny.n ? deny.v : NULL;
	u.deny_path = deny_path.n ? deny_path.v : NULL;
	u.ro = ro.n ? ro.v : NULL;
	u.rw = rw.n ? rw.v : NULL;
	if (!u.memory && !u.pids && !u.cpu && !u.allow && !u.deny && !u.deny_path && !u.ro && !u.rw)
		return cli_usage(self, "nothing to change (give --memory, --pids, --cpu, --allow, --deny, "
				 "--deny-path, --ro or --rw)");
	if ((r = open_or_exit(socket, &c)))
		return r;
	r = sbx_update(c, name, &u, &sb);
	return sandbox_reply(c, r, sb, print_status);
}

/* ---- sbx reload ------------------------------------------------------------------------- */

static const struct cli_option reload_opts[] = {
	{ "running", 0, false, OPT_RUNNING, CLI_ARG_NONE }, CLI_SOCKET_OPTION, { 0 }
};

static void print_names(const char *what, json_object *a)
{
	printf("%s:", what);
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(a, i)));
	if (!a || !json_object_array_length(a))
		printf(" none");
	printf("\n");
}

static int reload_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *socket = NULL;
	bool running = false;
	struct sbx_client *c;
	json_object *reply = NULL, *a = NULL;
	struct cli_parser p;
	int r;

	r = parse_flag_opts(self, argc, argv, &p, &socket, &running);
	if (r < 0)
		return cli_parse_exit(r);
	if (p.n_args)
		return cli_usage(self, "unexpected argument '%s'", p.args[0]);
	if ((r = open_or_exit(socket, &c)))
		return r;
	r = sbx_reload(c, running, &reply);
	if (r < 0)
		r = fail_exit(c, r);
	sbx_client_close(c);
	if (r)
		return r;
	if (cli_opts.json) {
		r = print_json(reply);
	} else {
		json_object_object_get_ex(reply, "profiles", &a);
		print_names("profiles", a);
		a = NULL;
		json_object_object_get_ex(reply, "moved", &a);
		print_names("moved", a);
		r = SBX_EXIT_OK;
	}
	json_object_put(reply);
	return r;
}

/* ---- sbx run through sbxd ----------------------------------------------------------------- */

/* Signals to the client are forwarded as Kill on the sandbox, as direct
 * mode forwards them to the workload. The handler only records; the
 * library calls forward() when the wait for the reply is interrupted. */
static volatile sig_atomic_t pending_signal;

static void on_signal(int sig)
{
	pending_signal = sig;
}

struct run_fwd {
	const char *path;		/* the daemon's socket */
	char name[256];			/* the sandbox, once Run said it started */
};

/* Sends the pending signal to the sandbox, on a connection of its own
 * (the first one waits for Run's reply). */
static void forward_pending(struct run_fwd *f)
{
	struct sbx_client *k;
	char sig[16];

	if (!pending_signal || !f->name[0])
		return;
	snprintf(sig, sizeof(sig), "%d", (int)pending_signal);
	pending_signal = 0;
	if (sbx_client_open(f->path, &k) == 0) {
		sbx_kill(k, f->name, sig);	/* a sandbox that just ended: nothing to do */
		sbx_client_close(k);
	}
}

static int forward(struct sbx_client *c, void *userdata)
{
	forward_pending(userdata);
	return 0;
}

/* A signal that came before the sandbox had its name goes now. */
static void started(const char *name, void *userdata)
{
	struct run_fwd *f = userdata;

	snprintf(f->name, sizeof(f->name), "%s", name);
	forward_pending(f);
}

int cli_daemon_run(struct sbx_client *c, const char *profile, const char *name,
		   const struct adhoc_args *a, char **argv, bool tty)
{
	/* SIGWINCH last: with -t the monitor copies the new size to its pty */
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa = { .sa_handler = on_signal }, old[7];
	size_t n = tty ? 7 : 6;
	struct run_fwd f = { .path = sbx_client_path(c) };
	const int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
	struct cli_overrides ov;
	int r, code = SBX_EXIT_SBX_FAILED;

	if (cli_daemon_overrides(a, &ov) < 0)
		return SBX_EXIT_SBX_FAILED;
	sigemptyset(&sa.sa_mask);	/* no SA_RESTART: the wait sees EINTR */
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, &old[i]);
	sbx_client_on_interrupt(c, forward, &f);
	r = sbx_run_command(c, profile, (const char *const *)argv, &ov.ov, name, fds, tty, started, &f,
			    &code, NULL);
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (r < 0) {
		cli_daemon_error(c, r);
		return SBX_EXIT_SBX_FAILED;
	}
	return code;
}

/* ---- the verbs ------------------------------------------------------------------------------ */

#define NEEDS_DAEMON \
	"\n" \
	"  This verb talks to sbxd (sbxd(8)) over its socket; when the daemon is not\n" \
	"  running it says so and exits 1.\n"

const struct cli_verb cli_verb_start = {
	.name = "start", .cmd = "start", .run = start_run,
	.opts = start_opts,
	.args = CLI_ARG_COMMAND,
	.summary = "start a long-running sandbox under sbxd",
	.synopsis = "start --name NAME [--restart no|on-failure|always] [--max-restarts N]\n"
		    "    [--profile P] [--memory S] [--timeout D] [--pids N] [--cpu N]\n"
		    "    [--net none|host|allow=ADDR[,ADDR...]]\n"
		    "    [--allow-host NAME[:PORT]]... [--ro PATH]... [--rw PATH]...\n"
		    "    [--exec PATH]... [--cwd DIR]\n"
		    "    [--socket PATH] [--json] -- CMD [ARG]...",
	.description =
		"  Start CMD detached in a sandbox named NAME that sbxd runs and watches, and\n"
		"  return as soon as it runs (or say why sbx could not build it, exit 1).\n"
		"  The workload's stdout and stderr go to size-bounded,\n"
		"  rotated log files (sbx logs NAME). The profile (default \"default\") must\n"
		"  be one the caller may run (its allow_users and allow_groups); the\n"
		"  ad-hoc flags work as for sbx run, and a caller other than root may only\n"
		"  tighten the profile with them.\n"
		"\n"
		"  --restart decides what happens when the workload exits: no (stay\n"
		"  exited), on-failure (start again after a non-zero exit), always; restarts\n"
		"  back off (100 ms, doubling up to 30 s). --max-restarts caps them (0:\n"
		"  no cap).\n"
		"  Prints NAME, or with --json the Sandbox object of docs/api.md.\n"
		NEEDS_DAEMON,
	.options =
		"  -n, --name NAME    the sandbox's name (letters, digits, . _ -), unique\n"
		"  --restart POLICY   no (default), on-failure or always\n"
		"  --max-restarts N   restart at most N times (0: no cap, the default)\n"
		"  --profile P        the profile to run (default \"default\")\n"
		"  --memory S, --timeout D, --pids N, --cpu N, --net ..., --allow-host ...,\n"
		"  --ro PATH, --rw PATH, --exec PATH, --cwd DIR\n"
		"                     as for sbx run (see sbx run --help)\n"
		HELP_COMMON,
	.exit_status = "  0  started\n" EXIT_DAEMON,
	.examples =
		"  sbx start --name web --restart on-failure -- python3 -m http.server 8080\n"
		"  sbx start --name job --profile batch --memory 256M -- ./job.sh\n",
};

#define HELP_TIME "  -t, --time D       the grace period before SIGKILL (10s, 500ms, 0)\n"

const struct cli_verb cli_verb_stop = {
	.name = "stop", .cmd = "stop", .run = stop_run,
	.opts = stop_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "stop a sandbox of sbxd (SIGTERM, then SIGKILL)",
	.synopsis = "stop [--time D] [--socket PATH] [--json] NAME",
	.description =
		"  Send SIGTERM to the workload of sandbox NAME, and SIGKILL to every process\n"
		"  of the sandbox when it has not exited after the grace period (--time,\n"
		"  default sbxd's stop_timeout, 10s). Waits until it has exited; a restart\n"
		"  policy does not start it again. Prints \"NAME: exited (exit code N)\", or\n"
		"  with --json the Sandbox object.\n"
		NEEDS_DAEMON,
	.options = HELP_TIME HELP_COMMON,
	.exit_status = "  0  stopped (or it was not running)\n" EXIT_DAEMON,
	.examples = "  sbx stop web\n  sbx stop --time 30s db\n",
};

const struct cli_verb cli_verb_restart = {
	.name = "restart", .cmd = "restart", .run = restart_run,
	.opts = stop_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "stop a sandbox of sbxd and start it again",
	.synopsis = "restart [--time D] [--socket PATH] [--json] NAME",
	.description =
		"  Stop sandbox NAME as sbx stop does (when it runs), then start its command\n"
		"  again under the same profile and overrides. Prints \"NAME: running (pid\n"
		"  N)\", or with --json the Sandbox object. Sandboxes of sbx run cannot be\n"
		"  restarted.\n"
		NEEDS_DAEMON,
	.options = HELP_TIME HELP_COMMON,
	.exit_status = "  0  restarted\n" EXIT_DAEMON,
	.examples = "  sbx restart web\n",
};

const struct cli_verb cli_verb_rm = {
	.name = "rm", .cmd = "rm", .run = rm_run,
	.opts = rm_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "remove sandboxes of sbxd with their state and logs",
	.synopsis = "rm [-f|--force] [--socket PATH] [--json] NAME...",
	.description =
		"  Forget each sandbox NAME that is not running, and remove its state and\n"
		"  output logs. A running sandbox is refused unless --force, which stops it\n"
		"  first (as sbx stop). Prints each name removed; with --json (one NAME)\n"
		"  {\"removed\": NAME}.\n"
		NEEDS_DAEMON,
	.options = "  -f, --force        stop a running sandbox first\n" HELP_COMMON,
	.exit_status = "  0  every NAME was removed\n" EXIT_DAEMON,
	.examples = "  sbx rm web\n  sbx rm --force web db\n",
};

const struct cli_verb cli_verb_status = {
	.name = "status", .cmd = "status", .run = status_run,
	.opts = socket_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "show the state, limits and counters of a sandbox of sbxd, or sbxd's pools",
	.synopsis = "status [--socket PATH] [--json] [NAME]",
	.description =
		"  Show sandbox NAME: its state (created, running, exited, restarting), pid,\n"
		"  uptime, last exit code (and signal), restarts and restart policy,\n"
		"  profile, owner, command, the limits in force (memory, pids, cpu, timeout)\n"
		"  and, while it runs, its counters: memory now and at its peak, CPU time,\n"
		"  network bytes in and out, connects allowed and denied, denials. With\n"
		"  --json: the Sandbox object of docs/api.md.\n"
		"  Without NAME: sbxd's warm pools, per profile its size, the entries ready,\n"
		"  hits, misses and failures, and why a profile has no pool (with --json:\n"
		"  {\"pools\": [Pool...]}, docs/api.md).\n"
		NEEDS_DAEMON,
	.options = HELP_COMMON,
	.exit_status = "  0  success\n" EXIT_DAEMON,
	.examples = "  sbx status web\n  sbx status --json web | jq .counters.memory_current\n"
		    "  sbx status --json | jq '.pools[] | {profile, ready, hits, misses}'\n",
};

const struct cli_verb cli_verb_ls = {
	.name = "ls", .cmd = "ls", .run = ls_run,
	.opts = socket_opts,
	.summary = "list the sandboxes of sbxd",
	.synopsis = "ls [--socket PATH] [--json]",
	.description =
		"  List the sandboxes sbxd manages that the caller may see (its own; root\n"
		"  and sbxd's admin_groups see all): name, state, pid, uptime, restarts,\n"
		"  last exit code, profile and command. With --json:\n"
		"    {\"sandboxes\": [Sandbox, ...]} (docs/api.md; without counters).\n"
		"  sbx ps lists the instance's sandboxes by id with their BPF counters\n"
		"  instead.\n"
		NEEDS_DAEMON,
	.options = HELP_COMMON,
	.exit_status = "  0  success\n" EXIT_DAEMON,
	.examples = "  sbx ls\n  sbx ls --json | jq -r '.sandboxes[].name'\n",
};

const struct cli_verb cli_verb_metrics = {
	.name = "metrics", .cmd = "metrics", .run = metrics_run,
	.opts = socket_opts,
	.summary = "print sbxd's Prometheus metrics",
	.synopsis = "metrics [--socket PATH] [--json]",
	.description =
		"  Print the metrics of sbxd in the Prometheus text exposition format\n"
		"  (version 0.0.4), the same text its HTTP endpoint serves (metrics_listen\n"
		"  in sbxd.toml): sandboxes running, started and failed, the start latency,\n"
		"  and per sandbox its network bytes, connects allowed and denied, file,\n"
		"  exec and syscall denials, memory, CPU time, OOM kills and audit events\n"
		"  (docs/monitoring.md lists every series). Root and sbxd's admin_groups\n"
		"  get every sandbox; another user the series of its own sandboxes and the\n"
		"  daemon-wide ones. With --json: {\"text\": \"...\"}.\n"
		NEEDS_DAEMON,
	.options = HELP_COMMON,
	.exit_status = "  0  success\n" EXIT_DAEMON,
	.examples = "  sbx metrics\n"
		    "  sbx metrics | grep '^sbx_sandbox_connects_denied_total'\n"
		    "  sbx metrics | promtool check metrics\n",
};

const struct cli_verb cli_verb_logs = {
	.name = "logs", .cmd = "logs", .run = logs_run,
	.opts = logs_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "print the output of a sandbox of sbxd",
	.synopsis = "logs [-f|--follow] [-n|--tail N] [--socket PATH] NAME",
	.description =
		"  Print what the workload of sandbox NAME wrote to its stdout and stderr,\n"
		"  as sbxd kept it (the rotated files included), to stdout. --tail N prints\n"
		"  the last N lines only; --follow then goes on printing what the workload\n"
		"  writes, until the sandbox is removed or sbx logs is interrupted.\n"
		NEEDS_DAEMON,
	.options =
		"  -f, --follow       keep printing new output\n"
		"  -n, --tail N       only the last N lines (default: all that is kept)\n"
		CLI_SOCKET_HELP
		"  -h, --help         show this help\n",
	.exit_status = "  0  success\n" EXIT_DAEMON,
	.examples = "  sbx logs web\n  sbx logs --follow --tail 20 web\n",
};

const struct cli_verb cli_verb_update = {
	.name = "update", .cmd = "update", .run = update_run,
	.opts = update_opts,
	.args = CLI_ARG_SANDBOX,
	.summary = "change the limits and rules of a running sandbox of sbxd",
	.synopsis = "update [--memory S] [--pids N] [--cpu N] [--allow ADDR]...\n"
		    "    [--deny ADDR]... [--deny-path P]... [--ro P]... [--rw P]...\n"
		    "    [--socket PATH] [--json] NAME",
	.description =
		"  Change running sandbox NAME atomically: no connect or open sees half of\n"
		"  the change. --memory, --pids and --cpu set limits; --deny refuses a\n"
		"  destination (ADDR as in a policy's allow list: 10.0.0.0/8, host:443),\n"
		"  --allow permits one; --deny-path takes a path away, --ro and --rw grant\n"
		"  one. Tightening is open to the sandbox's owner; loosening (--allow, --ro,\n"
		"  --rw, higher limits) to root. Prints the sandbox's status afterwards\n"
		"  (--json: the Sandbox object).\n"
		NEEDS_DAEMON,
	.options =
		"  --memory S         the memory limit (128M, 1G)\n"
		"  --pids N           the process limit\n"
		"  --cpu N            the CPU limit (0.5, 2)\n"
		"  --allow ADDR       allow connections to ADDR (repeatable; root)\n"
		"  --deny ADDR        deny connections to ADDR (repeatable)\n"
		"  --deny-path P      take access to path P away (repeatable)\n"
		"  --ro P, --rw P     grant read, or read and write, access to P (root)\n"
		HELP_COMMON,
	.exit_status = "  0  updated\n" EXIT_DAEMON,
	.examples = "  sbx update web --memory 128M --deny 10.0.0.0/8\n",
};

const struct cli_verb cli_verb_reload = {
	.name = "reload", .cmd = "reload", .run = reload_run,
	.opts = reload_opts,
	.summary = "make sbxd re-read its policy directory",
	.synopsis = "reload [--running] [--socket PATH] [--json]",
	.description =
		"  Make sbxd re-read its policy directory (as SIGHUP does). A file that\n"
		"  fails validation changes nothing, and the error names it as\n"
		"  FILE:LINE:COLUMN: MESSAGE. New runs use the new profiles; running\n"
		"  sandboxes keep theirs unless --running (root only), which moves them\n"
		"  to the new version of their profile, each atomically. Prints the\n"
		"  profiles loaded and the sandboxes moved (--json: {\"profiles\": [...],\n"
		"  \"moved\": [...]}). Root and sbxd's admin_groups may reload.\n"
		NEEDS_DAEMON,
	.options = "  --running          move running sandboxes to the new profiles too\n" HELP_COMMON,
	.exit_status = "  0  reloaded\n" EXIT_DAEMON,
	.examples = "  sbx reload\n  sbx reload --running\n",
};
