#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The debtest layer of make check: the Debian packages of `make deb`
# (OUTPUT/deb) installed with dpkg on this machine, used, and purged.
#   - lintian reports no error, and every warning is one docs/install.md
#     lists with its reason;
#   - dpkg refuses to unpack sbx over a file another package owns (checked
#     in a scratch dpkg root, with a package made up for it);
#   - dpkg -i of sbx, libsbx1 and libsbx-dev; the installed /usr/bin/sbx
#     runs `sbx features` and the demo (tests/demo.sh) on the installed
#     example policy; the installed /usr/sbin/sbxd, on a private socket,
#     state and instance (no systemd PID 1 here), runs `sbx run` for the
#     installed sbx (its monitors are the sbx beside it, ../bin/sbx); a program
#     compiled with `pkg-config libsbx` from /usr talks to it, and
#     <sbx/sbx_abi.h> compiles on its own;
#   - dpkg -i again (an upgrade's steps) keeps an edited conffile and the
#     loaded programs;
#   - dpkg --purge leaves nothing: no file of the packages (their dpkg -L
#     lists, saved before), no /var/lib/sbx, /var/log/sbx, /run/sbx or
#     /etc/sbx, no pins under /sys/fs/bpf for the default instance (which
#     a run after the demo leaves loaded for the purge to remove) or the
#     daemon's, no cgroup of either instance, no systemd unit state.
# Runs beside the other layers: it never listens on /run/sbx/sbxd.sock (the
# socket `sbx run` of the other layers would find), and they run
# OUTPUT/sbx, not /usr/bin/sbx. It skips, and changes nothing, when an sbx
# package or a `make install PREFIX=/usr` copy is on the machine, or the
# default instance is in use.
#
#   OUTPUT=<build dir> tests/deb/test_deb.sh     (make debtest builds the debs)
#
# By default (SBX_DEBTEST_PRIVATE=1) it runs so that a machine whose default
# instance is in use (a developer's, or one where an earlier layer ran the
# demo) does not make it skip: in a mount namespace with a bpffs,
# /run (holding the real, host-wide /run/sbx-uids) and /var/log of its own,
# and in cgroups of its own (children of the ones it runs in), so that the
# default instance of the packages is not the machine's. The files of the
# packages still go to the real /usr, /etc and /var/lib/dpkg.
# SBX_DEBTEST_PRIVATE=0 runs it on the machine's own /run, /var/log and bpffs
# (it then skips when the default instance is in use).
#
# Prints PASS/FAIL/SKIP lines; the totals go to OUTPUT/test-totals/debtest.

set -u
cd "$(dirname "$0")/../.." || exit 2
top=$PWD

# own_cgroups: "MOUNT PATH" of each hierarchy this process is in
own_cgroups()
{
	local n ctrl path mnt
	while IFS=: read -r n ctrl path; do
		case $ctrl in
		name=*) continue ;;
		"") mnt=/sys/fs/cgroup
		    [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || mnt=/sys/fs/cgroup/unified ;;
		*) mnt=/sys/fs/cgroup/${ctrl%%,*} ;;
		esac
		[ -d "$mnt$path" ] && echo "$mnt ${path%/}"
	done </proc/self/cgroup
}

# tests/vm/run.sh holds this lock while a guest that sees this machine's /usr
# and dpkg database runs tests/vm/test_systemd_deb.sh
if [ -z "${_SBX_DEBTEST_INNER:-}" ] && [ "$(id -u)" = 0 ]; then
	exec 8>/run/lock/sbx-deb.lock && flock 8
fi
if [ "${SBX_DEBTEST_PRIVATE:-1}" = 1 ] && [ -z "${_SBX_DEBTEST_INNER:-}" ] && [ "$(id -u)" = 0 ]; then
	own=$(own_cgroups)
	made=()
	while read -r mnt path; do
		d=$mnt$path/sbx-debtest-$$
		mkdir "$d" || continue
		made+=("$d")
		# a v1 cpuset takes no process before it has cpus and mems
		for f in cpuset.cpus cpuset.mems; do
			[ -e "$d/$f" ] && cat "$mnt$path/$f" >"$d/$f"
		done
	done <<<"$own"
	( for d in "${made[@]}"; do echo $BASHPID >"$d/cgroup.procs" || exit 1; done
	  exec unshare -m --propagation private env _SBX_DEBTEST_INNER=1 bash "$0" "$@" )
	rc=$?
	for d in "${made[@]}"; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	exit $rc
