# SPDX-License-Identifier: MIT
# Sourced after lib.sh by the test files that need a daemon: one private
# sbxd per file, with its own socket, state, policy and audit directories
# under the file's $T_TMP and the file's SBX_INSTANCE.
#
#   sbxd_start [SBXD OPTION...]   starts it (policy files go to $DPOL first)
#   sbxd_stop                     removes its sandboxes, then stops it
#   sx ARGS...                    sbx against it; stdout/stderr in
#                                 $T_TMP/sx.out/.err, exit status in RC
#   as USER ARGS...               the same as USER (runuser, with its groups)
#   wait_state NAME STATE         until sbx status says STATE (30 s at most)
#   wait_status NAME FILTER WANT  until jq -r FILTER on sbx status --json NAME
#                                 prints WANT (30 s at most); the last value in S

SBXD=${SBXD:-$(dirname "$SBX")/sbxd}
SOCK=$T_TMP/sbxd.sock
DPOL=$T_TMP/dpol
DSTATE=$T_TMP/dstate
DAUDIT=$T_TMP/daudit
# the daemon's pid is also kept in a file: a case (a subshell) may restart it
SBXD_PID=""
SBXD_PIDFILE=$T_TMP/sbxd.pid
mkdir -p "$DPOL" "$DSTATE" "$DAUDIT"

sbxd_stop()
{
	local n i
	[ -s "$SBXD_PIDFILE" ] && SBXD_PID=$(cat "$SBXD_PIDFILE")
	[ -n "$SBXD_PID" ] || return 0
	for n in $(SBX_SOCKET=$SOCK "$SBX" ls --json 2>/dev/null | jq -r '.sandboxes[].name' 2>/dev/null); do
		SBX_SOCKET=$SOCK timeout 30 "$SBX" rm --force "$n" >/dev/null 2>&1
	done
	kill "$SBXD_PID" 2>/dev/null
	for i in $(seq 200); do
		kill -0 "$SBXD_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$SBXD_PID" 2>/dev/null
	SBXD_PID=""
	: >"$SBXD_PIDFILE"
}

_sbxd_cleanup()
{
	sbxd_stop
	_cleanup
}
trap _sbxd_cleanup EXIT

sbxd_start()
{
	local i
	[ -x "$SBXD" ] || { echo "no sbxd at $SBXD"; return 1; }
	"$SBXD" --state-dir "$DSTATE" --socket "$SOCK" --policy-dir "$DPOL" \
		--audit-dir "$DAUDIT" --stop-timeout 2s "$@" >>"$T_TMP/sbxd.log" 2>&1 &
	SBXD_PID=$!
	echo "$SBXD_PID" >"$SBXD_PIDFILE"
	for i in $(seq 200); do
		SBX_SOCKET=$SOCK "$SBX" ls >/dev/null 2>&1 && return 0
		kill -0 "$SBXD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "sbxd did not come up: $(cat "$T_TMP/sbxd.log")"
	return 1
}

sx()
{
	SBX_SOCKET=$SOCK "$SBX" "$@" >"$T_TMP/sx.out" 2>"$T_TMP/sx.err"
	RC=$?
}

as()
{
	local u=$1
	shift
	SBX_SOCKET=$SOCK runuser -u "$u" -- "$SBX" "$@" >"$T_TMP/sx.out" 2>"$T_TMP/sx.err"
	RC=$?
}

out() { cat "$T_TMP/sx.out"; }
err() { cat "$T_TMP/sx.err"; }

wait_status()
{
	local i
	for i in $(seq 600); do
		S=$(SBX_SOCKET=$SOCK "$SBX" status --json "$1" 2>/dev/null | jq -r "$2")
		[ "$S" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

wait_state()
{
	wait_status "$1" .state "$2"
}

# ---- warm pools (test_pool.sh, tests/security/test_pool_attack.sh) ----

# pool_metric NAME PROFILE: the value of sbxd's pool series NAME for PROFILE
pool_metric()
{
	SBX_SOCKET=$SOCK "$SBX" metrics | awk -v m="$1{profile=\"$2\"}" '$1 == m { print $2 }'
}

# pool_wait_ready PROFILE N: until N entries are ready (60 s at most:
# entries are full sandbox builds on a loaded machine)
pool_wait_ready()
{
	local i
	for i in $(seq 600); do
		[ "$(pool_metric sbx_pool_ready "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "pool $1: $(pool_metric sbx_pool_ready "$1") ready, not $2 ($(tail -c 300 "$DSTATE/pool/$1.log" 2>/dev/null))"
}

# pool_entries PROFILE: the pids of its pool's monitors, sbxd's children (a
# held sandbox's init is a fork of its monitor with the same command line
# until its go); with no sbxd running, every process with that command line
pool_entries()
{
	local d
	d=$(cat "$SBXD_PIDFILE" 2>/dev/null)
	pgrep ${d:+-P "$d"} -f -- "--policy $DSTATE/pool/$1.toml" | sort
}
