#!/bin/sh
# SPDX-License-Identifier: MIT
# install.sh install|uninstall|list: `make install` and `make uninstall`.
#
# Both walk the one list in manifest() below, so that uninstall removes
# exactly what install put there and cannot drift from it; `list` prints
# the installed paths (the Debian packaging and the tests use it).
#
# Environment (from the Makefile): OUTPUT (the build), PREFIX, DESTDIR,
# POLICY_DIR (/etc/sbx/policy.d), SYSTEMD_UNIT_DIR, ZSH_COMPLETION_DIR; run
# from the top of the source tree.
#
# Rules:
#  - files are installed with install(1) and removed with rm; symlinks alike;
#  - the example policies also go to POLICY_DIR, each only when no file of
#    that name is there (an operator's copy is never overwritten); uninstall
#    removes a copy there only while it is identical to the shipped one and
#    keeps (and names) an edited one;
#  - uninstall removes sbx's own directories (include/sbx, lib/sbx,
#    share/sbx, POLICY_DIR and /etc/sbx) when they end up empty, never the
#    shared ones (bin, share/man/man1, ...), whose absence other software
#    may not expect;
#  - ldconfig runs after either when DESTDIR is empty (a live system).
set -eu
# the modes of what is installed do not depend on the caller's umask: under
# umask 000 the directories mkdir -p made ($PREFIX/lib/systemd/system) were
# world-writable, and any local user could have put a unit there for root
umask 022

ACTION=${1:?usage: install.sh install|uninstall|list}
: "${OUTPUT:?}" "${PREFIX:?}" "${POLICY_DIR:=/etc/sbx/policy.d}"
: "${SYSTEMD_UNIT_DIR:=$PREFIX/lib/systemd/system}"
# zsh's fpath on Debian has /usr/share/zsh/vendor-completions for packages
# and /usr/local/share/zsh/site-functions for local installs
if [ -z "${ZSH_COMPLETION_DIR:-}" ]; then
	case $PREFIX in
	/usr) ZSH_COMPLETION_DIR=/usr/share/zsh/vendor-completions ;;
	*) ZSH_COMPLETION_DIR=$PREFIX/share/zsh/site-functions ;;
	esac
fi
DESTDIR=${DESTDIR:-}
KEPT=0

say() { printf '  %-8s %s\n' "$1" "$2"; }

# f MODE SOURCE DEST: a file
f()
{
	case $ACTION in
	list) echo "$3" ;;
	install)
		install -D -m "$1" "$2" "$DESTDIR$3" ;;
	uninstall)
		if [ -e "$DESTDIR$3" ] || [ -L "$DESTDIR$3" ]; then
			rm -f "$DESTDIR$3" && say RM "$DESTDIR$3"
		fi ;;
	esac
}

# l TARGET DEST: a symbolic link
l()
{
	case $ACTION in
	list) echo "$2" ;;
	install) mkdir -p "$(dirname "$DESTDIR$2")" && ln -sfn "$1" "$DESTDIR$2" ;;
	uninstall) [ -L "$DESTDIR$2" ] && rm -f "$DESTDIR$2" && say RM "$DESTDIR$2"; return 0 ;;
	esac
}

# unit SOURCE DEST: a systemd unit with @SBINDIR@/@BINDIR@ replaced
unit()
{
	case $ACTION in
	install)
		mkdir -p "$(dirname "$DESTDIR$2")"
		sed -e "s|@SBINDIR@|$PREFIX/sbin|g" -e "s|@BINDIR@|$PREFIX/bin|g" "$1" >"$DESTDIR$2.tmp"
		chmod 0644 "$DESTDIR$2.tmp"
		mv "$DESTDIR$2.tmp" "$DESTDIR$2" ;;
	*) f 0644 "$1" "$2" ;;
	esac
}

