#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/dns.sh - host names in network policy (docs/network.md): what the
# sandbox's own resolver and the connect-time pins cost.
#
#   connect latency with 1,000 pinned names: the workload looks up
#     n1..n1000.bench.test (bench/dns_qps.c resolve, through sbx's resolver),
#     then bench/connect_loop.c connects to the 1,000 answered addresses in
#     turn; each connect is allowed by a pin in sbx_pins. Against the same
#     loop outside any sandbox, and inside a sandbox whose policy lists the
#     1,000 addresses as /32 entries instead of names; both with a wildcard
#     (`*.bench.test`) and with 1,000 exact names.
#   resolver queries per second: bench/dns_qps.c keeps INFLIGHT UDP queries
#     outstanding, names cycling over the 1,000, (a) outside any sandbox
#     straight to the upstream server (dnsmasq), (b) inside a sandbox, where
#     every query goes through sbx's resolver to dnsmasq, and (c) inside the
#     same sandbox for names the policy does not allow (REFUSED by sbx,
#     never forwarded).
# Everything is interleaved (bare, sbx, ...) after warm-up rounds.
#
# The suite runs in a network namespace of its own (unshare -n), as
# tests/integration/test_dns.sh does: the names answer with addresses of
# 198.18.0.0/15 (RFC 2544's benchmarking range, public for sbx's rebinding
# check) put on that namespace's loopback, where the listener and dnsmasq
# run; nothing touches the host's network.
#   QUICK=1 bench/dns.sh
if [ -z "${SBX_BENCH_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	SBX_BENCH_NETNS=1 exec unshare -n "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
bench_init dns

NAMES=1000
ROUNDS=$(q 5 11)
WARM=1
CONNECTS=$(q 5000 20000)	# connect()s per run, over the 1,000 addresses in turn
QPS_ROUNDS=$(q 3 9)
QPS_SECONDS=$(q 1.5 3)
INFLIGHT=32
PORT=18053		# the listener (the namespace is ours: no clash)
UP=127.0.0.53		# dnsmasq, the upstream server
UPPORT=5300

skip_all()
{
	emit kind=skipped name="host names (DNS)" reason="$1"
	log "skipped: $1"
	exit 0
}
[ -n "${SBX_BENCH_NETNS:-}" ] || skip_all "cannot make a network namespace (unshare -n)"
command -v dnsmasq >/dev/null || skip_all "no dnsmasq (make deps installs dnsmasq-base)"

# Host-provider workloads run as nobody: what they read lives in $PUB.
PUB=$BT/pub
mkdir -p "$PUB"
chmod 755 "$BT" "$PUB"

# addr I: the address of name nI, 198.18.0.1 .. 198.18.3.232
addr() { echo "198.18.$(($1 / 256)).$(($1 % 256))"; }

setup()
{
	local i
	ip link set lo up
	for ((i = 1; i <= NAMES; i++)); do
		echo "address add $(addr $i)/32 dev lo"
		echo "$(addr $i) n$i.bench.test" >>"$BT/hosts"
		echo "n$i.bench.test" >>"$PUB/names"
		echo "r$i.refused.test" >>"$PUB/refused"
	done | ip -batch -
	dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port="$UPPORT" \
		--listen-address="$UP" --bind-interfaces --no-resolv --no-hosts \
		--addn-hosts="$BT/hosts" --pid-file="$BT/dnsmasq.pid" 2>"$BT/dnsmasq.err" &
	at_exit "kill $!"
	"$BIN/connect_loop" listen $PORT 0.0.0.0 &
	at_exit "kill $!"
	for i in $(seq 100); do
		"$BIN/dns_qps" resolve $UP $UPPORT "$PUB/names" >"$PUB/addrs" 2>"$BT/resolve.err" && break
		sleep 0.05
	done
	[ "$(wc -l <"$PUB/addrs")" = $NAMES ] ||
		{ log "dnsmasq does not answer: $(cat "$BT/resolve.err" "$BT/dnsmasq.err")"; exit 1; }
}

# policy NAME ALLOW-ENTRIES...: $BT/NAME.toml, a host-provider profile, mode
# allow, the upstream dnsmasq, ttl_floor and grace at their defaults
policy()
{
	local f=$BT/$1.toml
	shift
	{
		echo '[profile."bench"]'
		echo 'provider = "host"'
		echo 'min_isolation = "none"'
		echo '[profile."bench".fs]'
		echo 'mode = "full"'
		echo '[profile."bench".network]'
		echo 'mode = "allow"'
		printf 'allow = [%s]\n' "$(printf '"%s", ' "$@" | sed 's/, $//')"
		echo '[profile."bench".network.dns]'
		echo "upstream = [\"$UP:$UPPORT\"]"
	} >"$f"
}

# The three profiles: $BT/wild.toml (*.bench.test), $BT/exact.toml (the
# 1,000 names), $BT/addrs.toml (the 1,000 addresses as /32 entries)
policies()
{
	local i ex=() ad=()
	for ((i = 1; i <= NAMES; i++)); do
		ex+=("n$i.bench.test:$PORT/tcp")
		ad+=("$(addr $i)/32:$PORT/tcp")
	done
	policy wild "*.bench.test:$PORT/tcp"
	policy exact "${ex[@]}"
	policy addrs "${ad[@]}"
}

connect_part()
{
	local wild=$BT/wild.toml exact=$BT/exact.toml addrs=$BT/addrs.toml look
	# the names' addresses are not allowed without the lookups: a connect
	# that no pin allows must fail, or the figures would not measure pins
	if "$SBX" run -P "$wild" -- "$BIN/connect_loop" connect $PORT 1 "$PUB/addrs" >/dev/null 2>"$BT/nopin.err" ||
	   ! grep -q 'Operation not permitted' "$BT/nopin.err"; then
		log "FAILED: a connect without a lookup was not refused with EPERM: $(tail -2 "$BT/nopin.err")"
		return 1
	fi
	# the workload: 1,000 lookups through sbx's resolver (any address, port
	# 53), then the connect loop over the answered addresses
	cat >"$PUB/look.sh" <<EOF
a=\$('$BIN/dns_qps' resolve 192.0.2.53 53 '$PUB/names') || exit 1
printf '%s\n' "\$a" | '$BIN/connect_loop' connect $PORT $CONNECTS -
EOF
	look="sh '$PUB/look.sh'"
	interleave_values "$ROUNDS" "$WARM" \
		bare "'$BIN/connect_loop' connect $PORT $CONNECTS '$PUB/addrs'" \
		wild "'$SBX' run -P '$wild' -- $look" \
		exact "'$SBX' run -P '$exact' -- $look" \
		addrs "'$SBX' run -P '$addrs' -- '$BIN/connect_loop' connect $PORT $CONNECTS '$PUB/addrs'" ||
		return 1
	report_pair dns_connect "1,000 pinned names (*.bench.test)" "$BT/v.wild" bare "$BT/v.bare" ns/op \
		policy=wildcard names=$NAMES
	report_pair dns_connect "1,000 pinned names (1,000 exact entries)" "$BT/v.exact" bare "$BT/v.bare" ns/op \
		policy=exact names=$NAMES
	report_pair dns_connect "1,000 addresses as /32 entries (no names)" "$BT/v.addrs" bare "$BT/v.bare" ns/op \
		policy=addresses names=0
	report_pair dns_connect_pins "pinned names (*.bench.test) vs /32 entries" "$BT/v.wild" addresses \
		"$BT/v.addrs" ns/op
}

qps_part()
{
	local load="'$BIN/dns_qps' load" how
	how=("inflight=$INFLIGHT" "seconds=$QPS_SECONDS" "names=$NAMES")
	interleave_values "$QPS_ROUNDS" "$WARM" \
		bare "$load $UP $UPPORT '$PUB/names' $INFLIGHT $QPS_SECONDS 0" \
		sbx "'$SBX' run -P '$BT/wild.toml' -- $load 192.0.2.53 53 '$PUB/names' $INFLIGHT $QPS_SECONDS 0" \
		exact "'$SBX' run -P '$BT/exact.toml' -- $load 192.0.2.53 53 '$PUB/names' $INFLIGHT $QPS_SECONDS 0" \
		refused "'$SBX' run -P '$BT/wild.toml' -- $load 192.0.2.53 53 '$PUB/refused' $INFLIGHT $QPS_SECONDS 5" ||
		return 1
	report_pair dns_qps "allowed names (*.bench.test), through sbx to dnsmasq" "$BT/v.sbx" "dnsmasq directly" \
		"$BT/v.bare" queries/s "${how[@]}"
	report_pair dns_qps "allowed names (1,000 exact entries), through sbx" "$BT/v.exact" "dnsmasq directly" \
		"$BT/v.bare" queries/s "${how[@]}"
	report_pair dns_qps "refused names, answered by sbx" "$BT/v.refused" "dnsmasq directly" \
		"$BT/v.bare" queries/s "${how[@]}"
}

setup
policies
log "$NAMES names on $(addr 1) .. $(addr $NAMES), dnsmasq at $UP:$UPPORT"
rc=0
connect_part || rc=1
qps_part || rc=1
exit $rc
