#!/bin/bash
# SPDX-License-Identifier: MIT
# The exec allow-list against programs that have no path the fs backend
# sees (docs/security.md, "Exec allow-list: fd-only executables"): memfds
# run through /proc/self/fd, fexecve or execveat(AT_EMPTY_PATH), memfds
# received over a unix socket or inherited, another process's /proc/PID/fd,
# anonymous shared memory through /proc/self/map_files, O_TMPFILE and
# unlinked files, execveat on a directory fd. tests/security/execfd.c tries
# every form in the sandbox and prints one line per form; each must fail
# (EPERM/EACCES, or the process killed before the program runs), the listed
# program must still run, and the refusals must be in the audit trail.
#
# Runs on the host (tests/run-integration.sh: Landlock here, since BPF LSM
# does not load) and in the VM guests (tests/vm/test_security.sh: BPF LSM),
# for the process and host providers. Expectations follow `sbx features`.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/security
EXECFD=$TOOLS/execfd
V_TMP=""
BACKEND=""
HOLDER=""
PROVIDER=process

_sec_cleanup()
{
	[ -n "$V_TMP" ] && rm -rf "$V_TMP"
	_cleanup
}
trap _sec_cleanup EXIT

sec_setup()
{
	mkdir -p "$TOOLS" || return 1
	# (prebuilt by tests/vm/run.sh for the guest, whose root is read-only)
	[ "$EXECFD" -nt "$SRC/execfd.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -o "$EXECFD" "$SRC/execfd.c" || return 1
	# outside /tmp, which the process provider's view replaces by a tmpfs
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.sec.XXXXXX") && chmod 0777 "$V_TMP" || return 1
	mkdir -m 0777 "$V_TMP/w" || return 1
	BACKEND=$("$SBX" features --json | jq -r .fs_backend)
	[ -n "$BACKEND" ] || return 1
	# the accomplice outside the sandbox: hands out a memfd, holds one open
	bg "$EXECFD" serve "$V_TMP/w/sock" >"$V_TMP/serve.out" 2>&1
	for _ in $(seq 100); do
		HOLDER=$(awk '/^holder /{print $2, $3}' "$V_TMP/serve.out")
		[ -n "$HOLDER" ] && return 0
		sleep 0.02
	done
	return 1
}

# spol PROVIDER FS-LINES [PROFILE-KEYS]: $T_TMP/policy.toml, profile t.
spol()
{
	local iso=process enf=""
	# the host provider cannot make the writable directory noexec, so under
	# Landlock a listed program could map code written there: strict refuses
	# that shape (test_fs_escape.sh); these forms are about exec itself
	[ "$1" = host ] && iso=none enf='enforcement = "best-effort"'
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
$enf
$3
[profile.t.network]
mode = "none"
[profile.t.fs]
$2
EOF
}

EXEC_LIST="mode = \"read-only\"
rules = [{ path = \"$TOOLS/\", access = \"rx\" }, { path = \"\$V/\", access = \"rw\" }]
exec = [\"/usr/\", \"$TOOLS/\"]"

# attack NAME [KEY=VALUE...] [FORM...]: runs every form (or those named) in
# the sandbox of $T_TMP/policy.toml, with a memfd as stdin and the
# accomplice's socket and memfd named.
attack()
{
	local name=$1
	shift
	rm -f "$T_TMP/$name".{result,audit,out,err}
	"$EXECFD" stdin-memfd \
		"$SBX" run --result "$T_TMP/$name.result" --audit "$T_TMP/$name.audit" \
		-P "$T_TMP/policy.toml" --profile t -- "$EXECFD" attack "$V_TMP/w" \
		"EXECFD_SOCK=$V_TMP/w/sock" "EXECFD_HOLDER=$HOLDER" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
	{ echo "---- $T_CASE_NAME, provider $PROVIDER, backend $BACKEND"; cat "$T_TMP/$name.out"; } |
		tee -a "$T_TMP/report"
}

# result NAME FORM: what the form printed after its name.
result()
{
	awk -v f="$2" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "$T_TMP/$1.out"
}

# refused NAME FORM...: each form failed with EPERM or EACCES, or its
# process was killed with SIGKILL before the program ran.
refused()
{
	local name=$1 f r
	shift
	for f in "$@"; do
		r=$(result "$name" "$f")
		case $f:$r in
		*:"EPERM "* | *:"EACCES "* | *:"KILLED KILL") ;;
		# the process provider's pid namespace hides the holder
		other_process.*:"ENOENT exec") [ "$PROVIDER" = process ] || fail "$f: ENOENT" ;;
		# kernels before 6.3 know neither flag; memfd_secret may be off
		memfd_exec_flag.*:"EINVAL memfd_create" | memfd_noexec_seal.*:"EINVAL memfd_create") ;;
		memfd_secret.*:"ENOSYS memfd_secret") ;;
		memfd.execve_dev_fd:"SKIP no /dev/fd here") ;;
		*) fail "$f: expected a refusal, got '${r:-nothing}' (sbx rc=$RC; $(tail -c 300 "$T_TMP/$name.err"))" ;;
		esac
	done
}

