#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mutate.sh - does the suite notice when enforcement breaks? (not part of CI)
#
#   tests/mutate.sh [-l | -n] [ID...]
#
# Each mutation below inverts or removes one enforcement check in the BPF or
# user code. For each (or each ID named), the script copies the committed
# tree (HEAD) into a scratch git worktree, applies the one change (a literal
# text replacement that must match exactly once), builds it, and runs the
# tests that should catch it. A mutation is CAUGHT when those tests fail,
# and SURVIVED when they pass: then a test is missing. -l lists the
# mutations; -n only checks that each still applies to the code. Prints one line per mutation and a table at the end; exit
# status 1 when a mutation survived or no longer applies to the code.
#
# Tests: I:PATTERN runs tests/run-integration.sh PATTERN, U:NAME runs the
# unit binary build/tests/NAME, V:PATTERN runs tests/vm/run.sh -k 6.12 PATTERN.
# Needs what those layers need (root, the build dependencies, qemu for V:).

set -u
cd "$(dirname "$0")/.." || exit 2
SRC=$PWD

# id | file | text | replacement | tests (space separated)
# (\n and \t in text and replacement stand for a newline and a tab)
MUTATIONS=$(cat <<'EOF'
connect-verdict|bpf/lib/net.h|\treturn verdict == SBX_VERDICT_ALLOW;\n}\n\n/* Port 0|\treturn 1;\n}\n\n/* Port 0|I:test_network
bind-listen|bpf/lib/net.h|\t\t\treturn SBX_VERDICT_ALLOW;\n\t}\n\treturn SBX_VERDICT_DENY;\n}\n\nstatic __always_inline int sbx_bind(|\t\t\treturn SBX_VERDICT_ALLOW;\n\t}\n\treturn SBX_VERDICT_ALLOW;\n}\n\nstatic __always_inline int sbx_bind(|I:test_sockets I:test_listen
sockopt-rthdr|bpf/lib/net.h|return level == SOL_IPV6 && (name == IPV6_RTHDR \|\| name == IPV6_2292PKTOPTIONS) && len > 0;|return false;|I:test_rthdr
ingress-listener|bpf/lib/net.h|if (sbx_listener_refused(&c, skb)) {|if (0 && sbx_listener_refused(&c, skb)) {|I:test_listen
egress-safety-net|bpf/lib/net.h|sbx_quota_exceeded(&c, skb) \|\| sbx_skb_refused(&c, skb, &q)|sbx_quota_exceeded(&c, skb) \|\| (sbx_skb_refused(&c, skb, &q) && 0)|I:test_rthdr I:test_net_forms
raw-socket|bpf/lib/net.h|if (!sbx_sock_refused(&c, sk))|if (1)|I:test_sockets
exec-guard-kill|bpf/lib/fsaudit.h|bpf_send_signal(SBX_SIGKILL);|(void)0;|I:test_exec_fd
io-uring-guard|user/kernel/seccomp.c|for (size_t i = 0; io_uring && i < ARRAY_SIZE(tty_guard_abis); i++)|for (size_t i = 0; 0 && i < ARRAY_SIZE(tty_guard_abis); i++)|I:test_listen
sysfs-lock|providers/rootfs.c|\tsnprintf(target, sizeof(target), "%s/sys", root);\n|\treturn 0;\n\tsnprintf(target, sizeof(target), "%s/sys", root);\n|I:test_root_workload
strict-refuses|user/core/enforce.c|out->refuse = v == SBX_ENF_REFUSED \|\| p->enforcement == SBX_ENFORCE_STRICT;|out->refuse = v == SBX_ENF_REFUSED;|U:test_enforce I:test_failclosed
host-env-scrub|providers/host.c|\tenviron = st->envp;\t/* execvp searches the profile's PATH */|\t(void)st->envp;|I:test_failclosed
lsm-file-deny|bpf/lib/lsm.h|\tif (want & ~allowed) {\n\t\tsbx_fs_emit(q, op, want, SBX_EACCES);|\tif (want & ~allowed & 0) {\n\t\tsbx_fs_emit(q, op, want, SBX_EACCES);|V:test_lsm_fs
EOF
)

# fields LINE: the five fields, one per line (| escaped as \| is text)
fields()
{
	python3 -c 'import re,sys; print("\n".join(re.split(r"(?<!\\)\|", sys.argv[1])))' "$1"
}

if [ "${1:-}" = -l ]; then
	while IFS= read -r line; do
		mapfile -t f < <(fields "$line")
		printf '%-18s %-22s %s\n' "${f[0]}" "${f[1]}" "${f[4]}"
	done <<<"$MUTATIONS"
	exit 0
fi
DRY=0
[ "${1:-}" = -n ] && { DRY=1; shift; }
[ $DRY = 1 ] || [ "$(id -u)" = 0 ] || { echo "mutate.sh: needs root (the integration and VM layers do)" >&2; exit 2; }

# not under /tmp: the process provider gives its workloads a private /tmp
WT=$(mktemp -d /var/tmp/sbx-mutate.XXXXXX)
# the workloads (sandbox uids) run the test tools from the build inside
chmod 755 "$WT"
git worktree add -q --detach "$WT" HEAD || exit 2
cleanup() { git -C "$SRC" worktree remove --force "$WT" 2>/dev/null; rm -rf "$WT"; }
trap cleanup EXIT

# apply FILE TEXT REPLACEMENT: the literal replacement, exactly once
apply()
{
	python3 - "$WT/$1" "$2" "$3" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
unesc = lambda s: s.replace("\\|", "|").replace("\\n", "\n").replace("\\t", "\t")
old, new = unesc(old), unesc(new)
text = open(path).read()
n = text.count(old)
if n != 1:
    sys.exit(f"the text to mutate occurs {n} times in {path}")
open(path, "w").write(text.replace(old, new))
PY
}

# run_tests SPEC...: 0 when every test passed
run_tests()
{
	local t ok=0
	for t in "$@"; do
		case $t in
		I:*) OUTPUT=$WT/build bash "$WT/tests/run-integration.sh" "${t#I:}" >>"$WT/mutant.log" 2>&1 || ok=1 ;;
		U:*) make -C "$WT" OUTPUT="$WT/build" "$WT/build/tests/${t#U:}" >>"$WT/mutant.log" 2>&1 &&
		     SBX_BIN=$WT/build/sbx SBX_SRCDIR=$WT "$WT/build/tests/${t#U:}" >>"$WT/mutant.log" 2>&1 || ok=1 ;;
		V:*) OUTPUT=$WT/build bash "$WT/tests/vm/run.sh" -k 6.12 "${t#V:}" >>"$WT/mutant.log" 2>&1 || ok=1 ;;
		esac
	done
	return $ok
}

