#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: sbx enforcing a policy on a live workload, on loopback only.
# A local server listens on 127.0.0.1:8080; a sandboxed shell connects to it
# (allowed by the profile) and to 127.0.0.1:8081 (denied: EPERM); the audit
# trail and the execution result show both decisions.
# SBX_BIN and SBX_DEMO_POLICY run another copy: tests/deb/test_deb.sh runs
# the installed /usr/bin/sbx on the installed example policy.
set -euo pipefail
cd "$(dirname "$0")/.."
SBX=${SBX_BIN:-${OUTPUT:-build}/sbx}
POLICY=${SBX_DEMO_POLICY:-policy/examples/demo.toml}
PROFILE=ccos.demo.loopback
tmp=$(mktemp -d /tmp/sbx-demo.XXXXXX)
server=
was_loaded=0
[ -e "/sys/fs/bpf/${SBX_INSTANCE:-sbx}/sbx_config" ] && was_loaded=1

cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	# leave sbx loaded only if it already was before the demo
	if [ "$was_loaded" = 0 ]; then "$SBX" unload >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (it loads eBPF programs and creates cgroups)" >&2
	exit 1
fi

step "What this kernel offers (sbx features)"
"$SBX" features || true

step "The policy: $POLICY, profile $PROFILE"
"$SBX" policy check "$POLICY"
"$SBX" policy show --profile "$PROFILE" "$POLICY" | sed -n '/network:/,$p'

step "A local server on 127.0.0.1:8080 (outside any sandbox)"
python3 -m http.server 8080 --bind 127.0.0.1 --directory "$tmp" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
	sleep 0.1
done
echo "listening (pid $server)"

step "sbx run: one allowed and one denied connection"
set -x
"$SBX" run --policy "$POLICY" --profile "$PROFILE" \
	--audit "$tmp/audit.jsonl" --result "$tmp/result.json" -- \
	bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && echo "sandbox: connected to 127.0.0.1:8080";
		 exec 4<>/dev/tcp/127.0.0.1/8081 || echo "sandbox: 127.0.0.1:8081 refused"; exit 0'
{ set +x; } 2>/dev/null

step "The audit trail (JSON lines; docs/audit.md)"
if command -v jq >/dev/null; then
	jq -c 'del(.time, .sandbox, .profile, .cgroup_id, .tid)' "$tmp/audit.jsonl"
else
	cat "$tmp/audit.jsonl"
fi

step "The execution result (--result)"
if command -v jq >/dev/null; then jq . "$tmp/result.json"; else cat "$tmp/result.json"; fi

denied=$(grep -c '"verdict":"deny"' "$tmp/audit.jsonl" || true)
allowed=$(grep -c '"event":"net.connect","verdict":"allow"' "$tmp/audit.jsonl" || true)
if [ "$denied" -ge 1 ] && [ "$allowed" -ge 1 ]; then
	step "Done: $allowed allowed and $denied denied connection(s), each audited"
else
	echo "demo: expected an allowed and a denied connection in the audit trail" >&2
	exit 1
fi
