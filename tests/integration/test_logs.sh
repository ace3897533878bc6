#!/bin/bash
# SPDX-License-Identifier: MIT
# sbx run --log: the workload's stdout and stderr captured to size-bounded
# rotated files (core/logfile.h): every file within --log-max-size, the kept
# files in order an exact suffix of the output, stderr in the same stream,
# children that outlive the workload killed with what they wrote before kept,
# a planted symbolic link refused, and a flood that does not stop sbx from
# enforcing the timeout.
. "$(dirname "$0")/lib.sh"

log_setup()
{
	write_policy "$T_TMP/policy.toml" t "" ""
}

# run_log NAME [SBX-OPTIONS...] -- CMD...: sbx_run with the test profile.
run_log()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t "$@"
}

# kept LOG KEEP: LOG.KEEP .. LOG.1 LOG concatenated on stdout.
kept()
{
	local i
	for ((i = $2; i >= 1; i--)); do
		[ -e "$1.$i" ] && cat "$1.$i"
	done
	cat "$1"
}

case_rotation_bounded_exact_suffix()
{
	local log=$T_TMP/seq.log f size total
	run_log seq --log "$log" --log-max-size 4K --log-keep 2 -- sh -c 'seq 1 20000'
	expect_rc seq 0
	seq 1 20000 >"$T_TMP/seq.want"
	for f in "$log" "$log.1" "$log.2"; do
		[ -f "$f" ] || fail "$f missing after 108894 bytes of output with a 4K bound"
		size=$(stat -c %s "$f")
		[ "$size" -le 4096 ] || fail "$f has $size bytes, over --log-max-size 4K"
	done
	[ -e "$log.3" ] && fail "$log.3 exists with --log-keep 2"
	kept "$log" 2 >"$T_TMP/seq.kept"
	total=$(stat -c %s "$T_TMP/seq.kept")
	[ "$total" -gt 8192 ] || fail "only $total bytes kept in three 4K files"
	tail -c "$total" "$T_TMP/seq.want" | cmp -s - "$T_TMP/seq.kept" ||
		fail "the kept files are not an exact suffix of the output ($(cmp - "$T_TMP/seq.kept" < <(tail -c "$total" "$T_TMP/seq.want") 2>&1))"
	# no line cut in two at a rotation: the kept text begins a line
	[ "$(head -1 "$T_TMP/seq.kept")" = "$(grep -x -m1 "$(head -1 "$T_TMP/seq.kept")" "$T_TMP/seq.want")" ] ||
		fail "the oldest kept file begins in the middle of a line: $(head -c 20 "$T_TMP/seq.kept")"
	eq "result log.bytes" "$(jr seq .log.bytes)" "$(stat -c %s "$T_TMP/seq.want")"
	eq "result log.unwritten" "$(jr seq .log.unwritten)" 0
	eq "mode of the log" "$(stat -c '%a %U' "$log")" "640 root"
	[ -s "$T_TMP/seq.out" ] && fail "output reached sbx's stdout too: $(head -c 100 "$T_TMP/seq.out")"
	return 0
}

case_stderr_in_the_same_stream_in_order()
{
	local log=$T_TMP/both.log
	run_log both --log "$log" -- sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'
	expect_rc both 0
	eq "log" "$(cat "$log" | tr '\n' ' ')" "out1 err1 out2 err2 "
	grep -q err1 "$T_TMP/both.err" && fail "stderr reached sbx's stderr too"
	return 0
}

case_log_appended_across_runs()
{
	local log=$T_TMP/again.log
	run_log again1 --log "$log" -- echo first
	expect_rc again1 0
	run_log again2 --log "$log" -- echo second
	expect_rc again2 0
	eq "log" "$(cat "$log" | tr '\n' ' ')" "first second "
}

