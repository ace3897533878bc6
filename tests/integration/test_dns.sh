#!/bin/bash
# SPDX-License-Identifier: MIT
# Host-name policy (docs/network.md): the sandbox's own resolver, port-53
# redirection, connect-time pins, TTL and grace, wildcards, CNAME chains,
# AAAA, truncation and the TCP fallback, rebinding, per-sandbox pins, deny
# pins, and the resolver dying under a running sandbox. A real DNS server
# (dnsmasq) answers upstream.
#
# The whole file runs in a network namespace of its own (unshare -n): the
# test names resolve to documentation addresses (198.51.100.0/24,
# 2001:db8::/32, public as far as the rebinding check goes) that it puts on
# its own loopback, where its listeners and dnsmasq run; nothing touches the
# host's network.
if [ -z "${SBX_DNS_NETNS:-}" ] && [ -z "${SBX_TEST_SKIP:-}" ]; then
	if unshare -n true 2>/dev/null; then
		SBX_DNS_NETNS=1 exec unshare -n "$0" "$@"
	fi
	SBX_TEST_SKIP="cannot make a network namespace (unshare -n)"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

[ -z "$SBX_TEST_SKIP" ] && ! command -v dnsmasq >/dev/null && SBX_TEST_SKIP="no dnsmasq (make deps installs dnsmasq-base)"
[ -z "$SBX_TEST_SKIP" ] && ! command -v dig >/dev/null && SBX_TEST_SKIP="no dig (make deps installs bind9-dnsutils)"

UP=127.0.0.53		# dnsmasq, the upstream server of every profile here
UPPORT=5300
HOSTS="$T_TMP/hosts"

dns_setup()
{
	local i args=()
	ip link set lo up || return 1
	for i in $(seq 10 40); do
		ip addr add 198.51.100.$i/32 dev lo || return 1
	done
	ip addr add 203.0.113.32/32 dev lo || return 1
	ip -6 addr add 2001:db8::10/128 dev lo nodad || return 1
	ip -6 addr add 2001:db8::11/128 dev lo nodad || return 1
	printf '198.51.100.21 rot.test\n' >"$HOSTS"
	# big.test: 32 addresses, more than a 512-byte UDP answer holds
	for i in $(seq 1 32); do args+=(--host-record=big.test,203.0.113.$i); done
	bg dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port="$UPPORT" \
		--listen-address="$UP" --bind-interfaces --no-resolv --no-hosts \
		--addn-hosts="$HOSTS" --local-ttl=1 --log-queries --log-facility="$T_TMP/dnsmasq.log" \
		--pid-file="$T_TMP/dnsmasq.pid" \
		--host-record=api.test,198.51.100.10 \
		--host-record=other.test,198.51.100.11 \
		--host-record=evil.test,198.51.100.13 \
		--host-record=target.test,198.51.100.15 \
		--cname=alias.test,target.test \
		--host-record=v6.test,2001:db8::10 \
		--host-record=private.test,10.0.0.1 \
		--host-record=repo.test,198.51.100.40 \
		--address=/wild.test/198.51.100.20 \
		"${args[@]}" || return 1
	DNSMASQ_PID=$BG_PID
	for i in $(seq 100); do
		dig +short +time=1 +tries=1 -p "$UPPORT" @"$UP" api.test 2>/dev/null | grep -q 198.51.100.10 && break
		sleep 0.05
	done
	dig +short -p "$UPPORT" @"$UP" api.test | grep -q 198.51.100.10 || { echo "dnsmasq does not answer"; return 1; }
	start_listener PT 198.51.100.10 tcp || return 1	# api.test
	start_listener PO 198.51.100.11 tcp || return 1	# other.test
	start_listener PE 198.51.100.13 tcp || return 1	# evil.test
	start_listener PC 198.51.100.15 tcp || return 1	# target.test (via alias.test)
	start_listener PW 198.51.100.20 tcp || return 1	# *.wild.test
	start_listener PR1 198.51.100.21 tcp || return 1	# rot.test before
	start_listener PR2 198.51.100.22 tcp || return 1	# rot.test after
	start_listener P6 2001:db8::10 tcp || return 1	# v6.test
	start_listener PB 203.0.113.32 tcp || return 1	# the last address of big.test
	git_http_server 198.51.100.40 || return 1	# repo.test
}

