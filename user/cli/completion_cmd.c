/* SPDX-License-Identifier: MIT */
/*
 * `sbx completion`: shell completion generated from the verb table.
 *
 * `sbx completion bash|zsh` prints a script whose data part, one
 * `_sbx_spec` case per verb, is written from the same cli_verb and
 * cli_option tables that the dispatcher and the option parser use, so a
 * new verb or option is completed as soon as it exists. The logic part is
 * fixed text per shell. The values that change at run time (profile names,
 * sandbox names, providers) come from `sbx completion --list KIND`, which
 * the scripts call while completing.
 *
 * The spec of a verb, in shell syntax that bash and zsh both read:
 *	_sbx_subs='check convert show'	sub-verbs, or empty
 *	_sbx_opts='--env=text -P=file --json'  its options; "=KIND" when the
 *					option takes a value
 *	_sbx_args=sandbox		what its arguments are (cli_arg_name())
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/daemon.h"
#include "cli/policy_source.h"
#include "provider.h"

enum { OPT_LIST = 1 };

/* how long `--list sandbox` waits for sbxd (the shell waits for it) */
#define SBX_COMPLETION_WAIT_S 2
#define STR_(x) #x
#define STR(x) STR_(x)

static const struct cli_option completion_opts[] = {
	{ "list", 0, true, OPT_LIST, CLI_ARG_NONE },
	{ 0 }
};

static const char *cli_arg_name(enum cli_arg_kind k)
{
	switch (k) {
	case CLI_ARG_FILE: return "file";
	case CLI_ARG_COMMAND: return "command";
	case CLI_ARG_SANDBOX: return "sandbox";
	case CLI_ARG_PROFILE: return "profile";
	case CLI_ARG_PROVIDER: return "provider";
	case CLI_ARG_VERB: return "verb";
	case CLI_ARG_NONE: break;
	}
	return "text";
}

/* Is the long name (or, with name NULL, the letter c) one of opts? */
static bool opt_taken(const struct cli_option *opts, const char *name, char c)
{
	for (; opts && (opts->name || opts->short_name); opts++)
		if (name ? opts->name && !strcmp(name, opts->name) : opts->short_name == c)
			return true;
	return false;
}

/* "--name[=KIND] -c[=KIND]": the forms of o that shadow leaves to it (a
 * verb's own option wins over a global one of the same name or letter). */
static void print_opt(FILE *f, const struct cli_option *o, const struct cli_option *shadow,
		      bool *first)
{
	const char *kind = o->has_arg ? cli_arg_name(o->value) : NULL;

	if (o->name && !opt_taken(shadow, o->name, 0)) {
		fprintf(f, "%s--%s%s%s", *first ? "" : " ", o->name, kind ? "=" : "", kind ? kind : "");
		*first = false;
	}
	if (o->short_name && !opt_taken(shadow, NULL, o->short_name)) {
		fprintf(f, "%s-%c%s%s", *first ? "" : " ", o->short_name, kind ? "=" : "", kind ? kind : "");
		*first = false;
	}
}

/* One `path) ... ;;` case of _sbx_spec, then those of the sub-verbs. */
static void print_spec(FILE *f, const struct cli_verb *v)
{
	bool first = true;

	fprintf(f, "\t'%s')\n\t\t_sbx_subs='", v->cmd ? v->cmd : "");
	for (const struct cli_verb *const *s = v->sub; s && *s; s++)
		fprintf(f, "%s%s", s == v->sub ? "" : " ", (*s)->name);
	fprintf(f, "'\n\t\t_sbx_opts='");
	for (const struct cli_option *o = v->opts; o && (o->name || o->short_name); o++)
		print_opt(f, o, NULL, &first);
	for (const struct cli_option *o = cli_global_options(); o->name; o++)
		print_opt(f, o, v->opts, &first);
	fprintf(f, "'\n\t\t_sbx_args=%s ;;\n", cli_arg_name(v->args));
	for (const struct cli_verb *const *s = v->sub; s && *s; s++)
		print_spec(f, *s);
}

