/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/loaders.h"
#include "kernel/mountinfo.h"
#include "util/util.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELF_DATA_HOST ELFDATA2LSB
#else
#define ELF_DATA_HOST ELFDATA2MSB
#endif

/* More program headers than a linker writes: the file is not a program. */
#define ELF_MAX_PHNUM 256

/* The paths the ABIs give the loaders, which programs name as PT_INTERP:
 * /lib64/ld-linux-x86-64.so.2, /lib/ld-linux.so.2 (i386),
 * /libx32/ld-linux-x32.so.2, /lib/ld-linux-aarch64.so.1,
 * /lib/ld-linux-armhf.so.3, /lib64/ld64.so.2 (ppc64le), /lib/ld64.so.1
 * (s390x), /lib/ld-musl-<arch>.so.1; and the same under /usr on systems
 * whose /lib is not a link to it. On multiarch systems these are symlinks
 * into /usr/lib/<triplet>/, the same files: those directories (thousands of
 * entries) are not listed. */
static const char *const loader_globs[] = { "/lib*/ld*.so*", "/usr/lib*/ld*.so*" };

/* Programs every system has, whose interpreter is the one in use. */
static const char *const known_programs[] = { "/bin/sh", "/usr/bin/env" };

/* The state of one search: the set, and per entry what identifies the file
 * before the mount table says its superblock's device. */
struct finder {
	struct sbx_loader_set *set;
	uint64_t stat_dev[SBX_MAX_LOADERS];	/* statx's device, for duplicates */
	int64_t mnt_id[SBX_MAX_LOADERS];	/* -1: unknown, keep stat's device */
};

/* PT_INTERP holds the path with its NUL. */
static int read_interp(int fd, uint64_t off, uint64_t size, struct sbx_elf_info *info)
{
	ssize_t n;

	if (size < 2)
		return -ENOEXEC;
	if (size > sizeof(info->interp))
		return -ENAMETOOLONG;
	n = pread(fd, info->interp, size, (off_t)off);
	if (n < 0)
		return -errno;
	if ((uint64_t)n != size || !memchr(info->interp, 0, size))
		return -ENOEXEC;
	info->has_interp = true;
	return 0;
}

/* Finds PT_INTERP among the program headers (read in one go) and reads it. */
static int read_phdrs(int fd, bool is64, uint64_t phoff, unsigned int phnum,
		      struct sbx_elf_info *info)
{
	size_t ent = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	_cleanup_free_ unsigned char *buf = malloc(ent * (phnum ? phnum : 1));
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = pread(fd, buf, ent * phnum, (off_t)phoff);
	if (n < 0)
		return -errno;
	if ((size_t)n != ent * phnum)
		return -ENOEXEC;
	for (unsigned int i = 0; i < phnum; i++) {
		Elf64_Phdr p64;
		Elf32_Phdr p32;

		if (is64) {
			memcpy(&p64, buf + i * ent, ent);
			if (p64.p_type == PT_INTERP)
				return read_interp(fd, p64.p_offset, p64.p_filesz, info);
		} else {
			memcpy(&p32, buf + i * ent, ent);
			if (p32.p_type == PT_INTERP)
				return read_interp(fd, p32.p_offset, p32.p_filesz, info);
		}
	}
	return 0;
}

int sbx_elf_read(int fd, struct sbx_elf_info *ret)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf64_Ehdr e64;
		Elf32_Ehdr e32;
	} h;
	struct sbx_elf_info info = { 0 };
	ssize_t n = pread(fd, &h, sizeof(h), 0);
	unsigned int phnum, phent;
	uint64_t phoff;
	bool is64;
	int r;

	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(h.ident, ELFMAG, SELFMAG) ||
	    h.ident[EI_DATA] != ELF_DATA_HOST ||
	    (h.ident[EI_CLASS] != ELFCLASS64 && h.ident[EI_CLASS] != ELFCLASS32))
		return -ENOEXEC;
	is64 = h.ident[EI_CLASS] == ELFCLASS64;
	if (is64 && n < (ssize_t)sizeof(Elf64_Ehdr))
		return -ENOEXEC;
	info.type = is64 ? h.e64.e_type : h.e32.e_type;
	phoff = is64 ? h.e64.e_phoff : h.e32.e_phoff;
	phnum = is64 ? h.e64.e_phnum : h.e32.e_phnum;
	phent = is64 ? h.e64.e_phentsize : h.e32.e_phentsize;
	if (phnum > ELF_MAX_PHNUM ||
	    (phnum && phent != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))))
		return -ENOEXEC;
	r = read_phdrs(fd, is64, phoff, phnum, &info);
	if (r < 0)
		return r;
	*ret = info;
	return 0;
}

