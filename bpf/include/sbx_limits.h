/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capacity limits shared by the policy validator (user space) and the BPF
 * maps that hold compiled rules. A policy that exceeds one of these is
 * refused at load time with a position, so that a rule is never silently
 * dropped because a kernel map was full.
 *
 * Worked example: a profile with 10,000 CIDR entries fits (<= SBX_MAX_NET_RULES);
 * a path rule "/a/.../x" of 300 bytes does not (> SBX_MAX_PATH_LEN - 1 = 251).
 */
#ifndef SBX_LIMITS_H
#define SBX_LIMITS_H

#define SBX_MAX_NET_RULES	16384	/* allow + deny entries of one profile, after name resolution */
#define SBX_MAX_LISTEN		64	/* listen port ranges of one profile */
#define SBX_MAX_UNIX		8	/* network.unix paths of one profile */
#define SBX_UNIX_PATH_LEN	108	/* sizeof(sockaddr_un.sun_path) */
#define SBX_MAX_PATH_RULES	16384	/* fs rules of one profile */
#define SBX_MAX_EXEC		1024	/* exec allow-list entries of one profile */
#define SBX_MAX_PATH_LEN	252	/* bytes of a rule path incl. trailing NUL: an LPM key holds at
				 * most 256 data bytes, 4 of them the policy id */
#define SBX_MAX_PROFILES	4096	/* profiles loaded at once */
#define SBX_MAX_SANDBOXES	4096	/* concurrent sandboxes per host */
#define SBX_MAX_ENV		256	/* environment variables of one profile */

#endif /* SBX_LIMITS_H */