# pol FILE PROVIDER NETWORK-LINES [DNS-LINES]: profile "t"
pol()
{
	cat >"$1" <<EOF
version = 1
[profile.t]
provider = "$2"
min_isolation = "none"
audit = "all"
[profile.t.network]
$3
[profile.t.network.dns]
upstream = ["$UP:$UPPORT"]
$4
[profile.t.fs]
mode = "full"
EOF
}

P=$T_TMP/p.toml

# The workload's own view of a lookup: glibc through /etc/resolv.conf, whose
# nameserver is not even reachable from this namespace: the redirection
# makes it sbx's resolver.
lookup() { printf 'getent ahosts %s | awk "NR==1{print \\"%s\\", \\$1}"; ' "$1" "$2"; }

case_allowed_name_connects_and_is_audited()
{
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "$(lookup api.test look)$(probes "c connect 198.51.100.10 $PT" "o connect 198.51.100.11 $PO")"
	expect_rc r 0
	expect r look 198.51.100.10
	expect r c ok
	expect r o EPERM
	eq "dns.query" "$(ja r '[.[] | select(.event == "dns.query" and .name == "api.test" and .verdict == "allow" and (.answers | index("198.51.100.10")))] | length > 0')" true
	eq "allowed by the name" "$(ja r '[.[] | select(.event == "net.connect" and .addr == "198.51.100.10")][0].rule')" "api.test:$PT/tcp"
	eq "denied unresolved" "$(ja r '[.[] | select(.event == "net.connect" and .verdict == "deny" and .addr == "198.51.100.11")] | length')" 1
}

case_denied_name_refused_not_forwarded()
{
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	: >"$T_TMP/dnsmasq.log"
	sbx_run r -P "$P" --profile t -- sh -c "dig +time=2 +tries=1 other.test | awk '/status:/{print \"st\", \$6}'; $(probes "c connect 198.51.100.11 $PO")"
	expect r st REFUSED,
	expect r c EPERM
	grep -q 'query.*other.test' "$T_TMP/dnsmasq.log" && fail "other.test reached the upstream server: $(grep other.test "$T_TMP/dnsmasq.log")"
	eq "dns.denied" "$(ja r '[.[] | select(.event == "dns.denied" and .name == "other.test")][0] | "\(.verdict) \(.reason) \(.rcode)"')" "deny no_allow_rule REFUSED"
}

case_nxdomain_when_configured()
{
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]" 'refuse = "nxdomain"'
	sbx_run r -P "$P" --profile t -- sh -c "dig +time=2 +tries=1 other.test | awk '/status:/{print \"st\", \$6}'"
	expect r st NXDOMAIN,
}

case_any_server_goes_to_sbx_udp_and_tcp()
{
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	: >"$T_TMP/dnsmasq.log"
	sbx_run r -P "$P" --profile t -- sh -c "echo u \$(dig +short +time=2 +tries=1 @8.8.8.8 api.test); echo t \$(dig +tcp +short +time=2 +tries=1 @8.8.8.8 api.test); echo x \$(dig +time=2 +tries=1 @192.0.2.99 -p 53 other.test | awk '/status:/{print \$6}')"
	expect r u 198.51.100.10
	expect r t 198.51.100.10
	expect r x REFUSED,
	[ "$(grep -c 'query\[A\] api.test' "$T_TMP/dnsmasq.log")" -ge 2 ] || fail "the upstream did not see both queries: $(cat "$T_TMP/dnsmasq.log")"
	eq "redirect audited" "$(ja r '[.[] | select(.event == "net.connect" and .addr == "8.8.8.8" and .port == 53 and .rule == "dns")] | length > 0')" true
}

