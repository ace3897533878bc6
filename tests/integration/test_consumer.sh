#!/bin/bash
# SPDX-License-Identifier: MIT
# The third-party consumer of docs/examples/sbx-consumer.c, built only against
# bpf/include/sbx_abi.h and libbpf, reads one sandbox's events from the pinned
# global ring /sys/fs/bpf/<instance>/sbx_events: the start, an allowed and a
# denied loopback connect, and the exit, with fields that match the sandbox's
# JSON audit lines (docs/audit.md).
#
# Self-contained: its own instance, log dir and temp dir; a python3 listener
# it starts and kills by pid; `sbx unload` of its instance at the end.
# Environment: OUTPUT (build dir, default <repo>/build), SBX (the binary),
# SBX_TEST_SKIP (skip every case with that reason).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$ROOT/build}
SBX=${SBX:-$OUTPUT/sbx}
CONSUMER=$OUTPUT/examples/sbx-consumer
unset SBX_CGROUP_ROOT SBX_POLICY SBX_ENV
export SBX_INSTANCE="sbxtest-$$-consumer"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbxtest.consumer.XXXXXX")
export SBX_LOG_DIR="$TMP/log"
PIDS=""
FAILED=0
LOADED=0

cleanup()
{
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ "$LOADED" = 1 ]; then
		"$SBX" unload >/dev/null 2>&1
		rm -rf "/run/$SBX_INSTANCE"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS consumer.$1"; }
fail() { echo "FAIL consumer.$1: $2"; FAILED=1; }
skip_all()
{
	local c
	for c in build start_event allowed_connect denied_connect exit_event matches_json no_drops unload; do
		echo "SKIP consumer.$c: $1"
	done
	exit 0
}

[ -n "${SBX_TEST_SKIP:-}" ] && skip_all "$SBX_TEST_SKIP"
[ "$(id -u)" = 0 ] || skip_all "needs root (BPF programs, cgroups, bpffs)"
command -v python3 >/dev/null || skip_all "python3 (the test's listener) is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
[ -x "$SBX" ] || { fail build "$SBX is not built (make)"; exit 1; }

# ---- build the consumer: warning-free with -Wall -Wextra -------------------
if ! make -s -B -C "$ROOT/docs/examples" OUTPUT="$OUTPUT/examples" CFLAGS="-O2 -g" \
	"$CONSUMER" >"$TMP/build.log" 2>&1; then
	fail build "make -C docs/examples failed: $(tail -c 600 "$TMP/build.log" | tr '\n' ' ')"
	exit 1
fi
if grep -qi 'warning' "$TMP/build.log"; then
	fail build "compiler warnings: $(grep -i warning "$TMP/build.log" | head -3 | tr '\n' ' ')"
else
	pass build
fi

# ---- policy: one allowed port on loopback, everything else denied ----------
python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.close()
' >"$TMP/listener.out" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do
	[ -s "$TMP/listener.out" ] && break
	sleep 0.05
done
PORT=$(head -1 "$TMP/listener.out")
case $PORT in
'' | *[!0-9]*) fail start_event "listener did not start: $(cat "$TMP/listener.out")"; exit 1 ;;
esac
DPORT=$((PORT == 65535 ? PORT - 1 : PORT + 1))	# not allowed: EPERM before any packet

cat >"$TMP/policy.toml" <<EOF
[profile."consumer"]
provider = "host"
min_isolation = "none"
audit = "all"
[profile."consumer".network]
mode = "allow"
allow = ["127.0.0.1:$PORT/tcp"]
# bash looks its user up, and glibc first tries nscd's socket: listed, so that
# the stream holds only the events under test (docs/policy.md, Unix sockets)
unix = ["/var/run/nscd/socket"]
[profile."consumer".fs]
mode = "full"
EOF

# ---- can sbx load its programs here? (this also creates the pins) ---------
"$SBX" run -P "$TMP/policy.toml" -- true >"$TMP/probe.out" 2>&1
rc=$?
[ -e "/sys/fs/bpf/$SBX_INSTANCE/sbx_config" ] && LOADED=1
if [ $rc != 0 ]; then
	if grep -q 'BPF setup' "$TMP/probe.out"; then
		skip_all "sbx cannot load its BPF programs: $(head -c 300 "$TMP/probe.out" | tr '\n' ' ')"
	fi
	fail start_event "sbx run -- true exited $rc: $(head -c 400 "$TMP/probe.out" | tr '\n' ' ')"
	exit 1
fi

# ---- the consumer on the global ring, then the sandbox ---------------------
# -s: skip the backlog (the probe run's events are still in the ring).
"$CONSUMER" -s -n 4 -t 30 "$SBX_INSTANCE" >"$TMP/consumer.out" 2>"$TMP/consumer.err" &
CPID=$!
PIDS="$PIDS $CPID"
for _ in $(seq 100); do
	grep -qs '^sbx-consumer: reading' "$TMP/consumer.err" && break
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.05
done

