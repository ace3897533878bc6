#!/bin/bash
# SPDX-License-Identifier: MIT
# sbxd's Prometheus metrics (docs/monitoring.md): the HTTP endpoint of
# metrics_listen scraped with curl and the Metrics method read with
# `sbx metrics`, both checked by `promtool check metrics`; the values a user
# sees (running gauge, started and failed counters, the start latency
# histogram, a sandbox's denied connect and file denial, its memory and the
# audit counters), the series gone after Remove, a non-admin caller seeing its own sandboxes only, 404 and 405, and clear
# errors for bad metrics_listen values. docs/monitoring/sbx-alerts.yml
# passes `promtool check rules`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
UM=sbxmu1 UO=sbxmu2
CREATED_USERS=""
PORT=""

_metrics_cleanup()
{
	local u
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
	_cleanup
}
trap _metrics_cleanup EXIT

mk_user()
{
	getent passwd "$1" >/dev/null && return 0
	useradd -M -d / -s /usr/sbin/nologin "$1" && CREATED_USERS="$CREATED_USERS $1"
}

# A loopback port nothing listens on (the kernel picks it, then it is freed).
free_port()
{
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

metrics_setup()
{
	command -v curl >/dev/null || { echo "no curl"; return 1; }
	command -v useradd >/dev/null || { echo "no useradd"; return 1; }
	mk_user $UM && mk_user $UO || return 1
	cat >"$DPOL/m.toml" <<EOF
version = 1
[profile.net]
provider = "host"
min_isolation = "none"
allow_users = ["$UM", "$UO"]
timeout = "120s"
[profile.net.network]
mode = "allow"
allow = ["192.0.2.1:80/tcp"]
[profile.net.fs]
mode = "full"
EOF
	# outside /tmp, which the process provider's view replaces by a tmpfs
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.metrics.XXXXXX") && chmod 0755 "$V_TMP" || return 1
	mkdir -p "$V_TMP/wo" && echo secret >"$V_TMP/wo/f" && chmod 0777 "$V_TMP/wo" && chmod 0666 "$V_TMP/wo/f"
	cat >"$DPOL/fs.toml" <<EOF
version = 1
[profile.fsd]
provider = "process"
min_isolation = "process"
timeout = "120s"
[profile.fsd.network]
mode = "none"
[profile.fsd.fs]
mode = "none"
rules = [{ path = "/usr/", access = "rx" }, { path = "$V_TMP/wo/", access = "w" }]
exec = ["/usr/"]
EOF
	PORT=$(free_port)
	echo "$PORT" >"$T_TMP/port"
	sbxd_start --metrics-listen "127.0.0.1:$PORT"
}

port() { cat "$T_TMP/port"; }
scrape() { curl -sS --max-time 10 "http://127.0.0.1:$(port)/metrics"; }

# value FILE SERIES-WITH-LABELS: the sample's value ("" when absent)
value()
{
	awk -v s="$2" 'index($0, s " ") == 1 { print $NF; exit }' "$1"
}

need_promtool()
{
	command -v promtool >/dev/null || skip "promtool is missing (Debian package prometheus)"
}

# promtool_ok FILE: `promtool check metrics` finds no problem in FILE
promtool_ok()
{
	local out
	out=$(promtool check metrics <"$1" 2>&1) || fail "promtool check metrics on $1: $out"
	[ -z "$out" ] || fail "promtool check metrics on $1 complains: $out"
}

# one denied connect to the loopback (not in the allow list), then it waits
start_denier()
{
	sx start --name "$1" --profile net -- sh -c "$NETTOOL connect 127.0.0.1 9 >/dev/null; exec sleep 100"
	eq "start $1" "$RC" 0
	wait_state "$1" running || fail "$1 is not running"
}

# until the monitor published its counters and the BPF counter shows the connect
wait_denied()
{
	local i
	for i in $(seq 100); do
		scrape >"$T_TMP/w.prom" 2>/dev/null
		[ "$(value "$T_TMP/w.prom" "sbx_sandbox_connects_denied_total{sandbox=\"$1\",profile=\"net\",provider=\"host\"}")" = 1 ] &&
			[ "$(value "$T_TMP/w.prom" "sbx_sandbox_network_denials_total{sandbox=\"$1\",profile=\"net\",provider=\"host\"}")" = 1 ] &&
			return 0
		sleep 0.1
	done
	fail "no denied connect of $1 in the metrics: $(grep "$1" "$T_TMP/w.prom" | head -20)"
}

case_http_and_api_give_valid_metrics()
{
	local l id
	need_promtool
	start_denier web
	wait_denied web
	scrape >"$T_TMP/http.prom" || fail "curl failed"
	promtool_ok "$T_TMP/http.prom"
	sx metrics
	eq "sbx metrics rc" "$RC" 0
	cp "$T_TMP/sx.out" "$T_TMP/api.prom"
	promtool_ok "$T_TMP/api.prom"
	l='{sandbox="web",profile="net",provider="host"}'
	for f in http api; do
		eq "$f: running gauge" "$(value "$T_TMP/$f.prom" sbx_sandboxes_running)" 1
		eq "$f: web running" "$(value "$T_TMP/$f.prom" "sbx_sandbox_running$l")" 1
		eq "$f: connects denied" "$(value "$T_TMP/$f.prom" "sbx_sandbox_connects_denied_total$l")" 1
		eq "$f: connects allowed" "$(value "$T_TMP/$f.prom" "sbx_sandbox_connects_allowed_total$l")" 0
		eq "$f: started" "$(value "$T_TMP/$f.prom" sbx_sandboxes_started_total)" 1
		eq "$f: start latency observations" \
			"$(value "$T_TMP/$f.prom" sbx_sandbox_start_duration_seconds_count)" 1
		eq "$f: +Inf bucket = count" \
			"$(value "$T_TMP/$f.prom" 'sbx_sandbox_start_duration_seconds_bucket{le="+Inf"}')" 1
		[ "$(value "$T_TMP/$f.prom" "sbx_sandbox_memory_bytes$l")" -gt 0 ] 2>/dev/null ||
			fail "$f: memory of web: '$(value "$T_TMP/$f.prom" "sbx_sandbox_memory_bytes$l")'"
		# the denied connect is an audit event the monitor read and wrote
		[ "$(value "$T_TMP/$f.prom" "sbx_sandbox_audit_events_written_total$l")" -ge 2 ] 2>/dev/null ||
			fail "$f: audit events written: $(grep audit_events "$T_TMP/$f.prom")"
		eq "$f: ring drops" "$(value "$T_TMP/$f.prom" "sbx_sandbox_audit_ring_drops_total$l")" 0
		eq "$f: consumer drops" "$(value "$T_TMP/$f.prom" "sbx_sandbox_audit_consumer_drops_total$l")" 0
	done
	# sbx stats reads the same monitor counters and BPF counters
	id=$(SBX_SOCKET=$SOCK "$SBX" status --json web | jq -r .id)
	"$SBX" stats --json "$id" >"$T_TMP/st.json" || fail "sbx stats $id"
	eq "sbx stats: network denials" "$(jq -r .network_denials "$T_TMP/st.json")" 1
	eq "sbx stats: connects denied" "$(jq -r .connect_denied "$T_TMP/st.json")" 1
	eq "sbx stats: events read = metrics" "$(jq -r .events_read "$T_TMP/st.json")" \
		"$(value "$T_TMP/http.prom" "sbx_sandbox_audit_events_read_total$l")"
	"$SBX" ps --json | jq -e --arg id "$id" '.sandboxes[] | select(.id == $id) | .network_denials == 1' >/dev/null ||
		fail "sbx ps --json: $("$SBX" ps --json)"
	sx --json metrics
	# the same series as a moment ago; values such as CPU seconds and memory
	# move between two reads, so they are compared above, one by one
	eq "sbx metrics --json has the text" "$(jq -r .text "$T_TMP/sx.out" | sed 's/ [^ ]*$//')" \
		"$(sed 's/ [^ ]*$//' "$T_TMP/api.prom")"
	eq "sbx metrics --json: connects denied" \
		"$(jq -r .text "$T_TMP/sx.out" | awk -v k="sbx_sandbox_connects_denied_total$l" '$1 == k { print $2 }')" 1
	sx rm --force web
}

# A read the fs rules refuse (write-only directory): one file denial.
case_file_denial_counted()
{
	local i l='{sandbox="reader",profile="fsd",provider="process"}'
	sx start --name reader --profile fsd -- sh -c "cat $V_TMP/wo/f; exec sleep 100"
	eq "start reader" "$RC" 0
	wait_state reader running || fail "reader is not running: $(sx status reader; out)"
	for i in $(seq 100); do
		scrape >"$T_TMP/fd.prom"
		[ "$(value "$T_TMP/fd.prom" "sbx_sandbox_file_denials_total$l")" = 1 ] && break
		sleep 0.1
	done
	eq "file denials of reader" "$(value "$T_TMP/fd.prom" "sbx_sandbox_file_denials_total$l")" 1
	eq "exec denials of reader" "$(value "$T_TMP/fd.prom" "sbx_sandbox_exec_denials_total$l")" 0
	eq "connects denied of reader" "$(value "$T_TMP/fd.prom" "sbx_sandbox_connects_denied_total$l")" 0
	sx rm --force reader
}

case_http_content_type_head_404_405()
{
	local h
	h=$(curl -sS -o /dev/null -D - "http://127.0.0.1:$(port)/metrics" | tr -d '\r' | grep -i '^content-type:')
	eq "content type" "$h" "Content-Type: text/plain; version=0.0.4; charset=utf-8"
	eq "GET /metrics" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)/metrics")" 200
	eq "HEAD /metrics" "$(curl -s -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)/metrics")" 200
	eq "HEAD has no body" "$(curl -s -I "http://127.0.0.1:$(port)/metrics" | tr -d '\r' | sed '1,/^$/d' | wc -c)" 0
	eq "GET /" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)/")" 404
	eq "GET /metricsx" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)/metricsx")" 404
	eq "POST /metrics" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$(port)/metrics")" 405
	eq "DELETE /metrics" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$(port)/metrics")" 405
	h=$(curl -sS -o /dev/null -D - -X PUT "http://127.0.0.1:$(port)/metrics" | tr -d '\r' | grep -i '^allow:')
	eq "405 says what is allowed" "$h" "Allow: GET, HEAD"
}

