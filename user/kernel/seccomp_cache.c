/* SPDX-License-Identifier: MIT */
/*
 * The compiled seccomp filter, kept on disk by what it is made from
 * (kernel/seccomp.h; docs/seccomp.md, "The filter cache"). Compiling it with
 * libseccomp was over a third of the instructions of a whole `sbx run`.
 *
 * One file per filter, RUN_DIR/seccomp/<64-bit hash of the key, hex>:
 *   struct cache_hdr   magic, format, lengths, checksum
 *   key                the canonical text of every input of the filter
 *   denied             the audit bitmap (struct sbx_seccomp.denied)
 *   insns              the classic BPF program
 * The hash only names the file: the key is compared whole, so two inputs
 * whose hashes collide share a name, never a filter. The checksum (FNV-1a)
 * catches a file changed or cut short by accident; what stops a file planted
 * on purpose is that only its owner may write the directory: the directory
 * and the file must be the caller's (euid), open to no one else, the file a
 * regular one with a single link, reached without following a symlink.
 * Whatever fails any check is not loaded: the filter is compiled again and
 * the file replaced (write to a new name, rename over the old one).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <seccomp.h>

#include "kernel/seccomp.h"
#include "kernel/seccomp_cache.h"
#include "util/util.h"

#define CACHE_MAGIC "SBXSCMP\n"
#define CACHE_FORMAT 1u
#define CACHE_KEY_MAX 65536u

struct cache_hdr {
	char magic[8];
	uint32_t format;
	uint32_t key_len;
	uint32_t n_insns;
	uint32_t denied_len;	/* sizeof(struct sbx_seccomp.denied) */
	uint64_t checksum;	/* FNV-1a 64 of everything after the header */
};
_Static_assert(sizeof(struct cache_hdr) == 32, "cache header has padding");

#define CACHE_FILE_MAX (sizeof(struct cache_hdr) + CACHE_KEY_MAX + \
			sizeof(((struct sbx_seccomp *)0)->denied) + BPF_MAXINSNS * sizeof(struct sock_filter))

static char cache_dir[PATH_MAX];	/* "" = no cache */

void sbx_seccomp_cache_set_dir(const char *run_dir)
{
	if (!run_dir || (size_t)snprintf(cache_dir, sizeof(cache_dir), "%s/seccomp", run_dir) >=
			sizeof(cache_dir))
		cache_dir[0] = 0;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* ---- the key --------------------------------------------------------------- */

struct note_search {
	uintptr_t addr;		/* an address inside the object searched for */
	char hex[2 * 64 + 1];	/* its GNU build id */
};

static bool object_has(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && addr >= start && addr - start < ph->p_memsz)
			return true;
	}
	return false;
}

static void note_build_id(const struct dl_phdr_info *info, const ElfW(Phdr) *ph, char *hex)
{
	const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;

	while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
		size_t name = (n->n_namesz + 3) & ~3u, desc = (n->n_descsz + 3) & ~3u;
		const unsigned char *d = (const unsigned char *)(n + 1) + name;

		if ((size_t)(end - p) < sizeof(*n) + name + desc)
			return;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    !memcmp(n + 1, "GNU", 4) && n->n_descsz > 0 && n->n_descsz <= 64) {
			for (size_t i = 0; i < n->n_descsz; i++)
				sprintf(hex + 2 * i, "%02x", d[i]);
			return;
		}
		p += sizeof(*n) + name + desc;
	}
}

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	struct note_search *s = data;

	if (!object_has(info, s->addr))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && !s->hex[0]; i++)
		if (info->dlpi_phdr[i].p_type == PT_NOTE)
			note_build_id(info, &info->dlpi_phdr[i], s->hex);
	return 1;
}

/* The build of sbx that holds this code: a rebuilt sbx may compile the same
 * profile differently, and /run outlives a reinstall. */
static int build_id(char *buf, size_t len)
{
	struct note_search s = { .addr = (uintptr_t)&sbx_seccomp_cache_key };

	dl_iterate_phdr(find_build_id, &s);
	if (!s.hex[0])
		return -ENOENT;	/* linked without --build-id: no cache */
	snprintf(buf, len, "%s", s.hex);
	return 0;
}

static void key_names(FILE *f, const char *what, char *const *names, size_t n)
{
	fprintf(f, "%s %zu\n", what, n);
	/* length-prefixed: no name can be read as the start of another */
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%zu:%s\n", strlen(names[i]), names[i]);
}

int sbx_seccomp_cache_key(const struct sbx_profile *p, bool exec_guard, char **ret, size_t *ret_len)
{
	const struct scmp_version *v = seccomp_version();
	char id[2 * 64 + 1], *buf = NULL;
	struct utsname u;
	size_t len = 0;
	FILE *f;
	int r;

	r = build_id(id, sizeof(id));
	if (r < 0)
		return r;
	if (!v || uname(&u) < 0)
		return -ENOENT;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "sbx seccomp filter %u\nbuild %s\nlibseccomp %u.%u.%u\narch %u\nkernel %s\n",
		CACHE_FORMAT, id, v->major, v->minor, v->micro, seccomp_arch_native(), u.release);
	fprintf(f, "preset %d\naction %d\nexec_guard %d\nfamilies %llx\n", (int)p->seccomp.preset,
		(int)p->seccomp.action, exec_guard, (unsigned long long)p->net.families);
	key_names(f, "allow", p->seccomp.allow, p->seccomp.n_allow);
	key_names(f, "deny", p->seccomp.deny, p->seccomp.n_deny);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	if (len > CACHE_KEY_MAX) {
		free(buf);
		return -E2BIG;	/* compiled every time */
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* ---- the directory and the file ------------------------------------------- */

/* Only a directory of the caller's that no one else may write is used. */
static int open_dir(char *why, size_t len)
{
	struct stat st;
	int fd;

	if (!cache_dir[0])
		return sbx_fail(why, len, -ENOENT, "no run directory");
	if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST)
		return sbx_fail(why, len, -errno, "mkdir %s: %m", cache_dir);
	fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "%s: %m", cache_dir);
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return sbx_fail(why, len, -EPERM, "%s is not a directory of uid %u closed to others",
				cache_dir, (unsigned)geteuid());
	}
	return fd;
}

