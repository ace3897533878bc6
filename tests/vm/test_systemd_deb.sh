#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The Debian packages of `make deb` under systemd as PID 1 (runs inside the
# guest that `tests/vm/vmtest.sh -i systemd` boots; tests/vm/run.sh does that
# boot when this file is selected). The guest's root is the host's, read-only
# over 9p: the test first puts an overlay with a tmpfs upper layer over /usr,
# /etc and /var (lib, cache), so that dpkg can install there, and removes it at
# the end. What it shows:
#   - dpkg -i of sbx, libsbx1 and libsbx-dev: the postinst enables and starts
#     sbxd.socket (systemd is running), and starts nothing else;
#   - `sbx run` of the installed sbx goes through the socket: systemd starts
#     sbxd.service (the installed /usr/sbin/sbxd) on the first call, the run
#     prints and exits as its workload did, `systemctl status sbxd` is active;
#   - dpkg --purge stops the units, and leaves no file of the packages, no
#     unit, no sbxd, no /run/sbx, /var/lib/sbx, /var/log/sbx, no pins under
#     /sys/fs/bpf/sbx, no cgroup of sbxd.service or of the instance's scope.
# Selected with SBX_VM_SYSTEMD_CASES as the cases of test_systemd.sh are
# (the group is "deb").
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
OUT=${OUTPUT:-$PWD/build}
WORK=$(mktemp -d /tmp/vmdeb.XXXXXX)
PKGS="sbx libsbx1 libsbx-dev"
OVL=/run/vmdeb-overlay
mounted=()
installed=0
failed=0

