#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/cost.sh - target 6: the cost of sbx itself. Interleaved:
#   cold    `sbx run -- /bin/true` right after `sbx unload` (untimed): loads,
#           attaches and pins every program and map
#   warm    the same run adopting the pinned programs
#   unload  `sbx unload` (after an untimed run that loaded them)
# with the host provider and no fs policy, so that the run itself is small.
#   QUICK=1 bench/cost.sh
. "$(dirname "$0")/lib.sh"
bench_init cost

ROUNDS=$(q 9 25)
WARM=2
pol=$BT/cost.toml
profile_host "$pol" host
run=("$SBX" run -P "$pol" -- /bin/true)

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

# ---- what a loaded instance costs every process of the host ---------------------------
# sbx's tp_btf/sys_enter and sys_exit programs are attached to the tracepoints,
# which fire for every system call of every process, sandboxed or not (they
# return early outside sbx's cgroups). An open()+close() loop outside any
# sandbox, with this instance unloaded and loaded, interleaved:
N=$(q 50000 200000)
others=$(bpftool prog show 2>/dev/null | grep -c 'name sbx_sys_enter' || true)
if interleave_values "$(q 9 21)" 1 \
	unloaded "'$SBX' unload >/dev/null; '$BIN/fs_loop' open '$BIN/nop' $N" \
	loaded "'$SBX' run -P '$pol' /bin/true >/dev/null; '$BIN/fs_loop' open '$BIN/nop' $N"; then
	report_pair cost "open()+close() outside sbx, instance loaded" "$BT/v.loaded" \
		"instance unloaded" "$BT/v.unloaded" ns/op \
		other_sys_enter_programs="$((others > 0 ? others - 1 : 0))"
fi

# ---- what `sbx unload` leaves behind ----------------------------------------------------
"$SBX" run -P "$pol" -- /bin/true >/dev/null
"$SBX" unload >/dev/null
left=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "$SBX_INSTANCE" 2>/dev/null |
	sed 's|/sys/fs/cgroup/||' | tr '\n' ' ' || true)
pins=$(find "/sys/fs/bpf/$SBX_INSTANCE" -mindepth 1 2>/dev/null | wc -l || true)
emit kind=finding name="left behind by sbx unload" cgroup_dirs="${left:-none}" pins="$pins" \
	run_dir="$([ -d "/run/$SBX_INSTANCE" ] && echo "/run/$SBX_INSTANCE (documented)" || echo none)"
