#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/startup.sh - target 1: whole-process time to run /bin/true under bare
# fork+exec, unshare (all namespaces), bwrap --unshare-all, firejail,
# runsc do, and sbx run with each provider that can run /bin/true, under a
# realistic profile (allow-list, read-only fs, limits). Interleaved
# (bare, unshare, bwrap, ..., bare, unshare, ...) after warm-up rounds.
#   QUICK=1 bench/startup.sh
# Figures go to $BENCH_RESULTS (see bench/lib.sh).
. "$(dirname "$0")/lib.sh"
bench_init startup

ROUNDS=$(q 15 41)
WARM=$(q 3 5)
pol=$BT/startup.toml
profile_realistic "$pol" process
profile_realistic "$pol" gvisor
profile_host "$pol" host

args=(bare -- /bin/true)
add() { args+=(";;" "$@"); }
declare -A skip=()

add unshare -- unshare --user --map-root-user --mount --uts --ipc --net --pid --fork --cgroup --time /bin/true
if why=$(need_peer bwrap bubblewrap); then
	add bwrap -- bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp /bin/true
else skip[bwrap]=$why; fi
if why=$(need_peer firejail firejail); then
	add firejail -- firejail --quiet --noprofile /bin/true
else skip[firejail]=$why; fi
if why=$(need_peer runsc runsc); then
	add runsc -- runsc --rootless --network=none do /bin/true
else skip[runsc]=$why; fi

# sbx: every provider that runs native commands and is available here.
providers=$("$SBX" providers --json 2>/dev/null || echo '[]')
avail() { jq -e --arg p "$1" '(if type == "object" then .providers else . end) | .[] |
	select(.name == $p) | .available' <<<"$providers" >/dev/null; }
for pv in process host gvisor; do
	if ! avail "$pv"; then
		skip["sbx-$pv"]="provider $pv is not available here: $("$SBX" providers 2>/dev/null | awk -v p="$pv" '$1 == p' | cut -c40-)"
		continue
	fi
	# one try first: a provider that cannot run here is reported, not fatal
	if ! "$SBX" run -P "$pol" --profile "$pv" -- /bin/true >"$BT/try.$pv" 2>&1; then
		skip["sbx-$pv"]="sbx run --profile $pv failed: $(tail -1 "$BT/try.$pv")"
		continue
	fi
	add "sbx-$pv" -- "$SBX" run -P "$pol" --profile "$pv" -- /bin/true
done
# the same process profile through sbxd (sbx run as its client): a private
# daemon with this suite's policy as its policy directory
SBXD=$(dirname "$SBX")/sbxd
if [ -x "$SBXD" ] && [ -z "${skip[sbx-process]:-}" ]; then
	mkdir -p "$BT/sbxd-pol" "$BT/sbxd-state"
	cp "$pol" "$BT/sbxd-pol/"
	"$SBXD" --socket "$BT/sbxd.sock" --state-dir "$BT/sbxd-state" --policy-dir "$BT/sbxd-pol" \
		--audit-dir "$BT/sbxd-audit" >"$BT/sbxd.log" 2>&1 &
	sbxd_pid=$!
	at_exit "kill $sbxd_pid"
	for i in $(seq 100); do [ -S "$BT/sbxd.sock" ] && break; sleep 0.05; done
	if SBX_SOCKET=$BT/sbxd.sock "$SBX" run --profile process -- /bin/true >"$BT/try.sbxd" 2>&1; then
		add sbxd-process -- env SBX_SOCKET="$BT/sbxd.sock" "$SBX" run --profile process -- /bin/true
	else
		skip[sbxd-process]="sbx run through sbxd failed: $(tail -1 "$BT/try.sbxd")"
	fi
else
	skip[sbxd-process]="no sbxd beside $SBX"
fi
skip[sbx-wasm]="the wasm provider runs WASI modules, not /bin/true"
skip[sbx-mock]="the mock provider runs nothing (not a sandbox)"

log "$ROUNDS rounds after $WARM warm-up rounds: ${args[*]//;;/|}"
time_cmds "$ROUNDS" "$WARM" "${args[@]}" >/dev/null

for f in "$BT"/t.*; do
	n=${f##*/t.}
	report_pair startup "$n" "$f" bare "$BT/t.bare" us
done
# The targets: sbx's process provider against bwrap and unshare, paired.
if [ -f "$BT/t.sbx-process" ]; then
	for peer in bwrap unshare; do
		[ -f "$BT/t.$peer" ] || continue
		target=$([ $peer = bwrap ] && echo 1.0 || echo 1.2)
		read -r m lo hi n <<<"$(paired_ratio "$BT/t.sbx-process" "$BT/t.$peer")"
		r=$(ratio "$(stats <"$BT/t.sbx-process" | cut -d' ' -f1)" "$(stats <"$BT/t.$peer" | cut -d' ' -f1)")
		met=false; le "$r" "$target" && met=true
		emit kind=target name="sbx-process vs $peer" ratio="$r" ratio_paired_median="$m" \
			ratio_p10="$lo" ratio_p90="$hi" runs="$n" target="<= ${target}x" met=$met
		log "sbx-process / $peer = x$r (paired median x$m, p10 x$lo, p90 x$hi; target <= ${target}x: $met)"
	done
fi
# through the daemon against direct mode (no target: the cost of the API hop)
if [ -f "$BT/t.sbxd-process" ] && [ -f "$BT/t.sbx-process" ]; then
	read -r m lo hi n <<<"$(paired_ratio "$BT/t.sbxd-process" "$BT/t.sbx-process")"
	emit kind=daemon name="sbx run through sbxd vs direct mode (process provider)" ratio="$m" \
		ratio_p10="$lo" ratio_p90="$hi" runs="$n"
	log "sbxd-process / sbx-process = paired median x$m (p10 x$lo, p90 x$hi)"
fi
[ -n "${sbxd_pid:-}" ] && kill "$sbxd_pid" 2>/dev/null
for k in "${!skip[@]}"; do
	emit kind=skipped name="$k" reason="${skip[$k]}"
	log "skipped $k: ${skip[$k]}"
done
