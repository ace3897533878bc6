/* SPDX-License-Identifier: MIT */
/* `sbx audit`: read (and follow) the instance's JSON-lines audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "core/auditlog.h"
#include "core/run.h"

enum { OPT_FOLLOW = 1, OPT_SINCE, OPT_SANDBOX, OPT_FILE };

static const struct cli_option audit_opts[] = {
	{ "follow", 'f', false, OPT_FOLLOW, CLI_ARG_NONE }, { "since", 0, true, OPT_SINCE, CLI_ARG_NONE },
	{ "sandbox", 0, true, OPT_SANDBOX, CLI_ARG_NONE },
	{ "file", 0, true, OPT_FILE, CLI_ARG_FILE },
	{ 0 }
};

struct audit_filter {
	const char *sandbox;	/* id or prefix */
	unsigned long long since;
};

/* The value of a top-level member of one of our flat JSON lines, copied
 * into buf without quotes (escapes are left as written: display only). */
static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	if (*p == '"') {
		for (e = ++p; *e && *e != '"'; e++)
			if (*e == '\\' && e[1])
				e++;
	} else {
		e = p + strcspn(p, ",}");
	}
	snprintf(buf, len, "%.*s", (int)(e - p), p);
	return buf;
}

static bool wanted(const char *line, const struct audit_filter *f)
{
	char buf[64];

	if (f->sandbox) {
		const char *id = field(line, "sandbox", buf, sizeof(buf));

		if (!id || (strncmp(id, f->sandbox, strlen(f->sandbox)) &&
			    strncmp(id + 4, f->sandbox, strlen(f->sandbox))))
			return false;
	}
	if (f->since && (!field(line, "seq", buf, sizeof(buf)) || strtoull(buf, NULL, 10) <= f->since))
		return false;
	return true;
}

static void print_human(const char *line)
{
	static const char *const extra[] = { "addr", "port", "proto", "rule", "exit_code", "signal",
					     "family", "type", "bytes", "quota", "comm" };
	char t[64], sb[40], ev[32], v[16], buf[256];

	printf("%-30s %-12s %-14s %-5s", field(line, "time", t, sizeof(t)) ? t : "?",
	       field(line, "sandbox", sb, sizeof(sb)) ? sb : "?",
	       field(line, "event", ev, sizeof(ev)) ? ev : "?",
	       field(line, "verdict", v, sizeof(v)) ? v : "-");
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (field(line, extra[i], buf, sizeof(buf)))
			printf(" %s=%s", extra[i], buf);
	putchar('\n');
}

static void print_line(const char *line, const struct audit_filter *flt)
{
	if (!wanted(line, flt))
		return;
	if (cli_opts.json)
		fputs(line, stdout);
	else
		print_human(line);
}

static int pump(FILE *f, const struct audit_filter *flt)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n') {	/* partial line being written: retry later */
			fseeko(f, -n, SEEK_CUR);
			break;
		}
		print_line(line, flt);
	}
	free(line);
	clearerr(f);
	return fflush(stdout) == 0 ? 0 : -errno;
}

/* The follower's whole lines (core/auditlog.h). */
static int emit_lines(void *ctx, const void *data, size_t len)
{
	const char *buf = data;

	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) + 1 : len;
		char *line = strndup(buf, n);

		if (!line)
			return -ENOMEM;
		print_line(line, ctx);
		free(line);
		buf += n;
		len -= n;
	}
	return fflush(stdout) == 0 ? 0 : -errno;
}

/* --follow goes on from where the first reading stopped, through the
 * rotations of the log (by sbx run's writers or logrotate). */
