# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# bench/lib.sh - what every bench/ script shares. Source it, then call
# bench_init NAME. It provides:
#   interleaving   time_cmds (whole-process timing through runloop: A B A B ...
#                  after warm-up rounds) and interleave_values (commands that
#                  print one number each, e.g. ns per operation)
#   statistics     stats (median, p10, p90, n of numbers on stdin),
#                  paired_ratio (per-round ratios of two interleaved series)
#   JSON output    emit KEY=VALUE... appends one JSON object per line to
#                  $BENCH_RESULTS (numbers, true/false/null stay JSON literals)
#   peers          need_peer CMD PACKAGE installs a missing peer from Debian's
#                  archive, or says why it is skipped
#   sbx            $SBX, a private instance (SBX_INSTANCE=sbx-bench-PID) with
#                  its own log dir, unloaded and removed at exit
# Environment: QUICK=1 (short run), OUTPUT (build dir, default build/),
# BENCH_SBX (the sbx binary to measure; default $OUTPUT/sbx),
# BENCH_RESULTS (JSON-lines file; default $OUTPUT/bench/results.jsonl).

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$BENCH_DIR/.." && pwd -P)
OUT=$(realpath -m "${OUTPUT:-$ROOT/build}")
SBX=${BENCH_SBX:-$OUT/sbx}	# bench/run.sh points this at a private copy of the binary
BIN=$OUT/bench			# compiled helpers
QUICK=${QUICK:-${SBX_BENCH_QUICK:-0}}	# SBX_*: what tests/vm/vmtest.sh passes to a guest
[ "$QUICK" = 1 ] || QUICK=0
BENCH_RESULTS=${BENCH_RESULTS:-$BIN/results.jsonl}
SUITE=
BT=

# q QUICK_VALUE FULL_VALUE
q() { if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi; }

log() { printf '  %-9s %s\n' "${SUITE:-bench}" "$*" >&2; }

# ---- set-up and clean-up ------------------------------------------------------

_cleanups=()
at_exit() { _cleanups+=("$*"); }
_run_cleanups()
{
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	if [ -n "${SBX_INSTANCE:-}" ] && [ -x "$SBX" ]; then
		"$SBX" unload >/dev/null 2>&1 || true
		# what unload leaves of this private instance: its run directory and,
		# on hybrid hosts, the instance's empty v1 cgroup directories
		rm -rf "/run/$SBX_INSTANCE"
		find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "$SBX_INSTANCE" 2>/dev/null |
			xargs -r rmdir 2>/dev/null || true
	fi
	[ -n "$BT" ] && rm -rf "$BT"
}

# bench_init SUITE: temp dir $BT, private sbx instance, helpers built.
bench_init()
{
	SUITE=$1
	BT=$(mktemp -d "/tmp/sbx-bench-$SUITE.XXXXXX")
	export SBX_INSTANCE=sbx-bench-$$
	export SBX_LOG_DIR=$BT/log
	mkdir -p "$SBX_LOG_DIR" "$(dirname "$BENCH_RESULTS")"
	trap _run_cleanups EXIT
	trap 'exit 130' INT TERM
	[ -x "$SBX" ] || { echo "bench: $SBX missing: run make first" >&2; exit 1; }
	build_helpers
}

