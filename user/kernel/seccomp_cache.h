/* SPDX-License-Identifier: MIT */
/*
 * The on-disk cache of compiled seccomp filters (seccomp_cache.c; docs/seccomp.md,
 * "The filter cache"). sbx_seccomp_build() uses it once a directory is set;
 * without one every filter is compiled.
 */
#ifndef SBX_SECCOMP_CACHE_H
#define SBX_SECCOMP_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/seccomp.h"

/* Where filters are kept: RUN_DIR/seccomp (made 0700 when missing);
 * NULL: nowhere. */
void sbx_seccomp_cache_set_dir(const char *run_dir);

/* The canonical text of everything the filter of (p, exec_guard) is made
 * from: sbx's build id, libseccomp's version, the architecture, the kernel
 * release and the profile's [seccomp] table and socket families. -ENOENT
 * when sbx has no build id (then nothing is cached). */
int sbx_seccomp_cache_key(const struct sbx_profile *p, bool exec_guard, char **ret, size_t *ret_len);

/* 0 and the filter in *ret when a trusted file holds key's filter; else a
 * negative errno and why it was not used (-ENOENT: no file yet). */
int sbx_seccomp_cache_load(const char *key, size_t klen, struct sbx_seccomp *ret, char *why, size_t len);

/* Writes s as key's filter (a new file renamed over the old name). */
int sbx_seccomp_cache_store(const char *key, size_t klen, const struct sbx_seccomp *s);

/* sbx unload: RUN_DIR/seccomp and its files. */
void sbx_seccomp_cache_remove(const char *run_dir);

#endif
