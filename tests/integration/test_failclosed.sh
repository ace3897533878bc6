#!/bin/bash
# SPDX-License-Identifier: MIT
# Fail closed everywhere (issue 11): what a provider cannot enforce is refused
# under strict (exit 125, naming the key, the provider and the reason; the
# workload never runs) and listed in the result's degraded list under
# best-effort; what it accepts it applies. The table behind it is
# user/core/enforce.c; tests/unit/test_enforce.c walks every key x provider.
# Here: the host and gVisor providers (the microVM's cases are in
# test_provider_microvm.sh, which has a guest to boot).
. "$(dirname "$0")/lib.sh"

# prof FILE PROVIDER MIN EXTRA-PROFILE-KEYS [MORE-TABLES]
prof()
{
	cat >"$1" <<EOF
version = 1
[profile.t]
provider = "$2"
min_isolation = "$3"
$4
[profile.t.fs]
mode = "full"
$5
EOF
}

run_t()
{
	local name=$1 file=$2
	shift 2
	rm -f "$T_TMP/$name.ran"
	sbx_run "$name" -P "$file" --profile t -- "$@"
}

# The host provider's workload gets the profile's environment plus PATH,
# HOME and TERM; nothing of the caller's (before: sbx's whole environment).
case_host_env_not_leaked()
{
	prof "$T_TMP/env.toml" host none 'env = { MINE = "yes" }'
	SBX_LEAK_CANARY=secret sbx_run env -P "$T_TMP/env.toml" --profile t -- /usr/bin/env
	expect_rc env 0
	grep -q '^MINE=yes$' "$T_TMP/env.out" || fail "the profile's variable is missing: $(cat "$T_TMP/env.out")"
	grep -q 'SBX_LEAK_CANARY' "$T_TMP/env.out" && fail "the caller's environment leaked into the workload"
	grep -q '^PATH=' "$T_TMP/env.out" || fail "no PATH"
	eq "variables" "$(wc -l <"$T_TMP/env.out")" 4
}

# The host provider applies a profile's [seccomp] table (before: ignored):
# a denied call fails with EPERM and is audited as syscall.denied.
case_host_seccomp_deny_enforced()
{
	prof "$T_TMP/sc.toml" host none '' '[profile.t.seccomp]
deny = ["uname"]'
	run_t sc "$T_TMP/sc.toml" /bin/uname -s
	[ "$RC" = 0 ] && fail "uname ran although the profile denies it: $(cat "$T_TMP/sc.out")"
	grep -q 'Operation not permitted' "$T_TMP/sc.err" || fail "no EPERM: $(tail -c 300 "$T_TMP/sc.err")"
	eq "syscall.denied uname" "$(ja sc '[.[] | select(.event == "syscall.denied" and .syscall == "uname")] | length > 0')" true
	# without the table the host workload keeps every call
	prof "$T_TMP/nosc.toml" host none ''
	run_t nosc "$T_TMP/nosc.toml" /bin/uname -s
	expect_rc nosc 0
	eq "uname" "$(cat "$T_TMP/nosc.out")" Linux
}

# The host provider has no network namespace: namespace = "private" is
# refused under strict, degraded under best-effort (before: ignored).
# A [seccomp] table that only spells out the defaults (preset = "default")
# asks for the default filter too (before: the host provider read it as
# unset and ran the workload without any filter, degraded list empty).
case_host_seccomp_default_preset_enforced()
{
	local py='import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(0, 0, 0, 0)
print("ptrace", "ok" if r == 0 else os.strerror(ctypes.get_errno()))'
	prof "$T_TMP/dflt.toml" host none '' '[profile.t.seccomp]
preset = "default"'
	run_t dflt "$T_TMP/dflt.toml" python3 -c "$py"
	expect_rc dflt 0
	eq "ptrace(PTRACE_TRACEME) under preset = \"default\"" "$(cat "$T_TMP/dflt.out")" "ptrace Operation not permitted"
	eq "syscall.denied ptrace events" \
		"$(ja dflt '[.[] | select(.event == "syscall.denied" and .syscall == "ptrace" and .errno == 1)] | length')" 1
	eq "degraded" "$(jr dflt '.degraded | length')" 0
	# and without the table, a plain host process: ptrace works
	prof "$T_TMP/none.toml" host none ''
	run_t none "$T_TMP/none.toml" python3 -c "$py"
	eq "ptrace without [seccomp]" "$(cat "$T_TMP/none.out")" "ptrace ok"
}

case_host_private_netns_refused()
{
	prof "$T_TMP/ns.toml" host none '' '[profile.t.network]
namespace = "private"'
	run_t ns "$T_TMP/ns.toml" sh -c ": >$T_TMP/ns.ran"
	expect_rc ns 125
	grep -q "'network.namespace' cannot be enforced by provider 'host'" "$T_TMP/ns.err" ||
		fail "the error does not name the key: $(cat "$T_TMP/ns.err")"
	[ -e "$T_TMP/ns.ran" ] && fail "the workload ran"
	prof "$T_TMP/nsbe.toml" host none 'enforcement = "best-effort"' '[profile.t.network]
namespace = "private"'
	run_t nsbe "$T_TMP/nsbe.toml" true
	expect_rc nsbe 0
	eq "degraded" "$(jr nsbe '[.degraded[] | select(startswith("network.namespace: not enforced by provider host"))] | length')" 1
}

# gVisor cannot apply an exec allow-list (its sentry loads programs itself).
case_gvisor_fs_exec_refused_under_strict()
{
	prof "$T_TMP/gx.toml" gvisor gvisor '' 'exec = ["/usr/bin/"]'
	run_t gx "$T_TMP/gx.toml" sh -c ": >$T_TMP/gx.ran"
	expect_rc gx 125
	grep -q "'fs.exec' cannot be enforced by provider 'gvisor'" "$T_TMP/gx.err" ||
		fail "the error does not name fs.exec: $(cat "$T_TMP/gx.err")"
	[ -e "$T_TMP/gx.ran" ] && fail "the workload ran"
	return 0
}

# "auto" never picks a provider that cannot enforce the profile: with an
# exec list it passes over gVisor (before: picked it and ran without the list).
case_auto_skips_provider_that_cannot_enforce()
{
	"$SBX" providers --json 2>/dev/null | jq -e '.. | objects | select(.name? == "gvisor" and .available == true)' >/dev/null ||
		skip "gvisor is not available here: auto would not pick it anyway"
	cat >"$T_TMP/auto.toml" <<EOF
version = 1
[profile.t]
provider = "auto"
min_isolation = "process"
[profile.t.fs]
mode = "read-only"
exec = ["/usr/bin/", "/bin/", "/usr/lib/", "/lib/", "/lib64/"]
EOF
	run_t auto "$T_TMP/auto.toml" /bin/true
	expect_rc auto 0
	eq provider "$(jr auto .provider)" process
}

run_case host_env_not_leaked case_host_env_not_leaked
run_case host_seccomp_deny_enforced case_host_seccomp_deny_enforced
run_case host_seccomp_default_preset_enforced case_host_seccomp_default_preset_enforced
run_case host_private_netns_refused case_host_private_netns_refused
run_case gvisor_fs_exec_refused_under_strict case_gvisor_fs_exec_refused_under_strict
run_case auto_skips_provider_that_cannot_enforce case_auto_skips_provider_that_cannot_enforce
finish