# A client that connects and says nothing does not stall sbxd: the API and
# the endpoint go on answering while it holds its connection, and sbxd
# closes it once it was idle for the timeout (MHD's timeout, run from
# sbxd's loop by a timerfd).
case_idle_client_does_not_stall()
{
	exec 7<>"/dev/tcp/127.0.0.1/$(port)" || fail "cannot connect"
	printf 'GET /metr' >&7	# half a request line, never finished
	sx ls
	eq "sbx ls while a client hangs" "$RC" 0
	eq "scrape while a client hangs" "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port)/metrics")" 200
	# and sbxd closes it after its idle timeout (10 s; 30 s allowed here)
	timeout 30 cat <&7 >/dev/null
	eq "the idle connection was closed by sbxd (124: it was not)" "$?" 0
	exec 7>&-
}

case_series_go_with_remove()
{
	sx start --name gone --profile net -- sleep 100
	eq "start gone" "$RC" 0
	wait_state gone running || fail "gone is not running"
	scrape >"$T_TMP/a.prom"
	grep -q 'sandbox="gone"' "$T_TMP/a.prom" || fail "no series of gone while it runs"
	sx stop gone
	eq "stop gone" "$RC" 0
	scrape >"$T_TMP/b.prom"
	eq "stopped: running 0" "$(value "$T_TMP/b.prom" 'sbx_sandbox_running{sandbox="gone",profile="net",provider="host"}')" 0
	eq "stopped: no usage series" "$(grep -c 'sbx_sandbox_memory_bytes{sandbox="gone"' "$T_TMP/b.prom")" 0
	sx rm gone
	eq "rm gone" "$RC" 0
	scrape >"$T_TMP/c.prom"
	eq "series of gone after rm" "$(grep -c 'sandbox="gone"' "$T_TMP/c.prom")" 0
	sx metrics
	eq "api series of gone after rm" "$(grep -c 'sandbox="gone"' "$T_TMP/sx.out")" 0
}