fi
if [ -n "${_SBX_DEBTEST_INNER:-}" ]; then
	realrun=$(mktemp -d /tmp/sbx-debtest-run.XXXXXX)
	mkdir -p -m 0700 /run/sbx-uids
	mount --bind /run "$realrun" && mount -t tmpfs -o mode=0755 tmpfs /run &&
		mkdir -m 0700 /run/sbx-uids && mount --bind "$realrun/sbx-uids" /run/sbx-uids &&
		umount -l "$realrun" && rmdir "$realrun" &&
		mount -t tmpfs -o mode=0755 tmpfs /var/log &&
		mount -t bpf bpf /sys/fs/bpf || { echo "SBX_DEBTEST_PRIVATE: mounts failed" >&2; exit 1; }
	# a make install's /etc/sbx is hidden too (purge cannot remove the
	# mount point: dpkg says so, and the test checks that no file is left)
	if [ -d /etc/sbx ]; then mount -t tmpfs -o mode=0755 tmpfs /etc/sbx || exit 1; fi
fi
OUTPUT=$(realpath -m "${OUTPUT:-build}")
. tests/lib/totals.sh
LOG=$(mktemp /tmp/sbx-debtest-log.XXXXXX)
T=$(mktemp -d /tmp/sbx-debtest.XXXXXX)
chmod 755 "$T"
INST=debt$$
PKGS="sbx libsbx1 libsbx-dev"
installed=0 sbxd_pid=

say() { echo "$1 deb.$2${3:+: $3}" | tee -a "$LOG"; return 0; }

finish()
{
	if [ -n "$sbxd_pid" ]; then
		kill "$sbxd_pid" 2>/dev/null
		wait "$sbxd_pid" 2>/dev/null
	fi
	if [ $installed = 1 ]; then
		SBX_INSTANCE=$INST /usr/bin/sbx unload >/dev/null 2>&1
		dpkg --purge $PKGS >>"$T/purge-late.log" 2>&1
	fi
	rm -rf "$T"
	totals_from_log debtest "$LOG" "${LAYER_SKIP:-}"
	rm -f "$LOG"
}
trap finish EXIT

skip_all() { LAYER_SKIP=$1; say SKIP all "$1"; exit 0; }

# ---- may this machine take the packages? ----------------------------------------

[ "$(id -u)" = 0 ] || skip_all "needs root (dpkg -i, eBPF)"
for t in dpkg-deb lintian cc pkg-config jq python3; do
	command -v $t >/dev/null || skip_all "$t is missing (make deps)"
done
for p in $PKGS; do
	v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null)
	case $v in
	*" installed "*|*" unpacked "*|*" half-"*|*" config-files "*)
		skip_all "the package $p is already on this machine ($v): it is not replaced by a test" ;;
	esac
done
for f in /usr/bin/sbx /usr/sbin/sbxd /usr/lib/libsbx.so.1 /usr/include/sbx /usr/lib/sbx \
	/var/cache/sbx /var/lib/sbx /var/log/sbx /run/sbx /sys/fs/bpf/sbx; do
	[ -e "$f" ] && skip_all "$f exists (make install PREFIX=/usr, or the default instance is in use): dpkg would take it over or purge would remove it"
done
# an empty /etc/sbx (a make install/uninstall leaves its directories) is
# fine: what purge must leave there is no file
etc_before=0
if [ -e /etc/sbx ]; then
	[ -n "$(find /etc/sbx ! -type d 2>/dev/null | head -1)" ] &&
		skip_all "/etc/sbx holds files ($(find /etc/sbx ! -type d | head -2 | tr '\n' ' ')): dpkg would take them over"
	etc_before=1
fi
debs=()
for p in $PKGS; do
	d=$(ls "$OUTPUT"/deb/${p}_*.deb 2>/dev/null | head -1)
	[ -n "$d" ] || { say FAIL build "no $OUTPUT/deb/${p}_*.deb (make deb)"; exit 1; }
	debs+=("$d")
done
say PASS build

# ---- lintian ----------------------------------------------------------------------

lintian --no-cfg --pedantic -I "${debs[@]}" >"$T/lintian" 2>&1
if grep -q '^E: ' "$T/lintian"; then
	say FAIL lintian_errors "$(grep '^E: ' "$T/lintian" | head -5 | tr '\n' ' ')"
elif ! grep -qE '^[WIP]: ' "$T/lintian" && [ -s "$T/lintian" ] && ! grep -q 'root privileges' "$T/lintian"; then
	say FAIL lintian_errors "lintian printed no tags and: $(head -3 "$T/lintian" | tr '\n' ' ')"
