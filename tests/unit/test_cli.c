/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the sbx command line: sbx_main() is called in-process with
 * stdout and stderr redirected to temporary files; one test also runs the
 * built binary ($SBX_BIN) to check the real exit statuses. JSON output is
 * validated (and queried) with python3.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "cli/cli.h"

/* ---- fixtures ----------------------------------------------------------- */

static char tmpdir[] = "/tmp/sbx-test-cli-XXXXXX";
static char good[128], bad[128], poldir[128];

/*
 * line 1..: [defaults] gives every profile a timeout and memory, and
 * best-effort enforcement (web's wildcard entry is refused under strict);
 * web overrides cpu and has a network allow list; the prod overlay changes
 * the default timeout.
 */
static const char good_toml[] =
	"[defaults]\n"
	"timeout = \"30s\"\n"
	"memory = \"64MiB\"\n"
	"enforcement = \"best-effort\"\n"
	"[profile.web]\n"
	"cpu = 0.5\n"
	"\n"
	"[profile.web.network]\n"
	"mode = \"allow\"\n"
	"allow = [\"192.0.2.0/24:80-443/tcp\", \"*.example.org:443\"]\n"
	"\n"
	"[profile.batch]\n"
	"pids = 10\n"
	"\n"
	"[env.prod.defaults]\n"
	"timeout = \"1m\"\n";

/* Two errors: an unknown key on line 3 and a bad value on line 4. */
static const char bad_toml[] =
	"[profile.broken]\n"
	"timeout = \"10s\"\n"
	"memroy = \"1G\"\n"
	"pids = \"many\"\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	char path[600];

	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(good, sizeof(good), "%s/good.toml", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad.toml", tmpdir);
	snprintf(poldir, sizeof(poldir), "%s/policy.d", tmpdir);
	write_file(good, good_toml);
	write_file(bad, bad_toml);
	if (mkdir(poldir, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/a.toml", poldir);
	write_file(path, "[profile.a]\npids = 1\n");
	snprintf(path, sizeof(path), "%s/b.toml", poldir);
	write_file(path, "[profile.b]\npids = 2\n");
	snprintf(path, sizeof(path), "%s/README", poldir);
	write_file(path, "not a policy\n");
	unsetenv("SBX_ENV");
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- running sbx_main() ------------------------------------------------- */

struct run {
	int rc;
	char *out;
	char *err;
};

static char *slurp(FILE *f)
{
	long n;
	char *s;

	fflush(f);
	n = ftell(f);
	assert_true(n >= 0);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	rewind(f);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/* Runs sbx_main() on a copy of args (the parser reorders argv in place). */
static void run_sbx(struct run *res, const char *const *args)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 0, save_out, save_err;
	char *argv[64];

	assert_non_null(out);
	assert_non_null(err);
	argv[argc++] = "sbx";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	save_out = dup(1);
	save_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	res->rc = sbx_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	fseek(out, 0, SEEK_END);
	fseek(err, 0, SEEK_END);
	res->out = slurp(out);
	res->err = slurp(err);
}

#define SBX(res, ...) run_sbx(res, (const char *const[]){ __VA_ARGS__, NULL })

static void run_free(struct run *res)
{
	free(res->out);
	free(res->err);
}

#define assert_contains(hay, needle) do {					\
	if (!strstr((hay), (needle)))						\
		fail_msg("expected \"%s\" in:\n%s", (needle), (hay));		\
} while (0)

/* Runs argv[0] with argv (no shell: expressions need no quoting); returns its exit status. */
static int spawn(char *const argv[])
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Parses json with python3 and evaluates expr on it (as d); returns 0 when
 * it parsed and expr was true.
 */
static int py_check(const char *json, const char *expr)
{
	static const char script[] =
		"import json, sys\n"
		"d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
		"sys.exit(0 if eval(sys.argv[2]) else 1)\n";
	char path[] = "/tmp/sbx-test-cli-json-XXXXXX";
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	r = spawn((char *const[]){ "python3", "-c", (char *)script, path, (char *)expr, NULL });
	unlink(path);
	return r;
}

#define assert_json(json, expr) do {						\
	if (py_check((json), (expr)) != 0)					\
		fail_msg("JSON check failed: %s\non:\n%s", (expr), (json));	\
} while (0)

/* ---- help ---------------------------------------------------------------- */

static void test_help_of_every_verb_exits_0_with_synopsis(void **state)
{
	static const struct {
		const char *args[4];
		const char *synopsis;
	} cases[] = {
		{ { "--help" }, "Usage: sbx [--json] [--pretty] VERB" },
		{ { "-h" }, "Usage: sbx [--json] [--pretty] VERB" },
		{ { "help" }, "Usage: sbx [--json] [--pretty] VERB" },
		{ { "policy", "--help" }, "Usage: sbx policy check [--env NAME]" },
		{ { "policy", "check", "--help" }, "Usage: sbx policy check [--env NAME] [--json] PATH|-..." },
		{ { "policy", "show", "-h" }, "Usage: sbx policy show [--profile NAME]..." },
		{ { "help", "policy", "check" }, "Usage: sbx policy check [--env NAME] [--json] PATH|-..." },
		{ { "help", "pol", "sh" }, "Usage: sbx policy show [--profile NAME]..." },
		{ { "help", "--help" }, "Usage: sbx help [VERB [SUBVERB]]" },
		{ { "version", "--help" }, "Usage: sbx version [--json]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[5] = { 0 };
		struct run r;

		memcpy(args, cases[i].args, sizeof(cases[i].args));
		run_sbx(&r, args);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, cases[i].synopsis);
		assert_contains(r.out, "Exit status:");
		assert_contains(r.out, "Examples:");
		assert_string_equal(r.err, "");
		run_free(&r);
	}
}

/* Every verb and sub-verb of the table has a spec case in both completion
 * scripts, listed among its parent's sub-verbs, with each long option of
 * its table; an option's value kind follows it ("--policy=file"). */
static void assert_spec_covers(const char *script, const struct cli_verb *v)
{
	char want[256];
	const char *c;

	snprintf(want, sizeof(want), "\t'%s')\n", v->cmd ? v->cmd : "");
	c = strstr(script, want);
	if (!c)
		fail_msg("no completion spec for '%s'", want);
	c = strstr(c, "_sbx_opts='");
	assert_non_null(c);
	for (const struct cli_option *o = v->opts; o && (o->name || o->short_name); o++) {
		if (!o->name)
			continue;
		snprintf(want, sizeof(want), "--%s%s", o->name, o->has_arg ? "=" : "");
		if (!strstr(c, want) || strstr(c, want) > strchr(c + 11, '\''))
			fail_msg("spec of '%s' lacks %s", v->cmd ? v->cmd : "sbx", want);
	}
	for (const struct cli_verb *const *s = v->sub; s && *s; s++) {
		snprintf(want, sizeof(want), "%s", (*s)->name);
		assert_non_null(strstr(script, want));
		assert_spec_covers(script, *s);
	}
}

static void test_completion_scripts_cover_the_verb_table(void **state)
{
	const char *shells[] = { "bash", "zsh" };

	for (size_t i = 0; i < 2; i++) {
		struct run r;

		SBX(&r, "completion", shells[i]);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.err, "");
		assert_spec_covers(r.out, cli_root_verb());
		assert_contains(r.out, "--policy=file -P=file --profile=profile --provider=provider");
		run_free(&r);
	}
	/* the table's verbs, at least these, are there */
	assert_non_null(cli_root_verb()->sub);
	for (const char *const *v = (const char *const[]){ "run", "policy", "completion", NULL }; *v; v++) {
		const struct cli_verb *found;

		assert_int_equal(cli_find_verb(cli_root_verb()->sub, *v, &found), 0);
	}
}

