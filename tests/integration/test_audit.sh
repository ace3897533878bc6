#!/bin/bash
# SPDX-License-Identifier: MIT
# The audit trail (JSON lines, docs/audit.md): fields of network events,
# audit levels, sequence numbers, sandbox.start/sandbox.exit; host-name
# entries; what a profile cannot enforce (strict refusal, best-effort runs).
. "$(dirname "$0")/lib.sh"

pol()
{
	write_policy "$T_TMP/policy.toml" t "$1" "$2"
}

audit_setup()
{
	start_listener P4 127.0.0.1 tcp || return 1
	start_listener Q4 127.0.0.1 tcp
}

run_in()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

RFC3339_NS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2})$'

case_denied_connect_event_fields()
{
	local ev before after then
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]
deny = [\"127.0.0.1:$Q4/tcp\"]"
	before=$(date +%s%N)
	run_in r sh -c "$NETTOOL connect 127.0.0.1 $P4; exec $NETTOOL connect 127.0.0.1 $Q4"
	after=$(date +%s%N)
	expect_rc r 1
	eq "net.connect events (audit = deny)" "$(ja r '[.[] | select(.event == "net.connect")] | length')" 1
	ev=$(ja r '.[] | select(.event == "net.connect")')
	eq verdict "$(jq -r .verdict <<<"$ev")" deny
	eq addr "$(jq -r .addr <<<"$ev")" 127.0.0.1
	eq family "$(jq -r .family <<<"$ev")" ipv4
	eq port "$(jq -r .port <<<"$ev")" "$Q4"
	eq proto "$(jq -r .proto <<<"$ev")" tcp
	eq rule "$(jq -r .rule <<<"$ev")" "127.0.0.1:$Q4/tcp"
	eq rule_source "$(jq -r .rule_source <<<"$ev")" "$T_TMP/policy.toml:9:9"
	eq comm "$(jq -r .comm <<<"$ev")" nettool
	eq sandbox "$(jq -r .sandbox <<<"$ev")" "$(jr r .sandbox)"
	eq profile "$(jq -r .profile <<<"$ev")" t
	# the workload exec'd nettool: the event's pid is the workload's pid
	eq pid "$(jq -r .pid <<<"$ev")" "$(ja r '.[0].pid')"
	jq -e '(.seq | type) == "number" and .seq > 1 and (.tid | type) == "number" and (.cgroup_id | type) == "number"' \
		<<<"$ev" >/dev/null || fail "seq/tid/cgroup_id missing or not numbers: $ev"
	jq -r .time <<<"$ev" | grep -Eq "$RFC3339_NS" || fail "time is not RFC 3339 with nanoseconds: $(jq -r .time <<<"$ev")"
	# and it is the wall-clock time of the event: between the clock read
	# before sbx started and after it ended (an order, not a duration)
	then=$(date -d "$(jq -r .time <<<"$ev")" +%s%N) || fail "date cannot read the time"
	[ "$then" -ge "$before" ] && [ "$then" -le "$after" ] ||
		fail "event time $(jq -r .time <<<"$ev") is not within the run ($before..$after ns)"
}

case_default_rule_names_mode()
{
	pol "" 'mode = "allow"
allow = []'
	run_in r "$NETTOOL" connect 127.0.0.1 "$P4"
	eq "default rule" "$(ja r '[.[] | select(.event == "net.connect") | "\(.rule) \(.mode)"] | join(",")')" "default allow"
}

case_audit_all_allowed_connect_event()
{
	local ev
	pol 'audit = "all"' "mode = \"allow\"
allow = [\"127.0.0.0/8:$P4/tcp\"]"
	run_in r "$NETTOOL" connect 127.0.0.1 "$P4"
	expect_rc r 0
	eq "allow events" "$(ja r '[.[] | select(.event == "net.connect" and .verdict == "allow")] | length')" 1
	ev=$(ja r '.[] | select(.event == "net.connect")')
	eq rule "$(jq -r .rule <<<"$ev")" "127.0.0.0/8:$P4/tcp"
	eq rule_index "$(jq -r .rule_index <<<"$ev")" 0
	eq addr "$(jq -r .addr <<<"$ev")" 127.0.0.1
	eq port "$(jq -r .port <<<"$ev")" "$P4"
}

case_audit_deny_level_omits_allowed()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4\"]"
	run_in r "$NETTOOL" connect 127.0.0.1 "$P4"
	eq "events" "$(ja r '[.[].event] | join(",")')" "sandbox.start,sandbox.exit"
}