static void file_name(const char *key, size_t klen, char buf[32])
{
	snprintf(buf, 32, "%016llx", (unsigned long long)fnv1a(FNV_INIT, key, klen));
}

static uint64_t body_checksum(const char *key, size_t klen, const struct sbx_seccomp *s)
{
	uint64_t h = fnv1a(FNV_INIT, key, klen);

	h = fnv1a(h, s->denied, sizeof(s->denied));
	return fnv1a(h, s->prog.filter, s->prog.len * sizeof(*s->prog.filter));
}

/* The file's metadata: a regular file of the caller's, one link, open to
 * no one else, of a size a filter can have. */
static int check_file(int fd, off_t *ret_size, char *why, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sbx_fail(why, len, -errno, "fstat: %m");
	if (!S_ISREG(st.st_mode))
		return sbx_fail(why, len, -EPERM, "not a regular file");
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return sbx_fail(why, len, -EPERM, "owner %u mode %04o (want %u, 0600)",
				(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
	if (st.st_nlink != 1)
		return sbx_fail(why, len, -EPERM, "%ju links", (uintmax_t)st.st_nlink);
	if (st.st_size < (off_t)sizeof(struct cache_hdr) || st.st_size > (off_t)CACHE_FILE_MAX)
		return sbx_fail(why, len, -EINVAL, "size %jd", (intmax_t)st.st_size);
	*ret_size = st.st_size;
	return 0;
}

/* The contents: header, size, key and checksum; then the filter into ret. */
static int parse(const char *buf, size_t size, const char *key, size_t klen, struct sbx_seccomp *ret,
		 char *why, size_t len)
{
	struct cache_hdr h;
	struct sbx_seccomp s = { 0 };
	const char *body = buf + sizeof(h);
	size_t insns;

	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) || h.format != CACHE_FORMAT ||
	    h.denied_len != sizeof(s.denied) || h.n_insns == 0 || h.n_insns > BPF_MAXINSNS)
		return sbx_fail(why, len, -EINVAL, "bad header");
	insns = (size_t)h.n_insns * sizeof(struct sock_filter);
	if (h.key_len != klen || size != sizeof(h) + klen + sizeof(s.denied) + insns)
		return sbx_fail(why, len, -EINVAL, "sizes do not match");
	if (memcmp(body, key, klen))
		return sbx_fail(why, len, -EINVAL, "made from other inputs");
	memcpy(s.denied, body + klen, sizeof(s.denied));
	s.prog.len = (unsigned short)h.n_insns;
	s.prog.filter = malloc(insns);
	if (!s.prog.filter)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	memcpy(s.prog.filter, body + klen + sizeof(s.denied), insns);
	if (body_checksum(key, klen, &s) != h.checksum) {
		sbx_seccomp_free(&s);
		return sbx_fail(why, len, -EINVAL, "checksum mismatch");
	}
	*ret = s;
	return 0;
}

int sbx_seccomp_cache_load(const char *key, size_t klen, struct sbx_seccomp *ret, char *why, size_t len)
{
	_cleanup_close_ int dfd = open_dir(why, len);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char name[32];
	off_t size = 0;
	int r;

	if (dfd < 0)
		return dfd;
	file_name(key, klen, name);
	/* O_NOFOLLOW: a symlink fails with ELOOP; O_NONBLOCK: a FIFO cannot stall */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "%s: %m", name);
	r = check_file(fd, &size, why, len);
	if (r < 0)
		return r;
	buf = malloc((size_t)size);
	if (!buf)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	if (read(fd, buf, (size_t)size) != size)
		return sbx_fail(why, len, -EIO, "short read");
	return parse(buf, (size_t)size, key, klen, ret, why, len);
}

int sbx_seccomp_cache_store(const char *key, size_t klen, const struct sbx_seccomp *s)
{
	struct cache_hdr h = { .magic = CACHE_MAGIC, .format = CACHE_FORMAT, .key_len = (uint32_t)klen,
			       .n_insns = s->prog.len, .denied_len = sizeof(s->denied),
			       .checksum = body_checksum(key, klen, s) };
	size_t insns = s->prog.len * sizeof(*s->prog.filter);
	char why[64], name[32], tmp[64];
	_cleanup_close_ int dfd = open_dir(why, sizeof(why));
	int fd, r = 0;

	if (dfd < 0)
		return dfd;
	file_name(key, klen, name);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", name, (int)getpid());
	unlinkat(dfd, tmp, 0);	/* left by a crashed sbx of the same pid */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (sbx_write_all(fd, &h, sizeof(h)) != sizeof(h) || sbx_write_all(fd, key, klen) != klen ||
	    sbx_write_all(fd, s->denied, sizeof(s->denied)) != sizeof(s->denied) ||
	    sbx_write_all(fd, s->prog.filter, insns) != insns)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	/* rename replaces whatever the name was (a symlink too) without following it */
	if (!r && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dfd, tmp, 0);
	return r;
}

void sbx_seccomp_cache_remove(const char *run_dir)
{
	char path[PATH_MAX + 16];
	struct dirent *e;
	DIR *d;
	int dfd;

	snprintf(path, sizeof(path), "%s/seccomp", run_dir);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dfd, e->d_name, 0);
	closedir(d);
	rmdir(path);
}
