#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on sbxd's metrics (docs/monitoring.md): the HTTP endpoint of
# metrics_listen held by a local user, the Metrics method's reply size,
# the monitor's counters file turned into something that blocks a reader,
# and what a non-admin caller learns. Each case is an attack; those that
# worked are fixed, the others stay as regression tests.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UM=sbxma1 UO=sbxma2
# the longest names the policy and the API take (128 and 63 characters)
LONGP=p$(printf 'x%.0s' $(seq 127))
LONGN=$(printf 'n%.0s' $(seq 59))
CREATED_USERS=""

_ma_cleanup()
{
	local u
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
	_cleanup
}
trap _ma_cleanup EXIT

mk_user()
{
	getent passwd "$1" >/dev/null && return 0
	useradd -M -d / -s /usr/sbin/nologin "$1" && CREATED_USERS="$CREATED_USERS $1"
}

free_port()
{
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port() { cat "$T_TMP/port"; }
code() { curl -s --max-time "${2:-5}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)$1"; }

ma_setup()
{
	command -v curl >/dev/null || { echo "no curl"; return 1; }
	command -v python3 >/dev/null || { echo "no python3"; return 1; }
	command -v useradd >/dev/null || { echo "no useradd"; return 1; }
	mk_user $UM && mk_user $UO || return 1
	cat >"$DPOL/m.toml" <<EOP
version = 1
[profile.net]
provider = "host"
min_isolation = "none"
allow_users = ["$UM", "$UO"]
timeout = "300s"
[profile.net.network]
mode = "none"
[profile.net.fs]
mode = "full"
[profile.$LONGP]
provider = "host"
min_isolation = "none"
timeout = "600s"
[profile.$LONGP.network]
mode = "none"
[profile.$LONGP.fs]
mode = "full"
[profile.rootp]
provider = "process"
min_isolation = "process"
user = "root"
timeout = "300s"
[profile.rootp.network]
mode = "none"
[profile.rootp.fs]
mode = "full"
[profile.rootw]
provider = "host"
min_isolation = "none"
user = "root"
timeout = "300s"
[profile.rootw.network]
mode = "none"
[profile.rootw.fs]
mode = "full"
EOP
	free_port >"$T_TMP/port"
	sbxd_start --metrics-listen "127.0.0.1:$(port)"
}

# An unprivileged local user holds every connection the endpoint takes (8
# per address, from 127.0.0.1, .2 and .3, all loopback), each kept alive
# by a byte every 2 s so the idle timeout never fires: Prometheus must
# still get its scrape, after the holder's connections went stale.
case_slowloris_does_not_blind_the_scraper()
{
	local pid c
	runuser -u $UM -- python3 "$HERE/metrics_slowloris.py" "$(port)" 30 >"$T_TMP/slow.out" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	sleep 3
	grep -q '^held' "$T_TMP/slow.out" || fail "the holder did not start: $(cat "$T_TMP/slow.out")"
	c=$(code /metrics)
	sx ls
	eq "sbx ls while the endpoint is held" "$RC" 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eq "scrape while a local user holds connections ($(cat "$T_TMP/slow.out" | tr '\n' ' '))" "$c" 200
}

# A workload of a profile with user = "root" (uid 0 without capabilities)
# owned /run/<instance>/slots like sbx does: it could forge or freeze its
# counters (a directory where the monitor renames its file: the denials
# stop counting), rewrite its registry file, or leave FIFOs that sbxd opens
# at each scrape on its only thread. The host provider's Landlock plan for
# root keeps the instance's run directory unwritable, as /sys and /proc.
root_workload_run_dir()
{
	local i prof=$1
	# its output goes to a directory that exists before it starts: a root
	# workload may not create entries beside sbx's own directories (the
	# state and log directories are in $T_TMP; providers/host.c)
	mkdir -p "$T_TMP/wout"
	sx start --name rw --profile "$prof" -- sh -c \
		'cd /run/'"$SBX_INSTANCE"'/slots || exit 3; sleep 1; for f in *; do
			if rm -f "$f" 2>/dev/null || mkfifo "x$f" 2>/dev/null || { printf x >"$f"; } 2>/dev/null; then echo "wrote $f"; else echo "refused $f"; fi
		done >'"$T_TMP"'/wout/rw.out 2>&1; mkdir y.counters.tmp 2>>'"$T_TMP"'/wout/rw.out && echo wrote-dir >>'"$T_TMP"'/wout/rw.out; echo done >>'"$T_TMP"'/wout/rw.out; exec sleep 200'
	eq "start rw" "$RC" 0
	for i in $(seq 100); do
		grep -q '^done' "$T_TMP/wout/rw.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^done' "$T_TMP/wout/rw.out" || { sx logs rw; fail "the root workload did not finish: $(cat "$T_TMP/wout/rw.out" "$T_TMP/sx.out" "$T_TMP/sx.err" 2>&1; tail -5 "$T_TMP/sbxd.log"; cat "$DSTATE"/sandboxes/rw/*.log)"; }
	grep -q '^refused' "$T_TMP/wout/rw.out" || fail "the root workload saw no file: $(cat "$T_TMP/wout/rw.out")"
	grep -q 'wrote' "$T_TMP/wout/rw.out" && fail "a root workload changed /run/$SBX_INSTANCE/slots: $(cat "$T_TMP/wout/rw.out"; ls -la "$RUN_DIR/slots")"
	[ -z "$(find "$RUN_DIR/slots" -type p)" ] || fail "FIFOs in the run directory"
	eq "scrape with a root workload" "$(code /metrics)" 200
	sx rm --force rw
}

case_root_workload_cannot_touch_run_dir() { root_workload_run_dir rootw; }

# The same under the process provider: its view hides /run/<instance>
# (the workload sees no file there at all).
case_root_process_workload_cannot_touch_run_dir()
{
	local i
	sx start --name rp --profile rootp -- sh -c \
		'ls -A /run/'"$SBX_INSTANCE"' >'"$T_TMP"'/rp.ls 2>&1; cd /run/'"$SBX_INSTANCE"'/slots 2>/dev/null && { mkfifo x.counters || : >0; } 2>/dev/null && echo wrote >>'"$T_TMP"'/rp.ls; echo done >>'"$T_TMP"'/rp.ls; exec sleep 200'
	eq "start rp" "$RC" 0
	for i in $(seq 100); do
		grep -q '^done' "$T_TMP/rp.ls" 2>/dev/null && break
		sleep 0.1
	done
	eq "what a root process workload sees of /run/$SBX_INSTANCE and does" "$(cat "$T_TMP/rp.ls" 2>&1)" "done"
	[ -z "$(find "$RUN_DIR/slots" -type p)" ] || fail "FIFOs in the run directory"
	eq "scrape with a root process workload" "$(code /metrics)" 200
	sx rm --force rp
}

# Whatever left it there (a root process of the host, an older sbx), a FIFO
# in place of a counters or registry file must not stall sbxd: it reads
# them at each scrape and List, on its only thread. Here the test puts them.
case_fifo_in_slots_does_not_stall_sbxd()
{
	local c f slot
	sx start --name ff --profile net -- sleep 200
	eq "start ff" "$RC" 0
	wait_state ff running || fail "ff is not running"
	slot=$(ls "$RUN_DIR/slots" | grep -v '\.' | head -1)
	[ -n "$slot" ] || fail "no registry file in $RUN_DIR/slots"
	rm -f "$RUN_DIR/slots/$slot.counters" && mkfifo "$RUN_DIR/slots/$slot.counters"
	mkfifo "$RUN_DIR/slots/99999"
	c=$(code /metrics)
	timeout 10 env SBX_SOCKET="$SOCK" "$SBX" ls >/dev/null 2>&1
	RC=$?
	# whatever happened, let a blocked reader go (it would hang forever)
	for f in $(find "$RUN_DIR/slots" -type p); do timeout 2 sh -c ": >'$f'"; rm -f "$f"; done
	eq "scrape with FIFOs in the slots directory" "$c" 200
	eq "sbx ls with FIFOs in the slots directory" "$RC" 0
	sx rm --force ff
}

# An operator with a few hundred sandboxes (max_sandboxes is 4096): the
# Metrics reply of `sbx metrics` grows by some 6 KiB per running sandbox
# with long names. It once stopped at the 1 MiB that a varlink message may
# have ("sbxd sent a reply longer than ..."), and at 8 MiB sbxd dropped the
# connection. Here: as many sandboxes as make the text pass 1.1 MiB.
case_big_metrics_reply()
{
	local per n i size start took
	sx start --name "${LONGN}0000" --profile "$LONGP" -- sleep 600
	eq "start the first" "$RC" 0
	wait_state "${LONGN}0000" running || fail "not running"
	curl -s --max-time 10 "http://127.0.0.1:$(port)/metrics" >"$T_TMP/one.prom"
	per=$(grep "sandbox=\"${LONGN}0000\"" "$T_TMP/one.prom" | wc -c)
	n=$(( (1153434 - $(wc -c <"$T_TMP/one.prom")) / per + 2 ))
	[ "$n" -lt 400 ] || skip "$n sandboxes would be needed ($per bytes each)"
	seq -f '%04g' 1 "$n" | xargs -P 4 -I{} env SBX_SOCKET="$SOCK" "$SBX" start \
		--name "${LONGN}{}" --profile "$LONGP" -- sleep 600 >/dev/null 2>"$T_TMP/starts.err" ||
		fail "starting $n sandboxes: $(tail -3 "$T_TMP/starts.err")"
	for i in $(seq 300); do
		curl -s --max-time 30 "http://127.0.0.1:$(port)/metrics" >"$T_TMP/big.prom"
		[ "$(grep -c '^sbx_sandbox_memory_bytes{' "$T_TMP/big.prom")" -gt "$n" ] && break
		sleep 0.2
	done
	size=$(wc -c <"$T_TMP/big.prom")
	[ "$size" -gt 1048576 ] || fail "the text has $size bytes only ($n+1 sandboxes, $per bytes each)"
	sx metrics
	eq "sbx metrics with $((n + 1)) running sandboxes ($size bytes): $(head -c 300 "$T_TMP/sx.err")" "$RC" 0
	eq "sbx metrics gives the endpoint's series" "$(grep -c '^sbx_sandbox_memory_bytes{' "$T_TMP/sx.out")" "$((n + 1))"
	# any local user scrapes in a loop, 16 at a time: the API must go on
	# answering (each full scrape took some 0.2 s of sbxd's only thread
	# here, and `sbx ls` 6 to 12 s under the flood before sbxd served a
	# recent text again)
	curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$(port)/metrics" >"$T_TMP/scrape.time"
	for i in $(seq 16); do
		( while [ ! -e "$T_TMP/flood.stop" ]; do
			curl -s --max-time 30 -o /dev/null "http://127.0.0.1:$(port)/metrics"; done ) &
		T_PIDS="$T_PIDS $!"
	done
	sleep 1
	start=$(date +%s%N)
	for i in 1 2 3 4 5; do
		timeout 60 env SBX_SOCKET="$SOCK" "$SBX" ls >/dev/null || fail "sbx ls under a flood of scrapes failed"
	done
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	touch "$T_TMP/flood.stop"
	wait
	[ "$took" -lt 10000 ] ||
		fail "5 x sbx ls took $took ms under a flood of scrapes (one scrape: $(cat "$T_TMP/scrape.time") s)"
	seq -f '%04g' 0 "$n" | xargs -P 4 -I{} env SBX_SOCKET="$SOCK" "$SBX" rm --force "${LONGN}{}" >/dev/null 2>&1
	return 0
}

# Requests that are not a plain GET of /metrics: other paths, methods,
# versions, oversized headers, pipelining, garbage. Only GET (and HEAD)
# of /metrics gives the text; the rest is refused without it, and sbxd
# answers the next scrape. sbxd closes the connection after each reply
# (libmicrohttpd does here), so pipelined requests get the first answer.
case_http_odd_requests()
{
	local want
	python3 "$HERE/metrics_http.py" "$(port)" >"$T_TMP/odd.out" 2>&1 || fail "metrics_http.py: $(cat "$T_TMP/odd.out")"
	while read -r name want; do
		eq "$name" "$(awk -v n="$name" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$T_TMP/odd.out")" "$want"
	done <<'EOW'
plain 200
query 200
double-slash 404
trailing-slash 404
dotdot 404
absolute 404
http10 200
bigheader 431
manyheaders 431
pipelined 200
options 404
trace 405
post-body 405
garbage refused
after 200
EOW
	sx ls
	eq "sbx ls after the odd requests" "$RC" 0
}

# sbxd killed (-9) and started again adopts the running sandbox: its
# series come back with the same labels, and its counters (read from the
# BPF maps and its monitor's file, not kept in sbxd) do not go back.
case_series_survive_sbxd_kill()
{
	local l='{sandbox="adopt",profile="net",provider="host"}' i a b
	sx start --name adopt --profile net -- sh -c "$NETTOOL connect 127.0.0.1 9 >/dev/null 2>&1; exec sleep 200"
	eq "start adopt" "$RC" 0
	wait_state adopt running || fail "adopt is not running"
	for i in $(seq 100); do
		curl -s --max-time 10 "http://127.0.0.1:$(port)/metrics" >"$T_TMP/a1.prom"
		a=$(awk -v s="sbx_sandbox_network_denials_total$l" 'index($0, s " ") == 1 { print $NF }' "$T_TMP/a1.prom")
		[ "${a:-0}" -ge 1 ] 2>/dev/null && break
		sleep 0.1
	done
	[ "${a:-0}" -ge 1 ] 2>/dev/null || fail "no network denial of adopt: $(grep adopt "$T_TMP/a1.prom" | head)"
	kill -9 "$(cat "$SBXD_PIDFILE")"
	wait "$(cat "$SBXD_PIDFILE")" 2>/dev/null
	sbxd_start --metrics-listen "127.0.0.1:$(port)" >"$T_TMP/restart.out" 2>&1 || fail "sbxd did not come back: $(tail -c 600 "$T_TMP/restart.out")"
	for i in $(seq 100); do
		curl -s --max-time 10 "http://127.0.0.1:$(port)/metrics" >"$T_TMP/a2.prom"
		b=$(awk -v s="sbx_sandbox_network_denials_total$l" 'index($0, s " ") == 1 { print $NF }' "$T_TMP/a2.prom")
		[ -n "$b" ] && break
		sleep 0.1
	done
	eq "running after adoption" "$(awk -v s="sbx_sandbox_running$l" 'index($0, s " ") == 1 { print $NF }' "$T_TMP/a2.prom")" 1
	eq "network denials after adoption" "$b" "$a"
	eq "series of adopt (labels kept)" "$(grep -c 'sandbox="adopt"' "$T_TMP/a2.prom")" "$(grep -c 'sandbox="adopt"' "$T_TMP/a1.prom")"
	sx rm --force adopt
	curl -s --max-time 10 "http://127.0.0.1:$(port)/metrics" >"$T_TMP/a3.prom"
	eq "series of adopt after rm" "$(grep -c 'sandbox="adopt"' "$T_TMP/a3.prom")" 0
}

# Another user's raw Metrics call, with parameters that might widen it
# (there are none): the owner's sandbox name and profile never appear,
# only the daemon-wide counts; an admin (root) sees the sandbox.
case_non_admin_raw_metrics()
{
	local p
	as $UM start --name secretname42 --profile net -- sleep 200
	eq "$UM start" "$RC" 0
	wait_state secretname42 running || fail "not running"
	for p in '{}' '{"all": true}' '{"uid": 0}' '{"name": "secretname42"}' '{"admin": true, "peer": {"uid": 0}}'; do
		runuser -u $UO -- python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "org.sbx.Manager.Metrics", "parameters": json.loads(sys.argv[2])}).encode() + b"\0")
d = b""
while not d.endswith(b"\0"):
    b = s.recv(65536)
    if not b: break
    d += b
print(d.rstrip(b"\0").decode())' "$SOCK" "$p" >"$T_TMP/raw.out" 2>&1 || fail "raw call $p: $(cat "$T_TMP/raw.out")"
		grep -q 'secretname42' "$T_TMP/raw.out" && fail "$UO learns $UM's sandbox with $p: $(head -c 300 "$T_TMP/raw.out")"
		jq -e '.parameters.text // .error' "$T_TMP/raw.out" >/dev/null || fail "reply to $p: $(head -c 300 "$T_TMP/raw.out")"
	done
	as $UO metrics
	eq "$UO sbx metrics" "$RC" 0
	cp "$T_TMP/sx.out" "$T_TMP/uo.prom"
	grep -q '^sbx_sandboxes_running 1$' "$T_TMP/uo.prom" || fail "$UO's daemon-wide count: $(grep sandboxes_running "$T_TMP/uo.prom")"
	eq "$UO sees no sandbox series" "$(grep -c 'sandbox=' "$T_TMP/uo.prom")" 0
	sx metrics
	grep -q 'sandbox="secretname42"' "$T_TMP/sx.out" || fail "root does not see secretname42"
	sx rm --force secretname42
}

setup ma_setup
run_case slowloris_does_not_blind_the_scraper case_slowloris_does_not_blind_the_scraper
run_case root_workload_cannot_touch_run_dir case_root_workload_cannot_touch_run_dir
run_case root_process_workload_cannot_touch_run_dir case_root_process_workload_cannot_touch_run_dir
run_case fifo_in_slots_does_not_stall_sbxd case_fifo_in_slots_does_not_stall_sbxd
run_case http_odd_requests case_http_odd_requests
run_case non_admin_raw_metrics case_non_admin_raw_metrics
run_case series_survive_sbxd_kill case_series_survive_sbxd_kill
run_case big_metrics_reply case_big_metrics_reply
run_case sbxd_stops sbxd_stop
finish