# The workload exits while its child still holds the pipe: what the child
# wrote before is kept, and the child is killed with the sandbox, not waited
# for (sbx would take 30 s and log child-late otherwise).
case_child_outliving_workload_drained_then_killed()
{
	local log=$T_TMP/child.log mark=$T_TMP/child.mark
	sbx_run_within 25 child -P "$T_TMP/policy.toml" --profile t --log "$log" -- \
		sh -c "(echo child-early; touch $mark; sleep 30; echo child-late) &
		       while [ ! -e $mark ]; do sleep 0.05; done; echo parent-done"
	expect_rc child 0
	grep -qx child-early "$log" || fail "the child's output before the workload's exit is lost: $(cat "$log")"
	grep -qx parent-done "$log" || fail "the workload's last line is lost: $(cat "$log")"
	grep -q child-late "$log" && fail "the child outlived the workload: child-late was logged"
	return 0
}

# The workload's exit does not lose what is still in the pipe: a burst
# larger than a pipe's buffer written just before the exit.
case_burst_before_exit_not_lost()
{
	local log=$T_TMP/burst.log
	run_log burst --log "$log" --log-max-size 1M -- sh -c 'seq 1 100000'
	expect_rc burst 0
	seq 1 100000 | cmp -s - "$log" || fail "the log differs from the output ($(wc -c <"$log") bytes)"
	return 0
}

case_symlink_refused()
{
	local log=$T_TMP/link.log target=$T_TMP/target
	ln -s "$target" "$log"
	run_log link --log "$log" -- echo hi
	expect_rc link 125
	grep -q "symbolic link" "$T_TMP/link.err" || fail "no reason given: $(cat "$T_TMP/link.err")"
	[ -e "$target" ] && fail "sbx wrote through the link"
	return 0
}

case_tty_with_log_refused()
{
	run_log tty --log "$T_TMP/tty.log" -t -- true
	expect_rc tty 125
	grep -q -- "--log with -t" "$T_TMP/tty.err" || fail "no reason given: $(cat "$T_TMP/tty.err")"
}

case_log_options_need_log()
{
	run_log opts --log-keep 2 -- true
	expect_rc opts 125
	grep -q "need --log" "$T_TMP/opts.err" || fail "no reason given: $(cat "$T_TMP/opts.err")"
	run_log badsize --log "$T_TMP/b.log" --log-max-size 100 -- true
	expect_rc badsize 125
	grep -q -- "--log-max-size '100'" "$T_TMP/badsize.err" || fail "no reason given: $(cat "$T_TMP/badsize.err")"
}

# A workload that writes as fast as it can does not keep sbx from its other
# duties: the timeout still ends it, and the log stays bounded.
case_flood_does_not_block_the_timeout()
{
	local log=$T_TMP/flood.log f
	sbx_run_within 60 flood -P "$T_TMP/policy.toml" --profile t --timeout 1s --log "$log" \
		--log-max-size 64K --log-keep 1 -- sh -c 'while :; do seq 1 100000; done'
	expect_rc flood 124
	eq "timed_out" "$(jr flood .timed_out)" true
	for f in "$log" "$log.1"; do
		[ "$(stat -c %s "$f")" -le 65536 ] || fail "$f over its 64K bound"
	done
	[ -e "$log.2" ] && fail "$log.2 exists with --log-keep 1"
	[ "$(jr flood .log.bytes)" -gt 131072 ] || fail "only $(jr flood .log.bytes) bytes logged"
	return 0
}

setup log_setup
run_case rotation_bounded_exact_suffix case_rotation_bounded_exact_suffix
run_case stderr_in_the_same_stream_in_order case_stderr_in_the_same_stream_in_order
run_case log_appended_across_runs case_log_appended_across_runs
run_case child_outliving_workload_drained_then_killed case_child_outliving_workload_drained_then_killed
run_case burst_before_exit_not_lost case_burst_before_exit_not_lost
run_case symlink_refused case_symlink_refused
run_case tty_with_log_refused case_tty_with_log_refused
run_case log_options_need_log case_log_options_need_log
run_case flood_does_not_block_the_timeout case_flood_does_not_block_the_timeout
finish
