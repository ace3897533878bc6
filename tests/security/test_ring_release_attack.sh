#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on the idle monitor's release of its audit ring (user/core/run.c
# ring_release, ring_ready, ring_has_data, consume, idle_trim_tick,
# wait_loop): once its wait loop has been quiet for 100 ms (at most once a
# second) `sbx run` unmaps the ring's consumer and polls the ring's map fd
# itself, mapping it again when the fd polls readable. The workload is
# hostile and picks its own timing: what must hold whatever it does is
# - every denial counted, every event written once, a loss only as a counted
#   drop (audit.dropped, audit.sequence_gaps);
# - events written while the sandbox runs, not at its exit;
# - a monitor that neither spins nor grows (fds, mappings, memory) over
#   many release/remap cycles;
# - the exit and the teardown whole when the workload ends around a release.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/monitor_lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

P4=""

atk_setup()
{
	start_listener P4 127.0.0.1 tcp || return 1
}

tpol()
{
	write_policy "$T_TMP/policy.toml" t "pids = 256" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
}

# tpol without the audit rate limits (their maxima): a flood reaches the
# ring whole, so that only the ring's size can lose events
tpoln()
{
	write_policy "$T_TMP/policy.toml" t "pids = 256
audit_deny_rate = 10000000
audit_deny_burst = 1000000" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
}

# wait_file FILE [TRIES]: until FILE exists (20 s at most by default)
wait_file()
{
	for _ in $(seq "${2:-400}"); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	fail "$1 never came: $(tail -c 300 "$T_TMP"/*.err 2>/dev/null)"
}

# mon NAME SCRIPT [SBX OPTIONS...]: `sbx run` of SCRIPT (sh -c) in the
# background, result and audit into $T_TMP/NAME.{result,audit}; sets
# BG_PID (the monitor itself)
mon()
{
	local n=$1 script=$2
	shift 2
	bg "$SBX" run "$@" --result "$T_TMP/$n.result" --audit "$T_TMP/$n.audit" -P "$T_TMP/policy.toml" \
		--profile t -- sh -c "$script" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err"
}

# whole NAME TOTAL: TOTAL denied connects were made; each is an event, a
# counted suppression or a counted drop, and each event is a counted denial
# (the result counts the denials it received as events); nothing read twice;
# drops and gaps agree; sandbox.exit is the last line
whole()
{
	local n=$1 total=$2 ev sup drop gaps dup
	ev=$(jq -c 'select(.event == "net.connect")' "$T_TMP/$n.audit" | grep -c .)
	sup=$(jq -r .audit.suppressed.deny "$T_TMP/$n.result")
	drop=$(jq -r .audit.dropped "$T_TMP/$n.result")
	gaps=$(jq -r .audit.sequence_gaps "$T_TMP/$n.result")
	eq "$n: denials counted (the events)" "$(jq -r '.denials["net.connect"]' "$T_TMP/$n.result")" "$ev"
	eq "$n: net.connect events + suppressed + dropped" "$((ev + sup + drop))" "$total"
	eq "$n: sequence gaps (the drops)" "$gaps" "$drop"
	dup=$(jq -r 'select(.seq != null) | .seq' "$T_TMP/$n.audit" | sort -n | uniq -d | head -3)
	eq "$n: events read twice (seq)" "$dup" ""
	eq "$n: last audit line" "$(tail -n 1 "$T_TMP/$n.audit" | jq -r .event)" sandbox.exit
}

# Bursts at many offsets from the monitor's going idle (100 ms) and from its
# trim spacing (1 s): just before, at and just after the release, and while
# it is released. Every denial arrives once; nothing is dropped (the ring is
# never near full), so no gap either.
case_bursts_at_release_timings()
{
	local d total=0 script=""
	tpol
	for d in 0.09 0.1 0.105 0.11 0.12 0.3 0.95 1.0 1.02 1.05 1.1 1.2 0.101 1.01; do
		script="$script sleep $d; $NETTOOL flood 127.0.0.2 $P4 50 >/dev/null;"
		total=$((total + 50))
	done
	mon t "$script true"
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole t "$total"
	eq "t: dropped" "$(jq -r .audit.dropped "$T_TMP/t.result")" 0
}

