/* SPDX-License-Identifier: MIT */
/*
 * org.varlink.certification: the interface that varlink's protocol
 * certification (varlink-go-certification in Debian's varlink-go) calls to
 * check a server. sbxd serves it only with --varlink-certification, for
 * tests/integration/test_varlink_interop.sh: it proves the varlink server
 * core (framing, "more"/"continues", "oneway", error replies, the
 * org.varlink.service introspection) against an implementation that nobody
 * here wrote.
 */
#ifndef SBX_DAEMON_CERTIFICATION_H
#define SBX_DAEMON_CERTIFICATION_H

#include "varlink/server.h"

const struct vl_interface *sbxd_certification_interface(void);

#endif
