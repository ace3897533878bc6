/* SPDX-License-Identifier: MIT */
/* Verb dispatch, option parsing, help and logging for the sbx CLI. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/util.h"

struct cli_options cli_opts;

/* Ids of the options every verb accepts; verb option ids are small. */
enum {
	OPT_GLOBAL_JSON = 0x10000,
	OPT_GLOBAL_PRETTY,
	OPT_GLOBAL_HELP,
	OPT_VERSION,
};

static const struct cli_option global_opts[] = {
	{ "json", 'j', false, OPT_GLOBAL_JSON, CLI_ARG_NONE },
	{ "pretty", 'p', false, OPT_GLOBAL_PRETTY, CLI_ARG_NONE },
	{ "help", 'h', false, OPT_GLOBAL_HELP, CLI_ARG_NONE },
	{ 0 }
};

const struct cli_option *cli_global_options(void)
{
	return global_opts;
}

/* ---- logging ----------------------------------------------------------- */

static char *log_capture_buf;
static size_t log_capture_len;

void cli_log_capture(char *buf, size_t len)
{
	log_capture_buf = len ? buf : NULL;
	log_capture_len = len;
	if (buf && len)
		buf[0] = '\0';
}

static void __attribute__((format(printf, 2, 0)))
vlog(const char *level, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (log_capture_buf) {
		/* a caller that reports errors itself (sbxd): keep the first */
		if (!log_capture_buf[0] && strcmp(level, "error") == 0)
			snprintf(log_capture_buf, log_capture_len, "%s", msg ? msg : "out of memory");
		free(msg);
		return;
	}
	if (cli_opts.json && strcmp(level, "error") == 0) {
		struct json_writer w;

		cli_json_begin(&w);
		json_begin_object(&w);
		json_kv_string(&w, "error", msg ? msg : "out of memory");
		json_end_object(&w);
		json_finish(&w);
	} else {
		fflush(stdout);		/* keep order when both go to a terminal */
		fprintf(stderr, "sbx: %s: %s\n", level, msg ? msg : "out of memory");
	}
	free(msg);
}

int log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int log_error_errno(int r, const char *fmt, ...)
{
	va_list ap;

	r = r < 0 ? r : -r;
	errno = -r;		/* for %m */
	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
	return r;
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap);
	va_end(ap);
}

int cli_usage(const struct cli_verb *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
	if (!cli_opts.json)
		fprintf(stderr, "Try 'sbx%s%s --help' for more information.\n",
			v->cmd ? " " : "", v->cmd ? v->cmd : "");
	return SBX_EXIT_USAGE;
}

void cli_json_begin(struct json_writer *w)
{
	json_init(w, stdout, cli_opts.pretty);
}

int cli_json_end(struct json_writer *w)
{
	int r = json_finish(w);

	if (r < 0) {
		/* Not through log_error: stdout is what just failed. */
		errno = -r;
		fprintf(stderr, "sbx: error: writing JSON output: %m\n");
	}
	return r;
}

/* ---- option parsing ---------------------------------------------------- */

void cli_parser_init(struct cli_parser *p, const struct cli_verb *verb, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->verb = verb;
	p->opts = verb->opts;
	p->argc = argc;
	p->argv = argv;
	p->next = 1;
	p->args = argv + 1;
}