static void test_top_help_lists_verbs_with_summaries(void **state)
{
	struct run r;

	SBX(&r, "--help");
	assert_contains(r.out, "  policy     check, show and convert policy files\n");
	assert_contains(r.out, "  help       ");
	assert_contains(r.out, "  version    ");
	assert_contains(r.out, "125");
	run_free(&r);
}

static void test_help_of_unknown_verb_is_usage_error(void **state)
{
	struct run r;

	SBX(&r, "help", "policy", "nope");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "unknown policy verb 'nope'");
	run_free(&r);
}

/* ---- verb dispatch ------------------------------------------------------- */

static void test_missing_verb_is_usage_error(void **state)
{
	struct run r;

	run_sbx(&r, (const char *const[]){ NULL });
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "sbx: error: missing verb");
	assert_contains(r.err, "Try 'sbx --help'");
	run_free(&r);
}

static void test_unknown_verb_suggests_closest(void **state)
{
	struct run r;

	SBX(&r, "polcy", "check", good);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "sbx: error: unknown verb 'polcy' (did you mean 'policy'?)");
	assert_contains(r.err, "Try 'sbx --help' for more information.");
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void test_unknown_verb_far_from_all_lists_verbs(void **state)
{
	struct run r;

	SBX(&r, "xyzzy");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "unknown verb 'xyzzy' (verbs: ");
	assert_contains(r.err, "policy, ");
	assert_contains(r.err, "help, version)");
	run_free(&r);
}

static void test_unknown_subverb_suggests_closest(void **state)
{
	struct run r;

	SBX(&r, "policy", "chekc", good);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "unknown policy verb 'chekc' (did you mean 'check'?)");
	assert_contains(r.err, "Try 'sbx policy --help'");
	run_free(&r);
}

static void test_missing_subverb_is_usage_error(void **state)
{
	struct run r;

	SBX(&r, "policy");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "missing verb (one of: check, convert, show)");
	run_free(&r);
}

static void test_prefix_matching_runs_verb(void **state)
{
	struct run r;

	SBX(&r, "pol", "ch", good);
	assert_int_equal(r.rc, 0);
	assert_contains(r.err, "1 file checked, 0 invalid, 0 errors");
	run_free(&r);

	SBX(&r, "v");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "sbx " SBX_VERSION "\n");
	run_free(&r);
}

/* A synthetic group: the current verbs share no prefix, later ones will. */
static int ran;
static int fake_start(const struct cli_verb *self, int argc, char **argv) { ran = 1; return 0; }
static int fake_stop(const struct cli_verb *self, int argc, char **argv) { ran = 2; return 0; }
static int fake_stats(const struct cli_verb *self, int argc, char **argv) { ran = 3; return 0; }
static int fake_stat(const struct cli_verb *self, int argc, char **argv) { ran = 4; return 0; }

static const struct cli_verb fv_start = { .name = "start", .cmd = "grp start", .run = fake_start };
static const struct cli_verb fv_stop = { .name = "stop", .cmd = "grp stop", .run = fake_stop };
static const struct cli_verb fv_stats = { .name = "stats", .cmd = "grp stats", .run = fake_stats };
static const struct cli_verb fv_stat = { .name = "stat", .cmd = "grp stat", .run = fake_stat };
static const struct cli_verb *const fake_verbs[] = { &fv_start, &fv_stop, &fv_stats, &fv_stat, NULL };
static const struct cli_verb fake_group = {
	.name = "grp", .cmd = "grp", .summary = "test group", .synopsis = "grp VERB",
	.sub = fake_verbs,
};

static int run_group(struct run *res, const char *word)
{
	FILE *err = tmpfile();
	char *argv[] = { "grp", (char *)word, NULL };
	int save = dup(2);

	fflush(stderr);
	dup2(fileno(err), 2);
	ran = 0;
	res->rc = cli_run_group(&fake_group, 2, argv);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	fseek(err, 0, SEEK_END);
	res->err = slurp(err);
	res->out = NULL;
	return ran;
}

static void test_ambiguous_prefix_is_usage_error_listing_candidates(void **state)
{
	struct run r;

	assert_int_equal(run_group(&r, "st"), 0);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "ambiguous grp verb 'st': could be start, stop, stats, stat");
	assert_contains(r.err, "Try 'sbx grp --help'");
	run_free(&r);

	assert_int_equal(run_group(&r, "sta"), 0);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "could be start, stats, stat\n");
	run_free(&r);
}

static void test_ambiguous_prefix_of_real_verbs(void **state)
{
	struct run r;

	/* "p" is ambiguous once "ps" exists next to "policy". */
	SBX(&r, "p", "check", good);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "ambiguous verb 'p': could be ");
	assert_contains(r.err, "policy");
	run_free(&r);
}

static void test_unique_prefix_and_exact_name_win(void **state)
{
	struct run r;

	assert_int_equal(run_group(&r, "sto"), 2);
	run_free(&r);
	assert_int_equal(run_group(&r, "star"), 1);
	run_free(&r);
	/* "stat" is also a prefix of "stats": the exact name wins. */
	assert_int_equal(run_group(&r, "stat"), 4);
	run_free(&r);
}

