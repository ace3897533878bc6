/* SPDX-License-Identifier: MIT */
/* Common includes for cmocka unit tests. */
#ifndef SBX_TESTUTIL_H
#define SBX_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Path of a file in the source tree (SBX_SRCDIR is set by the Makefile). */
static inline const char *test_srcpath(char *buf, size_t len, const char *rel)
{
	const char *d = getenv("SBX_SRCDIR");

	snprintf(buf, len, "%s/%s", d ? d : ".", rel);
	return buf;
}

/* Skips the running case, saying why (tests/run-unit.sh counts a skip
 * without a reason as a failure). Only for what the machine lacks: a
 * failure of sbx's own code is a failure, never a skip. */
#define SKIP_BECAUSE(...)						\
	do {								\
		print_message("skipped: " __VA_ARGS__);			\
		print_message("\n");					\
		skip();							\
	} while (0)

#endif
