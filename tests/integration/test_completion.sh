#!/bin/bash
# SPDX-License-Identifier: MIT
# Shell completion (docs/cli.md "sbx completion", user/cli/completion_cmd.c):
# the scripts are generated from the verb table, so every verb and sub-verb
# is in both; every option the parser knows is in the verb's --help; the
# built copies (OUTPUT/completion) are what the binary prints; and a real
# bash and a real zsh, given the words of a command line, offer what the
# user expects: verbs by prefix, a verb's options, option values (profiles
# of the policy directory, providers, files) and the sandbox names of sbxd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

OUTPUT=${OUTPUT:-$(dirname "$SBX")}
BASH_SCRIPT=$T_TMP/sbx.bash
ZSH_SCRIPT=$T_TMP/_sbx

completion_setup()
{
	"$SBX" completion bash >"$BASH_SCRIPT" || return 1
	"$SBX" completion zsh >"$ZSH_SCRIPT" || return 1
	mkdir -p "$SBX_POLICY_DIR"
	cat >"$SBX_POLICY_DIR/c.toml" <<EOF
version = 1
[profile.alpha]
provider = "process"
[profile.beta]
provider = "process"
EOF
	cat >"$DPOL/host.toml" <<EOF
version = 1
[profile.hostp]
provider = "host"
min_isolation = "none"
user = "root"
[profile.hostp.fs]
mode = "full"
EOF
	sbxd_start
}

# The verbs of a verb path, from its --help ("Verbs" section).
help_verbs()
{
	"$SBX" $1 --help | sed -n '/^Verbs/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# The _sbx_subs of a path in a generated script.
script_subs()
{
	bash -c '. "$1" >/dev/null 2>&1; _sbx_spec "$2"; echo $_sbx_subs' _ "$2" "$1" 2>/dev/null ||
		true
}

case_every_verb_in_both_scripts()
{
	local v p want
	[ -n "$(help_verbs '')" ] || fail "sbx --help lists no verbs"
	for p in '' policy; do
		want=$(help_verbs "$p" | tr '\n' ' ')
		for v in $want; do
			grep -Eq "_sbx_subs='([^']* )?$v( [^']*)?'" <(awk -v p="'$p')" '$1 == p { getline; print }' "$BASH_SCRIPT") ||
				fail "bash script: verb '${p:+$p }$v' missing"
			grep -Eq "_sbx_subs='([^']* )?$v( [^']*)?'" <(awk -v p="'$p')" '$1 == p { getline; print }' "$ZSH_SCRIPT") ||
				fail "zsh script: verb '${p:+$p }$v' missing"
			grep -q "^	'${p:+$p }$v')" "$BASH_SCRIPT" || fail "bash script: no spec for '${p:+$p }$v'"
			grep -q "^	'${p:+$p }$v')" "$ZSH_SCRIPT" || fail "zsh script: no spec for '${p:+$p }$v'"
		done
	done
	grep -q "^	'completion')" "$BASH_SCRIPT" || fail "the completion verb itself is not in the script"
}

# The parser's table and the help text agree: each long option the scripts
# offer for a verb is in that verb's --help.
case_every_table_option_in_help()
{
	local path opts o n=0
	while IFS= read -r path; do
		opts=$(bash -c '. "$1"; _sbx_spec "$2"; echo $_sbx_opts' _ "$BASH_SCRIPT" "$path")
		for o in $opts; do
			o=${o%%=*}
			# the global options are in sbx --help
			case $o in --json|--pretty|--help|-*) [[ $o == --* ]] || continue ;; esac
			case $o in --json|--pretty|--help) continue ;; esac
			"$SBX" $path --help | grep -q -- "$o\b" || fail "sbx $path: $o is parsed but not in --help"
			n=$((n + 1))
		done
	done < <(sed -n "s/^	'\([a-z ]*\)')$/\1/p" "$BASH_SCRIPT")
	[ "$n" -gt 50 ] || fail "only $n options checked"
}

case_built_scripts_match_binary()
{
	[ -f "$OUTPUT/completion/sbx.bash" ] || fail "no $OUTPUT/completion/sbx.bash (make builds it)"
	[ -f "$OUTPUT/completion/_sbx" ] || fail "no $OUTPUT/completion/_sbx (make builds it)"
	cmp -s "$OUTPUT/completion/sbx.bash" "$BASH_SCRIPT" || fail "OUTPUT/completion/sbx.bash differs from sbx completion bash"
	cmp -s "$OUTPUT/completion/_sbx" "$ZSH_SCRIPT" || fail "OUTPUT/completion/_sbx differs from sbx completion zsh"
}

