#!/bin/bash
# SPDX-License-Identifier: MIT
#
# btf-from-deb.sh ARCH PACKAGE OUT: write OUT (a vmlinux.h) from the kernel
# BTF inside Debian's kernel image package PACKAGE for ARCH, fetched from the
# machine's own apt sources. This is how vmlinux/<arch>/vmlinux.h is made
# for an architecture the machine does not run (`make vmlinux-arm64`).
#
#   - apt runs with a private state directory and APT::Architectures=ARCH, so
#     the download needs no `dpkg --add-architecture` and leaves the system's
#     apt and dpkg state as they were;
#   - PACKAGE may be a meta package (linux-image-6.12-arm64): its kernel
#     image dependency is downloaded;
#   - the kernel's BTF (CONFIG_DEBUG_INFO_BTF) sits in the boot image between
#     __start_BTF and __stop_BTF; a raw Image has no section headers, so the
#     BTF blob is found by its header (magic 0xeb9f, version 1, 24-byte
#     header) and cut by the lengths that header gives;
#   - bpftool turns that raw BTF into C (`bpftool btf dump file F format c`).
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 ARCH PACKAGE OUT" >&2; exit 2; }
arch=$1 pkg=$2 out=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
apt_opts=(-o "APT::Architectures::=$arch" -o "APT::Architecture=$arch"
	-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
	-o "Dir::State::status=/dev/null" -o "APT::Sandbox::User=root")

apt-get -qq "${apt_opts[@]}" update
image=$(apt-cache "${apt_opts[@]}" depends "$pkg" |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
image=${image:-$pkg}
(cd "$tmp" && apt-get -qq "${apt_opts[@]}" download "$image")
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
vmlinuz=$(ls "$tmp"/boot/vmlinuz-*)
case $(od -An -tx1 -N2 "$vmlinuz" | tr -d ' ') in
1f8b) zcat "$vmlinuz" >"$tmp/Image" ;;		# gzip-compressed Image
*) cp "$vmlinuz" "$tmp/Image" ;;
esac

python3 - "$tmp/Image" "$tmp/vmlinux.btf" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
magic = b'\x9f\xeb\x01\x00\x18\x00\x00\x00'	# 0xeb9f LE, version 1, flags 0, hdr_len 24
best = None
at = data.find(magic)
while at >= 0:
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from('<5I', data, at + 4)
    size = hdr_len + max(type_off + type_len, str_off + str_len)
    if at + size <= len(data) and (best is None or size > best[1]):
        best = (at, size)
    at = data.find(magic, at + 1)
if best is None:
    sys.exit('no BTF in the image (kernel built without CONFIG_DEBUG_INFO_BTF?)')
open(sys.argv[2], 'wb').write(data[best[0]:best[0] + best[1]])
EOF

mkdir -p "$(dirname "$out")"
bpftool btf dump file "$tmp/vmlinux.btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out: BTF of $image ($(basename "$vmlinuz"))"