# One denial at a time, each made once the monitor has let the ring go: it
# is in --audit's file within 5 s while the sandbox still runs (the ring's
# fd polled directly must wake the monitor; the adaptive wakeup of a BPF
# ring fires only when the consumer had caught up).
case_single_event_after_release_is_prompt()
{
	local i c
	tpol
	mon l "for i in 1 2 3 4 5; do while [ ! -e $T_TMP/lgo.\$i ]; do sleep 0.02; done; \
		$NETTOOL connect 127.0.0.2 $P4 >/dev/null; touch $T_TMP/ldone.\$i; done; \
		while [ ! -e $T_TMP/lend ]; do sleep 0.05; done"
	wait_for_child "$BG_PID"
	for i in 1 2 3 4 5; do
		wait_ring_released "$BG_PID"
		touch "$T_TMP/lgo.$i"
		wait_file "$T_TMP/ldone.$i"
		for _ in $(seq 100); do
			c=$(jq -c 'select(.event == "net.connect")' "$T_TMP/l.audit" 2>/dev/null | grep -c .)
			[ "$c" -ge "$i" ] && break
			sleep 0.05
		done
		eq "denial $i written while the sandbox runs (within 5 s)" "$c" "$i"
		kill -0 "$BG_PID" 2>/dev/null || fail "the monitor is gone"
	done
	touch "$T_TMP/lend"
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole l 5
}

# A burst far larger than the ring (80,000 denials, no rate limit) from four
# processes at once (both CPUs), begun while the ring is released: what the
# ring cannot hold is a counted drop, the rest is written once, and the
# monitor wakes for the first of it, not at the exit.
case_flood_fills_released_ring()
{
	local c
	tpoln
	mon f "while [ ! -e $T_TMP/fgo ]; do sleep 0.02; done; \
		for k in 1 2 3 4; do $NETTOOL flood 127.0.0.2 $P4 20000 >/dev/null & done; wait; \
		touch $T_TMP/fdone; while [ ! -e $T_TMP/fend ]; do sleep 0.05; done"
	wait_for_child "$BG_PID"
	wait_ring_released "$BG_PID"
	touch "$T_TMP/fgo"
	wait_file "$T_TMP/fdone" 1200
	# written while it runs: the flood's events are in the file already
	for _ in $(seq 100); do
		c=$(grep -c '"net.connect"' "$T_TMP/f.audit" 2>/dev/null)
		[ "${c:-0}" -gt 0 ] && break
		sleep 0.05
	done
	[ "${c:-0}" -gt 0 ] || fail "no event of the flood written while the sandbox runs"
	touch "$T_TMP/fend"
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole f 80000
}

# cpu_ticks PID: user + system clock ticks of PID
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null
}

# A trickle of denials (4 a second for 10 s) makes the monitor let the ring
# go and map it again about once a second: over ten cycles it must not
# spin (under 30% of a CPU), keep more than one extra fd (libbpf's epoll) or
# more than the ring's two mappings, nor grow its anonymous memory by a MiB.
case_release_cycles_no_spin_no_growth()
{
	local t0 t1 fds fmin=999 fmax=0 m mmax=0 a0 a1 released=0
	tpol
	mon c "$NETTOOL flood 127.0.0.2 $P4 40 4 >/dev/null; sleep 1"
	wait_for_child "$BG_PID"
	sleep 1
	t0=$(cpu_ticks "$BG_PID")
	a0=$(awk '/^RssAnon:/ { print $2 }' "/proc/$BG_PID/status")
	for _ in $(seq 160); do
		kill -0 "$BG_PID" 2>/dev/null || break
		fds=$(ls "/proc/$BG_PID/fd" 2>/dev/null | wc -l)
		m=$(ring_maps "$BG_PID")
		[ -z "$m" ] && break
		[ "$fds" -lt "$fmin" ] && fmin=$fds
		[ "$fds" -gt "$fmax" ] && fmax=$fds
		[ "$m" -gt "$mmax" ] && mmax=$m
		[ "$m" = 0 ] && released=$((released + 1))
		t1=$(cpu_ticks "$BG_PID") || break
		a1=$(awk '/^RssAnon:/ { print $2 }' "/proc/$BG_PID/status")
		sleep 0.05
	done
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	[ "$released" -gt 0 ] || fail "the ring was never released during the trickle"
	[ $((fmax - fmin)) -le 1 ] || fail "the monitor's fds went from $fmin to $fmax"
	[ "$mmax" -le 2 ] || fail "the monitor mapped the ring $mmax times at once"
	# 100 ticks a second; sampled over about 8 s
	[ $((t1 - t0)) -lt 240 ] || fail "the monitor used $((t1 - t0)) ticks of CPU in ~8 s"
	[ $((a1 - a0)) -lt 1024 ] || fail "the monitor's RssAnon grew from $a0 to $a1 KiB"
	whole c 40
	eq "c: dropped" "$(jq -r .audit.dropped "$T_TMP/c.result")" 0
}

