#!/bin/bash
# SPDX-License-Identifier: MIT
# The seeds' dialect of policy files (docs/policy.md "The seeds' dialect"):
# `sbx policy check` accepts the issue's examples (tests/fixtures/seeds/) and
# reports errors at FILE:LINE:COL; `sbx policy convert` prints a native file
# that checks and shows as the same profiles; `sbx run --policy` runs a seeds'
# profile, and its fs_policy decides what the workload may read and write.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FIX=$SRC/tests/fixtures/seeds
V_TMP=""	# host directories of the fs cases (outside /tmp: private in the view)

seeds_setup()
{
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.seeds.XXXXXX") && chmod 0755 "$V_TMP" || return 1
	mkdir "$V_TMP/rw" "$V_TMP/ro" "$V_TMP/other" || return 1
	chmod 1777 "$V_TMP/rw" "$V_TMP/ro" "$V_TMP/other" || return 1
	echo readable >"$V_TMP/ro/file" && chmod 0644 "$V_TMP/ro/file" || return 1
	cat >"$T_TMP/run.toml" <<EOF || return 1
default_provider = "process"

[capability_configs."ccos.test.denied"]
memory_limit_mb = 256
timeout_seconds = 30
network_policy = "Denied"
fs_policy = "None"

[capability_configs."ccos.test.scratch"]
memory_limit_mb = 256
timeout_seconds = 30
network_policy = "Denied"
fs_policy = { ReadWrite = ["$V_TMP/rw"] }

[capability_configs."ccos.test.reader"]
timeout_seconds = 30
network_policy = "Denied"
fs_policy = 'ReadOnly(["$V_TMP/ro"])'
EOF
}

# show --json without what differs between two files: names and positions
shown()
{
	"$SBX" policy show --json "$1" | jq -S 'del(.files) | del(.. | .source?)'
}