static void test_find_verb_results(void **state)
{
	const struct cli_verb *v = &fv_start;

	assert_int_equal(cli_find_verb(fake_verbs, "x", &v), -ENOENT);
	assert_int_equal(cli_find_verb(fake_verbs, "", &v), -ENOENT);
	assert_int_equal(cli_find_verb(fake_verbs, "s", &v), -ENOTUNIQ);
	assert_ptr_equal(v, &fv_start);		/* untouched on failure */
	assert_int_equal(cli_find_verb(fake_verbs, "stats", &v), 0);
	assert_ptr_equal(v, &fv_stats);
}

static void test_closest_needs_plausible_typo(void **state)
{
	const char *names[] = { "policy", "help", "version" };

	assert_string_equal(cli_closest("polcy", names, 3), "policy");
	assert_string_equal(cli_closest("plicy", names, 3), "policy");
	assert_string_equal(cli_closest("hlep", names, 3), "help");	/* swapped letters */
	assert_null(cli_closest("xyzzy", names, 3));
	assert_null(cli_closest("x", names, 3));
}

/* ---- option parsing ------------------------------------------------------ */

enum { T_ENV = 1, T_PROFILE, T_VERBOSE };
static const struct cli_option test_opts[] = {
	{ "env", 'e', true, T_ENV, CLI_ARG_NONE },
	{ "profile", 0, true, T_PROFILE, CLI_ARG_NONE },
	{ "verbose", 'v', false, T_VERBOSE, CLI_ARG_NONE },
	{ 0 }
};
static const struct cli_verb test_verb = { .name = "t", .cmd = "t", .synopsis = "t",
					    .opts = test_opts };

/* Parses args; returns the last cli_next_option() result, records options. */
static int parse(char **argv, int argc, bool stop, char *seen, size_t len, struct cli_parser *p)
{
	size_t off = 0;
	int r;

	cli_parser_init(p, &test_verb, argc, argv);
	p->stop_at_args = stop;
	seen[0] = '\0';
	while ((r = cli_next_option(p)) > 0)
		off += (size_t)snprintf(seen + off, len - off, "%d=%s;", r,
					r == T_VERBOSE ? "" : p->arg);
	return r;
}

static void test_option_forms_are_accepted(void **state)
{
	char *argv[] = { "t", "a1", "--env=prod", "-vj", "--profile", "web", "a2", "-edev",
			 "-e", "x", "-", "--", "--env", "-v" };
	struct cli_parser p;
	char seen[256];

	memset(&cli_opts, 0, sizeof(cli_opts));
	assert_int_equal(parse(argv, 14, false, seen, sizeof(seen), &p), 0);
	assert_string_equal(seen, "1=prod;3=;2=web;1=dev;1=x;");
	assert_true(cli_opts.json);		/* -j inside the cluster */
	assert_true(p.saw_dashdash);
	assert_int_equal(p.n_args, 5);
	assert_string_equal(p.args[0], "a1");
	assert_string_equal(p.args[1], "a2");
	assert_string_equal(p.args[2], "-");
	assert_string_equal(p.args[3], "--env");
	assert_string_equal(p.args[4], "-v");
	memset(&cli_opts, 0, sizeof(cli_opts));
}

static void test_stop_at_args_keeps_command_options(void **state)
{
	char *argv[] = { "t", "-v", "cmd", "-v", "--env", "x" };
	struct cli_parser p;
	char seen[64];

	assert_int_equal(parse(argv, 6, true, seen, sizeof(seen), &p), 0);
	assert_string_equal(seen, "3=;");
	assert_int_equal(p.n_args, 4);
	assert_string_equal(p.args[0], "cmd");
	assert_string_equal(p.args[1], "-v");
	assert_string_equal(p.args[3], "x");
}

static void test_bad_options_are_usage_errors(void **state)
{
	static const char *const cases[][3] = {
		{ "--bogus", "unknown option '--bogus'", NULL },
		{ "-z", "unknown option '-z'", NULL },
		{ "--env", "this option needs a value: '--env'", NULL },
		{ "-e", "this option needs a value: '-e'", NULL },
		{ "--verbose=1", "this option takes no value: '--verbose'", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { "t", (char *)cases[i][0] };
		struct cli_parser p;
		FILE *err = tmpfile();
		int save = dup(2), r;
		char seen[64], *text;

		fflush(stderr);
		dup2(fileno(err), 2);
		r = parse(argv, 2, false, seen, sizeof(seen), &p);
		fflush(stderr);
		dup2(save, 2);
		close(save);
		fseek(err, 0, SEEK_END);
		text = slurp(err);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(cli_parse_exit(r), 2);
		assert_contains(text, cases[i][1]);
		assert_contains(text, "Try 'sbx t --help' for more information.");
		free(text);
	}
}

static void test_bad_option_through_main_exits_2(void **state)
{
	struct run r;

	SBX(&r, "policy", "check", "--bogus", good);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "sbx: error: unknown option '--bogus'");
	assert_contains(r.err, "Try 'sbx policy check --help'");
	run_free(&r);

	SBX(&r, "policy", "show", good, "--profile");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "needs a value: '--profile'");
	run_free(&r);
}

static void test_log_error_errno_prints_strerror(void **state)
{
	FILE *err = tmpfile();
	int save = dup(2), r;
	char *text;

	memset(&cli_opts, 0, sizeof(cli_opts));
	fflush(stderr);
	dup2(fileno(err), 2);
	r = log_error_errno(-ENOENT, "open %s: %m", "x.toml");
	assert_int_equal(log_error_errno(EPERM, "%m"), -EPERM);	/* sign normalised */
	fflush(stderr);
	dup2(save, 2);
	close(save);
	fseek(err, 0, SEEK_END);
	text = slurp(err);
	assert_int_equal(r, -ENOENT);
	assert_string_equal(text, "sbx: error: open x.toml: No such file or directory\n"
				  "sbx: error: Operation not permitted\n");
	free(text);
}

/* ---- version --------------------------------------------------------------- */

static void test_version_text_and_json(void **state)
{
	struct run r;

	SBX(&r, "--version");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "sbx " SBX_VERSION "\n");
	run_free(&r);

	SBX(&r, "-j", "version");
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "d == {'version': '" SBX_VERSION "'}");
	run_free(&r);
}

/* ---- exit statuses of usage errors ------------------------------------------ */

/* sbx run's usage errors are 125 (the codes below 124 are the workload's);
 * every other verb's are 2. Nothing here needs root: the parser refuses first. */