static int follow_log(FILE *f, const char *file, const struct audit_filter *flt)
{
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	struct sbx_auditfollow af;
	struct stat a, b;
	char why[512];
	int r;

	r = sbx_auditfollow_start(&af, file, why, sizeof(why));
	if (r < 0)
		return log_error("audit log: %s", why), SBX_EXIT_FAILURE;
	if (af.fd >= 0 && fstat(af.fd, &a) == 0 && fstat(fileno(f), &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev)
		af.off = (uint64_t)ftello(f);
	while ((r = sbx_auditfollow_pump(&af, emit_lines, (void *)flt)) >= 0)
		nanosleep(&pause, NULL);
	sbx_auditfollow_close(&af);
	return r == -EPIPE ? SBX_EXIT_OK : SBX_EXIT_FAILURE;
}

static int audit_run(const struct cli_verb *self, int argc, char **argv)
{
	struct audit_filter flt = { 0 };
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	char path[4096];
	const char *file = NULL;
	bool follow = false;
	struct cli_parser a;
	FILE *f;
	int r;

	cli_parser_init(&a, self, argc, argv);
	while ((r = cli_next_option(&a)) > 0) {
		if (r == OPT_FOLLOW)
			follow = true;
		else if (r == OPT_SANDBOX)
			flt.sandbox = a.arg;
		else if (r == OPT_FILE)
			file = a.arg;
		else if (r == OPT_SINCE) {
			char *end;

			errno = 0;
			flt.since = strtoull(a.arg, &end, 10);
			if (*end || !*a.arg || a.arg[0] == '-' || errno == ERANGE)
				return cli_usage(self, "--since '%s': expected a sequence number", a.arg);
		}
	}
	if (r < 0)
		return cli_parse_exit(r);
	if (a.n_args)
		return cli_usage(self, "unexpected argument '%s'", a.args[0]);
	if (!file && sbx_audit_log_path(path, sizeof(path)) < 0)
		return log_error("invalid SBX_INSTANCE"), SBX_EXIT_FAILURE;
	if (!file)
		file = path;
	struct stat st;

	if (stat(file, &st) == 0 && S_ISDIR(st.st_mode))
		return log_error("audit log %s: Is a directory", file), SBX_EXIT_FAILURE;
	while (!(f = fopen(file, "re"))) {
		if (errno != ENOENT || !follow)
			return log_error_errno(-errno, "audit log %s: %m", file), SBX_EXIT_FAILURE;
		nanosleep(&pause, NULL);
	}
	/* a reader gone (EPIPE) ends it quietly */
	r = pump(f, &flt) < 0 || !follow ? SBX_EXIT_OK : follow_log(f, file, &flt);
	fclose(f);
	return r;
}

const struct cli_verb cli_verb_audit = {
	.name = "audit", .cmd = "audit", .run = audit_run,
	.opts = audit_opts,
	.summary = "read the audit log of all sandboxes",
	.synopsis = "audit [--follow] [--since SEQ] [--sandbox ID] [--file PATH] [--json]",
	.description =
		"  Print the audit log that every sbx run of this instance appends to\n"
		"  (/var/log/sbx/audit.jsonl; /var/log/<instance>/ for SBX_INSTANCE, or\n"
		"  $SBX_LOG_DIR). One event per line: time, sandbox, event, verdict and the\n"
		"  event's details. With --json the lines are printed as they are stored,\n"
		"  one JSON object per line (docs/audit.md), ready for jq.\n",
	.options =
		"  -f, --follow     keep reading as new events arrive (like tail -f)\n"
		"  --since SEQ      only events with a sequence number above SEQ (use with\n"
		"                   --sandbox: sequence numbers count per sandbox)\n"
		"  --sandbox ID     only events of this sandbox (id or unique prefix)\n"
		"  --file PATH      read PATH instead of the instance's log\n"
		"  -j, --json       print the JSON lines unchanged\n"
		"  -h, --help       show this help\n",
	.exit_status = "  0  success\n  1  the log could not be read\n  2  usage error\n",
	.examples =
		"  sbx audit --follow\n"
		"  sbx audit --json --sandbox sbx-1a2b | jq 'select(.verdict == \"deny\")'\n",
};
