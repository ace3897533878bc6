#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/cost.sh - target 6: the cost of sbx itself. Interleaved:
#   cold    `sbx run -- /bin/true` right after `sbx unload` (untimed): loads,
#           attaches and pins every program and map
#   warm    the same run adopting the pinned programs
#   unload  `sbx unload` (after an untimed run that loaded them)
# with the host provider and no fs policy, so that the run itself is small.
# Then the host tax (below), here and, in a full run or with BENCH_VM_COST=1
# (the guest takes ~15 min under TCG, beyond QUICK's budget; BENCH_VM=0 never),
# in a qemu guest of tests/vm/vmtest.sh, where no other sbx instance or
# tracer is attached.
# `bench/cost.sh --guest` is that part alone (what runs inside the guest).
#   QUICK=1 bench/cost.sh
GUEST=0
if [ "${1:-}" = --guest ]; then
	GUEST=1
	export BENCH_RESULTS=/tmp/sbx-bench-guest.jsonl	# the tree is read-only in the guest
fi
. "$(dirname "$0")/lib.sh"
bench_init cost

ROUNDS=$(q 9 25)
WARM=2
pol=$BT/cost.toml
profile_host "$pol" host
run=("$SBX" run -P "$pol" -- /bin/true)
WHERE=
TARGET=$BIN/nop
if [ $GUEST = 1 ]; then
	WHERE=" (VM guest)"
	# the guest sees the tree over 9p, whose every open goes to the host: use tmpfs
	cp "$BIN/nop" "$BT/nop"
	TARGET=$BT/nop
fi

if [ $GUEST = 0 ]; then
log "$ROUNDS rounds: cold, warm, unload"
time_cmds "$ROUNDS" "$WARM" cold + "$SBX" unload -- "${run[@]}" ";;" warm -- "${run[@]}" ";;" \
	unload + "$SBX" run -P "$pol" /bin/true -- "$SBX" unload >/dev/null
report_pair cost "sbx run, cold (load + attach + pin)" "$BT/t.cold" "sbx run, warm (adopt)" "$BT/t.warm" us
report_pair cost "sbx unload" "$BT/t.unload" "sbx run, warm (adopt)" "$BT/t.warm" us
d=$(awk -v a="$(stats <"$BT/t.cold" | cut -d' ' -f1)" -v b="$(stats <"$BT/t.warm" | cut -d' ' -f1)" \
	'BEGIN { printf "%.0f", a - b }')
emit kind=cost_delta name="load + attach + pin (cold - warm)" value="$d" unit=us
# how many programs and maps a cold start loads
"${run[@]}" >/dev/null
emit kind=info name="pinned objects" \
	programs="$(find /sys/fs/bpf/"$SBX_INSTANCE" -name 'prog_*' | wc -l)" \
	links="$(find /sys/fs/bpf/"$SBX_INSTANCE" -name 'link_*' | wc -l)" \
	maps="$(find /sys/fs/bpf/"$SBX_INSTANCE" -name 'sbx_*' | wc -l)"
fi

