/* SPDX-License-Identifier: MIT */
/* `sbx learn`: a policy profile from the audit log of an observe run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/policy_source.h"
#include "core/learn.h"
#include "util/util.h"

enum { OPT_AUDIT = 1, OPT_BASE, OPT_PROFILE, OPT_NAME, OPT_OUT, OPT_SANDBOX };

static const struct cli_option learn_opts[] = {
	{ "audit", 0, true, OPT_AUDIT, CLI_ARG_FILE },
	{ "base", 0, true, OPT_BASE, CLI_ARG_FILE },
	{ "profile", 0, true, OPT_PROFILE, CLI_ARG_PROFILE },
	{ "name", 0, true, OPT_NAME, CLI_ARG_NONE },
	{ "output", 'o', true, OPT_OUT, CLI_ARG_FILE },
	{ "sandbox", 0, true, OPT_SANDBOX, CLI_ARG_NONE },
	{ 0 }
};

struct learn_args {
	const char *audit, *base, *profile, *name, *out, *sandbox;
};

/* Profile names go into a quoted table header: keep them plain. */
static bool plain_name(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr("._-", *s))
			return false;
	return true;
}

/* Returns -1 to go on, else the exit status (--help, a usage error). */
static int parse(const struct cli_verb *self, int argc, char **argv, struct learn_args *la)
{
	struct cli_parser a;
	int r;

	cli_parser_init(&a, self, argc, argv);
	while ((r = cli_next_option(&a)) > 0) {
		switch (r) {
		case OPT_AUDIT: la->audit = a.arg; break;
		case OPT_BASE: la->base = a.arg; break;
		case OPT_PROFILE: la->profile = a.arg; break;
		case OPT_NAME: la->name = a.arg; break;
		case OPT_OUT: la->out = a.arg; break;
		case OPT_SANDBOX: la->sandbox = a.arg; break;
		}
	}
	if (r < 0)
		return cli_parse_exit(r);
	if (a.n_args)
		return cli_usage(self, "unexpected argument '%s'", a.args[0]);
	if (!la->audit)
		return cli_usage(self, "missing --audit FILE (the JSON-lines audit log; - for stdin)");
	if (la->profile && !la->base)
		return cli_usage(self, "--profile names a profile of --base POLICY");
	if (!la->name)
		la->name = "learned";
	if (!plain_name(la->name))
		return cli_usage(self, "--name '%s': letters, digits, '.', '_' and '-' only", la->name);
	return -1;
}

/* Feeds every line of the log to l; errors name the file and line. */
static int read_log(const char *path, struct sbx_learn *l)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char *line = NULL, why[512] = "";
	size_t cap = 0;
	int r = 0;

	if (!f)
		return log_error_errno(-errno, "audit log %s: %m", path);
	while (getline(&line, &cap, f) >= 0 && r == 0)
		r = sbx_learn_line(l, line, why, sizeof(why));
	if (!r && ferror(f))
		r = log_error_errno(-EIO, "audit log %s: %m", path);
	else if (r == -EINVAL)
		log_error("audit log %s: %s", path, why);
	else if (r < 0)
		log_error_errno(r, "audit log %s: %m", path);
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}

/* --base POLICY [--profile P]: the profile the output is an overlay of. */
static const struct sbx_profile *load_base(const struct learn_args *la, struct cli_policy *cp)
{
	struct sbx_diags d = { 0 };
	const struct sbx_profile *p;
	const char *paths[1] = { la->base };
	int r = cli_policy_load(paths, 1, NULL, cp, &d);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%u:%u: error: %s\n", d.v[i].file ? d.v[i].file : la->base,
			d.v[i].line, d.v[i].col, d.v[i].msg);
	sbx_diags_free(&d);
	if (r < 0)
		return log_error_errno(r, "--base %s: %m", la->base), NULL;
	if (!la->profile && cp->pol && cp->pol->n_profiles == 1)
		return &cp->pol->profiles[0];
	if (!la->profile)
		return log_error("--base %s: it defines %zu profiles; choose one with --profile",
				 la->base, cp->pol ? cp->pol->n_profiles : 0), NULL;
	p = cli_policy_find(cp, la->profile);
	if (!p)
		log_error("--base %s: no profile '%s'", la->base, la->profile);
	return p;
}

