#!/bin/bash
# SPDX-License-Identifier: MIT
# Out of the box: `sbx run -- CMD` with no --policy and no --profile.
# The policy comes from --policy, else $SBX_POLICY, else the policy directory
# ($SBX_POLICY_DIR, here a temporary directory instead of /etc/sbx/policy.d),
# else only the built-in profile "default" (process provider, no network,
# read-only host view, limits). Checked: the built-in profile runs a command
# with those properties; a policy directory is read and its own "default"
# replaces the built-in; its other profiles are found by --profile;
# $SBX_POLICY wins over the directory and --policy over $SBX_POLICY; an
# invalid file in the directory makes the run fail (125) with its position
# instead of silently falling back to the built-in profile.
. "$(dirname "$0")/lib.sh"

oob_setup()
{
	mkdir -p "$T_TMP/empty" "$T_TMP/pd" "$T_TMP/bad"
	cat >"$T_TMP/pd/10-default.toml" <<'EOF2'
[profile.default]
provider = "mock"
min_isolation = "none"
[profile.default.mock]
stdout = "policy dir default\n"
[profile.default.fs]
mode = "full"
EOF2
	cat >"$T_TMP/pd/20-other.toml" <<'EOF2'
[profile.other]
provider = "mock"
min_isolation = "none"
[profile.other.mock]
stdout = "policy dir other\n"
[profile.other.fs]
mode = "full"
EOF2
	cat >"$T_TMP/env.toml" <<'EOF2'
[profile.from-env]
provider = "mock"
min_isolation = "none"
[profile.from-env.mock]
stdout = "from SBX_POLICY\n"
[profile.from-env.fs]
mode = "full"
EOF2
	sed 's/from-env/from-flag/; s/from SBX_POLICY/from --policy/' "$T_TMP/env.toml" >"$T_TMP/flag.toml"
	printf '[profile.x]\nmemroy = "1G"\n' >"$T_TMP/bad/x.toml"
	start_listener P4 127.0.0.1 tcp
}

case_builtin_default_profile_runs()
{
	SBX_POLICY_DIR=$T_TMP/empty sbx_run r -- sh -c \
		"echo hello; touch /etc/sbx-oob-probe 2>/dev/null && echo wrote; \
		 $(probes "host connect 127.0.0.1 $P4")"
	expect_rc r 0
	[ -e /etc/sbx-oob-probe ] && { rm -f /etc/sbx-oob-probe; fail "the sandbox wrote into /etc"; }
	eq "first line" "$(head -1 "$T_TMP/r.out")" hello
	grep -q '^wrote' "$T_TMP/r.out" && fail "touch /etc succeeded in a read-only view"
	got=$(awk '$1 == "host" { print $2 }' "$T_TMP/r.out")
	[ -n "$got" ] && [ "$got" != ok ] || fail "connect to 127.0.0.1:$P4 gave '$got' under network none"
	eq "result profile" "$(jr r .profile)" default
	eq "result provider" "$(jr r .provider)" process
	return 0
}

case_builtin_default_limits_apply()
{
	SBX_POLICY_DIR=/nonexistent/sbx-policy.d sbx_run r -- sh -c 'ulimit -n; ulimit -f'
	expect_rc r 0
	eq "nofile" "$(sed -n 1p "$T_TMP/r.out")" 1024
	eq "fsize (512-byte blocks)" "$(sed -n 2p "$T_TMP/r.out")" $((1024 * 1024 * 2))
}

case_policy_dir_default_replaces_builtin()
{
	SBX_POLICY_DIR=$T_TMP/pd sbx_run r -- true
	expect_rc r 0
	eq "stdout" "$(cat "$T_TMP/r.out")" "policy dir default"
	eq "result provider" "$(jr r .provider)" mock
	SBX_POLICY_DIR=$T_TMP/pd sbx_run o --profile other -- true
	expect_rc o 0
	eq "stdout of --profile other" "$(cat "$T_TMP/o.out")" "policy dir other"
}

case_precedence_flag_env_dir()
{
	SBX_POLICY=$T_TMP/env.toml SBX_POLICY_DIR=$T_TMP/pd sbx_run e -- true
	expect_rc e 0
	eq "\$SBX_POLICY over the directory" "$(cat "$T_TMP/e.out")" "from SBX_POLICY"
	SBX_POLICY=$T_TMP/env.toml SBX_POLICY_DIR=$T_TMP/pd sbx_run f -P "$T_TMP/flag.toml" -- true
	expect_rc f 0
	eq "--policy over \$SBX_POLICY" "$(cat "$T_TMP/f.out")" "from --policy"
	# the built-in "default" is still there beside a named policy
	SBX_POLICY=$T_TMP/env.toml sbx_run d --profile default -- true
	expect_rc d 0
	eq "--profile default beside \$SBX_POLICY" "$(jr d .provider)" process
}

case_invalid_policy_dir_fails_closed()
{
	SBX_POLICY_DIR=$T_TMP/bad sbx_run r -- true
	expect_rc r 125
	grep -q "$T_TMP/bad/x.toml:2:1: error: unknown key 'memroy'" "$T_TMP/r.err" ||
		fail "no positioned error: $(cat "$T_TMP/r.err")"
}

setup oob_setup
run_case builtin_default_profile_runs case_builtin_default_profile_runs
run_case builtin_default_limits_apply case_builtin_default_limits_apply
run_case policy_dir_default_replaces_builtin case_policy_dir_default_replaces_builtin
run_case precedence_flag_env_dir case_precedence_flag_env_dir
run_case invalid_policy_dir_fails_closed case_invalid_policy_dir_fails_closed
finish
