#!/bin/bash
# SPDX-License-Identifier: MIT
# Final attacks on the newest host-name enforcement (docs/network.md):
# sbx_dns_foreign/sbx_dns_ports (another sandbox's resolver asked through
# every spelling of its address), SBX_DNSF_OBSERVED (port 53 without names,
# with and without --observe), and the sbx_dns_orig socket storage (a UDP
# socket connected to port 53 and then elsewhere: getpeername/recvfrom must
# show the real peer). Runs in its own network namespace with dnsmasq, like
# tests/security/test_dns_attack.sh, whose setup it copies.
if [ -z "${SBX_DNS_NETNS:-}" ] && [ -z "${SBX_TEST_SKIP:-}" ]; then
	if unshare -n true 2>/dev/null; then
		SBX_DNS_NETNS=1 exec unshare -n "$0" "$@"
	fi
	SBX_TEST_SKIP="cannot make a network namespace (unshare -n)"
fi
. "$(dirname "$0")/../integration/lib.sh"

[ -z "$SBX_TEST_SKIP" ] && ! command -v dnsmasq >/dev/null && SBX_TEST_SKIP="no dnsmasq (make deps installs dnsmasq-base)"
[ -z "$SBX_TEST_SKIP" ] && ! command -v dig >/dev/null && SBX_TEST_SKIP="no dig (make deps installs bind9-dnsutils)"
[ -z "$SBX_TEST_SKIP" ] && ! command -v python3 >/dev/null && SBX_TEST_SKIP="no python3 (the probes)"

UP=127.0.0.53
UPPORT=5300
ROGUE=198.51.100.53
RLOG=$T_TMP/rogue.log
PY=$T_TMP/probe.py

atk_setup()
{
	local i
	ip link set lo up || return 1
	for i in 10 53; do
		ip addr add 198.51.100.$i/32 dev lo || return 1
	done
	bg dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port="$UPPORT" \
		--listen-address="$UP" --bind-interfaces --no-resolv --no-hosts --local-ttl=30 \
		--pid-file="$T_TMP/up.pid" --host-record=api.test,198.51.100.10 || return 1
	bg dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port=53 \
		--listen-address="$ROGUE" --bind-interfaces --no-resolv \
		--no-hosts --log-queries --log-facility="$RLOG" --pid-file="$T_TMP/rogue.pid" \
		--address=/leak.test/198.51.100.99 || return 1
	for i in $(seq 100); do
		dig +short +time=1 +tries=1 -p "$UPPORT" @"$UP" api.test 2>/dev/null | grep -q 198.51.100.10 &&
			dig +short +time=1 +tries=1 @"$ROGUE" x.leak.test 2>/dev/null | grep -q 198.51.100.99 && break
		sleep 0.05
	done
	dig +short @"$ROGUE" x.leak.test | grep -q 198.51.100.99 || { echo "dnsmasq (rogue) does not answer"; return 1; }
	start_listener PT 198.51.100.10 tcp || return 1
	start_listener PU 198.51.100.10 udp || return 1
	# probe.py LABEL OP ...: prints "LABEL RESULT [detail]"; RESULT is ok
	# (a DNS answer came back: its first A record follows), EPERM, or the
	# errno name
	cat >"$PY" <<'PYEOF'
import socket, struct, sys, errno
lab, op = sys.argv[1], sys.argv[2]
def q(name):
    h = struct.pack(">HHHHHH", 0x1234, 0x100, 1, 0, 0, 0)
    return h + b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"
def a_of(d):
    # last 4 bytes of an answer with one A record
    if len(d) < 12 or struct.unpack(">H", d[6:8])[0] == 0: return "noanswer"
    return socket.inet_ntoa(d[-4:])
def out(*w): print(lab, *w); sys.stdout.flush()
try:
    if op in ("udp", "tcp"):
        fam, addr, port, name = int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
        f = socket.AF_INET6 if fam == 6 else socket.AF_INET
        s = socket.socket(f, socket.SOCK_DGRAM if op == "udp" else socket.SOCK_STREAM)
        s.settimeout(2)
        if len(sys.argv) > 7: s.bind((sys.argv[7], 0))
        if op == "udp":
            s.sendto(q(name), (addr, port)); d = s.recv(4096)
        else:
            s.connect((addr, port)); m = q(name); s.sendall(struct.pack(">H", len(m)) + m)
            d = s.recv(4096)[2:]
        out("ok", a_of(d))
    elif op == "udpconn":
        # connect to one address, then send on the connected socket
        fam, addr, port, name = int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
        f = socket.AF_INET6 if fam == 6 else socket.AF_INET
        s = socket.socket(f, socket.SOCK_DGRAM); s.settimeout(2)
        s.connect((addr, port)); s.send(q(name)); d = s.recv(4096)
        out("ok", a_of(d))
    elif op == "reconnect":
        # UDP: connect to port 53 (redirected), ask, then connect elsewhere
        dns, peer, pport = sys.argv[3], sys.argv[4], int(sys.argv[5])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
        s.connect((dns, 53)); p1 = s.getpeername()
        s.send(q("api.test")); d, fr = s.recvfrom(4096)
        s.connect((peer, pport)); p2 = s.getpeername()
        s.send(b"hello")
        out("ok", "%s:%d" % p1, "%s:%d" % fr[:2], "%s:%d" % p2[:2])
    elif op == "dns_then_other":
        # unconnected UDP: query port 53, then a datagram to a UDP server;
        # getsockname/recvfrom of a non-DNS peer must not be rewritten
        dns, peer, pport = sys.argv[3], sys.argv[4], int(sys.argv[5])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
        s.sendto(q("api.test"), (dns, 53)); d, fr = s.recvfrom(4096)
        s.connect((peer, pport)); p2 = s.getpeername()
        out("ok", "%s:%d" % fr[:2], "%s:%d" % p2[:2])
except OSError as e:
    out(errno.errorcode.get(e.errno, "timeout" if isinstance(e, socket.timeout) else str(e)))
PYEOF
}

