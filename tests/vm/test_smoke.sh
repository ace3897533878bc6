#!/bin/bash
# SPDX-License-Identifier: MIT
#
# VM smoke test (runs inside the guest, from tests/vm/guest_tests.sh): sbx
# runs real sandboxes on the guest kernel. For the host provider and the
# process provider alike, a profile with a loopback allow-list lets the
# workload connect to the allowed port and refuses the other one with EPERM
# (while a listener is there, so the refusal is the policy's, not a closed
# port), and the result and audit trail count both decisions.
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
export SBX_INSTANCE="vmsmoke-$$"
WORK=$(mktemp -d /tmp/vmsmoke.XXXXXX)
chmod 755 "$WORK"
export SBX_LOG_DIR="$WORK/log"
LISTENERS=()
failed=0

finish()
{
	local p
	for p in "${LISTENERS[@]+"${LISTENERS[@]}"}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$WORK" "/run/$SBX_INSTANCE"
}
trap finish EXIT

say() { echo "$1 smoke.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

# ---- listeners -------------------------------------------------------------------

# A TCP listener on 127.0.0.1: nettool (compiled by run.sh on the host) when
# there is one, else busybox nc, which serves one connection and exits
# (enough: each port here sees at most one successful connection).
listen_on()
{	# listen_on PORT
	if [ -x "${NETTOOL:-}" ]; then
		"$NETTOOL" listen 127.0.0.1 "$1" tcp >/dev/null 2>&1 &
	else
		busybox nc -l -p "$1" >/dev/null 2>&1 </dev/null &
	fi
	LISTENERS+=($!)
}

# free_port: a port nothing listens on (the guest runs nothing else).
free_port()
{
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		grep -qi ":$(printf '%04X' $p) " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo $p; return; }
	done
}

# wait_listening PORT: until the port accepts (outside any sandbox).
wait_listening()
{
	local _
	for _ in $(seq 50); do
		awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

if [ ! -x "$SBX" ]; then
	for c in host.allowed host.denied process.allowed process.denied; do say SKIP "$c" "$SBX is not built"; done
	exit 0
fi

# ---- sandboxes -------------------------------------------------------------------

# policy PROVIDER: writes $WORK/PROVIDER.toml, profile "smoke", allowing only
# 127.0.0.1:$ALLOWED/tcp.
policy()
{
	local prov=$1 iso=none fs=full
	[ "$prov" = process ] && iso=process fs=read-only
	cat >"$WORK/$prov.toml" <<EOF
version = 1
[profile.smoke]
provider = "$prov"
min_isolation = "$iso"
timeout = "60s"
audit = "all"
[profile.smoke.network]
mode = "allow"
allow = ["127.0.0.1:$ALLOWED/tcp"]
[profile.smoke.fs]
mode = "$fs"
EOF
}

# connect_in PROVIDER NAME PORT: one sandbox whose workload connects to
# 127.0.0.1:PORT with bash's /dev/tcp. Sets RC; files $WORK/NAME.{out,err,result,audit}.
connect_in()
{
	local prov=$1 name=$2 port=$3
	"$SBX" run -P "$WORK/$prov.toml" --profile smoke --result "$WORK/$name.result" \
		--audit "$WORK/$name.audit" -- \
		/bin/bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && echo connected" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	RC=$?
}

# jnum NAME FILTER: a number from the result of run NAME (jq if present).
jnum()
{
	if command -v jq >/dev/null; then
		jq -r "$2 // empty" "$WORK/$1.result" 2>/dev/null
	else
		tr -d ' \n' <"$WORK/$1.result" | grep -o "\"${2##*.}\":[0-9]*" | head -1 | cut -d: -f2
	fi
}

ALLOWED=$(free_port)
DENIED=$(free_port)
while [ "$DENIED" = "$ALLOWED" ]; do DENIED=$(free_port); done

for prov in host process; do
	policy "$prov"
	listen_on "$ALLOWED"
	listen_on "$DENIED"
	if ! wait_listening "$ALLOWED" || ! wait_listening "$DENIED"; then
		say FAIL "$prov.allowed" "the loopback listeners did not start"
		say FAIL "$prov.denied" "the loopback listeners did not start"
		continue
	fi

	connect_in "$prov" "$prov-allowed" "$ALLOWED"
	why=
	if [ $RC != 0 ] || ! grep -qx connected "$WORK/$prov-allowed.out"; then
		why="sbx exited $RC, workload said '$(head -c 200 "$WORK/$prov-allowed.out")': $(tail -c 400 "$WORK/$prov-allowed.err" | tr '\n' ' ')"
	elif [ "$(jnum "$prov-allowed" .network.connect_allowed)" != 1 ]; then
		why="result: connect_allowed is '$(jnum "$prov-allowed" .network.connect_allowed)', expected 1"
	fi
	if [ -z "$why" ]; then say PASS "$prov.allowed"; else say FAIL "$prov.allowed" "$why"; fi

	connect_in "$prov" "$prov-denied" "$DENIED"
	why=
	if [ $RC = 0 ] || grep -q connected "$WORK/$prov-denied.out"; then
		why="the connection to the unlisted port $DENIED went through (sbx exited $RC)"
	elif ! grep -q 'Operation not permitted' "$WORK/$prov-denied.err"; then
		why="expected EPERM, got: $(tail -c 400 "$WORK/$prov-denied.err" | tr '\n' ' ')"
	elif [ "$(jnum "$prov-denied" .network.connect_denied)" != 1 ]; then
		why="result: connect_denied is '$(jnum "$prov-denied" .network.connect_denied)', expected 1"
	elif ! grep -q '"net.connect"' "$WORK/$prov-denied.audit" 2>/dev/null; then
		why="no net.connect event in the audit trail"
	fi
	if [ -z "$why" ]; then say PASS "$prov.denied"; else say FAIL "$prov.denied" "$why"; fi

	for p in "${LISTENERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	LISTENERS=()
done

exit $failed