static void test_usage_errors_exit_2_but_run_exits_125(void **state)
{
	static const char *const verbs[][2] = {
		{ "ps", NULL }, { "stats", NULL }, { "kill", NULL }, { "audit", NULL },
		{ "policy", "check" }, { "policy", "show" }, { "providers", NULL },
		{ "features", NULL }, { "unload", NULL }, { "help", NULL }, { "version", NULL },
	};
	struct run r;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (verbs[i][1])
			SBX(&r, verbs[i][0], verbs[i][1], "--no-such-option");
		else
			SBX(&r, verbs[i][0], "--no-such-option");
		if (r.rc != 2)
			fail_msg("sbx %s %s --no-such-option: exit %d, expected 2", verbs[i][0],
				 verbs[i][1] ? verbs[i][1] : "", r.rc);
		assert_contains(r.err, "unknown option '--no-such-option'");
		run_free(&r);
	}
	SBX(&r, "run", "--no-such-option", "--", "true");
	assert_int_equal(r.rc, 125);
	assert_contains(r.err, "unknown option '--no-such-option'");
	run_free(&r);
	SBX(&r, "run", "-P", good, "--timeout");
	assert_int_equal(r.rc, 125);
	assert_contains(r.err, "this option needs a value: '--timeout'");
	run_free(&r);
	SBX(&r, "run", "-P", good, "--");
	assert_int_equal(r.rc, 125);
	assert_contains(r.err, "missing the command to run");
	run_free(&r);
	SBX(&r, "run", "-P", good, "--result", "x.json", "--result-fd", "3", "--", "true");
	assert_int_equal(r.rc, 125);
	assert_contains(r.err, "--result and --result-fd are exclusive");
	run_free(&r);
	SBX(&r, "run", "--help");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "125    sbx itself failed");
	run_free(&r);
}

/* --result-fd is checked before anything runs: a number >= 3 open for writing. */
static void test_run_result_fd_is_validated_before_the_run(void **state)
{
	static const char *const bad_fds[] = { "1", "2", "x", "3x", "-4", "999" };
	struct run r;

	for (size_t i = 0; i < sizeof(bad_fds) / sizeof(bad_fds[0]); i++) {
		SBX(&r, "run", "-P", good, "--profile", "batch", "--result-fd", bad_fds[i], "--",
		    "/bin/sh", "-c", "exit 3");
		if (r.rc != 125)
			fail_msg("--result-fd %s: exit %d, expected 125 (%s)", bad_fds[i], r.rc, r.err);
		assert_contains(r.err, "--result-fd");
		run_free(&r);
	}
}


/* ---- policy check ----------------------------------------------------------- */

static void test_policy_check_valid_file_exits_0(void **state)
{
	struct run r;

	SBX(&r, "policy", "check", good);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "1 file checked, 0 invalid, 0 errors\n");
	run_free(&r);
}

static void test_policy_check_directory_counts_its_toml_files(void **state)
{
	struct run r;

	SBX(&r, "policy", "check", poldir, good);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "3 files checked, 0 invalid, 0 errors\n");
	run_free(&r);
}

static void test_policy_check_invalid_file_exits_1_with_positions(void **state)
{
	char line[600];
	struct run r;

	SBX(&r, "policy", "check", good, bad);
	assert_int_equal(r.rc, 1);
	snprintf(line, sizeof(line), "%s:3:1: error: ", bad);
	assert_contains(r.err, line);
	snprintf(line, sizeof(line), "%s:4:", bad);
	assert_contains(r.err, line);
	assert_contains(r.err, "\n2 files checked, 1 invalid, 2 errors\n");
	/* Every line but the summary is a diagnostic of the bad file. */
	for (char *l = r.err; *l; l = strchr(l, '\n') + 1)
		if (strncmp(l, "2 files", 7) != 0)
			assert_int_equal(strncmp(l, bad, strlen(bad)), 0);
	run_free(&r);
}

static void test_policy_check_missing_path_is_usage_error(void **state)
{
	struct run r;

	SBX(&r, "policy", "check");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "missing PATH");
	assert_contains(r.err, "Try 'sbx policy check --help'");
	run_free(&r);
}

static void test_policy_check_nonexistent_file_exits_1(void **state)
{
	struct run r;

	SBX(&r, "policy", "check", "/nonexistent/sbx.toml");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "/nonexistent/sbx.toml");
	assert_contains(r.err, "1 file checked, 1 invalid, 1 error\n");
	run_free(&r);
}

static void test_policy_check_json_lists_errors(void **state)
{
	char expr[4096];
	struct run r;

	SBX(&r, "policy", "check", "--json", good, bad);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "");
	snprintf(expr, sizeof(expr),
		 "d['ok'] is False and d['env'] is None and d['files'] == ['%s', '%s']"
		 " and d['profiles'] == [] and len(d['errors']) == 2"
		 " and d['errors'][0]['file'] == '%s' and d['errors'][0]['line'] == 3"
		 " and d['errors'][0]['col'] == 1 and 'memroy' in d['errors'][0]['message']"
		 " and d['summary'] == {'files': 2, 'invalid': 1, 'errors': 2}",
		 good, bad, bad);
	assert_json(r.out, expr);
	run_free(&r);
}

static void test_policy_check_json_ok_lists_profiles(void **state)
{
	struct run r;

	SBX(&r, "-j", "policy", "check", good);
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "d['ok'] is True and d['profiles'] == ['batch', 'web'] and d['errors'] == []"
		    " and d['summary'] == {'files': 1, 'invalid': 0, 'errors': 0}");
	run_free(&r);
}

static void test_json_mode_usage_error_is_error_object(void **state)
{
	struct run r;

	SBX(&r, "-j", "policy", "check");
	assert_int_equal(r.rc, 2);
	assert_json(r.out, "list(d) == ['error'] and 'missing PATH' in d['error']");
	run_free(&r);

	SBX(&r, "--json", "nosuchverb");
	assert_int_equal(r.rc, 2);
	assert_json(r.out, "'nosuchverb' in d['error']");
	run_free(&r);
}

/* Runs sbx_main() with stdin read from path. */
static void run_sbx_stdin(struct run *res, const char *path, const char *const *args)
{
	int fd = open(path, O_RDONLY), save = dup(0);

	assert_true(fd >= 0 && save >= 0);
	dup2(fd, 0);
	close(fd);
	run_sbx(res, args);
	dup2(save, 0);
	close(save);
}