static const struct cli_option *find_option(const struct cli_option *opts,
					    const char *name, size_t len, char c)
{
	for (; opts && (opts->name || opts->short_name); opts++) {
		if (c && opts->short_name == c)
			return opts;
		if (!c && opts->name && strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	}
	return NULL;
}

/* The verb's own options first, so that a verb may reuse a global letter. */
static const struct cli_option *lookup_option(const struct cli_parser *p,
					      const char *name, size_t len, char c)
{
	const struct cli_option *o = find_option(p->opts, name, len, c);

	return o ? o : find_option(global_opts, name, len, c);
}

static int usage_error(const struct cli_parser *p, const char *what, const char *dashes,
		       const char *name, int len)
{
	cli_usage(p->verb, "%s '%s%.*s'", what, dashes, len, name);
	return -EINVAL;
}

/* "--name", "--name=value" or "--name value"; sets p->arg. */
static int parse_long(struct cli_parser *p, const char *body, const struct cli_option **ret)
{
	const char *eq = strchr(body, '=');
	int len = eq ? (int)(eq - body) : (int)strlen(body);
	const struct cli_option *o = lookup_option(p, body, (size_t)len, 0);

	if (!o)
		return usage_error(p, "unknown option", "--", body, len);
	if (!o->has_arg && eq)
		return usage_error(p, "this option takes no value:", "--", body, len);
	if (o->has_arg && eq)
		p->arg = eq + 1;
	else if (o->has_arg && p->next < p->argc)
		p->arg = p->argv[p->next++];
	else if (o->has_arg)
		return usage_error(p, "this option needs a value:", "--", body, len);
	*ret = o;
	return 0;
}

/* The next letter of a "-abc" cluster; a value may follow attached ("-eprod"). */
static int parse_short(struct cli_parser *p, const struct cli_option **ret)
{
	const char *c = p->cluster++;
	const struct cli_option *o = lookup_option(p, NULL, 0, *c);

	if (!o)
		return usage_error(p, "unknown option", "-", c, 1);
	if (o->has_arg && c[1]) {
		p->arg = c + 1;
		p->cluster = NULL;
	} else if (o->has_arg && p->next < p->argc) {
		p->arg = p->argv[p->next++];
	} else if (o->has_arg) {
		return usage_error(p, "this option needs a value:", "-", c, 1);
	}
	*ret = o;
	return 0;
}

/* Handles the global options; returns 1 when o was one, -ECANCELED after --help. */
static int apply_global(const struct cli_parser *p, const struct cli_option *o)
{
	switch (o->id) {
	case OPT_GLOBAL_JSON:
		cli_opts.json = true;
		return 1;
	case OPT_GLOBAL_PRETTY:
		cli_opts.json = cli_opts.pretty = true;
		return 1;
	case OPT_GLOBAL_HELP:
		cli_print_help(stdout, p->verb);
		return -ECANCELED;
	}
	return 0;
}

/* Moves argv[p->next] (and with stop_at_args everything after it) to the arguments. */
static void take_args(struct cli_parser *p)
{
	do
		p->args[p->n_args++] = p->argv[p->next++];
	while (p->stop_at_args && p->next < p->argc);
}

int cli_next_option(struct cli_parser *p)
{
	for (;;) {
		const struct cli_option *o = NULL;
		const char *a;
		int r;

		if (p->cluster && *p->cluster) {
			r = parse_short(p, &o);
		} else {
			p->cluster = NULL;
			if (p->next >= p->argc)
				return 0;
			a = p->argv[p->next];
			if (p->saw_dashdash || a[0] != '-' || a[1] == '\0') {
				take_args(p);
				continue;
			}
			p->next++;
			if (strcmp(a, "--") == 0) {
				p->saw_dashdash = true;
				continue;
			}
			if (a[1] != '-') {
				p->cluster = a + 1;
				continue;
			}
			r = parse_long(p, a + 2, &o);
		}
		if (r < 0)
			return r;
		r = apply_global(p, o);
		if (r < 0)
			return r;
		if (r == 0)
			return o->id;
	}
}

int cli_parse_exit(int r)
{
	return r == -ECANCELED ? SBX_EXIT_OK : SBX_EXIT_USAGE;
}

int cli_parse_no_options(struct cli_parser *p, const struct cli_verb *verb,
			 int argc, char **argv)
{
	int r;

	cli_parser_init(p, verb, argc, argv);
	while ((r = cli_next_option(p)) > 0)
		;
	return r;
}

/* ---- verb lookup ------------------------------------------------------- */

int cli_find_verb(const struct cli_verb *const *table, const char *word,
		  const struct cli_verb **ret)
{
	const struct cli_verb *found = NULL;
	size_t len = strlen(word), n = 0;

	if (len == 0)
		return -ENOENT;
	for (; *table; table++) {
		if (strcmp((*table)->name, word) == 0) {
			*ret = *table;
			return 0;
		}
		if (strncmp((*table)->name, word, len) == 0) {
			found = *table;
			n++;
		}
	}
	if (n == 0)
		return -ENOENT;
	if (n > 1)
		return -ENOTUNIQ;
	*ret = found;
	return 0;
}

#define EDIT_MAX 64

/* Optimal string alignment distance (Levenshtein plus adjacent swaps). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[3][EDIT_MAX + 1];

	if (la > EDIT_MAX || lb > EDIT_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return d[la % 3][lb];
}

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
	size_t best = SIZE_MAX, wl = strlen(word);
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);

		if (d < best) {
			best = d;
			pick = cands[i];
		}
	}
	/* Up to two edits, and fewer edits than letters typed. */
	return best <= 2 && best < wl ? pick : NULL;
}

/* ---- help -------------------------------------------------------------- */

/*
 * Synopsis lines: each form gets "sbx " (the first one "Usage: sbx "); a line
 * that starts with a space continues the previous form and is only indented.
 */
static void print_forms(FILE *f, const char *text, bool *first)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		const char *prefix = *first ? "Usage: sbx " : "       sbx ";

		if (text[0] == ' ' && !*first)
			prefix = "          ";
		fprintf(f, "%s%.*s\n", prefix, (int)n, text);
		*first = false;
		text += n + (text[n] == '\n');
	}
}