static void print_specs(FILE *f)
{
	fprintf(f, "# The verb table of sbx %s (`sbx completion`); do not edit.\n"
		   "_sbx_spec()\n{\n\t_sbx_subs= _sbx_opts= _sbx_args=text\n\tcase $1 in\n",
		SBX_VERSION);
	print_spec(f, cli_root_verb());
	fprintf(f, "\tesac\n}\n\n");
}

/*
 * The logic, shared by the two shells in spirit: walk the words before the
 * cursor from the root verb, resolving verb words by unique prefix as the
 * dispatcher does and skipping option values; then offer, by what the word
 * under the cursor is, an option, a sub-verb, or an argument of the kind
 * the spec names.
 */
static const char bash_logic[] =
	"# _sbx_walk WORD...: the verb path they select ($_sbx_path), whether\n"
	"# the next word is an option's value ($_sbx_want: its kind) and how many\n"
	"# arguments were given ($_sbx_nargs).\n"
	"_sbx_walk()\n"
	"{\n"
	"\tlocal w m s n\n"
	"\t_sbx_path= _sbx_want= _sbx_nargs=0 _sbx_dd=\n"
	"\t_sbx_spec ''\n"
	"\tfor w in \"$@\"; do\n"
	"\t\tif [ -n \"$_sbx_want\" ]; then _sbx_want=; continue; fi\n"
	"\t\t# after the command of sbx run/start, every word is its argument\n"
	"\t\t[ \"$_sbx_args\" = command ] && [ \"$_sbx_nargs\" -gt 0 ] && _sbx_dd=1\n"
	"\t\tif [ -z \"$_sbx_dd\" ]; then\n"
	"\t\t\tcase $w in\n"
	"\t\t\t--) _sbx_dd=1; continue ;;\n"
	"\t\t\t--*=*) continue ;;\n"
	"\t\t\t-?*)\n"
	"\t\t\t\tfor s in $_sbx_opts; do\n"
	"\t\t\t\t\tcase $s in \"$w\"=*) _sbx_want=${s#*=} ;; esac\n"
	"\t\t\t\tdone\n"
	"\t\t\t\tcontinue ;;\n"
	"\t\t\tesac\n"
	"\t\tfi\n"
	"\t\tif [ -n \"$_sbx_subs\" ] && [ \"$_sbx_nargs\" = 0 ]; then\n"
	"\t\t\tm= n=0\n"
	"\t\t\tfor s in $_sbx_subs; do\n"
	"\t\t\t\tif [ \"$s\" = \"$w\" ]; then m=$s n=1; break; fi\n"
	"\t\t\t\tcase $s in \"$w\"*) m=$s n=$((n + 1)) ;; esac\n"
	"\t\t\tdone\n"
	"\t\t\t[ \"$n\" = 1 ] || return 1\n"
	"\t\t\t_sbx_path=${_sbx_path:+$_sbx_path }$m\n"
	"\t\t\t_sbx_spec \"$_sbx_path\"\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\t_sbx_nargs=$((_sbx_nargs + 1))\n"
	"\tdone\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"# _sbx_values KIND CUR: COMPREPLY for an argument or option value. The\n"
	"# values are data: never through compgen -W (which expands $(...) in its\n"
	"# words) nor an unquoted $(...) (which globs), one line one value.\n"
	"_sbx_values()\n"
	"{\n"
	"\tlocal w\n"
	"\tcase $1 in\n"
	"\tfile) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$2\") ;;\n"
	"\tcommand) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -c -- \"$2\") ;;\n"
	"\tverb) _sbx_spec ''; COMPREPLY=($(compgen -W \"$_sbx_subs\" -- \"$2\")) ;;\n"
	"\tsandbox|profile|provider)\n"
	"\t\tCOMPREPLY=()\n"
	"\t\twhile IFS= read -r w; do\n"
	"\t\t\t[[ $w == \"$2\"* ]] && COMPREPLY+=(\"$w\")\n"
	"\t\tdone < <(\"${COMP_WORDS[0]}\" completion --list \"$1\" 2>/dev/null) ;;\n"
	"\t*) COMPREPLY=() ;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"_sbx()\n"
	"{\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} opts s\n"
	"\tCOMPREPLY=()\n"
	"\t_sbx_walk \"${COMP_WORDS[@]:1:COMP_CWORD-1}\" || return 0\n"
	"\t# \"--opt=\" splits into \"--opt\" \"=\" under the default COMP_WORDBREAKS\n"
	"\tif [ \"$cur\" = = ] || [ \"${COMP_WORDS[COMP_CWORD-1]}\" = = ]; then\n"
	"\t\t[ \"$cur\" = = ] && cur=\n"
	"\t\tlocal o=${COMP_WORDS[COMP_CWORD-1]}\n"
	"\t\t[ \"$o\" = = ] && o=${COMP_WORDS[COMP_CWORD-2]}\n"
	"\t\tfor s in $_sbx_opts; do\n"
	"\t\t\tcase $s in \"$o\"=*) _sbx_values \"${s#*=}\" \"$cur\"; return 0 ;; esac\n"
	"\t\tdone\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif [ -n \"$_sbx_want\" ]; then\n"
	"\t\t_sbx_values \"$_sbx_want\" \"$cur\"\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif [ \"$_sbx_args\" = command ] && [ \"$_sbx_nargs\" -gt 0 ]; then\n"
	"\t\t_sbx_values file \"$cur\"\n"
	"\telif [[ $cur == -* ]] && [ -z \"$_sbx_dd\" ]; then\n"
	"\t\topts=\n"
	"\t\tfor s in $_sbx_opts; do\n"
	"\t\t\tcase $s in --*) opts=\"$opts ${s%%=*}\" ;; esac\n"
	"\t\tdone\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	"\telif [ -n \"$_sbx_subs\" ] && [ \"$_sbx_nargs\" = 0 ]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$_sbx_subs\" -- \"$cur\"))\n"
	"\telse\n"
	"\t\t_sbx_values \"$_sbx_args\" \"$cur\"\n"
	"\tfi\n"
	"\treturn 0\n"
	"}\n"
	"complete -F _sbx sbx\n";

static const char zsh_logic[] =
	"_sbx_walk()\n"
	"{\n"
	"\tlocal w m s n\n"
	"\t_sbx_path= _sbx_want= _sbx_nargs=0 _sbx_dd=\n"
	"\t_sbx_spec ''\n"
	"\tfor w in \"$@\"; do\n"
	"\t\tif [[ -n $_sbx_want ]]; then _sbx_want=; continue; fi\n"
	"\t\t[[ $_sbx_args == command && $_sbx_nargs -gt 0 ]] && _sbx_dd=1\n"
	"\t\tif [[ -z $_sbx_dd ]]; then\n"
	"\t\t\tcase $w in\n"
	"\t\t\t--) _sbx_dd=1; continue ;;\n"
	"\t\t\t--*=*) continue ;;\n"
	"\t\t\t-?*)\n"
	"\t\t\t\tfor s in ${=_sbx_opts}; do\n"
	"\t\t\t\t\t[[ $s == \"$w\"=* ]] && _sbx_want=${s#*=}\n"
	"\t\t\t\tdone\n"
	"\t\t\t\tcontinue ;;\n"
	"\t\t\tesac\n"
	"\t\tfi\n"
	"\t\tif [[ -n $_sbx_subs && $_sbx_nargs == 0 ]]; then\n"
	"\t\t\tm= n=0\n"
	"\t\t\tfor s in ${=_sbx_subs}; do\n"
	"\t\t\t\tif [[ $s == \"$w\" ]]; then m=$s n=1; break; fi\n"
	"\t\t\t\t[[ $s == \"$w\"* ]] && { m=$s; (( n++ )) }\n"
	"\t\t\tdone\n"
	"\t\t\t(( n == 1 )) || return 1\n"
	"\t\t\t_sbx_path=${_sbx_path:+$_sbx_path }$m\n"
	"\t\t\t_sbx_spec \"$_sbx_path\"\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\t_sbx_nargs=$((_sbx_nargs + 1))\n"
	"\tdone\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"_sbx_values()\n"
	"{\n"
	"\tcase $1 in\n"
	"\tfile) _files ;;\n"
	"\tcommand) _command_names -e ;;\n"
	"\tverb) _sbx_spec ''; compadd -- ${=_sbx_subs} ;;\n"
	"\tsandbox|profile|provider)\n"
	"\t\tcompadd -- ${(f)\"$(${words[1]} completion --list $1 2>/dev/null)\"} ;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"_sbx()\n"
	"{\n"
	"\tlocal cur=${words[CURRENT]} s\n"
	"\tlocal -a opts\n"
	"\tlocal _sbx_path _sbx_want _sbx_nargs _sbx_dd _sbx_subs _sbx_opts _sbx_args\n"
	"\t_sbx_walk \"${(@)words[2,CURRENT-1]}\" || return 1\n"
	"\tif [[ $cur == --*=* ]]; then\n"
	"\t\tfor s in ${=_sbx_opts}; do\n"
	"\t\t\tif [[ $s == \"${cur%%=*}\"=* ]]; then\n"
	"\t\t\t\tcompset -P '*='\n"
	"\t\t\t\t_sbx_values ${s#*=}\n"
	"\t\t\t\treturn\n"
	"\t\t\tfi\n"
	"\t\tdone\n"
	"\t\treturn 1\n"
	"\tfi\n"
	"\tif [[ -n $_sbx_want ]]; then _sbx_values $_sbx_want; return; fi\n"
	"\tif [[ $_sbx_args == command && $_sbx_nargs -gt 0 ]]; then\n"
	"\t\t_files\n"
	"\telif [[ $cur == -* && -z $_sbx_dd ]]; then\n"
	"\t\tfor s in ${=_sbx_opts}; do [[ $s == --* ]] && opts+=(${s%%=*}); done\n"
	"\t\tcompadd -- $opts\n"
	"\telif [[ -n $_sbx_subs && $_sbx_nargs == 0 ]]; then\n"
	"\t\tcompadd -- ${=_sbx_subs}\n"
	"\telse\n"
	"\t\t_sbx_values $_sbx_args\n"
	"\tfi\n"
	"}\n"
	"\n"
	"if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
	"\t_sbx \"$@\"\n"
	"else\n"
	"\tcompdef _sbx sbx\n"
	"fi\n";

/* ---- --list: the values that change at run time ---------------------------- */

static int list_profiles(void)
{
	struct sbx_diags diags = { 0 };
	struct cli_policy cp;
	int r;

	r = cli_policy_load(NULL, 0, NULL, &cp, &diags);
	sbx_diags_free(&diags);
	if (r < 0)
		return log_error_errno(r, "cannot read the default policy: %m");
	for (size_t i = 0; cp.pol && i < cp.pol->n_profiles; i++)
		printf("%s\n", cp.pol->profiles[i].name);
	if (!sbx_policy_find(cp.pol, SBX_DEFAULT_PROFILE))
		printf("%s\n", SBX_DEFAULT_PROFILE);
	cli_policy_free(&cp);
	return 0;
}

static void list_timeout(int sig)
{
	static const char msg[] = "sbx: error: sbxd did not answer within "
		STR(SBX_COMPLETION_WAIT_S) " s\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(SBX_EXIT_FAILURE);
}

/* Nothing (and success) when no daemon runs: there is nothing to offer. */
static int list_sandboxes(void)
{
	struct sbx_client *c;
	json_object *list = NULL;
	int r;

	/* at TAB: a daemon that accepts but never answers must not hang the
	 * completing shell */
	signal(SIGALRM, list_timeout);
	alarm(SBX_COMPLETION_WAIT_S);
	r = cli_daemon_open(NULL, true, &c);
	if (cli_daemon_absent(r))
		return 0;
	if (r < 0)
		return r;
	r = sbx_list(c, &list);
	if (r < 0)
		r = cli_daemon_error(c, r);
	sbx_client_close(c);
	for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
		json_object *name, *sb = json_object_array_get_idx(list, i);

		if (json_object_object_get_ex(sb, "name", &name))
			printf("%s\n", json_object_get_string(name));
	}
	json_object_put(list);
	return r < 0 ? r : 0;
}

