/* SPDX-License-Identifier: MIT */
/*
 * The ELF interpreters the exec guard refuses to run as programs
 * (user/kernel/loaders.c): the ELF header reader on made-up files of both
 * classes and on malformed ones, and the search on this host: the
 * interpreter of /bin/sh, named by the device mountinfo gives its mount
 * (the kernel's s_dev) and its inode, once whatever link leads to it, and
 * the interpreter a listed program names, wherever it is.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "kernel/loaders.h"
#include "kernel/mountinfo.h"

static char tmpdir[] = "/tmp/sbx-test-loaders.XXXXXX";

static int tmp_setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes an ELF file of class cls (ELFCLASS32/64) with one program header,
 * PT_INTERP holding interp_len bytes of interp (NUL included when asked),
 * or phnum headers of type PT_NULL when interp is NULL. */
static void write_elf(const char *path, int cls, const char *interp, size_t interp_len,
		      unsigned int phnum)
{
	unsigned char buf[8192] = { 0 };
	size_t ehsz = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsz = cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	size_t str = ehsz + phsz * (phnum ? phnum : 1);
	int fd;

	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = (unsigned char)cls;
	buf[EI_DATA] = ELFDATA2LSB;
	buf[EI_VERSION] = EV_CURRENT;
	if (cls == ELFCLASS64) {
		Elf64_Ehdr *e = (Elf64_Ehdr *)buf;
		Elf64_Phdr *p = (Elf64_Phdr *)(buf + ehsz);

		e->e_type = ET_EXEC;
		e->e_phoff = ehsz;
		e->e_phentsize = (uint16_t)phsz;
		e->e_phnum = (uint16_t)phnum;
		if (interp)
			*p = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = str, .p_filesz = interp_len };
	} else {
		Elf32_Ehdr *e = (Elf32_Ehdr *)buf;
		Elf32_Phdr *p = (Elf32_Phdr *)(buf + ehsz);

		e->e_type = ET_DYN;
		e->e_phoff = (uint32_t)ehsz;
		e->e_phentsize = (uint16_t)phsz;
		e->e_phnum = (uint16_t)phnum;
		if (interp)
			*p = (Elf32_Phdr){ .p_type = PT_INTERP, .p_offset = (uint32_t)str,
					   .p_filesz = (uint32_t)interp_len };
	}
	if (interp)
		memcpy(buf + str, interp, interp_len);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
}

static int read_at(const char *path, struct sbx_elf_info *info)
{
	int fd = open(path, O_RDONLY), r;

	assert_true(fd >= 0);
	r = sbx_elf_read(fd, info);
	close(fd);
	return r;
}

static void test_elf_read_finds_the_interpreter_of_both_classes(void **state)
{
	static struct sbx_elf_info info;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/p64", tmpdir);
	write_elf(path, ELFCLASS64, "/opt/x/ld64.so", sizeof("/opt/x/ld64.so"), 1);
	assert_int_equal(read_at(path, &info), 0);
	assert_int_equal(info.type, ET_EXEC);
	assert_true(info.has_interp);
	assert_string_equal(info.interp, "/opt/x/ld64.so");

	snprintf(path, sizeof(path), "%s/p32", tmpdir);
	write_elf(path, ELFCLASS32, "/lib/ld-linux.so.2", sizeof("/lib/ld-linux.so.2"), 1);
	assert_int_equal(read_at(path, &info), 0);
	assert_int_equal(info.type, ET_DYN);
	assert_true(info.has_interp);
	assert_string_equal(info.interp, "/lib/ld-linux.so.2");
}

static void test_elf_read_without_interpreter(void **state)
{
	static struct sbx_elf_info info;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/static", tmpdir);
	write_elf(path, ELFCLASS64, NULL, 0, 3);
	assert_int_equal(read_at(path, &info), 0);
	assert_false(info.has_interp);
}

