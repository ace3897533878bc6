#!/bin/bash
# SPDX-License-Identifier: MIT
# `sbx learn` turns an observed workload's audit trail into a profile. What
# it cannot learn it writes as comments, with the name the workload used:
# an abstract unix name, a relative path. Those names are the workload's to
# choose, newlines included, and the JSON trail carries them faithfully
# (tests/security/test_audit_names.sh): written into a "# ..." line as they
# were, a newline ended the comment and the rest of the name became TOML of
# the learnt profile, here a profile "injected" with provider "host" that
# the person applying the file would not have asked for. The learnt file
# must hold the learnt profile alone, and pass `sbx policy check`.
. "$(dirname "$0")/../integration/lib.sh"

INJECT=$(realpath "$(dirname "$0")/learn_inject.py")

learn_setup()
{
	cat >"$T_TMP/p.toml" <<EOF
version = 1
[profile.tight]
provider = "process"
[profile.tight.network]
mode = "allow"
[profile.tight.fs]
mode = "read-only"
EOF
}

case_learnt_profile_holds_no_injected_toml()
{
	local out
	sbx_run o --observe -P "$T_TMP/p.toml" --profile tight -- python3 "$INJECT"
	expect_rc o 0
	grep -q '"abstract":"x\\nversion' "$T_TMP/o.audit" || fail "no net.unix event with the name: $(cat "$T_TMP/o.audit")"
	"$SBX" learn --audit "$T_TMP/o.audit" --name clone -o "$T_TMP/l.toml" 2>"$T_TMP/l.err" ||
		fail "learn: $(cat "$T_TMP/l.err")"
	grep -q 'abstract unix name' "$T_TMP/l.toml" || fail "the abstract name is not noted: $(cat "$T_TMP/l.toml")"
	out=$(python3 -c 'import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))
print(" ".join(sorted(p.get("profile", {}))))' "$T_TMP/l.toml" 2>&1) || fail "the learnt file is not TOML: $out"
	eq "profiles of the learnt file" "$out" clone
	grep -q '^\[profile.injected' "$T_TMP/l.toml" && fail "injected tables: $(cat "$T_TMP/l.toml")"
	"$SBX" policy check "$T_TMP/l.toml" >"$T_TMP/c.out" 2>&1 || fail "policy check: $(cat "$T_TMP/c.out")"
	return 0
}

setup learn_setup
run_case learnt_profile_holds_no_injected_toml case_learnt_profile_holds_no_injected_toml
finish