# bash_complete 'sbx run --po': the candidates bash's completion function
# gives for the last word, sorted, on one line.
bash_complete()
{
	local line=$1
	SBX_SOCKET=$SOCK PATH="$(dirname "$SBX"):$PATH" bash --norc --noprofile -c '
		. "$1"
		# split as readline does with the default COMP_WORDBREAKS: "--a=b" is
		# three words, "--a" "=" "b"
		read -r -a COMP_WORDS <<<"${2//=/ = }"
		case $2 in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2 COMP_POINT=${#2}
		_sbx sbx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"
	' _ "$BASH_SCRIPT" "$line"
}

expect_completion()
{
	local got
	got=$($1 "$2") || fail "$1 '$2' failed"
	[ "$got" = "$3" ] || fail "$1 '$2': expected '$3', got '$got'"
}

case_bash_completes_verbs_and_options()
{
	expect_completion bash_complete "sbx ru" "run"
	expect_completion bash_complete "sbx re" "reload restart"
	expect_completion bash_complete "sbx run --po" "--policy"
	expect_completion bash_complete "sbx run --pro" "--profile --provider"
	expect_completion bash_complete "sbx pol " "check convert show"
	expect_completion bash_complete "sbx pol ch --e" "--env"
	expect_completion bash_complete "sbx policy show --pr" "--pretty --profile"
	expect_completion bash_complete "sbx help p" "policy providers ps"
	expect_completion bash_complete "sbx comp" "completion"
	expect_completion bash_complete "sbx --ver" "--version"
	# not an option of sbx after the command of sbx run: the command's file
	mkdir -p "$T_TMP/files" && : >"$T_TMP/files/-x"
	(cd "$T_TMP/files" && expect_completion bash_complete "sbx run ls -" "-x")
}

case_bash_completes_values()
{
	expect_completion bash_complete "sbx run --profile " "alpha beta default"
	expect_completion bash_complete "sbx run --profile a" "alpha"
	expect_completion bash_complete "sbx run --profile=b" "beta"
	expect_completion bash_complete "sbx run --provider m" "microvm mock"
	expect_completion bash_complete "sbx policy show --profile al" "alpha"
	mkdir -p "$T_TMP/files" && : >"$T_TMP/files/pol.toml"
	expect_completion bash_complete "sbx run --policy $T_TMP/files/po" "$T_TMP/files/pol.toml"
	expect_completion bash_complete "sbx run -P $T_TMP/files/po" "$T_TMP/files/pol.toml"
	expect_completion bash_complete "sbx run --policy $T_TMP/files/pol.toml --pro" "--profile --provider"
}

case_bash_completes_sandbox_names()
{
	sx start --name web1 -- sleep 1000
	[ "$RC" = 0 ] || fail "sbx start: $(err)"
	sx start --name web2 -- sleep 1000
	[ "$RC" = 0 ] || fail "sbx start: $(err)"
	expect_completion bash_complete "sbx stop w" "web1 web2"
	expect_completion bash_complete "sbx logs -f web" "web1 web2"
	expect_completion bash_complete "sbx kill --signal TERM web2" "web2"
	sx rm --force web1 web2
	expect_completion bash_complete "sbx stop w" ""
	# no daemon: nothing offered, nothing printed
	local out
	out=$(SBX_SOCKET=$T_TMP/none.sock "$SBX" completion --list sandbox 2>&1) ||
		fail "--list sandbox without a daemon failed: $out"
	[ -z "$out" ] || fail "--list sandbox without a daemon printed '$out'"
}

case_list_rejects_unknown_kind()
{
	local out rc=0
	out=$("$SBX" completion --list colours 2>&1) || rc=$?
	eq "exit status" "$rc" 2
	[[ $out == *"unknown --list kind 'colours'"* ]] || fail "message: $out"
	rc=0
	out=$("$SBX" completion fish 2>&1) || rc=$?
	eq "exit status" "$rc" 2
	[[ $out == *"unknown shell 'fish'"* ]] || fail "message: $out"
}

# zsh_complete 'sbx run --po': the words the completion function hands to
# compadd (and the file and command completers, stubbed to say their name).
zsh_complete()
{
	SBX_SOCKET=$SOCK PATH="$(dirname "$SBX"):$PATH" zsh -f -c '
		# compadd offers the words that start with $PREFIX, as zsh does
		compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift
			local w; for w in "$@"; do [[ $w == "$PREFIX"* ]] && print -r -- "$w"; done; return 0 }
		compset() { [[ $1 == -P ]] && PREFIX=${PREFIX#*=}; return 0 }
		_files() { print FILES }
		_command_names() { print COMMANDS }
		compdef() { : }
		source "$1"
		words=(${(z)2})
		[[ $2 == *" " ]] && words+=("")
		CURRENT=${#words}
		PREFIX=${words[CURRENT]}
		_sbx
	' _ "$ZSH_SCRIPT" "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

case_zsh_completes()
{
	command -v zsh >/dev/null || skip "zsh not installed (apt-get install zsh)"
	zsh -n "$ZSH_SCRIPT" || fail "zsh -n: the script does not parse"
	expect_completion zsh_complete "sbx ru" "run"
	expect_completion zsh_complete "sbx run --po" "--policy"
	expect_completion zsh_complete "sbx pol " "check convert show"
	expect_completion zsh_complete "sbx run --profile " "alpha beta default"
	expect_completion zsh_complete "sbx run --profile=al" "alpha"
	expect_completion zsh_complete "sbx st" "start stats status stop"
	expect_completion zsh_complete "sbx run --provider " "$("$SBX" completion --list provider | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_completion zsh_complete "sbx run --policy " "FILES"
	expect_completion zsh_complete "sbx run " "COMMANDS"
	expect_completion zsh_complete "sbx run ls " "FILES"
	# loaded the way zsh loads vendor completions: from fpath by compinit
	local d=$T_TMP/zfunc
	mkdir -p "$d" && cp "$ZSH_SCRIPT" "$d/_sbx"
	out=$(HOME=$T_TMP zsh -f -c 'fpath=("$1" $fpath); autoload -U compinit; compinit -u -d "$2/zcd"; print ${_comps[sbx]}' _ "$d" "$T_TMP")
	eq "compinit binds sbx to" "$out" "_sbx"
	# and the autoloaded function completes on its first call
	out=$(HOME=$T_TMP PATH="$(dirname "$SBX"):$PATH" zsh -f -c '
		fpath=("$1" $fpath); autoload -U compinit; compinit -u -d "$2/zcd"
		compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift
			local w; for w in "$@"; do [[ $w == "$PREFIX"* ]] && print -r -- "$w"; done; return 0 }
		words=(sbx pol ""); CURRENT=3; PREFIX=; _sbx' _ "$d" "$T_TMP" | tr '\n' ' ')
	eq "autoloaded _sbx" "$out" "check convert show "
}

# docs/cli.md and sbx-completion(1) document the verb and its option
case_completion_is_documented()
{
	local repo=$(cd "$(dirname "$0")/../.." && pwd) man
	grep -Eq '^## `sbx completion`' "$repo/docs/cli.md" || fail "docs/cli.md has no section for sbx completion"
	man=$(sed -e 's/\\-/-/g' "$repo/docs/man/sbx-completion.1") || fail "no docs/man/sbx-completion.1"
	grep -q -- "--list" <<<"$man" || fail "sbx-completion.1 does not document --list"
	sed -e 's/\\-/-/g' "$repo/docs/man/sbx.1" | grep -q "sbx-completion" || fail "sbx.1 does not name sbx-completion(1)"
	"$SBX" completion --help | grep -q -- "--list KIND" || fail "--help does not show --list"
}

setup completion_setup
run_case every_verb_in_both_scripts case_every_verb_in_both_scripts
run_case every_table_option_in_help case_every_table_option_in_help
run_case built_scripts_match_binary case_built_scripts_match_binary
run_case bash_completes_verbs_and_options case_bash_completes_verbs_and_options
run_case bash_completes_values case_bash_completes_values
run_case bash_completes_sandbox_names case_bash_completes_sandbox_names
run_case list_rejects_unknown_kind case_list_rejects_unknown_kind
run_case zsh_completes case_zsh_completes
run_case completion_is_documented case_completion_is_documented
finish
