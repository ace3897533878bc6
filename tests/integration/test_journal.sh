#!/bin/bash
# SPDX-License-Identifier: MIT
# Audit events in the journal (sbx run --audit-journal, docs/audit.md "The
# journal"):
#   - without journald the sandbox runs all the same; sbx says so once on
#     stderr and counts every entry as lost (audit.journal.unwritten, in
#     audit.unwritten too); the JSON lines are all written;
#   - with a journald, `journalctl SBX_EVENT=net.connect SBX_ACTION=deny`
#     finds exactly the denied connect, with the SBX_* fields of its JSON
#     line (same seq); a comm holding a newline and "PRIORITY=" stays one
#     value of SBX_COMM and adds no field;
#   - a journald that stops reading does not hold the run: entries it has
#     no room for are counted, the warning says so once;
#   - sbxd's audit_journal (sbxd.toml, --audit-journal): checked as a
#     boolean; its monitors send their events, sbxd its api.denied; without
#     journald, sbxd and the monitor warn once and count.
# This host has no systemd: the second case starts a journald of its own in
# a mount namespace (a tmpfs on /run, where only sbx's run dir and uid
# leases are the host's, bound back; the journal is in memory there, and
# nothing else of the host's /run is seen or written). On a host where
# journald runs, that one is used.
# tests/vm/test_systemd.sh checks the same under systemd as PID 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

JSOCK=/run/systemd/journal/socket
JOURNALD=/lib/systemd/systemd-journald

journal_setup()
{
	start_listener P4 127.0.0.1 tcp || return 1
	start_listener Q4 127.0.0.1 tcp || return 1
	write_policy "$T_TMP/policy.toml" t 'audit = "all"' "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
	# a command name holding a newline and a field: exec through a link of that name
	ln -s "$NETTOOL" "$T_TMP/a=b"$'\n'"PRIORITY=0"
}

# The workload: one allowed connect, then one denied by default, as nettool
# exec'd under the forged name.
workload()
{
	printf '%s connect 127.0.0.1 %s; exec "%s" connect 127.0.0.1 %s' \
		"$NETTOOL" "$P4" "$T_TMP/a=b"$'\n'"PRIORITY=0" "$Q4"
}

case_no_journald_warns_once_and_counts()
{
	local n
	[ -S "$JSOCK" ] && skip "journald listens on $JSOCK here: a run cannot be without it"
	sbx_run r --audit-journal -P "$T_TMP/policy.toml" --profile t -- sh -c "$(workload)"
	expect_rc r 1	# the denied connect fails: the workload ran to its end
	n=$(grep -c 'audit journal:' "$T_TMP/r.err")
	eq "warnings on stderr" "$n" 1
	grep -q "^sbx: warning: audit journal: $JSOCK: No such file or directory (journald does not run)" "$T_TMP/r.err" ||
		fail "the warning does not say why: $(cat "$T_TMP/r.err")"
	n=$(jr r .audit.events)
	[ "$n" -ge 4 ] 2>/dev/null || fail "audit.events is '$n', expected start, 2 connects, exit"
	eq "JSON lines written" "$(wc -l <"$T_TMP/r.audit")" "$n"
	eq "audit.journal.unwritten" "$(jr r .audit.journal.unwritten)" "$n"
	eq "audit.journal.sent" "$(jr r .audit.journal.sent)" 0
	eq "audit.unwritten (over all sinks)" "$(jr r .audit.unwritten)" "$n"
	# the switch by environment does the same
	SBX_AUDIT_JOURNAL=1 sbx_run e -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc e 0
	eq "SBX_AUDIT_JOURNAL=1: journal.unwritten" "$(jr e .audit.journal.unwritten)" "$(jr e .audit.events)"
	# and without either, no journal member, no warning
	sbx_run o -P "$T_TMP/policy.toml" --profile t -- true
	eq "no journal without the switch" "$(jr o '.audit | has("journal")')" false
	grep -q 'audit journal' "$T_TMP/o.err" && fail "a warning without --audit-journal: $(cat "$T_TMP/o.err")"
	return 0
}

