#!/bin/bash
# SPDX-License-Identifier: MIT
#
# sbx on a host where systemd is PID 1 (runs inside the guest that
# `tests/vm/vmtest.sh -i systemd` boots; tests/vm/run.sh does that boot on
# Linux 6.12 whenever this file is selected). What it shows:
#   - `sbx run` (direct mode) from a login-like session scope and from a
#     service moves into the transient delegated scope sbx-<instance>.scope
#     in sbx.slice; the sandbox's cgroup is beneath that scope; the memory
#     and pids limits are enforced there (a workload allocating past --memory
#     is OOM-killed, fork past --pids fails with EAGAIN); the scope is gone
#     after the run;
#   - a second run while the first lives joins the same scope;
#   - a scope that cannot be had (systemd unreachable over D-Bus): refused
#     under strict with the reason, a warning and a degraded entry under
#     best-effort;
#   - audit events in the journal (sbx run --audit-journal, sbxd's
#     audit_journal): with systemd-journald started,
#     `journalctl SBX_EVENT=net.connect SBX_ACTION=deny` shows exactly the
#     denied connect of a run (an allowed one beside it), with the SBX_*
#     fields and seq of its JSON line; the same for a run through sbxd
#     --audit-journal, and sbxd's own api.denied;
#   - sbxd under its units (docs/systemd/): started by socket activation, the
#     daemon alone in sbxd.service, its sandboxes in the delegated scope of
#     its instance with their limits enforced, `sbx run` through it from a
#     service, `systemctl reload` re-reads the policy, `systemctl restart`
#     leaves a sandbox running and the new daemon adopts it, `systemctl stop`
#     after the sandboxes are removed leaves nothing.
#
# "Login-like session": a login's processes sit in session-N.scope, a scope
# that systemd-logind asks PID 1 for (StartTransientUnit, no delegation) in
# user-UID.slice. `systemd-run --scope --slice=user-0.slice` makes the same
# kind of unit for its command, without the PAM/logind machinery this guest
# does not run; for sbx the two are the same situation: its own cgroup is a
# non-delegated scope that systemd owns.
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
WORKLOAD=${VM_TOOLS:-${OUTPUT:-$PWD/build}/tests/vm}/sd_work
INST="vmsd$$"
export SBX_INSTANCE=$INST
SCOPE=sbx-$INST.scope
SCOPE_CG=/sys/fs/cgroup/sbx.slice/$SCOPE
WORK=$(mktemp -d /tmp/vmsd.XXXXXX)
chmod 755 "$WORK"
export SBX_LOG_DIR="$WORK/log"
failed=0

finish()
{
	# a file stopped by its time limit leaves no sbxd unit for the next file
	# to talk to (test_systemd_deb.sh's sbxd listens on the same socket)
	[ -n "${SD_D:-}" ] && [ -e "$SD_D/sbxd.service" ] && sbxd_uninstall
	systemctl stop "$SCOPE" >/dev/null 2>&1
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$WORK" "/run/$INST"
}
trap finish EXIT