timeout -k 5 30 "$SBX" run -P "$TMP/policy.toml" --audit "$TMP/audit.jsonl" \
	--result "$TMP/result.json" -- bash -c \
	"exec 3<>/dev/tcp/127.0.0.1/$PORT || exit 10; exec 3<&-; exec 3<>/dev/tcp/127.0.0.1/$DPORT && exit 11; exit 7" \
	>"$TMP/run.out" 2>&1
RC=$?

crc=""
for _ in $(seq 100); do	# the consumer stops by itself after 4 events
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$CPID" 2>/dev/null; then
	kill "$CPID"
fi
wait "$CPID" 2>/dev/null
crc=$?
# shellcheck disable=SC2086 # word splitting of the pid list is wanted
PIDS=$(printf '%s\n' $PIDS | grep -vx "$CPID" | tr '\n' ' ')

OUT=$(tr '\n' '|' <"$TMP/consumer.out")
WHY="sbx rc=$RC, consumer rc=$crc, consumer printed: ${OUT:-nothing} $(tr '\n' ' ' <"$TMP/consumer.err")"
if [ "$RC" != 7 ]; then
	fail start_event "the workload should exit 7, sbx exited $RC: $(tail -c 400 "$TMP/run.out" | tr '\n' ' ')"
	exit 1
fi

# line SEQ TYPE: the consumer's line of that event (empty if none)
line() { grep -E "^$2 seq=$1 " "$TMP/consumer.out" | head -1; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# The workload's pid, from sbx's own JSON line of the start event.
W=$(jq -r 'select(.event == "sandbox.start") | .pid' "$TMP/audit.jsonl" 2>/dev/null | head -1)
L1=$(line 1 sandbox.start)
SLOT=$(field "$L1" slot)
if [ -n "$L1" ] && [ -n "$SLOT" ] && [ -n "$W" ] && [ "$(field "$L1" workload)" = "$W" ] &&
	[ "$(field "$L1" comm)" = sbx ]; then
	pass start_event
else
	fail start_event "no 'sandbox.start seq=1 ... comm=sbx workload=${W:-?}' line; $WHY"
fi

L2=$(line 2 net.connect)
if [[ "$L2" == "net.connect seq=2 slot=$SLOT pid=$W tid=$W comm=bash verdict=allow addr=127.0.0.1 port=$PORT proto=6 rule=0" ]]; then
	pass allowed_connect
else
	fail allowed_connect "expected seq=2 slot=$SLOT pid=$W allow 127.0.0.1:$PORT rule=0, got '${L2}'; $WHY"
fi

L3=$(line 3 net.connect)
if [[ "$L3" == "net.connect seq=3 slot=$SLOT pid=$W tid=$W comm=bash verdict=deny addr=127.0.0.1 port=$DPORT proto=6 rule=default" ]]; then
	pass denied_connect
else
	fail denied_connect "expected seq=3 slot=$SLOT pid=$W deny 127.0.0.1:$DPORT rule=default, got '${L3}'; $WHY"
fi

L4=$(line 4 sandbox.exit)
if [[ "$L4" == "sandbox.exit seq=4 slot=$SLOT "*" comm=sbx workload=$W exit_code=7 signal=0 timed_out=0 suppressed_allow=0 suppressed_deny=0" ]] &&
	[ "$crc" = 0 ] && [ "$(wc -l <"$TMP/consumer.out")" = 4 ]; then
	pass exit_event
else
	fail exit_event "expected seq=4 workload=$W exit_code=7 as the 4th and last line and consumer rc 0, got '${L4}'; $WHY"
fi

# The binary stream and the JSON lines describe the same events.
JSON=$(jq -r '[.seq, .event, .pid, (.verdict // "-"), (.port // "-"), (.exit_code // "-")] | join(" ")' \
	"$TMP/audit.jsonl" 2>/dev/null | tr '\n' '|')
WANT="1 sandbox.start $W - - -|2 net.connect $W allow $PORT -|3 net.connect $W deny $DPORT -|4 sandbox.exit $W - - 7|"
if [ "$JSON" = "$WANT" ]; then
	pass matches_json
else
	fail matches_json "JSON audit lines '$JSON', expected '$WANT'"
fi

if [ "$(jq -r '[.audit.events, .audit.dropped, .audit.global_dropped, .audit.sequence_gaps] | join(" ")' \
	"$TMP/result.json" 2>/dev/null)" = "4 0 0 0" ]; then
	pass no_drops
else
	fail no_drops "result audit object: $(jq -c .audit "$TMP/result.json" 2>&1)"
fi

# Unloading removes the instance's pins and cgroup root.
out=$("$SBX" unload 2>&1)
rc=$?
self=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ "$self" = / ] && self=
CGROOT="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)$self/$SBX_INSTANCE"
if [ $rc != 0 ]; then
	fail unload "sbx unload exited $rc: $out"
elif [ -e "/sys/fs/bpf/$SBX_INSTANCE" ] || [ -e "$CGROOT" ]; then
	fail unload "left behind: $(ls -d "/sys/fs/bpf/$SBX_INSTANCE" "$CGROOT" 2>/dev/null | tr '\n' ' ')"
else
	pass unload
	LOADED=0
	rm -rf "/run/$SBX_INSTANCE"
fi

exit $FAILED
