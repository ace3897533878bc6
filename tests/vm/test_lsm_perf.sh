#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Cost of the BPF LSM fs policy, inside the VM guest: open()+close() of an
# allowed file and fork+exec of /usr/bin/true in a sandbox whose policy has
# 0, 100 and 1,000 path rules, each as a ratio to the same loop outside any
# sandbox (the programs are attached there too and return at the sandbox
# lookup). Prints the figures; a case fails only when a loop fails under
# its policy. No timing is asserted (TCG on a shared machine is too noisy
# for any bound to mean something): the figures are for bench/ and the
# reader.
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
VM_TOOLS=${VM_TOOLS:-${OUTPUT:-$PWD/build}/tests/vm}
TOOL=$VM_TOOLS/lsm_tool
export SBX_INSTANCE="vmlsmperf-$$"
W=$(mktemp -d /tmp/lsmperf.XXXXXX)
chmod 755 "$W"
export SBX_LOG_DIR="$W/log"
AGENT=""
failed=0
N_OPEN=${LSM_PERF_OPEN:-20000}
N_EXEC=${LSM_PERF_EXEC:-200}

finish()
{
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$W" "/run/$SBX_INSTANCE"
}
trap finish EXIT

say() { echo "$1 lsm_perf.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

if [ ! -x "$TOOL" ]; then
	say SKIP all "$TOOL is not built (tests/vm/run.sh builds tests/vm/*.c)"
	exit 0
fi
if ! "$SBX" features bpf_lsm 2>/dev/null | grep -q '^bpf_lsm *yes'; then
	say SKIP all "BPF LSM is not functional on $(uname -r)"
	exit 0
fi

cat >"$W/p.toml" <<EOT
[profile."t.perf"]
provider = "host"
min_isolation = "none"
enforcement = "best-effort"
user = "root"                    # the agent works in root's temp dir; the hooks are the subject
timeout = "280s"
[profile."t.perf".network]
mode = "none"
[profile."t.perf".fs]
mode = "full"
EOT
mkdir -p "$W/data"
echo x >"$W/data/f"

# the same FIFO agent as test_lsm_fs.sh
start_agent()
{
	rm -f "$W/in" "$W/out"
	mkfifo "$W/in" "$W/out"
	"$SBX" run -P "$W/p.toml" -- bash -c '
		exec 3<>"$1" 4<>"$2"
		echo ready >&4
		while IFS= read -r l <&3; do
			r=$(eval "$l" 2>&1 </dev/null)
			printf "%s\n" "$r" | base64 -w0 >&4
			echo >&4
		done' agent "$W/in" "$W/out" >"$W/agent.log" 2>&1 &
	AGENT=$!
	exec 5<>"$W/in" 6<>"$W/out"
	local ready=""
	read -r -t 180 ready <&6	# the first run loads every program: slow under TCG on a loaded host
	[ "$ready" = ready ] || { cat "$W/agent.log"; return 1; }
	SLOT=$(ls "/run/$SBX_INSTANCE/slots" 2>/dev/null | head -1)
	[ -n "$SLOT" ]
}

stop_agent()
{
	exec 5>&- 6<&-
	kill "$AGENT" 2>/dev/null
	wait "$AGENT" 2>/dev/null
	AGENT=""
}

in_sbx()
{
	local r=""
	printf '%s\n' "$*" >&5
	read -r -t 250 r <&6 || { echo "(agent did not answer)"; return; }
	base64 -d <<<"$r"
}

num() { [[ $1 =~ ^[0-9]+$ ]]; }

# best of three, to damp TCG noise
best()
{
	local b="" v i
	for i in 1 2 3; do
		v=$("$@")
		num "$v" || { echo "$v"; return; }
		{ [ -z "$b" ] || [ "$v" -lt "$b" ]; } && b=$v
	done
	echo "$b"
}

# start the programs (first sbx run loads them), then the baselines outside
start_agent || { say FAIL agent "the sandboxed agent did not start"; exit 1; }
base_open=$(best "$TOOL" bench-open "$W/data/f" "$N_OPEN")
base_exec=$(best "$TOOL" bench-exec /usr/bin/true "$N_EXEC")
if ! num "$base_open" || ! num "$base_exec"; then
	say FAIL baseline "open: $base_open, exec: $base_exec"
	exit 1
fi
echo "lsm_perf: outside any sandbox: open+close $base_open ns, fork+exec $base_exec ns ($(uname -r))"

for nrules in 0 100 1000; do
	[ "$nrules" != 0 ] && { stop_agent; start_agent || { say FAIL "agent_$nrules" "no agent"; exit 1; }; }
	rules=("$W/data/=r" "/dev/null=rw")
	for ((i = 0; i < nrules - 2; i++)); do
		rules+=("$W/data/sub$i/=rw")
	done
	[ "$nrules" = 0 ] && rules=()
	"$TOOL" policy "$SLOT" ro 0 "${rules[@]+"${rules[@]}"}" >/dev/null ||
		{ say FAIL "policy_$nrules" "lsm_tool policy failed"; continue; }
	o=$(in_sbx "for i in 1 2 3; do $TOOL bench-open $W/data/f $N_OPEN; done | sort -n | head -1")
	e=$(in_sbx "for i in 1 2 3; do $TOOL bench-exec /usr/bin/true $N_EXEC; done | sort -n | head -1")
	if ! num "$o" || ! num "$e"; then
		say FAIL "rules_$nrules" "open: $o, exec: $e"
		continue
	fi
	ro=$(awk -v a="$o" -v b="$base_open" 'BEGIN { printf "%.2f", a / b }')
	rx=$(awk -v a="$e" -v b="$base_exec" 'BEGIN { printf "%.2f", a / b }')
	echo "lsm_perf: $nrules rules: open+close $o ns (${ro}x), fork+exec $e ns (${rx}x)"
	say PASS "rules_$nrules"
done
stop_agent
exit $failed