# ---- what a loaded instance costs every process of the host ---------------------------
# sbx's tp_btf/sys_enter and sys_exit programs fire for every system call of
# every process while they are attached; sbx attaches them only while a
# sandbox needs them (user/core/trace.h). An open()+close() loop outside any
# sandbox (CPU ns per open+close), interleaved round by round across four
# states of the host:
#   unloaded  this instance unloaded (the baseline)
#   loaded    loaded, with no sandbox that needs syscall tracing (a host run)
#   nop       unloaded, with do-nothing programs on both tracepoints
#             (bench/tp_nop.c): the floor of any syscall tracing, the
#             kernel's traced syscall path alone
#   audit10   loaded, with 10 sandboxes running whose profile has a seccomp
#             filter and audit on (process provider, `sleep`): the links
#             attached, sbx's programs running for every host syscall
# loaded: a host run without limits (a guest may lack the controllers)
lpol=$BT/light.toml
cat >"$lpol" <<EOF
[profile.light]
provider = "host"
min_isolation = "none"
[profile.light.fs]
mode = "full"
EOF
apol=$BT/audit.toml
cat >"$apol" <<EOF
[profile.audit]
provider = "process"
audit = "deny"
timeout = "10m"
[profile.audit.seccomp]
deny = ["chroot"]
EOF
# in CPU time of the loop's process (fs_loop open-cpu): on a shared machine the
# wall time of a syscall is mostly the wait for a CPU, the CPU time is its work
N=$(q 100000 300000)
[ $GUEST = 1 ] && N=$(q 10000 30000)	# qemu TCG: ~10-50x slower
fs_loop=("$BIN/fs_loop" open-cpu "$TARGET" "$N")
# attached tracepoint links that are not this instance's (other sbx instances
# or tools on the host): while there are any, every syscall takes the traced
# path in all four states, and the baseline is not a host without tracing
other_tp_links()
{
	local ours
	ours=$(for p in enter exit; do bpftool prog show pinned "/sys/fs/bpf/$SBX_INSTANCE/prog_sys_$p" \
		-j 2>/dev/null | jq -r '.id // empty'; done | paste -sd, -)
	bpftool link show -j 2>/dev/null | jq --arg ours "[${ours}]" '($ours | fromjson) as $o |
		[.[] | select(.type == "raw_tracepoint" and (.tp_name == "sys_enter" or .tp_name == "sys_exit")
		 and (.prog_id as $p | $o | index($p) | not))] | length'
}
tax_unloaded() { "$SBX" unload >/dev/null; "${fs_loop[@]}"; }
tax_loaded() { "$SBX" run -P "$lpol" /bin/true >/dev/null && "${fs_loop[@]}"; }
tax_nop()
{
	local fifo=$BT/tp_nop.in pid
	"$SBX" unload >/dev/null
	rm -f "$fifo"
	mkfifo "$fifo"
	exec 9<>"$fifo"
	: >"$BT/tp_nop.out"
	# (without fd 9: the FIFO's only writer must be this shell)
	"$BIN/tp_nop" <"$fifo" >"$BT/tp_nop.out" 2>&1 9>&- &
	pid=$!
	until grep -q attached "$BT/tp_nop.out"; do
		kill -0 "$pid" 2>/dev/null || { cat "$BT/tp_nop.out" >&2; return 1; }
		sleep 0.02
	done
	"${fs_loop[@]}"
	exec 9>&-
	wait "$pid"
}
tax_audit10()
{
	local pids=() i n=0
	for i in $(seq 10); do
		"$SBX" run -P "$apol" -- sleep 600 >/dev/null 2>&1 &
		pids+=($!)
	done
	for i in $(seq 600); do
		n=$("$SBX" ps --json 2>/dev/null | jq '.sandboxes | length' 2>/dev/null || echo 0)
		[ "${n:-0}" -ge 10 ] && break
		sleep 0.05
	done
	if [ "$("$SBX" features --json | jq -r .syscall_tracing)" != attached ]; then
		echo "audit10: the links are not attached with $n sandboxes running" >&2
		kill "${pids[@]}" 2>/dev/null
		return 1
	fi
	"${fs_loop[@]}"
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null || true
}
others=$(other_tp_links)
TAX_ROUNDS=$(q 9 21)
[ $GUEST = 1 ] && TAX_ROUNDS=$(q 7 9)
if interleave_values "$TAX_ROUNDS" 1 unloaded tax_unloaded loaded tax_loaded nop tax_nop \
	audit10 tax_audit10; then
	tracing=$("$SBX" run -P "$lpol" /bin/true >/dev/null; "$SBX" features --json | jq -r .syscall_tracing)
	report_pair cost "open()+close() outside sbx, instance loaded, no sandbox needing syscall tracing$WHERE" "$BT/v.loaded" \
		"instance unloaded" "$BT/v.unloaded" cpu_ns/op sandboxes=0 tracing="$tracing" \
		other_tracepoint_links="$others"
	report_pair cost "open()+close() outside sbx, 10 sandboxes with syscall audit running$WHERE" \
		"$BT/v.audit10" "instance unloaded" "$BT/v.unloaded" cpu_ns/op sandboxes=10 \
		other_tracepoint_links="$others"
	report_pair cost "open()+close() outside sbx, do-nothing sys_enter+sys_exit programs attached$WHERE" \
		"$BT/v.nop" "instance unloaded" "$BT/v.unloaded" cpu_ns/op other_tracepoint_links="$others"
	report_pair cost "open()+close() outside sbx, 10 audited sandboxes vs do-nothing programs$WHERE" \
		"$BT/v.audit10" "do-nothing programs" "$BT/v.nop" cpu_ns/op other_tracepoint_links="$others"