# in_journald SCRIPT: runs bash -c SCRIPT where a journald listens on
# $JSOCK (its own, in a mount namespace, when the host has none: its pid is
# $JD then); the script's environment has T_TMP, SBX, SBX_INSTANCE and the
# rest.
in_journald()
{
	if [ -S "$JSOCK" ]; then
		bash -c "$1"
		return
	fi
	[ -x "$JOURNALD" ] || skip "no $JOURNALD (package systemd) to start a journald of the test's own"
	mkdir -p "$RUN_DIR" /run/sbx-uids "$T_TMP/hostrun" "$T_TMP/jd"
	RUN_DIR=$RUN_DIR unshare -m --propagation private -- bash -c '
		set -e
		mount --bind /run "$T_TMP/hostrun"
		mount -t tmpfs -o mode=755 tmpfs /run
		# sbx run needs its run dir and the uid leases of the host
		for e in "${RUN_DIR#/run/}" sbx-uids; do
			mkdir -p "/run/$e"
			mount --bind "$T_TMP/hostrun/$e" "/run/$e"
		done
		# in memory (/run/log/journal), and nothing of the host read or written
		mkdir -p /run/systemd/journald.conf.d
		printf "[Journal]\nStorage=volatile\nReadKMSG=no\nForwardToSyslog=no\nForwardToWall=no\n" \
			>/run/systemd/journald.conf.d/sbx-test.conf
		'"$JOURNALD"' >"$T_TMP/jd/journald.log" 2>&1 &
		jd=$!
		for i in $(seq 100); do [ -S '"$JSOCK"' ] && break; sleep 0.05; done
		[ -S '"$JSOCK"' ] || { echo "journald did not start: $(cat "$T_TMP/jd/journald.log")" >&2; exit 99; }
		set +e
		JD=$jd bash -c "$1"
		rc=$?
		kill -CONT $jd; kill $jd; wait $jd
		exit $rc' sh "$1"
}

