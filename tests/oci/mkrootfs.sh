#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/oci/mkrootfs.sh DIR: a container root filesystem for the OCI tests,
# built from host packages only (nothing pulled from a registry):
# busybox-static with a link for every applet, /etc/passwd and /etc/group
# (root, nobody), the directories runtimes mount on, and tests/oci/ocitool.c
# built static (musl-gcc where installed, else gcc -static) as /bin/ocitool.
# Exit 2 with the reason on stderr when busybox-static is not installed.
set -eu
dir=${1:?usage: mkrootfs.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
bb=/bin/busybox
if [ ! -x "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
	echo "mkrootfs: $bb is missing or not static (apt-get install busybox-static)" >&2
	exit 2
fi
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp run var/tmp root home
chmod 1777 tmp var/tmp
cp "$bb" bin/busybox
for a in $(bin/busybox --list); do
	[ "$a" = busybox ] || [ -e "bin/$a" ] || ln -s busybox "bin/$a"
done
cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
: >etc/hosts
: >etc/resolv.conf
echo oci-test >etc/hostname
cc=$(command -v musl-gcc || echo gcc)
$cc -std=gnu11 -O2 -Wall -Wextra -static -o bin/ocitool "$here/ocitool.c"
