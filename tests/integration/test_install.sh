#!/bin/bash
# SPDX-License-Identifier: MIT
# make install and make uninstall (docs/install.md "From source",
# user/install.sh): uninstall removes every file install put there, with
# DESTDIR and with a PREFIX alone, keeps an edited policy file and says so,
# and removes sbx's own directories; the installed copy carries the
# completion scripts and the microvm guest builder, whose installed sbx
# names the installed builder when the guest is missing, and whose output
# the installed sbx finds and boots; the installed sbx runs the installed
# sbx-init as PID 1 of its process-provider sandboxes.
. "$(dirname "$0")/lib.sh"

OUTPUT=${OUTPUT:-$(dirname "$SBX")}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
INST=$T_TMP/inst	# DESTDIR of the shared installed copy

mk()
{
	make -s -C "$REPO" OUTPUT="$OUTPUT" "$@" >"$T_TMP/make.log" 2>&1
}

install_setup()
{
	chmod 0755 "$T_TMP"	# qemu runs as the sandbox's uid and reads the guest files
	mk install DESTDIR="$INST" PREFIX=/usr || { tail -20 "$T_TMP/make.log"; return 1; }
}

# files and symbolic links under $1, one per line
files_under() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort); }

case_install_puts_what_the_list_names()
{
	local want got
	want=$(OUTPUT=$OUTPUT PREFIX=/usr sh "$REPO/user/install.sh" list | sort)
	got=$(files_under "$INST")
	[ "$want" = "$got" ] || fail "installed files differ from user/install.sh list: $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
	for f in /usr/bin/sbx /usr/sbin/sbxd /usr/share/bash-completion/completions/sbx \
		/usr/share/zsh/vendor-completions/_sbx /usr/lib/sbx/mkguest.sh /usr/lib/sbx/sbx-guest-init.c \
		/usr/lib/sbx/sbx-init /usr/bin/sbx-oci /usr/share/man/man8/sbx-oci.8 \
		/usr/lib/systemd/system/sbxd.service /usr/share/man/man1/sbx.1 /etc/sbx/policy.d/demo.toml; do
		grep -qx "$f" <<<"$got" || fail "$f not installed"
	done
	[ -x "$INST/usr/lib/sbx/mkguest.sh" ] || fail "the installed mkguest.sh is not executable"
	cmp -s "$INST/usr/share/bash-completion/completions/sbx" <("$INST/usr/bin/sbx" completion bash) ||
		fail "installed bash completion differs from the installed sbx's"
	grep -q "ExecStart=/usr/sbin/sbxd" "$INST/usr/lib/systemd/system/sbxd.service" ||
		fail "the unit does not name /usr/sbin/sbxd"
}

case_destdir_uninstall_leaves_no_files()
{
	local d=$T_TMP/d1 pol out left
	mk install DESTDIR="$d" PREFIX=/usr || fail "make install: $(tail -5 "$T_TMP/make.log")"
	pol=$d/etc/sbx/policy.d/demo.toml
	echo "# edited by the operator" >>"$pol"
	mk uninstall DESTDIR="$d" PREFIX=/usr || fail "make uninstall: $(tail -5 "$T_TMP/make.log")"
	out=$(cat "$T_TMP/make.log")
	left=$(files_under "$d")
	eq "files left" "$left" "/etc/sbx/policy.d/demo.toml"
	grep -q "# edited by the operator" "$pol" || fail "the edited policy was changed"
	[[ $out == *"KEEP     $pol (differs from the shipped copy: edited here)"* ]] ||
		fail "uninstall did not say it kept $pol: $out"
	for dir in usr/include/sbx usr/lib/sbx usr/share/sbx; do
		[ -e "$d/$dir" ] && fail "$dir is left"
	done
	# a second uninstall finds nothing to do and still succeeds
	mk uninstall DESTDIR="$d" PREFIX=/usr || fail "second make uninstall failed"
	rm -f "$pol"
	mk uninstall DESTDIR="$d" PREFIX=/usr || fail "third make uninstall failed"
	[ -e "$d/etc/sbx" ] && fail "/etc/sbx is left once empty"
	return 0
}

case_prefix_uninstall_leaves_no_files()
{
	local p=$T_TMP/opt/x etc=$T_TMP/etc/sbx/policy.d
	mkdir -p "$etc"
	echo "# the operator's own" >"$etc/demo.toml"
	mk install PREFIX="$p" POLICY_DIR="$etc" || fail "make install: $(tail -5 "$T_TMP/make.log")"
	[ -x "$p/bin/sbx" ] || fail "no $p/bin/sbx"
	eq "existing policy kept at install" "$(cat "$etc/demo.toml")" "# the operator's own"
	grep -q "ExecStart=$p/sbin/sbxd" "$p/lib/systemd/system/sbxd.service" || fail "unit names the wrong sbxd"
	mk uninstall PREFIX="$p" POLICY_DIR="$etc" || fail "make uninstall: $(tail -5 "$T_TMP/make.log")"
	eq "files left under the prefix" "$(files_under "$p")" ""
	eq "files left in the policy dir" "$(files_under "$etc")" "/demo.toml"
	eq "the operator's file" "$(cat "$etc/demo.toml")" "# the operator's own"
}

