#!/bin/bash
# SPDX-License-Identifier: MIT
#
# summary.sh - the last step of make check: every layer's totals in one table.
#
#   OUTPUT=<build dir> tests/summary.sh LAYER...
#
# Reads OUTPUT/test-totals/LAYER (tests/lib/totals.sh) for each LAYER named,
# prints passed, failed and skipped per layer and for all of them, and each
# skip's reason. Exit status 1 when:
#   - a case failed;
#   - a layer left no totals (it stopped before it could count: its own
#     output above says why);
#   - SBX_REQUIRE=1 (.ci/run sets it) and a whole layer was skipped: a CI
#     machine has everything every layer needs, so a skipped layer there is a
#     broken setup, never a pass;
#   - fewer cases ran (passed + failed) in a layer than tests/floor.txt says.
#     The floor only goes up: whoever adds tests raises it (tests/floor.txt
#     says how), so that a drop in the number of executed tests is a failure.

set -u
cd "$(dirname "$0")/.." || exit 2
OUTPUT=$(realpath -m "${OUTPUT:-build}")
dir=${SBX_TOTALS_DIR:-$OUTPUT/test-totals}
floor_file=tests/floor.txt

floor_of()
{	# floor_of LAYER: the recorded minimum of executed cases (0 if none)
	awk -v l="$1" '$1 == l { print $2; found = 1 } END { if (!found) print 0 }' \
		"$floor_file" 2>/dev/null || echo 0
}

field()
{	# field FILE NAME
	awk -v n="$2" '$1 == n { print $2; exit }' "$1"
}

bad=0 tp=0 tx=0 ts=0 problems=() reasons=()
echo "---- test summary ----"
printf '%-12s %8s %8s %8s %8s\n' layer passed failed skipped floor
for layer in "$@"; do
	f=$dir/$layer
	if [ ! -s "$f" ]; then
		printf '%-12s %8s %8s %8s %8s\n' "$layer" - - - "$(floor_of "$layer")"
		problems+=("$layer: no totals: the layer stopped before it counted its cases (see its output above)")
		continue
	fi
	p=$(field "$f" passed) x=$(field "$f" failed) s=$(field "$f" skipped)
	fl=$(floor_of "$layer")
	printf '%-12s %8s %8s %8s %8s\n' "$layer" "$p" "$x" "$s" "$fl"
	tp=$((tp + p)) tx=$((tx + x)) ts=$((ts + s))
	[ "$x" -gt 0 ] && problems+=("$layer: $x failed")
	ls=$(sed -n 's/^layer_skipped //p' "$f")
	if [ -n "$ls" ]; then
		reasons+=("$layer (the whole layer): $ls")
		[ "${SBX_REQUIRE:-0}" = 1 ] &&
			problems+=("$layer: skipped as a whole under SBX_REQUIRE=1 (this machine must run it): $ls")
	fi
	if [ $((p + x)) -lt "$fl" ]; then
		problems+=("$layer: $((p + x)) cases ran, fewer than the floor of $fl in $floor_file (tests stopped running?)")
	fi
	while IFS= read -r r; do reasons+=("$layer: $r"); done < <(sed -n 's/^skip //p' "$f")
done
printf '%-12s %8s %8s %8s\n' all "$tp" "$tx" "$ts"
if [ ${#reasons[@]} -gt 0 ]; then
	echo "skipped, with the reason:"
	printf '  %s\n' "${reasons[@]}"
fi
if [ ${#problems[@]} -gt 0 ]; then
	echo "FAILED:"
	printf '  %s\n' "${problems[@]}"
	exit 1
fi
echo "  TEST     all test layers passed ($tp cases passed, $ts skipped with the reasons above)"
