#!/bin/bash
# SPDX-License-Identifier: MIT
# The process provider (providers/process.c, rootfs.c, privs.c, user/kernel/seccomp.c,
# user/kernel/limits.c, user/kernel/netns.c), as the workload sees it: its own pid
# namespace (sbx-init is pid 1, the workload pid 2), a minimal filesystem
# view (fs mode none), the host root read-only (fs mode read-only), fs rules,
# the seccomp filter (EPERM and syscall.denied audit events; action kill ->
# SIGSYS), no capabilities, a uid of its own by default, no_new_privs, no signals to
# host processes, a private network with only loopback in mode none and the
# host's with the eBPF lists in mode allow, pids/memory/cpu limits, timeout,
# exit codes and signals, stdin/stdout, zombie reaping, SIGTERM and SIGKILL
# of sbx, the scrubbed environment and cwd.
#
# The workload runs tests/integration/proc_probe.c (compiled here into
# $OUTPUT/tests/integration, made visible in the sandbox by an "rx" fs rule)
# and nettool for the system calls it tries.
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/integration
PROBE=$TOOLS/proc_probe
NETTOOL=$TOOLS/nettool
TOOLS_RULE="{ path = \"$TOOLS/\", access = \"rx\" }"
# Host files for the fs cases live outside /tmp, which every view but fs
# mode full replaces by a private tmpfs.
V_TMP=""

