#!/bin/bash
# SPDX-License-Identifier: MIT
# Ad-hoc sandboxes: `sbx run` flags that build the profile of one run
# (--net, --allow-host, --ro, --rw, --exec, --print-profile; docs/cli.md).
# Checked with real runs under the process provider: --net allow=ADDR
# reaches a local listener and another port gets EPERM; --net none and
# --net host; --rw makes a directory writable and --ro keeps one read-only;
# --exec lets only the listed programs run; --print-profile round-trips
# through `sbx policy check` and `sbx policy show`; flag errors exit 125 with
# the flag named; a non-root caller may only tighten a profile from a file,
# root may widen it with a warning.
. "$(dirname "$0")/lib.sh"

adhoc_setup()
{
	mkdir -p "$T_TMP/rw" "$T_TMP/ro"
	# the process provider's workload runs as nobody: world-writable so
	# that the write test depends on sbx's grant only
	chmod 0777 "$T_TMP/rw"
	chmod 0755 "$T_TMP" "$T_TMP/ro"
	echo secret >"$T_TMP/ro/data"
	cat >"$T_TMP/agent.toml" <<'EOF2'
[profile.agent]
provider = "process"
timeout = "5m"
[profile.agent.network]
mode = "allow"
allow = ["127.0.0.0/8:1024-65535/tcp"]
[profile.agent.fs]
mode = "read-only"
exec = ["/usr/", "/bin/"]
EOF2
	chmod 0644 "$T_TMP/agent.toml"
	start_listener P1 127.0.0.1 tcp && start_listener P2 127.0.0.1 tcp
}

case_net_allow_reaches_one_port_only()
{
	sbx_run r --net "allow=127.0.0.1:$P1" -- sh -c \
		"$(probes "one connect 127.0.0.1 $P1" "two connect 127.0.0.1 $P2")"
	expect_rc r 0
	expect r one ok
	expect r two EPERM
	eq profile "$(jr r .profile)" adhoc
	eq "connect denials" "$(jr r '.denials["net.connect"]')" 1
}

case_net_none_and_host()
{
	sbx_run none --net none -- sh -c "$(probes "one connect 127.0.0.1 $P1")"
	expect_rc none 0
	got=$(awk '$1 == "one" { print $2 }' "$T_TMP/none.out")
	[ -n "$got" ] && [ "$got" != ok ] || fail "--net none: connect gave '$got'"
	sbx_run host --net host -- sh -c "$(probes "one connect 127.0.0.1 $P1" "two connect 127.0.0.1 $P2")"
	expect_rc host 0
	expect host one ok
	expect host two ok
}

case_rw_and_ro_paths()
{
	sbx_run w --rw "$T_TMP/rw" --ro "$T_TMP/ro" -- sh -c \
		"echo made >$T_TMP/rw/new && echo wrote-rw; cat $T_TMP/ro/data; \
		 echo x >$T_TMP/ro/data2 2>/dev/null && echo wrote-ro; echo x >$T_TMP/other 2>/dev/null && echo wrote-other; true"
	expect_rc w 0
	grep -qx wrote-rw "$T_TMP/w.out" || fail "--rw: could not write ($(cat "$T_TMP/w.out" "$T_TMP/w.err"))"
	eq "file on the host" "$(cat "$T_TMP/rw/new" 2>/dev/null)" made
	grep -qx secret "$T_TMP/w.out" || fail "--ro: could not read"
	grep -q wrote-ro "$T_TMP/w.out" && fail "--ro: a file was written"
	grep -q wrote-other "$T_TMP/w.out" && fail "a path outside --rw was written"
	[ -e "$T_TMP/ro/data2" ] && fail "--ro: data2 exists on the host"
	true
}

# --rw on a directory of another user: the grant is idmapped to its owner
# (providers/grants.c), so the workload (nobody) writes as the owner; --cwd
# starts it there
case_rw_on_a_users_directory()
{
	mkdir -p "$T_TMP/user"
	chown 12345:12345 "$T_TMP/user"
	chmod 0755 "$T_TMP/user"
	sbx_run u --rw "$T_TMP/user" --cwd "$T_TMP/user" -- sh -c 'echo hi >made && echo wrote; pwd'
	if [ "$RC" = 125 ] && grep -q "idmapped" "$T_TMP/u.err"; then
		skip "idmapped mounts do not work here: $(head -c 300 "$T_TMP/u.err")"
	fi
	expect_rc u 0
	grep -qx wrote "$T_TMP/u.out" || fail "no write: $(cat "$T_TMP/u.err")"
	eq owner "$(stat -c %u:%g "$T_TMP/user/made")" 12345:12345
	eq "--cwd" "$(tail -1 "$T_TMP/u.out")" "$T_TMP/user"
}

case_exec_list()
{
	sbx_run x --exec /bin/sh --exec /usr/lib/ --exec /usr/bin/cat -- sh -c \
		'cat /etc/hostname >/dev/null && echo cat-ok; ls / >/dev/null 2>&1 && echo ls-ok; true'
	expect_rc x 0
	grep -qx cat-ok "$T_TMP/x.out" || fail "--exec: a listed program did not run ($(cat "$T_TMP/x.err"))"
	grep -q ls-ok "$T_TMP/x.out" && fail "--exec: an unlisted program (ls) ran"
	true
}