# A failed start (the command does not exist: sbx exits 127) counts as failed.
case_failed_start_counted()
{
	local before after
	scrape >"$T_TMP/f0.prom"
	before=$(value "$T_TMP/f0.prom" sbx_sandboxes_failed_total)
	sx start --name broken --profile net -- /nonexistent/command
	wait_state broken exited || fail "broken did not exit: $(out) $(err)"
	scrape >"$T_TMP/f1.prom"
	after=$(value "$T_TMP/f1.prom" sbx_sandboxes_failed_total)
	eq "failed counter" "$after" "$((before + 1))"
	sx rm broken
}

case_non_admin_sees_only_its_own()
{
	local l
	as $UM start --name mine --profile net -- sh -c "$NETTOOL connect 127.0.0.1 9 >/dev/null; exec sleep 100"
	eq "$UM start mine" "$RC" 0
	as $UO start --name theirs --profile net -- sleep 100
	eq "$UO start theirs" "$RC" 0
	wait_state mine running && wait_state theirs running || fail "not running"
	wait_denied mine
	as $UM metrics
	eq "$UM sbx metrics rc" "$RC" 0
	cp "$T_TMP/sx.out" "$T_TMP/um.prom"
	grep -q 'sandbox="mine"' "$T_TMP/um.prom" || fail "$UM does not see its own sandbox: $(head -c 600 "$T_TMP/um.prom")"
	eq "$UM sees theirs" "$(grep -c 'theirs' "$T_TMP/um.prom")" 0
	l='{sandbox="mine",profile="net",provider="host"}'
	eq "$UM: its denied connect" "$(value "$T_TMP/um.prom" "sbx_sandbox_connects_denied_total$l")" 1
	eq "$UM: daemon-wide running count" "$(value "$T_TMP/um.prom" sbx_sandboxes_running)" 2
	command -v promtool >/dev/null && promtool_ok "$T_TMP/um.prom"
	# root (and the HTTP endpoint) see both
	sx metrics
	grep -q 'sandbox="theirs"' "$T_TMP/sx.out" || fail "root does not see theirs"
	sx rm --force mine
	sx rm --force theirs
}

