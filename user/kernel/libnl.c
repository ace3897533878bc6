/* SPDX-License-Identifier: MIT */
/* libnl loaded at the first use (kernel/libnl.h). */
#include <errno.h>
#include <stdio.h>

#include "kernel/libnl.h"
#include "util/util.h"

#define LIBNL_SONAME "libnl-route-3.so.200"

struct sbx_libnl libnl;

static int loaded;		/* 1 loaded, < 0 failed, 0 not tried */
static char load_why[256];

int sbx_libnl_load(char *why, size_t len)
{
	void *lib;
	int r = 0;

	if (loaded == 0) {
		/* dlsym on its handle also finds libnl-3's functions (a dependency) */
		lib = sbx_dl_open(LIBNL_SONAME, load_why, sizeof(load_why));
		r = lib ? 0 : -ELIBACC;
#define SBX_LIBNL_LOAD(f) \
		if (r == 0 && !(libnl.f = (typeof(f) *)sbx_dl_sym(lib, LIBNL_SONAME, #f, load_why, \
								    sizeof(load_why)))) \
			r = -ELIBBAD;
		SBX_LIBNL_FUNCS(SBX_LIBNL_LOAD)
		loaded = r < 0 ? r : 1;
	}
	if (loaded < 0 && why)
		snprintf(why, len, "%s", load_why);
	return loaded < 0 ? loaded : 0;
}