static void test_policy_check_dash_reads_stdin(void **state)
{
	char want[300];
	struct run r;

	run_sbx_stdin(&r, good, (const char *const[]){ "policy", "check", "-", NULL });
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "1 file checked, 0 invalid, 0 errors\n");
	run_free(&r);
	run_sbx_stdin(&r, bad, (const char *const[]){ "policy", "check", "-", NULL });
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "<stdin>:3:1: error: unknown key 'memroy'");
	assert_contains(r.err, want);
	assert_contains(r.err, "1 file checked, 1 invalid, 2 errors\n");
	run_free(&r);
	/* stdin and a file: loaded together, as sbx run would */
	run_sbx_stdin(&r, good, (const char *const[]){ "policy", "check", "--json", "-", poldir, NULL });
	assert_int_equal(r.rc, 0);
	assert_int_equal(py_check(r.out, "d['files'][0] == '<stdin>' and len(d['files']) == 3"
				  " and 'web' in d['profiles'] and 'a' in d['profiles']"), 0);
	run_free(&r);
}

/* One file named twice (as itself, through its directory, through a
 * symlink) is one file: not a profile defined twice. */
static void test_policy_check_same_file_twice_is_one_file(void **state)
{
	char a[300], link[300];
	struct run r;

	snprintf(a, sizeof(a), "%s/a.toml", poldir);
	snprintf(link, sizeof(link), "%s/good-link.toml", tmpdir);
	unlink(link);
	assert_int_equal(symlink(good, link), 0);
	SBX(&r, "policy", "check", good, good, link);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "1 file checked, 0 invalid, 0 errors\n");
	run_free(&r);
	SBX(&r, "policy", "check", poldir, a);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "2 files checked, 0 invalid, 0 errors\n");
	run_free(&r);
	unlink(link);
}

/* An --env that no file defines is an error naming it, not a file error. */
static void test_policy_check_unknown_env_names_it(void **state)
{
	struct run r;

	SBX(&r, "policy", "check", "--env", "nosuch", good);
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "unknown environment 'nosuch'; defined: prod");
	assert_contains(r.err, "1 file checked, 0 invalid, 1 error\n");
	run_free(&r);
	SBX(&r, "policy", "check", "--json", "--env", "nosuch", poldir);
	assert_int_equal(r.rc, 1);
	assert_int_equal(py_check(r.out, "not d['ok'] and d['summary']['files'] == 2"
				  " and 'nosuch' in d['errors'][0]['message']"), 0);
	run_free(&r);
}

/* What sbx run refuses whatever the host, check refuses with the same
 * message at the entry's position: here a wildcard host name under strict. */
static void test_policy_check_refuses_strict_wildcard_at_its_position(void **state)
{
	char path[300];
	struct run r;

	/* names and wildcards: enforced by the sandbox's resolver where one
	 * reaches the workload (docs/network.md)... */
	snprintf(path, sizeof(path), "%s/wild.toml", tmpdir);
	write_file(path, "[profile.w]\n"
			 "[profile.w.network]\n"
			 "mode = \"allow\"\n"
			 "allow = [\"192.0.2.1:80\", \"*.example.org:443\"]\n");
	SBX(&r, "policy", "check", path);
	assert_int_equal(r.rc, 0);
	run_free(&r);
	/* ...and refused under strict where none does: a microVM guest */
	write_file(path, "[profile.w]\n"
			 "provider = \"microvm\"\n"
			 "[profile.w.network]\n"
			 "mode = \"allow\"\n"
			 "allow = [\"192.0.2.1:80\", \"*.example.org:443\"]\n");
	SBX(&r, "policy", "check", path);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "'network.allow' cannot be enforced by provider 'microvm'"));
	assert_non_null(strstr(r.err, "its own resolver"));
	run_free(&r);
	SBX(&r, "policy", "check", "--json", path);
	assert_int_equal(r.rc, 1);
	assert_int_equal(py_check(r.out, "not d['ok'] and d['profiles'] == ['w']"), 0);
	run_free(&r);
	unlink(path);
}

/* What the profile's provider cannot enforce is refused by check as by run
 * (core/enforce.c): a network namespace of its own under the host provider,
 * strict; best-effort runs. */
static void test_policy_check_refuses_what_the_provider_cannot_enforce(void **state)
{
	char path[300], want[1024];
	struct run r;

	snprintf(path, sizeof(path), "%s/user.toml", tmpdir);
	write_file(path, "[profile.h]\n"
			 "provider = \"host\"\n"
			 "min_isolation = \"none\"\n"
			 "[profile.h.network]\n"
			 "namespace = \"private\"\n");
	SBX(&r, "policy", "check", path);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "%s:1:10: error: profile 'h': 'network.namespace' cannot be enforced by provider "
		 "'host'", path);
	assert_contains(r.err, want);
	run_free(&r);
	write_file(path, "[profile.h]\n"
			 "provider = \"host\"\n"
			 "min_isolation = \"none\"\n"
			 "enforcement = \"best-effort\"\n"
			 "[profile.h.network]\n"
			 "namespace = \"private\"\n");
	SBX(&r, "policy", "check", path);
	assert_int_equal(r.rc, 0);
	run_free(&r);
	unlink(path);
}

/* ---- policy show -------------------------------------------------------------- */

static void test_policy_show_json_resolved_values(void **state)
{
	char expr[4096];
	struct run r;

	SBX(&r, "policy", "show", "--json", good);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	snprintf(expr, sizeof(expr),
		 "d['env'] is None and d['files'] == ['%s']"
		 " and [p['name'] for p in d['profiles']] == ['batch', 'web']"
		 " and d['profiles'][1]['source'].startswith('%s:5:')"
		 " and d['profiles'][1]['limits'] == {'timeout_ms': 30000, 'memory_bytes': 67108864,"
		 "   'cpu': 0.5, 'cpus': None, 'cpu_weight': None, 'pids': None, 'nofile': None,"
		 "   'net_bytes': None, 'fsize_bytes': None, 'disk_bytes': None,"
		 "   'egress_rate_bps': None, 'ingress_rate_bps': None, 'rate_burst_bytes': None}"
		 " and d['profiles'][0]['limits']['pids'] == 10"
		 " and d['profiles'][0]['limits']['cpu'] is None"
		 " and d['profiles'][1]['network']['mode'] == 'allow'",
		 good, good);
	assert_json(r.out, expr);
	run_free(&r);
}

