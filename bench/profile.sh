#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/profile.sh - where sbx's start-up time goes.
#   1. Ablation, interleaved (runloop): `sbx run -- /bin/true` with one
#      feature of the realistic profile removed at a time; the differences of
#      the medians attribute the time (limits = cgroup creation and the v1
#      migrations of a hybrid host; fs policy = choosing the fs backend,
#      which probes BPF LSM functionally; namespaces and the mount view).
#   2. strace -f -c -w of one warm run of the process provider: the system
#      calls by wall time.
#   3. valgrind --tool=callgrind of one warm run: user-space instructions of
#      sbx by function (inclusive), when valgrind is installed.
#   4. The memory of one idle process-provider sandbox, by process and, for
#      `sbx run`, by mapping.
# perf is checked first (`perf stat -e instructions true`); where hardware
# counters are missing, as in this VM, strace and callgrind stand in.
#   QUICK=1 bench/profile.sh
. "$(dirname "$0")/lib.sh"
bench_init profile

ROUNDS=$(q 11 31)
WARM=2
pol=$BT/prof.toml
profile_realistic "$pol" process
profile_host "$pol" host
cat >>"$pol" <<'EOF'
[profile."process-nolimits"]
provider = "process"
[profile."process-nolimits".network]
mode = "allow"
allow = ["127.0.0.1:18080/tcp", "192.0.2.0/24:443/tcp", "198.51.100.7:53/udp", "10.20.0.0/16"]
deny = ["10.20.30.0/24"]
[profile."process-nolimits".fs]
mode = "read-only"

[profile."process-nolimits-fsfull"]
provider = "process"
[profile."process-nolimits-fsfull".network]
mode = "allow"
allow = ["127.0.0.1:18080/tcp", "192.0.2.0/24:443/tcp", "198.51.100.7:53/udp", "10.20.0.0/16"]
deny = ["10.20.30.0/24"]
[profile."process-nolimits-fsfull".fs]
mode = "full"

[profile."host-nolimits"]
provider = "host"
min_isolation = "none"
[profile."host-nolimits".network]
mode = "allow"
allow = ["127.0.0.1:18080/tcp", "192.0.2.0/24:443/tcp", "198.51.100.7:53/udp", "10.20.0.0/16"]
deny = ["10.20.30.0/24"]
[profile."host-nolimits".fs]
mode = "full"
EOF
"$SBX" run -P "$pol" --profile host -- /bin/true

# ---- perf available? ------------------------------------------------------------------
perf_ok=false
if command -v perf >/dev/null && perf stat -x, -e instructions true 2>&1 >/dev/null | grep -q '^[0-9]'; then
	perf_ok=true
fi
emit kind=info name="perf hardware counters" available=$perf_ok \
	detail="$(perf stat -x, -e instructions true 2>&1 >/dev/null | head -1 || echo 'perf missing')"

# ---- 1. ablation ---------------------------------------------------------------------------
log "ablation: $ROUNDS rounds"
args=(bare -- /bin/true)
for p in process process-nolimits process-nolimits-fsfull host host-nolimits; do
	args+=(";;" "$p" -- "$SBX" run -P "$pol" --profile "$p" -- /bin/true)
done
time_cmds "$ROUNDS" "$WARM" "${args[@]}" >/dev/null
med() { stats <"$BT/t.$1" | cut -d' ' -f1; }
for p in process process-nolimits process-nolimits-fsfull host host-nolimits; do
	report_pair ablation "sbx run --profile $p" "$BT/t.$p" bare "$BT/t.bare" us
done
part() {	# part NAME A B: the median of A minus the median of B
	local d
	d=$(awk -v a="$(med "$2")" -v b="$(med "$3")" 'BEGIN { printf "%.0f", a - b }')
	emit kind=attribution name="$1" value="$d" unit=us from="$2" minus="$3"
	log "attribution: $1: $d us"
}
part "cgroup limits (memory, cpu, pids: v1 hierarchies here)" process process-nolimits
part "fs policy != full (fs backend choice, Landlock plan)" process-nolimits process-nolimits-fsfull
part "namespaces, mount view, seccomp, privileges (process vs host provider)" process-nolimits-fsfull host-nolimits
part "sbx itself: adopt pins, policy, cgroup, slot, audit (host provider vs bare)" host-nolimits bare

