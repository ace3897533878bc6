#!/bin/bash
# SPDX-License-Identifier: MIT
# The docs name only files that exist (tests/docs/check_paths.py): every
# path in README.md, docs/*.md and docs/man/* is in the repository, or is
# installed by `make install DESTDIR=...`, or is a pin or run path of an
# instance while a sandbox runs, or exists on this host, or is allow-listed
# in tests/docs/allow.txt with the reason; so is every path that
# `sbx --help` and each `sbx VERB [SUBVERB] --help` name. Also: `make install` puts the
# shipped examples into /etc/sbx/policy.d and keeps a file an operator
# edited there.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
INST=$T_TMP/inst

docs_setup()
{
	make -s -C "$SRC" OUTPUT="$OUTPUT" install DESTDIR="$INST" >"$T_TMP/install.log" 2>&1 || {
		cat "$T_TMP/install.log"; return 1; }
	# what the Debian packages hold (docs/install.md names /usr/bin/sbx ...)
	make -s -C "$SRC" OUTPUT="$OUTPUT" install DESTDIR="$T_TMP/usr" PREFIX=/usr \
		SYSTEMD_UNIT_DIR=/lib/systemd/system >"$T_TMP/install-usr.log" 2>&1 || {
		cat "$T_TMP/install-usr.log"; return 1; }
	# root: the pins and the run directory are root's (0700); a [seccomp]
	# table, so that the filter cache (/run/INSTANCE/seccomp) exists
	printf 'version = 1\n[profile.p]\nprovider = "host"\nmin_isolation = "none"\nuser = "root"\n[profile.p.fs]\nmode = "full"\n[profile.p.seccomp]\npreset = "default"\n' \
		>"$T_TMP/host.toml"
}

case_install_keeps_edited_policy()
{
	local f=$INST/etc/sbx/policy.d/demo.toml
	[ -f "$f" ] || fail "make install did not install $f"
	cmp -s "$f" "$SRC/policy/examples/demo.toml" || fail "$f differs from the shipped example"
	echo '# edited by the operator' >>"$f"
	make -s -C "$SRC" OUTPUT="$OUTPUT" install DESTDIR="$INST" >"$T_TMP/install2.log" 2>&1 ||
		fail "second make install failed: $(tail -3 "$T_TMP/install2.log")"
	tail -1 "$f" | grep -q 'edited by the operator' || fail "make install overwrote the operator's $f"
	grep -q "KEEP.*demo.toml" "$T_TMP/install2.log" || fail "make install did not say it kept demo.toml"
	SBX_POLICY_DIR=$INST/etc/sbx/policy.d "$SBX" policy show --profile default >/dev/null ||
		fail "the installed policy directory does not load"
}

case_every_doc_path_exists()
{
	# the pins and run paths of this instance while a sandbox runs (once
	# its monitor published its counters file: within a second); a root
	# workload may not create entries beside sbx's own directories (the
	# audit log's is in $T_TMP): its lists go to a directory made first
	mkdir -p "$T_TMP/lists"
	sbx_run r -P "$T_TMP/host.toml" -- sh -c "for i in \$(seq 60); do ls '$RUN_DIR'/slots/*.counters >/dev/null 2>&1 && break; sleep 0.05; done
		cd '$PIN_DIR' && find . -mindepth 1 | sed 's|^\./||' >'$T_TMP/lists/pins';
		cd '$RUN_DIR' && find . -mindepth 1 | sed 's|^\./||' >'$T_TMP/lists/runs'"
	expect_rc r 0
	[ -s "$T_TMP/lists/pins" ] || fail "no pins listed under $PIN_DIR"
	python3 "$SRC/tests/docs/check_paths.py" --sbx "$SBX" --usr "$T_TMP/usr" "$SRC" "$INST" /usr/local \
		"$T_TMP/lists/pins" "$T_TMP/lists/runs" \
		>"$T_TMP/check.out" 2>&1 || fail "$(grep -v '^docs paths:' "$T_TMP/check.out" | head -30)"
}

setup docs_setup
run_case install_keeps_edited_policy case_install_keeps_edited_policy
run_case every_doc_path_exists case_every_doc_path_exists
finish
