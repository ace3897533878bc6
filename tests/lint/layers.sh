#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The include rules of docs/architecture.md ("Layers"), checked on every
# project #include "..." line. A layer may include its own headers and those
# of the layers below it:
#
#   bpf/include   <- bpf/lib <- bpf/*.bpf.c
#   bpf/include   <- user/util <- policy <- user/kernel <- user/core <- user/cli
#                               policy <- user/dns (the resolver engine: util and
#                               policy headers only)
#   user/varlink <- user/libsbx <- user/cli (libsbx is a client library of its
#                               own: it includes nothing else of sbx)
#                               providers/ sit beside core: util, kernel,
#                               policy, provider.h and core/fsplan.h only
#
# Prints one line per violation (file:line: include, and the rule) and exits 1
# when there is any.
set -u
cd "$(dirname "$0")/../.." || exit 2

# allowed FILE INCLUDE: 0 when FILE may include INCLUDE
allowed()
{
	local file=$1 inc=$2
	case $inc in
	sbx_abi.h|sbx_limits.h) return 0 ;;
	esac
	case $file in
	bpf/*)		[[ $inc == vmlinux.h || -f bpf/lib/$inc ]] ;;
	policy/*)	[[ $inc == util/* || ( $inc != */* && -f policy/$inc ) ]] ;;
	user/util/*)	[[ $inc == util/* ]] ;;
	user/dns/*)	[[ $inc == util/* || $inc == dns/* || $inc == policy.h || $inc == netgroup.h ]] ;;
	user/kernel/*)	[[ $inc == util/* || $inc == kernel/* || $inc == policy.h ||
			   $inc == probe.skel.h ]] ;;
	user/core/*)	[[ $inc == util/* || $inc == kernel/* || $inc == core/* || $inc == dns/* || $inc == policy.h ||
			   $inc == provider.h || $inc == *.skel.h ]] ;;
	user/varlink/*)	[[ $inc == varlink/* ]] ;;
	user/libsbx/*)	[[ $inc == varlink/* || $inc == libsbx/* ]] ;;
	user/cli/*)	[[ $inc != *.skel.h && $inc != policy-internal.h && $inc != toml.h ]] ;;
	user/daemon/*)	[[ $inc != *.skel.h && $inc != policy-internal.h ]] ;;
	user/oci/*)	[[ $inc != *.skel.h && $inc != policy-internal.h && $inc != toml.h ]] ;;
	providers/*)	[[ $inc == util/* || $inc == kernel/* || $inc == policy.h ||
			   $inc == core/fsplan.h || $inc != */* && $inc != *.skel.h &&
			   $inc != policy-internal.h && $inc != toml.h ]] ;;
	*)		return 0 ;;
	esac
}

bad=0
while IFS=: read -r file line text; do
	inc=${text#*\"}
	inc=${inc%%\"*}
	if ! allowed "$file" "$inc"; then
		echo "$file:$line: #include \"$inc\" crosses the layers (docs/architecture.md, Layers)"
		bad=1
	fi
done < <(git ls-files 'bpf/*.[ch]' 'policy/*.[ch]' 'user/*.[ch]' 'providers/*.[ch]' |
	 grep -v '^providers/guest/' | xargs grep -n '^#include "' /dev/null)
[ $bad = 0 ] && echo "  LINT     include layers: every #include keeps to docs/architecture.md"
exit $bad