# conf SOURCE DEST: a file the operator may edit (the policy directory)
conf()
{
	case $ACTION in
	list) echo "$2" ;;
	install)
		if [ -e "$DESTDIR$2" ]; then
			say KEEP "$DESTDIR$2 (exists; the shipped copy is in $PREFIX/share/sbx/examples)"
		else
			install -D -m 0644 "$1" "$DESTDIR$2"
		fi ;;
	uninstall)
		[ -e "$DESTDIR$2" ] || return 0
		if cmp -s "$1" "$DESTDIR$2"; then
			rm -f "$DESTDIR$2" && say RM "$DESTDIR$2"
		else
			say KEEP "$DESTDIR$2 (differs from the shipped copy: edited here)"
			KEPT=$((KEPT + 1))
		fi ;;
	esac
}

# The list. Add a file here and both install and uninstall handle it.
manifest()
{
	f 0755 "$OUTPUT/sbx" "$PREFIX/bin/sbx"
	f 0755 "$OUTPUT/sbxd" "$PREFIX/sbin/sbxd"
	# the OCI runtime (docs/oci.md): runc's command line
	f 0755 "$OUTPUT/sbx-oci" "$PREFIX/bin/sbx-oci"
	# PID 1 of process-provider sandboxes, found relative to sbx and sbxd
	f 0755 "$OUTPUT/sbx-init" "$PREFIX/lib/sbx/sbx-init"
	f 0644 user/libsbx/libsbx.h "$PREFIX/include/sbx/libsbx.h"
	# the audit ABI (docs/audit.md) for consumers of the ring buffers
	f 0644 bpf/include/sbx_abi.h "$PREFIX/include/sbx/sbx_abi.h"
	f 0644 bpf/include/sbx_limits.h "$PREFIX/include/sbx/sbx_limits.h"
	f 0755 "$OUTPUT/libsbx.so.1" "$PREFIX/lib/libsbx.so.1"
	l libsbx.so.1 "$PREFIX/lib/libsbx.so"
	f 0644 "$OUTPUT/libsbx.pc" "$PREFIX/lib/pkgconfig/libsbx.pc"
	for p in docs/man/*.1; do f 0644 "$p" "$PREFIX/share/man/man1/${p##*/}"; done
	for p in docs/man/*.8; do f 0644 "$p" "$PREFIX/share/man/man8/${p##*/}"; done
	for p in docs/systemd/*.service docs/systemd/*.socket docs/systemd/*.slice; do
		unit "$p" "$SYSTEMD_UNIT_DIR/${p##*/}"
	done
	# weekly archives of the audit log under date names (docs/audit.md)
	f 0644 docs/logrotate/sbx /etc/logrotate.d/sbx
	f 0644 "$OUTPUT/completion/sbx.bash" "$PREFIX/share/bash-completion/completions/sbx"
	f 0644 "$OUTPUT/completion/_sbx" "$ZSH_COMPLETION_DIR/_sbx"
	# the microvm guest builder (docs/microvm.md): it compiles the init
	# from the source beside it
	f 0755 providers/guest/mkguest.sh "$PREFIX/lib/sbx/mkguest.sh"
	f 0644 providers/guest/sbx-guest-init.c "$PREFIX/lib/sbx/sbx-guest-init.c"
	for p in policy/examples/*.toml; do
		f 0644 "$p" "$PREFIX/share/sbx/examples/${p##*/}"
		conf "$p" "$POLICY_DIR/${p##*/}"
	done
}

# sbx's own directories, deepest first
own_dirs()
{
	echo "$PREFIX/include/sbx $PREFIX/lib/sbx $PREFIX/share/sbx/examples $PREFIX/share/sbx"
	echo "$POLICY_DIR ${POLICY_DIR%/*}"
}

case $ACTION in
list) manifest ;;
install)
	manifest
	mkdir -p "$DESTDIR$POLICY_DIR"
	[ -n "$DESTDIR" ] || ldconfig 2>/dev/null || true ;;
uninstall)
	manifest
	for d in $(own_dirs); do
		rmdir "$DESTDIR$d" 2>/dev/null && say RMDIR "$DESTDIR$d"
	done
	[ -n "$DESTDIR" ] || ldconfig 2>/dev/null || true
	[ "$KEPT" = 0 ] || say NOTE "$KEPT edited policy file(s) kept in $DESTDIR$POLICY_DIR" ;;
*) echo "install.sh: unknown action '$ACTION' (install, uninstall or list)" >&2; exit 2 ;;
esac
exit 0
