/* SPDX-License-Identifier: MIT */
/*
 * The sbx command line: verb dispatch, option parsing, help and logging.
 *
 * A verb is one `struct cli_verb`, defined next to its handler in its own
 * file (policy_cmd.c, later run_cmd.c, ps_cmd.c, ...) and listed by address
 * in the top-level table in cli.c. Verbs with sub-verbs ("policy") set .sub
 * and leave .run NULL; the dispatcher handles them. Verb words match by
 * unambiguous prefix ("sbx pol ch" runs "sbx policy check").
 *
 * Handlers are main()-like: they return an exit status (SBX_EXIT_*), not an
 * errno. Everything they call returns 0 or a negative errno.
 *
 * Output rules: data goes to stdout; diagnostics go to stderr as
 * "sbx: error: ...". In JSON mode (-j) errors are instead written to stdout
 * as one {"error": "..."} object, so that stdout is always one JSON document.
 */
#ifndef SBX_CLI_H
#define SBX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "util/json.h"

#ifndef SBX_VERSION
#define SBX_VERSION "0.1.0"
#endif

/* Exit statuses (EXIT STATUS in docs/man/sbx.1). sbx run also exits with the
 * workload's own status, or 128+N when the workload died of signal N. */
enum {
	SBX_EXIT_OK = 0,
	SBX_EXIT_FAILURE = 1,		/* the verb failed (invalid policy, unknown profile, ...) */
	SBX_EXIT_USAGE = 2,		/* bad command line */
	SBX_EXIT_TIMEOUT = 124,		/* sbx run: the workload timed out */
	SBX_EXIT_SBX_FAILED = 125,	/* sbx run: sbx itself failed */
	SBX_EXIT_CANNOT_EXEC = 126,	/* sbx run: the command cannot be executed */
	SBX_EXIT_NOT_FOUND = 127,	/* sbx run: the command was not found */
};

/* Global options; the only mutable global state of the CLI. */
struct cli_options {
	bool json;			/* -j, --json */
	bool pretty;			/* -p, --pretty (implies --json) */
};
extern struct cli_options cli_opts;

/* The kind of value an argument or an option takes, for shell completion. */
enum cli_arg_kind {
	CLI_ARG_NONE = 0,	/* free text: nothing to offer */
	CLI_ARG_FILE,		/* a path */
	CLI_ARG_COMMAND,	/* a command and its arguments (sbx run, sbx start) */
	CLI_ARG_SANDBOX,	/* a sandbox name of sbxd (sbx ls) */
	CLI_ARG_PROFILE,	/* a profile name of the default policy */
	CLI_ARG_PROVIDER,	/* a provider name (sbx providers) */
	CLI_ARG_VERB,		/* a verb of sbx (sbx help) */
};

struct cli_option;

struct cli_verb {
	const char *name;		/* the word matched by prefix: "check" */
	const char *cmd;		/* the full command, for messages: "policy check" */
	/* argv[0] is the verb word as typed; returns an exit status. */
	int (*run)(const struct cli_verb *self, int argc, char **argv);
	const char *summary;		/* one line, lower case, no period */
	const char *synopsis;		/* after "sbx ", one form per line; a line
					 * starting with a space continues a form */
	const char *description;	/* help sections, plain text, 2-space indented */
	const char *options;
	const char *exit_status;
	const char *examples;
	const struct cli_verb *const *sub; /* NULL-terminated sub-verbs, or NULL */
	/* The options the handler parses (ending with an all-zero entry), or
	 * NULL for none beyond the global ones. cli_parser_init() takes them
	 * from here, so the parser and shell completion (completion_cmd.c)
	 * read the same table. */
	const struct cli_option *opts;
	/* What the positional arguments are, for completion. */
	enum cli_arg_kind args;
};

/* The program: returns the process exit status. */
int sbx_main(int argc, char **argv);

/* ---- option parsing ----------------------------------------------------
 *
 *	static const struct cli_option opts[] = {
 *		{ "profile", 0, true, OPT_PROFILE, CLI_ARG_PROFILE },
 *		{ "env", 0, true, OPT_ENV, CLI_ARG_NONE },
 *		{}
 *	};
 *	const struct cli_verb cli_verb_x = { ..., .opts = opts };
 *
 *	struct cli_parser p;
 *	cli_parser_init(&p, self, argc, argv);
 *	while ((r = cli_next_option(&p)) > 0)
 *		switch (r) { case OPT_ENV: env = p.arg; break; ... }
 *	if (r < 0)
 *		return cli_parse_exit(r);
 *	for (int i = 0; i < p.n_args; i++) use(p.args[i]);
 *
 * Accepted: "--name VALUE", "--name=VALUE", "-x VALUE", "-xVALUE", flag
 * clusters "-jp", "--" (everything after it is an argument), "-" (an
 * argument). Options and arguments may be interleaved unless
 * stop_at_args is set, in which case the first argument ends the options
 * (for "sbx run ... CMD ARGS"). Long names match exactly. The global options
 * -j/--json, -p/--pretty and -h/--help are accepted by every verb; a verb's
 * own option with the same name takes precedence.
 */
struct cli_option {
	const char *name;		/* long name without "--", or NULL */
	char short_name;		/* or 0 */
	bool has_arg;
	int id;				/* > 0 */
	enum cli_arg_kind value;	/* what the value is, for completion */
};

