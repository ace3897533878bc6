#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on what installation and packaging ship (issue 13): the microvm
# guest builder PREFIX/lib/sbx/mkguest.sh that root runs, the shell
# completion scripts that every user's shell sources, make install and make
# uninstall (user/install.sh), the logrotate snippet and the maintainer
# scripts of make deb (docs/debian/), from the point of view of a local user
# (nobody here) or a hostile name.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# fake_kernel DIR: DIR/linux-image-fake.deb, a kernel package in the shape
# mkguest.sh reads (a bzImage header whose payload is a gzip'ed ELF, the
# virtio modules listed as built in), so that the builder runs offline.
fake_kernel()
{
	local d=$1 k=$1/pkg v=6.0.0-sbxfake m
	mkdir -p "$k/DEBIAN" "$k/boot" "$k/lib/modules/$v" || return 1
	gzip -c </bin/true >"$d/payload.gz" || return 1
	python3 - "$d/payload.gz" "$k/boot/vmlinuz-$v" <<'PY' || return 1
import struct, sys
p = open(sys.argv[1], 'rb').read()
h = bytearray(1024)
h[0x1f1] = 1                                  # setup_sects: payload base 1024
h[0x248:0x24c] = struct.pack('<I', 0)         # payload_offset
h[0x24c:0x250] = struct.pack('<I', len(p))    # payload_length
open(sys.argv[2], 'wb').write(bytes(h) + p)
PY
	for m in virtio virtio_ring virtio_mmio virtio_console failover net_failover virtio_net vsock \
		vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do
		echo "kernel/drivers/x/$m.ko"
	done >"$k/lib/modules/$v/modules.builtin"
	printf 'Package: linux-image-sbxfake\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: fake\n' \
		>"$k/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$k" "$d/linux-image-fake.deb" >/dev/null
}

# mkguest.sh built the guest's root tree, world-writable /tmp and /var/tmp
# included, in a work directory it had opened to everyone (0755) for
# apt-get, and archived it with cpio --owner=0:0. A local user who watched
# /tmp for sbx-mkguest.* dropped a file into <work>/root/var/tmp while gcc
# compiled the init (here: at that moment, through a gcc wrapper first in
# PATH), chmod 4755: the guest's initramfs then held a setuid-root shell at
# /var/tmp/rootsh, not hidden by the guest's tmpfs /tmp, for every sandbox
# workload of every microvm. Now the work directory stays 0700: the user
# cannot reach the tree, and the archive holds nothing of his.
case_mkguest_tree_closed_to_users()
{
	local d=$T_TMP/mkguest w
	for w in gcc cpio dpkg-deb python3 busybox; do
		command -v $w >/dev/null || skip "$w is missing"
	done
	ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is not busybox-static"
	mkdir -p "$d/wrap" && fake_kernel "$d" || fail "cannot make the fake kernel package"
	cat >"$d/wrap/gcc" <<-'EOF'
	#!/bin/bash
	for a; do case $a in */root/init) R=${a%/init} ;; esac; done
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
		'cp /bin/busybox "$1/var/tmp/rootsh" && chmod 4755 "$1/var/tmp/rootsh"' sh "$R" \
		>"$ATK_LOG" 2>&1 && echo planted >>"$ATK_LOG"
	PATH=${PATH#*:} exec gcc "$@"
	EOF
	chmod 755 "$d/wrap/gcc"
	ATK_LOG=$d/atk.log PATH=$d/wrap:$PATH TMPDIR=/tmp \
		"$SRC/providers/guest/mkguest.sh" -q -k "$d/linux-image-fake.deb" -o "$d/out" \
		>"$d/mkguest.log" 2>&1 || fail "mkguest.sh failed: $(tail -c 300 "$d/mkguest.log")"
	[ -s "$d/out/initrd.img" ] || fail "mkguest.sh wrote no initrd.img"
	grep -q planted "$d/atk.log" && fail "nobody planted a file in the guest tree: $(cpio -itv <"$d/out/initrd.img" 2>/dev/null | grep rootsh)"
	grep -q "Permission denied" "$d/atk.log" || fail "the attacker's step did not run: $(cat "$d/atk.log")"
	cpio -it <"$d/out/initrd.img" 2>/dev/null | grep -q rootsh && fail "the initramfs holds rootsh"
	cpio -itv <"$d/out/initrd.img" 2>/dev/null | grep -q ' var/tmp$' || fail "the guest has no /var/tmp"
	return 0
}

