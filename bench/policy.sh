#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/policy.sh - target 5: policy scale. A profile with 10,000 network
# entries (5,000 allowed CIDRs, 5,000 denied hosts with ports) and 10,000
# path rules, against the same profile with one entry of each:
#   - `sbx policy check` (read, parse, validate), interleaved;
#   - load, plan and compile alone (bench/core/policy_cost: what sbx run does
#     with the file before any kernel work), the target's "load+compile";
#   - `sbx run -- /bin/true` (also write the maps, set up the view: the path
#     rules name paths that exist, made under the build directory, so every
#     one is a mount of the view: a noexec bind for "r", a mask for "deny");
#   - the kernel memory of the instance's pinned maps (bpftool map show:
#     bytes_memlock) while one sandbox of each profile is alive, against none.
#   QUICK=1 bench/policy.sh
. "$(dirname "$0")/lib.sh"
bench_init policy

ROUNDS=$(q 7 21)
WARM=2

# The rules' paths: they must exist (a deny on a missing path below a
# read-only one is refused under strict: the view could not hold it), and
# not under /tmp (the view's own tmpfs).
PD=$OUT/bench/policy-paths.$$
at_exit "rm -rf '$PD'"
mkdir -p "$PD"
for ((i = 0; i < 10000; i++)); do
	[ $((i % 100)) = 0 ] && mkdir "$PD/p$((i / 100))"
	if [ $((i % 2)) = 0 ]; then : >"$PD/p$((i / 100))/f$i"; else mkdir "$PD/p$((i / 100))/d$i"; fi
done

# gen FILE NET PATHS
gen()
{
	local f=$1 nn=$2 np=$3 i
	{
		echo '[profile."scale"]'
		echo 'provider = "process"'
		echo '[profile."scale".network]'
		echo 'mode = "allow"'
		printf 'allow = ["127.0.0.1:18080/tcp"'
		for ((i = 0; i < nn / 2; i++)); do printf ', "10.%d.%d.0/24"' $((i / 256)) $((i % 256)); done
		echo ']'
		printf 'deny = ["192.0.2.1:22/tcp"'
		for ((i = 1; i < nn / 2; i++)); do
			printf ', "172.%d.%d.%d:%d/tcp"' $((16 + i / 65536)) $((i / 256 % 256)) $((i % 256)) $((1000 + i % 5000))
		done
		echo ']'
		echo '[profile."scale".fs]'
		echo 'mode = "read-only"'
		printf 'rules = [{ path = "%s/p0/", access = "r" }' "$PD"
		for ((i = 1; i < np; i++)); do
			printf ', { path = "%s/p%d/%s", access = "%s" }' "$PD" $((i / 100)) \
				"$([ $((i % 2)) = 0 ] && echo "f$i" || echo "d$i/")" "$([ $((i % 3)) = 0 ] && echo deny || echo r)"
		done
		echo ']'
	} >"$f"
}
big=$BT/big.toml small=$BT/small.toml runbig=$BT/runbig.toml
gen "$big" 10000 10000
gen "$small" 2 1
"$SBX" policy check "$big" >/dev/null || { log "the generated policy does not check"; exit 1; }
emit kind=info name="policy file" bytes="$(stat -c %s "$big")" net_entries=10000 path_rules=10000
# Can a sandbox run it here? (The host provider needs BPF LSM for path rules;
# the process provider builds a mount view from them.)
PATHS_RUN=10000
if ! "$SBX" run -P "$big" -- /bin/true >/dev/null 2>"$BT/big.err"; then
	emit kind=finding name="10,000 path rules refused by sbx run" reason="$(tail -1 "$BT/big.err")"
	log "sbx run refuses the 10k-path-rule profile: $(tail -1 "$BT/big.err")"
	PATHS_RUN=4096
fi
gen "$runbig" 10000 $PATHS_RUN

# load + plan + compile, without the kernel (the mounts, the maps)
if make -s -C "$ROOT" OUTPUT="$OUT" "$BIN/policy_cost" >"$BT/make.log" 2>&1; then
	for k in small big; do
		"$BIN/policy_cost" "$BT/$k.toml" scale "$ROUNDS" >"$BT/cost.$k" || exit 1
		for col in 1 2 3 4; do awk -v c=$col '{ print $c * 1000 }' "$BT/cost.$k" >"$BT/cost.$k.$col"; done
	done
	report_pair policy "load+plan+compile, 10k+10k entries" "$BT/cost.big.4" "1+1 entries" "$BT/cost.small.4" us \
		load_us="$(stats <"$BT/cost.big.1" | cut -d' ' -f1)" plan_us="$(stats <"$BT/cost.big.2" | cut -d' ' -f1)" \
		compile_us="$(stats <"$BT/cost.big.3" | cut -d' ' -f1)"
	ms=$(stats <"$BT/cost.big.4" | awk '{ printf "%.1f", $1 / 1000 }')
	met=false
	le "$ms" 100 && met=true
	emit kind=target name="load+compile of 10k net + 10k path rules" value="$ms" unit=ms target="< 100 ms" met=$met
