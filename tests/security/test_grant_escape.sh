#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on idmapped grants (docs/security.md, "Granted paths and the
# sandbox user"; providers/grants.c). The workload acts as a granted
# directory's owner inside that mount; it must not get that owner's, or any
# other user's, rights anywhere else:
# - a symlink it plants on a writable grant must not redirect a nested rule
#   of a later run (and its idmapping) to another user's directory: sbx
#   follows only root's symlinks in a rule's path;
# - a directory whose group its owner is not in (alice:disk) must not hand
#   the workload that group (setgid-disk files on the host);
# - inside the grant: no device nodes, no chown, no hard link or symlink to
#   files outside, no setuid effect;
# - user = "caller" never stands for root (sbx run by root without sudo, or
#   a forged SUDO_UID=0/SUDO_GID=0).
#
# Makes its own two users, a group and directories under /var/tmp (the
# process provider's view replaces /tmp), and removes them.
. "$(dirname "$0")/../integration/lib.sh"

E_A="sbxea$$"
E_B="sbxeb$$"
E_GRP="sbxeg$$"
E_DIR=""

_e_cleanup()
{
	[ -n "$E_DIR" ] && rm -rf "$E_DIR"
	id "$E_A" >/dev/null 2>&1 && userdel "$E_A" 2>/dev/null
	id "$E_B" >/dev/null 2>&1 && userdel "$E_B" 2>/dev/null
	getent group "$E_GRP" >/dev/null && groupdel "$E_GRP" 2>/dev/null
	_cleanup
}
trap _e_cleanup EXIT

e_setup()
{
	command -v useradd >/dev/null || { SBX_TEST_SKIP="useradd is missing"; return 0; }
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$E_A" &&
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$E_B" && groupadd "$E_GRP" ||
		return 1
	E_DIR=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.gesc.XXXXXX") && chmod 755 "$E_DIR" ||
		return 1
	# A's project with a nested rwx rule; B's ~/.local/bin with a program
	mkdir -p "$E_DIR/a/proj/tools/bin" "$E_DIR/b/.local/bin" "$E_DIR/grp" &&
		printf 'orig\n' >"$E_DIR/b/.local/bin/git" && chmod 755 "$E_DIR/b/.local/bin/git" &&
		chown -R "$E_A:" "$E_DIR/a" && chown -R "$E_B:" "$E_DIR/b" &&
		chown "$E_A:$E_GRP" "$E_DIR/grp" && chmod 0775 "$E_DIR/grp" &&
		printf 'rootonly\n' >"$E_DIR/rootonly" && chmod 0600 "$E_DIR/rootonly"
}
setup e_setup

# epol NAME RULES
epol()
{
	cat >"$T_TMP/$1.toml" <<EOF
[profile.p]
provider = "process"
[profile.p.network]
mode = "none"
[profile.p.fs]
mode = "read-only"
rules = [$2]
EOF
}

