# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests; sourced by every test_*.sh.
#
# Each test file gets its own sbx instance (pins /sys/fs/bpf/<instance>, cgroup
# root <cgroup2><own cgroup>/<instance>, run dir /run/<instance>) and its own
# temporary directory, and cleans up only what it created: background
# processes by pid, its instance (sbx unload), its files.
#
# A case is a shell function run in a subshell by run_case; it ends with
#   fail "why"    -> FAIL name: why
#   skip "why"    -> SKIP name: why
#   (returning)   -> PASS name, unless the sandbox left something behind.
# Environment from tests/run-integration.sh: SBX (the binary), NETTOOL,
# SBX_TEST_SKIP (a reason to skip every case), SBX_TEST_FILTER (a case-name
# substring to run only matching cases).

SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
NETTOOL=${NETTOOL:-${OUTPUT:-$PWD/build}/tests/integration/nettool}
T_FILE=$(basename "$0" .sh)
T_FILE=${T_FILE#test_}
unset SBX_CGROUP_ROOT SBX_POLICY SBX_ENV
export SBX_INSTANCE="sbxtest-$$-$T_FILE"
SBX_INSTANCE=${SBX_INSTANCE:0:48}
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbxtest.$T_FILE.XXXXXX")
# host-provider workloads run as nobody by default: they write their marks here
chmod 1777 "$T_TMP"
export SBX_LOG_DIR="$T_TMP/log"
# sbx run without --policy must not read the host's /etc/sbx/policy.d
export SBX_POLICY_DIR="$T_TMP/policy.d"
T_PIDS=""		# background processes this file started
T_FAILED=0
T_WHY="$T_TMP/why"

_cleanup()
{
	local p out
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ -z "$SBX_TEST_SKIP" ] && [ -x "$SBX" ]; then
		if ! out=$("$SBX" unload 2>&1); then
			# said as a failed case (the runner counts it), then what is
			# left of this file's instance goes by hand
			echo "FAIL $T_FILE.teardown: sbx unload failed: $(tail -c 300 <<<"$out" | tr '\n' ' ')"
			_reap_leftovers
			rmdir "$(cgroup_root)" $(v1_instance_dirs) 2>/dev/null
			rm -rf "$PIN_DIR"
		fi
		# whatever sbx unload left of /run/<instance> is ours too
		[ -e "$PIN_DIR" ] || rm -rf "$RUN_DIR"
		# and the v1 cgroup directories of this instance that a failed
		# case left (empty ones only, depth first)
		for p in $(v1_instance_dirs); do
			find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	fi
	# host files of a file's fs cases (outside /tmp: private in most views)
	[ -n "${V_TMP:-}" ] && rm -rf "$V_TMP"
	rm -rf "$T_TMP"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

fail()
{
	printf '%s\n' "$*" >"$T_WHY"
	exit 1
}

skip()
{
	printf '%s\n' "$*" >"$T_WHY"
	exit 77
}

# bg CMD...: start CMD in the background of the test file (not of a case
# subshell) so that _cleanup can kill it by pid. Sets BG_PID.
bg()
{
	"$@" &
	BG_PID=$!
	T_PIDS="$T_PIDS $BG_PID"
	T_CASE_PIDS="$T_CASE_PIDS $BG_PID"
}

# Inside a case (a subshell): stop what the case started in the background
# and undo its host changes (T_CASE_RESTORE: shell commands).
_case_cleanup()
{
	local p out
	for p in $T_CASE_PIDS; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "$T_CASE_RESTORE" ] && eval "$T_CASE_RESTORE"
}

# start_listener VAR HOST [tcp|udp]: a nettool listener on an ephemeral port;
# sets VAR to the port once the socket is ready.
start_listener()
{
	local var=$1 host=$2 proto=${3:-tcp} out="$T_TMP/listen.$1" i
	bg "$NETTOOL" listen "$host" 0 "$proto" >"$out" 2>&1
	for i in $(seq 100); do
		if grep -q '^port ' "$out" 2>/dev/null; then
			printf -v "$var" '%s' "$(awk '/^port /{print $2}' "$out")"
			return 0
		fi
		sleep 0.02
	done
	echo "listener on $host ($proto) did not start: $(cat "$out")" >&2
	return 1
}