# The forms that must fail whatever the backend and provider.
FD_FORMS="memfd.execve_proc_self_fd memfd.execveat_empty_path memfd.execve_proc_pid_fd
memfd.execve_dev_fd memfd.fexecve memfd.execveat_proc_path memfd.execve_symlink
memfd_exec_flag.execve_proc_self_fd memfd_noexec_seal.execve_proc_self_fd
memfd_secret.execve_proc_self_fd tmpfile.execve_proc_self_fd tmpfile.execveat_empty_path
written.execve unlinked.execve_proc_self_fd written.execveat_dirfd_relative
written.execveat_opath_empty_path shared_anon.execve_map_files sysv_shm.execve_map_files
received.execve_proc_self_fd received.execveat_empty_path other_process.execve_proc_pid_fd
inherited_stdin.execve_proc_self_fd"

# file_events NAME: "op path" of every refused exec in the audit trail.
exec_events()
{
	jq -r 'select(.event == "file" and .verdict == "deny" and .op == "exec") | .path' \
		"$T_TMP/$1.audit" 2>/dev/null
}

# count_denied NAME SYSCALL: syscall.denied events of SYSCALL in run NAME.
count_denied()
{
	jq -s --arg n "$2" 'map(select(.event == "syscall.denied" and .syscall == $n)) | length' \
		"$T_TMP/$1.audit" 2>/dev/null
}

check_provider()
{
	local prov=$1 n
	PROVIDER=$prov T_CASE_NAME="exec list"
	spol "$prov" "${EXEC_LIST//\$V/$V_TMP/w}"
	attack r
	expect_rc r 0
	eq "the listed program" "$(result r allowed.execve)" ok
	refused r $FD_FORMS
	# where the refusal is the kernel's own (EACCES from the fs backend or
	# memfd sealing), or the kill of a fd-only exec, a file event says so
	n=$(exec_events r | grep -c 'memfd:execfd')
	[ "$n" -ge 1 ] || fail "no audit event for a refused memfd exec (events: $(jq -r .event "$T_TMP/r.audit" | sort | uniq -c | tr '\n' ' '))"
	if [ "$BACKEND" = landlock ]; then
		# seccomp refuses creating an executable memfd and exec by fd
		for n in memfd_create execveat; do
			[ "$(count_denied r $n)" -ge 1 ] || fail "no syscall.denied event for $n"
		done
	fi
	return 0
}

case_process_provider_refuses_fd_exec() { check_provider process; }
case_host_provider_refuses_fd_exec() { check_provider host; }

