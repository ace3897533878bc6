#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/oci.sh - sbx-oci as Podman's runtime (docs/oci.md): the whole-process
# time of `podman run --rm --rootfs DIR /bin/true` with --runtime sbx-oci,
# runc and crun, interleaved in the same rounds (sbx-oci, runc, crun, sbx-oci,
# ...) after warm-up rounds; medians, spreads and the ratios to runc and crun
# (paired per round). The rootfs is tests/oci/mkrootfs.sh's busybox tree;
# Podman's storage is private (--root/--runroot/--tmpdir under the suite's
# temporary directory, vfs, cgroupfs, file events, no network), the
# containers' cgroups go under a parent of this run's own, removed at the
# end. A runtime that cannot run here (crun refuses a hybrid cgroup layout)
# is reported as skipped with its own error.
#   QUICK=1 bench/oci.sh
# Environment: BENCH_SBX_OCI (the sbx-oci to measure; default: beside $SBX).
. "$(dirname "$0")/lib.sh"
bench_init oci

ROUNDS=$(q 8 31)
WARM=$(q 2 4)
declare -A skip=() rt=()
if ! why=$(need_peer podman podman); then
	emit kind=skipped name="podman run" reason="$why"
	log "skipped: $why"
	exit 0
fi
rt[sbx-oci]=${BENCH_SBX_OCI:-$(dirname "$SBX")/sbx-oci}
[ -x "${rt[sbx-oci]}" ] || rt[sbx-oci]=$OUT/sbx-oci
if why=$(need_peer runc runc); then rt[runc]=$(command -v runc); else skip[runc]=$why; fi
if why=$(need_peer crun crun); then rt[crun]=$(command -v crun); else skip[crun]=$why; fi
[ -x "${rt[sbx-oci]}" ] || { skip[sbx-oci]="sbx-oci is not built beside sbx (make)"; unset 'rt[sbx-oci]'; }

PD=$BT/podman
CGPARENT=/sbx-bench-oci-$$
mkdir -p "$PD/tmp" "$PD/net"
bash "$ROOT/tests/oci/mkrootfs.sh" "$BT/rootfs" >"$BT/mkrootfs.log" 2>&1 ||
	{ log "cannot build the rootfs: $(tail -1 "$BT/mkrootfs.log")"; exit 1; }
# the runtime's environment comes from conmon (containers.conf), not from here
export CONTAINERS_CONF=$PD/containers.conf
printf '[engine]\nconmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SBX_INSTANCE=%s", "SBX_LOG_DIR=%s"]\n' \
	"$SBX_INSTANCE" "$SBX_LOG_DIR" >"$CONTAINERS_CONF"
PODMAN=(podman --root "$PD/root" --runroot "$PD/runroot" --tmpdir "$PD/tmp" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --network-config-dir "$PD/net")
RUNARGS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --cgroup-parent "$CGPARENT")

oci_bench_cleanup()
{
	local m d
	timeout 30 "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
	awk -v p="$PD/" 'index($5 "/", p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^cgroup2?$/) print $5 }' /proc/self/mountinfo |
		while read -r m; do
			d=$m$CGPARENT
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \;
		done
}
at_exit oci_bench_cleanup

args=()
for name in sbx-oci runc crun; do
	[ -n "${rt[$name]:-}" ] || continue
	cmd=("${PODMAN[@]}" --runtime "${rt[$name]}" run --rm "${RUNARGS[@]}" --rootfs "$BT/rootfs" /bin/true)
	# one try first: a runtime that cannot run here is reported, not fatal
	if ! timeout 60 "${cmd[@]}" >"$BT/try.$name" 2>&1; then
		skip[$name]="$name: cannot run here ($(tail -1 "$BT/try.$name" | sed 's/^Error: //'))"
		continue
	fi
	[ ${#args[@]} -eq 0 ] || args+=(";;")
	args+=("$name" -- "${cmd[@]}")
done

if [ ${#args[@]} -gt 0 ]; then
	log "$ROUNDS rounds after $WARM warm-up rounds: podman run --rm /bin/true under$(for n in sbx-oci runc crun; do
		[ -n "${rt[$n]:-}" ] && [ -z "${skip[$n]:-}" ] && printf ' %s' "$n"; done)"
	time_cmds "$ROUNDS" "$WARM" "${args[@]}" >/dev/null
fi
# every runtime against runc (the reference), then sbx-oci against crun
if [ -f "$BT/t.runc" ]; then
	for n in sbx-oci runc crun; do
		[ -f "$BT/t.$n" ] && report_pair oci "podman run --rm /bin/true ($n)" "$BT/t.$n" runc "$BT/t.runc" us runtime="$n"
	done
fi
if [ -f "$BT/t.sbx-oci" ] && [ -f "$BT/t.crun" ]; then
	report_pair oci_vs "sbx-oci vs crun" "$BT/t.sbx-oci" crun "$BT/t.crun" us
fi
if [ -f "$BT/t.sbx-oci" ] && [ ! -f "$BT/t.runc" ]; then
	report_pair oci "podman run --rm /bin/true (sbx-oci)" "$BT/t.sbx-oci" sbx-oci "$BT/t.sbx-oci" us runtime=sbx-oci
fi
for k in "${!skip[@]}"; do
	emit kind=skipped name="$k" reason="${skip[$k]}"
	log "skipped $k: ${skip[$k]}"
done