case_bad_metrics_listen_clear_errors()
{
	local v out
	for v in "localhost:9477" "127.0.0.1" "127.0.0.1:0" "127.0.0.1:70000" "127.0.0.1:http" \
		"::1:9477" "[::1]9477" "[nothere]:9477" "300.1.1.1:80"; do
		out=$("$SBXD" --check-config --socket "$T_TMP/x.sock" --state-dir "$T_TMP/xs" \
			--policy-dir "$DPOL" --metrics-listen "$v" 2>&1)
		eq "rc of --metrics-listen $v" "$?" 2
		[[ "$out" == *"--metrics-listen: metrics_listen: '"*"'"* ]] || fail "error for $v: $out"
	done
	# in the file: FILE:LINE:COL and the same message
	printf 'metrics_listen = "127.0.0.1:99999"\n' >"$T_TMP/bad.toml"
	out=$("$SBXD" --check-config -c "$T_TMP/bad.toml" --policy-dir "$DPOL" 2>&1)
	eq "rc of a bad file value" "$?" 1
	[[ "$out" == *"bad.toml:1:1: metrics_listen: '127.0.0.1:99999': the port must be a number from 1 to 65535"* ]] ||
		fail "file error: $out"
	printf 'metrics_listen = 9477\n' >"$T_TMP/bad2.toml"
	out=$("$SBXD" --check-config -c "$T_TMP/bad2.toml" --policy-dir "$DPOL" 2>&1)
	[[ "$out" == *"metrics_listen must be a string"* ]] || fail "file type error: $out"
	# IPv6 in brackets is accepted
	out=$("$SBXD" --check-config --policy-dir "$DPOL" --metrics-listen "[::1]:9477" 2>&1)
	eq "[::1]:9477 accepted ($out)" "$?" 0
}

# The port sbxd's own endpoint holds: a second daemon cannot take it, and
# says so before it touches its socket.
case_port_in_use_clear_error()
{
	local out
	mkdir -p "$T_TMP/s2"
	out=$(timeout 20 "$SBXD" --state-dir "$T_TMP/s2" --socket "$T_TMP/s2.sock" --policy-dir "$DPOL" \
		--audit-dir "$T_TMP/s2" --metrics-listen "127.0.0.1:$(port)" 2>&1)
	eq "rc of the second sbxd" "$?" 1
	[[ "$out" == *"metrics_listen 127.0.0.1:$(port): the port is in use"* ]] || fail "error: $out"
	[ -e "$T_TMP/s2.sock" ] && fail "the second sbxd left its socket"
	return 0
}

case_alert_rules_pass_promtool()
{
	local out
	need_promtool
	out=$(promtool check rules "$REPO/docs/monitoring/sbx-alerts.yml" 2>&1) ||
		fail "promtool check rules: $out"
	[[ "$out" == *"SUCCESS"* ]] || fail "promtool check rules: $out"
	# every series an alert names is one sbxd serves (per sandbox: while one runs)
	sx start --name ruled --profile net -- sleep 100
	eq "start ruled" "$RC" 0
	wait_state ruled running || fail "ruled is not running"
	scrape >"$T_TMP/r.prom"
	sx rm --force ruled
	for s in $(grep -o 'sbx_[a-z_]*' "$REPO/docs/monitoring/sbx-alerts.yml" | sort -u); do
		grep -q "^# TYPE $s " "$T_TMP/r.prom" || grep -q "^# TYPE ${s%_bucket} " "$T_TMP/r.prom" ||
			fail "the rules name $s, which sbxd does not serve"
	done
}

setup metrics_setup
run_case http_and_api_give_valid_metrics case_http_and_api_give_valid_metrics
run_case file_denial_counted case_file_denial_counted
run_case http_content_type_head_404_405 case_http_content_type_head_404_405
run_case idle_client_does_not_stall case_idle_client_does_not_stall
run_case series_go_with_remove case_series_go_with_remove
run_case failed_start_counted case_failed_start_counted
run_case non_admin_sees_only_its_own case_non_admin_sees_only_its_own
run_case bad_metrics_listen_clear_errors case_bad_metrics_listen_clear_errors
run_case port_in_use_clear_error case_port_in_use_clear_error
run_case alert_rules_pass_promtool case_alert_rules_pass_promtool
run_case sbxd_stops sbxd_stop
finish