fi

# The exec guard (tp_btf/sched_process_exec) stays attached while the
# instance is loaded: it runs once per exec of every process. vfork+execve
# of a static do-nothing program outside any sandbox, unloaded and loaded:
NX=$(q 500 2000)
[ $GUEST = 1 ] && NX=$(q 50 200)
if interleave_values "$TAX_ROUNDS" 1 \
	exec_unloaded "'$SBX' unload >/dev/null; '$BIN/fs_loop' exec '$TARGET' $NX" \
	exec_loaded "'$SBX' run -P '$lpol' /bin/true >/dev/null && '$BIN/fs_loop' exec '$TARGET' $NX"; then
	report_pair cost "vfork+execve outside sbx, instance loaded (exec guard attached)$WHERE" \
		"$BT/v.exec_loaded" "instance unloaded" "$BT/v.exec_unloaded" ns/op \
		other_tracepoint_links="$others"
fi

if [ $GUEST = 1 ]; then
	# the host side reads the figures from the guest's output
	sed 's/^/BENCHJSON /' "$BENCH_RESULTS"
	exit 0
fi

# ---- what `sbx unload` leaves behind ----------------------------------------------------
"$SBX" run -P "$pol" -- /bin/true >/dev/null
"$SBX" unload >/dev/null
left=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "$SBX_INSTANCE" 2>/dev/null |
	sed 's|/sys/fs/cgroup/||' | tr '\n' ' ' || true)
pins=$(find "/sys/fs/bpf/$SBX_INSTANCE" -mindepth 1 2>/dev/null | wc -l || true)
emit kind=finding name="left behind by sbx unload" cgroup_dirs="${left:-none}" pins="$pins" \
	run_dir="$([ -d "/run/$SBX_INSTANCE" ] && echo "/run/$SBX_INSTANCE (documented)" || echo none)"

# ---- the host tax in a guest without other tracers ---------------------------------------
VMCMD="tests/vm/vmtest.sh -k 6.1 -- bench/cost.sh --guest"
if [ "${BENCH_VM:-1}" != 0 ] && { [ "$QUICK" = 0 ] || [ "${BENCH_VM_COST:-0}" = 1 ]; } &&
   [ -x "$ROOT/tests/vm/vmtest.sh" ]; then
	log "VM guest (no other tracers): $VMCMD"
	rc=0
	(cd "$ROOT" && SBX_BENCH_QUICK=$QUICK timeout 1800 tests/vm/vmtest.sh -k 6.1 -t 1700 -- bench/cost.sh --guest) \
		>"$BT/vm.log" 2>&1 || rc=$?
	grep -a '^BENCHJSON ' "$BT/vm.log" | sed 's/^BENCHJSON //' >>"$BENCH_RESULTS" || true
	if ! grep -aq '^BENCHJSON ' "$BT/vm.log"; then
		emit kind=pending name="host tax (VM guest)" command="QUICK=$QUICK $VMCMD" \
			reason="the guest run gave no figures (exit $rc): $(grep -a -E 'vmtest:|SKIP|error' "$BT/vm.log" | tail -2 | tr '\n' ' ')"
		log "VM guest: no figures (exit $rc); see the log:"; tail -15 "$BT/vm.log" >&2
	fi
fi