# The microvm provider's error when there is no guest names the builder the
# binary can reach: the installed one beside an installed sbx, the source
# tree's for the built one.
case_missing_guest_names_installed_builder()
{
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
	local why empty=$T_TMP/noguest
	mkdir -p "$empty"
	why=$(SBX_MICROVM_DIR=$empty "$INST/usr/bin/sbx" providers --json |
		jq -r '.providers[] | select(.name == "microvm") | .reason')
	eq "installed sbx" "$why" "no guest kernel at $empty/vmlinux (No such file or directory): build one with $INST/usr/lib/sbx/mkguest.sh, see docs/microvm.md"
	why=$(SBX_MICROVM_DIR=$empty "$SBX" providers --json |
		jq -r '.providers[] | select(.name == "microvm") | .reason')
	eq "built sbx" "$why" "no guest kernel at $empty/vmlinux (No such file or directory): build one with providers/guest/mkguest.sh from the sbx source tree, see docs/microvm.md"
	# and sbx run says the same
	printf 'version = 1\n[profile.vm]\nprovider = "microvm"\n[profile.vm.network]\nmode = "none"\n' >"$T_TMP/vm.toml"
	SBX_MICROVM_DIR=$empty "$INST/usr/bin/sbx" run --policy "$T_TMP/vm.toml" --profile vm -- true 2>"$T_TMP/run.err"
	eq "sbx run exit status" $? 125
	grep -q "build one with $INST/usr/lib/sbx/mkguest.sh" "$T_TMP/run.err" || fail "sbx run: $(cat "$T_TMP/run.err")"
}

# The installed builder (only the files install put under lib/sbx) builds a
# guest; the installed sbx finds it in $SBX_MICROVM_DIR and boots it.
case_installed_builder_makes_a_bootable_guest()
{
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
	local g=$T_TMP/guest out
	"$INST/usr/lib/sbx/mkguest.sh" -q -o "$g" >"$T_TMP/mkguest.log" 2>&1 ||
		skip "the installed mkguest.sh could not build a guest here (kernel download?): $(tail -c 300 "$T_TMP/mkguest.log")"
	for f in vmlinux initrd.img kernel.version; do
		[ -s "$g/$f" ] || fail "mkguest.sh wrote no $f"
	done
	out=$(SBX_MICROVM_DIR=$g "$INST/usr/bin/sbx" providers --json |
		jq -r '.providers[] | select(.name == "microvm") | "\(.available) \(.reason)"')
	eq "microvm with the built guest" "$out" "true null"
	printf 'version = 1\n[profile.vm]\nprovider = "microvm"\nmin_isolation = "microvm"\n[profile.vm.network]\nmode = "none"\n' >"$T_TMP/vm.toml"
	out=$(SBX_MICROVM_DIR=$g timeout 120 "$INST/usr/bin/sbx" run --policy "$T_TMP/vm.toml" --profile vm -- \
		sh -c 'echo guest $(uname -r)' 2>"$T_TMP/run.err")
	eq "sbx run exit status" $? 0
	eq "guest output" "$out" "guest $(cat "$g/kernel.version")"
}

case_uninstall_of_the_shared_copy()
{
	mk uninstall DESTDIR="$INST" PREFIX=/usr || fail "make uninstall: $(tail -5 "$T_TMP/make.log")"
	eq "files left" "$(files_under "$INST")" ""
}

# PREFIX/bin/sbx finds PREFIX/lib/sbx/sbx-init (providers/process.c)
case_installed_sbx_runs_installed_init()
{
	local pid init=""
	printf '%s\n' 'version = 1' '[profile.t]' 'provider = "process"' '[profile.t.fs]' \
		'mode = "read-only"' >"$T_TMP/init.toml"
	bg "$INST/usr/bin/sbx" run -P "$T_TMP/init.toml" --profile t -- sleep 30 >"$T_TMP/i.out" 2>"$T_TMP/i.err"
	pid=$BG_PID
	for _ in $(seq 200); do
		init=$(pgrep -P "$pid" -x sbx-init) && pgrep -P "$init" -x sleep >/dev/null && break
		sleep 0.05
	done
	[ -n "$init" ] || fail "no sbx-init under the installed sbx: $(cat "$T_TMP/i.err")"
	eq "PID 1's binary" "$(readlink "/proc/$init/exe")" "$INST/usr/lib/sbx/sbx-init"
	kill_bg "$pid"
}

setup install_setup
run_case install_puts_what_the_list_names case_install_puts_what_the_list_names
run_case destdir_uninstall_leaves_no_files case_destdir_uninstall_leaves_no_files
run_case prefix_uninstall_leaves_no_files case_prefix_uninstall_leaves_no_files
run_case installed_sbx_runs_installed_init case_installed_sbx_runs_installed_init
run_case missing_guest_names_installed_builder case_missing_guest_names_installed_builder
run_case installed_builder_makes_a_bootable_guest case_installed_builder_makes_a_bootable_guest
run_case uninstall_of_the_shared_copy case_uninstall_of_the_shared_copy
finish