struct cli_parser {
	const struct cli_verb *verb;	/* for --help and error messages */
	const struct cli_option *opts;	/* verb->opts */
	int argc;
	char **argv;
	int next;			/* next argv index to look at */
	const char *cluster;		/* rest of a "-abc" cluster being parsed */
	bool stop_at_args;
	bool saw_dashdash;		/* "--" was given */
	const char *arg;		/* value of the option just returned */
	char **args;			/* positional arguments (argv, compacted in place) */
	int n_args;
};

/* The options every verb accepts besides its own (-j, -p, -h). */
const struct cli_option *cli_global_options(void);

/* argv[0] is the verb word and is skipped; the options are verb->opts. */
void cli_parser_init(struct cli_parser *p, const struct cli_verb *verb, int argc, char **argv);

/* Returns the next option's id, 0 when all options were read, -ECANCELED
 * after printing help for --help, or -EINVAL after reporting a usage error. */
int cli_next_option(struct cli_parser *p);

/* The exit status for a negative cli_next_option() result: 0 after --help,
 * SBX_EXIT_USAGE after a usage error. Either way the verb must stop: a
 * helper that parses for its handler should return r itself (negative),
 * and the handler `return cli_parse_exit(r);`. */
int cli_parse_exit(int r);

/* Parses argv for a verb with no options of its own (only the global ones):
 * fills p with the positional arguments. Returns 0 or the negative
 * cli_next_option() result, for cli_parse_exit(). */
int cli_parse_no_options(struct cli_parser *p, const struct cli_verb *verb,
			 int argc, char **argv);

/* ---- verbs and help ---------------------------------------------------- */

/* Finds word in a NULL-terminated table: exact name, else a unique prefix.
 * Returns 0, -ENOENT (no match) or -ENOTUNIQ (several verbs share the prefix). */
int cli_find_verb(const struct cli_verb *const *table, const char *word,
		  const struct cli_verb **ret);

/* The candidate closest to word by edit distance if it is close enough to be
 * a plausible typo, else NULL. */
const char *cli_closest(const char *word, const char *const *cands, size_t n);

/* The handler of verbs that only group sub-verbs (.run == NULL): accepts the
 * global options, then runs the sub-verb named by the first argument. */
int cli_run_group(const struct cli_verb *self, int argc, char **argv);

/* The top of the verb table: "sbx" itself, whose .sub are the verbs. */
const struct cli_verb *cli_root_verb(void);

/* Full help (usage, description, options, exit status, examples). */
void cli_print_help(FILE *f, const struct cli_verb *v);

/* ---- logging (CLI only; library code never prints) -------------------- */

/* "sbx: error: MSG" on stderr, or {"error":"MSG"} on stdout in JSON mode.
 * log_error() returns -EINVAL; log_error_errno(r, ...) returns -|r| and
 * sets errno so that %m prints strerror(|r|). */
int log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int log_error_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "sbx: warning: MSG" on stderr (also in JSON mode). */
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Until called again with NULL: the first error goes into buf instead of
 * stderr, and warnings are dropped (sbxd answers them to its caller). */
void cli_log_capture(char *buf, size_t len);

/* A usage error: logs MSG plus a hint to `sbx CMD --help`; returns SBX_EXIT_USAGE. */
int cli_usage(const struct cli_verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- JSON output ------------------------------------------------------- */

/* A writer over stdout honouring --pretty. */
/* "rate": {"egress": {...}, "ingress": {...}} of a sandbox's bandwidth rate
 * (null in a direction without one); defined in sandbox_cmd.c. */
struct sbx_rate;
void cli_json_rate(struct json_writer *w, const struct sbx_rate *r);

void cli_json_begin(struct json_writer *w);

/* Finishes the document; logs and returns the error if it could not be written. */
int cli_json_end(struct json_writer *w);

/* ---- verbs defined in other files -------------------------------------- */

extern const struct cli_verb cli_verb_policy;	/* policy_cmd.c */
extern const struct cli_verb cli_verb_features;	/* features_cmd.c */
extern const struct cli_verb cli_verb_run;	/* run_cmd.c */
extern const struct cli_verb cli_verb_ps;	/* sandbox_cmd.c */
extern const struct cli_verb cli_verb_stats;	/* sandbox_cmd.c */
extern const struct cli_verb cli_verb_kill;	/* sandbox_cmd.c */
extern const struct cli_verb cli_verb_unload;	/* sandbox_cmd.c */
extern const struct cli_verb cli_verb_audit;	/* audit_cmd.c */
extern const struct cli_verb cli_verb_learn;	/* learn_cmd.c */
extern const struct cli_verb cli_verb_providers; /* providers_cmd.c */
extern const struct cli_verb cli_verb_start;	/* daemon_cmd.c: through sbxd */
extern const struct cli_verb cli_verb_stop;
extern const struct cli_verb cli_verb_restart;
extern const struct cli_verb cli_verb_rm;
extern const struct cli_verb cli_verb_status;
extern const struct cli_verb cli_verb_ls;
extern const struct cli_verb cli_verb_logs;
extern const struct cli_verb cli_verb_update;
extern const struct cli_verb cli_verb_reload;
extern const struct cli_verb cli_verb_metrics;
extern const struct cli_verb cli_verb_completion; /* completion_cmd.c */

#endif /* SBX_CLI_H */
