#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh - sbx's performance suite (make bench; make bench QUICK=1).
#   [QUICK=1] [OUTPUT=build] bench/run.sh [SUITE...]
# Runs each suite (default: all of startup pool memory enforce audit policy cost
# profile dns oci; each is also a script of its own, bench/SUITE.sh), records the
# machine, and writes
#   bench/results/STAMP.json   every figure, with the machine (kept, to
#                              compare runs over time)
#   bench/results/STAMP.png    the chart (gnuplot), when gnuplot is there
#   docs/performance.md        tables, targets, analysis (bench/report.py),
#                              unless BENCH_DOC=0
# Root; loopback only; the machine should be otherwise idle (it rarely is:
# the figures are ratios to baselines measured in the same rounds).
# Environment: QUICK=1 (a few minutes), BENCH_N (concurrent sandboxes),
# BENCH_VM=0 (skip the VM guest), BENCH_DOC=0 (do not rewrite the doc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export OUTPUT=${OUTPUT:-$ROOT/build}
QUICK=${QUICK:-0}
[ "$QUICK" = 1 ] || QUICK=0
export QUICK
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(startup pool memory enforce audit policy cost profile dns oci)

[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF, cgroups, namespaces)" >&2; exit 1; }
[ -x "$OUTPUT/sbx" ] || { echo "bench: $OUTPUT/sbx missing: run make first" >&2; exit 1; }

# Tools of the suite itself; peers are installed by the suites that use them.
missing=()
for t in jq:jq gcc:gcc python3:python3 gnuplot:gnuplot-nox strace:strace valgrind:valgrind \
	bpftool:bpftool bc:bc dnsmasq:dnsmasq-base; do
	command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "  bench     installing ${missing[*]} from Debian's archive" >&2
	{ apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; } \
		>/dev/null 2>&1 || echo "  bench     could not install all of ${missing[*]}: some parts will be skipped" >&2
fi

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)$([ "$QUICK" = 0 ] || echo -quick)
mkdir -p bench/results "$OUTPUT/bench"
# Measure a private copy: the tree is shared, and a rebuild of $OUTPUT/sbx in
# the middle of a run would mix two binaries in one set of figures.
mkdir -p "$OUTPUT/bench/under-test"
cp "$OUTPUT/sbx" "$OUTPUT/bench/under-test/sbx"
cp "$OUTPUT/sbxd" "$OUTPUT/bench/under-test/sbxd"
cp "$OUTPUT/sbx-init" "$OUTPUT/bench/under-test/sbx-init"	# PID 1 of the sandboxes, found beside sbx
# the OCI runtime (bench/oci.sh finds it beside sbx)
[ ! -x "$OUTPUT/sbx-oci" ] || cp "$OUTPUT/sbx-oci" "$OUTPUT/bench/under-test/sbx-oci"
export BENCH_SBX=$OUTPUT/bench/under-test/sbx
sbx_sha=$(sha256sum "$BENCH_SBX" | cut -c1-16)
sbx_built=$(date -u -r "$OUTPUT/sbx" +%Y-%m-%dT%H:%M:%SZ)
export BENCH_RESULTS=$OUTPUT/bench/results-$stamp.jsonl
: >"$BENCH_RESULTS"

ver() { "$@" 2>&1 | head -1 || true; }
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
declare -A status=() took=()
for s in "${SUITES[@]}"; do
	[ -x "bench/$s.sh" ] || { echo "bench: no suite $s" >&2; exit 2; }
	echo "==== $s ($([ "$QUICK" = 1 ] && echo quick || echo full))" >&2
	t0=$(date +%s)
	rc=0
	timeout "$([ "$QUICK" = 1 ] && echo 1800 || echo 7200)" "bench/$s.sh" || rc=$?
	took[$s]=$(($(date +%s) - t0))
	status[$s]=$([ $rc = 0 ] && echo ok || echo "failed (exit $rc)")
	[ $rc = 0 ] || echo "bench: suite $s failed (exit $rc); going on" >&2
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

suites_json=$(for s in "${SUITES[@]}"; do
	jq -cn --arg n "$s" --arg st "${status[$s]}" --argjson t "${took[$s]}" '{name: $n, status: $st, seconds: $t}'
done | jq -s .)
machine=$(jq -n \
	--arg kernel "$(uname -r)" --arg arch "$(uname -m)" --argjson cpus "$(nproc)" \
	--arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	--arg mem "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
	--arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" \
	--arg load_before "$load0" --arg load_after "$load1" \
	--arg sbx "$(ver "$BENCH_SBX" --version), sha256 $sbx_sha..., built $sbx_built" \
	--arg bwrap "$(ver bwrap --version) (deb $(pkgver bubblewrap))" \
	--arg firejail "$(ver firejail --version) (deb $(pkgver firejail))" \
	--arg runsc "$(runsc --version 2>&1 | head -1 || true) (deb $(pkgver runsc))" \
	--arg unshare "$(ver unshare --version)" \
	--arg podman "$(ver podman --version) (deb $(pkgver podman))" \
	--arg runc "$(ver runc --version) (deb $(pkgver runc))" \
	--arg crun "$(ver crun --version) (deb $(pkgver crun))" \
	--arg libbpf "$(pkgver libbpf1)" --arg gcc "$(ver gcc --version)" \
	--arg lsm "$(cat /sys/kernel/security/lsm 2>/dev/null || echo '(securityfs not mounted)')" \
	--arg cgroup "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" \
	'{kernel: $kernel, arch: $arch, cpus: $cpus, cpu_model: $cpu, memory: $mem, os: $os,
	  load_before: $load_before, load_after: $load_after, cgroup_fs: $cgroup, lsm: $lsm,
	  versions: {sbx: $sbx, bwrap: $bwrap, firejail: $firejail, runsc: $runsc, unshare: $unshare,
		     podman: $podman, runc: $runc, crun: $crun, libbpf: $libbpf, gcc: $gcc}}')
out=bench/results/$stamp.json
jq -s --arg stamp "$stamp" --argjson quick "$([ "$QUICK" = 1 ] && echo true || echo false)" \
	--argjson machine "$machine" --argjson suites "$suites_json" \
	--argjson secs $(($(date +%s) - t_start)) \
	'{stamp: $stamp, quick: $quick, seconds: $secs, machine: $machine, suites: $suites, results: .}' \
	"$BENCH_RESULTS" >"$out"
echo "  bench     results: $out" >&2

png=
if command -v gnuplot >/dev/null; then
	png=bench/results/$stamp.png
	python3 bench/report.py --chart-data "$out" >"$OUTPUT/bench/chart.dat"
	if gnuplot -e "datafile='$OUTPUT/bench/chart.dat'; outfile='$png'" bench/chart.gp 2>"$OUTPUT/bench/gnuplot.err"; then
		echo "  bench     chart: $png" >&2
	else
		echo "  bench     chart failed: $(tail -1 "$OUTPUT/bench/gnuplot.err")" >&2
		png=
	fi
fi
if [ "${BENCH_DOC:-1}" != 0 ]; then
	python3 bench/report.py "$out" ${png:+--chart "$png"} >docs/performance.md.tmp
	mv docs/performance.md.tmp docs/performance.md
	echo "  bench     wrote docs/performance.md" >&2
fi
