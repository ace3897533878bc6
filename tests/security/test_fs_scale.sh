#!/bin/bash
# SPDX-License-Identifier: MIT
# Path rules at scale under the process provider (issue 15): the plan's
# covers, its symlink check and its record of which paths exist are now
# computed once per rule instead of per pair of rules or per syscall, and a
# mistake there would silently weaken a rule among thousands. Checked:
#   - among 3,000 rules every kind still holds: a denied file is masked (it
#     reads as /dev/null: empty), a denied directory is empty, an "r" file
#     reads but does not run, a path no rule names keeps the mode's access,
#     and a longer rule below a shorter one wins (rx below r: runs there,
#     not above);
#   - a deny on a path that does not exist, listed after thousands that do,
#     is still refused under strict (the view could not hold it);
#   - a symlink below a directory that earlier rules share, and one beside
#     it, are refused by run and by policy check alike, naming the link.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
S_DIR=""
N_RULES=3000

_scale_cleanup()
{
	[ -n "$S_DIR" ] && rm -rf "$S_DIR"
	_cleanup
}
trap _scale_cleanup EXIT

# $S_DIR/pK/fI (files, even I) and $S_DIR/pK/dI/ (directories, odd I),
# outside /tmp, which the view replaces by a tmpfs
scale_setup()
{
	local i
	S_DIR=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.fsscale.XXXXXX") && chmod 0755 "$S_DIR" || return 1
	for ((i = 0; i < N_RULES; i++)); do
		[ $((i % 100)) = 0 ] && mkdir "$S_DIR/p$((i / 100))"
		if [ $((i % 2)) = 0 ]; then
			printf '#!/bin/sh\necho RAN\n' >"$S_DIR/p$((i / 100))/f$i"
			chmod 0755 "$S_DIR/p$((i / 100))/f$i"
		else
			mkdir "$S_DIR/p$((i / 100))/d$i" && echo inside >"$S_DIR/p$((i / 100))/d$i/file"
		fi
	done
	mkdir -p "$S_DIR/real/x" "$S_DIR/free" "$S_DIR/nest/inner"
	echo free >"$S_DIR/free/file"
	printf '#!/bin/sh\necho RAN\n' >"$S_DIR/nest/prog"
	printf '#!/bin/sh\necho RAN\n' >"$S_DIR/nest/inner/prog"
	chmod 0755 "$S_DIR/nest/prog" "$S_DIR/nest/inner/prog"
}

# rules EXTRA: N_RULES rules, every third a deny, the others "r", then EXTRA
rules()
{
	local i
	printf 'rules = ['
	for ((i = 0; i < N_RULES; i++)); do
		printf '{ path = "%s/p%d/%s", access = "%s" }, ' "$S_DIR" $((i / 100)) \
			"$([ $((i % 2)) = 0 ] && echo "f$i" || echo "d$i/")" "$([ $((i % 3)) = 0 ] && echo deny || echo r)"
	done
	printf '%s]\n' "$1"
}

spol()
{
	{
		printf 'version = 1\n[profile.t]\nprovider = "process"\nmin_isolation = "process"\n'
		printf '[profile.t.network]\nmode = "none"\n[profile.t.fs]\nmode = "read-only"\n'
		rules "$1"
	} >"$T_TMP/policy.toml"
}

case_every_rule_kind_holds_among_thousands()
{
	# 2998 % 3 = 1: "r", a file; 2997: deny, a directory; 2994: deny, a file;
	# 1001: "r", a directory; nest/ r with nest/inner/ rx below it
	spol "{ path = \"$S_DIR/nest/\", access = \"r\" }, { path = \"$S_DIR/nest/inner/\", access = \"rx\" }"
	sbx_run s -P "$T_TMP/policy.toml" --profile t -- sh -c "
		grep -q RAN '$S_DIR/p29/f2998' && echo R2998; '$S_DIR/p29/f2998' 2>/dev/null && echo X2998
		ls '$S_DIR/p29/d2997/' 2>/dev/null | grep -q file && echo LS2997
		grep -q RAN '$S_DIR/p29/f2994' 2>/dev/null && echo R2994
		cat '$S_DIR/p10/d1001/file' >/dev/null && echo R1001
		echo x >'$S_DIR/p10/d1001/new' 2>/dev/null && echo W1001
		cat '$S_DIR/free/file' >/dev/null && echo RFREE
		echo x >'$S_DIR/free/new' 2>/dev/null && echo WFREE
		grep -q RAN '$S_DIR/nest/prog' && echo RNEST; '$S_DIR/nest/prog' 2>/dev/null && echo XNEST
		'$S_DIR/nest/inner/prog' 2>/dev/null | grep -q RAN && echo XINNER; exit 0"
	expect_rc s 0
	for want in R2998 R1001 RFREE RNEST XINNER; do
		grep -qx "$want" "$T_TMP/s.out" ||
			fail "$want missing: a granted path is not readable ($(cat "$T_TMP/s.out" "$T_TMP/s.err" | tr '\n' ' '))"
	done
	for bad in X2998 LS2997 R2994 W1001 WFREE XNEST; do
		grep -qx "$bad" "$T_TMP/s.out" && fail "$bad: a rule among $N_RULES did not hold"
	done
	[ -e "$S_DIR/free/new" ] && fail "the workload wrote below the read-only mode"
	return 0
}

case_missing_deny_after_thousands_refused()
{
	spol "{ path = \"$S_DIR/p0/nothing-here\", access = \"deny\" }"
	sbx_run m -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc m 125
	grep -q "nothing-here.*takes access away below a writable or missing path" "$T_TMP/m.err" ||
		fail "the refusal does not name the missing rule: $(tail -c 400 "$T_TMP/m.err")"
	return 0
}

case_symlinks_below_shared_dirs_refused()
{
	local out
	ln -s "$S_DIR/real" "$S_DIR/real/in"
	ln -s "$S_DIR/real" "$S_DIR/link"
	T_CASE_RESTORE="rm -f '$S_DIR/real/in' '$S_DIR/link'"
	for bad in "$S_DIR/real/in/y" "$S_DIR/link/f"; do
		spol "{ path = \"$S_DIR/real/x/\", access = \"r\" }, { path = \"$S_DIR/real/z\", access = \"r\" }, { path = \"$bad\", access = \"deny\" }"
		out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) &&
			fail "policy check accepted a deny through a symlink ($bad): $out"
		grep -q "crosses a symlink" <<<"$out" || fail "policy check does not name the symlink of $bad: $out"
		sbx_run l -P "$T_TMP/policy.toml" --profile t -- true
		expect_rc l 125
		grep -q "crosses a symlink" "$T_TMP/l.err" || fail "run does not name the symlink of $bad: $(tail -c 400 "$T_TMP/l.err")"
	done
	return 0
}

setup scale_setup
run_case every_rule_kind_holds_among_thousands case_every_rule_kind_holds_among_thousands
run_case missing_deny_after_thousands_refused case_missing_deny_after_thousands_refused
run_case symlinks_below_shared_dirs_refused case_symlinks_below_shared_dirs_refused
finish
