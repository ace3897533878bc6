#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The unit layer (make unit): runs each cmocka binary given, under ASan and
# UBSan, and counts its cases.
#
#   OUTPUT=<build dir> tests/run-unit.sh BINARY...
#
# A case prints "[       OK ]", "[  FAILED  ]" or "[  SKIPPED ]"; a skipping
# case prints "skipped: REASON" first (tests/unit/testutil.h SKIP_BECAUSE),
# and a skip without a reason is a failure. A binary that exits non-zero
# without a failed case (a crash, a sanitizer report) is a failure too.
# Prints "unit: N passed, N failed, N skipped" with each skip's reason, and
# writes the layer's totals (tests/lib/totals.sh). Exit status 1 when
# anything failed.

set -u
cd "$(dirname "$0")/.." || exit 2
OUTPUT=$(realpath -m "${OUTPUT:-build}")
. tests/lib/totals.sh

pass=0 fail=0 skip=0
skips=$(mktemp) log=$(mktemp)
trap 'rm -f "$skips" "$log"' EXIT
for t in "$@"; do
	n=$(basename "$t")
	echo "  UNIT     $n"
	SBX_BIN=$OUTPUT/sbx SBX_SRCDIR=$PWD \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^\[       OK \]' "$log")
	x=$(grep '^\[  FAILED  \] [a-z]' "$log" | sort -u | wc -l)
	# one reason per skipped case: the "skipped: ..." line printed before it
	s=0 reason=
	while IFS= read -r line; do
		case $line in
		"skipped: "*) reason=${line#skipped: } ;;
		"[  SKIPPED ] "[a-z]*)
			name=${line#\[  SKIPPED \] }
			if [ -z "$reason" ]; then
				echo "FAIL $n.$name: skipped without a reason"
				x=$((x + 1))
			else
				echo "$n.$name: $reason" >>"$skips"
				s=$((s + 1))
			fi
			reason= ;;
		"[ RUN      ] "*) reason= ;;
		esac
	done < <(grep -E '^(skipped: |\[  SKIPPED \] [a-z]|\[ RUN      \] )' "$log" | awk '!seen[$0]++ || !/SKIPPED/')
	if [ $rc != 0 ] && [ "$x" = 0 ]; then
		echo "FAIL $n: exited $rc without a failed case (crash or sanitizer report above)"
		x=1
	fi
	pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
done

echo "unit: $pass passed, $fail failed, $skip skipped"
sed 's/^/  skipped: /' "$skips"
totals_write unit $pass $fail $skip <"$skips"
[ $fail = 0 ]
