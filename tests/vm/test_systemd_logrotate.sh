#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The logrotate snippet (docs/logrotate/sbx) on a host where systemd is PID 1
# (the guest that `tests/vm/vmtest.sh -i systemd` boots; tests/vm/run.sh
# selects this file for that boot): sbxd runs under its units, the real
# logrotate renames audit.jsonl to a date name, and the snippet's postrotate
# takes its systemd branch (systemctl reload sbxd.service: SIGHUP): sbxd
# re-reads its policy and lets go of the renamed file at once. (The branch
# without systemd is tests/integration/test_audit_rotation.sh's.)
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
SBXD=${OUTPUT:-$PWD/build}/sbxd
INST="vmlr$$"
SD_D=/run/systemd/system
SD_RUN=/run/sbxd-vmlr
WORK=$(mktemp -d /tmp/vmlr.XXXXXX)
failed=0

say() { echo "$1 systemd_logrotate.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

finish()
{
	systemctl stop sbxd.service sbxd.socket >/dev/null 2>&1
	systemctl reset-failed sbxd.service sbxd.socket >/dev/null 2>&1
	SBX_INSTANCE=$INST "$SBX" unload >/dev/null 2>&1
	rm -rf "$SD_D/sbxd.service" "$SD_D/sbxd.socket" "$SD_D/sbx.slice" "$SD_D/sbxd.service.d" \
		"$SD_D/sbxd.socket.d" "$SD_RUN" "/run/$INST" "$WORK"
	systemctl daemon-reload >/dev/null 2>&1
}

if [ "${SBX_VM_INIT:-}" != systemd ] || [ ! -d /run/systemd/system ]; then
	say SKIP all "systemd is not PID 1 here (tests/vm/run.sh boots it with vmtest.sh -i systemd)"
	exit 0
fi
command -v logrotate >/dev/null || { say SKIP all "no logrotate (Debian package logrotate)"; exit 0; }
[ -x "$SBXD" ] || { say FAIL all "$SBXD is not built"; exit 1; }
trap finish EXIT

# sbxd from the shipped units, with drop-ins for this guest as in
# test_systemd.sh (no sysinit.target, state in /run, stderr into a file)
mkdir -p "$SD_D/sbxd.service.d" "$SD_D/sbxd.socket.d" "$WORK/pd" "$SD_RUN/log"
for f in sbxd.service sbxd.socket sbx.slice; do
	sed -e "s|@SBINDIR@|${SBXD%/*}|g" "$SBX_SRCDIR/docs/systemd/$f" >"$SD_D/$f"
done
printf '[Unit]\nDefaultDependencies=no\n' >"$SD_D/sbxd.socket.d/vmtest.conf"
cat >"$SD_D/sbxd.service.d/vmtest.conf" <<EOF
[Unit]
DefaultDependencies=no
[Service]
StateDirectory=
ExecStart=
ExecStart=$SBXD --state-dir $SD_RUN/state --policy-dir $WORK/pd --audit-dir $SD_RUN/log
Environment=SBX_INSTANCE=$INST
StandardOutput=append:$SD_RUN/sbxd.log
StandardError=append:$SD_RUN/sbxd.log
EOF
systemctl daemon-reload
if ! systemctl start sbxd.service; then
	say FAIL start "systemctl start sbxd.service: $(tail -c 400 "$SD_RUN/sbxd.log" 2>&1 | tr '\n' ' ')"
	exit 1
fi
# a refused call: an api.denied line, so that the log is not empty
# (notifempty) and sbxd holds it open for writing
runuser -u nobody -- "$SBX" reload >/dev/null 2>&1
[ -s "$SD_RUN/log/audit.jsonl" ] || { say FAIL start "no api.denied line in $SD_RUN/log/audit.jsonl"; exit 1; }

sed -e "s|/var/log/sbx/|$SD_RUN/log/|" "$SBX_SRCDIR/docs/logrotate/sbx" >"$WORK/logrotate.conf"
if ! logrotate -f -s "$WORK/state" "$WORK/logrotate.conf" >"$WORK/lr.out" 2>&1; then
	say FAIL rotate "logrotate: $(tr '\n' ' ' <"$WORK/lr.out")"
	exit 1
fi
n=$(ls "$SD_RUN/log" | grep -cE '^audit\.jsonl-[0-9]+-[0-9]+$')
if [ "$n" = 1 ] && grep -q '"api.denied"' "$SD_RUN/log"/audit.jsonl-*; then
	say PASS rotate
else
	say FAIL rotate "files: $(ls "$SD_RUN/log" | tr '\n' ' ')"
fi

for _ in $(seq 100); do
	grep -q "policy reloaded" "$SD_RUN/sbxd.log" && break
	sleep 0.1
done
pid=$(systemctl show -P MainPID sbxd.service)
w=0
for fd in /proc/"$pid"/fd/*; do
	case "$(readlink "$fd")" in *audit.jsonl-*) ;; *) continue ;; esac
	fl=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/${fd##*/}")
	[ $((8#$fl & 3)) -ne 0 ] && w=$((w + 1))
done
if ! grep -q "policy reloaded" "$SD_RUN/sbxd.log"; then
	say FAIL sighup "sbxd did not get SIGHUP from postrotate: $(tail -c 300 "$SD_RUN/sbxd.log" | tr '\n' ' ')"
elif [ "$w" != 0 ]; then
	say FAIL sighup "sbxd (pid $pid) still writes to the renamed file"
else
	say PASS sighup
fi
# sbxd writes on into a new audit.jsonl
runuser -u nobody -- "$SBX" reload >/dev/null 2>&1
if grep -q '"api.denied"' "$SD_RUN/log/audit.jsonl" 2>/dev/null; then
	say PASS new_file
else
	say FAIL new_file "no line in a new $SD_RUN/log/audit.jsonl: $(ls -la "$SD_RUN/log" | tr '\n' ' ')"
fi
exit $failed
