#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/memory.sh - target 2: resident memory of one idle sandbox, and N
# concurrent idle sandboxes (QUICK: 200, full: 1000; BENCH_N overrides). QUICK ran
# 1,000 in run 2026-12-08T012903Z-quick: 224 s, which took QUICK past 10 minutes.
#
# Idle: every tool runs `sleep` in its sandbox; once it is running, Pss and
# Rss are summed over all processes of the sandbox (the tool's own process,
# e.g. `sbx run` or bwrap, and every descendant) from /proc/PID/smaps_rollup.
# Interleaved: sbx, bwrap, firejail, ... one each per round.
#
# Concurrent: N sandboxes of sbx (process provider, realistic profile), then
# N of bwrap (the baseline), started as fast as one shell can: time until all
# N workloads run, failures, Pss per sandbox, and teardown (SIGTERM to every
# tool process: time until all exited, and what is left behind: sbx slots,
# cgroups, processes).
#   QUICK=1 bench/memory.sh
. "$(dirname "$0")/lib.sh"
bench_init memory

ROUNDS=$(q 3 7)
N=${BENCH_N:-$(q 200 1000)}
pol=$BT/mem.toml
profile_realistic "$pol" process
profile_host "$pol" host
declare -A skip=()
tools=(sbx-process sbx-host bwrap)
if why=$(need_peer firejail firejail); then tools+=(firejail); else skip[firejail]=$why; fi
tools+=(unshare)
if why=$(need_peer runsc runsc); then tools+=(runsc); else skip[runsc]=$why; fi

# start TOOL SECONDS: starts TOOL's sandbox running `sleep SECONDS`; echoes the PID.
start()
{
	local t=$1 s=$2
	case $t in
	sbx-process) exec "$SBX" run -P "$pol" --profile process -- sleep "$s" ;;
	sbx-host) exec "$SBX" run -P "$pol" --profile host -- sleep "$s" ;;
	bwrap) exec bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc \
		--tmpfs /tmp sleep "$s" ;;
	firejail) exec firejail --quiet --noprofile sleep "$s" ;;
	unshare) exec unshare --user --map-root-user --mount --uts --ipc --net --pid --fork --cgroup \
		--time --kill-child sleep "$s" ;;
	runsc) exec runsc --rootless --network=none do sleep "$s" ;;
	esac >/dev/null 2>&1 </dev/null &
	echo $!
}

