/* SPDX-License-Identifier: MIT */
/*
 * The ELF interpreters ("ld.so") of this host, named by inode as the kernel
 * knows them (bpf/include/sbx_abi.h, struct sbx_loader_key), for the exec
 * guard: under Landlock, an exec list must let the interpreter of every
 * allowed dynamic program be executed, and run as a program the interpreter
 * maps and runs any file it can read. bpf/lib/fsaudit.h kills an exec whose
 * main file is one of them (docs/security.md, "What an exec list promises").
 *
 * Found two ways, each file once whatever path or link led to it:
 *   - the loaders' well-known paths: "ld*.so*" in /lib* and /usr/lib*
 *     (glibc of every arch and word size, musl, by the paths the ABIs give
 *     them), when the file is an ELF shared object without an interpreter;
 *   - the PT_INTERP of programs: /bin/sh and /usr/bin/env, and those the
 *     caller names (the policy's exec-listed files), wherever it points.
 */
#ifndef SBX_LOADERS_H
#define SBX_LOADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbx_abi.h"

struct sbx_loader_file {
	uint64_t dev;			/* the superblock's s_dev: major << 20 | minor */
	uint64_t ino;
	uint32_t flags;			/* SBX_LDRF_* */
	char path[SBX_MAX_PATH_LEN];	/* resolved (realpath), truncated if longer */
};

struct sbx_loader_set {
	struct sbx_loader_file v[SBX_MAX_LOADERS];
	size_t n;
};

/* What sbx_elf_read() finds in the headers of an ELF file. */
struct sbx_elf_info {
	uint16_t type;			/* e_type: ET_EXEC, ET_DYN, ... */
	bool has_interp;
	char interp[4096];		/* PT_INTERP, NUL-terminated */
};

/* Reads the ELF header and program headers of the file open at fd (32- or
 * 64-bit, this host's byte order). -ENOEXEC when it is no such ELF file or
 * its headers are malformed, -ENAMETOOLONG for a PT_INTERP longer than
 * interp, -errno when reading fails. */
int sbx_elf_read(int fd, struct sbx_elf_info *ret);

/* The kernel's encoding of a device number (MKDEV), as s_dev holds it. */
static inline uint64_t sbx_kernel_dev(unsigned int major, unsigned int minor)
{
	return ((uint64_t)major << 20) | minor;
}

/* Fills ret with the host's loaders and the interpreters of programs[0..n).
 * A program or loader path that does not exist or is not an ELF file is
 * skipped. -E2BIG when more than SBX_MAX_LOADERS files qualify, -errno when
 * the mount table cannot be read; why says which. */
int sbx_loaders_find(const char *const *programs, size_t n, struct sbx_loader_set *ret,
		     char *why, size_t len);

#endif
