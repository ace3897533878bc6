#!/bin/bash
# SPDX-License-Identifier: MIT
# The [fs] policy enforced by the host's filesystem backend (docs/landlock.md):
# on a host without working BPF LSM that is Landlock, applied by the
# process provider's workload right before exec (user/kernel/landlock.c), with the
# refusals reported by the tp_btf/sys_enter + sys_exit audit
# (bpf/lib/fsaudit.h) as "file" events with backend "landlock".
#
# The behaviour cases (reads, writes, execs allowed or refused) are the
# same for both backends; the audit cases expect the backend that
# `sbx features` names; the refusal of policies Landlock cannot express
# (strict: exit 125 naming the rule; best-effort: a degraded run) applies to
# Landlock only, and with BPF LSM the same policies must run and enforce.
#
# Refusals are chosen where the process provider's mount view lets the call
# through, so that it is the fs backend that refuses (EACCES), not a
# read-only or masked mount (EROFS, ENOENT).
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/integration
PROBE=$TOOLS/proc_probe
TOOLS_RULE="{ path = \"$TOOLS/\", access = \"rx\" }"
V_TMP=""
BACKEND=""

_fs_cleanup()
{
	[ -n "$V_TMP" ] && rm -rf "$V_TMP"
	_cleanup
}
trap _fs_cleanup EXIT

fs_setup()
{
	mkdir -p "$TOOLS" || return 1
	# (built beforehand when this suite runs in a VM guest, whose root is read-only)
	[ "$PROBE" -nt "$SRC/proc_probe.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$PROBE" "$SRC/proc_probe.c" || return 1
	chmod 0755 "$T_TMP"
	# outside /tmp, which the process provider's view replaces by a tmpfs
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.fs.XXXXXX") && chmod 0755 "$V_TMP" || return 1
	BACKEND=$("$SBX" features --json | jq -r .fs_backend)
	[ -n "$BACKEND" ] || return 1
}

# make_tree: $D/{ro,rw,wo,plain}/f and $D/rw/mytrue, open to everybody on the host.
make_tree()
{
	local d
	D=$V_TMP/fs
	rm -rf "$D"
	mkdir -p "$D"
	chmod 0755 "$D"
	for d in ro rw wo plain; do
		mkdir -p "$D/$d"
		echo "data-$d" >"$D/$d/f"
		chmod 0777 "$D/$d"
		chmod 0666 "$D/$d/f"
	done
	cp /usr/bin/true "$D/rw/mytrue"
	chmod 0755 "$D/rw/mytrue"
}

# fpol [PROFILE-KEYS] FS-LINES: $T_TMP/policy.toml, profile t on the process
# provider (or $FPROVIDER), network none.
fpol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "${FPROVIDER:-process}"
min_isolation = "${FMINISO:-process}"
$1
[profile.t.network]
mode = "none"
[profile.t.fs]
$2
EOF
}

run_in()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
}

# got NAME LABEL: the first word the probe LABEL printed in run NAME.
got()
{
	awk -v l="$2" '$1 == l { print $2; exit }' "$T_TMP/$1.out"
}

# file_event NAME PATH: the first "file" audit event of run NAME for PATH (JSON).
file_event()
{
	jq -c --arg p "$2" 'select(.event == "file" and .path == $p)' "$T_TMP/$1.audit" 2>/dev/null | head -1
}

# expect_file_event NAME PATH ACCESS: a refusal of ACCESS on PATH was audited
# by the backend in use.
expect_file_event()
{
	local ev
	ev=$(file_event "$1" "$2")
	[ -n "$ev" ] || fail "no file event for $2 (events: $(jq -r '.event' "$T_TMP/$1.audit" 2>/dev/null | sort | uniq -c | tr '\n' ' '))"
	eq "backend of $2" "$(jq -r .backend <<<"$ev")" "$BACKEND"
	eq "verdict of $2" "$(jq -r .verdict <<<"$ev")" deny
	local acc
	acc=$(jq -r .access <<<"$ev")
	# an exec opens the file for reading too: BPF LSM reports what the open
	# asked (rx), Landlock what was refused (x)
	[ "$3" = x ] && [ "$BACKEND" = bpf-lsm ] && [ "$acc" = rx ] && acc=x
	eq "access of $2" "$acc" "$3"
}