else
	say PASS lintian_errors
fi
undoc=
for tag in $(sed -n 's/^W: [^:]*: \([a-z0-9-]*\).*/\1/p' "$T/lintian" | sort -u); do
	grep -q "\`$tag\`" docs/install.md || undoc="$undoc $tag"
done
if [ -n "$undoc" ]; then
	say FAIL lintian_warnings_documented "warnings not listed in docs/install.md:$undoc"
else
	say PASS lintian_warnings_documented
fi

# ---- dpkg refuses to overwrite another package's file ---------------------------

# a package of another name that owns /usr/bin/sbx, in a dpkg root of its own
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$T/owner/DEBIAN" "$T/owner/usr/bin"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
printf '#!/bin/sh\necho another sbx\n' >"$T/owner/usr/bin/sbx"
chmod 755 "$T/owner/usr/bin/sbx"
printf '%s\n' 'Package: sbxtest-owner' 'Version: 1' "Architecture: $(dpkg --print-architecture)" \
	'Maintainer: sbx tests <dev@sbx.invalid>' 'Description: owns /usr/bin/sbx' >"$T/owner/DEBIAN/control"
if ! dpkg-deb --root-owner-group --build "$T/owner" "$T/owner.deb" >/dev/null 2>"$T/owner.err" ||
   ! dpkg --root="$R" --log=/dev/null --force-not-root --unpack "$T/owner.deb" >"$T/owner.err" 2>&1; then
	say FAIL no_overwrite "could not set up the owner package: $(tail -3 "$T/owner.err" | tr '\n' ' ')"
elif dpkg --root="$R" --log=/dev/null --force-not-root --unpack "${debs[0]}" >"$T/over.out" 2>&1; then
	say FAIL no_overwrite "dpkg unpacked sbx over /usr/bin/sbx of sbxtest-owner"
elif ! grep -q "trying to overwrite '/usr/bin/sbx', which is also in package sbxtest-owner" "$T/over.out"; then
	say FAIL no_overwrite "dpkg failed for another reason: $(tail -3 "$T/over.out" | tr '\n' ' ')"
elif [ "$(cat "$R/usr/bin/sbx")" != "$(printf '#!/bin/sh\necho another sbx')" ]; then
	say FAIL no_overwrite "the owner's /usr/bin/sbx changed"
else
	say PASS no_overwrite
fi

# ---- install ----------------------------------------------------------------------

# what the packages will own, before anything is installed
for d in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$d" | tar -t; done |
	sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$' | sort -u >"$T/files"
installed=1
if ! dpkg -i "${debs[@]}" >"$T/install.log" 2>&1; then
	say FAIL install "dpkg -i: $(tail -5 "$T/install.log" | tr '\n' ' ')"
	exit 1
fi
for p in $PKGS; do dpkg -L "$p"; done | sort -u >"$T/dpkg-L"
missing=$(comm -23 "$T/files" "$T/dpkg-L" | head -3 | tr '\n' ' ')
if [ -n "$missing" ]; then
	say FAIL install "dpkg -L lacks $missing"
elif [ ! -x /usr/bin/sbx ] || [ ! -x /usr/sbin/sbxd ] || [ ! -e /usr/lib/libsbx.so.1 ]; then
	say FAIL install "no /usr/bin/sbx, /usr/sbin/sbxd or /usr/lib/libsbx.so.1 after dpkg -i"
elif [ -e /run/sbx/sbxd.sock ] && [ ! -d /run/systemd/system ]; then
	say FAIL install "postinst made /run/sbx/sbxd.sock without systemd"
else
	say PASS install
fi

# ---- the installed sbx --------------------------------------------------------------

want_ver=$(sed -n 's/^#define SBX_VERSION "\(.*\)"/\1/p' user/cli/cli.h)
out=$(/usr/bin/sbx features 2>&1)
rc=$?
ver=$(/usr/bin/sbx --version 2>&1)
if [ $rc != 0 ] || [[ $out != *cgroup* ]]; then
	say FAIL features "sbx features exited $rc: $(tail -3 <<<"$out" | tr '\n' ' ')"
elif [[ $ver != *"$want_ver"* ]]; then
	say FAIL features "sbx --version says '$ver', the tree is $want_ver"
else
	say PASS features
fi

# the demo on the default instance, the installed example policy
env -u SBX_INSTANCE -u SBX_LOG_DIR -u SBX_SOCKET SBX_BIN=/usr/bin/sbx \
	SBX_DEMO_POLICY=/usr/share/doc/sbx/examples/demo.toml tests/demo.sh >"$T/demo.log" 2>&1
