#!/bin/bash
# SPDX-License-Identifier: MIT
# Granted paths that the sandbox's user can use (docs/policy.md, "Grants and
# the sandbox user"; providers/grants.c): issue 18's example, a git clone over
# HTTP into an rw-granted directory owned by a non-root user, works and the
# clone belongs to that user on the host (idmapped mount); user = "caller"
# runs as SUDO_UID; and each way a grant cannot work is named before start:
# strict refuses with exit 125 and the rule's position, best-effort warns and
# lists it in "degraded".
#
# The test makes its own user (sbxg<pid>), directories under its temp dir,
# a ramfs (a filesystem that really refuses idmapped mounts) and an HTTP
# server on 127.0.0.1, and removes them.
. "$(dirname "$0")/lib.sh"

G_USER="sbxg$$"
G_USER=${G_USER:0:31}
G_DIR="$T_TMP/g"
G_PORT=$((20000 + $$ % 20000))

_g_cleanup()
{
	mountpoint -q "$G_DIR/ram" 2>/dev/null && umount "$G_DIR/ram"
	id "$G_USER" >/dev/null 2>&1 && userdel "$G_USER" 2>/dev/null
	_cleanup
}
trap _g_cleanup EXIT

g_setup()
{
	command -v git >/dev/null || { SBX_TEST_SKIP="git is not installed (make deps)"; return; }
	command -v useradd >/dev/null || { SBX_TEST_SKIP="useradd is missing"; return; }
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$G_USER" || return 1
	G_UID=$(id -u "$G_USER")
	G_GID=$(id -g "$G_USER")
	mkdir -p "$G_DIR/work" "$G_DIR/secret" "$G_DIR/srv" && chmod 755 "$T_TMP" "$G_DIR" &&
		chown "$G_USER:" "$G_DIR/work" && chmod 755 "$G_DIR/work" && chmod 700 "$G_DIR/secret" ||
		return 1
	git init -q --bare "$G_DIR/srv/repo.git" &&
		git -C "$G_DIR" -c init.defaultBranch=main init -q seed &&
		git -C "$G_DIR/seed" -c user.email=t@t -c user.name=t commit -q --allow-empty -m init &&
		git -C "$G_DIR/seed" push -q "$G_DIR/srv/repo.git" HEAD:refs/heads/main &&
		git -C "$G_DIR/srv/repo.git" symbolic-ref HEAD refs/heads/main &&
		git -C "$G_DIR/srv/repo.git" update-server-info || return 1
	bg sh -c "exec python3 -m http.server $G_PORT --bind 127.0.0.1 --directory $G_DIR/srv >/dev/null 2>&1"
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$G_PORT/repo.git/HEAD" >/dev/null 2>&1 && break
		python3 -c "import socket;socket.create_connection(('127.0.0.1',$G_PORT),0.2)" 2>/dev/null && break
		sleep 0.1
	done
}
# a set-up that fails on a machine that has every tool is a FAIL of every
# case (lib.sh), not a skip
g_setup >"$T_TMP/g_setup.log" 2>&1 || T_SETUP_FAILED="setup failed: $(tail -c 300 "$T_TMP/g_setup.log" | tr '\n' ' ')"

# policy NAME EXTRA-PROFILE-LINES RULES
policy()
{
	cat >"$T_TMP/$1.toml" <<EOF
[profile.p]
provider = "process"
$2
[profile.p.network]
mode = "allow"
allow = ["127.0.0.1:$G_PORT/tcp"]
[profile.p.fs]
mode = "read-only"
rules = [$3]
EOF
}

case_issue_example_clone_into_rw_grant()
{
	policy clone "" "{ path = \"$G_DIR/work/\", access = \"rw\" }"
	"$SBX" run --policy "$T_TMP/clone.toml" --profile p -- \
		git clone -q "http://127.0.0.1:$G_PORT/repo.git" "$G_DIR/work/clone" 2>"$T_TMP/err" ||
		fail "git clone failed: $(cat "$T_TMP/err")"
	[ -d "$G_DIR/work/clone/.git" ] || fail "no clone in $G_DIR/work"
	[ "$(stat -c %u:%g "$G_DIR/work/clone")" = "$G_UID:$G_GID" ] ||
		fail "clone owned by $(stat -c %u:%g "$G_DIR/work/clone"), want the directory's owner $G_UID:$G_GID"
	[ "$(stat -c %u "$G_DIR/work/clone/.git/HEAD")" = "$G_UID" ] ||
		fail "files in the clone owned by $(stat -c %u "$G_DIR/work/clone/.git/HEAD")"
	rm -rf "$G_DIR/work/clone"
}

case_idmap_is_only_inside_the_grant()
{
	policy only "" "{ path = \"$G_DIR/work/\", access = \"rw\" }"
	local out u
	out=$("$SBX" run --policy "$T_TMP/only.toml" --profile p -- \
		sh -c "id -u; stat -c %u $G_DIR/work; touch $G_DIR/nope 2>&1 || echo denied" 2>&1)
	u=$(echo "$out" | sed -n 1p)
	[ "$u" -ge 2080374784 ] 2>/dev/null || fail "workload does not run as its own uid: $out"
	[ "$(echo "$out" | sed -n 2p)" = "$u" ] || fail "the grant is not the sandbox user's inside: $out"
	echo "$out" | grep -q denied || fail "outside the grant the workload could write: $out"
}