# The workload ends at many offsets from a release (a burst, then the exit
# 0-300 ms later, and a burst right at its end): the final drain maps the
# ring again if it had gone; sandbox.exit, the exit status and every denial
# come through, and run_case checks that nothing is left.
case_exit_around_release()
{
	local d i=0
	tpol
	for d in 0 0.05 0.09 0.1 0.11 0.13 0.2 0.3; do
		i=$((i + 1))
		mon e$i "$NETTOOL flood 127.0.0.2 $P4 30 >/dev/null; sleep 0.15; \
			$NETTOOL flood 127.0.0.2 $P4 30 >/dev/null; sleep $d; \
			$NETTOOL flood 127.0.0.2 $P4 30 >/dev/null; exit $i"
		wait "$BG_PID"
		eq "e$i: sbx's exit status" "$?" "$i"
		whole "e$i" 90
		eq "e$i: dropped" "$(jq -r .audit.dropped "$T_TMP/e$i.result")" 0
		eq "e$i: sandbox.exit code" \
			"$(jq -r 'select(.event == "sandbox.exit") | .exit_code' "$T_TMP/e$i.audit")" "$i"
	done
}

# The workload stops itself (SIGSTOP) right after a burst, while the
# monitor goes idle and lets the ring go, and is continued from outside:
# its next burst arrives promptly, and everything once.
case_stopped_workload_then_burst()
{
	local w c p q
	tpol
	mon s "$NETTOOL flood 127.0.0.2 $P4 100 >/dev/null; kill -STOP \$\$; \
		$NETTOOL flood 127.0.0.2 $P4 100 >/dev/null; touch $T_TMP/sdone; \
		while [ ! -e $T_TMP/send ]; do sleep 0.05; done"
	wait_for_child "$BG_PID"
	# the stopped one among the monitor's children (and theirs: a
	# provider's init)
	for _ in $(seq 200); do
		w=""
		for p in $(pgrep -P "$BG_PID") $(for q in $(pgrep -P "$BG_PID"); do pgrep -P "$q"; done); do
			[ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = T ] && w=$p && break
		done
		[ -n "$w" ] && break
		sleep 0.05
	done
	# a stopped workload would keep the monitor from ending the case
	[ -n "$w" ] || { touch "$T_TMP/send"; fail "the workload never stopped"; }
	if ! (wait_ring_released "$BG_PID"); then
		kill -CONT "$w"
		touch "$T_TMP/send"
		exit 1
	fi
	kill -CONT "$w"
	wait_file "$T_TMP/sdone"
	for _ in $(seq 100); do
		c=$(jq -c 'select(.event == "net.connect")' "$T_TMP/s.audit" 2>/dev/null | grep -c .)
		[ "$c" -ge 200 ] && break
		sleep 0.05
	done
	c=$(jq -c 'select(.event == "net.connect")' "$T_TMP/s.audit" | grep -c .)
	touch "$T_TMP/send"
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole s 200
	[ "$c" -ge $((200 - $(jq -r .audit.suppressed.deny "$T_TMP/s.result"))) ] ||
		fail "only $c of the 200 events written before the exit"
}

# The smallest ring (4 KiB, a few dozen events) and no rate limit: bursts
# right at release timings fill it while it is unmapped; each loss is a
# counted drop (and a sequence gap), the rest written once.
case_small_ring_released_full()
{
	local d total=0 script=""
	tpoln
	"$SBX" unload >/dev/null 2>&1	# the ring's size is taken at load
	for d in 0.1 0.11 1.05 0.3 1.1 0.105; do
		script="$script sleep $d; $NETTOOL flood 127.0.0.2 $P4 300 >/dev/null;"
		total=$((total + 300))
	done
	mon k "$script sleep 2" --ring-size 4K
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole k "$total"
	[ "$(jq -r .audit.dropped "$T_TMP/k.result")" -gt 0 ] || fail "the 4 KiB ring never filled: nothing tested"
	"$SBX" unload >/dev/null 2>&1 || fail "sbx unload after the small ring failed"
}

# A flood the audit rate limits mostly suppress, then quiet: the monitor
# lets the ring go, and the summary it asks for once a second
# (audit.suppressed, written into the ring after the summary tick's drain)
# is in --audit's file within 5 s while the sandbox runs; the counts add up.
case_suppressed_summary_while_released()
{
	local sum
	tpol
	mon u "$NETTOOL flood 127.0.0.2 $P4 20000 >/dev/null; touch $T_TMP/udone; \
		while [ ! -e $T_TMP/uend ]; do sleep 0.05; done"
	wait_file "$T_TMP/udone"
	for _ in $(seq 100); do
		grep -q '"audit.suppressed"' "$T_TMP/u.audit" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '"audit.suppressed"' "$T_TMP/u.audit" || fail "no audit.suppressed within 5 s of the flood"
	wait_ring_released "$BG_PID"
	touch "$T_TMP/uend"
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole u 20000
	sum=$(jq -s '[.[] | select(.event == "audit.suppressed") | .deny] | add' "$T_TMP/u.audit")
	[ "$sum" -gt 0 ] || fail "nothing suppressed: no summary tested"
	eq "audit.suppressed lines add up to the result's" "$sum" "$(jq -r .audit.suppressed.deny "$T_TMP/u.result")"
}