case_flag_errors_exit_125_naming_the_flag()
{
	sbx_run e1 --net alow=127.0.0.1:80 -- true
	expect_rc e1 125
	grep -q "did you mean allow=" "$T_TMP/e1.err" || fail "no suggestion: $(cat "$T_TMP/e1.err")"
	sbx_run e2 --net allow=127.0.0.1/8 -- true
	expect_rc e2 125
	grep -q -- "--net allow=127.0.0.1/8: .*did you mean 127.0.0.0/8" "$T_TMP/e2.err" ||
		fail "e2: $(cat "$T_TMP/e2.err")"
	sbx_run e3 --rw "$T_TMP/nonexistent" -- true
	expect_rc e3 125
	grep -q -- "--rw .*No such file" "$T_TMP/e3.err" || fail "e3: $(cat "$T_TMP/e3.err")"
	sbx_run e4 --net none --allow-host example.org:443 -- true
	expect_rc e4 125
	[ -e "$T_TMP/e1.result" ] && fail "a result was written for a usage error"
	true
}

case_print_profile_round_trips()
{
	"$SBX" run --print-profile --net "allow=127.0.0.1:$P1" --allow-host example.org:443 \
		--rw "$T_TMP/rw" --exec /usr/ --memory 512M --timeout 60s --provider process \
		>"$T_TMP/p.toml" 2>"$T_TMP/p.err" || fail "--print-profile failed: $(cat "$T_TMP/p.err")"
	"$SBX" policy check "$T_TMP/p.toml" >/dev/null 2>"$T_TMP/c.err" ||
		fail "policy check refused the printed profile: $(cat "$T_TMP/c.err")"
	"$SBX" -j policy show "$T_TMP/p.toml" >"$T_TMP/show.json" || fail "policy show failed"
	q() { jq -r "$1" "$T_TMP/show.json"; }
	eq name "$(q '.profiles[0].name')" adhoc
	eq provider "$(q '.profiles[0].provider')" process
	eq memory "$(q '.profiles[0].limits.memory_bytes')" 536870912
	eq timeout "$(q '.profiles[0].limits.timeout_ms')" 60000
	eq "net mode" "$(q '.profiles[0].network.mode')" allow
	eq entries "$(q '[.profiles[0].network.entries[].text] | join(" ")')" \
		"127.0.0.1:$P1 example.org:443"
	eq rule "$(q '.profiles[0].filesystem.rules[0] | "\(.path) \(.access)"')" "$T_TMP/rw/ rwx"
	eq exec "$(q '.profiles[0].filesystem.exec | join(" ")')" /usr/
	# the file gives the same effective profile as the command line
	"$SBX" run -P "$T_TMP/p.toml" --print-profile >"$T_TMP/p2.toml" || fail "reprint failed"
	cmp -s "$T_TMP/p.toml" "$T_TMP/p2.toml" || fail "not a fixed point: $(diff "$T_TMP/p.toml" "$T_TMP/p2.toml")"
}

# as_nobody ARGS...: sbx as an unprivileged caller (setpriv, no capabilities)
as_nobody()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$SBX" "$@"
}

case_non_root_may_only_tighten_a_named_profile()
{
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	as_nobody run -P "$T_TMP/agent.toml" --print-profile --net "allow=127.0.0.1:$P1/tcp" \
		--ro "$T_TMP/ro" --exec /usr/bin/ --timeout 1m >"$T_TMP/t.toml" 2>"$T_TMP/t.err" ||
		fail "tightening refused: $(cat "$T_TMP/t.err")"
	grep -q '^\[profile."agent"\]' "$T_TMP/t.toml" || fail "the profile lost its name"
	as_nobody run -P "$T_TMP/agent.toml" --print-profile --rw "$T_TMP/rw" >/dev/null 2>"$T_TMP/w.err"
	eq "--rw rc" $? 125
	grep -q -- "--rw $T_TMP/rw would widen profile 'agent'.*unless sbx runs as root" "$T_TMP/w.err" ||
		fail "message: $(cat "$T_TMP/w.err")"
	as_nobody run -P "$T_TMP/agent.toml" --print-profile --net host >/dev/null 2>"$T_TMP/n.err"
	eq "--net host rc" $? 125
	as_nobody run -P "$T_TMP/agent.toml" --print-profile --net allow=127.0.0.1:80 >/dev/null 2>&1
	eq "port 80 rc" $? 125
	as_nobody run -P "$T_TMP/agent.toml" --print-profile --exec "$T_TMP/ro/" >/dev/null 2>&1
	eq "--exec outside the list rc" $? 125
	as_nobody run -P "$T_TMP/agent.toml" --print-profile --timeout 10m >/dev/null 2>&1
	eq "--timeout 10m rc" $? 125
	# the built-in default is the caller's own starting point
	as_nobody run --print-profile --net host --rw "$T_TMP/rw" --timeout 1h >/dev/null 2>&1
	eq "built-in default rc" $? 0
}

case_root_may_widen_a_named_profile_with_a_warning()
{
	sbx_run wide -P "$T_TMP/agent.toml" --rw "$T_TMP/rw" -- sh -c "echo w >$T_TMP/rw/root-widened && echo ok"
	expect_rc wide 0
	grep -q "warning: --rw $T_TMP/rw widens profile 'agent'" "$T_TMP/wide.err" ||
		fail "no warning: $(cat "$T_TMP/wide.err")"
	eq profile "$(jr wide .profile)" agent
}

adhoc_setup || T_SETUP_FAILED="listeners did not start"
run_case net_allow_reaches_one_port_only case_net_allow_reaches_one_port_only
run_case net_none_and_host case_net_none_and_host
run_case rw_and_ro_paths case_rw_and_ro_paths
run_case rw_on_a_users_directory case_rw_on_a_users_directory
run_case exec_list case_exec_list
run_case flag_errors_exit_125_naming_the_flag case_flag_errors_exit_125_naming_the_flag
run_case print_profile_round_trips case_print_profile_round_trips
run_case non_root_may_only_tighten_a_named_profile case_non_root_may_only_tighten_a_named_profile
run_case root_may_widen_a_named_profile_with_a_warning case_root_may_widen_a_named_profile_with_a_warning
finish