static void test_policy_show_json_network_entries_normalised(void **state)
{
	char expr[4096];
	struct run r;

	SBX(&r, "policy", "show", "--json", "--profile", "web", good);
	assert_int_equal(r.rc, 0);
	snprintf(expr, sizeof(expr),
		 "len(d['profiles']) == 1 and d['profiles'][0]['network']['entries'] == ["
		 "{'action': 'allow', 'kind': 'addr', 'family': 'ipv4', 'cidr': '192.0.2.0/24',"
		 " 'host': None, 'group': None, 'ports': {'lo': 80, 'hi': 443}, 'proto': 'tcp',"
		 " 'text': '192.0.2.0/24:80-443/tcp', 'source': '%s:10:10'},"
		 "{'action': 'allow', 'kind': 'wildcard', 'family': None, 'cidr': None,"
		 " 'host': '*.example.org', 'group': None, 'ports': {'lo': 443, 'hi': 443}, 'proto': 'any',"
		 " 'text': '*.example.org:443', 'source': '%s:10:37'}]",
		 good, good);
	assert_json(r.out, expr);
	run_free(&r);
}

static void test_policy_show_pretty_json_parses(void **state)
{
	struct run r;

	SBX(&r, "-p", "pol", "sh", good);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "{\n  \"env\": null,\n");
	assert_json(r.out, "len(d['profiles']) == 2");
	run_free(&r);
}

static void test_policy_show_text_is_aligned(void **state)
{
	struct run r;

	SBX(&r, "policy", "show", "--profile", "web", good);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\nprofile web  (");
	assert_contains(r.out, "\n  timeout:          30s\n");
	assert_contains(r.out, "\n  memory:           64 MiB\n");
	assert_contains(r.out, "\n  cpu:              0.5\n");
	assert_contains(r.out, "\n  network:\n    mode:           allow\n");
	assert_contains(r.out, "\n    allow:          192.0.2.0/24:80-443/tcp");
	assert_contains(r.out, "\n  filesystem:\n");
	run_free(&r);
}

/* fsize, [seccomp] and the network namespace, with their defaults in batch. */
static const char sandbox_toml[] =
	"[defaults]\n"
	"fsize = \"10M\"\n"
	"[defaults.seccomp]\n"
	"deny = [\"ptrace\", \"bpf\"]\n"
	"\n"
	"[profile.web.seccomp]\n"
	"preset = \"strict\"\n"
	"action = \"kill\"\n"
	"allow = [\"personality\"]\n"
	"[profile.web.network]\n"
	"mode = \"allow\"\n"
	"namespace = \"private\"\n"
	"veth_host = \"10.200.0.1/30\"\n"
	"veth_sandbox = \"10.200.0.2/30\"\n"
	"\n"
	"[profile.batch]\n"
	"fsize = 0\n"
	"[profile.batch.network]\n"
	"mode = \"full\"\n"
	"namespace = \"private\"\n"
	"\n"
	"[profile.offline]\n";

static const char *sandbox_file(void)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s/sandbox.toml", tmpdir);
	write_file(path, sandbox_toml);
	return path;
}

static void test_policy_show_json_fsize_seccomp_namespace(void **state)
{
	struct run r;

	SBX(&r, "policy", "show", "--json", sandbox_file());
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	assert_json(r.out, "[p['name'] for p in d['profiles']] == ['batch', 'offline', 'web']");
	/* web: everything set */
	assert_json(r.out, "d['profiles'][2]['limits']['fsize_bytes'] == 10485760"
		    " and d['profiles'][2]['seccomp'] == {'preset': 'strict', 'action': 'kill',"
		    "   'deny': ['ptrace', 'bpf'], 'allow': ['personality']}"
		    " and d['profiles'][2]['network']['namespace'] == 'private'"
		    " and d['profiles'][2]['network']['veth'] == {'host': '10.200.0.1/30', 'sandbox': '10.200.0.2/30'}");
	/* batch: fsize 0 is null, a private namespace without addresses has veth null */
	assert_json(r.out, "d['profiles'][0]['limits']['fsize_bytes'] is None"
		    " and d['profiles'][0]['seccomp'] == {'preset': 'default', 'action': 'errno',"
		    "   'deny': ['ptrace', 'bpf'], 'allow': []}"
		    " and d['profiles'][0]['network']['namespace'] == 'private'"
		    " and d['profiles'][0]['network']['veth'] is None");
	/* offline: the namespace stays 'auto' as written */
	assert_json(r.out, "d['profiles'][1]['network']['namespace'] == 'auto'"
		    " and d['profiles'][1]['network']['veth'] is None"
		    " and d['profiles'][1]['limits']['fsize_bytes'] == 10485760"
		    " and list(d['profiles'][1]['network'])[:2] == ['mode', 'raw_sockets']");
	run_free(&r);

	SBX(&r, "policy", "show", "--json", good);	/* the defaults of an older policy */
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "all(p['seccomp'] == {'preset': 'default', 'action': 'errno', 'deny': [], 'allow': []}"
		    " and p['network']['namespace'] == 'auto' and p['network']['veth'] is None"
		    " and p['limits']['fsize_bytes'] is None for p in d['profiles'])");
	run_free(&r);
}

static void test_policy_show_text_fsize_seccomp_namespace(void **state)
{
	const char *path = sandbox_file();
	struct run r;

	SBX(&r, "policy", "show", "--profile", "web", path);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\n  file size:        10 MiB\n");
	assert_contains(r.out, "\n    namespace:      private\n"
			       "    veth:           host 10.200.0.1/30, sandbox 10.200.0.2/30\n");
	assert_contains(r.out, "\n  seccomp:\n    preset:         strict\n    action:         kill\n"
			       "    deny:           ptrace\n                    bpf\n"
			       "    allow:          personality\n");
	run_free(&r);

	SBX(&r, "policy", "show", "--profile", "batch", "--profile", "offline", path);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\n  file size:        inherit\n");
	assert_contains(r.out, "\n    namespace:      private\n    veth:           (a /30 from 10.200.0.0/16)\n");
	assert_contains(r.out, "\n    namespace:      auto (private)\n    veth:           (none)\n");
	assert_contains(r.out, "\n    allow:          (none)\n");
	run_free(&r);

	SBX(&r, "policy", "show", "--profile", "web", good);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\n    namespace:      auto (host)\n");
	assert_contains(r.out, "\n  seccomp:\n    preset:         default\n    action:         errno\n"
			       "    deny:           (none)\n    allow:          (none)\n");
	run_free(&r);
}

/* The provider tables: mock and microvm set, gvisor inherited by a profile
 * whose provider does not read it, plain without any. */