# wait_idle PID TOOL: until the sandbox's workload runs (a `sleep` in the tree;
# runsc: the tree stopped growing for 1 s). 1 on timeout or early exit.
wait_idle()
{
	local pid=$1 t=$2 i last=0 stable=0 n
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if [ "$t" = runsc ]; then
			n=$(tree_pids "$pid" | wc -l)
			if [ "$n" -ge 3 ] && [ "$n" = "$last" ]; then
				stable=$((stable + 1)); [ $stable -ge 10 ] && return 0
			else stable=0; fi
			last=$n
		elif tree_pids "$pid" | sed 's|^|/proc/|; s|$|/comm|' | xargs cat 2>/dev/null |
			grep -qx sleep; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stop_tree()
{
	local pids
	pids=$(tree_pids "$@")
	kill -TERM "$@" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$@" 2>/dev/null || break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	wait "$@" 2>/dev/null || true
}

# ---- one idle sandbox, interleaved ------------------------------------------------

"$SBX" run -P "$pol" --profile host -- /bin/true	# load the programs: not an idle cost
for t in "${tools[@]}"; do : >"$BT/pss.$t"; : >"$BT/rss.$t"; : >"$BT/np.$t"; done
log "idle: $ROUNDS rounds of ${tools[*]}"
for ((r = 0; r < ROUNDS; r++)); do
	for t in "${tools[@]}"; do
		pid=$(start "$t" 600)
		if ! wait_idle "$pid" "$t"; then
			log "idle: $t did not reach idle"
			stop_tree "$pid"
			continue
		fi
		sleep 0.3
		# shellcheck disable=SC2046
		read -r pss rss np <<<"$(mem_of $(tree_pids "$pid"))"
		echo "$pss" >>"$BT/pss.$t"; echo "$rss" >>"$BT/rss.$t"; echo "$np" >>"$BT/np.$t"
		stop_tree "$pid"
	done
done
for t in "${tools[@]}"; do
	[ -s "$BT/pss.$t" ] || { emit kind=skipped name="idle $t" reason="never reached idle"; continue; }
	np=$(stats <"$BT/np.$t" | cut -d' ' -f1)
	report_pair idle_pss "$t" "$BT/pss.$t" bwrap "$BT/pss.bwrap" KiB processes="$np"
	report_pair idle_rss "$t" "$BT/rss.$t" bwrap "$BT/rss.bwrap" KiB processes="$np"
done
# issue 15: everything sbx adds (monitor, init) with the workload, against
# bwrap's in the same run: must be <= 1.0x, aim <= 0.5x
m=$(stats <"$BT/pss.sbx-process" | cut -d' ' -f1)
b=$(stats <"$BT/pss.bwrap" | cut -d' ' -f1)
met=false; le "$m" "$b" && met=true
emit kind=target name="idle Pss of sbx-process" value="$m" unit=KiB \
	target="<= bwrap's Pss in the same run (aim <= 0.5x)" met=$met bwrap_measured="$b" \
	ratio="$(awk -v a="$m" -v b="$b" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"

# ---- N concurrent idle sandboxes ----------------------------------------------------

cgroup_leftovers()
{
	find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -path "*/$SBX_INSTANCE/sbx-*" 2>/dev/null | wc -l
}

# many TOOL: N sandboxes at once. Emits one figure.
many()
{
	local t=$1 tag=$2 i t0 t1 t2 running=0 failed=0 pids=() pss rss np left slots procs
	log "concurrent: starting $N $t sandboxes"
	t0=$(date +%s%N)
	for ((i = 0; i < N; i++)); do
		case $t in
		sbx-process) exec "$SBX" run -P "$pol" --profile process -- sleep "$tag" ;;
		bwrap) exec bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc \
			--tmpfs /tmp sleep "$tag" ;;
		esac >/dev/null 2>>"$BT/many.$t.err" </dev/null &
		pids+=($!)
	done
	t1=$(date +%s%N)
	# at most 120 s / 300 s, or 0.3 s a sandbox when that is more: a bound
	# for sandboxes that never start, not a measurement (start_all_ms is)
	local limit=$(q 120 300)
	[ $((N * 3 / 10)) -gt "$limit" ] && limit=$((N * 3 / 10))
	local deadline=$((SECONDS + limit))
	while [ $SECONDS -lt $deadline ]; do
		running=$(pgrep -xfc "sleep $tag" || true)
		failed=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || failed=$((failed + 1)); done
		[ $((running + failed)) -ge "$N" ] && break
		sleep 0.1
	done
	t2=$(date +%s%N)
	sleep 1
	running=$(pgrep -xfc "sleep $tag" || true)
	# shellcheck disable=SC2046
	read -r pss rss np <<<"$(mem_of $(tree_pids "${pids[@]}"))"
	log "concurrent: $t: $running running, $failed failed; Pss $pss KiB over $np processes"
	local td0 td1
	td0=$(date +%s%N)
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	td1=$(date +%s%N)
	sleep 0.5
	procs=$(pgrep -xfc "sleep $tag" || true)
	left=0 slots=0
	if [ "$t" = sbx-process ]; then
		left=$(cgroup_leftovers)
		slots=$(find "/run/$SBX_INSTANCE/slots" -type f 2>/dev/null | wc -l)
	fi
	local per_pss per_rss
	per_pss=$(awk -v a="$pss" -v n="$running" 'BEGIN { printf "%.1f", n ? a / n : 0 }')
	per_rss=$(awk -v a="$rss" -v n="$running" 'BEGIN { printf "%.1f", n ? a / n : 0 }')
	emit kind=concurrent name="$t" n="$N" running="$running" failed="$failed" \
		launch_ms="$(( (t1 - t0) / 1000000 ))" start_all_ms="$(( (t2 - t0) / 1000000 ))" \
		pss_total_kib="$pss" rss_total_kib="$rss" processes="$np" \
		pss_per_sandbox_kib="$per_pss" rss_per_sandbox_kib="$per_rss" \
		teardown_ms="$(( (td1 - td0) / 1000000 ))" leftover_processes="$procs" \
		leftover_cgroups="$left" leftover_slots="$slots" \
		errors="$(sort "$BT/many.$t.err" 2>/dev/null | uniq -c | sort -rn | head -3 | tr '\n' ' ' || true)"
	[ "$t" = sbx-process ] && emit kind=target name="concurrent idle sbx-process sandboxes" \
		value="$running" target=">= 1000 running, 0 failed, nothing left after teardown (aim 5000)" \
		met="$([ "$N" -ge 1000 ] && [ "$running" = "$N" ] && [ "$failed" = 0 ] &&
			[ "$procs$left$slots" = 000 ] && echo true || echo false)"
	log "concurrent: $t: all started in $(( (t2 - t0) / 1000000 )) ms; $per_pss KiB Pss each;" \
		"teardown $(( (td1 - td0) / 1000000 )) ms; left: $procs processes, $left cgroups, $slots slots"
	pgrep -xf "sleep $tag" | xargs -r kill -KILL 2>/dev/null || true
}

many sbx-process 3601
many bwrap 3602
for k in "${!skip[@]}"; do emit kind=skipped name="$k" reason="${skip[$k]}"; done
