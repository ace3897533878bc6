#!/bin/bash
# SPDX-License-Identifier: MIT
# The audit trail's hand-written JSON writer (issue 15: user/util/json.c's
# escape_into, user/core/audit.c's buffer) against names the workload
# chooses: file paths with newlines, quotes, backslashes, control bytes,
# invalid UTF-8, U+2028/U+2029, a cut multi-byte sequence, 4,000-byte names
# of characters that expand sixfold, a line that is itself a JSON event; a
# comm set with PR_SET_NAME to a newline, a quote and an invalid byte; hostile
# abstract unix names. What could go wrong: one event split into two lines,
# a forged event line, a line that is not strict UTF-8 JSON (a log shipper
# drops or misreads it), a name that comes back as another name. Each line of
# the --audit stream and of the shared log must be one JSON object, and each
# refused call must be named once, as the workload spelled it
# (audit_names.py says exactly how).
. "$(dirname "$0")/../integration/lib.sh"

NAMES=$(realpath "$(dirname "$0")/audit_names.py")

names_setup()
{
	[ -d /srv ] || skip "no /srv on this host (the profile denies it)"
	cat >"$T_TMP/p.toml" <<EOF
version = 1
[profile.n]
provider = "process"
[profile.n.network]
mode = "allow"
allow = ["127.0.0.1/32"]
[profile.n.fs]
mode = "read-only"
rules = [{ path = "/srv/", access = "deny" }]
EOF
}

case_hostile_names_stay_json_lines()
{
	local out
	sbx_run n -P "$T_TMP/p.toml" --profile n -- python3 "$NAMES" work
	expect_rc n 0
	grep -q '^open 4 -1 13$' "$T_TMP/n.out" || fail "the opens were not refused: $(cat "$T_TMP/n.out" "$T_TMP/n.err")"
	grep -q '^abstract 1$' "$T_TMP/n.out" || fail "the abstract connects were not refused: $(cat "$T_TMP/n.out")"
	out=$(python3 "$NAMES" check "$T_TMP/n.audit" "$SBX_LOG_DIR/audit.jsonl" 2>&1) ||
		fail "$(head -c 1500 <<<"$out")"
	return 0
}

# An abstract name whose first byte is NUL (any byte may follow the
# leading one): the event carried the name NUL-terminated, with no length,
# so the trail showed "" and the name the workload used was lost. Now
# sbx_ev_unix.name_len carries it.
case_abstract_name_with_nul_is_named()
{
	local out
	sbx_run z -P "$T_TMP/p.toml" --profile n -- python3 "$NAMES" work
	expect_rc z 0
	out=$(python3 "$NAMES" check-nul "$T_TMP/z.audit" 2>&1) ||
		fail "$(head -c 600 <<<"$out")"
	return 0
}

setup names_setup
run_case hostile_names_stay_json_lines case_hostile_names_stay_json_lines
run_case abstract_name_with_nul_is_named case_abstract_name_with_nul_is_named
finish
