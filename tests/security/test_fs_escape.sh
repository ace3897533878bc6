#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on the filesystem plan and the views built from it
# (docs/security.md, "What an exec list promises" and "The process
# provider's view"), each of which worked before it was closed:
#
# - a listed dynamic program told to load a library the workload wrote
#   (LD_PRELOAD): Landlock judges exec, not mmap(PROT_EXEC), so the code
#   runs unless the file is on a noexec mount. The host provider has no
#   mounts, and the process provider's view left the host's root executable
#   under fs.mode read-write: strict refuses those shapes under Landlock;
# - a mount below a granted directory kept the host's flags (writable,
#   executable) in the process provider's view: the library is loaded from
#   there;
# - a deny rule on a symlink masked the host's tree, not the view's: the
#   file stayed readable.
#
# Each must fail to run the library, or be refused with the reason.
. "$(dirname "$0")/../integration/lib.sh"

V_TMP=""
BACKEND=""
EVIL=""

_esc_cleanup()
{
	grep -q " $V_TMP/w/sub " /proc/mounts 2>/dev/null && umount "$V_TMP/w/sub"
	[ -n "$V_TMP" ] && rm -rf "$V_TMP"
	_cleanup
}
trap _esc_cleanup EXIT

esc_setup()
{
	command -v gcc >/dev/null || return 1
	# outside /tmp, which the process provider's view replaces by a tmpfs
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.esc.XXXXXX") && chmod 0755 "$V_TMP" || return 1
	mkdir -m 0777 "$V_TMP/w" || return 1
	EVIL=$V_TMP/evil.so
	printf '%s\n' '#include <stdio.h>' '#include <unistd.h>' \
		'__attribute__((constructor)) static void pwn(void)' \
		'{ puts("PWNED"); fflush(stdout); _exit(42); }' >"$V_TMP/evil.c"
	gcc -shared -fPIC -o "$EVIL" "$V_TMP/evil.c" && chmod 0644 "$EVIL" || return 1
	BACKEND=$("$SBX" features --json | jq -r .fs_backend)
	[ -n "$BACKEND" ]
}

# epol PROVIDER ENFORCEMENT FS-LINES: $T_TMP/policy.toml, profile t.
epol()
{
	local iso=process
	[ "$1" = host ] && iso=none
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
enforcement = "$2"
[profile.t.network]
mode = "none"
[profile.t.fs]
$3
EOF
}

# erun NAME CMD...: runs CMD in profile t; RC, $T_TMP/NAME.{out,err,result}.
erun()
{
	local name=$1
	shift
	"$SBX" run --result "$T_TMP/$name.result" -P "$T_TMP/policy.toml" --profile t -- "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
}

# preload NAME DIR: the workload copies the library into DIR (it can write
# there) and runs a listed program with it preloaded.
preload()
{
	local so="$2/x.$RANDOM.so"	# (a file of an earlier run may be another user's)
	erun "$1" /bin/sh -c "cp '$EVIL' '$so' && LD_PRELOAD='$so' /usr/bin/true && echo clean"
}

# not_pwned NAME: the library did not run, the listed program did.
not_pwned()
{
	grep -q PWNED "$T_TMP/$1.out" &&
		fail "$1: the written library ran in a listed program (rc $RC): the exec list was bypassed"
	expect_rc "$1" 0
	eq "$1: the listed program ran" "$(cat "$T_TMP/$1.out")" clean
}

# refused_mappable NAME: strict refused the profile, naming why.
refused_mappable()
{
	expect_rc "$1" 125
	grep -q "Landlock does not check what a program maps executable" "$T_TMP/$1.err" ||
		fail "$1: refusal without the reason: $(head -c 400 "$T_TMP/$1.err")"
}

EXEC_LIST='exec = ["/usr/", "/bin/", "/lib/", "/lib64/"]'