case_audit_none_level_no_network_events()
{
	pol 'audit = "none"' 'mode = "allow"'
	run_in r "$NETTOOL" connect 127.0.0.1 "$P4"
	eq "events" "$(ja r '[.[].event] | join(",")')" "sandbox.start,sandbox.exit"
	# the counters still count
	eq connect_denied "$(jr r .network.connect_denied)" 1
}

case_sequence_start_exit()
{
	local n
	pol 'audit = "all"' 'mode = "deny"'
	run_in r sh -c "for i in 1 2 3 4 5; do $NETTOOL connect 127.0.0.1 $P4 >/dev/null; done; $NETTOOL raw; exit 7"
	expect_rc r 7
	n=$(ja r 'length')
	[ "$n" -ge 8 ] || fail "expected at least 8 events, got $n"
	eq "sequence numbers" "$(ja r '[.[].seq] == [range(1; length + 1)]')" true
	eq "first event" "$(ja r '.[0].event')" sandbox.start
	eq "last event" "$(ja r '.[-1].event')" sandbox.exit
	eq "exit code in sandbox.exit" "$(ja r '.[-1].exit_code')" 7
	eq "timed_out in sandbox.exit" "$(ja r '.[-1].timed_out')" false
	eq "start and exit name the workload" "$(ja r '.[0].pid == .[-1].pid and .[0].pid > 0')" true
	eq "one sandbox id" "$(ja r '[.[].sandbox] | unique | length')" 1
	eq "result events" "$(jr r .audit.events)" "$n"
	eq "result sequence_gaps" "$(jr r .audit.sequence_gaps)" 0
	eq "result dropped" "$(jr r .audit.dropped)" 0
	# the instance log holds the same lines
	eq "instance log" "$(jq -c "select(.sandbox == \"$(jr r .sandbox)\")" "$SBX_LOG_DIR/audit.jsonl" | md5sum)" \
		"$(jq -c . "$T_TMP/r.audit" | md5sum)"
}

case_exit_event_for_signal()
{
	pol "" 'mode = "none"'
	run_in r sh -c 'kill -9 $$'
	expect_rc r 137
	eq "sandbox.exit signal" "$(ja r '.[-1] | "\(.event) \(.signal)"')" "sandbox.exit 9"
}