static const char providers_toml[] =
	"[defaults.gvisor]\n"
	"platform = \"ptrace\"\n"
	"\n"
	"[profile.fake]\n"
	"provider = \"mock\"\n"
	"min_isolation = \"none\"\n"
	"[profile.fake.mock]\n"
	"exit_code = 3\n"
	"stdout = \"hello \\\"you\\\"\\n\"\n"
	"stderr = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\u00e9 and more\"\n"
	"duration = \"1m250ms\"\n"
	"fail = \"crash\"\n"
	"\n"
	"[profile.vm]\n"
	"provider = \"microvm\"\n"
	"wasm.runtime = \"wasmtime\"\n"
	"[profile.vm.microvm]\n"
	"backend = \"firecracker\"\n"
	"kernel = \"/var/lib/sbx/vmlinux\"\n"
	"\n"
	"[env.prod.profile.vm.microvm]\n"
	"jailer = \"/usr/bin/jailer\"\n";

static const char *providers_file(void)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s/providers.toml", tmpdir);
	write_file(path, providers_toml);
	return path;
}

static void test_policy_show_json_providers(void **state)
{
	const char *path = providers_file();
	struct run r;

	SBX(&r, "policy", "show", "--json", path);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	assert_json(r.out, "[p['name'] for p in d['profiles']] == ['fake', 'vm']");
	assert_json(r.out, "d['profiles'][0]['providers'] == {"
		    "'mock': {'exit_code': 3, 'stdout': 'hello \"you\"\\n', 'stderr': 'x' * 47 + '\\u00e9 and more',"
		    "         'duration_ms': 60250, 'fail': 'crash'},"
		    "'gvisor': {'platform': 'ptrace', 'runsc': None},"
		    "'wasm': {'runtime': None},"
		    "'microvm': {'backend': None, 'kernel': None, 'initrd': None, 'firecracker': None, 'jailer': None},"
		    "'unikernel': {'image': None, 'qemu': None, 'machine': None, 'cmdline': None}}");
	assert_json(r.out, "d['profiles'][1]['providers']['microvm'] == {'backend': 'firecracker',"
		    "  'kernel': '/var/lib/sbx/vmlinux', 'initrd': None, 'firecracker': None, 'jailer': None}"
		    " and d['profiles'][1]['providers']['wasm'] == {'runtime': 'wasmtime'}"
		    " and d['profiles'][1]['providers']['mock'] == {'exit_code': 0, 'stdout': None,"
		    "   'stderr': None, 'duration_ms': 0, 'fail': None}");
	/* the key comes last: what was there before keeps its place */
	assert_json(r.out, "all(list(p)[-2:] == ['seccomp', 'providers'] for p in d['profiles'])");
	run_free(&r);

	SBX(&r, "policy", "show", "--json", "--env", "prod", "--profile", "vm", path);
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "d['profiles'][0]['providers']['microvm']['jailer'] == '/usr/bin/jailer'"
		    " and d['profiles'][0]['providers']['microvm']['backend'] == 'firecracker'");
	run_free(&r);

	SBX(&r, "policy", "show", "--json", good);	/* nothing set: all defaults */
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "all(p['providers'] == {"
		    "'mock': {'exit_code': 0, 'stdout': None, 'stderr': None, 'duration_ms': 0, 'fail': None},"
		    "'gvisor': {'platform': None, 'runsc': None}, 'wasm': {'runtime': None},"
		    "'microvm': {'backend': None, 'kernel': None, 'initrd': None, 'firecracker': None, 'jailer': None},"
		    "'unikernel': {'image': None, 'qemu': None, 'machine': None, 'cmdline': None}}"
		    " for p in d['profiles'])");
	run_free(&r);
}

static void test_policy_show_text_providers(void **state)
{
	const char *path = providers_file();
	struct run r;

	SBX(&r, "policy", "show", "--profile", "fake", path);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\n  mock:\n    exit code:      3\n    stdout:         \"hello \\\"you\\\"\\n\"\n"
			       "    stderr:         \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9...\" (58 bytes)\n"
			       "    duration:       1m250ms\n    fail:           crash\n");
	assert_contains(r.out, "\n  gvisor:  (not used: the provider is mock)\n    platform:       ptrace\n"
			       "    runsc:          (from $PATH)\n");
	assert_false(strstr(r.out, "\n  wasm:"));
	assert_false(strstr(r.out, "\n  microvm:"));
	run_free(&r);

	SBX(&r, "policy", "show", "--env", "prod", "--profile", "vm", path);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\n  wasm:  (not used: the provider is microvm)\n    runtime:        wasmtime\n");
	assert_contains(r.out, "\n  microvm:\n    backend:        firecracker\n"
			       "    kernel:         /var/lib/sbx/vmlinux\n    initrd:         (sbx configuration)\n"
			       "    firecracker:    (from $PATH)\n    jailer:         /usr/bin/jailer\n");
	assert_false(strstr(r.out, "\n  mock:"));
	run_free(&r);

	SBX(&r, "policy", "show", good);		/* no provider table: no section */
	assert_int_equal(r.rc, 0);
	assert_false(strstr(r.out, "\n  mock:"));
	assert_false(strstr(r.out, "\n  gvisor:"));
	assert_false(strstr(r.out, "\n  wasm:"));
	assert_false(strstr(r.out, "\n  microvm:"));
	run_free(&r);
}

static void test_env_flag_selects_overlay(void **state)
{
	struct run r;

	SBX(&r, "policy", "show", "--json", "--env", "prod", good);
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "d['env'] == 'prod'"
		    " and all(p['limits']['timeout_ms'] == 60000 for p in d['profiles'])");
	run_free(&r);
}

static void test_sbx_env_variable_selects_overlay(void **state)
{
	struct run r;

	setenv("SBX_ENV", "prod", 1);
	SBX(&r, "policy", "show", "--json", good);
	unsetenv("SBX_ENV");
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "d['env'] == 'prod' and d['profiles'][0]['limits']['timeout_ms'] == 60000");
	run_free(&r);
}

static void test_env_flag_wins_over_sbx_env(void **state)
{
	struct run r;

	setenv("SBX_ENV", "nosuchenv", 1);
	SBX(&r, "policy", "check", "--env", "prod", good);
	assert_int_equal(r.rc, 0);
	run_free(&r);
	SBX(&r, "policy", "check", good);	/* and SBX_ENV alone is honoured */
	unsetenv("SBX_ENV");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "nosuchenv");
	run_free(&r);
}

static void test_empty_sbx_env_means_no_overlay(void **state)
{
	struct run r;

	setenv("SBX_ENV", "", 1);
	SBX(&r, "policy", "show", "-j", good);
	unsetenv("SBX_ENV");
	assert_int_equal(r.rc, 0);
	assert_json(r.out, "d['env'] is None");
	run_free(&r);
}