# lister DIR: DIR/sbx, a stand-in for sbx whose `completion --list sandbox`
# prints hostile values (what a lying daemon, or a name that escaped sbxd's
# check, would give the completing shell), each of which leaves a mark when
# a shell evaluates it.
lister()
{
	cat >"$1/sbx" <<-EOF
	#!/bin/sh
	[ "\$1 \$2 \$3" = "completion --list sandbox" ] || exit 1
	printf '%s\n' web1 '\$(touch $1/MARK1)' '\`touch $1/MARK2\`' '\${HOME}x' '*' 'w;touch $1/MARK3'
	EOF
	chmod 755 "$1/sbx"
}

# The bash script offered `sbx completion --list` values through
# compgen -W "$(...)", which expands each word: a value "$(cmd)" ran cmd in
# the completing user's shell at TAB, "${HOME}x" became /rootx and "*" the
# files of the current directory. sbxd's names ([A-Za-z0-9._-], below) and
# the policy's profile names keep such values out today; the script no
# longer depends on that: it reads the values as lines of data. zsh's compadd
# never evaluated them (checked too).
case_completion_values_are_data()
{
	local d=$T_TMP/compl out
	mkdir -p "$d" && lister "$d"
	"$SBX" completion bash >"$d/sbx.bash" && "$SBX" completion zsh >"$d/_sbx" || fail "sbx completion failed"
	out=$(cd "$d" && bash -c '. ./sbx.bash; COMP_WORDS=("$1" stop ""); COMP_CWORD=2; _sbx
		printf "%s\n" "${COMPREPLY[@]}"' _ "$d/sbx")
	[ -e "$d/MARK1" ] || [ -e "$d/MARK2" ] || [ -e "$d/MARK3" ] &&
		fail "bash completion ran code from a listed name: $(ls "$d" | tr '\n' ' ')"
	eq "bash values" "$(tr '\n' ' ' <<<"$out")" \
		"web1 \$(touch $d/MARK1) \`touch $d/MARK2\` \${HOME}x * w;touch $d/MARK3 "
	out=$(cd "$d" && bash -c '. ./sbx.bash; COMP_WORDS=("$1" stop "w"); COMP_CWORD=2; _sbx
		printf "%s\n" "${COMPREPLY[@]}"' _ "$d/sbx" | tr '\n' ' ')
	eq "bash values by prefix" "$out" "web1 w;touch $d/MARK3 "
	command -v zsh >/dev/null || return 0
	out=$(cd "$d" && zsh -f -c '. ./_sbx 2>/dev/null
		compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift
			print -rl -- "$@" }
		words=("$1" stop ""); CURRENT=3; PREFIX=; _sbx' _ "$d/sbx" | tr '\n' ' ')
	[ -e "$d/MARK1" ] || [ -e "$d/MARK2" ] || [ -e "$d/MARK3" ] &&
		fail "zsh completion ran code from a listed name"
	eq "zsh values" "$out" "web1 \$(touch $d/MARK1) \`touch $d/MARK2\` \${HOME}x * w;touch $d/MARK3 "
}

# Could a user give sbxd such a name, so that another user's TAB ran it?
# No: sbxd refuses every name outside [A-Za-z0-9._-] (EINVAL, the name
# quoted, an api.denied line), and the real lister then offers only what it
# has.
case_daemon_refuses_shell_names()
{
	local n d=$T_TMP/compl2 out
	for n in '$(touch /tmp/sbxpwn)' '`id`' 'a;b' 'a b' '*' $'a\nb'; do
		sx start --name "$n" -- sleep 30
		[ "$RC" = 0 ] && fail "sbxd accepted the name '$n'"
		tr -d '\n' <"$T_TMP/sx.err" | grep -q "invalid name: name '.*is not 1 to" || fail "name '$n': $(cat "$T_TMP/sx.err")"
	done
	# the error on the wire: InvalidParameter, parameter "name"
	out=$(python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
m = {"method": "org.sbx.Manager.Start", "parameters": {"name": "$(id)", "command": ["true"]}}
s.sendall(json.dumps(m).encode() + b"\0")
r = b""
while not r.endswith(b"\0"):
    c = s.recv(65536)
    if not c: break
    r += c
e = json.loads(r.rstrip(b"\0"))
print(e.get("error"), e.get("parameters", {}).get("parameter"))' "$SOCK") || fail "raw Start: $out"
	eq "raw Start with name \$(id)" "$out" "org.sbx.Manager.InvalidParameter name"
	sx start --name web1 -- sleep 30
	eq "start web1" "$RC" 0
	mkdir -p "$d"
	out=$(cd "$d" && SBX_SOCKET=$SOCK bash -c '. <("$1" completion bash); COMP_WORDS=("$1" stop ""); COMP_CWORD=2
		_sbx; printf "%s\n" "${COMPREPLY[@]}"' _ "$SBX")
	eq "listed sandboxes" "$out" "web1"
	sx rm --force web1
}

# The logrotate snippet's postrotate, where sbxd does not run under systemd,
# was `pkill -HUP -x sbxd`: root's weekly logrotate sent SIGHUP (whose
# default action ends a process) to every process named sbxd on the host,
# whoever ran it: a local user's program of that name died. Now only
# processes of root (-U 0: real uid) are signalled. Run in a PID namespace
# of its own, so that no other sbxd of this machine is touched.
case_logrotate_signals_only_root()
{
	local d=$T_TMP/lr
	command -v unshare >/dev/null || skip "unshare is missing"
	mkdir -p "$d/bin" && cp "$(command -v sleep)" "$d/bin/sbxd" && chmod 755 "$d" "$d/bin" || fail "setup"
	sed -n '/^[[:space:]]*postrotate$/,/^[[:space:]]*endscript$/p' "$SRC/docs/logrotate/sbx" |
		sed '1d;$d' >"$d/postrotate.sh"
	grep -q pkill "$d/postrotate.sh" || fail "no pkill in the snippet's postrotate: $(cat "$d/postrotate.sh")"
	unshare --pid --fork --mount-proc bash -c '
		d=$1
		setpriv --reuid=65534 --regid=65534 --clear-groups "$d/bin/sbxd" 60 & user=$!
		"$d/bin/sbxd" 60 & root=$!
		sleep 0.3
		sh "$d/postrotate.sh"
		sleep 0.3
		kill -0 $user 2>/dev/null && echo user-alive || echo user-dead
		wait $root; echo root-status-$?
		kill $user 2>/dev/null; wait' _ "$d" >"$d/out" 2>&1
	grep -q user-dead "$d/out" && fail "root's logrotate killed nobody's process named sbxd (SIGHUP)"
	grep -q user-alive "$d/out" || fail "no verdict: $(cat "$d/out")"
	# 129 = 128 + SIGHUP: root's sbxd still gets its signal
	grep -q root-status-129 "$d/out" || fail "root's sbxd got no SIGHUP: $(cat "$d/out")"
}

# make install under root's umask 000 (or 002): the directories that
# install.sh made with mkdir -p, $PREFIX/lib/systemd/system among them,
# were world-writable (group-writable), so a local user could add or replace
# a unit there (systemd reads /usr/local/lib/systemd/system) for root to
# run. install.sh and mkdeb.sh now set umask 022 themselves: nothing
# installed is writable by others, whatever the caller's umask.
case_install_modes_ignore_umask()
{
	local d=$T_TMP/um out
	# built first under the caller's umask: a tree changed since the last
	# build would otherwise be rebuilt under 000, leaving OUTPUT's sbx and
	# sbxd writable by others, which sbxd then rightly refuses to run (every
	# later sbxd test of the run failed with "sbxd did not start")
	out=$(cd "$SRC" && make -s --no-print-directory all OUTPUT="$(dirname "$SBX")" 2>&1) ||
		fail "make: $out"
	out=$(umask 000; cd "$SRC" && make -s --no-print-directory install OUTPUT="$(dirname "$SBX")" \
		DESTDIR="$d" PREFIX=/usr/local 2>&1) || fail "make install: $out"
	out=$(find "$d" ! -type l -perm /022 -printf '%m %P\n')
	[ -z "$out" ] || fail "make install under umask 000 made group/world-writable paths: $(echo $out)"
	out=$(cd "$SRC" && make -s --no-print-directory uninstall OUTPUT="$(dirname "$SBX")" \
		DESTDIR="$d" PREFIX=/usr/local 2>&1) || fail "make uninstall: $out"
}

# mkguest.sh -o DIR wrote DIR/kernel.version with `echo >` and its images
# through fixed names DIR/.vmlinux.tmp...: where DIR was a directory a local
# user made first (mkguest -o /tmp/guest, or $T_TMP/guest of a world-writable
# T_TMP), the user's link DIR/kernel.version -> a root-only file had root
# overwrite that file (and a link at .vmlinux.tmp, with the kernel image).
# Now DIR, and each directory above it, must be root's or the caller's and
# writable by no one else (a sticky directory above is fine), or mkguest
# refuses before it builds anything; the files go in under mktemp names.
case_mkguest_output_dir_checked()
{
	local d=$T_TMP/mkguest2 ev=$T_TMP/mkguest2/victim
	command -v gcc >/dev/null && command -v cpio >/dev/null || skip "gcc or cpio is missing"
	ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is not busybox-static"
	mkdir -p "$d" && chmod 755 "$d" && fake_kernel "$d" || fail "cannot make the fake kernel package"
	echo root-only >"$ev" && chmod 600 "$ev"
	as_nobody sh -c 'mkdir "$1" && ln -s "$2" "$1/kernel.version" && chmod 755 "$1"' _ "$T_TMP/guest" "$ev" ||
		fail "nobody could not prepare $T_TMP/guest"
	"$SRC/providers/guest/mkguest.sh" -q -k "$d/linux-image-fake.deb" -o "$T_TMP/guest" >"$d/log" 2>&1 &&
		fail "mkguest.sh wrote into nobody's directory"
	eq "the root-only file" "$(cat "$ev")" root-only
	grep -q "is owned by uid 65534" "$d/log" || fail "no reason given: $(cat "$d/log")"
	mkdir -p "$d/ww" && chmod 777 "$d/ww"
	"$SRC/providers/guest/mkguest.sh" -q -k "$d/linux-image-fake.deb" -o "$d/ww" >"$d/log" 2>&1 &&
		fail "mkguest.sh wrote into a world-writable directory"
	grep -q "is writable by others (mode 777)" "$d/log" || fail "no reason given: $(cat "$d/log")"
	[ -z "$(ls -A "$d/ww")" ] || fail "mkguest.sh left files in the refused directory: $(ls -A "$d/ww")"
	# below a sticky directory (T_TMP is 1777, like /tmp): built
	"$SRC/providers/guest/mkguest.sh" -q -k "$d/linux-image-fake.deb" -o "$T_TMP/own/guest" >"$d/log" 2>&1 ||
		fail "mkguest.sh -o below a sticky directory: $(cat "$d/log")"
	eq "files written" "$(ls -A "$T_TMP/own/guest" | tr '\n' ' ')" "initrd.img kernel.version vmlinux vmlinuz "
	eq "kernel.version" "$(cat "$T_TMP/own/guest/kernel.version")" 6.0.0-sbxfake
}

# The package's sbxd listens on /run/sbx/sbxd.sock (mode 0666, for every
# local user), in /run/sbx, which is also the run directory of the default
# instance "sbx"; sbx made that directory 0700 whenever it took the
# instance's lock. So the first sandbox (sbxd's own monitors run instance
# sbx) locked every user but root out of sbxd: `sbx ls` as a user failed
# with EACCES. The same layout here with the file's instance: the socket in
# /run/INSTANCE. Now the run directory is 0711: users reach the socket, but
# still cannot list the directory or read the registry below it.
case_socket_in_run_dir_stays_reachable()
{
	local s=$RUN_DIR/sbxd.sock
	sbxd_stop
	mkdir -p "$RUN_DIR" && chmod 755 "$RUN_DIR"
	SOCK=$s sbxd_start || fail "sbxd on $s did not start"
	SBX_SOCKET=$s as_nobody "$SBX" ls >/dev/null 2>"$T_TMP/ls.err" || fail "nobody's sbx ls before a run: $(cat "$T_TMP/ls.err")"
	SBX_SOCKET=$s "$SBX" start --name r1 -- sleep 30 >/dev/null 2>"$T_TMP/st.err" || fail "start: $(cat "$T_TMP/st.err")"
	# the monitor took the instance's lock (the sandbox need not live on)
	for _ in $(seq 100); do [ -e "$RUN_DIR/lock" ] && break; sleep 0.05; done
	[ -e "$RUN_DIR/lock" ] || fail "no $RUN_DIR/lock after a start"
	SBX_SOCKET=$s as_nobody "$SBX" ls >/dev/null 2>"$T_TMP/ls.err" ||
		fail "after a sandbox ran, nobody cannot reach sbxd: $(cat "$T_TMP/ls.err") (mode of $RUN_DIR: $(stat -c %a "$RUN_DIR"))"
	eq "mode of $RUN_DIR" "$(stat -c %a "$RUN_DIR")" 711
	as_nobody ls "$RUN_DIR" >/dev/null 2>&1 && fail "nobody lists $RUN_DIR"
	as_nobody ls "$RUN_DIR/slots" >/dev/null 2>&1 && fail "nobody lists $RUN_DIR/slots"
	SBX_SOCKET=$s "$SBX" rm --force r1 >/dev/null 2>&1
	SOCK=$s sbxd_stop
	rm -f "$s"
}

# `sbx completion --list sandbox` runs at TAB and waited for sbxd without
# end: a daemon (or anything at SBX_SOCKET) that accepted and never answered
# hung the completing shell until Ctrl-C. Now it gives up after 2 s, with
# exit 1 and a reason, and the shell offers nothing.
case_completion_list_bounded()
{
	local hs=$T_TMP/hang.sock start out rc
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
conns = []
end = time.time() + 30
while time.time() < end:
    s.settimeout(end - time.time())
    try: conns.append(s.accept())
    except OSError: break' "$hs" &
	for _ in $(seq 100); do [ -S "$hs" ] && break; sleep 0.05; done
	start=$(date +%s%N)
	out=$(SBX_SOCKET=$hs timeout 20 "$SBX" completion --list sandbox 2>"$T_TMP/hang.err")
	rc=$?
	kill $! 2>/dev/null
	[ $rc = 124 ] && fail "sbx completion --list sandbox still waited after 20 s"
	eq "exit status" $rc 1
	eq "output" "$out" ""
	grep -q "sbxd did not answer within 2 s" "$T_TMP/hang.err" || fail "no reason: $(cat "$T_TMP/hang.err")"
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 6000 ] || fail "it took more than 6 s"
}

# mkguest.sh -a FILE copies FILE's libraries, as ldd lists them, to
# "$R$lib" in the guest tree. The paths are the program's (a DT_NEEDED with
# a slash is taken as is): nobody builds a tool whose library is
# "P/../../..(k times)/P/evil.so", which resolves on the host to nobody's
# P/evil.so, but below the guest tree to T_TMP/P/evil.so, outside it, where
# nobody left a link to a root-only file: root wrote the library through it
# (the same with a link to /root/.ssh/authorized_keys). Now the copy goes to
# the path with its ".." removed, inside the tree, and replaces what is
# there rather than writing through it.
case_mkguest_extra_libs_stay_in_tree()
{
	local d=$T_TMP/mkguest3 ev=$T_TMP/victim3 P=$T_TMP/p3 dT k lib i up=
	command -v gcc >/dev/null && command -v cpio >/dev/null || skip "gcc or cpio is missing"
	ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is not busybox-static"
	mkdir -p "$d/tmpd" && chmod 755 "$d" "$d/tmpd" && fake_kernel "$d" || fail "cannot make the fake kernel package"
	echo root-only >"$ev" && chmod 600 "$ev"
	# depths: the guest tree R is TMPDIR/sbx-mkguest.X/root =
	# T_TMP/mkguest3/tmpd/X/root (dT + 4 components), P is T_TMP/p3 (dT + 1):
	# k ".." after R/P leave T_TMP, after P alone /
	dT=$(tr -cd / <<<"$T_TMP" | wc -c)
	k=$((dT + 5))
	for ((i = 0; i < k; i++)); do up=$up/..; done
	lib=$P$up$P/evil.so
	as_nobody sh -c '
		mkdir -p "$1" "$3$1" && cd "$1" &&
		echo "int evil(void) { return 1; }" >e.c && gcc -shared -fPIC -o evil.so e.c &&
		echo "int evil(void); int main(void) { return evil(); }" >m.c && gcc -o tool m.c "$2" &&
		ln -s "$4" "$3$1/evil.so"' _ "$P" "$lib" "$T_TMP" "$ev" >"$d/atk.log" 2>&1 ||
		fail "nobody could not build the tool: $(cat "$d/atk.log")"
	ldd "$P/tool" | grep -qF "$lib" || fail "ldd does not list $lib: $(ldd "$P/tool")"
	TMPDIR=$d/tmpd "$SRC/providers/guest/mkguest.sh" -q -k "$d/linux-image-fake.deb" -o "$d/out" \
		-a "$P/tool" >"$d/log" 2>&1 || fail "mkguest.sh -a: $(tail -c 300 "$d/log")"
	eq "the root-only file" "$(head -c 9 "$ev" | tr -d '\0')" root-only
	cpio -it <"$d/out/initrd.img" 2>/dev/null | grep -qx "${P#/}/evil.so" ||
		fail "the library is not at $P/evil.so in the guest: $(cpio -it <"$d/out/initrd.img" 2>/dev/null | grep evil)"
	cpio -it <"$d/out/initrd.img" 2>/dev/null | grep -qx "usr/local/bin/tool" || fail "no tool in the guest"
	cpio -it <"$d/out/initrd.img" 2>/dev/null | grep -qx "lib64/ld-linux-x86-64.so.2" ||
		fail "the loader is not at /lib64/ld-linux-x86-64.so.2 in the guest"
}

# mkguest.sh -k NAME took NAME as a local .deb whenever a file of that name
# was in the current directory: root running `mkguest.sh -k
# linux-image-6.1.0-13-amd64` from /tmp built every guest from the kernel
# package another user had left there under that name, unchecked. Now only
# a path (with a "/") or a name ending in .deb is a file; a bare name is
# the package, which apt-get fetches and verifies.
case_mkguest_package_name_not_a_planted_file()
{
	local d=$T_TMP/mkguest4 name=linux-image-sbxplanted-$$
	command -v gcc >/dev/null && command -v cpio >/dev/null || skip "gcc or cpio is missing"
	ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is not busybox-static"
	mkdir -p "$d/cwd" && chmod 755 "$d" && chmod 1777 "$d/cwd" && fake_kernel "$d" || fail "setup"
	as_nobody cp "$d/linux-image-fake.deb" "$d/cwd/$name" || fail "nobody could not plant the file"
	(cd "$d/cwd" && "$SRC/providers/guest/mkguest.sh" -q -k "$name" -o "$d/out") >"$d/log" 2>&1 &&
		fail "mkguest.sh built from the file nobody left as '$name': $(cat "$d/out/kernel.version")"
	[ -e "$d/out/kernel.version" ] && fail "mkguest.sh wrote a guest"
	grep -q "apt-get download $name failed" "$d/log" || fail "not refused by apt-get: $(cat "$d/log")"
	# an explicit path, or a .deb name, is still a file
	(cd "$d" && "$SRC/providers/guest/mkguest.sh" -q -k linux-image-fake.deb -o "$d/out") >"$d/log" 2>&1 ||
		fail "mkguest.sh -k linux-image-fake.deb: $(cat "$d/log")"
	eq "kernel.version" "$(cat "$d/out/kernel.version")" 6.0.0-sbxfake
}

SBX_TEST_SKIP=${SBX_TEST_SKIP:-$(command -v setpriv >/dev/null || echo "setpriv is missing")}
setup sbxd_start
run_case mkguest_tree_closed_to_users case_mkguest_tree_closed_to_users
run_case mkguest_output_dir_checked case_mkguest_output_dir_checked
run_case mkguest_extra_libs_stay_in_tree case_mkguest_extra_libs_stay_in_tree
run_case mkguest_package_name_not_a_planted_file case_mkguest_package_name_not_a_planted_file
run_case completion_values_are_data case_completion_values_are_data
run_case completion_list_bounded case_completion_list_bounded
run_case daemon_refuses_shell_names case_daemon_refuses_shell_names
run_case socket_in_run_dir_stays_reachable case_socket_in_run_dir_stays_reachable
run_case logrotate_signals_only_root case_logrotate_signals_only_root
run_case install_modes_ignore_umask case_install_modes_ignore_umask
finish
