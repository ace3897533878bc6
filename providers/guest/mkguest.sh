#!/bin/bash
# SPDX-License-Identifier: MIT
# mkguest.sh - build the guest kernel and initramfs of sbx's microvm provider
# from Debian packages. Nothing is installed on the host: the kernel package
# is fetched with `apt-get download` and unpacked with `dpkg-deb -x`.
#
# Usage: mkguest.sh [-o OUTDIR] [-k PACKAGE|FILE.deb] [-a FILE]... [-q]
#   -o OUTDIR  where to write (default $SBX_MICROVM_DIR or /var/cache/sbx/microvm)
#   -k PKG     kernel package name (default: what linux-image-amd64 depends
#              on) or an already downloaded linux-image-*.deb (a name with a
#              "/" or ending in .deb is a file, anything else a package)
#   -a FILE    also put FILE (and the shared libraries ldd lists for it) into
#              the initramfs, at /usr/local/bin/<name> (repeatable)
#   -q         quiet
# Writes into OUTDIR:
#   vmlinux          the uncompressed ELF kernel (booted directly through PVH)
#   vmlinuz          Debian's compressed kernel (kept for reference)
#   initrd.img       cpio initramfs: /init (sbx-guest-init, static), busybox
#                    (static, every applet linked in /bin, /sbin, /usr/bin,
#                    /usr/sbin) and the virtio modules the guest needs
#   kernel.version   the kernel release
# sbx finds these files there by default (see docs/microvm.md). Installed as
# PREFIX/lib/sbx/mkguest.sh with sbx-guest-init.c beside it (make install).
# Needs: apt-get (with an apt-get update done), dpkg-deb, gcc and the static
# C library (libc6-dev), busybox-static, cpio; xz-utils or zstd if the kernel
# is compressed with them.
set -euo pipefail

OUT=${SBX_MICROVM_DIR:-/var/cache/sbx/microvm}
PKG=""
EXTRA=()
QUIET=0
while getopts "o:k:a:qh" o; do
	case $o in
	o) OUT=$OPTARG ;;
	k) PKG=$OPTARG ;;
	a) EXTRA+=("$OPTARG") ;;
	q) QUIET=1 ;;
	*) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "mkguest: unexpected argument '$1' (see -h)" >&2; exit 2; }

SRC=$(cd "$(dirname "$0")" && pwd)
die() { echo "mkguest: $*" >&2; exit 1; }
say() { [ "$QUIET" = 1 ] || echo "mkguest: $*"; }