static void test_show_unknown_profile_lists_available(void **state)
{
	struct run r;

	SBX(&r, "policy", "show", "--profile", "wbe", good);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_contains(r.err, "sbx: error: unknown profile 'wbe' (did you mean 'web'?)");
	assert_contains(r.err, "available: batch, web");
	run_free(&r);

	SBX(&r, "policy", "show", "--json", "--profile", "nope", good);
	assert_int_equal(r.rc, 1);
	assert_json(r.out, "'nope' in d['error'] and d['available'] == ['batch', 'web']");
	run_free(&r);
}

static void test_show_invalid_policy_exits_1(void **state)
{
	char line[600];
	struct run r;

	SBX(&r, "policy", "show", bad);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	snprintf(line, sizeof(line), "%s:3:1: error: ", bad);
	assert_contains(r.err, line);
	assert_contains(r.err, "sbx: error: invalid policy (2 errors)");
	run_free(&r);

	SBX(&r, "policy", "show", "-j", bad);
	assert_int_equal(r.rc, 1);
	assert_json(r.out, "d['error'] == 'invalid policy (2 errors)' and len(d['errors']) == 2"
		    " and d['errors'][0]['line'] == 3");
	run_free(&r);
}

/* ---- the binary ---------------------------------------------------------------- */

/* Runs $SBX_BIN with args, output discarded; returns its exit status. */
static int run_bin(const char *const *args)
{
	char *argv[16];
	int n = 0, devnull = open("/dev/null", O_WRONLY), save_out = dup(1), save_err = dup(2), r;

	argv[n++] = getenv("SBX_BIN");
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	dup2(devnull, 1);
	dup2(devnull, 2);
	r = spawn(argv);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	close(devnull);
	return r;
}

#define BIN(...) run_bin((const char *const[]){ __VA_ARGS__, NULL })

static void test_binary_exit_statuses(void **state)
{
	if (!getenv("SBX_BIN"))
		SKIP_BECAUSE("SBX_BIN is not set (make unit sets it to the built sbx)");
	if (access(getenv("SBX_BIN"), X_OK) < 0)
		fail_msg("SBX_BIN=%s is not an executable: %m", getenv("SBX_BIN"));
	assert_int_equal(BIN("--help"), 0);
	assert_int_equal(BIN("polcy"), 2);
	assert_int_equal(run_bin((const char *const[]){ NULL }), 2);
	assert_int_equal(BIN("policy", "check", good), 0);
	assert_int_equal(BIN("policy", "check", bad), 1);
	assert_int_equal(BIN("pol", "sh", "--profile", "nope", good), 1);
	assert_int_equal(BIN("run", "--no-such-option", "--", "true"), 125);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_of_every_verb_exits_0_with_synopsis),
		cmocka_unit_test(test_top_help_lists_verbs_with_summaries),
		cmocka_unit_test(test_help_of_unknown_verb_is_usage_error),
		cmocka_unit_test(test_missing_verb_is_usage_error),
		cmocka_unit_test(test_unknown_verb_suggests_closest),
		cmocka_unit_test(test_unknown_verb_far_from_all_lists_verbs),
		cmocka_unit_test(test_unknown_subverb_suggests_closest),
		cmocka_unit_test(test_missing_subverb_is_usage_error),
		cmocka_unit_test(test_prefix_matching_runs_verb),
		cmocka_unit_test(test_ambiguous_prefix_is_usage_error_listing_candidates),
		cmocka_unit_test(test_ambiguous_prefix_of_real_verbs),
		cmocka_unit_test(test_unique_prefix_and_exact_name_win),
		cmocka_unit_test(test_find_verb_results),
		cmocka_unit_test(test_closest_needs_plausible_typo),
		cmocka_unit_test(test_option_forms_are_accepted),
		cmocka_unit_test(test_stop_at_args_keeps_command_options),
		cmocka_unit_test(test_bad_options_are_usage_errors),
		cmocka_unit_test(test_bad_option_through_main_exits_2),
		cmocka_unit_test(test_log_error_errno_prints_strerror),
		cmocka_unit_test(test_version_text_and_json),
		cmocka_unit_test(test_usage_errors_exit_2_but_run_exits_125),
		cmocka_unit_test(test_run_result_fd_is_validated_before_the_run),
		cmocka_unit_test(test_policy_check_valid_file_exits_0),
		cmocka_unit_test(test_policy_check_dash_reads_stdin),
		cmocka_unit_test(test_policy_check_same_file_twice_is_one_file),
		cmocka_unit_test(test_policy_check_unknown_env_names_it),
		cmocka_unit_test(test_policy_check_refuses_strict_wildcard_at_its_position),
		cmocka_unit_test(test_policy_check_refuses_what_the_provider_cannot_enforce),
		cmocka_unit_test(test_policy_check_directory_counts_its_toml_files),
		cmocka_unit_test(test_policy_check_invalid_file_exits_1_with_positions),
		cmocka_unit_test(test_policy_check_missing_path_is_usage_error),
		cmocka_unit_test(test_policy_check_nonexistent_file_exits_1),
		cmocka_unit_test(test_policy_check_json_lists_errors),
		cmocka_unit_test(test_policy_check_json_ok_lists_profiles),
		cmocka_unit_test(test_json_mode_usage_error_is_error_object),
		cmocka_unit_test(test_policy_show_json_resolved_values),
		cmocka_unit_test(test_policy_show_json_network_entries_normalised),
		cmocka_unit_test(test_policy_show_pretty_json_parses),
		cmocka_unit_test(test_policy_show_text_is_aligned),
		cmocka_unit_test(test_policy_show_json_fsize_seccomp_namespace),
		cmocka_unit_test(test_policy_show_text_fsize_seccomp_namespace),
		cmocka_unit_test(test_policy_show_json_providers),
		cmocka_unit_test(test_policy_show_text_providers),
		cmocka_unit_test(test_env_flag_selects_overlay),
		cmocka_unit_test(test_sbx_env_variable_selects_overlay),
		cmocka_unit_test(test_env_flag_wins_over_sbx_env),
		cmocka_unit_test(test_empty_sbx_env_means_no_overlay),
		cmocka_unit_test(test_show_unknown_profile_lists_available),
		cmocka_unit_test(test_show_invalid_policy_exits_1),
		cmocka_unit_test(test_binary_exit_statuses),
		cmocka_unit_test(test_completion_scripts_cover_the_verb_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
