/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* BPF LSM filesystem and exec policy (lsm/ programs). Loaded only where BPF
 * LSM works (user space disables their autoload otherwise). */
#ifndef SBX_BPF_LSM_H
#define SBX_BPF_LSM_H

#include "common.h"

#endif