case_denied_connect_in_journal()
{
	local id seq ev
	export T_TMP SBX NETTOOL P4 Q4
	export WORKLOAD="$(workload)"
	in_journald '
		"$SBX" run --audit-journal -P "$T_TMP/policy.toml" --profile t --result "$T_TMP/j.result" \
			--audit "$T_TMP/j.audit" -- sh -c "$WORKLOAD" >"$T_TMP/j.out" 2>"$T_TMP/j.err"
		echo $? >"$T_TMP/j.rc"
		id=$(jq -r .sandbox "$T_TMP/j.result")
		journalctl --sync 2>/dev/null
		# the documented filter, and the denials of one sandbox
		journalctl --no-pager -o json SBX_EVENT=net.connect SBX_ACTION=deny >"$T_TMP/j.deny"
		journalctl --no-pager -o json SBX_SANDBOX="$id" >"$T_TMP/j.all"
		journalctl --no-pager -o json SBX_ACTION=allow SBX_SANDBOX="$id" >"$T_TMP/j.allow"
		journalctl --no-pager -o json -t sbx -p notice SBX_SANDBOX="$id" >"$T_TMP/j.notice"'
	[ $? = 99 ] && fail "no journald: $(cat "$T_TMP/jd/journald.log" 2>/dev/null)"
	eq "sbx exit (the denied connect fails)" "$(cat "$T_TMP/j.rc")" 1
	grep -q 'audit journal' "$T_TMP/j.err" && fail "a warning with journald running: $(cat "$T_TMP/j.err")"
	id=$(jr j .sandbox)
	eq "journal.sent" "$(jr j .audit.journal.sent)" "$(jr j .audit.events)"
	eq "journal.unwritten" "$(jr j .audit.journal.unwritten)" 0
	# exactly the denied connect of this sandbox
	eq "entries for SBX_EVENT=net.connect SBX_ACTION=deny" \
		"$(jq -s --arg id "$id" '[.[] | select(.SBX_SANDBOX == $id)] | length' "$T_TMP/j.deny")" 1
	ev=$(jq -c --arg id "$id" 'select(.SBX_SANDBOX == $id)' "$T_TMP/j.deny")
	seq=$(ja j '.[] | select(.event == "net.connect" and .verdict == "deny") | .seq')
	eq SBX_SEQ "$(jq -r .SBX_SEQ <<<"$ev")" "$seq"
	eq SBX_PORT "$(jq -r .SBX_PORT <<<"$ev")" "$Q4"
	eq SBX_ADDR "$(jq -r .SBX_ADDR <<<"$ev")" 127.0.0.1
	eq SBX_PROTO "$(jq -r .SBX_PROTO <<<"$ev")" tcp
	eq SBX_RULE "$(jq -r .SBX_RULE <<<"$ev")" default
	eq SBX_PROFILE "$(jq -r .SBX_PROFILE <<<"$ev")" t
	eq SBX_PID "$(jq -r .SBX_PID <<<"$ev")" "$(ja j '.[] | select(.event == "net.connect" and .verdict == "deny") | .pid')"
	eq SBX_CGROUP_ID "$(jq -r .SBX_CGROUP_ID <<<"$ev")" "$(ja j '.[] | select(.event == "net.connect" and .verdict == "deny") | .cgroup_id')"
	eq PRIORITY "$(jq -r .PRIORITY <<<"$ev")" 5
	eq SYSLOG_IDENTIFIER "$(jq -r .SYSLOG_IDENTIFIER <<<"$ev")" sbx
	eq MESSAGE "$(jq -r .MESSAGE <<<"$ev")" "sbx: $id denied connect to 127.0.0.1:$Q4/tcp (rule default)"
	# the forged comm is one binary value (journalctl -o json: an array of
	# bytes), and nothing it spelled became a field
	eq SBX_COMM "$(jq -r '.SBX_COMM | if type == "array" then implode else . end' <<<"$ev" | od -An -c | tr -s ' ')" \
		"$(printf 'a=b\nPRIORITY=0\n' | od -An -c | tr -s ' ')"
	# the allowed connect: its own rule, with where it was written
	ev=$(jq -c 'select(.SBX_EVENT == "net.connect")' "$T_TMP/j.allow")
	eq "allowed connects" "$(jq -s length <<<"$ev")" 1
	eq "allowed SBX_RULE_SOURCE" "$(jq -r .SBX_RULE_SOURCE <<<"$ev")" "$T_TMP/policy.toml:8:10"
	eq "allowed PRIORITY" "$(jq -r .PRIORITY <<<"$ev")" 6
	# every JSON line has its entry, same seq
	eq "seqs in the journal" "$(jq -s -c '[.[].SBX_SEQ | tonumber] | sort' "$T_TMP/j.all")" \
		"$(jq -s -c '[.[].seq] | sort' "$T_TMP/j.audit")"
	eq "notice and above: the denial alone" "$(jq -s -c '[.[].SBX_EVENT]' "$T_TMP/j.notice")" '["net.connect"]'
}