say() { echo "$1 systemd.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

if [ "${SBX_VM_INIT:-}" != systemd ] || [ ! -d /run/systemd/system ]; then
	say SKIP all "systemd is not PID 1 here (tests/vm/run.sh boots it with vmtest.sh -i systemd)"
	exit 0
fi

# ---- the guest -------------------------------------------------------------------

why=
[ "$(cat /proc/1/comm)" = systemd ] || why="PID 1 is $(cat /proc/1/comm)"
[ -z "$why" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] &&
	why="/sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup), not a pure cgroup2 layout"
[ -z "$why" ] && ! busctl --system status org.freedesktop.DBus >/dev/null 2>&1 &&
	why="no D-Bus system bus (dbus.service did not start)"
if [ -n "$why" ]; then say FAIL guest "$why"; else say PASS guest; fi
for t in "$SBX" "$WORKLOAD"; do
	[ -x "$t" ] || { say FAIL guest "$t is not built (make; tests/vm/run.sh builds sd_work)"; exit 1; }
done

cat >"$WORK/p.toml" <<EOF
version = 1
[profile.lim]
provider = "host"
min_isolation = "none"
timeout = "120s"
[profile.lim.network]
mode = "none"
[profile.lim.fs]
mode = "full"
[profile.lax]
provider = "host"
min_isolation = "none"
enforcement = "best-effort"
timeout = "120s"
[profile.lax.network]
mode = "none"
[profile.lax.fs]
mode = "full"
EOF

# jget NAME FILTER: a field of run NAME's result
jget() { jq -r "$2" "$WORK/$1.result" 2>/dev/null; }

# scope_gone: waits (bounded: systemd stops an empty scope asynchronously)
# until neither the unit nor its cgroup is left.
scope_gone()
{
	local _
	for _ in $(seq 100); do
		if [ ! -d "$SCOPE_CG" ] && ! systemctl is-active --quiet "$SCOPE"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# in_session NAME ARGS...: `sbx run ARGS` in a fresh scope of user-0.slice
# (see the head of this file); RC, $WORK/NAME.{out,err,result}.
in_session()
{
	local name=$1
	shift
	systemd-run --quiet --scope --unit="sbxt-$name-$$.scope" --slice=user-0.slice -- \
		"$SBX" run -P "$WORK/p.toml" --result "$WORK/$name.result" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	RC=$?
}

# in_service NAME ARGS...: `sbx run ARGS` as the main process of a transient
# service (systemd-run --wait --pipe: its exit status and stdio come back).
# DefaultDependencies=no: this guest starts no sysinit.target (TCG time).
in_service()
{
	local name=$1
	shift
	systemd-run --quiet --wait --pipe --unit="sbxt-$name-$$.service" -p Type=exec \
		-p DefaultDependencies=no \
		-E SBX_INSTANCE="$INST" -E SBX_LOG_DIR="$SBX_LOG_DIR" -- \
		"$SBX" run -P "$WORK/p.toml" --result "$WORK/$name.result" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	RC=$?
}

errs() { tail -c 400 "$WORK/$1.err" | tr '\n' ' '; }

# want GROUP: whether the cases of GROUP (placement, joined, no_scope, sbxd)
# run: all of them, unless SBX_VM_SYSTEMD_CASES names some (a developer's
# shortcut for one boot of a part: the variable reaches the guest as every
# SBX_* does)
want() { [ -z "${SBX_VM_SYSTEMD_CASES:-}" ] || [[ " $SBX_VM_SYSTEMD_CASES " == *" $1 "* ]]; }

# ---- placement -------------------------------------------------------------------

# the sandbox's cgroup is <scope>/<instance>/<id>, the caller's scope is not it
case_placement()
{	# case_placement HOW
	local how=$1 name=$1-place cg
	"in_$how" "$name" --profile lim -- "$WORKLOAD" cgroup
	cg=$(head -1 "$WORK/$name.out")
	if [ $RC != 0 ]; then
		say FAIL "$how.placement" "sbx exited $RC: $(errs "$name")"
	elif [[ $cg != "/sbx.slice/$SCOPE/$INST/"* ]]; then
		say FAIL "$how.placement" "the workload's cgroup is '$cg', not beneath /sbx.slice/$SCOPE/$INST"
	else
		say PASS "$how.placement"
	fi
	if scope_gone; then
		say PASS "$how.scope_gone"
	else
		say FAIL "$how.scope_gone" "$SCOPE is still $(systemctl is-active "$SCOPE") after the run; $(ls "$SCOPE_CG" 2>&1 | head -3 | tr '\n' ' ')"
	fi
}

# 256 MiB touched under --memory 64M: the kernel's OOM killer ends it
case_memory()
{	# case_memory HOW
	local how=$1 name=$1-mem
	"in_$how" "$name" --profile lim --memory 64M -- "$WORKLOAD" mem $((256 << 20))
	if [ $RC != 137 ]; then
		say FAIL "$how.memory_enforced" "sbx exited $RC, expected 137 (SIGKILL): $(cat "$WORK/$name.out") $(errs "$name")"
	elif grep -q touched "$WORK/$name.out"; then
		say FAIL "$how.memory_enforced" "the workload touched all 256 MiB under a 64 MiB limit"
	elif [ "$(jget "$name" .oom_killed)" != true ]; then
		say FAIL "$how.memory_enforced" "result: oom_killed is $(jget "$name" .oom_killed)"
	else
		say PASS "$how.memory_enforced"
	fi
}

# fork without end under --pids 16: fork fails with EAGAIN
case_pids()
{	# case_pids HOW
	local how=$1 name=$1-pids
	"in_$how" "$name" --profile lim --pids 16 -- "$WORKLOAD" fork 1000
	if [ $RC != 3 ] || ! grep -q '^forked [0-9]* errno EAGAIN' "$WORK/$name.out"; then
		say FAIL "$how.pids_enforced" "sbx exited $RC, workload said '$(cat "$WORK/$name.out")': $(errs "$name")"
	elif [ "$(awk '{ print $2 }' "$WORK/$name.out")" -gt 15 ]; then
		say FAIL "$how.pids_enforced" "$(cat "$WORK/$name.out") under --pids 16"
	else
		say PASS "$how.pids_enforced"
	fi
}

want placement && for how in session service; do
	case_placement $how
	case_memory $how
	case_pids $how
done

# ---- a second run joins the scope of the first -----------------------------------

case_joined()
{
	local pid a b
	mkfifo -m 666 "$WORK/hold"
	in_session_bg() { in_session first --profile lim -- sh -c "'$WORKLOAD' cgroup; read x <'$WORK/hold'"; }
	in_session_bg &
	pid=$!
	for _ in $(seq 100); do [ -s "$WORK/first.out" ] && break; sleep 0.2; done
	in_session second --profile lim -- "$WORKLOAD" cgroup
	timeout 20 sh -c "echo go >'$WORK/hold'"
	wait $pid
	a=$(head -1 "$WORK/first.out") b=$(head -1 "$WORK/second.out")
	if [ $RC != 0 ]; then
		say FAIL second_run_joins_scope "the second run exited $RC: $(errs second)"
	elif [[ $a != "/sbx.slice/$SCOPE/$INST/"* ]] || [[ $b != "/sbx.slice/$SCOPE/$INST/"* ]] || [ "$a" = "$b" ]; then
		say FAIL second_run_joins_scope "cgroups '$a' and '$b', expected two sandboxes beneath /sbx.slice/$SCOPE/$INST"
	else
		say PASS second_run_joins_scope
	fi
	scope_gone || say FAIL second_run_joins_scope "$SCOPE is left after both runs"
}
want joined && case_joined

# ---- no scope to be had ------------------------------------------------------------

# unreachable_session NAME ARGS...: as in_session, but in a mount namespace
# of its own where systemd's private socket and the system bus socket are
# /dev/null (connect: ECONNREFUSED): sbx cannot reach systemd, as on a host
# whose bus is down. Nothing outside that namespace changes.
unreachable_session()
{
	local name=$1
	shift
	systemd-run --quiet --scope --unit="sbxt-$name-$$.scope" --slice=user-0.slice -- \
		unshare -m --propagation private -- sh -c '
			for s in /run/systemd/private /run/dbus/system_bus_socket; do
				mount --bind /dev/null "$s" || exit 99
			done
			exec "$@"' sh \
		"$SBX" run -P "$WORK/p.toml" --result "$WORK/$name.result" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	RC=$?
}

case_no_scope()
{
	mkdir -m 1777 "$WORK/w"	# the workload runs as nobody
	unreachable_session strict --profile lim -- touch "$WORK/w/ran-strict"
	if [ $RC = 99 ]; then
		say FAIL strict_refuses_without_scope "cannot hide the bus sockets in a mount namespace"
	elif [ $RC = 0 ] || [ -e "$WORK/w/ran-strict" ]; then
		say FAIL strict_refuses_without_scope "the workload ran (sbx exited $RC): $(errs strict)"
	elif ! grep -q "systemd is PID 1 but no delegated scope could be had (connect to systemd over D-Bus: Connection refused): cgroup limits cannot be enabled in a cgroup systemd owns" "$WORK/strict.err"; then
		say FAIL strict_refuses_without_scope "sbx exited $RC: $(errs strict)"
	else
		say PASS strict_refuses_without_scope
	fi
	unreachable_session lax --profile lax -- touch "$WORK/w/ran-lax"
	if [ $RC != 0 ] || [ ! -e "$WORK/w/ran-lax" ]; then
		say FAIL best_effort_degrades_without_scope "sbx exited $RC: $(errs lax)"
	elif ! grep -q "sbx: warning: systemd is PID 1 but no delegated scope" "$WORK/lax.err"; then
		say FAIL best_effort_degrades_without_scope "no warning: $(errs lax)"
	elif ! jq -e '.degraded | map(select(startswith("cgroup placement: systemd is PID 1"))) | length == 1' \
		"$WORK/lax.result" >/dev/null 2>&1; then
		say FAIL best_effort_degrades_without_scope "result's degraded list: $(jq -c .degraded "$WORK/lax.result" 2>&1)"
	else
		say PASS best_effort_degrades_without_scope
	fi
	"$SBX" unload >/dev/null 2>&1	# its root was in the session's scope
}
want no_scope && case_no_scope


# ---- sbxd under its unit -------------------------------------------------------------

# sbxd from the shipped units (docs/systemd/, @SBINDIR@ -> $OUTPUT), with
# drop-ins for this guest (no sysinit.target, read-only /var/lib: state in
# /run; no journald: the daemon's stderr into a file). Its instance is
# ${INST}d, its sandboxes' cgroups beneath it are the ones asserted.
SD_D=/run/systemd/system
SD_RUN=/run/sbxd-vmtest
DINST=${INST}d

# sbxd_call METHOD [PARAMS-JSON]: one varlink call on the unit's socket; the
# reply on stdout
sbxd_call()
{
	timeout 120 python3 - "$1" "${2:-{\}}" <<-'PY' 2>&1
	import json, socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.settimeout(110)
	s.connect("/run/sbx/sbxd.sock")
	s.sendall(json.dumps({"method": sys.argv[1], "parameters": json.loads(sys.argv[2])}).encode() + b"\0")
	buf = b""
	while not buf.endswith(b"\0"):
	    d = s.recv(4096)
	    if not d:
	        break
	    buf += d
	print(buf.rstrip(b"\0").decode())
	PY
}

dlog() { tail -c 600 "$SD_RUN/sbxd.log" 2>/dev/null | tr '\n' ' '; }
dstatus() { systemctl show -p ActiveState -p Result -p ExecMainStatus sbxd.service 2>&1 | tr '\n' ' '; }

# st NAME FILTER: a field of `sbx status --json NAME`
st() { "$SBX" status --json "$1" 2>/dev/null | jq -r "$2" 2>/dev/null; }

# wait_exited NAME: until sbxd says the sandbox exited (bounded)
wait_exited()
{
	local _
	for _ in $(seq 300); do
		[ "$(st "$1" .state)" = exited ] && return 0
		sleep 0.2
	done
	return 1
}

sbxd_install()
{	# sbxd_install SBXD [SBXD-FLAG]...
	local sbxd=$1 f
	shift
	for f in sbxd.service sbxd.socket sbx.slice; do
		sed -e "s|@SBINDIR@|${sbxd%/*}|g" "$SBX_SRCDIR/docs/systemd/$f" >"$SD_D/$f"
	done
	mkdir -p "$SD_D/sbxd.service.d" "$SD_D/sbxd.socket.d" "$WORK/pd" "$SD_RUN"
	sed -e 's/^timeout = "120s"/timeout = "900s"/' "$WORK/p.toml" >"$WORK/pd/p.toml"
	cat >"$SD_D/sbxd.socket.d/vmtest.conf" <<-EOF2
	[Unit]
	DefaultDependencies=no
	EOF2
	cat >"$SD_D/sbxd.service.d/vmtest.conf" <<-EOF2
	[Unit]
	DefaultDependencies=no
	[Service]
	StateDirectory=
	ExecStart=
	ExecStart=$sbxd --state-dir $SD_RUN/state --policy-dir $WORK/pd --audit-dir $SD_RUN/log $*
	Environment=SBX_INSTANCE=$DINST
	StandardOutput=append:$SD_RUN/sbxd.log
	StandardError=append:$SD_RUN/sbxd.log
	EOF2
	systemctl daemon-reload
}

sbxd_uninstall()
{
	"$SBX" rm -f hold oom forks added >/dev/null 2>&1
	systemctl stop sbxd.service sbxd.socket >/dev/null 2>&1
	systemctl reset-failed sbxd.service sbxd.socket >/dev/null 2>&1
	SBX_INSTANCE=$DINST "$SBX" unload >/dev/null 2>&1
	rm -rf "$SD_D/sbxd.service" "$SD_D/sbxd.socket" "$SD_D/sbx.slice" "$SD_D/sbxd.service.d" \
		"$SD_D/sbxd.socket.d" "$SD_RUN" "/run/$DINST"
	systemctl daemon-reload
}

# relative to the cgroup2 mount: the daemon's unit cgroup, which holds sbxd
# alone; the delegated scope its monitors move into, as direct runs of its
# instance do, and its sandboxes' root in that scope (architecture.md,
# "cgroups under systemd": a unit cgroup holding the sandboxes could not take
# the main process of a restart)
UNIT_CG=/sbx.slice/sbxd.service
DSCOPE=/sbx.slice/sbx-$DINST.scope
DROOT=$DSCOPE/$DINST

# lim_set CG FILE VALUE: the limit is VALUE on CG or on its parent (sbx may
# put the limits on a cgroup above the workload's own)
lim_set()
{
	[ "$(cat "/sys/fs/cgroup$1/$2" 2>/dev/null)" = "$3" ] ||
		[ "$(cat "/sys/fs/cgroup${1%/*}/$2" 2>/dev/null)" = "$3" ]
}

case_sbxd_unit()
{
	local sbxd=${OUTPUT:-$PWD/build}/sbxd out cg pid pid2 mpid mon rc n

	if [ ! -x "$sbxd" ]; then
		say SKIP sbxd.socket_activation "$sbxd is not built"
		return
	fi
	sbxd_install "$sbxd"

	# -- socket activation: the first call starts the service
	if ! systemctl start sbxd.socket; then
		say FAIL sbxd.socket_activation "systemctl start sbxd.socket: $(systemctl status sbxd.socket 2>&1 | tail -3 | tr '\n' ' ')"
		return
	fi
	systemctl is-active --quiet sbxd.service && say FAIL sbxd.socket_activation "sbxd.service was active before any call"
	out=$(sbxd_call org.varlink.service.GetInfo)
	if [[ $out != *org.sbx.Manager* ]]; then
		say FAIL sbxd.socket_activation "GetInfo through the socket: '$out'; $(dstatus) $(dlog)"
		return
	elif ! systemctl is-active --quiet sbxd.service; then
		say FAIL sbxd.socket_activation "sbxd.service is $(systemctl is-active sbxd.service) after answering"
		return
	fi
	say PASS sbxd.socket_activation

	# -- the daemon itself: in its unit's cgroup
	mpid=$(systemctl show -P MainPID sbxd.service)
	cg=$(cat "/proc/$mpid/cgroup" 2>/dev/null)
	if [ "$cg" != "0::$UNIT_CG" ]; then
		say FAIL sbxd.daemon_cgroup "sbxd (pid $mpid) runs in '$cg', not in $UNIT_CG; $(dlog)"
	else
		say PASS sbxd.daemon_cgroup
	fi

	# -- a long-running sandbox with limits: its cgroup beneath the unit's
	out=$("$SBX" start --name hold --profile lim --memory 64M --pids 32 -- \
		sh -c "'$WORKLOAD' cgroup; exec sleep 900" 2>&1)
	rc=$?
	pid=$(st hold .pid)
	for _ in $(seq 100); do
		cg=$("$SBX" logs hold 2>/dev/null | head -1)
		[ -n "$cg" ] && break
		sleep 0.2
	done
	if [ $rc != 0 ]; then
		say FAIL sbxd.placement "sbx start exited $rc: $out $(dlog)"
	elif [ "$(cat "/sys/fs/cgroup$UNIT_CG/cgroup.procs" 2>&1 | tr '\n' ' ')" != "$mpid " ] ||
	     [ -n "$(find "/sys/fs/cgroup$UNIT_CG" -mindepth 1 -type d 2>&1)" ]; then
		say FAIL sbxd.placement "the unit's cgroup holds more than sbxd ($mpid): procs $(tr '\n' ' ' <"/sys/fs/cgroup$UNIT_CG/cgroup.procs"), $(find "/sys/fs/cgroup$UNIT_CG" -mindepth 1 -type d | tr '\n' ' ')"
	elif mon=$(pgrep -o -f "$SD_RUN/state/sandboxes/hold/profile.toml") &&
	     [ "$(cat "/proc/$mon/cgroup" 2>&1)" != "0::$DSCOPE/supervisor" ]; then
		say FAIL sbxd.placement "the monitor (pid $mon) runs in '$(cat "/proc/$mon/cgroup" 2>&1)', not in $DSCOPE/supervisor"
	elif [[ $cg != "$DROOT/"* ]]; then
		say FAIL sbxd.placement "the sandbox's cgroup is '$cg', not beneath $DROOT; status: $(st hold -c .)"
	elif ! lim_set "$cg" memory.max $((64 << 20)) || ! lim_set "$cg" pids.max 32; then
		say FAIL sbxd.placement "limits of $cg: memory.max $(cat "/sys/fs/cgroup$cg/memory.max" 2>&1), pids.max $(cat "/sys/fs/cgroup$cg/pids.max" 2>&1) (and of its parent: $(cat "/sys/fs/cgroup${cg%/*}/memory.max" "/sys/fs/cgroup${cg%/*}/pids.max" 2>&1 | tr '\n' ' '))"
	else
		say PASS sbxd.placement
	fi

	# -- memory: 256 MiB touched under --memory 64M is OOM-killed
	"$SBX" start --name oom --profile lim --memory 64M -- "$WORKLOAD" mem $((256 << 20)) >/dev/null 2>&1
	if ! wait_exited oom; then
		say FAIL sbxd.memory_enforced "the sandbox did not exit: $(st oom -c .) $(dlog)"
	elif [ "$(st oom .exit_code)" != 137 ]; then
		say FAIL sbxd.memory_enforced "exit code $(st oom .exit_code), expected 137 (SIGKILL): $("$SBX" logs oom 2>&1 | tail -3 | tr '\n' ' ')"
	elif "$SBX" logs oom 2>/dev/null | grep -q touched; then
		say FAIL sbxd.memory_enforced "the workload touched all 256 MiB under a 64 MiB limit"
	else
		say PASS sbxd.memory_enforced
	fi

	# -- pids: fork past --pids 16 fails with EAGAIN
	"$SBX" start --name forks --profile lim --pids 16 -- "$WORKLOAD" fork 1000 >/dev/null 2>&1
	if ! wait_exited forks; then
		say FAIL sbxd.pids_enforced "the sandbox did not exit: $(st forks -c .) $(dlog)"
	elif [ "$(st forks .exit_code)" != 3 ] || ! "$SBX" logs forks 2>/dev/null | grep -q '^forked [0-9]* errno EAGAIN'; then
		say FAIL sbxd.pids_enforced "exit code $(st forks .exit_code), log: $("$SBX" logs forks 2>&1 | tail -3 | tr '\n' ' ')"
	elif [ "$("$SBX" logs forks | awk '/^forked/ { print $2 }')" -gt 15 ]; then
		say FAIL sbxd.pids_enforced "$("$SBX" logs forks) under --pids 16"
	else
		say PASS sbxd.pids_enforced
	fi

	# -- sbx run through the daemon, from a service: stdout and exit code
	out=$(systemd-run --quiet --wait --pipe -p DefaultDependencies=no -- \
		"$SBX" run --profile lim -- sh -c "'$WORKLOAD' cgroup; echo out-of-sbxd; exit 7" 2>"$WORK/drun.err" </dev/null)
	rc=$?
	if [ $rc != 7 ] || [[ $out != *out-of-sbxd* ]]; then
		say FAIL sbxd.run_from_service "exit $rc (expected 7), stdout '$out': $(tail -c 300 "$WORK/drun.err")"
	elif [[ $(head -1 <<<"$out") != "$DROOT/"* ]]; then
		say FAIL sbxd.run_from_service "the run's cgroup is '$(head -1 <<<"$out")', not beneath $DROOT (not through sbxd?)"
	else
		say PASS sbxd.run_from_service
	fi

	# -- systemctl reload: ExecReload's SIGHUP re-reads the policy directory
	cat >"$WORK/pd/added.toml" <<-EOF2
	version = 1
	[profile.added]
	provider = "host"
	min_isolation = "none"
	[profile.added.network]
	mode = "none"
	EOF2
	out=$(sbxd_call org.sbx.Manager.Profiles)
	if [[ $out == *'"added"'* ]]; then
		say FAIL sbxd.reload "profile 'added' is known before the reload: $out"
	elif ! systemctl reload sbxd.service; then
		say FAIL sbxd.reload "systemctl reload sbxd failed: $(dstatus)"
	else
		for _ in $(seq 100); do
			out=$(sbxd_call org.sbx.Manager.Profiles)
			[[ $out == *'"added"'* ]] && break
			sleep 0.2
		done
		if [[ $out != *'"added"'* ]]; then
			say FAIL sbxd.reload "profile 'added' is not known after the reload: $out $(dlog)"
		elif ! grep -q "policy reloaded" "$SD_RUN/sbxd.log"; then
			say FAIL sbxd.reload "sbxd did not say it reloaded: $(dlog)"
		else
			say PASS sbxd.reload
		fi
	fi

	# -- systemctl restart (KillMode=process): the sandbox lives on, adopted
	pid=$(st hold .pid)
	if [ "$(st hold .state)" != running ] || ! kill -0 "$pid" 2>/dev/null; then
		say FAIL sbxd.restart_adopts "the sandbox 'hold' is not running before the restart: $(st hold -c .)"
	elif ! systemctl restart sbxd.service; then
		say FAIL sbxd.restart_adopts "systemctl restart sbxd failed: $(dstatus) $(dlog)"
	else
		mpid=$(systemctl show -P MainPID sbxd.service)
		pid2=$(st hold .pid)
		if [ "$(st hold .state)" != running ] || [ "$pid2" != "$pid" ]; then
			say FAIL sbxd.restart_adopts "after the restart: $(st hold -c .) (pid was $pid) $(dlog)"
		elif ! kill -0 "$pid" 2>/dev/null; then
			say FAIL sbxd.restart_adopts "the workload (pid $pid) is gone"
		elif [ "$(cat "/proc/$mpid/cgroup" 2>/dev/null)" != "0::$UNIT_CG" ]; then
			say FAIL sbxd.restart_adopts "the new sbxd (pid $mpid) runs in '$(cat "/proc/$mpid/cgroup" 2>/dev/null)'"
		else
			say PASS sbxd.restart_adopts
		fi
	fi

	# -- systemctl stop after the sandboxes are removed: nothing is left
	"$SBX" rm -f hold oom forks >/dev/null 2>&1
	systemctl stop sbxd.service sbxd.socket
	for _ in $(seq 100); do
		[ ! -d "/sys/fs/cgroup$UNIT_CG" ] && [ ! -d "/sys/fs/cgroup$DSCOPE" ] && break
		sleep 0.2
	done
	n=$(ls "$SD_RUN/state/sandboxes" 2>/dev/null | wc -l)
	if [ -d "/sys/fs/cgroup$UNIT_CG" ] || [ -d "/sys/fs/cgroup$DSCOPE" ]; then
		say FAIL sbxd.stop_clean "$UNIT_CG or $DSCOPE is left: $(find "/sys/fs/cgroup$UNIT_CG" "/sys/fs/cgroup$DSCOPE" -name cgroup.procs -exec sh -c 'for f; do [ -s "$f" ] && echo "$f: $(tr "\n" " " <"$f")"; done' sh {} + | head -5 | tr '\n' ' ')"
	elif pgrep -f "state-dir $SD_RUN" >/dev/null || pgrep -f "$SD_RUN/state/" >/dev/null; then
		say FAIL sbxd.stop_clean "processes are left: $(pgrep -af "$SD_RUN" | head -3 | tr '\n' ' ')"
	elif [ "$n" != 0 ]; then
		say FAIL sbxd.stop_clean "the registry keeps $(ls "$SD_RUN/state/sandboxes" | tr '\n' ' ')"
	else
		say PASS sbxd.stop_clean
	fi
}

if want sbxd; then
	case_sbxd_unit
	sbxd_uninstall
fi

# ---- audit events in the journal ---------------------------------------------------

NETTOOL=${VM_TOOLS:-${OUTPUT:-$PWD/build}/tests/vm}/nettool

# jfield JSON FIELD: a field of a journalctl -o json entry (a value with a
# newline comes as an array of bytes)
jfield() { jq -r --arg f "$2" '.[$f] | if type == "array" then implode else . end' <<<"$1"; }

# check_denied_entry LABEL ID AUDIT-FILE: the one entry of
# SBX_EVENT=net.connect SBX_ACTION=deny of sandbox ID agrees with the JSON
# line of AUDIT-FILE
check_denied_entry()
{
	local label=$1 id=$2 audit=$3 ev line
	ev=$(journalctl --no-pager -o json SBX_EVENT=net.connect SBX_ACTION=deny SBX_SANDBOX="$id" 2>&1)
	line=$(jq -c --arg id "$id" 'select(.sandbox == $id and .event == "net.connect" and .verdict == "deny")' "$audit" 2>&1)
	if [ "$(jq -s length <<<"$ev" 2>&1)" != 1 ] || [ "$(jq -s length <<<"$line" 2>&1)" != 1 ]; then
		say FAIL "$label" "expected one denied connect of $id: journal '$ev', JSON '$line'"
	elif [ "$(jfield "$ev" SBX_SEQ)" != "$(jq -r .seq <<<"$line")" ] ||
	     [ "$(jfield "$ev" SBX_PORT)" != 9 ] || [ "$(jfield "$ev" SBX_ADDR)" != 127.0.0.1 ] ||
	     [ "$(jfield "$ev" SBX_RULE)" != default ] || [ "$(jfield "$ev" SBX_PROTO)" != tcp ] ||
	     [ "$(jfield "$ev" SBX_PROFILE)" != jn ] || [ "$(jfield "$ev" PRIORITY)" != 5 ] ||
	     [ "$(jfield "$ev" SBX_PID)" != "$(jq -r .pid <<<"$line")" ] ||
	     [ "$(jfield "$ev" SBX_CGROUP_ID)" != "$(jq -r .cgroup_id <<<"$line")" ] ||
	     [ "$(jfield "$ev" SYSLOG_IDENTIFIER)" != sbx ] ||
	     [ "$(jfield "$ev" MESSAGE)" != "sbx: $id denied connect to 127.0.0.1:9/tcp (rule default)" ]; then
		say FAIL "$label" "the entry does not match the JSON line $line: $ev"
	else
		say PASS "$label"
	fi
}

case_journal()
{
	local id out allowed n sbxd=${OUTPUT:-$PWD/build}/sbxd
	# journald is not part of this guest's boot (no sysinit.target): start it
	if ! systemctl start systemd-journald.socket systemd-journald.service ||
	   ! systemctl is-active --quiet systemd-journald.service || [ ! -S /run/systemd/journal/socket ]; then
		say FAIL journal.journald "systemd-journald does not run: $(systemctl status systemd-journald.service 2>&1 | tail -3 | tr '\n' ' ')"
		return
	fi
	say PASS journal.journald
	# allowed: 127.0.0.1:8/tcp (refused, nobody listens: the hook decided
	# first); denied by default: 127.0.0.1:9/tcp, by a command whose name
	# holds a newline and a field
	cat >"$WORK/j.toml" <<-EOF2
	version = 1
	[profile.jn]
	provider = "host"
	min_isolation = "none"
	audit = "all"
	timeout = "120s"
	[profile.jn.network]
	mode = "allow"
	allow = ["127.0.0.1:8/tcp"]
	[profile.jn.fs]
	mode = "full"
	EOF2
	ln -s "$NETTOOL" "$WORK/x"$'\n'"PRIORITY=0"
	jwork="$NETTOOL connect 127.0.0.1 8; exec '$WORK/x"$'\n'"PRIORITY=0' connect 127.0.0.1 9"

	# -- direct mode
	in_session jdirect -P "$WORK/j.toml" --profile jn --audit-journal --audit "$WORK/jdirect.audit" -- sh -c "$jwork"
	id=$(jget jdirect .sandbox)
	journalctl --sync >/dev/null 2>&1
	if [ -z "$id" ] || [ "$id" = null ]; then
		say FAIL journal.direct "sbx exited $RC without a result: $(errs jdirect)"
	elif grep -q 'audit journal' "$WORK/jdirect.err" || [ "$(jget jdirect .audit.journal.unwritten)" != 0 ] ||
	     [ "$(jget jdirect .audit.journal.sent)" != "$(jget jdirect .audit.events)" ]; then
		say FAIL journal.direct "entries lost: $(jget jdirect -c .audit) $(errs jdirect)"
	else
		# the documented filter, over the whole journal: this run's denial alone
		n=$(journalctl --no-pager -o json SBX_EVENT=net.connect SBX_ACTION=deny | jq -s length)
		[ "$n" = 1 ] || say FAIL journal.direct_filter "journalctl SBX_EVENT=net.connect SBX_ACTION=deny: $n entries, expected 1"
		[ "$n" = 1 ] && say PASS journal.direct_filter
		check_denied_entry journal.direct "$id" "$WORK/jdirect.audit"
		out=$(journalctl --no-pager -o json SBX_EVENT=net.connect SBX_ACTION=deny SBX_SANDBOX="$id")
		if [ "$(jfield "$out" SBX_COMM | od -An -c | tr -s ' ')" != "$(printf 'x\nPRIORITY=0\n' | od -An -c | tr -s ' ')" ]; then
			say FAIL journal.comm_one_value "SBX_COMM is '$(jfield "$out" SBX_COMM)': $out"
		else
			say PASS journal.comm_one_value
		fi
		allowed=$(journalctl --no-pager -o json SBX_ACTION=allow SBX_SANDBOX="$id")
		if [ "$(jq -s length <<<"$allowed")" != 1 ] || [ "$(jfield "$allowed" SBX_RULE_SOURCE)" != "$WORK/j.toml:9:10" ] ||
		   [ "$(jfield "$allowed" SBX_PORT)" != 8 ] || [ "$(jfield "$allowed" PRIORITY)" != 6 ]; then
			say FAIL journal.allowed "SBX_ACTION=allow of $id: $allowed"
		else
			say PASS journal.allowed
		fi
	fi

	# -- through sbxd --audit-journal: its monitors, and its own api.denied
	if [ ! -x "$sbxd" ]; then
		say SKIP journal.sbxd "$sbxd is not built"
		return
	fi
	sbxd_install "$sbxd" --audit-journal
	cp "$WORK/j.toml" "$WORK/pd/j.toml"
	systemctl start sbxd.socket
	out=$(systemd-run --quiet --wait --pipe -p DefaultDependencies=no -- \
		"$SBX" run --profile jn -- sh -c "$jwork" 2>&1 </dev/null)
	journalctl --sync >/dev/null 2>&1
	id=$(jq -r 'select(.event == "sandbox.start" and .profile == "jn") | .sandbox' "$SD_RUN/log/audit.jsonl" 2>/dev/null | tail -1)
	if [ -z "$id" ]; then
		say FAIL journal.sbxd "no sandbox of profile jn in $SD_RUN/log/audit.jsonl: $out $(dlog)"
	else
		check_denied_entry journal.sbxd "$id" "$SD_RUN/log/audit.jsonl"
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SBX" reload >/dev/null 2>&1
	journalctl --sync >/dev/null 2>&1
	out=$(journalctl --no-pager -o json SBX_EVENT=api.denied SBX_ACTION=deny SBX_METHOD=org.sbx.Manager.Reload)
	if [ "$(jq -s length <<<"$out")" != 1 ] || [ "$(jfield "$out" SBX_UID)" != 65534 ] ||
	   [ "$(jfield "$out" MESSAGE)" != "sbx: sbxd denied org.sbx.Manager.Reload to uid 65534: only root and admin_groups may reload the policy" ]; then
		say FAIL journal.sbxd_api_denied "api.denied of a Reload by uid 65534: '$out'; audit.jsonl: $(grep api.denied "$SD_RUN/log/audit.jsonl" | tail -1)"
	else
		say PASS journal.sbxd_api_denied
	fi
	if grep -q 'audit journal' "$SD_RUN/sbxd.log"; then
		say FAIL journal.sbxd_no_warning "$(dlog)"
	fi
}

if want journal; then
	case_journal
	sbxd_uninstall
fi

exit $failed
