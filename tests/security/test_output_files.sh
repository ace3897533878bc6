#!/bin/bash
# SPDX-License-Identifier: MIT
# The files that sbx, as root, writes for its caller (--result, --audit) in
# a world-writable directory (issue 20, the last attack sweep). A local user
# (or an earlier host workload with /tmp writable) plants a symbolic link,
# or a hard link, at the name the caller will pass, pointing at a file only
# root may write. On a host with fs.protected_symlinks = 0 (this one), sbx
# followed the link and wrote the result's JSON over the target (--result
# reopened an existing name without O_NOFOLLOW) or appended audit lines to it.
# Now a link as the last component, or a regular file with more than one
# link, is refused (exit 125, the reason named) and the target is untouched;
# plain files, new or existing, and /dev/null still work.
. "$(dirname "$0")/../integration/lib.sh"

out_setup()
{
	WW=$T_TMP/ww
	mkdir -p "$WW" && chmod 1777 "$WW" && chmod 755 "$T_TMP" || return 1
	write_policy "$T_TMP/policy.toml" t "" 'mode = "none"'
}

# A file only root may write, and what it holds.
target()
{
	printf 'root-only\n' >"$T_TMP/target"
	chmod 600 "$T_TMP/target"
}

target_untouched()
{
	[ "$(cat "$T_TMP/target")" = root-only ] || fail "$1: the target was written: $(head -c 200 "$T_TMP/target")"
}

# plant NAME: a symbolic link WW/NAME -> target, made by nobody.
plant()
{
	rm -f "$WW/$1"
	setpriv --reuid=65534 --regid=65534 --clear-groups ln -s "$T_TMP/target" "$WW/$1" ||
		fail "nobody could not make the link"
}

orun()
{
	local name=$1
	shift
	"$SBX" run "$@" -P "$T_TMP/policy.toml" --profile t -- true >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
}

case_result_symlink_refused()
{
	target
	plant result.json
	orun rs --result "$WW/result.json"
	expect_rc rs 125
	grep -q "is a symbolic link" "$T_TMP/rs.err" || fail "rs: $(cat "$T_TMP/rs.err")"
	target_untouched rs
}

case_audit_symlink_refused()
{
	target
	plant audit.jsonl
	orun as --audit "$WW/audit.jsonl"
	expect_rc as 125
	grep -q "is a symbolic link" "$T_TMP/as.err" || fail "as: $(cat "$T_TMP/as.err")"
	target_untouched as
}

# fs.protected_hardlinks keeps nobody from linking root's file; root's own
# link stands in for a host where it is 0.
case_hard_link_refused()
{
	target
	rm -f "$WW/hl.json" "$WW/hl.jsonl"
	ln "$T_TMP/target" "$WW/hl.json" && ln "$T_TMP/target" "$WW/hl.jsonl" || fail "ln"
	orun hr --result "$WW/hl.json"
	expect_rc hr 125
	grep -q "other hard links" "$T_TMP/hr.err" || fail "hr: $(cat "$T_TMP/hr.err")"
	orun ha --audit "$WW/hl.jsonl"
	expect_rc ha 125
	grep -q "other hard links" "$T_TMP/ha.err" || fail "ha: $(cat "$T_TMP/ha.err")"
	target_untouched hl
}

case_plain_files_still_work()
{
	rm -f "$WW/new.json" "$WW/new.jsonl"
	orun pn --result "$WW/new.json" --audit "$WW/new.jsonl"
	expect_rc pn 0
	eq "new result" "$(jq -r .exit_code "$WW/new.json")" 0
	eq "new result mode" "$(stat -c %a "$WW/new.json")" 600
	grep -q '"sandbox.start"' "$WW/new.jsonl" || fail "no sandbox.start in the new audit file"
	orun pe --result "$WW/new.json" --audit "$WW/new.jsonl"
	expect_rc pe 0
	eq "audit lines appended" "$(grep -c '"sandbox.start"' "$WW/new.jsonl")" 2
	orun pd --result /dev/null --audit /dev/null
	expect_rc pd 0
}

SBX_TEST_SKIP=${SBX_TEST_SKIP:-$(command -v setpriv >/dev/null || echo "setpriv is missing")}
setup out_setup
run_case result_symlink_refused case_result_symlink_refused
run_case audit_symlink_refused case_audit_symlink_refused
run_case hard_link_refused case_hard_link_refused
run_case plain_files_still_work case_plain_files_still_work
finish