case_planted_symlink_does_not_redirect_a_nested_rule()
{
	epol nest "{ path = \"$E_DIR/a/proj/\", access = \"rw\" },
	{ path = \"$E_DIR/a/proj/tools/bin/\", access = \"rwx\" }"
	# run 1: the workload, acting as A on the grant, plants the link
	"$SBX" run --policy "$T_TMP/nest.toml" --profile p -- sh -c \
		"cd $E_DIR/a/proj && mv tools tools.old && ln -s ../../b/.local tools" \
		2>"$T_TMP/err1" || fail "run 1 could not plant the link: $(cat "$T_TMP/err1")"
	[ -L "$E_DIR/a/proj/tools" ] || fail "run 1 left no symlink"
	# run 2: the same profile; its nested rule now names B's directory
	"$SBX" run --policy "$T_TMP/nest.toml" --profile p -- sh -c \
		"echo evil >$E_DIR/a/proj/tools/bin/git" >"$T_TMP/out2" 2>"$T_TMP/err2"
	local rc=$?
	[ "$(cat "$E_DIR/b/.local/bin/git")" = orig ] ||
		fail "the workload wrote B's $E_DIR/b/.local/bin/git through the planted link (exit $rc)"
	[ "$rc" = 125 ] || fail "run 2 exited $rc, want 125 (refused): $(cat "$T_TMP/err2")"
	# refused by the plan (no rule may cross a symlink), or by the grant's
	# own resolution (only root's symlinks are followed): either names the link
	grep -q "crosses a symlink ($E_DIR/a/proj/tools -> ../../b/.local)" "$T_TMP/err2" ||
		{ grep -q "$E_DIR/a/proj/tools is a symlink owned by $E_A" "$T_TMP/err2" &&
		  grep -q "not root's" "$T_TMP/err2"; } ||
		fail "the refusal does not name the planted link: $(cat "$T_TMP/err2")"
}

case_rule_through_root_symlink_names_the_real_path()
{
	# even root's symlink: under BPF LSM a rule matches the resolved path
	# only, so sbx refuses the link's name and says which path to write
	ln -sfn a/proj "$E_DIR/link" || fail "ln"
	epol rlink "{ path = \"$E_DIR/link/\", access = \"rw\" }"
	"$SBX" run --policy "$T_TMP/rlink.toml" --profile p -- sh -c "echo ok >$E_DIR/link/viaroot" \
		2>"$T_TMP/err" && fail "a grant through a symlink ran"
	grep -q "crosses a symlink ($E_DIR/link -> a/proj).*write '$E_DIR/a/proj/'" "$T_TMP/err" ||
		fail "the refusal does not name the real path: $(cat "$T_TMP/err")"
	[ ! -e "$E_DIR/a/proj/viaroot" ] || fail "the refused run wrote through the link"
	epol real "{ path = \"$E_DIR/a/proj/\", access = \"rw\" }"
	"$SBX" run --policy "$T_TMP/real.toml" --profile p -- sh -c "echo ok >$E_DIR/a/proj/viareal" \
		2>"$T_TMP/err" || fail "the grant on the real path failed: $(cat "$T_TMP/err")"
	[ "$(stat -c %U "$E_DIR/a/proj/viareal" 2>/dev/null)" = "$E_A" ] ||
		fail "the file is not A's: $(ls -l "$E_DIR/a/proj/" 2>&1)"
}

case_group_the_owner_is_not_in_is_not_mapped()
{
	epol grp "{ path = \"$E_DIR/grp/\", access = \"rwx\" }"
	"$SBX" run --policy "$T_TMP/grp.toml" --profile p -- sh -c \
		"cp /bin/true $E_DIR/grp/t && chmod 2755 $E_DIR/grp/t" 2>"$T_TMP/err"
	local rc=$?
	if [ -e "$E_DIR/grp/t" ] && [ "$(stat -c %G "$E_DIR/grp/t")" = "$E_GRP" ] &&
		[ -g "$E_DIR/grp/t" ]; then
		fail "the workload made a setgid-$E_GRP file, a group its owner $E_A is not in"
	fi
	[ "$rc" = 125 ] || fail "exit $rc, want 125 (refused): $(cat "$T_TMP/err")"
	grep -q "one its owner is not in" "$T_TMP/err" ||
		fail "the refusal does not say why: $(cat "$T_TMP/err")"
}

case_owner_rights_stay_in_the_mount()
{
	local w="$E_DIR/a/proj"
	epol own "{ path = \"$w/\", access = \"rwx\" }"
	"$SBX" run --policy "$T_TMP/own.toml" --profile p -- sh -c "
		cd $w || exit 9
		echo me \$(id -u)
		mknod nod c 1 3 2>/dev/null && echo mknod-ok
		ln $E_DIR/rootonly hard 2>/dev/null && echo link-ok
		ln -s $E_DIR/rootonly soft && cat soft 2>/dev/null && echo read-ok
		touch f && chown 0 f 2>/dev/null && echo chown-ok
		cp /usr/bin/id suid && { chmod 4755 suid 2>/dev/null && echo chmod-suid-ok; ./suid -u; }" \
		>"$T_TMP/out" 2>"$T_TMP/err" ||
		fail "the run failed: $(cat "$T_TMP/err")"
	! grep -E -q -- '-ok|rootonly' "$T_TMP/out" || fail "escaped the mount: $(cat "$T_TMP/out")"
	[ -u "$w/suid" ] && fail "the workload made a setuid file of the grant's owner"
	# no set-id file (the seccomp guard), and none would work (nosuid)
	[ "$(tail -n 1 "$T_TMP/out")" = "$(awk '$1 == "me" { print $2 }' "$T_TMP/out")" ] ||
		fail "the copied id ran as $(tail -n 1 "$T_TMP/out"), want the workload's own uid"
}

case_caller_root_is_refused()
{
	cat >"$T_TMP/caller.toml" <<EOF
[profile.p]
provider = "process"
user = "caller"
[profile.p.network]
mode = "none"
[profile.p.fs]
mode = "read-only"
EOF
	# root without sudo (a root shell, cron, a service), and a forged
	# SUDO_UID=0: the workload would own /etc/shadow and root's sockets
	env -u SUDO_UID -u SUDO_GID "$SBX" run --policy "$T_TMP/caller.toml" --profile p -- \
		id -u >"$T_TMP/out" 2>"$T_TMP/err"
	local rc=$?
	[ "$rc" = 125 ] || fail "root as caller: exit $rc, uid $(cat "$T_TMP/out"), want 125"
	grep -q 'the caller is uid 0' "$T_TMP/err" || fail "no reason given: $(cat "$T_TMP/err")"
	SUDO_UID=0 SUDO_GID=0 "$SBX" run --policy "$T_TMP/caller.toml" --profile p -- id -u \
		>"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	[ "$rc" = 125 ] || fail "SUDO_UID=0: exit $rc, uid $(cat "$T_TMP/out"), want 125"
	SUDO_UID=$(id -u "$E_B") SUDO_GID=0 "$SBX" run --policy "$T_TMP/caller.toml" --profile p -- \
		id -g >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	[ "$rc" = 125 ] || fail "SUDO_GID=0: exit $rc, gid $(cat "$T_TMP/out"), want 125"
	SUDO_UID=$(id -u "$E_B") SUDO_GID=$(id -g "$E_B") "$SBX" run --policy "$T_TMP/caller.toml" \
		--profile p -- id -u >"$T_TMP/out" 2>"$T_TMP/err" || fail "a real caller: $(cat "$T_TMP/err")"
	[ "$(cat "$T_TMP/out")" = "$(id -u "$E_B")" ] || fail "ran as $(cat "$T_TMP/out")"
}

run_case planted_symlink_does_not_redirect_a_nested_rule case_planted_symlink_does_not_redirect_a_nested_rule
run_case rule_through_root_symlink_names_the_real_path case_rule_through_root_symlink_names_the_real_path
run_case group_the_owner_is_not_in_is_not_mapped case_group_the_owner_is_not_in_is_not_mapped
run_case owner_rights_stay_in_the_mount case_owner_rights_stay_in_the_mount
run_case caller_root_is_refused case_caller_root_is_refused
finish