pol() { dns_attack_policy "$@"; }
P=$T_TMP/p.toml

resolver_port()
{
	local pid=$1 rpid i
	for i in $(seq 100); do
		rpid=$(pgrep -P "$pid" -x sbx-dns) && break
		sleep 0.05
	done
	[ -n "$rpid" ] || return 1
	ss -lunpH 2>/dev/null | awk -v p="pid=$rpid," 'index($0, p) && $4 ~ /^127\.0\.0\.1:/ { sub(/.*:/, "", $4); print $4; exit }'
}

# py LABEL ARGS...: a probe line of a workload script
py() { local l=$1; shift; printf 'python3 %s %s %s; ' "$PY" "$l" "$*"; }

res() { awk -v l="$2" '$1 == l { $1 = ""; sub(/^ /, ""); print; exit }' "$T_TMP/$1.out"; }

# Sandbox A has a resolver (names); sandbox X (deny mode, no names: 127/8 is
# open to it on every port) asks A's resolver through every spelling of
# 127.0.0.1 the kernel accepts. Each must be EPERM with rule dns.
case_foreign_resolver_spellings()
{
	local run port l
	pol "$P" "mode = \"allow\"
allow = [\"api.test:$PT/tcp\"]"
	rm -f "$T_TMP/go"
	"$SBX" run --result "$T_TMP/a.result" --audit "$T_TMP/a.audit" -P "$P" --profile t -- sh -c \
		"while [ ! -e $T_TMP/go ]; do sleep 0.05; done; true" >"$T_TMP/a.out" 2>"$T_TMP/a.err" &
	run=$!
	port=$(resolver_port $run)
	[ -n "$port" ] || { touch "$T_TMP/go"; wait $run; fail "no resolver port for sbx run $run"; return; }
	write_policy "$T_TMP/x.toml" t 'audit = "all"' 'mode = "deny"
deny = ["192.0.2.1"]'
	sbx_run x -P "$T_TMP/x.toml" --profile t -- sh -c "
$(py u4 udp 4 127.0.0.1 $port api.test)
$(py t4 tcp 4 127.0.0.1 $port api.test)
$(py uany udp 4 0.0.0.0 $port api.test)
$(py tany tcp 4 0.0.0.0 $port api.test)
$(py uanyb udp 4 0.0.0.0 $port api.test 127.0.0.1)
$(py umap udp 6 ::ffff:127.0.0.1 $port api.test)
$(py tmap tcp 6 ::ffff:127.0.0.1 $port api.test)
$(py umany udp 6 ::ffff:0.0.0.0 $port api.test)
$(py tmany tcp 6 ::ffff:0.0.0.0 $port api.test)
$(py u6any udp 6 :: $port api.test ::ffff:127.0.0.1)
$(py t6any tcp 6 :: $port api.test ::ffff:127.0.0.1)
$(py ucompat udp 6 ::127.0.0.1 $port api.test)
$(py u127b udp 4 127.0.0.2 $port api.test)
$(py t127b tcp 4 127.0.0.2 $port api.test)
$(py uconn udpconn 4 127.0.0.1 $port api.test)
$(py uconnany udpconn 4 0.0.0.0 $port api.test)
$(py uconnmap udpconn 6 ::ffff:127.0.0.1 $port api.test)
true"
	touch "$T_TMP/go"
	wait $run
	# a reply from A's resolver is a bypass, whatever it says
	for l in u4 t4 uany tany uanyb umap tmap umany tmany u6any t6any ucompat u127b t127b uconn uconnany uconnmap; do
		case "$(res x $l)" in
		ok*) fail "$l: another sandbox's resolver (127.0.0.1:$port) answered: $(res x $l)" ;;
		"") fail "$l: no output ($(tail -c 300 "$T_TMP/x.err"))" ;;
		esac
	done
	for l in u4 t4 uany tany uanyb umap tmap umany tmany t6any uconn uconnany uconnmap; do
		expect x $l EPERM
	done
	eq "refused as another sandbox's resolver" \
		"$(ja x "[.[] | select((.event == \"net.send\" or .event == \"net.connect\") and .port == $port and .verdict == \"deny\" and .rule == \"dns\")] | length > 0")" true
}

# A profile without names, no --observe: no resolver, so port 53 of an
# address the profile does not allow is EPERM (and the server sees nothing);
# port 53 of an allowed address reaches it unchanged.
case_no_names_no_observe_port53_eperm()
{
	pol "$P" "mode = \"allow\"
allow = [\"198.51.100.10\"]"
	: >"$RLOG"
	sbx_run n -P "$P" --profile t -- sh -c "
$(py u udp 4 $ROGUE 53 a.leak.test)
$(py t tcp 4 $ROGUE 53 b.leak.test)
$(py um udp 6 ::ffff:$ROGUE 53 c.leak.test)
$(py uc udpconn 4 $ROGUE 53 d.leak.test)
true"
	expect n u EPERM
	expect n t EPERM
	expect n um EPERM
	expect n uc EPERM
	grep -q 'query.*leak.test' "$RLOG" && fail "a query reached $ROGUE: $(grep query "$RLOG" | head -2)"
	eq "denied port-53 sends audited" \
		"$(ja n "[.[] | select((.event == \"net.send\" or .event == \"net.connect\") and .port == 53 and .verdict == \"deny\")] | length >= 4")" true
	pol "$P" "mode = \"deny\"
deny = [\"192.0.2.1\"]"
	sbx_run d -P "$P" --profile t -- sh -c "$(py u udp 4 $ROGUE 53 e.leak.test) true"
	expect d u ok
	grep -q 'query.*e.leak.test' "$RLOG" || fail "deny mode without names: port 53 of $ROGUE should reach it unchanged"
}

# The same profile under --observe: the query goes to the resolver (the rogue
# server sees nothing), the workload is not refused, and the server asked is
# reported would_deny.
case_no_names_observe_redirected()
{
	pol "$P" "mode = \"allow\"
allow = [\"198.51.100.10\"]"
	: >"$RLOG"
	sbx_run o --observe -P "$P" --profile t -- sh -c "$(py u udp 4 $ROGUE 53 f.leak.test) $(py a udp 4 $ROGUE 53 api.test) true"
	grep -q 'query.*f.leak.test' "$RLOG" && fail "observe: the query reached $ROGUE instead of the resolver"
	case "$(res o a)" in
	"ok 198.51.100.10") ;;
	*) fail "observe: api.test via the resolver: $(res o a) ($(tail -c 300 "$T_TMP/o.err"))" ;;
	esac
	eq "observe: the server asked is would_deny" \
		"$(ja o "[.[] | select(.event == \"net.send\" and .port == 53 and .verdict == \"would_deny\")] | length > 0")" true
}

# sbx_dns_orig: a UDP socket connected to port 53 (redirected), then connected
# to a real UDP server: getpeername shows the new peer, not the port-53 one.
case_reconnect_peer_truthful()
{
	pol "$P" "mode = \"allow\"
allow = [\"api.test:$PT/tcp\", \"198.51.100.10:$PU/udp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "
$(py rc reconnect $ROGUE 198.51.100.10 $PU)
$(py dn dns_then_other $ROGUE 198.51.100.10 $PU)
$(py rd reconnect $ROGUE 198.51.100.53 $PU)
true"
	eq "reconnect: peers seen" "$(res r rc)" "ok $ROGUE:53 $ROGUE:53 198.51.100.10:$PU"
	eq "sendto 53 then connect: peers seen" "$(res r dn)" "ok $ROGUE:53 198.51.100.10:$PU"
	# the rogue address on a port other than 53 is not allowed
	expect r rd EPERM
}

setup atk_setup
run_case foreign_resolver_spellings case_foreign_resolver_spellings
run_case no_names_no_observe_port53_eperm case_no_names_no_observe_port53_eperm
run_case no_names_observe_redirected case_no_names_observe_redirected
run_case reconnect_peer_truthful case_reconnect_peer_truthful
[ -n "${DNSF_DEBUG:-}" ] && cat "$T_TMP"/{x,n,d,o,r}.out >&2
finish