else
	emit kind=skipped name="load+plan+compile" reason="bench/core/policy_cost did not build: $(tail -1 "$BT/make.log")"
fi

log "policy check and sbx run, $ROUNDS rounds"
time_cmds "$ROUNDS" "$WARM" \
	check-small -- "$SBX" policy check "$small" ";;" check-big -- "$SBX" policy check "$big" ";;" \
	run-small -- "$SBX" run -P "$small" -- /bin/true ";;" run-big -- "$SBX" run -P "$runbig" -- /bin/true \
	>/dev/null
report_pair policy "sbx policy check, 10k+10k entries" "$BT/t.check-big" "1+1 entries" "$BT/t.check-small" us
report_pair policy "sbx run /bin/true, 10k net + $PATHS_RUN path entries" "$BT/t.run-big" "1+1 entries" \
	"$BT/t.run-small" us path_rules=$PATHS_RUN
for k in check run; do
	d=$(awk -v a="$(stats <"$BT/t.$k-big" | cut -d' ' -f1)" -v b="$(stats <"$BT/t.$k-small" | cut -d' ' -f1)" \
		'BEGIN { printf "%.0f", a - b }')
	emit kind=policy_delta name="$k: cost of the large profile" value="$d" unit=us
done

# ---- kernel memory of the maps -------------------------------------------------------------
maps_memlock()
{
	local p total=0 b
	: >"$BT/maps.$1"
	for p in /sys/fs/bpf/"$SBX_INSTANCE"/sbx_*; do
		[ -e "$p" ] || continue
		b=$(bpftool map show pinned "$p" --json 2>/dev/null | jq -r '.bytes_memlock // 0') || b=0
		echo "${p##*/} $b" >>"$BT/maps.$1"
		total=$((total + b))
	done
	echo "$total"
}
with_sandbox()
{	# with_sandbox POLICY TAG: memlock of the maps while a sandbox of POLICY sleeps
	local pid tot
	"$SBX" run -P "$1" -- sleep 60 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do pgrep -P "$pid" >/dev/null && break; sleep 0.1; done
	sleep 1
	tot=$(maps_memlock "$2")
	kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
	echo "$tot"
}
if command -v bpftool >/dev/null; then
	none=$(maps_memlock none)
	m_small=$(with_sandbox "$small" small)
	m_big=$(with_sandbox "$runbig" big)
	changed=$(join "$BT/maps.small" "$BT/maps.big" | awk '$2 != $3 { printf "%s%s: %d -> %d", s, $1, $2, $3; s = "; " }')
	emit kind=policy_memory name="pinned maps, memlock" path_rules=$PATHS_RUN none="$none" small="$m_small" big="$m_big" \
		delta_bytes=$((m_big - m_small)) unit=bytes changed_maps="$changed"
	log "maps memlock: none $none, 1+1 $m_small, 10k+10k $m_big bytes ($changed)"
else
	emit kind=skipped name="policy map memory" reason="bpftool missing"
fi

# ---- where the large profile's time goes ---------------------------------------------------
if command -v valgrind >/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$BT/cg.out" "$SBX" run -P "$runbig" -- /bin/true \
		>/dev/null 2>"$BT/cg.err" || true
	if [ -s "$BT/cg.out" ]; then
		total=$(callgrind_annotate "$BT/cg.out" 2>/dev/null |
			awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' || true)
		top=$(callgrind_annotate --inclusive=yes "$BT/cg.out" 2>/dev/null | awk '/^ *[0-9,]+ \(/' | head -40 |
			awk -v tot="$total" '{ n = $1; gsub(",", "", n); f = $NF; sub(/^.*:/, "", f); sub(/ .*/, "", f)
				if (f ~ /^(0x|\?\?\?|_start|main|__libc_start|\[|TOTALS)/ || seen[f]++) next
				printf "%s%s %.1f%%", s, f, 100 * n / tot; s = "; "; if (++k == 14) exit }' || true)
		emit kind=callgrind name="callgrind, sbx run with the large profile" instructions="$total" top="$top"
		log "callgrind (large profile): $total instructions: $top"
	fi
fi