# Helpers are rebuilt when their source is newer.
build_helpers()
{
	local src name
	mkdir -p "$BIN"
	for src in "$BENCH_DIR"/*.c; do
		name=$(basename "$src" .c)
		[ -x "$BIN/$name" ] && [ "$BIN/$name" -nt "$src" ] && continue
		# nop: a static do-nothing program, so that exec loops do not load libraries
		gcc -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE $([ "$name" = nop ] && echo -static) \
			-o "$BIN/$name" "$src" $([ "$name" = tp_nop ] && echo -lbpf) ||
			{ echo "bench: cannot build $src" >&2; exit 1; }
	done
}

# need_peer CMD PACKAGE: 0 when CMD is there (installing PACKAGE from Debian's
# archive if needed and possible); else prints the reason and returns 1.
need_peer()
{
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing $pkg from Debian's archive"
		if { apt-get install -y -qq --no-install-recommends "$pkg" ||
		     { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$pkg"; }; } \
			>"$BT/apt-$pkg.log" 2>&1 && command -v "$cmd" >/dev/null 2>&1; then
			return 0
		fi
		echo "$pkg could not be installed: $(tail -1 "$BT/apt-$pkg.log")"
		return 1
	fi
	echo "$cmd is not installed (package $pkg) and this is not root"
	return 1
}

# ---- statistics -----------------------------------------------------------------

# stats < numbers: "median p10 p90 n" (nearest-rank percentiles; median of an
# even count is the mean of the middle two).
stats()
{
	sort -g | awk '{ a[NR] = $1 }
		END {
			if (NR == 0) { print "null null null 0"; exit }
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			lo = a[int(0.1 * (NR - 1)) + 1]; hi = a[NR - int(0.1 * (NR - 1))]
			printf "%.6g %.6g %.6g %d\n", m, lo, hi, NR
		}'
}

# paired_ratio FILE_X FILE_BASE: the per-round ratios x[r] / base[r] of two
# series measured in the same rounds (one value a line, round order), as
# "median p10 p90 n". Pairing cancels the machine's slow drifts.
paired_ratio()
{
	paste "$1" "$2" | awk '$2 > 0 { printf "%.6g\n", $1 / $2 }' | stats
}

# ratio A B: A / B with 4 significant digits, or null.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "null" || b == "null" || b == 0) print "null";
		else printf "%.4g\n", a / b }'
}

# le A B: exit 0 when A <= B (numbers).
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "null" && a + 0 <= b + 0) }'; }

# ---- JSON -----------------------------------------------------------------------

# emit KEY=VALUE...: one JSON object on a line of $BENCH_RESULTS, with
# "suite" and "quick" added. Values that are JSON numbers, true, false, null,
# or start with [ or { are written as they are; anything else as a string.
emit()
{
	local args=() kv k v
	for kv in "suite=$SUITE" "$@"; do
		k=${kv%%=*} v=${kv#*=}
		if [[ $v =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ || $v == true || $v == false ||
		      $v == null || $v == \[* || $v == \{* ]]; then
			args+=(--argjson "$k" "$v")
		else
			args+=(--arg "$k" "$v")
		fi
	done
	jq -cn "${args[@]}" '$ARGS.named' >>"$BENCH_RESULTS"
}

# ---- interleaved measurement ------------------------------------------------------

# time_cmds ROUNDS WARMUP NAME -- CMD... ';;' NAME -- CMD... : whole-process
# times through runloop (interleaved, warm-up first). Leaves, for each NAME,
# $BT/t.NAME (microseconds, round order) and prints runloop's JSON lines.
time_cmds()
{
	local out=$BT/runloop.out
	: >"$BT/runloop.err"
	RUNLOOP_ERR=$BT/runloop.err "$BIN/runloop" -r "$@" >"$out" || {
		log "runloop failed; the commands' last errors:"
		tail -5 "$BT/runloop.err" >&2
		return 1
	}
	jq -r '.name' "$out" | while read -r n; do
		jq -r --arg n "$n" 'select(.name == $n) | .us[]' "$out" >"$BT/t.$n"
	done
	cat "$out"
}

# interleave_values ROUNDS WARMUP NAME 'COMMAND' [NAME 'COMMAND']...: runs each
# shell COMMAND once per round, in order (A B A B ...), after WARMUP rounds;
# each prints one number (its last line is kept), saved in $BT/v.NAME in
# round order. A failing command aborts the measurement (returns 1).
interleave_values()
{
	local rounds=$1 warm=$2 r i v
	shift 2
	local -a names=() cmds=()
	while [ $# -ge 2 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	for i in "${!names[@]}"; do : >"$BT/v.${names[$i]}"; done
	for ((r = -warm; r < rounds; r++)); do
		for i in "${!names[@]}"; do
			v=$(eval "${cmds[$i]}" 2>>"$BT/interleave.err" | tail -1) || {
				log "FAILED: ${names[$i]}: $(tail -3 "$BT/interleave.err")"
				return 1
			}
			[ "$r" -ge 0 ] && echo "$v" >>"$BT/v.${names[$i]}"
		done
	done
	return 0
}

# report_pair KIND NAME FILE BASENAME BASEFILE UNIT [KEY=VALUE...]: emits the
# figure of series FILE against baseline BASEFILE: median/p10/p90 of both,
# the ratio of the medians, and the spread of the per-round ratios.
report_pair()
{
	local kind=$1 name=$2 f=$3 bname=$4 bf=$5 unit=$6
	shift 6
	local m lo hi n bm blo bhi rm rlo rhi
	read -r m lo hi n <<<"$(stats <"$f")"
	read -r bm blo bhi _ <<<"$(stats <"$bf")"
	read -r _ rlo rhi _ <<<"$(paired_ratio "$f" "$bf")"
	rm=$(ratio "$m" "$bm")
	emit kind="$kind" name="$name" unit="$unit" median="$m" p10="$lo" p90="$hi" runs="$n" \
		baseline="$bname" base_median="$bm" base_p10="$blo" base_p90="$bhi" \
		ratio="$rm" ratio_p10="$rlo" ratio_p90="$rhi" "$@"
	printf '  %-9s %-34s %12s %s  (p10 %s, p90 %s)  vs %s %s: x%s\n' "$SUITE" "$name" "$m" "$unit" \
		"$lo" "$hi" "$bname" "$bm" "$rm" >&2
}

# ---- process trees and memory -------------------------------------------------------

# tree_pids PID...: the PIDs and all their descendants.
tree_pids()
{
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) { want[r[i]] = 1; q[++t] = r[i] } }
		{ kids[$2] = kids[$2] " " $1 }
		END {
			for (h = 1; h <= t; h++) {
				print q[h]
				m = split(kids[q[h]], k, " ")
				for (i = 1; i <= m; i++) if (!(k[i] in want)) { want[k[i]] = 1; q[++t] = k[i] }
			}
		}'
}

# mem_of PID...: "PSS_KIB RSS_KIB NPROCS" summed over the processes given
# (from /proc/PID/smaps_rollup; vanished processes are skipped).
mem_of()
{
	local p pss=0 rss=0 n=0 a b
	for p in "$@"; do
		read -r a b <<<"$(awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' \
			"/proc/$p/smaps_rollup" 2>/dev/null)" || continue
		[ "$b" -gt 0 ] || continue
		pss=$((pss + a)) rss=$((rss + b)) n=$((n + 1))
	done
	echo "$pss $rss $n"
}

# ---- sbx profiles ---------------------------------------------------------------------

# The "realistic" profile: an allow-list, a read-only view,
# memory/CPU/pids/nofile limits, a timeout. profile_realistic FILE PROVIDER
profile_realistic()
{
	local f=$1 pv=$2 name=$2
	cat >>"$f" <<EOF
[profile."$name"]
provider = "$pv"
memory = "256M"
cpu = 1
pids = 128
nofile = 1024
timeout = "10m"
[profile."$name".network]
mode = "allow"
allow = ["127.0.0.1:18080/tcp", "192.0.2.0/24:443/tcp", "198.51.100.7:53/udp", "10.20.0.0/16"]
deny = ["10.20.30.0/24"]
[profile."$name".fs]
mode = "read-only"

EOF
}

# The host provider cannot do [fs] here (no BPF LSM): network list and limits.
profile_host()
{
	local f=$1 name=${2:-host}
	cat >>"$f" <<EOF
[profile."$name"]
provider = "host"
min_isolation = "none"
memory = "256M"
cpu = 1
pids = 128
nofile = 1024
timeout = "10m"
[profile."$name".network]
mode = "allow"
allow = ["127.0.0.1:18080/tcp", "192.0.2.0/24:443/tcp", "198.51.100.7:53/udp", "10.20.0.0/16"]
deny = ["10.20.30.0/24"]
[profile."$name".fs]
mode = "full"

EOF
}
