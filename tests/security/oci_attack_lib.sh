# SPDX-License-Identifier: MIT
# What tests/security/test_oci_attack*.sh share: sbx-oci driven by hand on
# bundles made from `runc spec`, a busybox rootfs with a static hostile
# workload, and the profiles t (strict) and b (best-effort) that deny
# 127.0.0.1:$DENIED. Sourced after tests/integration/lib.sh.

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
RUNTIME=${SBX_OCI_RUNTIME:-$OUTPUT/sbx-oci}
ROOTDIR=$T_TMP/state
ROOTFS=$T_TMP/rootfs
DENIED=9	# discard: nothing listens, so only sbx makes a connect there EPERM

if [ "$(id -u)" != 0 ]; then
	SBX_TEST_SKIP=${SBX_TEST_SKIP:-"needs root"}
elif ! command -v runc >/dev/null || ! [ -x /bin/busybox ] || ! command -v jq >/dev/null; then
	SBX_TEST_SKIP=${SBX_TEST_SKIP:-"needs runc (runc spec), jq and busybox-static"}
elif [ ! -x "$RUNTIME" ]; then
	SBX_TEST_SKIP=${SBX_TEST_SKIP:-"no runtime at $RUNTIME"}
fi

rt() { "$RUNTIME" --root "$ROOTDIR" "$@"; }

# oci_rootfs WORKLOAD: a busybox rootfs with tests/security/WORKLOAD.c built
# static as /WORKLOAD (ATTACK: its host copy); the policy and log dirs
oci_rootfs()
{
	local c
	ATTACK=$T_TMP/$1
	mkdir -p "$ROOTFS"/{bin,proc,sys,dev,tmp} "$SBX_POLICY_DIR" "$SBX_LOG_DIR" || return 1
	cp /bin/busybox "$ROOTFS/bin/" || return 1
	for c in sh true sleep cat; do ln -sf busybox "$ROOTFS/bin/$c"; done
	${CC:-cc} -static -O2 -o "$ATTACK" "$(dirname "${BASH_SOURCE[0]}")/$1.c" || return 1
	cp "$ATTACK" "$ROOTFS/$1" || return 1
	chmod 0755 "$SBX_POLICY_DIR"
}

# oci_policy_tb FILE: profiles t (strict) and b (best-effort), both denying
# 127.0.0.1:$DENIED (t also [::1]:$DENIED), files open
oci_policy_tb()
{
	cat >"$1" <<EOT
version = 1
[profile.t]
enforcement = "strict"
[profile.t.network]
mode = "deny"
deny = ["127.0.0.1:$DENIED", "[::1]:$DENIED"]
unix = ["*"]
[profile.t.fs]
mode = "full"
[profile.b]
enforcement = "best-effort"
[profile.b.network]
mode = "deny"
deny = ["127.0.0.1:$DENIED"]
unix = ["*"]
[profile.b.fs]
mode = "full"
EOT
}

# oci_base POLICY: loads the instance with POLICY's profile t, then
# base.json: runc spec's config on $ROOTFS, writable, no terminal, annotated t
oci_base()
{
	chmod 0644 "$1"
	"$SBX" run -P "$1" --profile t -- true || return 1
	(cd "$T_TMP" && runc spec) || return 1
	jq --arg r "$ROOTFS" '.root.path = $r | .root.readonly = false | .process.terminal = false |
		.annotations["org.sbx.profile"] = "t"' "$T_TMP/config.json" >"$T_TMP/base.json"
}

# bundle NAME JQ: a bundle from base.json changed by JQ; prints its path
bundle()
{
	mkdir -p "$T_TMP/$1"
	jq "$2" "$T_TMP/base.json" >"$T_TMP/$1/config.json" && echo "$T_TMP/$1"
}

# runit NAME JQ: runs container NAME (bundle from JQ) to its end; its output
# in $T_TMP/NAME.out, RC the exit code of the create or start that failed
# (0: both worked)
runit()
{
	local b
	b=$(bundle "$1" "$2") || fail "bundle $1"
	T_CASE_RESTORE+="rt delete --force $1 >/dev/null 2>&1;"
	rt create --bundle "$b" "$1" >"$T_TMP/$1.out" 2>&1 </dev/null
	RC=$?
	[ "$RC" = 0 ] || return 0
	rt start "$1" >>"$T_TMP/$1.out" 2>&1
	RC=$?
	[ "$RC" = 0 ] || return 0
	for _ in $(seq 300); do
		[ "$(rt state "$1" 2>/dev/null | jq -r .status)" = stopped ] && break
		sleep 0.05
	done
	rt delete --force "$1" >/dev/null 2>&1
}

# key NAME KEY: the workload's result for KEY in $T_TMP/NAME.out
key() { sed -n "s|^$2 ||p" "$T_TMP/$1.out" | head -1; }

# caps_jq CAP...: a JQ filter giving the process exactly these capabilities
# (bounding, effective and permitted)
caps_jq()
{
	local l
	l=$(printf '"%s",' "$@")
	echo ".process.capabilities = ({} | .bounding = [${l%,}] | .effective = .bounding | .permitted = .bounding)"
}