# kill_bg PID: stop one background process this file started.
kill_bg()
{
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	T_PIDS=$(printf '%s\n' $T_PIDS | grep -vx "$1" | tr '\n' ' ')
}

# ---- locations of the instance -------------------------------------------

cgroup2_mount()
{
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# The instance's cgroup root, as sbx computes it (cgroup2 mount + own cgroup).
cgroup_root()
{
	local self
	self=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[ "$self" = / ] && self=
	echo "$(cgroup2_mount)$self/$SBX_INSTANCE"
}

# v1_instance_dirs: the instance's directory in every v1 hierarchy, as sbx
# makes it (<mount><own v1 cgroup>/<instance>, a mount root stripped), one a
# line; nothing on a pure cgroup2 host.
v1_instance_dirs()
{
	local mnt root opts c self
	# (no process substitution: the VM guest has no /dev/fd)
	while read -r _ _ _ root mnt _; do
		[ -n "$mnt" ] || continue
		read -r opts
		for c in ${opts//,/ }; do
			self=$(awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup | head -1)
			[ -n "$self" ] && break
		done
		[ -n "$self" ] || continue
		[ "$root" = / ] || self=${self#"$root"}
		[ "$self" = / ] && self=
		echo "$mnt$self/$SBX_INSTANCE"
	done <<<"$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup") { print; print $(i + 3) } }' /proc/self/mountinfo)"
}

# controller_missing CTRL...: prints why this machine has no CTRL controller
# (neither in cgroup2 nor as a v1 hierarchy this process is in); nothing
# when every CTRL is there.
controller_missing()
{
	local c
	for c in "$@"; do
		grep -qw "$c" "$(cgroup2_mount)/cgroup.controllers" 2>/dev/null && continue
		awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) f = 1 } END { exit !f }' \
			/proc/self/cgroup && continue
		echo "no $c controller here (not in $(cgroup2_mount)/cgroup.controllers, no v1 $c hierarchy)"
		return 0
	done
}

# unenforceable NAME CTRL...: when run NAME was refused with "cannot be
# enforced", the case SKIPs naming the missing controller if the machine
# lacks one, and FAILs if it has them all (then sbx is what failed).
unenforceable()
{
	local name=$1 why
	shift
	[ "$RC" = 125 ] && grep -q 'cannot be enforced' "$T_TMP/$name.err" || return 0
	why=$(controller_missing "$@")
	[ -n "$why" ] && skip "$why"
	fail "$name: sbx refused a limit as unenforceable although the $* controller(s) exist: $(tr '\n' ' ' <"$T_TMP/$name.err" | head -c 400)"
}

PIN_DIR=/sys/fs/bpf/$SBX_INSTANCE
RUN_DIR=/run/$SBX_INSTANCE

