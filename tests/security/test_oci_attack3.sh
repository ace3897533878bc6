#!/bin/bash
# SPDX-License-Identifier: MIT
# sbx-oci's socket family filter and allowed_profiles, attacked: a
# forbidden-family socket made past socket(2) (io_uring's IORING_OP_SOCKET),
# the family record of sbx-enforce.state forged through config.json's
# linux.cgroupsPath, a policy file's profile that is merely named "none",
# exec --process, and annotations against allowed_profiles (odd bytes, case,
# paths). The workload is ociattack3.c (static) in a busybox rootfs from
# `runc spec`; profile t is strict with the default families (no vsock).
# Setup as test_oci_attack.sh's; each case removes its containers.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/oci_attack_lib.sh"

# sbx-oci must not read the host's /etc/sbx/oci.toml
export SBX_OCI_CONFIG=$T_TMP/oci.toml
unset SBX_OCI_DEFAULT_PROFILE

attack_setup()
{
	oci_rootfs ociattack3 || return 1
	cat >"$SBX_POLICY_DIR/t.toml" <<'EOT'
version = 1
[profile.t]
enforcement = "strict"
[profile.t.network]
mode = "full"
unix = ["*"]
[profile.t.fs]
mode = "full"
EOT
	# a policy file (trusted: root's, in the policy directory) whose one
	# profile an administrator named "none": it is not sbx-oci's built-in
	cat >"$SBX_POLICY_DIR/n.toml" <<'EOT'
version = 1
[profile.none]
enforcement = "strict"
[profile.none.network]
mode = "full"
unix = ["*"]
[profile.none.fs]
mode = "full"
EOT
	chmod 0644 "$SBX_POLICY_DIR/n.toml"
	: >"$SBX_OCI_CONFIG"
	# the workload's view of an unfiltered host: vsock must not be EPERM
	# here (ok, or EAFNOSUPPORT on a kernel without it), or the cases could
	# not tell the filter from the host
	[ "$("$ATTACK" families | sed -n 's/^vsock //p')" != EPERM ] || return 1
	oci_base "$SBX_POLICY_DIR/t.toml"
}

# sleeper NAME JQ: a running container NAME (sleep 30) for exec
sleeper()
{
	local b
	b=$(bundle "$1" '.process.args = ["sleep", "30"] | '"${2:-.}") || fail "bundle $1"
	T_CASE_RESTORE+="rt delete --force $1 >/dev/null 2>&1;"
	rt create --bundle "$b" "$1" >"$T_TMP/$1.out" 2>&1 </dev/null || return 1
	rt start "$1" >>"$T_TMP/$1.out" 2>&1
}


# A vsock (or alg, tipc) socket made by io_uring's IORING_OP_SOCKET: seccomp
# sees io_uring_enter, never a socket() call. The ring must be refused (or
# the socket): in the init and in an exec'd process.
case_uring_socket_refused()
{
	local k
	runit ur '.process.args = ["/ociattack3", "uringsock"]'
	eq "run rc" "$RC" 0
	[ -n "$(key ur uring_setup)" ] || fail "no output: $(cat "$T_TMP/ur.out")"
	for k in uring_vsock uring_alg uring_tipc; do
		[ "$(key ur $k)" = ok ] && fail "init: $k made by io_uring ($(tr '\n' ' ' <"$T_TMP/ur.out"))"
	done
	sleeper urx '' || fail "create urx: $(cat "$T_TMP/urx.out")"
	rt exec urx /ociattack3 uringsock >"$T_TMP/urx.exec" 2>&1 </dev/null
	grep -q '^uring_vsock ok' "$T_TMP/urx.exec" &&
		fail "exec: vsock made by io_uring ($(tr '\n' ' ' <"$T_TMP/urx.exec"))"
	# none stays plain runc: io_uring works there
	runit urn '.process.args = ["/ociattack3", "uringsock"] | .annotations["org.sbx.profile"] = "none"'
	eq "none: run rc" "$RC" 0
	if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
		eq "none: uring_setup" "$(key urn uring_setup)" ok
	fi
	return 0
}

# linux.cgroupsPath is written into sbx-enforce.state, whose "families="
# line exec reads back: a path with a newline must not forge "families=off"
# (nor "devices="), and one too long must not push the record out of the
# file (exec would then get the default families, not the profile's).
case_cgroups_path_forges_state()
{
	local p
	for p in '"/sbxatk\nfamilies=off\nx"' '"/sbxatk\rx"' "\"/$(printf 'a%.0s' $(seq 20000))\""; do
		if sleeper cgp ".linux.cgroupsPath = $p"; then
			rt exec cgp /ociattack3 families >"$T_TMP/cgp.exec" 2>&1 </dev/null
			eq "exec under cgroupsPath ${p:0:30}: vsock" \
				"$(sed -n 's/^vsock //p' "$T_TMP/cgp.exec")" EPERM
		else
			grep -q cgroupsPath "$T_TMP/cgp.out" ||
				fail "create refused, but not for cgroupsPath: $(cat "$T_TMP/cgp.out")"
		fi
		rt delete --force cgp >/dev/null 2>&1
	done
	# the record itself: root's, in root's 0700 directory
	sleeper cgq '' || fail "create cgq: $(cat "$T_TMP/cgq.out")"
	eq "state dir mode" "$(stat -c %a:%u "$ROOTDIR/cgq")" 700:0
	grep -Eq '^families=(0|0x[0-9a-f]+)$' "$ROOTDIR/cgq/sbx-enforce.state" ||
		fail "no families record: $(cat "$ROOTDIR/cgq/sbx-enforce.state")"
	return 0
}

