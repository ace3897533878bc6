#!/bin/bash
# SPDX-License-Identifier: MIT
# connect() and UDP sendto cost inside a sandbox with 0, 10, 1000 and 10000
# CIDR rules, as a ratio to the same loop outside any sandbox, interleaved
# (bare, sandboxed, bare, sandboxed, ...) in one run. Root; loopback only.
#   bench/connect.sh [ROUNDS] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUTPUT:-build}
SBX=$OUT/sbx
ROUNDS=${1:-5}
COUNT=${2:-20000}
PORT=18080
export SBX_INSTANCE=sbx-bench-$$
tmp=$(mktemp -d /tmp/sbx-bench.XXXXXX)
export SBX_LOG_DIR=$tmp/log
listener=

cleanup() {
	[ -n "$listener" ] && { kill "$listener" 2>/dev/null || true; wait "$listener" 2>/dev/null || true; }
	"$SBX" unload >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

gcc -O2 -o "$tmp/connect_loop" bench/connect_loop.c
"$tmp/connect_loop" listen $PORT & listener=$!
sleep 0.3

# A policy whose allow list holds N CIDRs besides the loopback listener.
make_policy() {
	local n=$1 f=$tmp/p$1.toml
	{
		echo '[profile."bench"]'
		echo 'provider = "host"'
		echo 'min_isolation = "none"'
		echo '[profile."bench".fs]'
		echo 'mode = "full"'
		echo '[profile."bench".network]'
		echo 'mode = "allow"'
		printf 'allow = ["127.0.0.1:%d/tcp", "127.0.0.1:%d/udp"' $PORT $PORT
		for ((i = 0; i < n; i++)); do
			printf ', "10.%d.%d.0/24"' $((i / 256)) $((i % 256))
		done
		echo ']'
	} > "$f"
	echo "$f"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-8s %-7s %12s %12s %8s %8s\n' op rules bare_ns sbx_ns ratio spread
for op in connect sendto; do
	for n in 0 10 1000 10000; do
		pol=$(make_policy $n)
		: > "$tmp/bare"; : > "$tmp/sbx"
		"$SBX" run -P "$pol" -- "$tmp/connect_loop" $op $PORT 2000 >/dev/null   # warm-up
		for ((r = 0; r < ROUNDS; r++)); do
			"$tmp/connect_loop" $op $PORT "$COUNT" >> "$tmp/bare"
			"$SBX" run -P "$pol" -- "$tmp/connect_loop" $op $PORT "$COUNT" >> "$tmp/sbx"
		done
		b=$(median < "$tmp/bare"); s=$(median < "$tmp/sbx")
		spread=$(sort -n "$tmp/sbx" | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.0f%%", (hi-lo)/lo*100}')
		printf '%-8s %-7s %12.1f %12.1f %8.3f %8s\n' $op $n "$b" "$s" "$(echo "$s / $b" | bc -l)" "$spread"
	done
done
