#!/bin/bash
# SPDX-License-Identifier: MIT
# The profile's nofile and fsize (docs/policy.md, docs/providers.md: "gets the
# profile's nofile, fsize") under the host and process providers: the
# workload's rlimits are the profile's values, open(2) fails with EMFILE once
# fds 0..nofile-1 are taken, a write past fsize raises SIGXFSZ (the workload
# dies of it: exit 128+25, signal 25 in the result and the sandbox.exit event)
# or, with SIGXFSZ ignored, fails with EFBIG after exactly fsize bytes.
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/integration
VPROBE=$TOOLS/view_probe
NOFILE=48
FSIZE=10000

rl_setup()
{
	mkdir -p "$TOOLS" || return 1
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$VPROBE" "$SRC/view_probe.c"
}

# rpol PROVIDER: profile t with nofile and fsize. The host provider's workload
# writes into $T_TMP (mode 1777); the process provider's into its /tmp.
rpol()
{
	if [ "$1" = host ]; then
		write_policy "$T_TMP/policy.toml" t "nofile = $NOFILE
fsize = $FSIZE" 'mode = "none"'
		FDIR=$T_TMP
	else
		cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
min_isolation = "process"
nofile = $NOFILE
fsize = $FSIZE
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "none"
rules = [{ path = "$TOOLS/", access = "rx" }]
EOF
		FDIR=/tmp
	fi
}

run_in()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

# nofile: the lowest free fd is returned each time, so the last open that
# works gets fd nofile-1 and the next fails with EMFILE.
nofile_case()
{
	local n
	rpol "$1"
	run_in r "$VPROBE" nofile
	expect_rc r 0
	n=$(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$T_TMP/r.out")
	eq "rlimits, highest fd, errno" "$(awk '{ print $1, $2, $4, $5 }' "$T_TMP/r.out")" \
		"soft=$NOFILE hard=$NOFILE maxfd=$((NOFILE - 1)) errno=EMFILE"
	[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -le $((NOFILE - 3)) ] || fail "opened $n files under nofile = $NOFILE"
}

case_host_nofile_emfile() { nofile_case host; }
case_process_nofile_emfile() { nofile_case process; }

# fsize, SIGXFSZ ignored: exactly FSIZE bytes land, the next write is EFBIG.
fsize_ignored_case()
{
	rpol "$1"
	run_in r sh -c "$VPROBE fsize $FDIR/big $((FSIZE * 3)) ignore; stat -c %s $FDIR/big; rm -f $FDIR/big"
	expect_rc r 0
	eq "probe" "$(sed -n 1p "$T_TMP/r.out")" "soft=$FSIZE wrote=$FSIZE errno=EFBIG"
	eq "size of the file" "$(sed -n 2p "$T_TMP/r.out")" "$FSIZE"
}

case_host_fsize_efbig() { fsize_ignored_case host; }
case_process_fsize_efbig() { fsize_ignored_case process; }

# fsize, default disposition: the write past it kills the workload with
# SIGXFSZ, which sbx reports as exit 153 and signal 25.
fsize_signal_case()
{
	rpol "$1"
	run_in r "$VPROBE" fsize "$FDIR/big-$1" $((FSIZE * 3))
	rm -f "$T_TMP/big-host"
	expect_rc r 153
	eq "probe output (dead before it could say more)" "$(cat "$T_TMP/r.out")" "soft=$FSIZE"
	eq "result signal" "$(jr r .signal)" 25
	eq "sandbox.exit signal" "$(ja r '.[] | select(.event == "sandbox.exit") | .signal')" 25
}

case_host_fsize_sigxfsz() { fsize_signal_case host; }
case_process_fsize_sigxfsz() { fsize_signal_case process; }

setup rl_setup
run_case host_nofile_emfile case_host_nofile_emfile
run_case process_nofile_emfile case_process_nofile_emfile
run_case host_fsize_efbig case_host_fsize_efbig
run_case process_fsize_efbig case_process_fsize_efbig
run_case host_fsize_sigxfsz case_host_fsize_sigxfsz
run_case process_fsize_sigxfsz case_process_fsize_sigxfsz
finish