landlock_only()
{
	[ "$BACKEND" = landlock ] || skip "the fs backend here is '$BACKEND'"
}

# ---- cases -------------------------------------------------------------------

# The host provider in read-only mode: the host's /dev/null, /dev/full and
# /dev/tty stay writable, as in every view (before: a shell redirect to
# /dev/null failed with EACCES); everything else stays read-only, audited.
case_host_read_only_dev_null_writable()
{
	make_tree
	FPROVIDER=host FMINISO=none fpol '' 'mode = "read-only"'
	run_in ro sh -c "echo x >/dev/null && echo null-ok; echo y >$D/plain/f 2>/dev/null && echo file-written || echo file-refused"
	expect_rc ro 0
	eq "output" "$(tr '\n' ' ' <"$T_TMP/ro.out")" "null-ok file-refused "
	eq "host file" "$(cat "$D/plain/f")" "data-plain"
	expect_file_event ro "$D/plain/f" w
}

# mode none: rules grant r, rw and w; the base view (system dirs, the view's
# /etc files, /dev nodes, /tmp) stays usable; everything else is refused.
case_reads_writes_allowed_and_refused_audited()
{
	make_tree
	fpol "" "mode = \"none\"
rules = [{ path = \"/usr/\", access = \"rx\" }, $TOOLS_RULE,
	{ path = \"$D/ro/\", access = \"r\" }, { path = \"$D/rw/\", access = \"rw\" },
	{ path = \"$D/wo/\", access = \"w\" }]"
	run_in r sh -c "
		printf 'read-ro '; $PROBE read $D/ro/f
		printf 'read-rw '; $PROBE read $D/rw/f
		printf 'write-rw '; $PROBE write $D/rw/new
		printf 'write-wo '; $PROBE write $D/wo/new
		printf 'read-wo '; $PROBE read $D/wo/f
		printf 'read-etc '; $PROBE read /etc/passwd
		printf 'write-dev '; $PROBE write /dev/null
		printf 'mkdir-ro '; $PROBE mkdir $D/ro/d
		true"
	expect_rc r 0
	eq "read under r" "$(got r read-ro)" ok
	eq "read under rw" "$(got r read-rw)" ok
	eq "write under rw" "$(got r write-rw)" ok
	eq "write under w" "$(got r write-wo)" ok
	eq "read under w" "$(got r read-wo)" EACCES
	eq "read of /etc/passwd (base view) in mode none" "$(got r read-etc)" ok
	eq "write of /dev/null (base view) in mode none" "$(got r write-dev)" ok
	case $(got r mkdir-ro) in EACCES | EROFS) ;; *) fail "mkdir under r: $(got r mkdir-ro)" ;; esac
	[ -e "$D/rw/new" ] || fail "the write under rw did not reach the host"
	[ -e "$D/ro/d" ] && fail "a directory was made under r"
	expect_file_event r "$D/wo/f" r
	[ -z "$(file_event r "$D/ro/f")" ] || fail "an allowed read was reported as refused"
	[ -z "$(file_event r "$D/rw/new")" ] || fail "an allowed write was reported as refused"
}

# An exec list: only its files and directories may be executed, whatever the
# mode and rules say; reading follows the rules.
case_exec_list_allowed_and_refused_audited()
{
	make_tree
	fpol "" "mode = \"read-only\"
rules = [{ path = \"$D/rw/\", access = \"rwx\" }, $TOOLS_RULE]
exec = [\"/usr/\", \"$TOOLS/\"]"
	run_in r sh -c "
		printf 'exec-usr '; /usr/bin/true && echo ok || echo refused
		printf 'exec-rw '; $D/rw/mytrue && echo ok || echo refused
		printf 'read-rw '; $PROBE read $D/rw/mytrue
		true"
	expect_rc r 0
	eq "exec of a listed binary" "$(got r exec-usr)" ok
	eq "exec of an unlisted binary under rwx" "$(got r exec-rw)" refused
	eq "read of the unlisted binary" "$(got r read-rw)" ok
	expect_file_event r "$D/rw/mytrue" x
	[ -z "$(file_event r /usr/bin/true)" ] || fail "an allowed exec was reported as refused"
}

# The workload's command itself is refused: exit 126, audited.
case_exec_of_the_command_refused()
{
	make_tree
	fpol "" "mode = \"read-only\"
exec = [\"/usr/\", \"$TOOLS/\"]"
	run_in r "$D/rw/mytrue"
	expect_rc r 126
	expect_file_event r "$D/rw/mytrue" x
}

# A deny inside a granted tree: Landlock can only add access. Without a mount
# view that narrows it (the host provider), strict refuses before anything
# runs, naming the rule, its position and what is missing. (The process
# provider's view masks the path, so there it is enforced and runs.)
case_strict_refuses_deny_inside_granted_tree()
{
	local FPROVIDER=host FMINISO=none
	make_tree
	fpol 'enforcement = "strict"' "mode = \"read-only\"
rules = [{ path = \"$D/plain/f\", access = \"deny\" }]"
	# (mode read-only: the touch itself fails where the run goes ahead)
	run_in r sh -c "touch '$T_TMP/r.ran' 2>/dev/null; true"
	if [ "$BACKEND" != landlock ]; then
		expect_rc r 0	# BPF LSM enforces it; the behaviour is checked below
		return 0
	fi
	expect_rc r 125
	grep -q "fs rule '$D/plain/f' deny ($T_TMP/policy.toml:10:" "$T_TMP/r.err" ||
		fail "the error does not name the rule and its position: $(cat "$T_TMP/r.err")"
	grep -q "Landlock can only add access" "$T_TMP/r.err" ||
		fail "the error does not say what Landlock lacks: $(cat "$T_TMP/r.err")"
	[ -e "$T_TMP/r.ran" ] && fail "the workload ran"
	return 0
}

# rw inside read-only (rx) takes x away: refused too, with what stays allowed.
case_strict_refuses_rw_inside_read_only()
{
	local FPROVIDER=host FMINISO=none
	landlock_only
	make_tree
	fpol "" "mode = \"read-only\"
rules = [{ path = \"$D/rw/\", access = \"rw\" }]"
	run_in r touch "$T_TMP/r.ran"
	expect_rc r 125
	grep -q "fs rule '$D/rw/' rw" "$T_TMP/r.err" || fail "the rule is not named: $(cat "$T_TMP/r.err")"
	grep -q "'x' stays allowed" "$T_TMP/r.err" || fail "the lost access is not named: $(cat "$T_TMP/r.err")"
}

# An exec list names everything that may be executed, the dynamic loader
# included (the kernel executes ld.so for a dynamic binary): without it the
# exec fails with EACCES (126); with "/usr/lib/" listed it runs.
case_exec_list_needs_the_loader()
{
	landlock_only
	local FPROVIDER=host FMINISO=none
	# (best-effort: the host's /tmp stays writable and mappable under mode
	# none, which strict refuses with an exec list; tests/security/test_fs_escape.sh)
	fpol 'enforcement = "best-effort"' "mode = \"none\"
exec = [\"/usr/bin/true\"]"
	run_in r /usr/bin/true
	expect_rc r 126
	fpol 'enforcement = "best-effort"' "mode = \"none\"
exec = [\"/usr/bin/true\", \"/usr/lib/\"]"
	run_in r2 /usr/bin/true
	expect_rc r2 0
}

# best-effort runs, and the result and the audit trail say what was not enforced.
case_best_effort_runs_degraded()
{
	local FPROVIDER=host FMINISO=none
	landlock_only
	make_tree
	fpol 'enforcement = "best-effort"' "mode = \"read-only\"
rules = [{ path = \"$D/plain/f\", access = \"deny\" }, $TOOLS_RULE]"
	run_in r sh -c "printf 'read-ro '; $PROBE read $D/ro/f; printf 'write-ro '; $PROBE write $D/ro/new; true"
	expect_rc r 0
	eq enforcement "$(jr r .enforcement)" best-effort
	eq "degraded names the rule" "$(jr r "[.degraded[] | select(contains(\"$D/plain/f\"))] | length")" 1
	grep -q "$D/plain/f" "$T_TMP/r.audit" ||
		fail "no audit event says that the rule was not enforced (events: $(jq -r .event "$T_TMP/r.audit" | sort | uniq -c | tr '\n' ' '))"
	# the rest of the policy still holds
	eq "read in read-only" "$(got r read-ro)" ok
	case $(got r write-ro) in EACCES | EROFS) ;; *) fail "write in read-only: $(got r write-ro)" ;; esac
}

# The same deny under BPF LSM is enforced (the other half of the suite).
case_bpf_lsm_enforces_deny_inside_granted_tree()
{
	[ "$BACKEND" = bpf-lsm ] || skip "the fs backend here is '$BACKEND'"
	make_tree
	fpol "" "mode = \"read-only\"
rules = [{ path = \"$D/plain/\", access = \"deny\" }, $TOOLS_RULE]"
	run_in r sh -c "printf 'read-deny '; $PROBE read $D/plain/f; printf 'read-ro '; $PROBE read $D/ro/f; true"
	expect_rc r 0
	# the mount view masks the directory too: refused one way or the other
	case $(got r read-deny) in EACCES | ENOENT) ;; *) fail "read under deny: $(got r read-deny)" ;; esac
	eq "read in read-only" "$(got r read-ro)" ok
}

# The result's "denials" counts what the audit trail reports refused: a file
# read, an exec outside the exec list and a syscall of the seccomp filter,
# each in its own key beside the network ones.
case_result_counts_file_exec_syscall_denials()
{
	make_tree
	fpol "" "mode = \"none\"
rules = [{ path = \"/usr/\", access = \"rx\" }, $TOOLS_RULE, { path = \"$D/wo/\", access = \"w\" },
	{ path = \"$D/rw/\", access = \"rwx\" }]
exec = [\"/usr/\", \"$TOOLS/\"]"
	run_in r sh -c "
		printf 'read-wo '; $PROBE read $D/wo/f
		printf 'exec-rw '; $D/rw/mytrue && echo ok || echo refused
		printf 'ptrace '; $PROBE ptrace
		true"
	expect_rc r 0
	eq "read under w" "$(got r read-wo)" EACCES
	eq "exec outside the list" "$(got r exec-rw)" refused
	eq "ptrace" "$(got r ptrace)" EPERM
	eq "file denials in the result" "$(jr r '.denials.file >= 1')" true
	eq "exec denials in the result" "$(jr r '.denials.exec >= 1')" true
	eq "syscall denials in the result" "$(jr r '.denials.syscall >= 1')" true
	# and they agree with the audit trail
	eq "file denials = file events" "$(jr r .denials.file)" \
		"$(ja r '[.[] | select(.event == "file" and .verdict == "deny" and .op != "exec" and .op != "mmap_exec")] | length')"
	eq "exec denials = exec events" "$(jr r .denials.exec)" \
		"$(ja r '[.[] | select(.event == "file" and .verdict == "deny" and (.op == "exec" or .op == "mmap_exec"))] | length')"
	eq "syscall denials = syscall.denied events" "$(jr r .denials.syscall)" \
		"$(ja r '[.[] | select(.event == "syscall.denied")] | length')"
}

setup fs_setup
run_case host_read_only_dev_null_writable case_host_read_only_dev_null_writable
run_case reads_writes_allowed_and_refused_audited case_reads_writes_allowed_and_refused_audited
run_case exec_list_allowed_and_refused_audited case_exec_list_allowed_and_refused_audited
run_case exec_of_the_command_refused case_exec_of_the_command_refused
run_case strict_refuses_deny_inside_granted_tree case_strict_refuses_deny_inside_granted_tree
run_case strict_refuses_rw_inside_read_only case_strict_refuses_rw_inside_read_only
run_case exec_list_needs_the_loader case_exec_list_needs_the_loader
run_case best_effort_runs_degraded case_best_effort_runs_degraded
run_case bpf_lsm_enforces_deny_inside_granted_tree case_bpf_lsm_enforces_deny_inside_granted_tree
run_case result_counts_file_exec_syscall_denials case_result_counts_file_exec_syscall_denials
finish