case_localhost_entry_resolved()
{
	local v6 ev
	pol 'audit = "all"' "mode = \"allow\"
allow = [\"localhost:$P4\"]"
	run_in r sh -c "$(probes "v4 connect 127.0.0.1 $P4" "other connect 127.0.0.1 $Q4" "v6 connect ::1 $P4")"
	expect r v4 ok
	expect r other EPERM
	# ::1 is allowed exactly when localhost resolves to it here
	if getent ahosts localhost | awk '{print $1}' | grep -qx ::1; then
		grep -Eq '^v6 (ok|ECONNREFUSED)' "$T_TMP/r.out" || fail "::1 (a localhost address) denied: $(grep ^v6 "$T_TMP/r.out")"
	else
		expect r v6 EPERM
	fi
	ev=$(ja r "[.[] | select(.event == \"net.connect\" and .verdict == \"allow\" and .addr == \"127.0.0.1\")][0]")
	eq rule_host "$(jq -r .rule_host <<<"$ev")" localhost
	eq rule "$(jq -r .rule <<<"$ev")" "localhost:$P4"
	eq "rule_host of the denial" "$(ja r "[.[] | select(.verdict == \"deny\" and .port == $Q4)][0].rule")" default
}

# Wildcards are enforced by the sandbox's resolver (docs/network.md): a
# strict profile with one runs (test_dns.sh has what it allows; a provider
# without a resolver refuses it: test_cli.c, test_dns.sh).
case_wildcard_runs_under_strict()
{
	pol 'enforcement = "strict"' 'mode = "allow"
allow = ["*.example.org:443"]'
	run_in_refused w
	expect_rc w 0
	[ -e "$T_TMP/w.ran" ] || fail "the workload did not run: $(cat "$T_TMP/w.err")"
	eq degraded "$(jr w '.degraded | length')" 0
}

# run_in_refused NAME: a run that must not start the workload.
run_in_refused()
{
	sbx_run "$1" -P "$T_TMP/policy.toml" --profile t -- touch "$T_TMP/$1.ran"
}

case_best_effort_degraded()
{
	pol 'enforcement = "best-effort"' "mode = \"allow\"
allow = [\"127.0.0.1:$P4\"]
namespace = \"private\""
	run_in r "$NETTOOL" connect 127.0.0.1 "$P4"
	expect_rc r 0
	eq enforcement "$(jr r .enforcement)" best-effort
	eq "degraded names the key" "$(jr r '[.degraded[] | select(contains("network.namespace"))] | length')" 1
}

# Every degraded run says so in its result and in its audit trail. The
# result does; the audit trail must too.
case_degraded_run_in_audit_trail()
{
	pol 'enforcement = "best-effort"' 'mode = "allow"
namespace = "private"'
	run_in r true
	expect_rc r 0
	grep -q 'network\.namespace' "$T_TMP/r.audit" ||
		fail "no audit event says that network.namespace was not enforced (events: $(ja r '[.[].event] | join(",")'))"
}

# A name that does not resolve is no reason to refuse the run any more: its
# lookups fail inside (the resolver answers them), and nothing opens.
case_unresolvable_host_runs_strict()
{
	pol 'enforcement = "strict"' 'mode = "allow"
allow = ["no-such-host.invalid:443"]'
	run_in_refused u
	expect_rc u 0
	[ -e "$T_TMP/u.ran" ] || fail "the workload did not run: $(cat "$T_TMP/u.err")"
}

# The host provider enforces limits through cgroups like every provider,
# but it cannot switch the workload's user: that stays unenforceable.
case_unenforceable_limit_refused_under_strict()
{
	# (user and group are enforced by the host provider since issue 20: it
	# runs workloads as nobody unless the profile names another user)
	pol '' 'mode = "none"
namespace = "private"'
	run_in_refused r
	expect_rc r 125
	grep -q "'network.namespace' cannot be enforced by provider 'host'" "$T_TMP/r.err" ||
		fail "the error does not name 'network.namespace': $(cat "$T_TMP/r.err")"
	[ -e "$T_TMP/r.ran" ] && fail "the workload ran"
	# (fs policies are enforced by Landlock or BPF LSM for the host provider
	# too: see test_fs_landlock.sh)
	return 0
}

case_unenforceable_limit_best_effort_runs()
{
	pol 'enforcement = "best-effort"' 'mode = "none"
namespace = "private"'
	run_in r true
	expect_rc r 0
	eq "degraded names network.namespace" "$(jr r '[.degraded[] | select(startswith("network.namespace: not enforced by provider host"))] | length')" 1
}

setup audit_setup
run_case denied_connect_event_fields case_denied_connect_event_fields
run_case default_rule_names_mode case_default_rule_names_mode
run_case audit_all_allowed_connect_event case_audit_all_allowed_connect_event
run_case audit_deny_level_omits_allowed case_audit_deny_level_omits_allowed
run_case audit_none_level_no_network_events case_audit_none_level_no_network_events
run_case sequence_start_exit case_sequence_start_exit
run_case exit_event_for_signal case_exit_event_for_signal
run_case localhost_entry_resolved case_localhost_entry_resolved
run_case wildcard_runs_under_strict case_wildcard_runs_under_strict
run_case best_effort_degraded case_best_effort_degraded
run_case degraded_run_in_audit_trail case_degraded_run_in_audit_trail
run_case unresolvable_host_runs_strict case_unresolvable_host_runs_strict
run_case unenforceable_limit_refused_under_strict case_unenforceable_limit_refused_under_strict
run_case unenforceable_limit_best_effort_runs case_unenforceable_limit_best_effort_runs
finish