# The baseline: the unmutated tree must pass every test named below, or a
# "caught" would mean nothing.
if [ $DRY = 0 ]; then
	echo "baseline: building the unmutated tree and running every test named"
	make -C "$WT" -j2 OUTPUT="$WT/build" all >"$WT/mutant.log" 2>&1 || { tail -20 "$WT/mutant.log"; exit 2; }
	read -r -a all < <(while IFS= read -r line; do
			[ -n "$line" ] || continue
			[ $# -eq 0 ] || [[ " $* " == *" ${line%%|*} "* ]] || continue
			fields "$line" | sed -n 5p
		done <<<"$MUTATIONS" | tr ' ' '\n' | sort -u | tr '\n' ' ')
	if ! run_tests "${all[@]}"; then
		echo "baseline: the unmutated tree fails its tests:"; grep '^FAIL ' "$WT/mutant.log" | head
		exit 2
	fi
	echo "baseline: passed (${all[*]})"
fi

want=" $* " results=() bad=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	id=$(sed 's/|.*//' <<<"$line")
	[ $# -eq 0 ] || [[ $want == *" $id "* ]] || continue
	# split on | not preceded by a backslash
	mapfile -t f < <(fields "$line")
	git -C "$WT" checkout -q -- . && : >"$WT/mutant.log"
	if ! err=$(apply "${f[1]}" "${f[2]}" "${f[3]}" 2>&1); then
		results+=("$id	NO LONGER APPLIES	$err"); bad=1
		echo "mutation $id: NO LONGER APPLIES: $err"
		continue
	fi
	if [ "$DRY" = 1 ]; then
		results+=("$id	APPLIES	"); continue
	fi
	if ! make -C "$WT" -j2 OUTPUT="$WT/build" all >>"$WT/mutant.log" 2>&1; then
		results+=("$id	DOES NOT BUILD	see the log"); bad=1
		echo "mutation $id: the mutant does not build"; tail -5 "$WT/mutant.log"
		continue
	fi
	read -r -a tests <<<"${f[4]}"
	if run_tests "${tests[@]}"; then
		results+=("$id	SURVIVED	${f[4]} passed"); bad=1
		echo "mutation $id: SURVIVED (${f[4]} passed)"
	else
		caught=$(grep -m3 '^FAIL ' "$WT/mutant.log" | cut -c1-160 | paste -sd';' -)
		results+=("$id	CAUGHT	${caught:-the tests failed}")
		echo "mutation $id: CAUGHT by ${f[4]}: $caught"
	fi
done <<<"$MUTATIONS"

echo "---- mutations ----"
printf '%s\n' "${results[@]}" | column -t -s $'\t'
exit $bad
