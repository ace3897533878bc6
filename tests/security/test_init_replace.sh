#!/bin/bash
# SPDX-License-Identifier: MIT
# PID 1 of a process-provider sandbox is sbx-init, a static binary that sbx's
# init execs through a descriptor opened before the sandbox's view existed
# (providers/process.c). The CVE-2019-5736 class: a workload that reaches
# PID 1's binary through /proc/1/exe (or the host path, if its view shows
# it) and writes it owns every later sandbox's init, as root with every
# capability. The workload, as its default uid and as uid 0 without
# capabilities, tries (init_attack.py): readlink/open /proc/1/exe for read,
# write and O_PATH, /proc/1/mem, environ, root, fd, map_files, and writing,
# renaming, chmod of the sbx-init file; every attempt must be refused and
# the file unchanged. sbx must use no sbx-init that root does not own or that
# others may write, nor one reached by a symlink or in a directory others
# may write (it falls back to its own fork, and the sandbox works).
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
ATTACK=$(realpath "$(dirname "$0")/init_attack.py")
INIT=$OUTPUT/sbx-init

ipol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
pids = 64
memory = "256M"
$1
[profile.t.fs]
mode = "read-only"
EOF
}

init_setup()
{
	[ -x "$INIT" ] || skip "no $INIT (make builds it)"
	[ "$(stat -c %u "$INIT")" = 0 ] || skip "$INIT is not root's: sbx does not use it"
}

# attack NAME: every attempt refused, the file unchanged
attack()
{
	local name=$1 before l got
	before=$(sha256sum <"$INIT")
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- python3 "$ATTACK" "$INIT"
	expect_rc "$name" 0
	for l in readlink_exe exe_read exe_write exe_path mem_read environ_read root_list fd_open \
		map_files path_write path_rename path_chmod; do
		got=$(awk -v l="$l" '$1 == l { $1 = ""; print substr($0, 2); exit }' "$T_TMP/$name.out")
		case $got in
		"refused EPERM" | "refused EACCES" | "refused EROFS" | "refused ENOENT" | "refused ETXTBSY") ;;
		*) fail "$name: $l: expected a refusal, got '${got:-nothing}' ($(tail -c 300 "$T_TMP/$name.err"))" ;;
		esac
	done
	eq "$name: sbx-init's content" "$(sha256sum <"$INIT")" "$before"
}

case_default_user_cannot_reach_init()
{
	ipol ""
	attack du
}

case_root_user_cannot_reach_init()
{
	ipol 'user = "root"'
	attack ru
}

# init_of SBX-PID: the sandbox's PID 1 once its workload (sleep) runs
init_of()
{
	local init=""
	for _ in $(seq 200); do
		init=$(pgrep -P "$1" -x sbx-init) && pgrep -P "$init" -x sleep >/dev/null && break
		sleep 0.05
	done
	echo "$init"
}

# The sandbox's PID 1 is the trusted file, run by descriptor, not a copy of
# sbx, and it catches the signals it forwards.
case_init_is_trusted_sbx_init()
{
	local init
	ipol ""
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 30 >"$T_TMP/i.out" 2>"$T_TMP/i.err"
	init=$(init_of "$BG_PID")
	[ -n "$init" ] || fail "no sbx-init child of sbx $BG_PID: $(cat "$T_TMP/i.err")"
	eq "PID 1's binary" "$(readlink "/proc/$init/exe")" "$INIT"
	grep -q '^SigCgt:.*4a07$' "/proc/$init/status" ||
		fail "sbx-init does not catch the forwarded signals: $(grep ^Sig "/proc/$init/status" | tr '\n' ' ')"
	kill_bg "$BG_PID"
}

# untrusted_run DIR WHAT: the copy of sbx in DIR runs with its own fork as
# PID 1, not DIR/sbx-init, and the workload's status still comes through.
untrusted_run()
{
	local d=$1 init
	bg "$d/sbx" run -P "$T_TMP/policy.toml" --profile t -- sleep 30 >"$T_TMP/n.out" 2>"$T_TMP/n.err"
	init=$(init_of "$BG_PID")
	[ -n "$init" ] || fail "$2: no init under the copied sbx: $(cat "$T_TMP/n.err")"
	sleep 0.3	# past the exec of a trusted sbx-init, if it was taken
	eq "$2: PID 1's binary" "$(readlink "/proc/$init/exe")" "$d/sbx"
	kill_bg "$BG_PID"
	"$d/sbx" run -P "$T_TMP/policy.toml" --profile t -- sh -c 'exit 7' >/dev/null 2>"$T_TMP/n.err"
	RC=$?
	eq "$2: exit status through the fallback init" "$RC" 7
}

# A copy of sbx beside an sbx-init that others may write, or that is not root's.
case_untrusted_init_not_used()
{
	local d=$T_TMP/untrusted
	mkdir "$d" && cp "$SBX" "$d/sbx" && cp "$INIT" "$d/sbx-init" || fail "cannot copy sbx"
	ipol ""
	chmod 0775 "$d/sbx-init"
	untrusted_run "$d" "group-writable"
	chmod 0757 "$d/sbx-init"
	untrusted_run "$d" "world-writable"
	chmod 0755 "$d/sbx-init" && chown nobody "$d/sbx-init" || fail "chown nobody"
	untrusted_run "$d" "owned by nobody"
}

# sbx-init's name a symlink to another root-owned program (anyone who may
# write the directory can make one): that program would be PID 1 with every
# capability (/bin/sh reading a script named like its first argument), so
# the link is not followed; and a directory others may write (where they
# could rename a root-owned file into place) is not trusted at all.
case_symlinked_or_exposed_init_not_used()
{
	local d=$T_TMP/linked r=$T_TMP/real
	mkdir -m 0755 "$d" "$r" && cp "$SBX" "$d/sbx" && cp "$INIT" "$r/sbx-init" || fail "cannot copy sbx"
	# a trusted file in a trusted place, reached through the link
	chmod 0755 "$r/sbx-init" && ln -s "$r/sbx-init" "$d/sbx-init" || fail "ln"
	ipol ""
	untrusted_run "$d" "a symlink to a root-owned program"
	rm "$d/sbx-init"
	cp "$INIT" "$d/sbx-init" && chmod 0755 "$d/sbx-init" || fail "cannot copy sbx-init"
	chmod 0777 "$d"
	untrusted_run "$d" "a world-writable directory"
	chmod 1777 "$d"
	untrusted_run "$d" "a sticky world-writable directory"
	chmod 0775 "$d"
	untrusted_run "$d" "a group-writable directory"
	chmod 0755 "$d" && chown nobody "$d" || fail "chown nobody"
	untrusted_run "$d" "a directory of nobody's"
}

setup init_setup
run_case default_user_cannot_reach_init case_default_user_cannot_reach_init
run_case root_user_cannot_reach_init case_root_user_cannot_reach_init
run_case init_is_trusted_sbx_init case_init_is_trusted_sbx_init
run_case untrusted_init_not_used case_untrusted_init_not_used
run_case symlinked_or_exposed_init_not_used case_symlinked_or_exposed_init_not_used
finish
