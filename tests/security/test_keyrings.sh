#!/bin/bash
# SPDX-License-Identifier: MIT
# The caller's kernel keyrings (issue 20, the last attack sweep). Kernel
# keyrings are not namespaced, and a key's rights go mostly to whoever
# possesses it: every process that inherited a session keyring possesses
# it, whatever its uid. sbx's children inherited the caller's, so a host
# workload, even the default one under the sandbox's own uid, read a key the
# caller kept there (keyctl search + read: "caller-key-value") and could add
# or change keys in it. Now every child that sbx starts joins an anonymous
# session keyring of its own, and the host provider refuses add_key,
# request_key and keyctl (EPERM, syscall.denied) as the process preset does,
# unless the profile's [seccomp] table allows them: then the workload still
# sees only its own session keyring (ENOKEY for the caller's key).
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
KEYS=$OUTPUT/tests/security/keys

keys_setup()
{
	mkdir -p "$(dirname "$KEYS")" || return 1
	[ "$KEYS" -nt "$SRC/keys.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$KEYS" "$SRC/keys.c"
}

# kpol PROVIDER [PROFILE-KEYS] [TRAILING-TABLES]
kpol()
{
	local iso=process
	[ "$1" = host ] && iso=none
	cat >"$T_TMP/policy.toml" <<EOT
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
enforcement = "strict"
$2
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "read-only"
$3
EOT
}

# krun NAME: the caller plants its key, the workload probes.
krun()
{
	local name=$1
	rm -f "$T_TMP/$name".{result,audit,out,err}
	"$KEYS" plant "$SBX" run --result "$T_TMP/$name.result" --audit "$T_TMP/$name.audit" \
		-P "$T_TMP/policy.toml" --profile t -- "$KEYS" probe \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
	[ "$RC" = 77 ] && skip "the kernel has no keyrings: $(cat "$T_TMP/$name.err")"
	expect_rc "$name" 0
	grep -q '^secret leaked' "$T_TMP/$name.out" && fail "$name: the caller's key leaked: $(cat "$T_TMP/$name.out")"
	return 0
}

# refused NAME: keyctl refused by seccomp, with its syscall.denied events.
refused()
{
	expect "$1" session EPERM
	expect "$1" secret EPERM
	eq "$1: keyctl denials" "$(ja "$1" '[.[] | select(.event == "syscall.denied" and .syscall == "keyctl" and .errno == 1)] | length')" 2
}

case_host_default()
{
	kpol host
	krun hd
	refused hd
}

case_host_root()
{
	"$SBX" features 2>/dev/null | grep -q "^landlock  *yes" || skip "Landlock is not active"
	kpol host 'user = "root"'
	krun hr
	refused hr
}

# keyctl allowed: the workload has a session keyring, but not the caller's.
case_host_allowed_sees_its_own_keyring()
{
	kpol host "" '[profile.t.seccomp]
allow = ["keyctl", "add_key", "request_key"]'
	krun ha
	expect ha session ok
	expect ha secret ENOKEY
}

case_process_allowed_sees_its_own_keyring()
{
	kpol process "" '[profile.t.seccomp]
allow = ["keyctl", "add_key", "request_key"]'
	krun pa
	expect pa session ok
	expect pa secret ENOKEY
}

case_process_default()
{
	kpol process
	krun pd
	refused pd
}

setup keys_setup
run_case host_default case_host_default
run_case host_root case_host_root
run_case host_allowed_sees_its_own_keyring case_host_allowed_sees_its_own_keyring
run_case process_allowed_sees_its_own_keyring case_process_allowed_sees_its_own_keyring
run_case process_default case_process_default
finish