static void test_elf_read_refuses_what_is_not_a_program(void **state)
{
	static struct sbx_elf_info info;
	char path[PATH_MAX], longname[5000];
	int fd;

	snprintf(path, sizeof(path), "%s/script", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	assert_int_equal(read_at(path, &info), -ENOEXEC);

	snprintf(path, sizeof(path), "%s/short", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	assert_int_equal(write(fd, ELFMAG "\2\1", 6), 6);
	close(fd);
	assert_int_equal(read_at(path, &info), -ENOEXEC);

	snprintf(path, sizeof(path), "%s/nonul", tmpdir);
	write_elf(path, ELFCLASS64, "/lib/ld", 7, 1);
	assert_int_equal(read_at(path, &info), -ENOEXEC);

	snprintf(path, sizeof(path), "%s/manyph", tmpdir);
	write_elf(path, ELFCLASS64, NULL, 0, 1000);
	assert_int_equal(read_at(path, &info), -ENOEXEC);

	memset(longname, 'a', sizeof(longname));
	longname[0] = '/';
	longname[sizeof(longname) - 1] = 0;
	snprintf(path, sizeof(path), "%s/longinterp", tmpdir);
	{
		/* 5000 bytes do not fit write_elf's 8 KiB with the header: write by hand */
		Elf64_Ehdr e = { .e_type = ET_EXEC, .e_phoff = sizeof(Elf64_Ehdr),
				 .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
		Elf64_Phdr p = { .p_type = PT_INTERP, .p_offset = 200, .p_filesz = sizeof(longname) };

		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS64;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
		assert_int_equal(pwrite(fd, &e, sizeof(e), 0), sizeof(e));
		assert_int_equal(pwrite(fd, &p, sizeof(p), sizeof(e)), sizeof(p));
		assert_int_equal(pwrite(fd, longname, sizeof(longname), 200), sizeof(longname));
		close(fd);
	}
	assert_int_equal(read_at(path, &info), -ENAMETOOLONG);
}

static void test_kernel_dev_encoding(void **state)
{
	/* MKDEV: 12 bits of major above 20 bits of minor */
	assert_int_equal(sbx_kernel_dev(254, 0), 254u << 20);
	assert_int_equal(sbx_kernel_dev(8, 17), (8u << 20) | 17);
	assert_int_equal(sbx_kernel_dev(0, 300), 300);
}

/* The device mountinfo gives the mount of path (s_dev), found by mount id. */
struct mnt_query {
	int id;
	uint64_t dev;
};

static int find_mount(const struct sbx_mount *m, void *arg)
{
	struct mnt_query *q = arg;

	if (m->id != q->id)
		return 0;
	q->dev = sbx_kernel_dev(m->major, m->minor);
	return 1;
}

static const struct sbx_loader_file *find_ino(const struct sbx_loader_set *s, const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ino == st.st_ino)
			return &s->v[i];
	return NULL;
}

static void test_find_names_the_interpreter_of_sh_by_mount_and_inode(void **state)
{
	static struct sbx_elf_info info;
	static struct sbx_loader_set set;
	const struct sbx_loader_file *l;
	struct mnt_query q = { 0 };
	char why[256] = "", real[PATH_MAX];
	struct statx stx;

	if (read_at("/bin/sh", &info) < 0 || !info.has_interp)
		SKIP_BECAUSE("/bin/sh is static or unreadable: no interpreter to find");
	assert_int_equal(sbx_loaders_find(NULL, 0, &set, why, sizeof(why)), 0);
	l = find_ino(&set, info.interp);
	assert_non_null(l);
	/* found at its well-known path and as sh's interpreter: one entry */
	assert_int_equal(l->flags, SBX_LDRF_PATH | SBX_LDRF_INTERP);
	assert_non_null(realpath(info.interp, real));
	assert_string_equal(l->path, real);
	assert_int_equal(statx(AT_FDCWD, info.interp, 0, STATX_MNT_ID, &stx), 0);
	q.id = (int)stx.stx_mnt_id;
	assert_int_equal(sbx_mountinfo_each(find_mount, &q), 1);
	assert_int_equal(l->dev, q.dev);
	for (size_t i = 0; i < set.n; i++)
		for (size_t j = i + 1; j < set.n; j++)
			assert_false(set.v[i].dev == set.v[j].dev && set.v[i].ino == set.v[j].ino);
}

static void test_find_adds_the_interpreter_a_listed_program_names(void **state)
{
	static struct sbx_loader_set set;
	char prog[PATH_MAX], ld[PATH_MAX], link[PATH_MAX], prog2[PATH_MAX], why[256] = "";
	const char *progs[3];
	const struct sbx_loader_file *l;
	int fd;

	snprintf(ld, sizeof(ld), "%s/my-loader", tmpdir);
	fd = open(ld, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	assert_true(fd >= 0);
	close(fd);
	snprintf(link, sizeof(link), "%s/ld-link", tmpdir);
	assert_int_equal(symlink(ld, link), 0);
	snprintf(prog, sizeof(prog), "%s/app", tmpdir);
	write_elf(prog, ELFCLASS64, ld, strlen(ld) + 1, 1);
	snprintf(prog2, sizeof(prog2), "%s/app2", tmpdir);
	write_elf(prog2, ELFCLASS64, link, strlen(link) + 1, 1);
	progs[0] = prog;
	progs[1] = prog2;
	progs[2] = "/nonexistent/program";
	assert_int_equal(sbx_loaders_find(progs, 3, &set, why, sizeof(why)), 0);
	l = find_ino(&set, ld);
	assert_non_null(l);
	assert_int_equal(l->flags, SBX_LDRF_INTERP);
	assert_string_equal(l->path, ld);
	/* the symlink leads to the same file: not a second entry */
	for (size_t i = 0, n = 0; i < set.n; i++) {
		n += !strcmp(set.v[i].path, ld);
		assert_true(n <= 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_read_finds_the_interpreter_of_both_classes),
		cmocka_unit_test(test_elf_read_without_interpreter),
		cmocka_unit_test(test_elf_read_refuses_what_is_not_a_program),
		cmocka_unit_test(test_kernel_dev_encoding),
		cmocka_unit_test(test_find_names_the_interpreter_of_sh_by_mount_and_inode),
		cmocka_unit_test(test_find_adds_the_interpreter_a_listed_program_names),
	};

	return cmocka_run_group_tests(tests, tmp_setup, tmp_teardown);
}
