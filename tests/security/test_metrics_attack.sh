#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on sbxd's metrics (docs/monitoring.md): the HTTP endpoint of
# metrics_listen held by a local user, the Metrics method's reply size,
# the monitor's counters file turned into something that blocks a reader,
# and what a non-admin caller learns. Each case is an attack; those that
# worked are fixed, the others stay as regression tests.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UM=sbxma1 UO=sbxma2
CREATED_USERS=""

_ma_cleanup()
{
	local u
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
	_cleanup
}
trap _ma_cleanup EXIT

mk_user()
{
	getent passwd "$1" >/dev/null && return 0
	useradd -M -d / -s /usr/sbin/nologin "$1" && CREATED_USERS="$CREATED_USERS $1"
}

free_port()
{
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port() { cat "$T_TMP/port"; }
code() { curl -s --max-time "${2:-5}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)$1"; }

ma_setup()
{
	command -v curl >/dev/null || { echo "no curl"; return 1; }
	command -v python3 >/dev/null || { echo "no python3"; return 1; }
	command -v useradd >/dev/null || { echo "no useradd"; return 1; }
	mk_user $UM && mk_user $UO || return 1
	cat >"$DPOL/m.toml" <<EOP
version = 1
[profile.net]
provider = "host"
min_isolation = "none"
allow_users = ["$UM", "$UO"]
timeout = "300s"
[profile.net.network]
mode = "none"
[profile.net.fs]
mode = "full"
EOP
	free_port >"$T_TMP/port"
	sbxd_start --metrics-listen "127.0.0.1:$(port)"
}

# An unprivileged local user holds every connection the endpoint takes (8
# per address, from 127.0.0.1, .2 and .3, all loopback), each kept alive
# by a byte every 2 s so the idle timeout never fires: Prometheus must
# still get its scrape, after the holder's connections went stale.
case_slowloris_does_not_blind_the_scraper()
{
	local pid c
	runuser -u $UM -- python3 "$HERE/metrics_slowloris.py" "$(port)" 30 >"$T_TMP/slow.out" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	sleep 3
	grep -q '^held' "$T_TMP/slow.out" || fail "the holder did not start: $(cat "$T_TMP/slow.out")"
	c=$(code /metrics)
	sx ls
	eq "sbx ls while the endpoint is held" "$RC" 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eq "scrape while a local user holds connections ($(cat "$T_TMP/slow.out" | tr '\n' ' '))" "$c" 200
}

setup ma_setup
run_case slowloris_does_not_blind_the_scraper case_slowloris_does_not_blind_the_scraper
run_case sbxd_stops sbxd_stop
finish