# leftovers: prints what a finished sandbox left behind (nothing when clean).
leftovers()
{
	local root d n
	root=$(cgroup_root)
	if [ -d "$root" ]; then
		for d in "$root"/*/; do
			[ -d "$d" ] && echo "sandbox cgroup $d"
		done
	fi
	for root in $(v1_instance_dirs); do
		for d in "$root"/*/; do
			[ -d "$d" ] && echo "v1 sandbox cgroup $d"
		done
	done
	if [ -d "$RUN_DIR/slots" ]; then
		for d in "$RUN_DIR"/slots/*; do
			[ -e "$d" ] && echo "slot registry file $d"
		done
	fi
	if [ -e "$PIN_DIR/sbx_config" ]; then
		n=$("$SBX" ps --json 2>/dev/null | jq '.sandboxes | length' 2>/dev/null)
		[ "$n" = 0 ] || echo "sbx ps lists ${n:-?} sandboxes"
	fi
}

# ---- running sandboxes -----------------------------------------------------

# write_policy FILE PROFILE [EXTRA-PROFILE-KEYS] -- NETWORK-TABLE-LINES
# A host-provider profile (the only provider that runs here without
# namespaces) with fs mode full, so that only the network policy applies.
write_policy()
{
	local file=$1 prof=$2 extra=$3 net=$4
	cat >"$file" <<EOF
version = 1
[profile.$prof]
provider = "host"
min_isolation = "none"
$extra
[profile.$prof.network]
$net
[profile.$prof.fs]
mode = "full"
EOF
}

# sbx_run NAME [SBX-RUN-OPTIONS]... -- CMD...: runs sbx with --result and
# --audit into $T_TMP/NAME.result / NAME.audit, stdout to NAME.out, stderr to
# NAME.err; sets RC.
sbx_run()
{
	local name=$1
	shift
	rm -f "$T_TMP/$name".{result,audit,out,err}
	"$SBX" run --result "$T_TMP/$name.result" --audit "$T_TMP/$name.audit" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
}

# held_start NAME [--direct] [SBX-RUN-OPTIONS]... -- CMD...: an sbx run in the
# background whose workload prints "ready", then waits for a line on its
# stdin before it runs CMD: a FIFO the case holds open (held_go NAME sends the
# line). Returns once "ready" is out. Output as sbx_run's (NAME.out, .err;
# NAME.result and NAME.audit without --direct). Sets PID: sbx itself with
# --direct (to be signalled), else the background shell of sbx_run.
held_start()
{
	local name=$1 direct= i
	shift
	[ "$1" = --direct ] && { direct=1; shift; }
	mkfifo "$T_TMP/$name.in"
	eval "exec {held_$name}<>\"\$T_TMP/\$name.in\""
	local -a args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	# CMD runs as "$@" of a shell that first says ready and reads its line
	set -- sh -c 'echo ready; read -r x; exec "$@"' sh "$@"
	# (a background command's stdin is /dev/null unless it redirects it)
	if [ -n "$direct" ]; then
		bg sh -c 'f=$1 o=$2 e=$3; shift 3; exec "$@" <"$f" >"$o" 2>"$e"' sh \
			"$T_TMP/$name.in" "$T_TMP/$name.out" "$T_TMP/$name.err" "$SBX" run "${args[@]}" -- "$@"
	else
		bg _with_stdin "$T_TMP/$name.in" sbx_run "$name" "${args[@]}" -- "$@"
	fi
	PID=$BG_PID
	wait_for "$T_TMP/$name.out" ready || fail "$name did not start: $(cat "$T_TMP/$name.err")"
}

_with_stdin()
{
	local f=$1
	shift
	"$@" <"$f"
}

held_go()
{
	local fd="held_$1"
	echo go >&"${!fd}"
}

# sbx_run_within SECS NAME [SBX-RUN-OPTIONS]... -- CMD...: sbx_run under an
# overall time limit, for cases whose point is that sbx ends by itself (a
# timeout, a workload that leaves children behind): a run that does not is
# SIGKILLed at SECS (RC 137, no result file) instead of hanging the file.
# SECS is a generous bound, not a measurement.
sbx_run_within()
{
	local secs=$1 name=$2
	shift 2
	rm -f "$T_TMP/$name".{result,audit,out,err}
	timeout -s KILL "$secs" "$SBX" run --result "$T_TMP/$name.result" --audit "$T_TMP/$name.audit" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
	[ "$RC" = 137 ] && [ ! -s "$T_TMP/$name.result" ] && fail "$name: sbx run did not end within $secs s"
	return 0
}

# probe_script LABEL NETTOOL-ARGS...;... : builds a workload script that runs
# one nettool command per line and prints "LABEL RESULT" lines.
# Usage: sbx_run x -P f -- sh -c "$(probes 'a connect 127.0.0.1 80' 'b raw')"
probes()
{
	local p
	for p in "$@"; do
		set -- $p
		local label=$1
		shift
		printf 'printf "%%s " %s; %s %s; ' "$label" "$NETTOOL" "$*"
	done
	printf 'true\n'
}

# expect NAME LABEL RESULT: the probe LABEL of run NAME printed RESULT as its
# first word (ok, EPERM, ...).
expect()
{
	local name=$1 label=$2 want=$3 got
	got=$(awk -v l="$label" '$1 == l { print $2; exit }' "$T_TMP/$name.out")
	[ "$got" = "$want" ] || fail "$label: expected $want, got '${got:-nothing}' ($(grep "^$label " "$T_TMP/$name.out" | head -1); sbx rc=$RC; $(tail -c 300 "$T_TMP/$name.err"))"
}

# expect_rc NAME WANT: sbx's exit code.
expect_rc()
{
	[ "$RC" = "$2" ] || fail "$1: sbx exited $RC, expected $2 ($(tail -c 400 "$T_TMP/$1.err" | tr '\n' ' '))"
}

# jr NAME FILTER: jq on the result of run NAME.
jr()
{
	jq -r "$2" "$T_TMP/$1.result" 2>/dev/null
}

# ja NAME FILTER: jq -s over the audit lines of run NAME.
ja()
{
	jq -rs "$2" "$T_TMP/$1.audit" 2>/dev/null
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (30 s at most).
wait_for()
{
	local i
	for i in $(seq 600); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# eq WHAT GOT WANT
eq()
{
	[ "$2" = "$3" ] || fail "$1: expected $3, got '${2}'"
}

# ---- cases -------------------------------------------------------------------

# run_case NAME FUNCTION: runs FUNCTION in a subshell and prints the verdict.
run_case()
{
	local name="$T_FILE.$1" fn=$2 rc left
	if [ -n "$SBX_TEST_FILTER" ] && [[ "$name" != *"$SBX_TEST_FILTER"* ]]; then
		return 0
	fi
	if [ -n "$SBX_TEST_SKIP" ]; then
		echo "SKIP $name: $SBX_TEST_SKIP"
		return 0
	fi
	if [ -n "$T_SETUP_FAILED" ]; then
		echo "FAIL $name: setup failed: $T_SETUP_FAILED"
		T_FAILED=1
		return 0
	fi
	: >"$T_WHY"
	(
		T_CASE_PIDS=""
		T_CASE_RESTORE=""
		trap _case_cleanup EXIT
		"$fn"
	) >"$T_TMP/case.log" 2>&1
	rc=$?
	left=$(leftovers)
	if [ $rc = 0 ] && [ -n "$left" ]; then
		rc=1
		echo "left behind: $(echo $left)" >"$T_WHY"
	fi
	case $rc in
	0) echo "PASS $name" ;;
	77) echo "SKIP $name: $(cat "$T_WHY")" ;;
	*)
		T_FAILED=1
		if [ -s "$T_WHY" ]; then
			echo "FAIL $name: $(head -c 1500 "$T_WHY" | tr '\n' ' ')"
		else
			echo "FAIL $name: exited $rc: $(tail -c 600 "$T_TMP/case.log" | tr '\n' ' ')"
		fi
		if [ -n "$SBX_TEST_VERBOSE" ]; then sed 's/^/    | /' "$T_TMP/case.log"; fi
		;;
	esac
	# a failed case must not leave sandboxes for the next one
	[ -n "$left" ] && _reap_leftovers
	return 0
}

_reap_leftovers()
{
	local root d
	root=$(cgroup_root)
	if [ ! -d "$root" ]; then
		_reap_v1
		return 0
	fi
	for d in "$root"/*/; do
		[ -d "$d" ] || continue
		[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
	done
	sleep 0.1
	# depth first: sub-cgroups a workload made go before their parents
	find "$root" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
	_reap_v1
	rm -f "$RUN_DIR"/slots/* 2>/dev/null
}

_reap_v1()
{
	local d
	for d in $(v1_instance_dirs); do
		[ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
	done
}

# setup FUNCTION: runs the file's setup (listeners...) unless skipping; a
# failure turns every case into FAIL with the reason.
setup()
{
	[ -n "$SBX_TEST_SKIP" ] && return 0
	if ! "$1" >"$T_TMP/setup.log" 2>&1; then
		T_SETUP_FAILED="$(tail -c 300 "$T_TMP/setup.log" | tr '\n' ' ')"
	fi
}

# finish: the last case of every file: unload the instance and check that
# nothing of it is left (pins, cgroup root, sandboxes); exits with the file's
# verdict.
case_unload_leaves_nothing()
{
	local out root
	out=$("$SBX" unload 2>&1) || fail "sbx unload failed: $out"
	[ -e "$PIN_DIR" ] && fail "pin dir $PIN_DIR still exists: $(ls "$PIN_DIR" | tr '\n' ' ')"
	root=$(cgroup_root)
	[ -e "$root" ] && fail "cgroup root $root still exists"
	# docs/cli.md: unload removes /run/INSTANCE with everything sbx wrote
	[ -e "$RUN_DIR" ] && fail "run dir $RUN_DIR still exists: $(ls -A "$RUN_DIR" | tr '\n' ' ')"
	for root in $(v1_instance_dirs); do
		[ -e "$root" ] && fail "v1 cgroup $root still exists: $(ls -d "$root"/*/ 2>/dev/null | tr '\n' ' ')"
	done
	return 0
}