say() { echo "$1 systemd.deb.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

finish()
{
	local i
	if [ $installed = 1 ]; then
		dpkg --purge $PKGS >/dev/null 2>&1
	fi
	systemctl stop sbxd.socket sbxd.service >/dev/null 2>&1
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null
	done
	systemctl daemon-reload >/dev/null 2>&1
	rm -rf "$WORK" "$OVL"
}
trap finish EXIT

want() { [ -z "${SBX_VM_SYSTEMD_CASES:-}" ] || [[ " $SBX_VM_SYSTEMD_CASES " == *" $1 "* ]]; }
if ! want deb; then
	say SKIP all "SBX_VM_SYSTEMD_CASES='$SBX_VM_SYSTEMD_CASES' does not name deb"
	exit 0
fi

if [ "${SBX_VM_INIT:-}" != systemd ] || [ ! -d /run/systemd/system ]; then
	say SKIP all "systemd is not PID 1 here (tests/vm/run.sh boots it with vmtest.sh -i systemd)"
	exit 0
fi
debs=()
for p in $PKGS; do
	d=$(ls "$OUT"/deb/${p}_*.deb 2>/dev/null | head -1)
	[ -n "$d" ] || { say SKIP all "no $OUT/deb/${p}_*.deb (make deb; make vmtest builds them)"; exit 0; }
	debs+=("$d")
done
if ! grep -qw overlay /proc/filesystems; then
	say SKIP all "the guest kernel has no overlayfs (tests/vm/vmtest.sh loads the module when the kernel ships it)"
	exit 0
fi
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed'; then
		say SKIP all "the host's root has the package $p installed"
		exit 0
	fi
done

# ---- a writable layer over the read-only root ----------------------------------------

# overlay DIR: DIR becomes an overlay of itself (lower) and a tmpfs directory
overlay()
{
	local d=$1 n=${1//\//_}
	mkdir -p "$OVL/$n/up" "$OVL/$n/work" || return 1
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$OVL/$n/up,workdir=$OVL/$n/work" "$d" || return 1
	mounted+=("$d")
}
mkdir -p "$OVL" && mount -t tmpfs -o mode=0700 tmpfs "$OVL" && mounted+=("$OVL")
why=
for d in /usr /etc /var/lib /var/cache; do
	overlay "$d" || { why="overlay over $d failed"; break; }
done
if [ -n "$why" ]; then
	say FAIL overlay "$why: $(dmesg 2>/dev/null | grep -i overlay | tail -2 | tr '\n' ' ')"
	exit 1
fi
# man-db's trigger would rebuild the whole index under TCG: off, as its
# documented switch does (only in the overlay)
rm -f /var/lib/man-db/auto-update
# the host's root may be a container image whose policy-rc.d forbids every
# maintainer script to start a service (exit 101); this guest is a machine
# with systemd as PID 1, where postinst is to start sbxd.socket
rm -f /usr/sbin/policy-rc.d
say PASS overlay

# ---- install -----------------------------------------------------------------------------

for d in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$d" | tar -t; done |
	sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$' | sort -u >"$WORK/files"
installed=1
# (a policy file a `make install` once left in the host's /etc, seen through
# the overlay, would otherwise stop dpkg at its conffile question)
if ! dpkg --force-confnew -i "${debs[@]}" </dev/null >"$WORK/install.log" 2>&1; then
	say FAIL install "dpkg -i: $(grep -iE "error|fail|warn|denied|cannot" "$WORK/install.log" | head -12 | tr '\n' ' ') ... $(tail -5 "$WORK/install.log" | tr '\n' ' ')"
	exit 1
fi
for p in $PKGS; do dpkg -L "$p"; done | sort -u >"$WORK/dpkg-L"
en=$(systemctl is-enabled sbxd.socket 2>&1)
act=$(systemctl is-active sbxd.socket 2>&1)
sact=$(systemctl is-active sbxd.service 2>&1)
if [ "$en" != enabled ] || [ "$act" != active ]; then
	say FAIL install "after dpkg -i sbxd.socket is '$en' and '$act', not enabled and active: $(systemctl status sbxd.socket 2>&1 | tail -3 | tr '\n' ' ')"
elif [ "$sact" = active ]; then
	say FAIL install "sbxd.service runs before any call (the socket starts it)"
else
	say PASS install
fi

# ---- sbx run through the socket-activated sbxd ----------------------------------------------

out=$(env -u SBX_INSTANCE -u SBX_SOCKET -u SBX_LOG_DIR -u SBX_DIRECT /usr/bin/sbx run \
	--profile ccos.demo.loopback -- sh -c 'echo via-sbxd; exit 5' 2>"$WORK/run.err" </dev/null)
rc=$?
mpid=$(systemctl show -P MainPID sbxd.service 2>/dev/null)
exe=$(readlink "/proc/$mpid/exe" 2>/dev/null)
if [ $rc != 5 ] || [ "$out" != via-sbxd ]; then
	say FAIL run_via_socket "sbx run exited $rc (expected 5), stdout '$out': $(tail -c 300 "$WORK/run.err") $(journalctl -u sbxd.service -n 5 --no-pager 2>&1 | tr '\n' ' ')"
elif ! systemctl status sbxd.service >"$WORK/status" 2>&1; then
	say FAIL run_via_socket "systemctl status sbxd: $(head -5 "$WORK/status" | tr '\n' ' ')"
elif [ "$exe" != /usr/sbin/sbxd ]; then
	say FAIL run_via_socket "sbxd.service's main process (pid $mpid) runs '$exe', not /usr/sbin/sbxd"
else
	say PASS run_via_socket
fi

# ---- purge ---------------------------------------------------------------------------------

if ! dpkg --purge $PKGS >"$WORK/purge.log" 2>&1; then
	say FAIL purge "dpkg --purge: $(tail -5 "$WORK/purge.log" | tr '\n' ' ')"
	exit 1
fi
installed=0
for _ in $(seq 50); do
	[ ! -d /sys/fs/cgroup/sbx.slice/sbxd.service ] && [ ! -d /sys/fs/cgroup/sbx.slice/sbx-sbx.scope ] && break
	sleep 0.2
done
left=()
while read -r f; do
	[ -d "$f" ] && continue
	{ [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
done <"$WORK/dpkg-L"
for f in /var/lib/sbx /var/log/sbx /run/sbx /etc/sbx /sys/fs/bpf/sbx \
	/sys/fs/cgroup/sbx.slice/sbxd.service /sys/fs/cgroup/sbx.slice/sbx-sbx.scope \
	/etc/systemd/system/sockets.target.wants/sbxd.socket; do
	{ [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
done
units=$(systemctl list-units --all --no-legend 'sbxd*' 2>/dev/null | grep -v 'not-found' | tr -s ' ' | head -3)
if [ ${#left[@]} -gt 0 ]; then
	say FAIL purge "left after dpkg --purge: ${left[*]:0:8}"
elif pgrep -x sbxd >/dev/null; then
	say FAIL purge "sbxd still runs: $(pgrep -ax sbxd)"
elif [ -n "$units" ]; then
	say FAIL purge "systemd still has $units"
else
	say PASS purge
fi

exit $failed