# The host provider: an rw grant is as executable-mappable as the host has it.
case_host_rw_grant_preload()
{
	epol host strict "mode = \"read-only\"
rules = [{ path = \"$V_TMP/w/\", access = \"rw\" }]
$EXEC_LIST"
	preload s "$V_TMP/w"
	if [ "$BACKEND" = bpf-lsm ]; then
		not_pwned s	# mmap_file refuses the unlisted library
		return 0
	fi
	refused_mappable s
	# best-effort runs, and says what it could not hold
	epol host best-effort "mode = \"read-only\"
rules = [{ path = \"$V_TMP/w/\", access = \"rw\" }]
$EXEC_LIST"
	preload b "$V_TMP/w"
	jq -e '.degraded | map(select(test("a listed program can map code written there"))) | length >= 1' \
		"$T_TMP/b.result" >/dev/null || fail "best-effort: no degraded item ($(jq -c .degraded "$T_TMP/b.result"))"
}

# The host provider under fs.mode none: the base view's /tmp is writable.
case_host_mode_none_tmp()
{
	[ "$BACKEND" = bpf-lsm ] && skip "BPF LSM judges the mapping: nothing to refuse"
	epol host strict 'mode = "none"'
	erun s /usr/bin/true
	refused_mappable s
}

# The process provider under fs.mode read-write: the host's root is
# writable and executable in the view.
case_process_read_write_preload()
{
	epol process strict "mode = \"read-write\"
$EXEC_LIST"
	preload s "$V_TMP/w"
	if [ "$BACKEND" = bpf-lsm ]; then
		not_pwned s
		return 0
	fi
	refused_mappable s
}

# The process provider, fs.mode read-only: rw grants are noexec, down to the
# mounts below them; the grant still writes there, and an r grant keeps
# its submounts read-only.
case_process_submount_flags()
{
	local SUBMNT=$V_TMP/w/sub
	mkdir -m 0777 "$SUBMNT" && mount -t tmpfs -o mode=1777,size=4m sbxtest-esc "$SUBMNT" ||
		skip "cannot mount a tmpfs below the grant"
	T_CASE_RESTORE="umount '$SUBMNT'"
	epol process strict "mode = \"read-only\"
rules = [{ path = \"$V_TMP/w/\", access = \"rw\" }]
$EXEC_LIST"
	preload s "$SUBMNT"
	not_pwned s
	erun w /bin/sh -c "echo x > '$SUBMNT/f' && echo wrote"
	eq "write below the rw grant" "$(cat "$T_TMP/w.out")" wrote
	# (read-write: Landlock allows the write, the view alone refuses it;
	# best-effort, since the view holds it only while the path stays)
	epol process best-effort "mode = \"read-write\"
rules = [{ path = \"$V_TMP/w/\", access = \"r\" }]"
	erun r /bin/sh -c "(echo y > '$SUBMNT/g') 2>/dev/null && echo wrote; echo done"
	expect_rc r 0
	eq "the workload ran" "$(tail -n 1 "$T_TMP/r.out")" done
	[ -e "$SUBMNT/g" ] && fail "an r rule left the mount below it writable"
	grep -q wrote "$T_TMP/r.out" && fail "r rule: the write below it succeeded"
	return 0
}

# A deny rule on a symlink hides the file it leads to in the view.
case_process_deny_symlink()
{
	echo TOPSECRET >"$V_TMP/secret" && chmod 0644 "$V_TMP/secret"
	ln -s "$V_TMP/secret" "$V_TMP/link"
	epol process strict "mode = \"read-only\"
rules = [{ path = \"$V_TMP/link\", access = \"deny\" }]"
	# a deny through a symlink would protect nothing under BPF LSM (it judges
	# the resolved path): the rule is refused, naming the path to write
	erun s /bin/sh -c "cat '$V_TMP/link'; cat '$V_TMP/secret'; echo done"
	grep -q TOPSECRET "$T_TMP/s.out" && fail "a deny rule on a symlink left the file readable"
	expect_rc s 125
	grep -q "crosses a symlink ($V_TMP/link -> $V_TMP/secret)" "$T_TMP/s.err" ||
		fail "the refusal does not name the link: $(cat "$T_TMP/s.err")"
	epol process strict "mode = \"read-only\"
rules = [{ path = \"$V_TMP/secret\", access = \"deny\" }]"
	erun t /bin/sh -c "cat '$V_TMP/link'; cat '$V_TMP/secret'; echo done"
	grep -q TOPSECRET "$T_TMP/t.out" && fail "a deny rule on the real path left the file readable via the link"
	expect_rc t 0
	eq "the workload ran" "$(tail -n 1 "$T_TMP/t.out")" done
}

setup esc_setup
run_case host_rw_grant_preload case_host_rw_grant_preload
run_case host_mode_none_tmp case_host_mode_none_tmp
run_case process_read_write_preload case_process_read_write_preload
run_case process_submount_flags case_process_submount_flags
run_case process_deny_symlink case_process_deny_symlink
finish
