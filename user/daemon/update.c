/* SPDX-License-Identifier: MIT */
/* Update and Reload --running: live policy changes (docs/api.md). */
#include <errno.h>

#include "daemon/daemon.h"

int sbxd_update(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, json_object *params)
{
	return -EOPNOTSUPP;	/* WIP: wired to core/update.c next */
}

json_object *sbxd_move_running(struct sbxd *d, bool running)
{
	return json_object_new_array();
}