process_setup()
{
	mkdir -p "$TOOLS" || return 1
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$PROBE" "$SRC/proc_probe.c" || return 1
	if [ ! -x "$NETTOOL" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$NETTOOL" "$SRC/nettool.c" || return 1
	fi
	start_listener P4 127.0.0.1 tcp || return 1
	start_listener Q4 127.0.0.1 tcp || return 1
	chmod 0755 "$T_TMP"
}

make_v_tmp()
{
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.process.XXXXXX") && chmod 0755 "$V_TMP"
}

# ppol [PROFILE-KEYS] [NETWORK-LINES] [FS-LINES] [SECCOMP-LINES]: writes
# $T_TMP/policy.toml with profile t on the process provider. Defaults:
# network mode none, fs mode none with the tools directory visible.
ppol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
min_isolation = "process"
${1:-}
[profile.t.network]
${2:-mode = \"none\"}
[profile.t.fs]
${3:-mode = \"none\"
rules = [$TOOLS_RULE]}
EOF
	if [ -n "${4:-}" ]; then
		printf '[profile.t.seccomp]\n%s\n' "$4" >>"$T_TMP/policy.toml"
	fi
}

# run_in NAME [SBX-OPTIONS...] -- CMD...  or  run_in NAME CMD...
run_in()
{
	local name=$1
	shift
	if [[ " $* " == *" -- "* ]]; then
		sbx_run "$name" -P "$T_TMP/policy.toml" --profile t "$@"
	else
		sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
	fi
}

# out NAME: the workload's stdout of run NAME.
out()
{
	cat "$T_TMP/$1.out"
}

alive()
{
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# procs_matching ARGS: host pids whose command line is exactly ARGS and that
# are not zombies (a check only: the tests kill nothing by name).
procs_matching()
{
	local p
	for p in $(pgrep -fx "$1"); do
		alive "$p" && echo "$p"
	done
}

# wait_for_procs ARGS N: until N processes run ARGS (10 s at most).
wait_for_procs()
{
	local i
	for i in $(seq 200); do
		[ "$(procs_matching "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# gone_within ARGS: true when no process runs ARGS within 30 s (a bound for
# a loaded machine, not a measurement). Callers first make sure that such
# processes ran (wait_for_procs), or nothing would pass vacuously.
gone_within()
{
	local i
	for i in $(seq 600); do
		[ -z "$(procs_matching "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

# pid_gone_within PID: the process ends within 30 s (a SIGKILL through the
# cgroup reaches every task, but not at the same instant on a loaded machine).
pid_gone_within()
{
	local i
	for i in $(seq 600); do
		alive "$1" || return 0
		sleep 0.05
	done
	return 1
}

# ---- what the workload sees -----------------------------------------------------

case_only_sandbox_processes_visible()
{
	local host_pid got ps
	bg sleep 64646
	host_pid=$BG_PID
	ppol
	run_in r sh -c "echo self=\$\$; for p in /proc/[0-9]*; do echo \"pid \${p#/proc/} \$(cat \$p/comm)\"; done;
		test -e /proc/$host_pid && echo host-pid-visible; ps -eo comm= >/tmp/ps; sed 's/^/ps /' /tmp/ps"
	expect_rc r 0
	got=$(out r)
	eq "workload's own pid" "$(sed -n 's/^self=//p' <<<"$got")" 2
	eq "processes in /proc" "$(grep '^pid ' <<<"$got" | tr '\n' ' ')" "pid 1 sbx-init pid 2 sh "
	grep -q host-pid-visible <<<"$got" && fail "/proc/$host_pid (a host process) is visible"
	ps=$(sed -n 's/^ps //p' <<<"$got" | sort | tr '\n' ' ')
	eq "ps -e inside (the host's sleep must not be listed)" "$ps" "ps sbx-init sh "
	return 0
}

case_fs_none_hides_host_paths()
{
	local got p extra
	ppol "" "" 'mode = "none"'
	run_in r sh -c "ls -A /; for p in /root /home /var /sys /run /run/sbx $RUN_DIR /boot /srv /opt /work $T_TMP; do
		test -e \$p && echo \"visible \$p\"; done; true"
	expect_rc r 0
	got=$(out r)
	grep '^visible ' <<<"$got" && fail "host paths visible with fs mode none: $(grep '^visible ' <<<"$got" | tr '\n' ' ')"
	extra=$(grep -v '^visible ' <<<"$got" | grep -vxE 'bin|dev|etc|lib|lib32|lib64|libx32|proc|sbin|tmp|usr')
	[ -z "$extra" ] || fail "unexpected entries in / of the sandbox: $(tr '\n' ' ' <<<"$extra") (all: $(tr '\n' ' ' <<<"$got"))"
	for p in bin etc usr tmp proc dev; do
		grep -qx "$p" <<<"$got" || fail "/$p missing in the sandbox: $(tr '\n' ' ' <<<"$got")"
	done
	return 0
}

case_fs_none_etc_minimal()
{
	local got extra
	ppol "" "" 'mode = "none"'
	run_in r sh -c 'ls -A /etc; test -e /etc/shadow && echo SHADOW-VISIBLE; true'
	expect_rc r 0
	got=$(out r)
	grep -q SHADOW-VISIBLE <<<"$got" && fail "/etc/shadow is visible"
	extra=$(grep -vxE 'passwd|group|hosts|resolv.conf|nsswitch.conf|ld.so.cache|ld.so.conf|ld.so.conf.d|localtime|ssl|ca-certificates|alternatives|host.conf|gai.conf|mime.types' <<<"$got")
	[ -z "$extra" ] || fail "/etc has more than the minimal files: $(tr '\n' ' ' <<<"$extra")"
	grep -qx passwd <<<"$got" || fail "/etc/passwd missing: $(tr '\n' ' ' <<<"$got")"
	[ "$(ls -A /etc | wc -l)" -gt "$(wc -l <<<"$got")" ] || fail "the host's /etc is not larger than the sandbox's?"
	return 0
}

case_fs_none_tmp_private_and_empty()
{
	local marker=sbxtest-process-$$-marker
	ppol "" "" 'mode = "none"'
	rm -f "/tmp/$marker"
	run_in a sh -c "echo entries=\$(ls -A /tmp | wc -l); echo x >/tmp/$marker && echo wrote"
	expect_rc a 0
	eq "entries in /tmp of a new sandbox" "$(sed -n 's/^entries=//p' "$T_TMP/a.out")" 0
	grep -qx wrote "$T_TMP/a.out" || fail "/tmp not writable in the sandbox: $(cat "$T_TMP/a.err")"
	[ -e "/tmp/$marker" ] && { rm -f "/tmp/$marker"; fail "a file written to the sandbox's /tmp appeared in the host's /tmp"; }
	run_in b sh -c "ls -A /tmp | wc -l"
	eq "entries in /tmp of the next sandbox" "$(out b)" 0
}

case_fs_none_usr_and_etc_read_only()
{
	ppol
	run_in r sh -c "for f in /usr/sbxtest /etc/passwd /bin/sbxtest /sbxtest; do printf '%s ' \$f; $PROBE write \$f; done; true"
	expect_rc r 0
	eq "write /usr/sbxtest" "$(awk '$1 == "/usr/sbxtest" { print $2 }' "$T_TMP/r.out")" EROFS
	eq "write /etc/passwd" "$(awk '$1 == "/etc/passwd" { print $2 }' "$T_TMP/r.out")" EROFS
	eq "write /sbxtest" "$(awk '$1 == "/sbxtest" { print $2 }' "$T_TMP/r.out")" EROFS
	[ -e /usr/sbxtest ] && fail "/usr/sbxtest created on the host"
	return 0
}

# fs mode read-only: the host's root is the view, read-only; /tmp private.
case_fs_read_only_host_root_visible()
{
	local f=$V_TMP/ro-visible hostf=$T_TMP/host-tmp-file
	echo hostdata >"$f"
	echo x >"$hostf"
	chmod 0644 "$f" "$hostf"
	ppol "" "" "mode = \"read-only\"
rules = [$TOOLS_RULE]"
	run_in r sh -c "cat $f; for d in /var /home /usr/share; do test -d \$d && echo \"dir \$d\"; done;
		for w in /var/sbxtest $f /tmp/x; do printf 'write %s ' \$w; $PROBE write \$w; done;
		test -e $hostf && echo host-tmp-visible; true"
	expect_rc r 0
	grep -q host-tmp-visible "$T_TMP/r.out" && fail "the host's /tmp is visible (expected a private /tmp)"
	grep -qx hostdata "$T_TMP/r.out" || fail "host file $f not readable: $(head -c 300 "$T_TMP/r.out")"
	grep -qx 'dir /var' "$T_TMP/r.out" || fail "/var not visible with fs mode read-only"
	eq "write /var/sbxtest" "$(awk '$2 == "/var/sbxtest" { print $3 }' "$T_TMP/r.out")" EROFS
	eq "write $f" "$(awk -v f="$f" '$2 == f { print $3 }' "$T_TMP/r.out")" EROFS
	eq "write /tmp/x (private tmp)" "$(awk '$2 == "/tmp/x" { print $3 }' "$T_TMP/r.out")" ok
	eq "host file after the run" "$(cat "$f")" hostdata
}

# make_fs_tree: $V_TMP/fs/{rw,ro,deny,plain}/f, writable by everybody on the host.
make_fs_tree()
{
	local d
	D=$V_TMP/fs
	rm -rf "$D"
	mkdir -p "$D"
	chmod 0755 "$D"
	for d in rw ro deny plain; do
		mkdir -p "$D/$d"
		echo "data-$d" >"$D/$d/f"
		chmod 0777 "$D/$d"
		chmod 0666 "$D/$d/f"
	done
}

# fs_probes: the workload script that reads and writes in each directory.
fs_probes()
{
	local d
	for d in rw ro deny; do
		printf "printf 'read-%s '; %s read %s/%s/f; " "$d" "$PROBE" "$D" "$d"
		printf "printf 'write-%s '; %s write %s/%s/new; " "$d" "$PROBE" "$D" "$d"
	done
	printf "printf 'ls-deny '; ls %s/deny/ >/dev/null 2>&1 && echo listed || echo refused; true" "$D"
}

# fs_expect NAME: rw writable, ro read-only, deny neither readable nor writable.
fs_expect()
{
	local name=$1 got
	expect_rc "$name" 0
	got() { awk -v l="$1" '$1 == l { print $2; exit }' "$T_TMP/$name.out"; }
	eq "read in the rw rule" "$(got read-rw)" ok
	eq "write in the rw rule" "$(got write-rw)" ok
	eq "read in the r rule" "$(got read-ro)" ok
	eq "write in the r rule" "$(got write-ro)" EROFS
	# EACCES: the deny rule refuses a file that is there (the host made it);
	# ENOENT would be a view that lost the directory, not the rule
	eq "read in the deny rule" "$(got read-deny)" EACCES
	eq "write in the deny rule" "$(got write-deny)" EACCES
	eq "listing the deny rule's directory" "$(got ls-deny)" refused
	[ -e "$D/ro/new" ] && fail "a file was created on the host under the r rule"
	[ -e "$D/deny/new" ] && fail "a file was created on the host under the deny rule"
	[ -e "$D/rw/new" ] || fail "the write under the rw rule did not reach the host"
	eq "host file under the r rule" "$(cat "$D/ro/f")" data-ro
}

# Rules on their own (fs mode none): the paths become visible with their access.
case_fs_rules_rw_r_deny()
{
	make_fs_tree
	ppol "" "" "mode = \"none\"
rules = [$TOOLS_RULE, { path = \"$D/\", access = \"r\" }, { path = \"$D/rw/\", access = \"rw\" },
	{ path = \"$D/ro/\", access = \"r\" }, { path = \"$D/deny/\", access = \"deny\" }]"
	run_in r sh -c "$(fs_probes)"
	fs_expect r
}

# docs/policy.md: "The most specific (longest) matching path decides". The
# same rules as above with the parent directory listed last.
# A rule narrowing a writable parent ($D/ rw): the mount view holds it only
# while the paths stay in place (a parent can be renamed away), so where
# Landlock is the backend strict refuses it and best-effort runs and says so;
# BPF LSM enforces it outright.
case_fs_rules_most_specific_wins_in_any_order()
{
	local backend
	backend=$("$SBX" features --json | jq -r .fs_backend)
	make_fs_tree
	ppol "enforcement = \"best-effort\"" "" "mode = \"none\"
rules = [$TOOLS_RULE, { path = \"$D/rw/\", access = \"rw\" }, { path = \"$D/ro/\", access = \"r\" },
	{ path = \"$D/deny/\", access = \"deny\" }, { path = \"$D/\", access = \"rw\" }]"
	run_in r sh -c "$(fs_probes)"
	fs_expect r
	if [ "$backend" = landlock ]; then
		[ "$(jr r '[.degraded[] | select(contains("fs rule"))] | length')" -ge 1 ] ||
			fail "best-effort run does not list the narrowing rule as degraded"
	fi
	return 0
}

# A deny rule written before the directory rule that covers it is enforced
# (the view mounts the longer path last, whatever the order in the file).
case_fs_deny_listed_before_covering_dir()
{
	make_order_tree "$V_TMP"
	ppol "" "" "mode = \"none\"
rules = [$TOOLS_RULE, { path = \"$O/secret/\", access = \"deny\" }, { path = \"$O/\", access = \"rx\" }]"
	run_in r sh -c "printf 'prog '; $O/prog; printf 'secret '; cat $O/secret/f 2>/dev/null || echo refused"
	expect_rc r 0
	expect r prog ran
	expect r secret refused
}

# A narrower "r" rule written before the "rx" directory around it keeps
# executing refused below it.
case_fs_narrower_r_listed_before_rx_dir()
{
	make_order_tree "$V_TMP"
	ppol "" "" "mode = \"none\"
rules = [$TOOLS_RULE, { path = \"$O/sub/\", access = \"r\" }, { path = \"$O/\", access = \"rx\" }]"
	run_in r sh -c "printf 'prog '; $O/prog; printf 'read-sub '; cat $O/sub/f;
		printf 'sub-prog '; $O/sub/prog 2>/dev/null || echo refused"
	expect_rc r 0
	expect r prog ran
	expect r read-sub data-sub
	expect r sub-prog refused
}

# /tmp is private and not executable (the base view's /tmp is rw, no x)
# whatever the backend, in fs mode none and read-only, as under gVisor.
case_tmp_not_executable()
{
	local mode
	for mode in none read-only; do
		ppol "" "" "mode = \"$mode\"
rules = [$TOOLS_RULE]"
		run_in r sh -c 'cp /bin/true /tmp/t && chmod 755 /tmp/t && printf "write ok\n";
			printf "exec "; /tmp/t 2>/dev/null && echo EXECUTED || echo refused'
		expect_rc r 0
		expect r write ok
		[ "$(awk '$1 == "exec" { print $2 }' "$T_TMP/r.out")" = refused ] ||
			fail "fs mode $mode: a program in /tmp was executed: $(tr '\n' ' ' <"$T_TMP/r.out")"
	done
}

# The same rules on top of fs mode read-only (the deny rule hides a path
# that the host root would show).
case_fs_read_only_with_rules()
{
	make_fs_tree
	ppol "" "" "mode = \"read-only\"
rules = [$TOOLS_RULE, { path = \"$D/rw/\", access = \"rw\" }, { path = \"$D/ro/\", access = \"r\" },
	{ path = \"$D/deny/\", access = \"deny\" }]"
	run_in r sh -c "$(fs_probes); printf 'read-plain '; $PROBE read $D/plain/f; printf 'write-plain '; $PROBE write $D/plain/new; true"
	fs_expect r
	eq "read outside the rules (host root, read-only)" "$(awk '$1 == "read-plain" { print $2 }' "$T_TMP/r.out")" ok
	eq "write outside the rules (host root, read-only)" "$(awk '$1 == "write-plain" { print $2 }' "$T_TMP/r.out")" EROFS
}

# ---- privileges and the seccomp filter ---------------------------------------------

case_seccomp_refuses_ptrace_mount_bpf_keyrings_audited()
{
	local c got names
	ppol
	run_in r sh -c "for c in ptrace mount bpf add_key keyctl; do printf '%s ' \$c; $PROBE \$c; done; true"
	expect_rc r 0
	for c in ptrace mount bpf add_key keyctl; do
		expect r "$c" EPERM
	done
	names=$(ja r '[.[] | select(.event == "syscall.denied") | .syscall] | unique | join(" ")')
	for c in ptrace mount bpf add_key keyctl; do
		[[ " $names " == *" $c "* ]] || fail "no syscall.denied event for $c in the audit log (syscalls: '$names')"
	done
	got=$(ja r '[.[] | select(.event == "syscall.denied") | select(.errno != 1 or .verdict != "deny")] | length')
	eq "syscall.denied events without errno 1 / verdict deny" "$got" 0
	got=$(ja r '[.[] | select(.event == "syscall.denied" and .syscall == "ptrace")][0].comm')
	eq "comm of the ptrace event" "$got" proc_probe
}

case_seccomp_action_kill_sigsys()
{
	ppol "" "" "" 'action = "kill"'
	run_in r "$PROBE" ptrace
	expect_rc r 159
	eq "result signal" "$(jr r .signal)" 31
	[ -s "$T_TMP/r.out" ] && fail "the probe survived the refused call: $(cat "$T_TMP/r.out")"
	return 0
}

caps_line()
{
	awk -v k="$2:" '$1 == k { print $2 }' "$T_TMP/$1.out"
}

case_no_capabilities()
{
	local who k
	for who in default root; do
		if [ $who = root ]; then ppol 'user = "0"'; else ppol; fi
		run_in "$who" cat /proc/self/status
		expect_rc "$who" 0
		for k in CapInh CapPrm CapEff CapBnd CapAmb; do
			eq "$k ($who user)" "$(caps_line "$who" $k)" 0000000000000000
		done
	done
}

case_no_new_privs_and_seccomp_mode()
{
	ppol
	run_in r cat /proc/self/status
	expect_rc r 0
	eq NoNewPrivs "$(caps_line r NoNewPrivs)" 1
	eq "Seccomp (2 = filter)" "$(caps_line r Seccomp)" 2
}

# The sandbox's own uid and gid (core/uidpool.h), not the host's nobody.
case_runs_as_own_uid_by_default()
{
	local u
	ppol
	run_in r sh -c 'id -u; id -g; id -G'
	expect_rc r 0
	u=$(out r | head -1)
	[ "$u" -ge 2080374784 ] 2>/dev/null && [ "$u" -le 2080440319 ] ||
		fail "uid $u is not from the sandbox uid range"
	eq "uid, gid, groups" "$(out r | tr '\n' ' ')" "$u $u $u "
}

case_runs_as_profile_user()
{
	local uid gid
	uid=$(id -u daemon 2>/dev/null) || skip "no user daemon on this host"
	gid=$(id -g daemon)
	ppol 'user = "daemon"'
	run_in r sh -c 'id -u; id -g; id -G'
	expect_rc r 0
	eq "uid, gid, groups of user daemon" "$(out r | tr '\n' ' ')" "$uid $gid $gid "
	ppol 'user = "daemon"
group = "nogroup"'
	run_in g sh -c 'id -u; id -g'
	expect_rc g 0
	eq "uid, gid with group nogroup" "$(out g | tr '\n' ' ')" "$uid $(getent group nogroup | cut -d: -f3) "
}

case_cannot_signal_host_processes()
{
	local host_pid got
	bg sleep 65656
	host_pid=$BG_PID
	# uid 0 (without capabilities) like the owner of the host's sleep
	ppol 'user = "0"'
	run_in r "$PROBE" kill "$host_pid" 9
	got=$(cat "$T_TMP/r.out")
	case $got in ESRCH | EPERM) ;; *) fail "kill($host_pid, SIGKILL) of a host process gave '$got' (sbx rc $RC)" ;; esac
	alive "$host_pid" || fail "the host process $host_pid did not survive kill($host_pid)"
	# kill(-1): every process the caller may signal (not init, not itself)
	run_in all "$PROBE" kill -1 9
	got=$(cat "$T_TMP/all.out")
	case $got in ok | ESRCH | EPERM) ;; *) fail "kill(-1, SIGKILL) gave '$got' (sbx rc $RC)" ;; esac
	alive "$host_pid" || fail "the host process $host_pid did not survive kill(-1, SIGKILL) in a sandbox"
	return 0
}

# ---- network ---------------------------------------------------------------------

case_net_none_only_loopback()
{
	local host_ns
	host_ns=$(readlink /proc/self/ns/net)
	ppol
	run_in r sh -c 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	expect_rc r 0
	[ "$(head -1 "$T_TMP/r.out")" != "$host_ns" ] || fail "the sandbox shares the host's network namespace $host_ns"
	eq "interfaces in /proc/net/dev" "$(tail -n +2 "$T_TMP/r.out" | tr '\n' ' ')" "lo "
}

case_net_none_loopback_tcp_inside()
{
	ppol
	run_in r sh -c "$NETTOOL listen 127.0.0.1 0 tcp >/tmp/l 2>&1 & i=0;
		while ! grep -q '^port ' /tmp/l && [ \$i -lt 100 ]; do sleep 0.02; i=\$((i+1)); done;
		printf 'inside '; $NETTOOL connect 127.0.0.1 \$(awk '/^port /{print \$2}' /tmp/l)"
	expect_rc r 0
	expect r inside ok
}

case_net_none_nothing_outside_reachable()
{
	local got
	ppol
	run_in r sh -c "$(probes "host connect 127.0.0.1 $P4" 'lan connect 10.0.0.1 80' \
		'world connect 1.1.1.1 443' 'dns sendto 8.8.8.8 53 1 32' 'v6 connect ::1 80')"
	expect_rc r 0
	for l in host lan world dns v6; do
		got=$(awk -v l=$l '$1 == l { print $2 }' "$T_TMP/r.out")
		[ -n "$got" ] && [ "$got" != ok ] || fail "$l: '$got' from a sandbox with network mode none ($(tr '\n' ' ' <"$T_TMP/r.out"))"
	done
	return 0
}

case_net_allow_host_netns_ebpf_lists()
{
	ppol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
	run_in r sh -c "readlink /proc/self/ns/net; $(probes "allowed connect 127.0.0.1 $P4" "other connect 127.0.0.1 $Q4")"
	expect_rc r 0
	eq "network namespace in mode allow" "$(head -1 "$T_TMP/r.out")" "$(readlink /proc/self/ns/net)"
	expect r allowed ok
	expect r other EPERM
	eq "result connect_denied" "$(jr r .network.connect_denied)" 1
}

# ---- limits ------------------------------------------------------------------------

case_pids_limit_stops_fork_bomb()
{
	local n
	ppol 'pids = 20
timeout = "20s"'
	# dash gives up at the first failed fork ("Cannot fork")
	run_in sh sh -c 'i=0; while [ $i -lt 200 ]; do sleep 67676 & i=$((i+1)); done; echo "started $i"'
	unenforceable sh pids
	[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "the loop of 200 sleepers ended with $RC: $(cat "$T_TMP/sh.out" "$T_TMP/sh.err" | tail -c 300)"
	grep -qi 'fork' "$T_TMP/sh.err" || fail "no fork failure reported: $(tail -c 300 "$T_TMP/sh.err")"
	gone_within 'sleep 67676' || fail "sleepers left after the run: $(procs_matching 'sleep 67676' | wc -l)"
	run_in c "$PROBE" forks 100
	expect_rc c 0
	read -r forked failed err < <(sed 's/[a-z]*=//g' "$T_TMP/c.out")
	[ "${forked:-99}" -lt 20 ] || fail "forked $forked children under pids = 20"
	[ "${failed:-0}" -gt 0 ] || fail "no fork failed: $(cat "$T_TMP/c.out")"
	eq "errno of the failed forks" "$err" EAGAIN
}

case_memory_limit_oom_killed()
{
	ppol 'memory = "32M"
timeout = "30s"'
	run_in r sh -c 'head -c 300M /dev/zero | tail'
	unenforceable r memory
	expect_rc r 137
	eq "result oom_killed" "$(jr r .oom_killed)" true
	eq "result exit_code" "$(jr r .exit_code)" 137
	[ "$(jr r .peak_memory_bytes)" -le $((34 * 1024 * 1024)) ] || fail "peak memory $(jr r .peak_memory_bytes) above 32M"
}

case_cpu_quota_applied()
{
	local cpu wall
	ppol 'cpu = 0.2
timeout = "30s"'
	run_in r "$PROBE" spin 2000
	unenforceable r cpu
	expect_rc r 0
	cpu=$(jr r .cpu_ms)
	wall=$(jr r .wall_ms)
	# a ratio of the sandbox's own CPU and wall times (the quota), not a
	# bound on how fast anything runs: a loaded machine only lowers it
	[ "$cpu" -gt 0 ] || fail "cpu_ms $cpu: the CPU time is not accounted"
	[ $((cpu * 10)) -lt $((wall * 6)) ] || fail "cpu_ms $cpu is not well below wall_ms $wall with cpu = 0.2"
}

# ---- life of the workload ------------------------------------------------------------

case_timeout_term_ignored_nothing_left()
{
	local pids p
	ppol 'timeout = "3s"'
	rm -f "$T_TMP"/r.{result,out,err}
	# the sleepers would run for a day: only sbx's kill ends them
	bg timeout -s KILL 120 "$SBX" run -P "$T_TMP/policy.toml" --profile t --result "$T_TMP/r.result" -- \
		sh -c "trap '' TERM; sleep 68686 & sleep 68687; sleep 68687" >"$T_TMP/r.out" 2>"$T_TMP/r.err"
	wait_for_procs 'sleep 68686' 1 && wait_for_procs 'sleep 68687' 1 ||
		fail "the workload's sleepers did not start: $(cat "$T_TMP/r.err")"
	pids=$(procs_matching 'sleep 68686'; procs_matching 'sleep 68687')
	wait "$BG_PID"
	RC=$?
	[ -s "$T_TMP/r.result" ] || fail "sbx run did not end within 120 s (rc $RC)"
	expect_rc r 124
	eq timed_out "$(jr r .timed_out)" true
	eq "signal that ended the TERM-ignoring shell" "$(jr r .signal)" 9
	for p in $pids; do
		pid_gone_within "$p" || fail "process $p ($(tr '\0' ' ' </proc/$p/cmdline)) survived the timeout"
	done
}

case_exit_code_propagates()
{
	ppol
	run_in r sh -c 'exit 7'
	expect_rc r 7
	eq "result exit_code" "$(jr r .exit_code)" 7
}

case_signal_propagates()
{
	ppol
	run_in r sh -c 'kill -SEGV $$'
	expect_rc r 139
	eq "result signal" "$(jr r .signal)" 11
}

case_stdin_piped()
{
	ppol
	printf 'data line 1\ndata line 2\n' >"$T_TMP/in"
	"$SBX" run -P "$T_TMP/policy.toml" --profile t -- cat <"$T_TMP/in" >"$T_TMP/r.out" 2>"$T_TMP/r.err"
	RC=$?
	expect_rc r 0
	eq "stdin through the sandbox" "$(cat "$T_TMP/r.out")" "$(cat "$T_TMP/in")"
	echo data | "$SBX" run -P "$T_TMP/policy.toml" --profile t -- cat >"$T_TMP/p.out" 2>"$T_TMP/p.err"
	RC=$?
	expect_rc p 0
	eq "echo data | sbx run cat" "$(cat "$T_TMP/p.out")" data
}

case_large_output_20mb()
{
	local want
	ppol 'timeout = "60s"'
	head -c 20971520 /dev/urandom >"$T_TMP/big.in"
	"$SBX" run -P "$T_TMP/policy.toml" --profile t -- cat <"$T_TMP/big.in" >"$T_TMP/big.out" 2>"$T_TMP/big.err"
	RC=$?
	expect_rc big 0
	eq "sha256 of 20 MiB through stdin and stdout" "$(sha256sum <"$T_TMP/big.out")" "$(sha256sum <"$T_TMP/big.in")"
	want=$(head -c 20971520 /dev/zero | tr '\0' 'z' | sha256sum)
	"$SBX" run -P "$T_TMP/policy.toml" --profile t -- sh -c "head -c 20971520 /dev/zero | tr '\\000' z" \
		>"$T_TMP/gen.out" 2>"$T_TMP/gen.err"
	RC=$?
	expect_rc gen 0
	eq "sha256 of 20 MiB written by the workload" "$(sha256sum <"$T_TMP/gen.out")" "$want"
	rm -f "$T_TMP"/big.* "$T_TMP/gen.out"
}

case_zombies_reaped()
{
	local got
	ppol
	# orphans: each subshell exits at once, its sleep is reparented to
	# sbx-init and exits later; nobody but sbx-init can reap it.
	run_in r sh -c 'for i in 1 2 3 4 5; do (sleep 0.1 &); (true &); done; sleep 1;
		for p in /proc/[0-9]*; do echo "${p#/proc/} $(cut -d" " -f3 $p/stat) $(cat $p/comm)"; done'
	expect_rc r 0
	got=$(cat "$T_TMP/r.out")
	grep -q ' Z ' <<<"$got" && fail "zombies in the sandbox: $(tr '\n' ';' <<<"$got")"
	eq "processes left" "$(awk '{print $1}' <<<"$got" | tr '\n' ' ')" "1 2 "
}

# start_bg_sandbox NAME ARGS-OF-SLEEP: sbx run of a workload with two
# background sleepers; waits until both run. Sets RUN_PID.
start_bg_sandbox()
{
	local name=$1 a=$2
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t --result "$T_TMP/$name.result" -- \
		sh -c "sleep $a & sleep $a & wait" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RUN_PID=$BG_PID
	wait_for_procs "sleep $a" 2 || fail "the sandbox did not start: $(cat "$T_TMP/$name.err")"
}

case_sigterm_to_sbx_kills_whole_sandbox()
{
	local rc
	ppol
	start_bg_sandbox t 69696
	kill -TERM "$RUN_PID"
	wait "$RUN_PID"
	rc=$?
	eq "sbx exit code after SIGTERM" "$rc" 143
	gone_within 'sleep 69696' || fail "processes of the sandbox survived SIGTERM of sbx: $(procs_matching 'sleep 69696' | tr '\n' ' ')"
}

# sbx cannot clean up after SIGKILL; the next run reclaims the dead slot.
reclaim_with_next_run()
{
	ppol
	run_in next true
	expect_rc next 0
}

case_sigkill_of_sbx_kills_whole_sandbox()
{
	local init
	ppol
	start_bg_sandbox k 61616
	init=$(pgrep -P "$RUN_PID" -x sbx-init)
	[ -n "$init" ] || fail "no sbx-init child of sbx $RUN_PID"
	kill -KILL "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	gone_within 'sleep 61616' || fail "processes of the sandbox survived SIGKILL of sbx: $(procs_matching 'sleep 61616' | tr '\n' ' ')"
	pid_gone_within "$init" || fail "sbx-init $init survived SIGKILL of sbx"
	reclaim_with_next_run
}

# The same with limits: on hybrid hosts the sandbox also has v1 cgroups
# (pids, memory, freezer, ...), which the next run's reclaim must remove too.
case_sigkill_of_sbx_with_limits_leaves_no_cgroup()
{
	local id left
	ppol 'pids = 64
memory = "256M"'
	start_bg_sandbox l 62626
	id=$("$SBX" ps --json | jq -r '.sandboxes[0].id')
	[ -n "$id" ] && [ "$id" != null ] || fail "sbx ps does not list the sandbox"
	T_CASE_RESTORE="find /sys/fs/cgroup -maxdepth 8 -depth -type d -name '$id' -exec rmdir {} \\; 2>/dev/null"
	kill -KILL "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	gone_within 'sleep 62626' || fail "processes of the sandbox survived SIGKILL of sbx"
	reclaim_with_next_run
	left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$id" 2>/dev/null)
	[ -z "$left" ] || fail "cgroups of sandbox $id (manager SIGKILLed) left after the next run reclaimed its slot: $(tr '\n' ' ' <<<"$left")"
}

# ---- environment ---------------------------------------------------------------------

case_env_scrubbed()
{
	local names
	ppol 'env = { SBXTEST_FOO = "bar" }'
	export SBXTEST_SECRET=leak
	run_in r env
	expect_rc r 0
	names=$(cut -d= -f1 "$T_TMP/r.out" | sort | tr '\n' ' ')
	eq "environment variables of the workload" "$names" "HOME PATH SBXTEST_FOO TERM "
	grep -qx 'SBXTEST_FOO=bar' "$T_TMP/r.out" || fail "profile env missing: $(cat "$T_TMP/r.out")"
	grep -q leak "$T_TMP/r.out" && fail "the caller's environment leaked"
	return 0
}

case_cwd_from_profile()
{
	ppol 'cwd = "/usr/share"'
	run_in r pwd
	expect_rc r 0
	eq "cwd" "$(out r)" /usr/share
	ppol
	run_in d pwd
	expect_rc d 0
	eq "default cwd" "$(out d)" /
}

setup process_setup
[ -z "$SBX_TEST_SKIP" ] && make_v_tmp
run_case only_sandbox_processes_visible case_only_sandbox_processes_visible
run_case fs_none_hides_host_paths case_fs_none_hides_host_paths
run_case fs_none_etc_minimal case_fs_none_etc_minimal
run_case fs_none_tmp_private_and_empty case_fs_none_tmp_private_and_empty
run_case fs_none_usr_and_etc_read_only case_fs_none_usr_and_etc_read_only
run_case fs_read_only_host_root_visible case_fs_read_only_host_root_visible
run_case fs_rules_rw_r_deny case_fs_rules_rw_r_deny
run_case fs_rules_most_specific_wins_in_any_order case_fs_rules_most_specific_wins_in_any_order
run_case fs_read_only_with_rules case_fs_read_only_with_rules
run_case fs_deny_listed_before_covering_dir case_fs_deny_listed_before_covering_dir
run_case fs_narrower_r_listed_before_rx_dir case_fs_narrower_r_listed_before_rx_dir
run_case tmp_not_executable case_tmp_not_executable
run_case seccomp_refuses_ptrace_mount_bpf_keyrings_audited case_seccomp_refuses_ptrace_mount_bpf_keyrings_audited
run_case seccomp_action_kill_sigsys case_seccomp_action_kill_sigsys
run_case no_capabilities case_no_capabilities
run_case no_new_privs_and_seccomp_mode case_no_new_privs_and_seccomp_mode
run_case runs_as_own_uid_by_default case_runs_as_own_uid_by_default
run_case runs_as_profile_user case_runs_as_profile_user
run_case cannot_signal_host_processes case_cannot_signal_host_processes
run_case net_none_only_loopback case_net_none_only_loopback
run_case net_none_loopback_tcp_inside case_net_none_loopback_tcp_inside
run_case net_none_nothing_outside_reachable case_net_none_nothing_outside_reachable
run_case net_allow_host_netns_ebpf_lists case_net_allow_host_netns_ebpf_lists
run_case pids_limit_stops_fork_bomb case_pids_limit_stops_fork_bomb
run_case memory_limit_oom_killed case_memory_limit_oom_killed
run_case cpu_quota_applied case_cpu_quota_applied
run_case timeout_term_ignored_nothing_left case_timeout_term_ignored_nothing_left
run_case exit_code_propagates case_exit_code_propagates
run_case signal_propagates case_signal_propagates
run_case stdin_piped case_stdin_piped
run_case large_output_20mb case_large_output_20mb
run_case zombies_reaped case_zombies_reaped
run_case sigterm_to_sbx_kills_whole_sandbox case_sigterm_to_sbx_kills_whole_sandbox
run_case sigkill_of_sbx_kills_whole_sandbox case_sigkill_of_sbx_kills_whole_sandbox
run_case sigkill_of_sbx_with_limits_leaves_no_cgroup case_sigkill_of_sbx_with_limits_leaves_no_cgroup
run_case env_scrubbed case_env_scrubbed
run_case cwd_from_profile case_cwd_from_profile
finish
