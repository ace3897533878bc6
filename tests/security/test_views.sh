#!/bin/bash
# SPDX-License-Identifier: MIT
# What a sandbox's view and its leftovers give away (issue 20, items 8, 14,
# 17, 18, 20):
#   - a submount below a rule takes the rule's flags (read-only, noexec,
#     nodev), not its own;
#   - what sbx writes (the run directory, the slot registry, a gVisor
#     bundle with the profile's env, the audit log, --result) is private to
#     root;
#   - a rule never binds over what sbx provides itself (/proc, /dev, /sys,
#     /tmp, /dev/shm): refused by policy check and by run alike;
#   - a rule whose path crosses a symlink is refused, naming the resolved
#     path (the kernel backends see resolved paths, a view would follow the
#     link into the host's tree);
#   - a sandbox cgroup with a tree of sub-cgroups of any depth is removed
#     (its tasks killed first), also when sbx itself was killed: the next
#     sbx reclaims the slot.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
V_TMP=""
SUBMNT=""

_views_cleanup()
{
	[ -n "$SUBMNT" ] && umount "$SUBMNT" 2>/dev/null
	_cleanup
}
trap _views_cleanup EXIT

views_setup()
{
	# outside /tmp, which the process provider's view replaces by a tmpfs
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.views.XXXXXX") && chmod 0755 "$V_TMP" || return 1
	mkdir -p "$V_TMP/granted/sub" "$V_TMP/real" || return 1
	echo data >"$V_TMP/real/file"
	ln -s "$V_TMP/real" "$V_TMP/link"
}

# vpol PROVIDER FS-LINES [PROFILE-KEYS]: $T_TMP/policy.toml, profile t.
vpol()
{
	local iso=process
	case $1 in
	host) iso=none ;;
	gvisor) iso=gvisor ;;
	esac
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
$3
[profile.t.network]
mode = "none"
[profile.t.fs]
$2
EOF
}

vrun()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t "$@"
}

# ---- item 8: submounts take the rule's flags ----------------------------------