# ---- 2. strace -c ---------------------------------------------------------------------------
if command -v strace >/dev/null; then
	strace -f -c -w -o "$BT/strace.txt" "$SBX" run -P "$pol" --profile process -- /bin/true >/dev/null 2>&1 || true
	top=$(awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" { printf "%s%s %.1f%% (%d calls)", s, $NF, $1, $4; s = "; " ; if (++n == 10) exit }' \
		"$BT/strace.txt")
	emit kind=strace name="strace -f -c -w, sbx run --profile process /bin/true" top="$top" \
		total_s="$(awk '$NF == "total" { print $2 }' "$BT/strace.txt")"
	log "strace: $top"
	# the slowest single calls, with their arguments
	strace -f -T -o "$BT/strace-T.txt" "$SBX" run -P "$pol" --profile process -- /bin/true >/dev/null 2>&1 || true
	# (waits for the child and the event loop are not costs: left out)
	slow=$(sed -n 's/^\([0-9]*\) \(.*\) <\([0-9.]*\)>$/\3 \2/p' "$BT/strace-T.txt" |
		grep -v -E 'resumed|wait4|waitid|poll\(|read\([0-9]+, *$' | sort -rn | head -8 |
		awk '{ printf "%s%.1f ms %s", s, $1 * 1000, substr($0, index($0, " ") + 1, 110); s = " | " }' || true)
	emit kind=strace_slowest name="slowest system calls (strace -T)" calls="$slow"
else
	emit kind=skipped name=strace reason="strace not installed"
fi

# ---- 3. callgrind ------------------------------------------------------------------------------
if command -v valgrind >/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$BT/cg.out" "$SBX" run -P "$pol" --profile process \
		-- /bin/true >/dev/null 2>"$BT/cg.err" || true
	if [ -s "$BT/cg.out" ]; then
		total=$(callgrind_annotate "$BT/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' || true)
		callgrind_annotate --inclusive=yes "$BT/cg.out" 2>/dev/null |
			awk '/^ *[0-9,]+ \(/ { print }' | head -40 >"$BT/cg.top" || true
		top=$(awk -v tot="$total" '{ n = $1; gsub(",", "", n); f = $NF; sub(/^.*:/, "", f); sub(/ .*/, "", f)
			if (f ~ /^(0x|\?\?\?|_start|main|__libc_start|\[|TOTALS)/ || seen[f]++) next
			printf "%s%s %.1f%%", s, f, 100 * n / tot; s = "; "; if (++k == 14) exit }' "$BT/cg.top")
		emit kind=callgrind name="callgrind, sbx run --profile process /bin/true (warm), inclusive" \
			instructions="$total" top="$top"
		log "callgrind: $total instructions: $top"
	else
		emit kind=skipped name=callgrind reason="valgrind run failed: $(tail -1 "$BT/cg.err")"
	fi
else
	emit kind=skipped name=callgrind reason="valgrind not installed"
fi

# ---- 4. memory of one idle sandbox ---------------------------------------------------------
"$SBX" run -P "$pol" --profile process -- sleep 60 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
	tree_pids "$pid" | sed 's|^|/proc/|; s|$|/comm|' | xargs cat 2>/dev/null | grep -qx sleep && break
	sleep 0.1
done
sleep 0.3
per=$(for p in $(tree_pids "$pid"); do
	printf '%s %s\n' "$(cat "/proc/$p/comm" 2>/dev/null)" "$(mem_of "$p" | cut -d' ' -f1,2)"
done | awk '{ printf "%s%s Pss %d KiB Rss %d KiB", s, $1, $2, $3; s = "; " }')
maps=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6); sub(/.*\//, "", name) }
	/^Pss:/ { pss[name] += $2 }
	END { for (n in pss) if (pss[n] > 0) print pss[n], n }' "/proc/$pid/smaps" | sort -rn | head -8 |
	awk '{ printf "%s%s %d KiB", s, $2, $1; s = "; " }' || true)
emit kind=memory_breakdown name="one idle process-provider sandbox" processes="$per" sbx_run_top_mappings="$maps"
log "memory: $per"
log "sbx run mappings (Pss): $maps"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