static int learn_run(const struct cli_verb *self, int argc, char **argv)
{
	struct learn_args la = { 0 };
	struct cli_policy cp = { 0 };
	const struct sbx_profile *base = NULL;
	struct sbx_learn l;
	FILE *out = stdout;
	int r = parse(self, argc, argv, &la);

	if (r >= 0)
		return r;
	r = 0;
	sbx_learn_init(&l, la.sandbox);
	if (la.base && !(base = load_base(&la, &cp)))
		r = -EINVAL;
	if (!r)
		r = read_log(la.audit, &l);
	if (!r && la.out && !(out = fopen(la.out, "we")))
		r = log_error_errno(-errno, "-o %s: %m", la.out);
	if (!r && (r = sbx_learn_write(&l, la.name, strcmp(la.audit, "-") ? la.audit : "stdin", base,
				       out)) < 0)
		log_error_errno(r, "writing the profile: %m");
	if (out && out != stdout && fclose(out) && !r)
		r = log_error_errno(-errno, "-o %s: %m", la.out);
	sbx_learn_free(&l);
	cli_policy_free(&cp);
	return r < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

const struct cli_verb cli_verb_learn = {
	.name = "learn", .cmd = "learn", .run = learn_run,
	.opts = learn_opts,
	.summary = "write a policy profile from the audit log of an observed run",
	.synopsis = "learn --audit FILE|- [--sandbox ID] [--base POLICY [--profile P]]\n"
		    "    [--name NAME] [-o FILE]",
	.description =
		"  Read the JSON-lines audit log of one sandbox, usually a run under\n"
		"  `sbx run --observe` (which refuses nothing and reports every refusal\n"
		"  as a would_deny event), and write a commented TOML policy file with\n"
		"  one profile that allows what the workload did: network destinations\n"
		"  by the names the resolver answered (addresses otherwise) as\n"
		"  \"name:port/proto\", listen ports, unix sockets, fs rules with\n"
		"  directories generalised (a comment counts the files behind each),\n"
		"  reads and writes kept apart, executed programs, and the syscalls the\n"
		"  seccomp filter would have refused. Each entry's comment says which\n"
		"  events it came from. Events of every verdict count: without --base,\n"
		"  observe under a profile that refuses what you want learnt.\n"
		"  With --base, only what that profile lacks is written, with its modes:\n"
		"  an overlay to paste into it, valid on its own. The output passes\n"
		"  `sbx policy check`. What observe cannot see on a host: docs/learn.md.\n",
	.options =
		"  --audit FILE       the audit log (sbx run --audit FILE, or the instance's\n"
		"                     log from `sbx audit --json`); - reads stdin\n"
		"  --sandbox ID       the sandbox to learn (id or prefix) when the log holds\n"
		"                     several; events of others are skipped and counted\n"
		"  --base POLICY      write only what this policy's profile lacks\n"
		"  --profile P        the profile of --base (needed when it has several)\n"
		"  --name NAME        the learnt profile's name (default \"learned\")\n"
		"  -o, --output FILE  write the policy to FILE instead of stdout\n"
		"  -h, --help         show this help\n",
	.exit_status = "  0  the profile was written\n  1  the log or the base could not be read\n"
		       "  2  usage error\n",
	.examples =
		"  sbx run --observe -P tight.toml --audit obs.jsonl -- git clone http://h/r.git\n"
		"  sbx learn --audit obs.jsonl -o learned.toml && sbx policy check -P learned.toml\n"
		"  sbx learn --audit obs.jsonl --base tight.toml --profile t >> tight-extra.toml\n",
};
