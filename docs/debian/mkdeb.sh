#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `make deb`: the Debian packages sbx, libsbx1 and libsbx-dev, from what
# `make install DESTDIR=STAGE PREFIX=/usr` installs (docs/install.md).
#
#   OUTPUT=<build dir> MAKE=make docs/debian/mkdeb.sh
#
# There is no second file list: every file `make install` puts in STAGE goes
# to sbx, except the library (libsbx1) and the development files (libsbx-dev),
# which are picked out by path below. A file that install gains later lands
# in sbx without a change here; a file under /etc becomes a conffile.
#
# The metadata is in this directory: control (the source and binary
# paragraphs, read by dpkg-gencontrol), changelog, copyright, and the
# maintainer scripts PACKAGE.{postinst,prerm,postrm,triggers}. The version
# comes from user/cli/cli.h (SBX_VERSION) alone: the changelog's top entry
# must be that version with a Debian revision, or the build stops. dpkg-shlibdeps
# computes the shared-library dependencies, dpkg-gensymbols the symbols file
# of libsbx1, dpkg-deb builds the archives (owner root:root, no fakeroot).
#
# Output: OUTPUT/deb/*.deb (OUTPUT/deb/tree/ holds the package trees).

set -euo pipefail
# the package's modes are not the builder's umask (dpkg-buildpackage does the same)
umask 022
cd "$(dirname "$0")/../.."
top=$PWD
OUTPUT=$(realpath -m "${OUTPUT:-build}")
MAKE=${MAKE:-make}
meta=$top/docs/debian
out=$OUTPUT/deb
tree=$out/tree
stage=$tree/stage
src=$tree/src

die() { echo "make deb: $*" >&2; exit 1; }

for t in dpkg-deb dpkg-gencontrol dpkg-shlibdeps dpkg-gensymbols dpkg-parsechangelog; do
	command -v "$t" >/dev/null || die "$t is missing (package dpkg-dev; make deps installs it)"
done

version=$(sed -n 's/^#define SBX_VERSION "\(.*\)"/\1/p' user/cli/cli.h)
[ -n "$version" ] || die "no SBX_VERSION in user/cli/cli.h"
debver=$(dpkg-parsechangelog -l "$meta/changelog" -S Version)
[ "${debver%-*}" = "$version" ] && [ "$debver" != "$version" ] ||
	die "docs/debian/changelog's top entry is $debver, but user/cli/cli.h says $version: add an entry for $version-1"
arch=$(dpkg --print-architecture)