rc=$?
if [ $rc != 0 ]; then
	say FAIL demo "tests/demo.sh with /usr/bin/sbx exited $rc: $(tail -5 "$T/demo.log" | tr '\n' ' ')"
elif ! grep -q 'Done: .* allowed and .* denied' "$T/demo.log"; then
	say FAIL demo "no verdicts in the demo's output: $(tail -3 "$T/demo.log" | tr '\n' ' ')"
else
	say PASS demo
fi
# one more run on the default instance: its pins stay for the purge
out=$(env -u SBX_INSTANCE -u SBX_LOG_DIR SBX_DIRECT=1 /usr/bin/sbx run \
	--policy /usr/share/doc/sbx/examples/demo.toml --profile ccos.demo.loopback -- sh -c 'echo in-sbx' 2>&1)
rc=$?
if [ $rc != 0 ] || [[ $out != *in-sbx* ]]; then
	say FAIL default_instance "sbx run exited $rc: $(tail -c 300 <<<"$out")"
elif [ ! -d /sys/fs/bpf/sbx ]; then
	say FAIL default_instance "no pins in /sys/fs/bpf/sbx after a run"
else
	say PASS default_instance
fi

# an upgrade (here: the same version again, which dpkg runs through the
# same prerm upgrade / postinst configure steps) keeps an edited conffile
# and does not unload the programs that running sandboxes would need
echo '# edited by the test' >>/etc/sbx/policy.d/demo.toml
if ! dpkg -i "${debs[0]}" >"$T/reinstall.log" 2>&1; then
	say FAIL upgrade "dpkg -i again: $(tail -5 "$T/reinstall.log" | tr '\n' ' ')"
elif [ "$(tail -1 /etc/sbx/policy.d/demo.toml)" != '# edited by the test' ]; then
	say FAIL upgrade "the edited /etc/sbx/policy.d/demo.toml was replaced"
elif [ ! -d /sys/fs/bpf/sbx ]; then
	say FAIL upgrade "the upgrade unloaded the default instance (no /sys/fs/bpf/sbx)"
else
	say PASS upgrade
fi

# ---- the installed sbxd -------------------------------------------------------------

mkdir -p "$T/pol" "$T/state" "$T/audit"
cat >"$T/pol/deb.toml" <<EOF
version = 1
[profile.debp]
provider = "host"
min_isolation = "none"
user = "root"
[profile.debp.fs]
mode = "full"
EOF
SOCK=$T/sbxd.sock
SBX_INSTANCE=$INST /usr/sbin/sbxd --state-dir "$T/state" --socket "$SOCK" --policy-dir "$T/pol" \
	--audit-dir "$T/audit" --stop-timeout 2s >"$T/sbxd.log" 2>&1 &
sbxd_pid=$!
up=0
for _ in $(seq 200); do
	SBX_SOCKET=$SOCK /usr/bin/sbx ls >/dev/null 2>&1 && { up=1; break; }
	kill -0 $sbxd_pid 2>/dev/null || break
	sleep 0.05
done
if [ $up = 0 ]; then
	say FAIL sbxd_roundtrip "/usr/sbin/sbxd did not come up: $(tail -3 "$T/sbxd.log" | tr '\n' ' ')"
else
	out=$(SBX_INSTANCE=$INST SBX_SOCKET=$SOCK /usr/bin/sbx run --profile debp -- \
		sh -c 'echo through-sbxd; exit 7' 2>"$T/drun.err")
	rc=$?
	if [ $rc != 7 ] || [ "$out" != through-sbxd ]; then
		say FAIL sbxd_roundtrip "sbx run through sbxd: exit $rc (expected 7), stdout '$out': $(tail -c 300 "$T/drun.err") $(tail -3 "$T/sbxd.log" | tr '\n' ' ')"
	elif [ -e "/var/log/$INST" ] || [ ! -e "$T/audit/audit.jsonl" ]; then
		say FAIL sbxd_roundtrip "the run did not write sbxd's audit log $T/audit/audit.jsonl ($(ls "/var/log/$INST" 2>&1)): it did not go through sbxd"
	else
		say PASS sbxd_roundtrip
	fi
fi

# ---- libsbx-dev ---------------------------------------------------------------------