/* The headers of the file at path; -errno when it cannot be opened. */
static int elf_at(const char *path, struct sbx_elf_info *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return sbx_elf_read(fd, ret);
}

/* An ELF shared object without an interpreter of its own: how every dynamic
 * loader is built (a shared library too; running one directly does nothing
 * useful, so refusing it costs nothing). */
static bool is_loader_elf(const char *path)
{
	struct sbx_elf_info *info = malloc(sizeof(*info));
	bool yes = info && elf_at(path, info) == 0 && info->type == ET_DYN && !info->has_interp;

	free(info);
	return yes;
}

/* Adds the regular file at path (symlinks followed) once, whatever link led
 * to it. A path that leads nowhere is skipped. */
static int add_file(struct finder *f, const char *path, uint32_t flags, bool check_elf)
{
	struct sbx_loader_set *s = f->set;
	struct sbx_loader_file *l;
	struct statx stx;
	char real[PATH_MAX];
	uint64_t dev;

	if (statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_INO | STATX_MNT_ID, &stx) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EACCES ?
		       0 : -errno;
	if (!S_ISREG(stx.stx_mode))
		return 0;
	dev = sbx_kernel_dev(stx.stx_dev_major, stx.stx_dev_minor);
	for (size_t i = 0; i < s->n; i++) {
		if (f->stat_dev[i] == dev && s->v[i].ino == stx.stx_ino) {
			s->v[i].flags |= flags;
			return 0;
		}
	}
	if (check_elf && !is_loader_elf(path))
		return 0;
	if (s->n == SBX_MAX_LOADERS)
		return -E2BIG;
	l = &s->v[s->n];
	*l = (struct sbx_loader_file){ .dev = dev, .ino = stx.stx_ino, .flags = flags };
	snprintf(l->path, sizeof(l->path), "%s", realpath(path, real) ? real : path);
	f->stat_dev[s->n] = dev;
	f->mnt_id[s->n] = (stx.stx_mask & STATX_MNT_ID) ? (int64_t)stx.stx_mnt_id : -1;
	s->n++;
	return 0;
}

static int add_globs(struct finder *f)
{
	glob_t g = { 0 };
	int r = 0, gr = 0;

	for (size_t i = 0; i < sizeof(loader_globs) / sizeof(loader_globs[0]) && gr != GLOB_NOSPACE; i++)
		gr = glob(loader_globs[i], i ? GLOB_APPEND : 0, NULL, &g);
	if (gr == GLOB_NOSPACE) {
		globfree(&g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < g.gl_pathc && r == 0; i++)
		r = add_file(f, g.gl_pathv[i], SBX_LDRF_PATH, true);
	globfree(&g);
	return r;
}

/* The interpreter a program names, if it is an ELF program that has one. */
static int add_interp(struct finder *f, const char *program)
{
	_cleanup_free_ struct sbx_elf_info *info = malloc(sizeof(*info));
	int r;

	if (!info)
		return -ENOMEM;
	r = elf_at(program, info);
	if (r < 0 || !info->has_interp)
		return 0;	/* gone, unreadable, a script or static: nothing to add */
	return add_file(f, info->interp, SBX_LDRF_INTERP, false);
}

/* s_dev of each entry's mount: mountinfo's major:minor. */
static int match_mount(const struct sbx_mount *m, void *arg)
{
	struct finder *f = arg;

	for (size_t i = 0; i < f->set->n; i++)
		if (f->mnt_id[i] == m->id)
			f->set->v[i].dev = sbx_kernel_dev(m->major, m->minor);
	return 0;
}

int sbx_loaders_find(const char *const *programs, size_t n, struct sbx_loader_set *ret,
		     char *why, size_t len)
{
	_cleanup_free_ struct sbx_loader_set *set = calloc(1, sizeof(*set));
	struct finder f = { .set = set };
	const char *prog = NULL;
	int r;

	if (!set)
		return -ENOMEM;
	r = add_globs(&f);
	for (size_t i = 0; i < sizeof(known_programs) / sizeof(known_programs[0]) && r == 0; i++)
		r = add_interp(&f, prog = known_programs[i]);
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_interp(&f, prog = programs[i]);
	if (r == -E2BIG)
		return sbx_fail(why, len, r, "more than %d ELF interpreters (ld.so) found, the "
				"last for %s: the exec guard cannot hold them", SBX_MAX_LOADERS,
				prog ? prog : "the well-known loader paths");
	if (r < 0)
		return sbx_fail(why, len, r, "finding the ELF interpreters (ld.so): %s",
				strerror(-r));
	r = sbx_mountinfo_each(match_mount, &f);
	if (r < 0)
		return sbx_fail(why, len, r, "/proc/self/mountinfo: %s", strerror(-r));
	*ret = *set;
	return 0;
}
