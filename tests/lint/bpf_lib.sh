#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bpf/lib/*.h hold inline helpers only (docs/architecture.md): no program
# sections and no map definitions. A SEC("...") (or a section attribute) in
# a header would define a program or a map in every object that includes
# it; the programs live in bpf/*.bpf.c and every map is defined once, in
# bpf/maps.bpf.c. The one exception: bpf/lib/maps.h declares the maps
# `extern ... SEC(".maps");`, which defines nothing (the linker resolves
# them against bpf/maps.bpf.c).
#
# Comments are ignored. Prints one line per violation (file:line: text) and
# exits 1 when there is any.
#
#   tests/lint/bpf_lib.sh [HEADER...]    (default: every bpf/lib/*.h)
set -u
cd "$(dirname "$0")/../.." || exit 2

# strip_comments FILE: FILE without /* */ and // comments, lines kept in place.
strip_comments()
{
	perl -0pe 's{/\*.*?\*/}{ (my $c = $&) =~ s/[^\n]//g; $c }gse; s{//[^\n]*}{}g' "$1"
}

[ $# -gt 0 ] || set -- bpf/lib/*.h
bad=0
for f in "$@"; do
	while IFS=: read -r line text; do
		if [[ $(basename "$f") == maps.h &&
		      $text =~ ^[[:space:]]*extern[[:space:]][^\;]*SEC\(\"\.maps\"\)[[:space:]]*\;[[:space:]]*$ ]]; then
			continue
		fi
		echo "$f:$line: ${text#"${text%%[![:space:]]*}"}: a section (program or map) in a bpf/lib header; programs go in bpf/*.bpf.c, maps are defined in bpf/maps.bpf.c"
		bad=1
	done < <(strip_comments "$f" | grep -n -E '\bSEC[[:space:]]*\(|__section\b|section[[:space:]]*\(')
done
[ $bad = 0 ] && echo "  LINT     bpf/lib: headers hold no programs and no map definitions"
exit $bad