flags=$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs libsbx 2>&1)
if ! cc -Wall -Wextra -Werror docs/examples/libsbx-list.c $flags -o "$T/libsbx-list" 2>"$T/cc.err"; then
	say FAIL libsbx_dev "cc with pkg-config libsbx ($flags): $(head -5 "$T/cc.err" | tr '\n' ' ')"
elif [ "$(readlink -f "$(ldd "$T/libsbx-list" | awk '$1 == "libsbx.so.1" { print $3 }')")" != /usr/lib/libsbx.so.1 ]; then
	say FAIL libsbx_dev "the program does not load /usr/lib/libsbx.so.1: $(ldd "$T/libsbx-list" | grep sbx)"
elif [ $up = 1 ] && ! "$T/libsbx-list" "$SOCK" >"$T/list.out" 2>&1; then
	say FAIL libsbx_dev "the program failed against sbxd: $(head -3 "$T/list.out" | tr '\n' ' ')"
else
	say PASS libsbx_dev
fi
printf '#include <sbx/sbx_abi.h>\nint main(void) { return sizeof(struct sbx_event_hdr) == 0; }\n' >"$T/abi.c"
if cc -Wall -Wextra -Werror -std=c11 "$T/abi.c" -o "$T/abi" 2>"$T/abi.err"; then
	say PASS abi_header
else
	say FAIL abi_header "<sbx/sbx_abi.h> from /usr/include: $(head -5 "$T/abi.err" | tr '\n' ' ')"
fi

kill "$sbxd_pid" 2>/dev/null
wait "$sbxd_pid" 2>/dev/null
sbxd_pid=
SBX_INSTANCE=$INST /usr/bin/sbx unload >"$T/unload.log" 2>&1 ||
	say FAIL sbxd_roundtrip "sbx unload of the daemon's instance: $(cat "$T/unload.log")"

# ---- purge --------------------------------------------------------------------------

if ! dpkg --purge $PKGS >"$T/purge.log" 2>&1; then
	say FAIL purge "dpkg --purge: $(tail -5 "$T/purge.log" | tr '\n' ' ')"
	exit 1
fi
installed=0
left=()
while read -r f; do
	# directories stay when something else keeps files in them (/usr/lib;
	# /lib, a link to usr/lib on a merged /usr)
	[ -d "$f" ] && continue
	{ [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
done <"$T/dpkg-L"
if [ $etc_before = 1 ]; then
	[ -n "$(find /etc/sbx ! -type d 2>/dev/null | head -1)" ] && left+=("files in /etc/sbx")
elif [ -e /etc/sbx ]; then
	left+=(/etc/sbx)
fi
for f in /var/lib/sbx /var/log/sbx /var/cache/sbx /run/sbx /usr/share/doc/sbx /usr/include/sbx \
	/usr/share/sbx /sys/fs/bpf/sbx "/sys/fs/bpf/$INST" "/run/$INST" "/var/log/$INST" \
	/etc/systemd/system/sockets.target.wants/sbxd.socket \
	/etc/systemd/system/multi-user.target.wants/sbxd.service \
	/var/lib/systemd/deb-systemd-helper-enabled/sbxd.socket.dsh-also \
	/var/lib/systemd/deb-systemd-helper-masked/sbxd.socket; do
	{ [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
done
# the cgroups of both instances: INSTANCE beneath this process's cgroup in
# every hierarchy (where sbx puts them without systemd), and the scope of
# the default instance under systemd
while read -r mnt path; do
	for d in "$mnt$path/sbx" "$mnt$path/$INST"; do [ -d "$d" ] && left+=("$d"); done
done < <(own_cgroups)
[ -d /sys/fs/cgroup/sbx.slice/sbx-sbx.scope ] && left+=(/sys/fs/cgroup/sbx.slice/sbx-sbx.scope)
# the leases of both instances (the directory is every instance's)
leases=$(grep -lsxE "instance=(sbx|$INST)" /run/sbx-uids/* | tr '\n' ' ')
if [ ${#left[@]} -gt 0 ]; then
	say FAIL purge "left after dpkg --purge: ${left[*]:0:8}"
elif dpkg-query -W -f='${Status}' sbx 2>/dev/null | grep -qv 'not-installed'; then
	say FAIL purge "dpkg still knows sbx: $(dpkg-query -W -f='${Status}' sbx)"
elif grep -q 'sandboxes still run' "$T/purge.log"; then
	say FAIL purge "prerm's sbx unload refused: $(cat "$T/purge.log" | tr '\n' ' ')"
elif [ -n "$leases" ]; then
	say FAIL purge "uid leases left in /run/sbx-uids: $leases"
else
	say PASS purge
fi
exit 0
