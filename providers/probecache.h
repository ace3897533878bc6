/* SPDX-License-Identifier: MIT */
/*
 * What a provider learned by running an external program (e.g. `runsc
 * --version`), kept between runs so that choosing a provider costs no
 * process start. One file per entry, <dir>/probe-<name>, mode 0600, holding
 * the program's path, device, inode, size and mtime (ns) and the answer: a
 * replaced or touched binary, or another path, misses and is probed again.
 * The directory is the instance's run directory (core/instance.h), set by
 * the caller before the first probe; without it nothing is cached.
 */
#ifndef SBX_PROBECACHE_H
#define SBX_PROBECACHE_H

#include <stddef.h>

/* NULL turns the cache off. The string must outlive the probes. */
void sbx_probe_cache_set_dir(const char *dir);

/* 0 and the stored answer in val when entry name is stored for bin as it is
 * now; -ENOENT on a miss (or no cache), another -errno on failure. */
int sbx_probe_cache_get(const char *name, const char *bin, char *val, size_t len);

/* Stores val (one line) for bin under name; 0 or -errno. */
int sbx_probe_cache_put(const char *name, const char *bin, const char *val);

#endif