# A journald that stops reading (SIGSTOP) fills its queue: sbx run waits
# SBX_JOURNAL_WAIT_MS for room, then no more; the sandbox ends as usual,
# sbx warns once and counts what it could not send.
case_stalled_journald_does_not_hold_the_run()
{
	[ -S "$JSOCK" ] && skip "the host's own journald listens on $JSOCK: the test stops only a journald of its own"
	write_policy "$T_TMP/flood.toml" f 'audit = "all"
audit_burst = 100000
audit_rate = 100000' "mode = \"allow\"
allow = [\"127.0.0.1:$P4/udp\"]"
	export T_TMP SBX NETTOOL P4
	in_journald '
		kill -STOP $JD
		timeout -s KILL 120 "$SBX" run --audit-journal -P "$T_TMP/flood.toml" --profile f \
			--result "$T_TMP/s.result" --audit "$T_TMP/s.audit" -- "$NETTOOL" flood 127.0.0.1 $P4 3000 \
			>"$T_TMP/s.out" 2>"$T_TMP/s.err"
		echo $? >"$T_TMP/s.rc"'
	eq "sbx exit" "$(cat "$T_TMP/s.rc")" 0
	eq "warnings" "$(grep -c 'audit journal:' "$T_TMP/s.err")" 1
	grep -q "journald does not keep up" "$T_TMP/s.err" || fail "the warning: $(cat "$T_TMP/s.err")"
	local ev sent lost
	ev=$(jr s .audit.events) sent=$(jr s .audit.journal.sent) lost=$(jr s .audit.journal.unwritten)
	[ "$ev" -gt 1000 ] 2>/dev/null || fail "only '$ev' events: not a flood"
	[ "$lost" -gt 0 ] 2>/dev/null || fail "journal.unwritten is '$lost' with journald stopped"
	eq "sent + unwritten = events" "$((sent + lost))" "$ev"
	eq "JSON lines, all of them" "$(wc -l <"$T_TMP/s.audit")" "$ev"
}

case_sbxd_audit_journal_setting()
{
	local msg
	printf 'audit_journal = "yes"\n' >"$T_TMP/bad.toml"
	msg=$("$SBXD" -c "$T_TMP/bad.toml" --check-config --policy-dir "$DPOL" 2>&1) &&
		fail "a string audit_journal accepted: $msg"
	[[ $msg == *"bad.toml:1:1: audit_journal must be true or false, not string"* ]] || fail "message: $msg"
	msg=$("$SBXD" --audit-journal=maybe --check-config --policy-dir "$DPOL" 2>&1) && fail "--audit-journal=maybe accepted"
	[[ $msg == *"--audit-journal: audit_journal: 'maybe' is not true or false"* ]] || fail "message: $msg"
	printf 'audit_journal = true\n' >"$T_TMP/good.toml"
	msg=$("$SBXD" -c "$T_TMP/good.toml" --check-config --policy-dir "$DPOL" 2>&1) || fail "audit_journal = true refused: $msg"
}

# Through sbxd without journald: the daemon and the sandbox's monitor warn
# once each; the sandbox runs; its result counts every entry as lost.
case_sbxd_without_journald()
{
	[ -S "$JSOCK" ] && skip "journald listens on $JSOCK here"
	cp "$T_TMP/policy.toml" "$DPOL/t.toml"
	printf 'audit_journal = true\n' >"$T_TMP/sbxd.toml"
	: >"$T_TMP/sbxd.log"
	sbxd_start -c "$T_TMP/sbxd.toml" || fail "sbxd: $(cat "$T_TMP/sbxd.log")"
	sx start --name jn --profile t -- "$NETTOOL" connect 127.0.0.1 "$Q4"
	[ "$RC" = 0 ] || fail "sbx start: $(err)"
	wait_state jn exited || fail "the sandbox did not exit: $(SBX_SOCKET=$SOCK "$SBX" status jn 2>&1)"
	eq "sbxd warnings" "$(grep -c 'sbxd: warning: audit journal:' "$T_TMP/sbxd.log")" 1
	eq "monitor warnings" "$(grep -c 'sbx: warning: audit journal:' "$DSTATE/sandboxes/jn/monitor.log")" 1
	jq -e '.audit.events >= 3 and .audit.journal.unwritten == .audit.events and .audit.journal.sent == 0' \
		"$DSTATE/sandboxes/jn/result.json" >/dev/null ||
		fail "result: $(jq -c .audit "$DSTATE/sandboxes/jn/result.json" 2>&1)"
	sx rm -f jn
	sbxd_stop
}

# Through sbxd with a journald: the monitor's denied connect and sbxd's
# own api.denied are entries.
case_sbxd_journal_entries()
{
	local ev id
	[ -S "$JSOCK" ] || [ -x "$JOURNALD" ] || skip "no journald and no $JOURNALD to start one"
	cp "$T_TMP/policy.toml" "$DPOL/t.toml"
	export T_TMP SBX SBXD NETTOOL Q4 SOCK DPOL DSTATE DAUDIT
	in_journald '
		"$SBXD" --state-dir "$DSTATE" --socket "$SOCK" --policy-dir "$DPOL" --audit-dir "$DAUDIT" \
			--stop-timeout 2s --audit-journal >"$T_TMP/jd/sbxd.log" 2>&1 &
		d=$!
		for i in $(seq 200); do SBX_SOCKET=$SOCK "$SBX" ls >/dev/null 2>&1 && break; sleep 0.05; done
		SBX_SOCKET=$SOCK "$SBX" run --profile t -- "$NETTOOL" connect 127.0.0.1 $Q4 >/dev/null 2>&1
		SBX_SOCKET=$SOCK runuser -u nobody -- "$SBX" reload >/dev/null 2>&1
		journalctl --sync 2>/dev/null
		journalctl --no-pager -o json SBX_EVENT=net.connect SBX_ACTION=deny SBX_PORT=$Q4 >"$T_TMP/d.deny"
		# of this sbxd alone (a host journal may keep those of earlier runs)
		journalctl --no-pager -o json SBX_EVENT=api.denied SBX_ACTION=deny _PID=$d >"$T_TMP/d.api"
		kill $d; wait $d'
	grep -q 'audit journal' "$T_TMP/jd/sbxd.log" && fail "sbxd warned with journald running: $(cat "$T_TMP/jd/sbxd.log")"
	id=$(jq -r 'select(.event == "net.connect" and .verdict == "deny" and .port == '"$Q4"') | .sandbox' "$DAUDIT/audit.jsonl" | tail -1)
	[ -n "$id" ] || fail "no denied connect in sbxd's audit log: $(tail -3 "$DAUDIT/audit.jsonl")"
	ev=$(jq -c --arg id "$id" 'select(.SBX_SANDBOX == $id)' "$T_TMP/d.deny")
	eq "entries of the monitor's denial" "$(jq -s length <<<"$ev")" 1
	eq SBX_SEQ "$(jq -r .SBX_SEQ <<<"$ev")" \
		"$(jq -r --arg id "$id" 'select(.sandbox == $id and .event == "net.connect") | .seq' "$DAUDIT/audit.jsonl")"
	ev=$(jq -c 'select(.SBX_METHOD == "org.sbx.Manager.Reload")' "$T_TMP/d.api")
	eq "api.denied entries" "$(jq -s length <<<"$ev")" 1
	eq "api.denied SBX_UID" "$(jq -r .SBX_UID <<<"$ev")" "$(id -u nobody)"
	eq "api.denied PRIORITY" "$(jq -r .PRIORITY <<<"$ev")" 5
	eq "api.denied MESSAGE" "$(jq -r .MESSAGE <<<"$ev")" \
		"sbx: sbxd denied org.sbx.Manager.Reload to uid $(id -u nobody): only root and admin_groups may reload the policy"
}

setup journal_setup
run_case no_journald_warns_once_and_counts case_no_journald_warns_once_and_counts
run_case denied_connect_in_journal case_denied_connect_in_journal
run_case stalled_journald_does_not_hold_the_run case_stalled_journald_does_not_hold_the_run
run_case sbxd_audit_journal_setting case_sbxd_audit_journal_setting
run_case sbxd_without_journald case_sbxd_without_journald
run_case sbxd_journal_entries case_sbxd_journal_entries
run_case unload_leaves_nothing case_unload_leaves_nothing
exit $T_FAILED