static int list_values(const struct cli_verb *self, const char *kind)
{
	int r = 0;

	if (!strcmp(kind, "profile"))
		r = list_profiles();
	else if (!strcmp(kind, "sandbox"))
		r = list_sandboxes();
	else if (!strcmp(kind, "provider"))
		for (size_t i = 0; sbx_providers[i]; i++)
			printf("%s\n", sbx_providers[i]->name);
	else
		return cli_usage(self, "unknown --list kind '%s' (profile, sandbox, provider)", kind);
	return r < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

static int completion_run(const struct cli_verb *self, int argc, char **argv)
{
	const char *list = NULL;
	struct cli_parser p;
	int r;

	cli_parser_init(&p, self, argc, argv);
	while ((r = cli_next_option(&p)) > 0)
		list = p.arg;
	if (r < 0)
		return cli_parse_exit(r);
	if (list)
		return p.n_args ? cli_usage(self, "unexpected argument '%s'", p.args[0])
				: list_values(self, list);
	if (p.n_args != 1)
		return cli_usage(self, "expected one shell: bash or zsh");
	if (!strcmp(p.args[0], "bash")) {
		printf("# bash completion for sbx, generated by `sbx completion bash`\n\n");
		print_specs(stdout);
		fputs(bash_logic, stdout);
	} else if (!strcmp(p.args[0], "zsh")) {
		printf("#compdef sbx\n# zsh completion for sbx, generated by `sbx completion zsh`\n\n");
		print_specs(stdout);
		fputs(zsh_logic, stdout);
	} else {
		return cli_usage(self, "unknown shell '%s' (bash or zsh)", p.args[0]);
	}
	return fflush(stdout) ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

const struct cli_verb cli_verb_completion = {
	.name = "completion", .cmd = "completion", .run = completion_run,
	.opts = completion_opts,
	.summary = "print the shell completion script for bash or zsh",
	.synopsis = "completion bash|zsh\n"
		    "completion --list profile|sandbox|provider",
	.description =
		"  Print a completion script for bash or zsh, generated from sbx's own verb\n"
		"  and option tables. make install puts them in\n"
		"  $PREFIX/share/bash-completion/completions/sbx and zsh's fpath\n"
		"  (docs/install.md); to try one in the current shell:\n"
		"  source <(sbx completion bash).\n"
		"  --list prints the values the scripts offer at run time, one per line:\n"
		"  the profiles of the default policy (as sbx run without --policy sees\n"
		"  them), the sandboxes of sbxd (nothing when it is not running), or the\n"
		"  providers.\n",
	.options =
		"  --list KIND   print the values of KIND: profile, sandbox or provider\n"
		"  -h, --help    show this help\n",
	.exit_status = "  0  success\n  1  --list failed\n  2  usage error\n",
	.examples = "  sbx completion bash > ~/.local/share/bash-completion/completions/sbx\n"
		    "  source <(sbx completion bash)\n"
		    "  sbx completion --list profile\n",
};