# The same release under sbxd (`sbx start`): its monitor is an `sbx run`
# too; it lets the ring go, and a burst of the started sandbox after that
# is in the daemon's audit log within 5 s, once each; the sandbox stops
# whole.
case_sbxd_started_released_then_burst()
{
	local mon c dup
	write_policy "$DPOL/t.toml" t "pids = 64" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
	sbxd_start || fail "sbxd did not start"
	sx start --name rr --profile t -- sh -c "while [ ! -e $T_TMP/dgo ]; do sleep 0.05; done; \
		$NETTOOL flood 127.0.0.2 $P4 150 >/dev/null; sleep 60"
	eq "sbx start" "$RC" 0
	for _ in $(seq 200); do
		mon=$(pgrep -P "$(cat "$SBXD_PIDFILE")" -x sbx) && break
		sleep 0.05
	done
	[ -n "$mon" ] || fail "no monitor under sbxd"
	wait_for_child "$mon"
	wait_ring_released "$mon"
	touch "$T_TMP/dgo"
	for _ in $(seq 100); do
		c=$(jq -c 'select(.event == "net.connect")' "$DAUDIT/audit.jsonl" 2>/dev/null | grep -c .)
		[ "$c" -ge 150 ] && break
		sleep 0.05
	done
	eq "net.connect events in the daemon's log within 5 s" "$c" 150
	dup=$(jq -r 'select(.seq != null) | "\(.sandbox) \(.seq)"' "$DAUDIT/audit.jsonl" | sort | uniq -d | head -3)
	eq "events read twice" "$dup" ""
	sx stop rr
	eq "sbx stop" "$RC" 0
	sx rm --force rr
	sbxd_stop
}

# The monitor's forks that live as long as the sandbox (the watchdog of a
# host-provider sandbox, the DNS resolver of a policy with host names) must
# not keep the ring mapped: a copy taken at their fork would hold its pages
# (their Pss) whatever the monitor lets go, and the release would save
# nothing. Once the monitor idles, no process of sbx's maps the ring; a
# denial afterwards is still written promptly, and the exit is whole.
case_forks_hold_no_ring()
{
	local p kids=0 c
	write_policy "$T_TMP/policy.toml" t "pids = 64" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\", \"api.test:$P4/tcp\"]"
	mon h "while [ ! -e $T_TMP/hgo ]; do sleep 0.05; done; $NETTOOL connect 127.0.0.2 $P4 >/dev/null; \
		while [ ! -e $T_TMP/hend ]; do sleep 0.05; done"
	wait_for_child "$BG_PID"
	wait_ring_released "$BG_PID"
	for p in $(pgrep -P "$BG_PID"); do
		case "$(cat "/proc/$p/comm" 2>/dev/null)" in
		sbx*) ;;
		*) continue ;;
		esac
		kids=$((kids + 1))
		eq "BPF map mappings of sbx's child $p ($(cat "/proc/$p/comm"))" "$(ring_maps "$p")" 0
	done
	# the watchdog and the resolver
	[ "$kids" -ge 2 ] || fail "only $kids of sbx's own processes under the monitor: nothing tested"
	touch "$T_TMP/hgo"
	for _ in $(seq 100); do
		c=$(jq -c 'select(.event == "net.connect")' "$T_TMP/h.audit" 2>/dev/null | grep -c .)
		[ "$c" -ge 1 ] && break
		sleep 0.05
	done
	eq "the denial written within 5 s" "$c" 1
	touch "$T_TMP/hend"
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	whole h 1
}

setup atk_setup
run_case bursts_at_release_timings case_bursts_at_release_timings
run_case single_event_after_release_is_prompt case_single_event_after_release_is_prompt
run_case flood_fills_released_ring case_flood_fills_released_ring
run_case release_cycles_no_spin_no_growth case_release_cycles_no_spin_no_growth
run_case exit_around_release case_exit_around_release
run_case stopped_workload_then_burst case_stopped_workload_then_burst
run_case forks_hold_no_ring case_forks_hold_no_ring
run_case suppressed_summary_while_released case_suppressed_summary_while_released
run_case sbxd_started_released_then_burst case_sbxd_started_released_then_burst
run_case small_ring_released_full case_small_ring_released_full
finish