static void print_synopsis(FILE *f, const struct cli_verb *v)
{
	bool first = true;

	if (v->synopsis) {
		print_forms(f, v->synopsis, &first);
		return;
	}
	/* A group without its own synopsis: the forms of its sub-verbs. */
	for (const struct cli_verb *const *s = v->sub; s && *s; s++)
		print_forms(f, (*s)->synopsis, &first);
}

static void print_section(FILE *f, const char *title, const char *body)
{
	if (body)
		fprintf(f, "\n%s:\n%s", title, body);
}

void cli_print_help(FILE *f, const struct cli_verb *v)
{
	print_synopsis(f, v);
	if (v->description)
		fprintf(f, "\n%s", v->description);
	if (v->sub) {
		fprintf(f, "\nVerbs (any unambiguous prefix works):\n");
		for (const struct cli_verb *const *s = v->sub; *s; s++)
			fprintf(f, "  %-10s %s\n", (*s)->name, (*s)->summary);
	}
	print_section(f, "Options", v->options);
	print_section(f, "Exit status", v->exit_status);
	print_section(f, "Examples", v->examples);
	fflush(f);
}

/* ---- dispatch ---------------------------------------------------------- */

/* "check, show" for messages. */
static void verb_names(const struct cli_verb *const *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; *t && off < len; t++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", (*t)->name);
}

static int bad_verb(const struct cli_verb *group, const char *word, int r)
{
	const char *names[64], *close;
	const char *scope = group->cmd ? group->cmd : "", *sp = group->cmd ? " " : "";
	char list[512];
	size_t n = 0, len = strlen(word);

	for (const struct cli_verb *const *t = group->sub; *t && n < 64; t++)
		if (r != -ENOTUNIQ || strncmp((*t)->name, word, len) == 0)
			names[n++] = (*t)->name;
	if (r == -ENOTUNIQ) {
		list[0] = '\0';
		for (size_t i = 0, off = 0; i < n && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? ", " : "", names[i]);
		return cli_usage(group, "ambiguous %s%sverb '%s': could be %s", scope, sp, word, list);
	}
	close = cli_closest(word, names, n);
	if (close)
		return cli_usage(group, "unknown %s%sverb '%s' (did you mean '%s'?)", scope, sp, word,
				 close);
	verb_names(group->sub, list, sizeof(list));
	return cli_usage(group, "unknown %s%sverb '%s' (verbs: %s)", scope, sp, word, list);
}

/* Runs the sub-verb named by args[0] of a group. */
static int dispatch(const struct cli_verb *group, int argc, char **argv)
{
	const struct cli_verb *v;
	char list[512];
	int r;

	if (argc == 0) {
		verb_names(group->sub, list, sizeof(list));
		return cli_usage(group, "missing verb (one of: %s)", list);
	}
	r = cli_find_verb(group->sub, argv[0], &v);
	if (r < 0)
		return bad_verb(group, argv[0], r);
	return v->run ? v->run(v, argc, argv) : cli_run_group(v, argc, argv);
}

int cli_run_group(const struct cli_verb *self, int argc, char **argv)
{
	struct cli_parser p;
	int r;

	cli_parser_init(&p, self, argc, argv);
	p.stop_at_args = true;
	while ((r = cli_next_option(&p)) > 0)
		;
	if (r < 0)
		return cli_parse_exit(r);
	return dispatch(self, p.n_args, p.args);
}

/* ---- the top level, help and version ------------------------------------ */