case_ipv6_query_and_aaaa()
{
	pol "$P" host "mode = \"allow\"
allow = [\"v6.test:$P6/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "echo a \$(dig -6 +short +time=2 +tries=1 @2001:4860:4860::8888 AAAA v6.test); $(probes "c connect 2001:db8::10 $P6" "d connect 2001:db8::11 $P6")"
	expect r a 2001:db8::10
	expect r c ok
	expect r d EPERM
}

case_dot_to_unresolved_address_refused()
{
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:443/tcp\", \"api.test:853/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "$(probes "dot connect 198.51.100.30 853" "doh connect 198.51.100.30 443")"
	expect r dot EPERM
	expect r doh EPERM
}

case_wildcard_depth_not_apex()
{
	pol "$P" host "mode = \"allow\"
allow = [\"*.wild.test:$PW/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "echo one \$(dig +short +time=2 +tries=1 a.wild.test); echo three \$(dig +short +time=2 +tries=1 X.y.Z.wild.test.); echo apex \$(dig +time=2 +tries=1 wild.test | awk '/status:/{print \$6}'); echo near \$(dig +time=2 +tries=1 badwild.test | awk '/status:/{print \$6}'); $(probes "c connect 198.51.100.20 $PW")"
	expect r one 198.51.100.20
	expect r three 198.51.100.20
	expect r apex REFUSED,
	expect r near REFUSED,
	expect r c ok
}

case_cname_chain_pins_the_queried_name()
{
	pol "$P" host "mode = \"allow\"
allow = [\"alias.test:$PC/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "echo a \$(dig +short +time=2 +tries=1 alias.test | tail -1); echo t \$(dig +time=2 +tries=1 target.test | awk '/status:/{print \$6}'); $(probes "c connect 198.51.100.15 $PC")"
	expect r a 198.51.100.15
	expect r t REFUSED,
	expect r c ok
	eq rule "$(ja r '[.[] | select(.event == "net.connect" and .addr == "198.51.100.15")][0].rule')" "alias.test:$PC/tcp"
}

case_truncated_answer_tcp_fallback()
{
	pol "$P" host "mode = \"allow\"
allow = [\"big.test:$PB/tcp\"]"
	# no EDNS: the UDP answer is cut at 512 bytes (TC), dig retries over TCP
	sbx_run r -P "$P" --profile t -- sh -c "echo tc \$(dig +noedns +ignore +time=2 +tries=1 big.test | grep -c 'flags:.* tc'); echo n \$(dig +noedns +time=2 +tries=1 big.test | grep -c 'IN[[:space:]]A[[:space:]]'); $(probes "last connect 203.0.113.32 $PB")"
	expect r tc 1
	expect r n 32
	# every address of the TCP answer is pinned: the last one too
	expect r last ok
	eq "over tcp" "$(ja r '[.[] | select(.event == "dns.query" and .name == "big.test" and .proto == "tcp")][0].answers_truncated')" true
}

case_private_answer_refused_unless_allowed()
{
	pol "$P" host "mode = \"allow\"
allow = [\"private.test:80/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "echo p \$(dig +time=2 +tries=1 private.test | awk '/status:/{print \$6}')"
	expect r p REFUSED,
	eq "rebinding" "$(ja r '[.[] | select(.event == "dns.denied" and .name == "private.test")][0] | "\(.reason) \(.answers[0])"')" "rebinding 10.0.0.1"
	pol "$P" host "mode = \"allow\"
allow = [\"private.test:80/tcp\", \"10.0.0.0/8:80/tcp\"]"
	sbx_run s -P "$P" --profile t -- sh -c "echo p \$(dig +short +time=2 +tries=1 private.test)"
	expect s p 10.0.0.1
}

case_denied_name_raw_address_refused()
{
	pol "$P" host "mode = \"deny\"
deny = [\"evil.test\"]"
	sbx_run r -P "$P" --profile t -- sh -c "echo q \$(dig +time=2 +tries=1 evil.test | awk '/status:/{print \$6}'); $(probes "raw connect 198.51.100.13 $PE" "other connect 198.51.100.11 $PO")"
	expect r q REFUSED,
	expect r raw EPERM
	expect r other ok
	eq rule "$(ja r '[.[] | select(.event == "net.connect" and .addr == "198.51.100.13")][0].rule')" evil.test
}

case_two_sandboxes_own_pins()
{
	local a b
	cat >"$T_TMP/two.toml" <<EOF
version = 1
[defaults.network.dns]
upstream = ["$UP:$UPPORT"]
[profile.a]
provider = "host"
min_isolation = "none"
fs.mode = "full"
network.mode = "allow"
network.allow = ["api.test:$PT/tcp"]
[profile.b]
provider = "host"
min_isolation = "none"
fs.mode = "full"
network.mode = "allow"
network.allow = ["other.test:$PO/tcp"]
EOF
	# both ask for api.test at once; only a's lookup may open anything
	w="for i in 1 2 3 4 5; do dig +short +time=2 +tries=1 api.test >/dev/null; done; $(probes "api connect 198.51.100.10 $PT")"
	sbx_run a -P "$T_TMP/two.toml" --profile a -- sh -c "$w" &
	a=$!
	sbx_run b -P "$T_TMP/two.toml" --profile b -- sh -c "$w" &
	b=$!
	wait $a $b
	expect a api ok
	expect b api EPERM
	eq "b refused" "$(ja b '[.[] | select(.event == "dns.denied" and .name == "api.test")] | length > 0')" true
}

case_rotation_ttl_and_grace()
{
	pol "$P" host "mode = \"allow\"
allow = [\"rot.test:1-65535/tcp\"]" 'ttl_floor = "0s"
grace = "1s"'
	rm -f "$T_TMP/rotated"
	cat >"$T_TMP/rot.sh" <<EOF
echo first \$(dig +short +time=2 +tries=1 rot.test)
$(probes "c1 connect 198.51.100.21 $PR1")
# an established connection outlives its pin
exec 3<>/dev/tcp/198.51.100.21/$PR1
touch "$T_TMP/want-rotate"
while [ ! -e "$T_TMP/rotated" ]; do sleep 0.05; done
echo second \$(dig +short +time=2 +tries=1 rot.test)
$(probes "c2 connect 198.51.100.22 $PR2")
sleep 3.5
printf 'held ' ; timeout 5 head -c 4000000 /dev/zero >&3 && echo ok || echo cut
$(probes "old connect 198.51.100.21 $PR1" "new connect 198.51.100.22 $PR2")
EOF
	sbx_run r -P "$P" --profile t -- bash "$T_TMP/rot.sh" &
	local run=$!
	wait_for_file "$T_TMP/want-rotate" || { kill $run; fail "the workload did not start"; }
	printf '198.51.100.22 rot.test\n' >"$HOSTS"
	kill -HUP "$DNSMASQ_PID"
	sleep 0.2
	touch "$T_TMP/rotated"
	wait $run
	printf '198.51.100.21 rot.test\n' >"$HOSTS"
	kill -HUP "$DNSMASQ_PID"
	expect r first 198.51.100.21
	expect r c1 ok
	expect r second 198.51.100.22
	expect r c2 ok
	expect r held ok
	# TTL 1 s + grace 1 s later, the old address is no longer the name's
	expect r old EPERM
	# the new one stays pinned as long as the workload asks again; this
	# run asked once, 3.5 s ago: expired too
	expect r new EPERM
}

wait_for_file()
{
	local i
	for i in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}

case_resolver_killed_fails_closed_and_restarts()
{
	local run pid i
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	rm -f "$T_TMP/killed"
	cat >"$T_TMP/kill.sh" <<EOF
dig +short +time=2 +tries=1 api.test >/dev/null
$(probes "before connect 198.51.100.10 $PT")
touch "$T_TMP/want-kill"
while [ ! -e "$T_TMP/killed" ]; do sleep 0.05; done
$(probes "during connect 198.51.100.10 $PT")
for i in \$(seq 50); do dig +short +time=1 +tries=1 api.test | grep -q . && break; sleep 0.1; done
$(probes "after connect 198.51.100.10 $PT")
EOF
	"$SBX" run --result "$T_TMP/k.result" --audit "$T_TMP/k.audit" -P "$P" --profile t -- sh "$T_TMP/kill.sh" >"$T_TMP/k.out" 2>"$T_TMP/k.err" &
	run=$!
	wait_for_file "$T_TMP/want-kill" || { kill $run; fail "the workload did not start: $(cat "$T_TMP/k.err")"; }
	pid=$(pgrep -P "$run" -x sbx-dns)
	[ -n "$pid" ] || { kill $run; fail "no sbx-dns child of sbx run $run"; }
	kill -KILL "$pid"
	for i in $(seq 100); do grep -q '"state":"died"' "$T_TMP/k.audit" 2>/dev/null && break; sleep 0.05; done
	touch "$T_TMP/killed"
	wait $run
	RC=$?
	expect k before ok
	expect k during EPERM
	expect k after ok
	eq "died" "$(ja k '[.[] | select(.event == "dns.resolver" and .state == "died")][0] | "\(.verdict) \(.signal) \(.pins_flushed >= 1)"')" "deny 9 true"
	eq "restarted" "$(ja k '[.[] | select(.event == "dns.resolver" and .state == "restarted")] | length')" 1
	[ "$(pgrep -P "$run" -x sbx-dns)" = "" ] || fail "a resolver outlived its sandbox"
}

case_process_provider_veth()
{
	pol "$P" process "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]
namespace = \"private\""
	# the workload's own namespace reaches the documentation addresses
	# through the veth pair only if something routes them: the resolver at
	# the pair's host end is what this case checks
	sbx_run r -P "$P" --profile t -- sh -c "echo a \$(dig +short +time=2 +tries=1 @1.1.1.1 api.test); echo r \$(dig +time=2 +tries=1 other.test | awk '/status:/{print \$6}')"
	expect_rc r 0
	expect r a 198.51.100.10
	expect r r REFUSED,
}

case_process_provider_hostns()
{
	pol "$P" process "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "$(lookup api.test look)$(probes "c connect 198.51.100.10 $PT" "o connect 198.51.100.11 $PO")"
	expect_rc r 0
	expect r look 198.51.100.10
	expect r c ok
	expect r o EPERM
}

case_gvisor_provider()
{
	command -v runsc >/dev/null || skip "no runsc (make deps installs it)"
	pol "$P" gvisor "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "echo a \$(dig +short +time=3 +tries=1 @8.8.4.4 api.test); echo r \$(dig +time=3 +tries=1 other.test | awk '/status:/{print \$6}'); $(probes "c connect 198.51.100.10 $PT" "o connect 198.51.100.11 $PO")"
	expect_rc r 0
	expect r a 198.51.100.10
	expect r r REFUSED,
	expect r c ok
	expect r o EPERM
}

# Learning mode learns names, not addresses: a real workload (git clone over
# HTTP from repo.test) observed under a profile that allows nothing, its trail
# turned into a profile by sbx learn, and the same workload under that
# profile: it works, with no denial.
case_learn_names_from_a_real_workload()
{
	local port dst=$T_TMP/out/dst
	[ -s "$T_TMP/http.port" ] || skip "git or python3 missing"
	port=$(cat "$T_TMP/http.port")
	pol "$P" host 'mode = "allow"'
	sed -i 's/^mode = "full"$/mode = "read-only"/' "$P"
	sbx_run c0 -P "$P" --profile t -- git clone -q "http://repo.test:$port/repo.git" "$dst"
	[ "$RC" != 0 ] || fail "the empty allow-list let git clone run"
	rm -rf "$dst"
	sbx_run c1 --observe -P "$P" --profile t -- git clone -q "http://repo.test:$port/repo.git" "$dst"
	expect_rc c1 0
	[ -f "$dst/a.txt" ] || fail "the observed clone made no work tree: $(cat "$T_TMP/c1.err")"
	eq "would_deny lookup" "$(ja c1 '[.[] | select(.event == "dns.denied" and .verdict == "would_deny" and .name == "repo.test")] | length > 0')" true
	"$SBX" learn --audit "$T_TMP/c1.audit" --name t -o "$T_TMP/learned.toml" 2>"$T_TMP/learn.err" ||
		fail "sbx learn: $(cat "$T_TMP/learn.err")"
	grep -q "\"repo.test:$port/tcp\"" "$T_TMP/learned.toml" || fail "the name was not learnt: $(cat "$T_TMP/learned.toml")"
	grep -q '"198\.51\.100\.40' "$T_TMP/learned.toml" && fail "an address was learnt for a name: $(cat "$T_TMP/learned.toml")"
	grep -q ':53/' "$T_TMP/learned.toml" && fail "the redirected DNS server was learnt: $(cat "$T_TMP/learned.toml")"
	# this test's upstream server (a real host's resolv.conf serves)
	printf '[profile.t.network.dns]\nupstream = ["%s:%s"]\n' "$UP" "$UPPORT" >>"$T_TMP/learned.toml"
	"$SBX" policy check "$T_TMP/learned.toml" >"$T_TMP/chk" 2>&1 || fail "policy check: $(cat "$T_TMP/chk")"
	rm -rf "$dst"
	sbx_run c2 -P "$T_TMP/learned.toml" --profile t -- git clone -q "http://repo.test:$port/repo.git" "$dst"
	expect_rc c2 0
	[ -f "$dst/a.txt" ] || fail "the clone under the learnt profile made no work tree"
	eq "denials under the learnt profile" "$(ja c2 '[.[] | select(.verdict == "deny")] | length')" 0
}

# An upstream server this namespace has no route to: lookups fail with
# SERVFAIL, and the resolver keeps running (it died and was restarted until
# it gave up: found in a VM guest with no network).
case_unreachable_upstream_servfail()
{
	pol "$P" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	sed -i "s/$UP:$UPPORT/192.0.2.53/" "$P"
	sbx_run r -P "$P" --profile t -- sh -c "echo s \$(dig +time=8 +tries=1 api.test | awk '/status:/{print \$6}')"
	expect_rc r 0
	expect r s SERVFAIL,
	eq "resolver events" "$(ja r '[.[] | select(.event == "dns.resolver")] | length')" 0
	eq "upstream reason" "$(ja r '[.[] | select(.name == "api.test")][0].reason')" upstream
}

case_policy_check_agrees()
{
	pol "$P" process "mode = \"allow\"
allow = [\"*.wild.test:443\"]"
	"$SBX" policy check "$P" >"$T_TMP/c.out" 2>&1 || fail "policy check refused a wildcard under process: $(cat "$T_TMP/c.out")"
	pol "$P" microvm "mode = \"allow\"
allow = [\"*.wild.test:443\"]"
	"$SBX" policy check "$P" >"$T_TMP/c.out" 2>&1 && fail "policy check accepted a wildcard under microvm (strict)"
	grep -q "network.allow" "$T_TMP/c.out" || fail "the refusal does not name network.allow: $(cat "$T_TMP/c.out")"
}

# The shipped examples that use names and wildcards load and run (their names
# do not resolve here: that refuses lookups, not the run).
case_shipped_examples_run()
{
	local ex
	ex=$(cd "$(dirname "$0")/../../policy/examples" && pwd)
	"$SBX" policy check "$ex"/*.toml >"$T_TMP/c.out" 2>&1 || fail "policy check of the examples: $(cat "$T_TMP/c.out")"
	sbx_run h -P "$ex/http-fetch.toml" --profile ccos.network.http-fetch -- /usr/bin/curl --version
	expect_rc h 0
	sbx_run d -P "$ex/development.toml" --profile ccos.dev.workbench --provider process -- /bin/true
	expect_rc d 0
}

# Under sbxd the sandbox's monitor runs the resolver: the same answers.
case_through_sbxd()
{
	pol "$DPOL/d.toml" host "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	sed -i 's/^\[profile\.t/[profile.d/' "$DPOL/d.toml"
	sbxd_start || fail "sbxd did not start"
	sx start --name d --profile d -- sh -c "echo a \$(dig +short +time=2 +tries=1 @9.9.9.9 api.test); echo r \$(dig +time=2 +tries=1 other.test | awk '/status:/{print \$6}'); $(probes "c connect 198.51.100.10 $PT" "o connect 198.51.100.11 $PO")"
	[ "$RC" = 0 ] || fail "sbx start: $(cat "$T_TMP/sx.err")"
	wait_state d exited || fail "d did not end: $(SBX_SOCKET=$SOCK "$SBX" status d 2>&1)"
	sx logs d
	cp "$T_TMP/sx.out" "$T_TMP/l.out"
	expect l a 198.51.100.10
	expect l r REFUSED,
	expect l c ok
	expect l o EPERM
	sbxd_stop
}

setup dns_setup
run_case allowed_name_connects_and_is_audited case_allowed_name_connects_and_is_audited
run_case denied_name_refused_not_forwarded case_denied_name_refused_not_forwarded
run_case nxdomain_when_configured case_nxdomain_when_configured
run_case any_server_goes_to_sbx_udp_and_tcp case_any_server_goes_to_sbx_udp_and_tcp
run_case ipv6_query_and_aaaa case_ipv6_query_and_aaaa
run_case dot_to_unresolved_address_refused case_dot_to_unresolved_address_refused
run_case wildcard_depth_not_apex case_wildcard_depth_not_apex
run_case cname_chain_pins_the_queried_name case_cname_chain_pins_the_queried_name
run_case truncated_answer_tcp_fallback case_truncated_answer_tcp_fallback
run_case private_answer_refused_unless_allowed case_private_answer_refused_unless_allowed
run_case denied_name_raw_address_refused case_denied_name_raw_address_refused
run_case two_sandboxes_own_pins case_two_sandboxes_own_pins
run_case rotation_ttl_and_grace case_rotation_ttl_and_grace
run_case resolver_killed_fails_closed_and_restarts case_resolver_killed_fails_closed_and_restarts
run_case process_provider_hostns case_process_provider_hostns
run_case process_provider_veth case_process_provider_veth
run_case gvisor_provider case_gvisor_provider
run_case learn_names_from_a_real_workload case_learn_names_from_a_real_workload
run_case unreachable_upstream_servfail case_unreachable_upstream_servfail
run_case policy_check_agrees case_policy_check_agrees
run_case shipped_examples_run case_shipped_examples_run
run_case through_sbxd case_through_sbxd
finish