case_user_caller_runs_as_sudo_uid()
{
	policy caller 'user = "caller"' "{ path = \"$G_DIR/work/\", access = \"rw\" }"
	out=$(SUDO_UID=$G_UID SUDO_GID=$G_GID "$SBX" run --policy "$T_TMP/caller.toml" --profile p -- \
		sh -c "id -u; id -g; touch $G_DIR/work/by-caller" 2>&1) || fail "run failed: $out"
	[ "$(echo "$out" | sed -n 1p)" = "$G_UID" ] || fail "uid is not SUDO_UID $G_UID: $out"
	[ "$(echo "$out" | sed -n 2p)" = "$G_GID" ] || fail "gid is not SUDO_GID $G_GID: $out"
	[ "$(stat -c %u "$G_DIR/work/by-caller")" = "$G_UID" ] || fail "file not the caller's"
	rm -f "$G_DIR/work/by-caller"
}

case_unreadable_r_grant_is_refused()
{
	policy secret "" "{ path = \"$G_DIR/secret/\", access = \"r\" }"
	"$SBX" run --policy "$T_TMP/secret.toml" --profile p -- true 2>"$T_TMP/err"
	rc=$?
	[ $rc = 125 ] || fail "exit $rc, want 125: $(cat "$T_TMP/err")"
	grep -q "secret.toml:9:[0-9]*: error: .*'$G_DIR/secret/' grants r, but the sandbox user of this sandbox ([0-9]*:[0-9]*) cannot read it: $G_DIR/secret is owned by root:root (0:0), mode 0700" "$T_TMP/err" ||
		fail "message: $(cat "$T_TMP/err")"
}

case_unwritable_rw_grant_with_explicit_user_is_refused()
{
	policy expl 'user = "nobody"' "{ path = \"$G_DIR/work/\", access = \"rw\" }"
	"$SBX" run --policy "$T_TMP/expl.toml" --profile p -- true 2>"$T_TMP/err"
	rc=$?
	[ $rc = 125 ] || fail "exit $rc, want 125: $(cat "$T_TMP/err")"
	grep -q "expl.toml:9:[0-9]*: error: .*grants rw, but the sandbox user nobody (65534:65534) cannot write it: $G_DIR/work is owned by $G_USER:.* ($G_UID:$G_GID), mode 0755" "$T_TMP/err" ||
		fail "message: $(cat "$T_TMP/err")"
}

case_best_effort_warns_and_lists_degraded()
{
	policy be 'user = "nobody"
enforcement = "best-effort"' "{ path = \"$G_DIR/work/\", access = \"rw\" }"
	"$SBX" run --policy "$T_TMP/be.toml" --profile p --result "$T_TMP/res.json" -- true 2>"$T_TMP/err" ||
		fail "best-effort run failed: $(cat "$T_TMP/err")"
	grep -q "sbx: warning: .*cannot write it: $G_DIR/work is owned by $G_USER" "$T_TMP/err" ||
		fail "no warning: $(cat "$T_TMP/err")"
	jq -e '.degraded | map(select(test("cannot write it"))) | length == 1' "$T_TMP/res.json" >/dev/null ||
		fail "degraded: $(jq -c .degraded "$T_TMP/res.json")"
}

case_filesystem_without_idmap_is_refused()
{
	mkdir -p "$G_DIR/ram" && mount -t ramfs -o mode=0755 none "$G_DIR/ram" || skip "cannot mount a ramfs"
	chown "$G_USER:" "$G_DIR/ram"
	policy ram "" "{ path = \"$G_DIR/ram/\", access = \"rw\" }"
	"$SBX" run --policy "$T_TMP/ram.toml" --profile p -- touch "$G_DIR/ram/x" 2>"$T_TMP/err"
	rc=$?
	umount "$G_DIR/ram"
	[ $rc = 125 ] || fail "exit $rc, want 125: $(cat "$T_TMP/err")"
	grep -q "ram.toml:9:[0-9]*: error: .*cannot write it: $G_DIR/ram is owned by $G_USER.*mode 0755, and it cannot be mapped to the owner: its filesystem (ramfs) does not support idmapped mounts" "$T_TMP/err" ||
		fail "message: $(cat "$T_TMP/err")"
}

case_gvisor_refuses_grant_that_needs_idmap()
{
	cat >"$T_TMP/gv.toml" <<EOF
[profile.p]
provider = "gvisor"
[profile.p.fs]
mode = "read-only"
rules = [{ path = "$G_DIR/work/", access = "rw" }]
EOF
	"$SBX" policy check "$T_TMP/gv.toml" >"$T_TMP/err" 2>&1 && fail "policy check accepted it"
	grep -q "gv.toml:5:[0-9]*: error: profile 'p': 'fs.rules' cannot be enforced by provider 'gvisor': gVisor's bundle binds no idmapped mounts: rule '$G_DIR/work/'.* owned by uid $G_UID" "$T_TMP/err" ||
		fail "message: $(cat "$T_TMP/err")"
}

run_case issue_example_clone_into_rw_grant case_issue_example_clone_into_rw_grant
run_case idmap_is_only_inside_the_grant case_idmap_is_only_inside_the_grant
run_case user_caller_runs_as_sudo_uid case_user_caller_runs_as_sudo_uid
run_case unreadable_r_grant_is_refused case_unreadable_r_grant_is_refused
run_case unwritable_rw_grant_with_explicit_user_is_refused case_unwritable_rw_grant_with_explicit_user_is_refused
run_case best_effort_warns_and_lists_degraded case_best_effort_warns_and_lists_degraded
run_case filesystem_without_idmap_is_refused case_filesystem_without_idmap_is_refused
run_case gvisor_refuses_grant_that_needs_idmap case_gvisor_refuses_grant_that_needs_idmap
finish