case_submount_below_rule_is_readonly_noexec_nodev()
{
	local opts
	SUBMNT=$V_TMP/granted/sub
	mount -t tmpfs -o mode=0777,size=1m sbxtest-submount "$SUBMNT" || skip "cannot mount a tmpfs"
	T_CASE_RESTORE="umount '$SUBMNT'"
	grep -q " $SUBMNT .*nodev\| $SUBMNT .*noexec\| $SUBMNT .* ro," /proc/self/mountinfo &&
		skip "the host's tmpfs has restrictive flags already"
	# what the workload can do there, not which mountinfo line it reads: the
	# host's recursive root copy lists the submount too, below the rule's
	printf '#!/bin/sh\necho RAN\n' >"$SUBMNT/prog" && chmod 0755 "$SUBMNT/prog"
	mknod "$SUBMNT/null" c 1 3 && chmod 0666 "$SUBMNT/null"
	vpol process "mode = \"read-only\"
rules = [{ path = \"$V_TMP/granted/\", access = \"r\" }]"
	vrun r -- sh -c "echo x >'$SUBMNT/w' 2>/dev/null && echo WRITABLE; '$SUBMNT/prog' 2>/dev/null;
		echo x >'$SUBMNT/null' 2>/dev/null && echo DEVICE; cat '$SUBMNT/prog' >/dev/null && echo READ;
		python3 -c 'import os; print(\"flags\", os.statvfs(\"$SUBMNT\").f_flag & 15)'; exit 0"
	expect_rc r 0
	# statvfs reports the mount the path reaches: ST_RDONLY|ST_NOSUID|ST_NODEV|ST_NOEXEC = 15
	grep -qx 'flags 15' "$T_TMP/r.out" ||
		fail "the submount the sandbox reaches lacks ro/nosuid/nodev/noexec: $(grep flags "$T_TMP/r.out")"
	grep -qx READ "$T_TMP/r.out" || fail "the submount is not readable in the sandbox: $(cat "$T_TMP/r.out" "$T_TMP/r.err")"
	grep -qx RAN "$T_TMP/r.out" && fail "a program on the submount runs (not noexec)"
	grep -qx DEVICE "$T_TMP/r.out" && fail "a device node on the submount opens (not nodev)"
	grep -qx WRITABLE "$T_TMP/r.out" && fail "the submount is writable"
	# gVisor: the rule is one mount of the sentry's (9p/gofer), the host's
	# submount only a directory in it, with the rule's ro and noexec
	if [ -z "$(gvisor_missing)" ]; then
		vpol gvisor "mode = \"read-only\"
rules = [{ path = \"$V_TMP/granted/\", access = \"r\" }]" 'timeout = "60s"'
		vrun g -- sh -c "echo x >'$SUBMNT/w' 2>/dev/null && echo WRITABLE; '$SUBMNT/prog' 2>/dev/null; exit 0"
		expect_rc g 0
		grep -qx WRITABLE "$T_TMP/g.out" && fail "gvisor: the submount is writable"
		grep -qx RAN "$T_TMP/g.out" && fail "gvisor: a program on the submount runs"
	fi
	umount "$SUBMNT"
	return 0
}

# ---- item 14: what sbx writes is private to root -------------------------------

# mode_of PATH: octal permission bits.
mode_of()
{
	stat -c %a "$1" 2>/dev/null
}

# wait_for GLOB: up to 10 s for a file to appear; prints it.
wait_for()
{
	local f
	for _ in $(seq 500); do
		for f in $1; do
			[ -e "$f" ] && { echo "$f"; return 0; }
		done
		sleep 0.02
	done
	return 1
}

case_registry_is_private()
{
	local slot pid
	vpol host 'mode = "full"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t --audit "$T_TMP/a.audit" \
		--result "$T_TMP/a.result" -- sleep 3 >/dev/null 2>&1
	pid=$BG_PID
	slot=$(wait_for "$RUN_DIR/slots/[0-9]*") || fail "no slot registry file under $RUN_DIR/slots"
	eq "mode of $RUN_DIR" "$(mode_of "$RUN_DIR")" 711
	eq "mode of $RUN_DIR/slots" "$(mode_of "$RUN_DIR/slots")" 700
	eq "mode of $slot" "$(mode_of "$slot")" 600
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$slot" >/dev/null 2>&1 &&
		fail "uid 65534 reads $slot"
	wait "$pid"
	eq "mode of the --audit file" "$(mode_of "$T_TMP/a.audit")" 600
	eq "mode of the --result file" "$(mode_of "$T_TMP/a.result")" 600
	eq "mode of the audit log" "$(mode_of "$(ls "$SBX_LOG_DIR"/* | head -1)")" 600
	eq "mode of the audit log directory" "$(mode_of "$SBX_LOG_DIR")" 700
}

gvisor_missing()
{
	command -v runsc >/dev/null || { echo "runsc not installed"; return; }
	(cd / && timeout 60 runsc --rootless --network=none do /bin/true >/dev/null 2>&1) ||
		echo "runsc cannot run here"
}

case_gvisor_bundle_is_private()
{
	local why cfg pid dir
	why=$(gvisor_missing)
	[ -n "$why" ] && skip "$why"
	vpol gvisor 'mode = "read-only"' 'env = { SBX_SECRET = "s3cr3t-token" }
timeout = "60s"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 4 >"$T_TMP/g.out" 2>"$T_TMP/g.err"
	pid=$BG_PID
	cfg=$(wait_for "$RUN_DIR/gvisor/*/config.json") ||
		fail "no bundle under $RUN_DIR/gvisor: $(cat "$T_TMP/g.err")"
	dir=$(dirname "$cfg")
	grep -q s3cr3t-token "$cfg" || fail "the bundle does not hold the env (test broken?)"
	eq "mode of $RUN_DIR/gvisor" "$(mode_of "$RUN_DIR/gvisor")" 700
	eq "mode of the bundle" "$(mode_of "$dir")" 700
	eq "mode of config.json" "$(mode_of "$cfg")" 600
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$cfg" >/dev/null 2>&1 &&
		fail "uid 65534 reads $cfg"
	wait "$pid"
	RC=$?
	expect_rc g 0
}

# ---- item 17: rules over what sbx provides ------------------------------------

# refused_everywhere NAME WANT-IN-MESSAGE FS-LINES: policy check and run of
# the process provider both refuse, naming the rule.
refused_everywhere()
{
	local name=$1 want=$2 out
	vpol process "$3"
	out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) &&
		fail "$name: policy check accepted it: $out"
	grep -qF -- "$want" <<<"$out" || fail "$name: policy check says '$out', expected '$want'"
	vrun "$name" -- cat /proc/1/cmdline
	expect_rc "$name" 125
	grep -qF -- "$want" "$T_TMP/$name.err" ||
		fail "$name: sbx run says '$(cat "$T_TMP/$name.err")', expected '$want'"
}

case_rule_over_private_proc_refused()
{
	local p n=0
	for p in /proc/ /proc/1/ /proc/self/environ /dev/ /dev/shm/x/ /dev/sda /sys/ /sys/fs/cgroup/; do
		refused_everywhere "p$n" "fs rule '$p'" "mode = \"none\"
rules = [{ path = \"$p\", access = \"r\" }]"
		n=$((n + 1))
	done
	# a deny below them is a mask inside the view: still allowed
	vpol process 'mode = "read-only"
rules = [{ path = "/proc/kallsyms", access = "deny" }]'
	vrun d -- true
	expect_rc d 0
}

# /tmp/ itself names sbx's private tmpfs: the rule sets its access, the
# host's /tmp is never bound.
case_tmp_rule_keeps_private_tmp()
{
	local mark=sbxtest-host-tmp-$$
	touch "/tmp/$mark"
	T_CASE_RESTORE="rm -f '/tmp/$mark'"
	vpol process 'mode = "read-only"
rules = [{ path = "/tmp/", access = "rw" }]'
	vrun t -- sh -c "ls /tmp; echo x >/tmp/w && echo wrote"
	expect_rc t 0
	grep -qx "$mark" "$T_TMP/t.out" && fail "the host's /tmp is visible (its $mark is listed)"
	grep -qx wrote "$T_TMP/t.out" || fail "/tmp is not writable: $(cat "$T_TMP/t.out")"
	return 0
}

# ---- item 18: rules through symlinks ------------------------------------------

case_rule_through_symlink_refused()
{
	local prov n=0
	for prov in process host; do
		vpol "$prov" "mode = \"read-only\"
rules = [{ path = \"$V_TMP/link/file\", access = \"deny\" }]"
		out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) &&
			fail "$prov: policy check accepted a deny through a symlink: $out"
		grep -qF "$V_TMP/real/file" <<<"$out" ||
			fail "$prov: policy check does not name the resolved path: $out"
		vrun "s$n" -- cat "$V_TMP/real/file"
		expect_rc "s$n" 125
		grep -qF "$V_TMP/real/file" "$T_TMP/s$n.err" ||
			fail "$prov: sbx run does not name the resolved path: $(cat "$T_TMP/s$n.err")"
		n=$((n + 1))
	done
	# the resolved path is enforced
	vpol process "mode = \"read-only\"
rules = [{ path = \"$V_TMP/real/file\", access = \"deny\" }]"
	vrun ok -- sh -c "cat '$V_TMP/link/file' 2>/dev/null; echo done"
	expect_rc ok 0
	# masked (the view binds /dev/null over a denied file) or refused
	eq "read through the link" "$(cat "$T_TMP/ok.out")" done
}

# ---- item 20: deep cgroup trees -----------------------------------------------

# deep_tree DIR DEPTH: DEPTH nested cgroups below DIR (some named ".x");
# prints the deepest.
deep_tree()
{
	local d=$1 i
	for i in $(seq "$2"); do
		if [ $((i % 3)) = 0 ]; then d=$d/.x$i; else d=$d/c$i; fi
		mkdir "$d" || return 1
	done
	echo "$d"
}

# sandbox_cgroup: the cgroup2 directory of the only running sandbox.
sandbox_cgroup()
{
	local cg
	for _ in $(seq 500); do
		cg=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].cgroup // empty')
		[ -n "$cg" ] && [ -d "$cg" ] && { echo "$cg"; return 0; }
		sleep 0.02
	done
	return 1
}

case_deep_cgroup_tree_removed()
{
	local cg deep pid sleeper
	vpol host 'mode = "full"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 2 >/dev/null 2>"$T_TMP/d.err"
	pid=$BG_PID
	cg=$(sandbox_cgroup) || fail "no running sandbox: $(cat "$T_TMP/d.err")"
	deep=$(deep_tree "$cg" 100) || fail "cannot make 100 nested cgroups below $cg"
	# a task deep down: it must be killed before the walk can remove it
	bg sleep 1000
	sleeper=$BG_PID
	echo "$sleeper" >"$deep/cgroup.procs" || fail "cannot move a task into $deep"
	wait "$pid"
	kill -0 "$sleeper" 2>/dev/null && fail "the task in the deepest cgroup survived"
	[ -e "$cg" ] && fail "the sandbox cgroup $cg is left ($(find "$cg" -type d | wc -l) directories)"
	return 0
}

case_killed_sbx_slot_reclaimed()
{
	local cg deep pid slot
	vpol host 'mode = "full"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 1000 >/dev/null 2>"$T_TMP/k.err"
	pid=$BG_PID
	cg=$(sandbox_cgroup) || fail "no running sandbox: $(cat "$T_TMP/k.err")"
	slot=$(wait_for "$RUN_DIR/slots/[0-9]*") || fail "no slot registry file"
	deep=$(deep_tree "$cg" 100) || fail "cannot make 100 nested cgroups below $cg"
	bg sleep 1000
	echo "$BG_PID" >"$deep/cgroup.procs" || fail "cannot move a task into $deep"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	# the next sbx reclaims the dead manager's slot
	vrun n -- true
	expect_rc n 0
	[ -e "$cg" ] && fail "the dead sbx's cgroup $cg is left ($(find "$cg" -type d | wc -l) directories)"
	[ -e "$slot" ] && fail "the dead sbx's slot $slot was not reclaimed"
	kill -0 "$BG_PID" 2>/dev/null && fail "a task of the dead sbx's sandbox survived"
	return 0
}

# The v1 hierarchies of a hybrid host (limits): the same, in the pids one.
case_deep_v1_cgroup_tree_removed()
{
	local pid wpid rel m deep
	m=$(awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5; exit }' /proc/self/mountinfo)
	[ -n "$m" ] || skip "no v1 pids hierarchy (pure cgroup2 host)"
	vpol host 'mode = "full"' 'pids = 64'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 2 >/dev/null 2>"$T_TMP/v.err"
	pid=$BG_PID
	for _ in $(seq 500); do
		wpid=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].pid // empty')
		[ -n "$wpid" ] && break
		sleep 0.02
	done
	rel=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ { print $3 }' "/proc/$wpid/cgroup" 2>/dev/null)
	[[ "$rel" == *"$SBX_INSTANCE"* ]] || skip "the limits are not on the v1 pids hierarchy here ($rel)"
	deep=$(deep_tree "$m$rel" 100) || fail "cannot make 100 nested cgroups below $m$rel"
	bg sleep 1000
	echo "$BG_PID" >"$deep/cgroup.procs" || fail "cannot move a task into $deep"
	wait "$pid"
	kill -0 "$BG_PID" 2>/dev/null && fail "the task in the deepest v1 cgroup survived"
	[ -e "$m$rel" ] && fail "the v1 cgroup $m$rel is left ($(find "$m$rel" -type d | wc -l) directories)"
	return 0
}

setup views_setup
run_case submount_below_rule_is_readonly_noexec_nodev case_submount_below_rule_is_readonly_noexec_nodev
run_case registry_is_private case_registry_is_private
run_case gvisor_bundle_is_private case_gvisor_bundle_is_private
run_case rule_over_private_proc_refused case_rule_over_private_proc_refused
run_case tmp_rule_keeps_private_tmp case_tmp_rule_keeps_private_tmp
run_case rule_through_symlink_refused case_rule_through_symlink_refused
run_case deep_cgroup_tree_removed case_deep_cgroup_tree_removed
run_case deep_v1_cgroup_tree_removed case_deep_v1_cgroup_tree_removed
run_case killed_sbx_slot_reclaimed case_killed_sbx_slot_reclaimed
finish
