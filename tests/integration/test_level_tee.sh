#!/bin/bash
# SPDX-License-Identifier: MIT
# The tee level (providers/tee.c): on a host without AMD SEV-SNP or Intel
# TDX, `sbx providers` reports it unavailable naming each missing piece, and
# a profile that asks for it is refused (125), never run on something weaker.
# On a host that has them this file SKIPs: the confidential guest itself is
# not tested here (docs/providers.md).
. "$(dirname "$0")/lib.sh"

POL=$T_TMP/tee.toml
cat >"$POL" <<EOF2
version = 1
[profile.auto]
min_isolation = "tee"
[profile.named]
provider = "tee"
min_isolation = "tee"
EOF2

if [ -z "$SBX_TEST_SKIP" ] && "$SBX" providers --json | jq -e '.providers[] | select(.name == "tee") | .available' >/dev/null; then
	SBX_TEST_SKIP="this host has SEV-SNP or TDX: the refusal cases do not apply"
fi

case_providers_names_what_is_missing()
{
	local why
	why=$("$SBX" providers --json | jq -r '.providers[] | select(.name == "tee") | .reason')
	eq isolation "$("$SBX" providers --json | jq -r '.providers[] | select(.name == "tee") | .isolation')" tee
	[[ $why == *"no AMD SEV-SNP: "*"/sys/module/kvm_amd/parameters/sev_snp"* ]] || fail "reason: $why"
	[[ $why == *"no Intel TDX: "*"/sys/module/kvm_intel/parameters/tdx"* ]] || fail "reason: $why"
	"$SBX" providers | grep -q '^tee  *tee  *no ' || fail "$("$SBX" providers)"
}

case_min_isolation_tee_refused()
{
	sbx_run a -P "$POL" --profile auto -- echo must-not-run
	expect_rc a 125
	grep -q must-not-run "$T_TMP/a.out" && fail "the workload ran"
	grep -q "no available provider gives isolation 'tee'.*tee: no AMD SEV-SNP" "$T_TMP/a.err" ||
		fail "$(cat "$T_TMP/a.err")"
	sbx_run n -P "$POL" --profile named -- echo must-not-run
	expect_rc n 125
	grep -q must-not-run "$T_TMP/n.out" && fail "the workload ran"
	grep -q "provider 'tee' is not available here: no AMD SEV-SNP" "$T_TMP/n.err" ||
		fail "$(cat "$T_TMP/n.err")"
}

run_case providers_names_what_is_missing case_providers_names_what_is_missing
run_case min_isolation_tee_refused case_min_isolation_tee_refused
finish