# mode none without an exec list grants x only where rules say so: fd-only
# programs have no path a rule could grant, so they are refused as well.
case_mode_none_refuses_fd_exec()
{
	T_CASE_NAME="mode none"
	spol process "mode = \"none\"
rules = [{ path = \"/usr/\", access = \"rx\" }, { path = \"$TOOLS/\", access = \"rx\" },
	{ path = \"$V_TMP/w/\", access = \"rw\" }]"
	attack r
	expect_rc r 0
	eq "the granted program" "$(result r allowed.execve)" ok
	refused r memfd.execve_proc_self_fd memfd.execveat_empty_path received.execve_proc_self_fd \
		inherited_stdin.execve_proc_self_fd
}

# Without restrictions on exec (mode read-only) nothing changes: memfds run.
case_no_exec_restriction_keeps_memfd()
{
	T_CASE_NAME="no exec restriction"
	spol process "mode = \"read-only\"
rules = [{ path = \"$V_TMP/w/\", access = \"rw\" }]"
	attack r
	expect_rc r 0
	eq "memfd exec without an exec list" "$(result r memfd.execve_proc_self_fd)" ok
	eq "fexecve without an exec list" "$(result r memfd.fexecve)" ok
	eq "ld.so without an exec list" "$(result r ldso.unlisted_program)" ok
}

# The ELF interpreter run as a program (ld.so FILE) maps FILE and runs it:
# userland exec, which no exec hook sees, through a file that an exec list
# must let run (the kernel opens it for every dynamic program). BPF LSM
# judges the mapping (mmap_file: ld.so exits 127); under Landlock the exec
# guard kills the process before ld.so's first instruction, and the audit
# trail names the interpreter (docs/security.md, "What an exec list
# promises").
LOADER=/lib64/ld-linux-x86-64.so.2
[ "$(uname -m)" = aarch64 ] && LOADER=/lib/ld-linux-aarch64.so.1

# loader_refused NAME FORM...: what each ld.so form must give on this backend.
loader_refused()
{
	local name=$1 f want
	shift
	want="EXIT 127"
	[ "$BACKEND" = bpf-lsm ] || want="KILLED KILL"
	for f in "$@"; do
		eq "$PROVIDER: $f" "$(result "$name" "$f")" "$want"
	done
}

# guard_event NAME LOADER: the exec guard's file event for LOADER (Landlock).
guard_event()
{
	local path n
	path=$(realpath "$2")
	n=$(jq -s --arg p "$path" 'map(select(.event == "file" and .op == "exec" and .verdict == "deny"
		and .path == $p and .rule == "exec guard" and .backend == "landlock")) | length' \
		"$T_TMP/$1.audit" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] || fail "$PROVIDER: no 'file' event (op exec, deny, rule exec guard) for $path; file events: $(jq -c 'select(.event == "file")' "$T_TMP/$1.audit" | head -c 600)"
}

case_ldso_userland_exec()
{
	local prov r f
	[ -x "$LOADER" ] || skip "no $LOADER on this host"
	for prov in process host; do
		PROVIDER=$prov T_CASE_NAME="exec list (ld.so)"
		spol "$prov" "${EXEC_LIST//\$V/$V_TMP/w}"
		attack "r$prov" allowed.execve ldso.userland_exec ldso.listed_program \
			ldso.proc_self_fd ldso.symlink ldso.hard_link ldso.copy
		expect_rc "r$prov" 0
		eq "$prov: the listed program" "$(result "r$prov" allowed.execve)" ok
		loader_refused "r$prov" ldso.userland_exec ldso.proc_self_fd ldso.symlink
		# a copy or hard link lies outside the exec list (or on a noexec mount)
		for f in ldso.copy ldso.hard_link; do
			r=$(result "r$prov" $f)
			case $r in
			"EACCES exec(ld.so)" | "EXDEV link" | "EPERM link") ;;
			*) fail "$prov: $f: expected a refusal, got '${r:-nothing}'" ;;
			esac
		done
		if [ "$BACKEND" = bpf-lsm ]; then
			# BPF LSM lets ld.so map listed files
			eq "$prov: ld.so of a listed program" "$(result "r$prov" ldso.listed_program)" ok
		else
			# the guard cannot tell what ld.so will map: run programs by their path
			eq "$prov: ld.so of a listed program" "$(result "r$prov" ldso.listed_program)" "KILLED KILL"
			guard_event "r$prov" "$LOADER"
		fi
	done
	# a hard link in a listed directory (made outside, where the file system
	# allows it) is the same inode: refused like the loader itself
	hard_link_loader
	# the host's own processes run the loader as before
	eq "ld.so outside any sandbox" "$("$LOADER" /usr/bin/echo host-ok)" host-ok
}

hard_link_loader()
{
	local hard=$TOOLS/ld-hard.$$ prov
	if ! ln "$(realpath "$LOADER")" "$hard" 2>/dev/null; then
		echo "no hard link of $LOADER in $TOOLS (read-only or another file system): not tried"
		return 0
	fi
	T_CASE_RESTORE="rm -f '$hard'"
	for prov in process host; do
		PROVIDER=$prov T_CASE_NAME="exec list (hard link of ld.so)"
		spol "$prov" "${EXEC_LIST//\$V/$V_TMP/w}"
		attack "h$prov" "EXECFD_LOADER=$hard" ldso.userland_exec
		expect_rc "h$prov" 0
		loader_refused "h$prov" ldso.userland_exec
		[ "$BACKEND" = bpf-lsm ] || guard_event "h$prov" "$LOADER"
	done
	rm -f "$hard"
}

# An exec list without /usr/bin/: ld.so must not run the host's unlisted
# programs (under the process provider too, whose view has them), and
# every other loader of the host (32-bit, x32, musl) is refused as well.
case_ldso_unlisted_program()
{
	local prov ld r n=0
	[ -x "$LOADER" ] || skip "no $LOADER on this host"
	for prov in process host; do
		PROVIDER=$prov T_CASE_NAME="narrow exec list (ld.so)"
		spol "$prov" "mode = \"read-only\"
rules = [{ path = \"$TOOLS/\", access = \"rx\" }, { path = \"$V_TMP/w/\", access = \"rw\" }]
exec = [\"$TOOLS/\", \"/usr/lib/\", \"/usr/lib32/\", \"/usr/libx32/\"]"
		attack "u$prov" allowed.execve ldso.unlisted_program
		expect_rc "u$prov" 0
		eq "$prov: the listed program" "$(result "u$prov" allowed.execve)" ok
		loader_refused "u$prov" ldso.unlisted_program
		[ "$BACKEND" = bpf-lsm ] || guard_event "u$prov" "$LOADER"
		# the workload itself: sbx run exits 128 + SIGKILL (BPF LSM: ld.so's 127)
		"$SBX" run -P "$T_TMP/policy.toml" --profile t -- "$LOADER" /usr/bin/echo ran \
			>"$T_TMP/w$prov.out" 2>"$T_TMP/w$prov.err"
		RC=$?
		expect_rc "w$prov" "$([ "$BACKEND" = bpf-lsm ] && echo 127 || echo 137)"
		eq "$prov: output of ld.so /usr/bin/echo" "$(cat "$T_TMP/w$prov.out")" ""
		for ld in $(other_loaders); do
			attack "o$prov$n" "EXECFD_LOADER=$ld" ldso.userland_exec
			expect_rc "o$prov$n" 0
			if [ "$BACKEND" = bpf-lsm ]; then
				# a loader of another word size fails on this ELF its own
				# way (127, or a crash); what matters is that it never ran
				r=$(result "o$prov$n" ldso.userland_exec)
				case $r in
				"" | ok) fail "$prov: $ld ran a written file ('$r')" ;;
				esac
			elif [ "$(result "o$prov$n" ldso.userland_exec)" = "ENOEXEC exec(ld.so)" ]; then
				# a kernel without that ABI's emulation (ia32, x32) refuses
				# the loader itself: it never ran, and no guard was needed
				:
			else
				loader_refused "o$prov$n" ldso.userland_exec
				guard_event "o$prov$n" "$ld"
			fi
			n=$((n + 1))
		done
	done
}

# other_loaders: the host's ELF interpreters other than $LOADER, one path
# each: those at the paths the ABIs give them (docs/security.md).
other_loaders()
{
	local f main
	main=$(realpath "$LOADER")
	for f in /lib*/ld*.so* /usr/lib*/ld*.so*; do
		[ -f "$f" ] && [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
		f=$(realpath "$f")
		[ "$f" = "$main" ] || echo "$f"
	done | sort -u
}

# report: every form's result per run, for the record (make -v, and the VM
# logs, where it is the only trace of what BPF LSM answered).
report()
{
	[ -n "$SBX_TEST_VERBOSE$SBX_VM" ] && [ -s "$T_TMP/report" ] && sed 's/^/  | /' "$T_TMP/report"
	return 0
}

setup sec_setup
run_case process_provider_refuses_fd_exec case_process_provider_refuses_fd_exec
run_case host_provider_refuses_fd_exec case_host_provider_refuses_fd_exec
run_case mode_none_refuses_fd_exec case_mode_none_refuses_fd_exec
run_case no_exec_restriction_keeps_memfd case_no_exec_restriction_keeps_memfd
run_case ldso_userland_exec case_ldso_userland_exec
run_case ldso_unlisted_program case_ldso_unlisted_program
report
finish