finish()
{
	run_case unload_leaves_nothing case_unload_leaves_nothing
	exit $T_FAILED
}

# make_order_tree DIR: DIR/order with a directory to deny, a sub-directory
# and a program in each, for the fs ordering cases of every provider; sets O.
make_order_tree()
{
	O=$1/order
	rm -rf "$O"
	mkdir -p "$O/secret" "$O/sub"
	echo data-secret >"$O/secret/f"
	echo data-sub >"$O/sub/f"
	printf '#!/bin/sh\necho ran\n' >"$O/prog"
	cp "$O/prog" "$O/sub/prog"
	chmod -R a+rX "$O"
	chmod 0755 "$O/prog" "$O/sub/prog"
}

# git_http_server ADDR: a bare repository ($T_TMP/srv/repo.git: a.txt and
# sub/b.txt on branch main) served over HTTP (git's dumb protocol, by
# python3 -m http.server) on ADDR; its port goes to $T_TMP/http.port.
# Returns 0 without doing anything when git or python3 is missing (the
# cases that need it skip on the missing port file).
git_http_server()
{
	command -v git >/dev/null && command -v python3 >/dev/null || return 0
	mkdir -p "$T_TMP/srv" "$T_TMP/work" "$T_TMP/out" && chmod 1777 "$T_TMP/out" || return 1
	git init -q --bare "$T_TMP/srv/repo.git" &&
		git -C "$T_TMP/work" init -q &&
		echo hello >"$T_TMP/work/a.txt" && mkdir "$T_TMP/work/sub" && echo x >"$T_TMP/work/sub/b.txt" &&
		git -C "$T_TMP/work" add . &&
		git -C "$T_TMP/work" -c user.email=t@t -c user.name=t commit -qm init &&
		git -C "$T_TMP/work" push -q "$T_TMP/srv/repo.git" HEAD:refs/heads/main &&
		git --git-dir="$T_TMP/srv/repo.git" symbolic-ref HEAD refs/heads/main &&
		git --git-dir="$T_TMP/srv/repo.git" update-server-info || return 1
	chmod -R a+rX "$T_TMP/srv"
	bg python3 -u -m http.server --bind "$1" 0 --directory "$T_TMP/srv" >"$T_TMP/http.out" 2>&1
	wait_for "$T_TMP/http.out" "port [0-9]" || return 1
	sed -n 's/.* port \([0-9]*\) .*/\1/p' "$T_TMP/http.out" | head -1 >"$T_TMP/http.port"
}

# dns_attack_policy FILE NETWORK-LINES [PROFILE-LINES]: the host-provider
# profile t of the DNS attack tests (tests/security/test_dns_*attack.sh),
# resolving through the test's upstream ($UP:$UPPORT), pins without a TTL
# floor and with a 30 s grace
dns_attack_policy()
{
	cat >"$1" <<EOF
version = 1
[profile.t]
provider = "host"
min_isolation = "none"
audit = "all"
${3:-}
[profile.t.network]
$2
[profile.t.network.dns]
upstream = ["$UP:$UPPORT"]
ttl_floor = "0s"
grace = "30s"
[profile.t.fs]
mode = "full"
EOF
}