case_check_accepts_the_issue_examples()
{
	local f
	for f in "$FIX"/*.toml "$T_TMP/run.toml"; do
		"$SBX" policy check "$f" >"$T_TMP/c.out" 2>"$T_TMP/c.err" ||
			fail "$(basename "$f"): check exits $?: $(cat "$T_TMP/c.err")"
		grep -q "1 file checked, 0 invalid, 0 errors" "$T_TMP/c.err" || fail "summary: $(cat "$T_TMP/c.err")"
	done
	eq "provider of the http-fetch example" \
		"$("$SBX" policy show --json "$FIX/http-fetch.toml" | jq -r '.profiles[0].provider')" process
}

case_check_reports_errors_at_their_positions()
{
	printf '%s\n' 'default_provider = "proces"' '[capability_configs.a]' 'memory_limit_mb = -1' \
		"fs_policy = 'ReadOnly([\"/tmp\" \"/x\"])'" 'network_policy = "Full"' 'memroy_limit_mb = 1' \
		>"$T_TMP/bad.toml"
	"$SBX" policy check "$T_TMP/bad.toml" >/dev/null 2>"$T_TMP/bad.err"
	eq "check of an invalid file exits" $? 1
	grep -qF "$T_TMP/bad.toml:1:20: error: unknown provider 'proces' (did you mean 'process'?)" "$T_TMP/bad.err" ||
		fail "no provider error: $(cat "$T_TMP/bad.err")"
	grep -qF "$T_TMP/bad.toml:3:19: error: memory_limit_mb -1 out of range" "$T_TMP/bad.err" ||
		fail "no memory error: $(cat "$T_TMP/bad.err")"
	grep -qF "$T_TMP/bad.toml:4:31: error: fs_policy: expected ',' or ']'" "$T_TMP/bad.err" ||
		fail "no position inside the string: $(cat "$T_TMP/bad.err")"
	grep -qF "$T_TMP/bad.toml:5:19: error: unknown network_policy variant 'Full'" "$T_TMP/bad.err" ||
		fail "no variant error: $(cat "$T_TMP/bad.err")"
	grep -qF "$T_TMP/bad.toml:6:1: error: unknown key 'memroy_limit_mb' in [capability_configs.\"a\"] (did you mean 'memory_limit_mb'?)" \
		"$T_TMP/bad.err" || fail "no unknown key error: $(cat "$T_TMP/bad.err")"
}

case_mixed_dialects_are_refused()
{
	printf '%s\n' 'version = 1' '[profile.a]' '[capability_configs.b]' >"$T_TMP/mixed.toml"
	"$SBX" policy check "$T_TMP/mixed.toml" >/dev/null 2>"$T_TMP/mixed.err"
	eq "check of a mixed file exits" $? 1
	grep -qF "$T_TMP/mixed.toml:3:2: error: 'capability_configs' is a key of the seeds' dialect, but this file is in sbx's native policy format ('version' at 1:1)" \
		"$T_TMP/mixed.err" || fail "no mixing error: $(cat "$T_TMP/mixed.err")"
}

case_convert_round_trips()
{
	local f n
	for f in "$FIX"/*.toml "$T_TMP/run.toml"; do
		n=$T_TMP/native.$(basename "$f")
		"$SBX" policy convert "$f" >"$n" 2>"$T_TMP/cv.err" || fail "convert $(basename "$f"): $(cat "$T_TMP/cv.err")"
		head -1 "$n" | grep -qx 'version = 1' || fail "$(basename "$f"): no version line: $(head -3 "$n")"
		grep -q capability_configs "$n" && fail "$(basename "$f"): seeds' keys left: $(cat "$n")"
		"$SBX" policy check "$n" 2>"$T_TMP/cn.err" || fail "converted $(basename "$f") does not check: $(cat "$T_TMP/cn.err")"
		[ "$(shown "$f")" = "$(shown "$n")" ] ||
			fail "$(basename "$f"): show differs: $(diff <(shown "$f") <(shown "$n") | head -10)"
	done
	"$SBX" policy convert --json "$FIX/http-fetch.toml" | jq -j .toml >"$T_TMP/j.toml"
	cmp -s "$T_TMP/j.toml" "$T_TMP/native.http-fetch.toml" || fail "--json toml differs from the text output"
}

case_convert_refuses_native_and_invalid_files()
{
	"$SBX" policy convert "$FIX/http-fetch.toml" >"$T_TMP/native.toml" || fail "convert exits $?"
	"$SBX" policy convert "$T_TMP/native.toml" >"$T_TMP/n.out" 2>"$T_TMP/n.err" &&
		fail "a native file was converted: $(cat "$T_TMP/n.out")"
	grep -q "already in sbx's native policy format" "$T_TMP/n.err" || fail "message: $(cat "$T_TMP/n.err")"
	[ -s "$T_TMP/n.out" ] && fail "stdout of a refusal: $(cat "$T_TMP/n.out")"
	printf '%s\n' '[capability_configs.a]' 'timeout_seconds = 0' >"$T_TMP/inv.toml"
	"$SBX" policy convert "$T_TMP/inv.toml" >"$T_TMP/i.out" 2>"$T_TMP/i.err"
	eq "convert of an invalid file exits" $? 1
	grep -qF "$T_TMP/inv.toml:2:19: error: timeout_seconds 0 out of range" "$T_TMP/i.err" ||
		fail "no positioned error: $(cat "$T_TMP/i.err")"
	[ -s "$T_TMP/i.out" ] && fail "stdout of an invalid file: $(cat "$T_TMP/i.out")"
	"$SBX" policy convert >/dev/null 2>&1
	eq "convert without FILE exits" $? 2
}

case_run_denied_profile()
{
	sbx_run d -P "$T_TMP/run.toml" --profile ccos.test.denied -- /bin/true
	expect_rc d 0
	eq "profile in the result" "$(jr d .profile)" ccos.test.denied
	sbx_run dw -P "$T_TMP/run.toml" --profile ccos.test.denied -- sh -c "echo x > $V_TMP/rw/denied"
	[ "$RC" = 0 ] && fail "fs_policy None let the workload write a host path"
	[ -e "$V_TMP/rw/denied" ] && fail "$V_TMP/rw/denied was written"
	return 0
}

case_run_readwrite_writes_only_its_paths()
{
	sbx_run w -P "$T_TMP/run.toml" --profile ccos.test.scratch -- sh -c "echo inside > $V_TMP/rw/out"
	expect_rc w 0
	eq "file written in the ReadWrite path" "$(cat "$V_TMP/rw/out" 2>/dev/null)" inside
	sbx_run o -P "$T_TMP/run.toml" --profile ccos.test.scratch -- sh -c "echo outside > $V_TMP/other/out"
	[ "$RC" = 0 ] && fail "a write outside the ReadWrite paths succeeded"
	[ -e "$V_TMP/other/out" ] && fail "$V_TMP/other/out was written"
	return 0
}

case_run_readonly_reads_but_does_not_write()
{
	sbx_run r -P "$T_TMP/run.toml" --profile ccos.test.reader -- cat "$V_TMP/ro/file"
	expect_rc r 0
	eq "file read in the ReadOnly path" "$(cat "$T_TMP/r.out")" readable
	sbx_run rw -P "$T_TMP/run.toml" --profile ccos.test.reader -- sh -c "echo x > $V_TMP/ro/new"
	[ "$RC" = 0 ] && fail "a write in a ReadOnly path succeeded"
	[ -e "$V_TMP/ro/new" ] && fail "$V_TMP/ro/new was written"
	return 0
}

setup seeds_setup
run_case check_accepts_the_issue_examples case_check_accepts_the_issue_examples
run_case check_reports_errors_at_their_positions case_check_reports_errors_at_their_positions
run_case mixed_dialects_are_refused case_mixed_dialects_are_refused
run_case convert_round_trips case_convert_round_trips
run_case convert_refuses_native_and_invalid_files case_convert_refuses_native_and_invalid_files
run_case run_denied_profile case_run_denied_profile
run_case run_readwrite_writes_only_its_paths case_run_readwrite_writes_only_its_paths
run_case run_readonly_reads_but_does_not_write case_run_readonly_reads_but_does_not_write
finish