rm -rf "$tree" "$out"/*.deb
mkdir -p "$stage" "$src/debian"

# ---- the files: make install into the stage ----------------------------------------
# /lib/systemd/system: where Debian 12's systemd packages and debhelper put
# units (lintian and deb-systemd-helper look there).
"$MAKE" --no-print-directory -C "$top" install OUTPUT="$OUTPUT" DESTDIR="$stage" PREFIX=/usr \
	SYSTEMD_UNIT_DIR=/lib/systemd/system >"$tree/install.log" ||
	{ cat "$tree/install.log" >&2; die "make install DESTDIR=$stage failed"; }

# take PKG PATH...: moves the PATHs (relative to the stage, globs allowed)
# into PKG's tree
take()
{
	local pkg=$1 p f
	shift
	for p in "$@"; do
		for f in "$stage"/$p; do
			[ -e "$f" ] || [ -L "$f" ] || die "make install did not install /$p"
			mkdir -p "$tree/$pkg/$(dirname "${f#"$stage"/}")"
			mv "$f" "$tree/$pkg/${f#"$stage"/}"
		done
	done
}
take libsbx1 'usr/lib/libsbx.so.*'
take libsbx-dev usr/include usr/lib/libsbx.so usr/lib/pkgconfig/libsbx.pc
# sbx: everything else
mkdir -p "$tree/sbx"
cp -a "$stage/." "$tree/sbx/"
find "$tree/sbx" -depth -type d -empty -delete

# ---- Debian's conventions ----------------------------------------------------------
for pkg in sbx libsbx1 libsbx-dev; do
	d=$tree/$pkg
	doc=$d/usr/share/doc/$pkg
	mkdir -p "$doc" "$d/DEBIAN"
	install -m 0644 "$meta/copyright" "$doc/copyright"
	gzip -9n <"$meta/changelog" >"$doc/changelog.Debian.gz"
	chmod 0644 "$doc/changelog.Debian.gz"
	# ELF files lose their debug information and notes, as dh_strip does
	find "$d" -type f -print0 | while IFS= read -r -d '' f; do
		[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = 177ELF ] || continue
		case $f in
		*.so*) strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
			chmod 0644 "$f" ;;
		*) strip --remove-section=.comment --remove-section=.note "$f" ;;
		esac
	done
	# manual pages are compressed
	if [ -d "$d/usr/share/man" ]; then
		find "$d/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
	fi
	for s in postinst prerm postrm preinst triggers; do
		if [ -e "$meta/$pkg.$s" ]; then
			install -m 0755 "$meta/$pkg.$s" "$d/DEBIAN/$s"
			[ $s = triggers ] && chmod 0644 "$d/DEBIAN/$s"
		fi
	done
	if [ -d "$d/etc" ]; then
		(cd "$d" && find etc -type f | sort | sed 's|^|/|') >"$d/DEBIAN/conffiles"
		chmod 0644 "$d/DEBIAN/conffiles"
	fi
done
# sbx-init is static on purpose (docs/debian/sbx.lintian-overrides)
mkdir -p "$tree/sbx/usr/share/lintian/overrides"
install -m 0644 "$meta/sbx.lintian-overrides" "$tree/sbx/usr/share/lintian/overrides/sbx"
# the examples where Debian's users look for them; /usr/share/sbx/examples
# stays where make install and docs/policy.md put them
ln -s ../../sbx/examples "$tree/sbx/usr/share/doc/sbx/examples"

# ---- control files ------------------------------------------------------------------
cp "$meta/control" "$meta/changelog" "$src/debian/"
cd "$src"
for pkg in sbx libsbx1 libsbx-dev; do
	echo "misc:Depends=" >"debian/$pkg.substvars"
done
# (not the static sbx-init: it depends on no library, and dpkg-shlibdeps
# warns on a file without a dynamic section)
mapfile -t sbx_elf < <(find "$tree/sbx" -type f \( -path '*/bin/*' -o -path '*/sbin/*' \
	-o -path '*/lib/*' \) ! -name sbx-init -exec sh -c 'head -c 4 "$1" | grep -q ELF && echo "$1"' sh {} \;)
dpkg-shlibdeps -Tdebian/sbx.substvars "${sbx_elf[@]}"
dpkg-shlibdeps -Tdebian/libsbx1.substvars "$tree"/libsbx1/usr/lib/libsbx.so.*
# libsbx1: the shlibs file (what a program linked against libsbx.so.1
# depends on) and the symbols file (the version that brought each symbol)
echo "libsbx 1 libsbx1 (>= $version)" >"$tree/libsbx1/DEBIAN/shlibs"
dpkg-gensymbols -q -plibsbx1 -P"$tree/libsbx1" -v"$debver" -O"$tree/libsbx1/DEBIAN/symbols"
sed -i -e "s/ $debver\$/ $version/" -e '1a\\* Build-Depends-Package: libsbx-dev' "$tree/libsbx1/DEBIAN/symbols"
chmod 0644 "$tree/libsbx1/DEBIAN/shlibs" "$tree/libsbx1/DEBIAN/symbols"
for pkg in sbx libsbx1 libsbx-dev; do
	d=$tree/$pkg
	dpkg-gencontrol -p"$pkg" -P"$d" -T"debian/$pkg.substvars" -v"$debver" -DArchitecture="$arch"
	(cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
		xargs -r -d '\n' md5sum) >"$d/DEBIAN/md5sums"
	chmod 0644 "$d/DEBIAN/md5sums"
	dpkg-deb --root-owner-group -Zxz --build "$d" "$out/" >/dev/null
	echo "  DEB      deb/${pkg}_${debver}_$arch.deb"
done