static int print_version(void)
{
	struct json_writer w;

	if (!cli_opts.json) {
		printf("sbx %s\n", SBX_VERSION);
		return SBX_EXIT_OK;
	}
	cli_json_begin(&w);
	json_begin_object(&w);
	json_kv_string(&w, "version", SBX_VERSION);
	json_end_object(&w);
	return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

static int version_run(const struct cli_verb *self, int argc, char **argv)
{
	struct cli_parser p;
	int r;

	r = cli_parse_no_options(&p, self, argc, argv);
	if (r < 0)
		return cli_parse_exit(r);
	if (p.n_args > 0)
		return cli_usage(self, "unexpected argument '%s'", p.args[0]);
	return print_version();
}

static const struct cli_verb cli_verb_version = {
	.name = "version",
	.cmd = "version",
	.run = version_run,
	.summary = "print the version of sbx",
	.synopsis = "version [--json]",
	.description =
		"  Print the version of sbx: \"sbx VERSION\", or {\"version\": \"VERSION\"} with\n"
		"  --json. Same as sbx --version.\n",
	.options =
		"  -j, --json    print a JSON object\n"
		"  -h, --help    show this help\n",
	.exit_status = "  0  always\n",
	.examples = "  sbx version\n  sbx version --json\n",
};

static int help_run(const struct cli_verb *self, int argc, char **argv);

static const struct cli_verb cli_verb_help = {
	.name = "help",
	.cmd = "help",
	.run = help_run,
	.summary = "show help for sbx or for a verb",
	.synopsis = "help [VERB [SUBVERB]]",
	.description =
		"  Show the help of a verb; the same text as `sbx VERB [SUBVERB] --help`.\n"
		"  Verbs may be abbreviated to any unambiguous prefix.\n",
	.options = "  -h, --help    show this help\n",
	.exit_status = "  0  help was shown\n  2  unknown verb\n",
	.examples = "  sbx help policy\n  sbx help policy check\n  sbx help pol sh\n",
	.args = CLI_ARG_VERB,
};

static const struct cli_verb *const sbx_verbs[] = {
	&cli_verb_run,
	&cli_verb_start,
	&cli_verb_stop,
	&cli_verb_restart,
	&cli_verb_kill,
	&cli_verb_rm,
	&cli_verb_status,
	&cli_verb_ls,
	&cli_verb_metrics,
	&cli_verb_logs,
	&cli_verb_update,
	&cli_verb_reload,
	&cli_verb_ps,
	&cli_verb_stats,
	&cli_verb_audit,
	&cli_verb_learn,
	&cli_verb_policy,
	&cli_verb_providers,
	&cli_verb_features,
	&cli_verb_unload,
	&cli_verb_completion,
	&cli_verb_help,
	&cli_verb_version,
	NULL
};

static const struct cli_option root_opts[] = {
	{ "version", 'V', false, OPT_VERSION, CLI_ARG_NONE },
	{ 0 }
};

static const struct cli_verb cli_verb_root = {
	.name = "sbx",
	.cmd = NULL,
	.run = NULL,
	.summary = "run untrusted programs in eBPF-enforced sandboxes",
	.synopsis = "[--json] [--pretty] VERB [OPTIONS] [ARGS]...\n"
		    "--help | --version",
	.description =
		"  sbx runs untrusted programs in sandboxes confined by eBPF programs, under\n"
		"  policies read from TOML files. Each verb has its own help: sbx VERB --help.\n"
		"  When sbxd, the sbx daemon, runs, sbx run goes through it, and start, stop,\n"
		"  restart, kill, rm, status, ls, logs, update and reload manage the\n"
		"  long-running sandboxes it keeps (they need it; $SBX_SOCKET or --socket\n"
		"  names its socket, default /run/sbx/sbxd.sock).\n",
	.options =
		"  -j, --json      print JSON on stdout (errors as {\"error\": \"...\"})\n"
		"  -p, --pretty    pretty-print JSON; implies --json\n"
		"  -h, --help      show this help\n"
		"  -V, --version   print the version\n"
		"  Global options may also follow the verb.\n",
	.exit_status =
		"  0    success\n"
		"  1    the verb failed (e.g. invalid policy, unknown profile)\n"
		"  2    usage error (unknown verb or option, missing argument)\n"
		"  sbx run exits with the workload's status, 128+N when it was killed by\n"
		"  signal N, 124 on timeout, 125 when sbx itself failed (usage errors of\n"
		"  sbx run included), 126 when the command cannot be executed and 127 when\n"
		"  it is not found.\n",
	.examples =
		"  sbx policy check policy/examples/\n"
		"  sbx pol sh --env prod --json policy/examples/environments.toml\n",
	.sub = sbx_verbs,
	.opts = root_opts,
};

const struct cli_verb *cli_root_verb(void)
{
	return &cli_verb_root;
}

static int help_run(const struct cli_verb *self, int argc, char **argv)
{
	const struct cli_verb *v = &cli_verb_root;
	struct cli_parser p;
	int r;

	r = cli_parse_no_options(&p, self, argc, argv);
	if (r < 0)
		return cli_parse_exit(r);
	for (int i = 0; i < p.n_args; i++) {
		if (!v->sub)
			return cli_usage(self, "'sbx %s' has no sub-verbs", v->cmd);
		r = cli_find_verb(v->sub, p.args[i], &v);
		if (r < 0)
			return bad_verb(v, p.args[i], r);
	}
	cli_print_help(stdout, v);
	return SBX_EXIT_OK;
}

int sbx_main(int argc, char **argv)
{
	struct cli_parser p;
	int r;

	sbx_trace("main");	/* the clock starts after the dynamic loader */
	memset(&cli_opts, 0, sizeof(cli_opts));	/* tests call sbx_main() repeatedly */
	cli_parser_init(&p, &cli_verb_root, argc, argv);
	p.stop_at_args = true;
	while ((r = cli_next_option(&p)) > 0)
		if (r == OPT_VERSION)
			return print_version();
	if (r < 0)
		return cli_parse_exit(r);
	r = dispatch(&cli_verb_root, p.n_args, p.args);
	fflush(stdout);
	return r;
}
