/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Audit of file syscalls refused by a backend other than BPF LSM (Landlock):
 * the path is captured at sys_enter and reported at sys_exit. */
#ifndef SBX_BPF_FSAUDIT_H
#define SBX_BPF_FSAUDIT_H

#include "common.h"

/* Called at sys_exit for sandboxed tasks whose syscall failed with -EPERM or
 * -EACCES; returns true when it reported the failure (as SBX_EV_FILE). */
static __always_inline bool sbx_fsaudit_exit(struct sbx_ctx *c, struct pt_regs *regs, long ret)
{
	return false;
}

#endif