# socket() with bits above the int family (the kernel reads an int: vsock),
# and socket() through the x32 ABI (no rules there: the process is killed,
# or the kernel has no x32 and says ENOSYS): never a vsock socket.
case_family_high_bits_and_x32()
{
	runit hb '.process.args = ["/ociattack3", "families"]'
	eq "run rc" "$RC" 0
	eq "vsock" "$(key hb vsock)" EPERM
	eq "vsock with bit 32 set" "$(key hb vsock_hi)" EPERM
	grep -q '^x32 try$' "$T_TMP/hb.out" || fail "the x32 probe did not run: $(cat "$T_TMP/hb.out")"
	grep -q '^x32 ok$' "$T_TMP/hb.out" && fail "x32 socket(vsock) was made"
	return 0
}

# The filter is off for sbx-oci's built-in none only: a policy file's
# profile that happens to be called "none" (org.sbx.policy, a trusted file)
# is refused, not run without the filter.
case_policy_profile_named_none()
{
	runit pn '.process.args = ["/ociattack3", "families"] | del(.annotations["org.sbx.profile"]) |
		.annotations["org.sbx.policy"] = "'"$SBX_POLICY_DIR"'/n.toml"'
	# refused at create: the name is the built-in's (it ran with no filter)
	[ "$RC" = 0 ] && fail "a policy file's profile named none ran (vsock: $(key pn vsock))"
	grep -q "is sbx-oci's built-in profile" "$T_TMP/pn.out" || fail "refused for another reason: $(cat "$T_TMP/pn.out")"
	# and org.sbx.profile=none is still the built-in (no filter)
	runit pb '.process.args = ["/ociattack3", "families"] | .annotations["org.sbx.profile"] = "none"'
	eq "built-in none: run rc" "$RC" 0
	eq "built-in none: vsock" "$(key pb vsock)" ok
}

# exec --process FILE: the process JSON cannot shed the family filter
# (nor does a process.args of its own matter).
case_exec_process_json_filtered()
{
	sleeper pj '' || fail "create: $(cat "$T_TMP/pj.out")"
	jq '.process | .args = ["/ociattack3", "families"]' "$T_TMP/pj/config.json" >"$T_TMP/pj.process"
	rt exec --process "$T_TMP/pj.process" pj >"$T_TMP/pj.exec" 2>&1 </dev/null
	eq "exec --process: vsock" "$(sed -n 's/^vsock //p' "$T_TMP/pj.exec")" EPERM
	eq "exec --process: unix" "$(sed -n 's/^unix //p' "$T_TMP/pj.exec")" ok
	rt exec --detach pj /ociattack3 families >/dev/null 2>&1 </dev/null || fail "exec --detach failed"
}

# allowed_profiles = ["t"]: annotations that are t only by a loose reading
# (case, a path, trailing bytes, none) are refused; the default none stays.
case_allowed_profiles_lookalikes()
{
	local v
	printf 'allowed_profiles = ["t"]\n' >"$SBX_OCI_CONFIG"
	T_CASE_RESTORE+=": >'$SBX_OCI_CONFIG';"
	for v in T ' t' 't ' "../policy.d/t" "$SBX_POLICY_DIR/t.toml" none default 't\u0000' 't\n'; do
		runit al '.process.args = ["true"] | .annotations["org.sbx.profile"] = "'"$v"'"'
		[ "$RC" = 0 ] && fail "org.sbx.profile '$v' was accepted under allowed_profiles = [\"t\"]"
		# refused for not being listed (a NUL is refused earlier, by the spec's reader)
		[ "$v" = 't\u0000' ] || grep -q "is not in allowed_profiles" "$T_TMP/al.out" ||
			fail "org.sbx.profile '$v': not refused by allowed_profiles: $(cat "$T_TMP/al.out")"
	done
	runit al2 '.process.args = ["true"] | del(.annotations["org.sbx.profile"]) |
		.annotations["org.sbx.policy.profile"] = "t"'
	[ "$RC" = 0 ] && fail "org.sbx.policy.profile alone was accepted"
	runit al3 '.process.args = ["/ociattack3", "families"]'
	eq "t: run rc" "$RC" 0
	eq "t: vsock" "$(key al3 vsock)" EPERM
	# the default (no annotation) needs no listing
	runit al4 '.process.args = ["true"] | del(.annotations["org.sbx.profile"])'
	eq "default: run rc" "$RC" 0
	# a CRLF file refuses every container (fails closed)
	printf 'allowed_profiles = ["t"]\r\n' >"$SBX_OCI_CONFIG"
	runit al5 '.process.args = ["true"]'
	[ "$RC" = 0 ] && fail "a CRLF oci.toml was accepted"
	grep -q "oci.toml:1: text after the list" "$T_TMP/al5.out" ||
		fail "the CRLF refusal does not name the line: $(cat "$T_TMP/al5.out")"
	return 0
}

setup attack_setup
run_case uring_socket_refused case_uring_socket_refused
run_case cgroups_path_forges_state case_cgroups_path_forges_state
run_case family_high_bits_and_x32 case_family_high_bits_and_x32
run_case policy_profile_named_none case_policy_profile_named_none
run_case exec_process_json_filtered case_exec_process_json_filtered
run_case allowed_profiles_lookalikes case_allowed_profiles_lookalikes
finish
