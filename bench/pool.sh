#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/pool.sh - issue 15's warm-pool row: /bin/true started through sbxd
# from a warm pool (a libsbx client's Run on an open connection, request to
# exit status), against a bare fork+exec+wait of /bin/true and `unshare`
# with all namespaces, in the same rounds; and the miss path (a profile
# whose pool is empty, pool = 0), which is a cold start through sbxd.
#   QUICK=1 bench/pool.sh
# Figures go to $BENCH_RESULTS (see bench/lib.sh).
. "$(dirname "$0")/lib.sh"
bench_init pool

ROUNDS=$(q 15 41)
WARM=$(q 3 5)
SBXD=$(dirname "$SBX")/sbxd
[ -x "$SBXD" ] || { emit kind=skipped name=sbxd-pool reason="no sbxd beside $SBX"; exit 0; }
[ -e "$OUT/libsbx.so" ] || { emit kind=skipped name=sbxd-pool reason="no libsbx in $OUT"; exit 0; }
gcc -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -o "$BIN/pool_start" "$BENCH_DIR/pool/pool_start.c" \
	$(PKG_CONFIG_PATH=$OUT pkg-config --cflags --libs libsbx) -Wl,-rpath,"$OUT" ||
	{ echo "bench: cannot build pool_start" >&2; exit 1; }

# the realistic process profile of startup.sh, twice: warm and cold
mkdir -p "$BT/pol" "$BT/state"
profile_realistic "$BT/one.toml" process
cat "$BT/one.toml" >"$BT/pol/pool.toml"
sed 's/^\[profile\."process"/[profile."process-cold"/' "$BT/one.toml" >>"$BT/pol/pool.toml"
"$SBXD" --socket "$BT/sbxd.sock" --state-dir "$BT/state" --policy-dir "$BT/pol" \
	--audit-dir "$BT/audit" --pool process=2 --pool process-cold=0 >"$BT/sbxd.log" 2>&1 &
sbxd_pid=$!
at_exit "kill $sbxd_pid; wait $sbxd_pid"
for i in $(seq 100); do [ -S "$BT/sbxd.sock" ] && break; sleep 0.05; done

log "$ROUNDS rounds after $WARM warm-up rounds: bare | unshare | sbxd-pool-hit | sbxd-pool-miss (load $(cut -d' ' -f1 /proc/loadavg))"
"$BIN/pool_start" "$BT/sbxd.sock" "$ROUNDS" "$WARM" process process-cold "$BT" ||
	{ log "pool_start failed: $(tail -3 "$BT/sbxd.log")"; exit 1; }

for n in unshare sbxd-pool-hit sbxd-pool-miss; do
	report_pair pool "$n" "$BT/t.$n" bare "$BT/t.bare" us
done
# the target: the pooled start's ratio to bare fork+exec, against unshare's
read -r m lo hi n <<<"$(paired_ratio "$BT/t.sbxd-pool-hit" "$BT/t.bare")"
read -r um _ _ _ <<<"$(paired_ratio "$BT/t.unshare" "$BT/t.bare")"
met=false; le "$m" "$um" && met=true
emit kind=target name="sbxd warm-pool start vs bare fork+exec" ratio_paired_median="$m" \
	ratio_p10="$lo" ratio_p90="$hi" runs="$n" target="<= unshare's ratio ($um)" aim="<= 1.5x" met=$met
log "sbxd-pool-hit / bare = paired median x$m (p10 x$lo, p90 x$hi); unshare / bare x$um; met: $met"
read -r m lo hi n <<<"$(paired_ratio "$BT/t.sbxd-pool-miss" "$BT/t.sbxd-pool-hit")"
emit kind=daemon name="sbxd pool miss vs hit" ratio="$m" ratio_p10="$lo" ratio_p90="$hi" runs="$n"
log "sbxd-pool-miss / sbxd-pool-hit = paired median x$m (p10 x$lo, p90 x$hi)"