for t in dpkg-deb gcc cpio; do
	command -v "$t" >/dev/null || die "missing $t (apt-get install dpkg gcc libc6-dev cpio)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "missing busybox (apt-get install busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; the guest needs busybox-static"
fi

# OUT and every directory above it must be the caller's or root's, and
# writable by no one else (above OUT, a sticky directory such as /tmp is
# fine: no one else may rename what is in it). Root writes there: in a
# directory another user owns or may write, that user could have planted
# kernel.version -> /etc/shadow for root to write through, or swap the
# guest that sbx boots.
check_out()
{
	local d o g m top=1 me
	me=$(id -u)
	d=$(realpath -e -- "$1") || die "-o $1: cannot resolve it"
	while :; do
		read -r o g m < <(stat -c '%u %g %a' -- "$d") || die "-o $1: cannot stat $d"
		[ "$o" = 0 ] || [ "$o" = "$me" ] ||
			die "-o $1: $d is owned by uid $o: whoever owns it may replace what is written there"
		if (( (8#$m & 8#002) || ((8#$m & 8#020) && g != 0) )) && { [ -n "$top" ] || (( !(8#$m & 8#1000) )); }; then
			die "-o $1: $d is writable by others (mode $m): they may replace what is written there"
		fi
		[ "$d" = / ] && return 0
		d=$(dirname -- "$d")
		top=
	done
}
# put SRC NAME: OUT/NAME, written under a fresh name and renamed over it
put()
{
	local t
	t=$(mktemp "$OUT/.$2.XXXXXX") && cp -- "$1" "$t" && chmod 0644 "$t" && mv -fT -- "$t" "$OUT/$2" ||
		{ rm -f -- "${t:-}"; die "cannot write $OUT/$2"; }
}
mkdir -p -- "$OUT" || die "cannot make $OUT"
check_out "$OUT"

# WORK stays 0700 (mktemp's mode): the guest's root tree is built in it
# with the world-writable /tmp and /var/tmp of the guest, and cpio archives
# everything under it as root's, so a local user who could reach it would
# put files of his choosing, a setuid-root shell among them, into every
# guest. The download goes to a directory of its own, open to _apt.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sbx-mkguest.XXXXXX")
DL=
trap 'rm -rf "$WORK" ${DL:+"$DL"}' EXIT
chmod 0700 "$WORK"

# ---- kernel -------------------------------------------------------------------
# a file only when it says so (a path or a .deb name): a package name that
# happens to be a file in the current directory (/tmp, where anyone may
# leave one) is still the package, fetched with apt-get and checked by it
if [ -n "$PKG" ] && case $PKG in */*|*.deb) true ;; *) false ;; esac; then
	[ -f "$PKG" ] || die "-k $PKG: no such file"
	DEB=$(realpath "$PKG")
else
	if [ -z "$PKG" ]; then
		PKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
		      awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
		[ -n "$PKG" ] || die "cannot tell which kernel package linux-image-amd64 needs (run apt-get update)"
	fi
	say "downloading $PKG"
	DL=$(mktemp -d "${TMPDIR:-/tmp}/sbx-mkguest-dl.XXXXXX")
	chmod 0755 "$DL"	# apt-get download runs as _apt where it can
	(cd "$DL" && apt-get download "$PKG" >/dev/null 2>"$WORK/apt.err") ||
		die "apt-get download $PKG failed: $(tail -1 "$WORK/apt.err")"
	DEB=$(ls "$DL"/*.deb)
fi
say "unpacking $(basename "$DEB")"
dpkg-deb -x "$DEB" "$WORK/k"
VMLINUZ=$(ls "$WORK"/k/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$VMLINUZ" ] || die "no /boot/vmlinuz-* in $DEB"
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR=$WORK/k/lib/modules/$KVER

# The bzImage header says where the compressed kernel is: setup_sects at
# 0x1f1, payload_offset and payload_length at 0x248/0x24c (relative to the
# protected-mode code, which starts after the (setup_sects + 1) * 512 bytes).
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
SETUP=$(u8 "$VMLINUZ" $((0x1f1)))
[ "$SETUP" = 0 ] && SETUP=4
POFF=$(($(u32 "$VMLINUZ" $((0x248))) + (SETUP + 1) * 512))
PLEN=$(u32 "$VMLINUZ" $((0x24c)))
dd if="$VMLINUZ" of="$WORK/payload" iflag=skip_bytes,count_bytes skip="$POFF" count="$PLEN" status=none
MAGIC=$(od -An -tx1 -N6 "$WORK/payload" | tr -d ' \n')
case $MAGIC in
1f8b*) DEC="gzip -dc" ;;
fd377a585a00) DEC="xz -dc" ;;
28b52ffd*) DEC="zstd -dcq" ;;
5d0000*) DEC="xz --format=lzma -dc" ;;
425a68*) DEC="bzip2 -dc" ;;
894c5a4f*) DEC="lzop -dc" ;;
02214c18*) DEC="lz4 -dc" ;;
*) die "unknown kernel compression (payload magic $MAGIC)" ;;
esac
command -v "${DEC%% *}" >/dev/null || die "missing ${DEC%% *} to decompress the kernel"
# xz/zstd may complain about padding after the stream; the ELF check decides
$DEC <"$WORK/payload" >"$WORK/vmlinux" 2>/dev/null || true
[ "$(head -c4 "$WORK/vmlinux" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
	die "decompressing the kernel did not give an ELF vmlinux"

# ---- initramfs ------------------------------------------------------------------
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,dev,proc,sys,tmp,run,root,etc,lib/modules,var/tmp}
chmod 1777 "$R/tmp" "$R/var/tmp"
say "building sbx-guest-init"
gcc -static -O2 -s -std=gnu11 -Wall -D_GNU_SOURCE -o "$R/init" "$SRC/sbx-guest-init.c" ||
	die "building sbx-guest-init failed (is libc6-dev installed?)"
cp "$BUSYBOX" "$R/bin/busybox"
"$BUSYBOX" --list-full | while read -r a; do
	[ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$R/etc/hosts"

# The modules (and what they depend on, from their .modinfo) in load order.
# Debian builds virtio-mmio, virtio-console, virtio-net and vsock as modules.
declare -A DONE=()
: >"$R/lib/modules/sbx.order"
add_module() {	# NAME GROUP: the guest init loads a group when it needs it
	local m=$1 g=$2 f d
	[ -n "${DONE[$m]:-}" ] && return 0
	DONE[$m]=1
	if grep -q "/${m//_/[_-]}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
		return 0
	fi
	f=$(find "$MODDIR/kernel" -name "$m.ko*" | head -1)
	[ -n "$f" ] || f=$(find "$MODDIR/kernel" -name "${m//_/-}.ko*" | head -1)
	[ -n "$f" ] || die "kernel module $m not found in $KVER"
	case $f in
	*.ko.xz) xz -dc "$f" >"$WORK/m.ko" ;;
	*.ko.zst) zstd -dcq "$f" >"$WORK/m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$WORK/m.ko" ;;
	*) cp "$f" "$WORK/m.ko" ;;
	esac
	for d in $(tr '\0' '\n' <"$WORK/m.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$d" "$g"
	done
	case $f in *.ko.xz) xz -dc "$f" ;; *.ko.zst) zstd -dcq "$f" ;; *.ko.gz) gzip -dc "$f" ;;
		   *) cat "$f" ;; esac >"$R/lib/modules/$m.ko"
	echo "$g $m.ko" >>"$R/lib/modules/sbx.order"
}
for m in virtio virtio_ring virtio_mmio virtio_console; do add_module $m base; done
for m in failover net_failover virtio_net; do add_module $m net; done
for m in vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do add_module $m vsock; done

# The library paths come from the program (its DT_NEEDED and RPATH, as ldd
# prints them) and may be anything: "/x/../../../../tmp/y/lib.so" put the
# copy outside the guest tree, through a link a local user had planted
# there, for root to write (the program being one that user gave to be
# sandboxed). Each has its "." and ".." removed first (lexically, so that
# /lib64/ld-linux-x86-64.so.2 stays where the program looks for it), so
# that the copy lands at that path inside the tree, and replaces what is
# there (a busybox applet's link to /bin/busybox would have led to the
# host's) instead of writing through it.
copy_with_libs() {
	local f=$1 lib dest
	[ -f "$f" ] || die "-a $f: no such file"
	cp -L --remove-destination -- "$f" "$R/usr/local/bin/"
	if ldd "$f" >/dev/null 2>&1; then
		ldd "$f" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
			dest=$(realpath -m -s -- "$lib")
			case $dest in /?*) ;; *) die "-a $f: its library $lib is no absolute path" ;; esac
			mkdir -p -- "$R$(dirname -- "$dest")"
			cp -L --remove-destination -- "$lib" "$R$dest"
		done
	fi
}
for f in "${EXTRA[@]+"${EXTRA[@]}"}"; do
	copy_with_libs "$f"
done
# an uncompressed archive boots faster under emulation than a compressed one
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) \
	>"$WORK/initrd.img"

# ---- install --------------------------------------------------------------------
echo "$KVER" >"$WORK/kernel.version"
put "$WORK/vmlinux" vmlinux
put "$WORK/initrd.img" initrd.img
put "$VMLINUZ" vmlinuz
put "$WORK/kernel.version" kernel.version
say "kernel $KVER: $OUT/vmlinux ($(du -h "$OUT/vmlinux" | cut -f1)), initramfs $OUT/initrd.img ($(du -h "$OUT/initrd.img" | cut -f1))"
