# SPDX-License-Identifier: MIT
# Per-layer test totals, read by tests/summary.sh (sourced by the layer runners).
#
# Each layer writes $SBX_TOTALS_DIR/LAYER (default $OUTPUT/test-totals):
#   passed N
#   failed N
#   skipped N
#   layer_skipped REASON     (only when the whole layer could not run here)
#   skip REASON              (one line per skipped case, with its reason)
# A layer that did not run at all leaves no file; tests/summary.sh reports it.

SBX_TOTALS_DIR=${SBX_TOTALS_DIR:-${OUTPUT:-$PWD/build}/test-totals}

# totals_write LAYER PASSED FAILED SKIPPED [LAYER-SKIP-REASON]: skip reasons,
# one per line, are read from stdin.
totals_write()
{
	local layer=$1 f
	mkdir -p "$SBX_TOTALS_DIR" || return 1
	f=$SBX_TOTALS_DIR/$layer
	{
		echo "passed $2"
		echo "failed $3"
		echo "skipped $4"
		[ -n "${5:-}" ] && echo "layer_skipped $5"
		sed -n 's/^/skip /p'
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

# totals_from_log LAYER LOG [LAYER-SKIP-REASON]: counts the "PASS name",
# "FAIL name: why" and "SKIP name: reason" lines of LOG.
totals_from_log()
{
	local p x s
	p=$(grep -c '^PASS ' "$2")
	x=$(grep -c '^FAIL ' "$2")
	s=$(grep -c '^SKIP ' "$2")
	sed -n 's/^SKIP //p' "$2" | totals_write "$1" "$p" "$x" "$s" "${3:-}"
}
