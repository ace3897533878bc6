/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sbx-oci's config.json reader (user/oci/spec*.c): the
 * config.json that Podman 4.3 and containerd 1.6 wrote on this kind of
 * host (tests/fixtures/oci/), every class of error with the exact field
 * path in the sentence, and the features document against the parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "testutil.h"
#include "oci/oci.h"

/* A bundle directory with an empty rootfs/ (and a file "afile"). */
struct bundle {
	char dir[64];
	char rootfs[96];
	char why[1024];
};

static int setup(void **state)
{
	struct bundle *b = calloc(1, sizeof(*b));
	int fd;

	assert_non_null(b);
	strcpy(b->dir, "/tmp/sbx-test-oci-spec-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->rootfs, sizeof(b->rootfs), "%s/rootfs", b->dir);
	assert_int_equal(mkdir(b->rootfs, 0755), 0);
	snprintf(b->why, sizeof(b->why), "%s/afile", b->dir);
	fd = open(b->why, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	b->why[0] = 0;
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bundle *b = *state;
	char p[160];

	snprintf(p, sizeof(p), "%s/afile", b->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/config.json", b->dir);
	unlink(p);
	rmdir(b->rootfs);
	rmdir(b->dir);
	free(b);
	return 0;
}

static char *read_fixture(const char *rel)
{
	char path[512], *buf;
	FILE *f;
	long n;

	f = fopen(test_srcpath(path, sizeof(path), rel), "re");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* A minimal valid document with MEMBERS (",\"k\": v, ...") added. */
static char *doc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *doc(const char *fmt, ...)
{
	char *members, *out;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&members, fmt, ap) >= 0);
	va_end(ap);
	assert_true(asprintf(&out, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}%s}",
			     members) >= 0);
	free(members);
	return out;
}

static const char *proc_min = "\"process\": {\"cwd\": \"/\", \"args\": [\"/bin/true\"], "
			      "\"user\": {\"uid\": 0, \"gid\": 0}";

static int parse(struct bundle *b, const char *json, struct oci_spec *s)
{
	memset(s, 0, sizeof(*s));
	b->why[0] = 0;
	return oci_spec_parse(json, strlen(json), b->dir, s, b->why, sizeof(b->why));
}

/* Parses doc(fmt) and expects -EINVAL with exactly this sentence. */
#define EXPECT_ERROR(b, want, ...)							\
	do {										\
		char *_j = doc(__VA_ARGS__);						\
		struct oci_spec _s;							\
		int _r = parse(b, _j, &_s);						\
		if (_r != -EINVAL || strcmp((b)->why, want))				\
			fail_msg("%s\n  got %d \"%s\"\n  want \"%s\"", _j, _r, (b)->why, want); \
		free(_j);								\
	} while (0)

/* ... or an error that starts with the prefix. */
#define EXPECT_ERROR_PREFIX(b, want, ...)						\
	do {										\
		char *_j = doc(__VA_ARGS__);						\
		struct oci_spec _s;							\
		int _r = parse(b, _j, &_s);						\
		if (_r != -EINVAL || strncmp((b)->why, want, strlen(want)))		\
			fail_msg("%s\n  got %d \"%s\"\n  want \"%s...\"", _j, _r, (b)->why, want); \
		free(_j);								\
	} while (0)

#define EXPECT_OK(b, s, ...)								\
	do {										\
		char *_j = doc(__VA_ARGS__);						\
		int _r = parse(b, _j, s);						\
		if (_r != 0)								\
			fail_msg("%s\n  got %d \"%s\"", _j, _r, (b)->why);		\
		free(_j);								\
	} while (0)

static const struct oci_mount *mount_at(const struct oci_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].destination, dest))
			return &s->mounts[i];
	fail_msg("no mount at %s", dest);
	return NULL;
}

#define CAP(n) (1ULL << (n))

static void test_podman_fixture_parses(void **state)
{
	struct bundle *b = *state;
	char *json = read_fixture("tests/fixtures/oci/podman.json");
	const struct oci_mount *m;
	struct oci_spec s;
	uint64_t caps = CAP(0) | CAP(1) | CAP(3) | CAP(4) | CAP(5) | CAP(10) | CAP(31) | CAP(6) |
			CAP(8) | CAP(7) | CAP(18);

	if (parse(b, json, &s) != 0)
		fail_msg("%s", b->why);
	free(json);
	assert_string_equal(s.oci_version, "1.0.2-dev");
	assert_string_equal(s.root_path, b->rootfs);
	assert_false(s.root_readonly);
	assert_string_equal(s.hostname, "0123456789ab");
	assert_null(s.domainname);
	assert_int_equal(s.n_mounts, 10);
	m = mount_at(&s, "/proc");
	assert_string_equal(m->type, "proc");
	assert_int_equal(m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
	assert_null(m->data);
	m = mount_at(&s, "/dev");
	assert_int_equal(m->flags, MS_NOSUID | MS_NOEXEC | MS_STRICTATIME);
	assert_string_equal(m->data, "mode=755,size=65536k");
	m = mount_at(&s, "/dev/pts");
	assert_string_equal(m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	m = mount_at(&s, "/dev/shm");
	assert_true(m->bind);
	assert_false(m->rbind);
	assert_int_equal(m->flags, MS_BIND | MS_NOSUID | MS_NOEXEC | MS_NODEV);
	assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
	assert_string_equal(m->source, "/var/lib/containers/storage/overlay-containers/"
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/userdata/shm");
	m = mount_at(&s, "/sys/fs/cgroup");
	assert_int_equal(m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
	assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
	assert_false(m->bind);

	assert_true(s.has_process);
	assert_false(s.process.terminal);
	assert_string_equal(s.process.args[0], "/bin/sh");
	assert_string_equal(s.process.args[2], "echo hi");
	assert_null(s.process.args[3]);
	assert_string_equal(s.process.env[2], "HOSTNAME=0123456789ab");
	assert_string_equal(s.process.cwd, "/");
	assert_int_equal(s.process.user.uid, 0);
	assert_true(s.process.user.has_umask);
	assert_int_equal(s.process.user.umask, 022);
	assert_true(s.process.has_caps);
	assert_int_equal(s.process.caps.bounding, caps);
	assert_int_equal(s.process.caps.effective, caps);
	assert_int_equal(s.process.caps.permitted, caps);
	assert_int_equal(s.process.caps.inheritable, 0);
	assert_int_equal(s.process.caps.ambient, 0);
	assert_int_equal(s.process.n_rlimits, 2);
	assert_int_equal(s.process.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(s.process.rlimits[1].resource, RLIMIT_NPROC);
	assert_int_equal(s.process.rlimits[1].soft, 1024);
	assert_false(s.process.no_new_privileges);

	assert_string_equal(oci_annotation(&s, "org.sbx.profile"), "default");
	assert_string_equal(oci_annotation(&s, "io.container.manager"), "libpod");
	assert_null(oci_annotation(&s, "org.sbx.policy"));
	assert_int_equal(s.n_namespaces, 5);
	assert_non_null(oci_namespace_of(&s, CLONE_NEWNET));
	assert_null(oci_namespace_of(&s, CLONE_NEWNET)->path);
	assert_non_null(oci_namespace_of(&s, CLONE_NEWNS));
	assert_null(oci_namespace_of(&s, CLONE_NEWUSER));
	assert_null(oci_namespace_of(&s, CLONE_NEWCGROUP));
	assert_int_equal(s.n_sysctl, 1);
	assert_string_equal(s.sysctl[0].key, "net.ipv4.ping_group_range");
	assert_string_equal(s.sysctl[0].value, "0 0");
	assert_true(s.resources.has_memory_limit);
	assert_int_equal(s.resources.memory_limit, 64 << 20);
	assert_int_equal(s.resources.memory_swap, 128 << 20);
	assert_true(s.resources.has_pids_limit);
	assert_int_equal(s.resources.pids_limit, 50);
	assert_false(s.resources.has_cpu_shares);
	assert_int_equal(s.resources.n_devices, 1);
	assert_false(s.resources.devices[0].allow);
	assert_int_equal(s.resources.devices[0].type, 'a');
	assert_int_equal(s.resources.devices[0].major, -1);
	assert_string_equal(s.resources.devices[0].access, "rwm");
	assert_string_equal(s.cgroups_path, "/libpod_parent/libpod-0123456789abcdef0123456789abcdef"
			    "0123456789abcdef0123456789abcdef");
	assert_string_equal(s.masked_paths[0], "/proc/acpi");
	assert_string_equal(s.masked_paths[10], "/sys/dev/block");
	assert_null(s.masked_paths[11]);
	assert_string_equal(s.readonly_paths[5], "/proc/sysrq-trigger");
	assert_null(s.readonly_paths[6]);

	assert_non_null(s.seccomp);
	assert_int_equal(s.seccomp->default_action, SCMP_ACT_ERRNO(ENOSYS));
	assert_int_equal(s.seccomp->n_arches, 3);
	assert_int_equal(s.seccomp->arches[0], SCMP_ARCH_X86_64);
	assert_int_equal(s.seccomp->arches[1], SCMP_ARCH_X86);
	assert_int_equal(s.seccomp->arches[2], SCMP_ARCH_X32);
	assert_int_equal(s.seccomp->flags, 0);
	assert_int_equal(s.seccomp->n_rules, 22);
	assert_int_equal(s.seccomp->rules[0].action, SCMP_ACT_ERRNO(EPERM));
	assert_string_equal(s.seccomp->rules[0].names[0], "bdflush");
	assert_int_equal(s.seccomp->rules[1].action, SCMP_ACT_ALLOW);
	assert_int_equal(s.seccomp->rules[2].n_args, 1);
	assert_int_equal(s.seccomp->rules[2].args[0].op, SCMP_CMP_EQ);
	assert_int_equal(s.seccomp->rules[6].args[0].value, 4294967295u);
	assert_null(s.warnings);
	oci_spec_free(&s);
}

static void test_containerd_fixture_parses(void **state)
{
	struct bundle *b = *state;
	char *json = read_fixture("tests/fixtures/oci/containerd.json");
	const struct oci_seccomp_rule *masked = NULL;
	struct oci_spec s;

	if (parse(b, json, &s) != 0)
		fail_msg("%s", b->why);
	free(json);
	assert_string_equal(s.root_path, b->rootfs);
	assert_null(s.hostname);
	assert_int_equal(s.n_mounts, 7);
	assert_string_equal(mount_at(&s, "/dev/shm")->data, "mode=1777,size=65536k");
	assert_string_equal(mount_at(&s, "/run")->type, "tmpfs");
	assert_true(s.process.no_new_privileges);
	assert_string_equal(s.process.env[0], "FOO=bar");
	assert_false(s.process.user.has_umask);
	assert_true(s.process.caps.bounding & CAP(13));	/* CAP_NET_RAW */
	assert_true(s.process.caps.bounding & CAP(29));	/* CAP_AUDIT_WRITE */
	assert_false(s.process.caps.bounding & CAP(21));	/* CAP_SYS_ADMIN */
	assert_int_equal(__builtin_popcountll(s.process.caps.permitted), 14);
	assert_int_equal(s.process.n_rlimits, 1);
	assert_int_equal(s.n_annotations, 0);
	assert_string_equal(s.cgroups_path, "/default/fixture");
	assert_int_equal(s.resources.n_devices, 10);
	assert_true(s.resources.devices[8].allow);
	assert_int_equal(s.resources.devices[8].type, 'c');
	assert_int_equal(s.resources.devices[8].major, 136);
	assert_int_equal(s.resources.devices[8].minor, -1);
	assert_true(s.resources.has_cpu_shares);
	assert_int_equal(s.resources.cpu_shares, 1024);
	assert_false(s.resources.has_memory_swap);
	assert_int_equal(s.n_namespaces, 5);
	assert_non_null(s.seccomp);
	assert_int_equal(s.seccomp->default_action, SCMP_ACT_ERRNO(EPERM));
	for (size_t i = 0; i < s.seccomp->n_rules; i++)
		for (size_t j = 0; j < s.seccomp->rules[i].n_args; j++)
			if (s.seccomp->rules[i].args[j].op == SCMP_CMP_MASKED_EQ)
				masked = &s.seccomp->rules[i];
	assert_non_null(masked);
	assert_int_equal(masked->args[0].value, 2114060288);
	assert_int_equal(s.seccomp->rules[s.seccomp->n_rules - 1].action, SCMP_ACT_ERRNO(ENOSYS));
	oci_spec_free(&s);
}

static void test_load_reads_bundle_config(void **state)
{
	struct bundle *b = *state;
	char path[160], *json = doc(",%s}", proc_min);
	struct oci_spec s;
	FILE *f;

	assert_int_equal(oci_spec_load(b->dir, &s, b->why, sizeof(b->why)), -ENOENT);
	snprintf(path, sizeof(path), "%s/config.json", b->dir);
	assert_true(strstr(b->why, path) == b->why);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	free(json);
	if (oci_spec_load(b->dir, &s, b->why, sizeof(b->why)))
		fail_msg("%s", b->why);
	assert_string_equal(s.process.args[0], "/bin/true");
	assert_false(s.process.has_caps);
	oci_spec_free(&s);
}

static void test_root_path_made_absolute(void **state)
{
	struct bundle *b = *state;
	char want[256], cwd[512], *json;
	struct oci_spec s;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	EXPECT_OK(b, &s, "%s", "");
	assert_string_equal(s.root_path, b->rootfs);
	assert_false(s.has_process);
	oci_spec_free(&s);
	/* a relative bundle is taken against the working directory */
	assert_int_equal(chdir("/tmp"), 0);
	json = doc("%s", "");
	assert_int_equal(oci_spec_parse(json, strlen(json), b->dir + 5, &s, b->why, sizeof(b->why)), 0);
	snprintf(want, sizeof(want), "/tmp/%s/rootfs", b->dir + 5);
	assert_string_equal(s.root_path, want);
	oci_spec_free(&s);
	free(json);
	assert_int_equal(chdir(cwd), 0);
	/* an absolute one is kept */
	assert_true(asprintf(&json, "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"%s\", "
			     "\"readonly\": true}}", b->rootfs) > 0);
	assert_int_equal(oci_spec_parse(json, strlen(json), "/nonexistent", &s, b->why, sizeof(b->why)), 0);
	assert_string_equal(s.root_path, b->rootfs);
	assert_true(s.root_readonly);
	oci_spec_free(&s);
	free(json);
}

static void test_root_errors_name_root_path(void **state)
{
	struct bundle *b = *state;
	char want[512], *json;
	struct oci_spec s;

	assert_true(asprintf(&json, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"nope\"}}") > 0);
	assert_int_equal(parse(b, json, &s), -EINVAL);
	snprintf(want, sizeof(want), "config.json: root.path: %s/nope: No such file or directory", b->dir);
	assert_string_equal(b->why, want);
	free(json);
	assert_true(asprintf(&json, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"afile\"}}") > 0);
	assert_int_equal(parse(b, json, &s), -EINVAL);
	snprintf(want, sizeof(want), "config.json: root.path: %s/afile is not a directory", b->dir);
	assert_string_equal(b->why, want);
	free(json);
	json = strdup("{\"ociVersion\": \"1.0.2\"}");
	assert_int_equal(parse(b, json, &s), -EINVAL);
	assert_string_equal(b->why, "config.json: root: missing; the runtime-spec requires it");
	free(json);
	json = strdup("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": 7}}");
	assert_int_equal(parse(b, json, &s), -EINVAL);
	assert_string_equal(b->why, "config.json: root.path: must be a string, not an integer");
	free(json);
}

static void test_version_checked(void **state)
{
	struct bundle *b = *state;
	const char *good[] = { "1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1+dev" };
	struct oci_spec s;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *json;

		assert_true(asprintf(&json, "{\"ociVersion\": \"%s\", \"root\": {\"path\": \"rootfs\"}}",
				     good[i]) > 0);
		if (parse(b, json, &s))
			fail_msg("%s: %s", good[i], b->why);
		oci_spec_free(&s);
		free(json);
	}
	assert_int_equal(parse(b, "{\"ociVersion\": \"2.0.0\", \"root\": {\"path\": \"rootfs\"}}", &s),
			 -EINVAL);
	assert_string_equal(b->why, "config.json: ociVersion: version 2.0.0 is not supported: sbx-oci "
			    "reads 1.0.0 to 1.2.x");
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.3.0\", \"root\": {\"path\": \"rootfs\"}}", &s),
			 -EINVAL);
	assert_int_equal(parse(b, "{\"ociVersion\": \"one\", \"root\": {\"path\": \"rootfs\"}}", &s),
			 -EINVAL);
	assert_string_equal(b->why, "config.json: ociVersion: \"one\" is not a version (MAJOR.MINOR.PATCH)");
	assert_int_equal(parse(b, "{\"root\": {\"path\": \"rootfs\"}}", &s), -EINVAL);
	assert_string_equal(b->why, "config.json: ociVersion: missing; the runtime-spec requires it");
}

static void test_malformed_json_has_line_and_column(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	assert_int_equal(parse(b, "{\n  \"ociVersion\": \"1.0.2\",\n  \"root\": {\"path\" \"rootfs\"}\n}", &s),
			 -EINVAL);
	assert_true(strncmp(b->why, "config.json:3:19: malformed JSON: ", 34) == 0);
	assert_int_equal(parse(b, "{\n  \"ociVersion\": \"1.0.2\",\n", &s), -EINVAL);
	assert_string_equal(b->why, "config.json:3:1: malformed JSON: the document ends too early");
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}\n} x", &s),
			 -EINVAL);
	assert_string_equal(b->why, "config.json:2:1: malformed JSON: unexpected character");
	assert_int_equal(parse(b, "[1, 2]", &s), -EINVAL);
	assert_string_equal(b->why, "config.json: must hold a JSON object, not an array");
	assert_int_equal(parse(b, "", &s), -EINVAL);
	assert_string_equal(b->why, "config.json:1:1: malformed JSON: the document ends too early");
	/* strict: no comments, no trailing comma */
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\", /* c */ }", &s), -EINVAL);
	assert_true(strncmp(b->why, "config.json:1:25: malformed JSON: ", 34) == 0);
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\",}", &s), -EINVAL);
	assert_true(strncmp(b->why, "config.json:1:24: malformed JSON: ", 34) == 0);
	/* json-c would clamp these, and keep the last of two keys */
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\",\n \"x\": [1, 18446744073709551616]}", &s),
			 -EINVAL);
	assert_string_equal(b->why, "config.json:2:11: a number beyond 64 bits");
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},\n\"annotations\": "
			       "{\"org.sbx.profile\\u0000x\": \"none\"}}", &s), -EINVAL);
	assert_string_equal(b->why, "config.json:2:17: a key holds a NUL byte");
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\", \"x\": -9223372036854775809}", &s), -EINVAL);
	assert_string_equal(b->why, "config.json:1:30: a number beyond 64 bits");
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, "
			       "\"process\": {\"user\": {\"uid\": 0, \"gid\": 0, \"uid\": 1}}}", &s), -EINVAL);
	assert_string_equal(b->why, "config.json: process.user: a key is given twice; sbx-oci refuses it "
			    "(JSON parsers disagree on which one counts)");
	assert_int_equal(parse(b, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, "
			       "\"annotations\": {\"a\": \"1\", \"a\": \"2\"}}", &s), -EINVAL);
	assert_string_equal(b->why, "config.json: annotations: a key is given twice; sbx-oci refuses it "
			    "(JSON parsers disagree on which one counts)");
}

static void test_unknown_fields_refused_with_path(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_ERROR(b, "config.json: foo: unknown field; sbx-oci refuses what it does not implement",
		     ", \"foo\": 1");
	EXPECT_ERROR(b, "config.json: process.user.name: unknown field; sbx-oci refuses what it does "
		     "not implement", ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\"], \"user\": "
		     "{\"uid\": 0, \"gid\": 0, \"name\": \"x\"}}");
	EXPECT_ERROR(b, "config.json: linux.resources.memory.bogus: unknown field; sbx-oci refuses what "
		     "it does not implement", ", \"linux\": {\"resources\": {\"memory\": {\"bogus\": 0}}}");
	EXPECT_ERROR(b, "config.json: mounts[1][\"a b\"]: unknown field; sbx-oci refuses what it does "
		     "not implement", ", \"mounts\": [{\"destination\": \"/x\"}, {\"destination\": \"/y\", "
		     "\"a b\": 1}]");
	EXPECT_ERROR(b, "config.json: linux.seccomp.syscalls[0].nam: unknown field; sbx-oci refuses what "
		     "it does not implement", ", \"linux\": {\"seccomp\": {\"defaultAction\": "
		     "\"SCMP_ACT_ALLOW\", \"syscalls\": [{\"nam\": [\"x\"]}]}}");
	/* annotation values and keys are free-form */
	EXPECT_OK(b, &s, ", \"annotations\": {\"anything.at/all\": \"{\\\"x\\\": 1}\"}");
	assert_string_equal(oci_annotation(&s, "anything.at/all"), "{\"x\": 1}");
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: annotations[\"k\"]: must be a string, not an integer",
		     ", \"annotations\": {\"k\": 1}");
}

static void test_unsupported_settings_refused(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

#define NOT_SUPPORTED ": this setting is not supported by sbx-oci (it refuses what it cannot honour)"
	EXPECT_ERROR(b, "config.json: linux.intelRdt" NOT_SUPPORTED, ", \"linux\": {\"intelRdt\": "
		     "{\"closID\": \"x\"}}");
	EXPECT_ERROR(b, "config.json: windows" NOT_SUPPORTED, ", \"windows\": {\"layerFolders\": [\"x\"]}");
	EXPECT_ERROR(b, "config.json: solaris" NOT_SUPPORTED, ", \"solaris\": {\"milestone\": \"x\"}");
	EXPECT_ERROR(b, "config.json: vm" NOT_SUPPORTED, ", \"vm\": {\"kernel\": {\"path\": \"/k\"}}");
	EXPECT_ERROR(b, "config.json: linux.resources.network" NOT_SUPPORTED,
		     ", \"linux\": {\"resources\": {\"network\": {\"classID\": 1}}}");
	EXPECT_ERROR(b, "config.json: linux.resources.rdma" NOT_SUPPORTED,
		     ", \"linux\": {\"resources\": {\"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3}}}}");
	EXPECT_ERROR(b, "config.json: linux.resources.unified" NOT_SUPPORTED,
		     ", \"linux\": {\"resources\": {\"unified\": {\"io.weight\": \"10\"}}}");
	EXPECT_ERROR(b, "config.json: linux.resources.memory.swappiness" NOT_SUPPORTED,
		     ", \"linux\": {\"resources\": {\"memory\": {\"swappiness\": 0}}}");
	EXPECT_ERROR(b, "config.json: linux.resources.cpu.realtimeRuntime" NOT_SUPPORTED,
		     ", \"linux\": {\"resources\": {\"cpu\": {\"realtimeRuntime\": 5}}}");
	EXPECT_ERROR(b, "config.json: linux.resources.blockIO.weightDevice" NOT_SUPPORTED,
		     ", \"linux\": {\"resources\": {\"blockIO\": {\"weightDevice\": [{\"major\": 8, "
		     "\"minor\": 0, \"weight\": 10}]}}}");
	EXPECT_ERROR(b, "config.json: process.ioPriority" NOT_SUPPORTED,
		     ", %s, \"ioPriority\": {\"class\": \"IOPRIO_CLASS_RT\"}}", proc_min);
	EXPECT_ERROR(b, "config.json: process.scheduler" NOT_SUPPORTED,
		     ", %s, \"scheduler\": {\"policy\": \"SCHED_FIFO\"}}", proc_min);
	EXPECT_ERROR(b, "config.json: linux.seccomp.listenerPath" NOT_SUPPORTED,
		     ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "
		     "\"listenerPath\": \"/run/x.sock\"}}");
	EXPECT_ERROR(b, "config.json: linux.timeOffsets" NOT_SUPPORTED,
		     ", \"linux\": {\"timeOffsets\": {\"monotonic\": {\"secs\": 5}}}");
	EXPECT_ERROR(b, "config.json: linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY (a user-space "
		     "listener) is not supported by sbx-oci (it refuses what it cannot honour)",
		     ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
		     "[{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}}");
	EXPECT_ERROR(b, "config.json: process.selinuxLabel: SELinux is not supported by sbx-oci (it "
		     "refuses what it cannot honour)", ", %s, \"selinuxLabel\": \"system_u:x\"}", proc_min);
	EXPECT_ERROR(b, "config.json: linux.mountLabel: SELinux is not supported by sbx-oci (it refuses "
		     "what it cannot honour)", ", \"linux\": {\"mountLabel\": \"system_u:x\"}");
	EXPECT_ERROR(b, "config.json: linux.personality.domain: a personality other than plain LINUX is "
		     "not supported by sbx-oci (it refuses what it cannot honour)",
		     ", \"linux\": {\"personality\": {\"domain\": \"LINUX32\"}}");
	EXPECT_ERROR(b, "config.json: mounts[0].options[1]: the mount option \"tmpcopyup\" is not "
		     "supported by sbx-oci (it refuses what it cannot honour)",
		     ", \"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": "
		     "[\"nosuid\", \"tmpcopyup\"]}]");
	EXPECT_ERROR(b, "config.json: mounts[0].options[0]: the mount option \"idmap\" is not "
		     "supported by sbx-oci (it refuses what it cannot honour)",
		     ", \"mounts\": [{\"destination\": \"/x\", \"options\": [\"idmap\"]}]");
	EXPECT_ERROR(b, "config.json: mounts[0].options[0]: the mount option \"rro\" is not "
		     "supported by sbx-oci (it refuses what it cannot honour)",
		     ", \"mounts\": [{\"destination\": \"/x\", \"options\": [\"rro\", \"rbind\"]}]");
	EXPECT_ERROR(b, "config.json: mounts[0].uidMappings" NOT_SUPPORTED,
		     ", \"mounts\": [{\"destination\": \"/x\", \"uidMappings\": [{\"containerID\": 0, "
		     "\"hostID\": 1, \"size\": 1}]}]");
	/* what callers send empty is not a setting */
	EXPECT_OK(b, &s, ", \"linux\": {\"intelRdt\": null, \"personality\": {\"domain\": \"LINUX\"}, "
		  "\"mountLabel\": \"\", \"resources\": {\"network\": {}, "
		  "\"unified\": {}, \"cpu\": {\"realtimeRuntime\": 0}}}, %s, \"selinuxLabel\": \"\"}",
		  proc_min);
	assert_null(s.warnings);
	oci_spec_free(&s);
#undef NOT_SUPPORTED
}

static void test_apparmor_profile_warns(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_OK(b, &s, ", %s, \"apparmorProfile\": \"containers-default-0.50\"}", proc_min);
	assert_non_null(s.warnings);
	assert_string_equal(s.warnings[0], "process.apparmorProfile: \"containers-default-0.50\" is "
			    "ignored: sbx-oci does not apply AppArmor profiles; sbx's policy (the "
			    "org.sbx.profile annotation) confines the container");
	assert_null(s.warnings[1]);
	assert_string_equal(s.process.apparmor_profile, "containers-default-0.50");
	oci_spec_free(&s);
}

static void test_wrong_types_name_the_field(void **state)
{
	struct bundle *b = *state;

	EXPECT_ERROR(b, "config.json: process.terminal: must be a boolean, not a string",
		     ", %s, \"terminal\": \"yes\"}", proc_min);
	EXPECT_ERROR(b, "config.json: process.user.uid: -1 is out of range (0..4294967295)",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\"], \"user\": {\"uid\": -1, \"gid\": 0}}");
	EXPECT_ERROR(b, "config.json: process.user.gid: 4294967296 is out of range (0..4294967295)",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\"], \"user\": {\"uid\": 1, "
		     "\"gid\": 4294967296}}");
	EXPECT_ERROR(b, "config.json: process.rlimits[0].soft: must be an integer, not a fractional number",
		     ", %s, \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1.5, \"hard\": 2}]}",
		     proc_min);
	EXPECT_ERROR(b, "config.json: process.args[1]: must be a string, not an integer",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\", 2], \"user\": {\"uid\": 0, \"gid\": 0}}");
	EXPECT_ERROR(b, "config.json: process.args[0]: contains a NUL byte",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\\u0000b\"], \"user\": {\"uid\": 0, "
		     "\"gid\": 0}}");
	EXPECT_ERROR(b, "config.json: mounts: must be an array, not an object", ", \"mounts\": {}");
	EXPECT_ERROR(b, "config.json: linux.resources.memory.limit: must be an integer, not a string",
		     ", \"linux\": {\"resources\": {\"memory\": {\"limit\": \"1g\"}}}");
	EXPECT_ERROR(b, "config.json: process.oomScoreAdj: 1001 is out of range (-1000..1000)",
		     ", %s, \"oomScoreAdj\": 1001}", proc_min);
	EXPECT_ERROR(b, "config.json: process.args: is empty; the runtime-spec requires at least one entry",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [], \"user\": {\"uid\": 0, \"gid\": 0}}");
	EXPECT_ERROR(b, "config.json: process.cwd: \"tmp\" is not an absolute path",
		     ", \"process\": {\"cwd\": \"tmp\", \"args\": [\"a\"], \"user\": {\"uid\": 0, \"gid\": 0}}");
	EXPECT_ERROR(b, "config.json: process.env[1]: \"NOEQUALS\" is not NAME=VALUE",
		     ", %s, \"env\": [\"A=1\", \"NOEQUALS\"]}", proc_min);
	EXPECT_ERROR(b, "config.json: process.user.umask: 01000 is not a file mode mask (0..0777)",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\"], \"user\": {\"uid\": 0, \"gid\": 0, "
		     "\"umask\": 512}}");
	EXPECT_ERROR(b, "config.json: process.user: missing; the runtime-spec requires it",
		     ", \"process\": {\"cwd\": \"/\", \"args\": [\"a\"]}");
}

static void test_namespaces_checked(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_ERROR(b, "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"",
		     ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, "
		     "{\"type\": \"foo\"}]}");
	EXPECT_ERROR(b, "config.json: linux.namespaces[1].type: \"pid\" is given twice (namespaces[0] has it)",
		     ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}");
	EXPECT_ERROR(b, "config.json: linux.namespaces[0].path: \"proc/1/ns/net\" is not an absolute path",
		     ", \"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"proc/1/ns/net\"}]}");
	EXPECT_ERROR(b, "config.json: linux.uidMappings: mappings need a user namespace, and namespaces has none",
		     ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}], \"uidMappings\": "
		     "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}");
	EXPECT_ERROR(b, "config.json: linux.gidMappings: a new user namespace needs both uidMappings and "
		     "gidMappings", ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}], \"uidMappings\": "
		     "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}");
	EXPECT_ERROR(b, "config.json: linux.uidMappings[0].size: 0 does not fit (it must be at least 1 and "
		     "the range within 32 bits)", ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}], "
		     "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 0}]}");
	EXPECT_OK(b, &s, ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"network\", "
		  "\"path\": \"/proc/1/ns/net\"}, {\"type\": \"time\"}, {\"type\": \"cgroup\"}], "
		  "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}], "
		  "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}");
	assert_int_equal(s.n_namespaces, 4);
	assert_string_equal(oci_namespace_of(&s, CLONE_NEWNET)->path, "/proc/1/ns/net");
	assert_non_null(oci_namespace_of(&s, CLONE_NEWTIME));
	assert_int_equal(s.n_uid_mappings, 1);
	assert_int_equal(s.uid_mappings[0].host_id, 100000);
	assert_int_equal(s.gid_mappings[0].size, 65536);
	oci_spec_free(&s);
}

static void test_hostname_needs_uts_namespace(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_ERROR(b, "config.json: hostname: needs the container's own uts namespace, and linux.namespaces "
		     "has none (it would rename the host)", ", \"hostname\": \"c1\"");
	EXPECT_ERROR(b, "config.json: domainname: needs the container's own uts namespace, and "
		     "linux.namespaces has none (it would rename the host)",
		     ", \"domainname\": \"example\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}]}");
	EXPECT_OK(b, &s, ", \"hostname\": \"\", \"linux\": {}");
	oci_spec_free(&s);
	EXPECT_OK(b, &s, ", \"hostname\": \"c1\", \"domainname\": \"d\", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"uts\"}]}");
	assert_string_equal(s.hostname, "c1");
	assert_string_equal(s.domainname, "d");
	oci_spec_free(&s);
}

static void test_mounts_checked(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;
	char want[256];

	EXPECT_ERROR(b, "config.json: mounts[1].destination: \"tmp\" is not absolute (runtime-spec 1.0 "
		     "allowed a relative destination; sbx-oci does not)",
		     ", \"mounts\": [{\"destination\": \"/x\"}, {\"destination\": \"tmp\", \"type\": \"tmpfs\"}]");
	EXPECT_ERROR(b, "config.json: mounts[0].options: \"mode=755\" has no effect on a bind mount",
		     ", \"mounts\": [{\"destination\": \"/x\", \"source\": \"/y\", \"type\": \"bind\", "
		     "\"options\": [\"mode=755\"]}]");
	EXPECT_ERROR(b, "config.json: mounts[0].destination: \"/x/../../etc\" has a \"..\" part (a path inside "
		     "the container may not climb)", ", \"mounts\": [{\"destination\": \"/x/../../etc\", "
		     "\"type\": \"tmpfs\"}]");
	EXPECT_ERROR(b, "config.json: linux.maskedPaths[1]: \"/proc/..\" has a \"..\" part (a path inside the "
		     "container may not climb)", ", \"linux\": {\"maskedPaths\": [\"/proc/kcore\", \"/proc/..\"]}");
	EXPECT_ERROR(b, "config.json: linux.readonlyPaths[0]: \"proc/sys\" is not an absolute path",
		     ", \"linux\": {\"readonlyPaths\": [\"proc/sys\"]}");
	EXPECT_ERROR(b, "config.json: linux.devices[0].path: \"/dev/../etc/x\" has a \"..\" part (a path inside "
		     "the container may not climb)", ", \"linux\": {\"devices\": [{\"path\": \"/dev/../etc/x\", "
		     "\"type\": \"p\"}]}");
	EXPECT_OK(b, &s, ", \"mounts\": [{\"destination\": \"/x/..y/z..\", \"type\": \"tmpfs\", "
		  "\"options\": [\"notmpcopyup\"]}]");
	assert_null(s.mounts[0].data);
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: mounts[0].destination: missing; the runtime-spec requires it",
		     ", \"mounts\": [{\"source\": \"/y\"}]");
	EXPECT_OK(b, &s, ", \"mounts\": [{\"destination\": \"/a\", \"type\": \"bind\", \"source\": \"/s\"}, "
		  "{\"destination\": \"/b\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"ro\", \"rw\", \"nosuid\", "
		  "\"suid\", \"noatime\", \"atime\", \"nodiratime\", \"private\", \"rslave\", \"size=1m\"]}, "
		  "{\"destination\": \"/c\", \"source\": \"data/x\", \"options\": [\"rbind\", \"ro\", \"nodev\", "
		  "\"runbindable\", \"sync\", \"dirsync\", \"remount\", \"mand\", \"relatime\", "
		  "\"strictatime\", \"silent\", \"noexec\", \"defaults\"]}], \"linux\": {\"rootfsPropagation\": "
		  "\"rslave\"}");
	assert_true(s.mounts[0].bind);
	assert_int_equal(s.mounts[0].flags, MS_BIND);
	assert_string_equal(s.mounts[1].source, "tmpfs");
	snprintf(want, sizeof(want), "%s/data/x", b->dir);
	assert_string_equal(s.mounts[2].source, want);
	assert_int_equal(s.mounts[1].flags, MS_NODIRATIME);
	assert_int_equal(s.mounts[1].clear_flags, MS_RDONLY | MS_NOSUID | MS_NOATIME);
	assert_int_equal(s.mounts[1].propagation, MS_SLAVE | MS_REC);
	assert_string_equal(s.mounts[1].data, "size=1m");
	assert_true(s.mounts[2].rbind);
	assert_int_equal(s.mounts[2].flags, MS_BIND | MS_REC | MS_RDONLY | MS_NODEV | MS_SYNCHRONOUS |
			 MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK | MS_RELATIME | MS_STRICTATIME | MS_SILENT |
			 MS_NOEXEC);
	assert_int_equal(s.mounts[2].propagation, MS_UNBINDABLE | MS_REC);
	assert_null(s.mounts[2].data);
	assert_int_equal(s.rootfs_propagation, MS_SLAVE | MS_REC);
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: linux.rootfsPropagation: \"up\" is not a propagation (private, slave, "
		     "shared, unbindable, with or without r)", ", \"linux\": {\"rootfsPropagation\": \"up\"}");
}

static void test_capabilities_and_rlimits(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_ERROR(b, "config.json: process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"",
		     ", %s, \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_FOO\"]}}", proc_min);
	EXPECT_ERROR(b, "config.json: process.capabilities.ambient[0]: unknown capability \"cap_kill\"",
		     ", %s, \"capabilities\": {\"ambient\": [\"cap_kill\"]}}", proc_min);
	EXPECT_OK(b, &s, ", %s, \"capabilities\": {\"bounding\": [\"CAP_CHECKPOINT_RESTORE\", \"CAP_BPF\"], "
		  "\"ambient\": [], \"inheritable\": [\"CAP_CHOWN\"]}}", proc_min);
	assert_true(s.process.has_caps);
	assert_int_equal(s.process.caps.bounding, CAP(40) | CAP(39));
	assert_int_equal(s.process.caps.inheritable, CAP(0));
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"",
		     ", %s, \"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}", proc_min);
	EXPECT_ERROR(b, "config.json: process.rlimits[1].type: RLIMIT_CORE is given twice (rlimits[0] has it)",
		     ", %s, \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 1, \"hard\": 1}, "
		     "{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}]}", proc_min);
	EXPECT_ERROR(b, "config.json: process.rlimits[0].soft: 5 is above the hard limit 4",
		     ", %s, \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 5, \"hard\": 4}]}", proc_min);
	EXPECT_ERROR(b, "config.json: process.rlimits[0].hard: missing; the runtime-spec requires it",
		     ", %s, \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 5}]}", proc_min);
	EXPECT_OK(b, &s, ", %s, \"rlimits\": [{\"type\": \"RLIMIT_STACK\", \"soft\": 18446744073709551615, "
		  "\"hard\": 18446744073709551615}]}", proc_min);
	assert_int_equal(s.process.rlimits[0].resource, RLIMIT_STACK);
	assert_true(s.process.rlimits[0].hard == UINT64_MAX);
	oci_spec_free(&s);
}

/* In a child with its own mount namespace, cap_last_cap says 38: a newer
 * capability (CAP_BPF, 39) is dropped with a warning, an unknown name
 * stays an error. The child reports by exit status: 0 ok, 77 cannot. */
static int newer_caps_child(struct bundle *b, const char *fake)
{
	struct oci_spec s;
	char *json;
	int r;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(fake, "/proc/sys/kernel/cap_last_cap", NULL, MS_BIND, NULL) < 0)
		return 77;
	json = doc(", %s, \"capabilities\": {\"bounding\": [\"CAP_BPF\", \"CAP_KILL\", "
		   "\"CAP_CHECKPOINT_RESTORE\"]}}", proc_min);
	r = parse(b, json, &s);
	free(json);
	if (r != 0)
		return 1;
	if (s.process.caps.bounding != CAP(5) || !s.warnings || !s.warnings[1] || s.warnings[2] ||
	    strcmp(s.warnings[0], "process.capabilities.bounding[0]: CAP_BPF is unknown to this kernel "
		   "(its last is CAP_PERFMON): dropped") ||
	    strcmp(s.warnings[1], "process.capabilities.bounding[2]: CAP_CHECKPOINT_RESTORE is unknown to "
		   "this kernel (its last is CAP_PERFMON): dropped"))
		return 2;
	oci_spec_free(&s);
	json = doc(", %s, \"capabilities\": {\"bounding\": [\"CAP_BPF\", \"CAP_NEWEST\"]}}", proc_min);
	r = parse(b, json, &s);
	free(json);
	if (r != -EINVAL || strcmp(b->why, "config.json: process.capabilities.bounding[1]: unknown "
				   "capability \"CAP_NEWEST\""))
		return 3;
	return 0;
}

static void test_newer_capability_dropped_with_warning(void **state)
{
	struct bundle *b = *state;
	char fake[160];
	int status, fd;
	pid_t pid;

	snprintf(fake, sizeof(fake), "%s/cap_last_cap", b->dir);
	fd = open(fake, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "38\n", 3), 3);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(newer_caps_child(b, fake));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(fake);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		SKIP_BECAUSE("no mount namespace to fake /proc/sys/kernel/cap_last_cap in (needs root)");
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define SECCOMP(...) ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", " __VA_ARGS__ "}}"

static void test_seccomp_checked(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_OK(b, &s, SECCOMP("\"architectures\": [\"SCMP_ARCH_AARCH64\"], "
				 "\"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"], "
				 "\"syscalls\": [{\"names\": [\"no_such_syscall_at_all\", \"getpid\"], "
				 "\"action\": \"SCMP_ACT_ERRNO\"}, {\"names\": [\"kill\"], \"action\": "
				 "\"SCMP_ACT_ERRNO\", \"errnoRet\": 3, \"args\": [{\"index\": 1, \"value\": 9, "
				 "\"valueTwo\": 0, \"op\": \"SCMP_CMP_GE\"}]}, {\"names\": [\"ptrace\"], "
				 "\"action\": \"SCMP_ACT_KILL_PROCESS\", \"comment\": \"no\"}]"));
	assert_int_equal(s.seccomp->default_action, SCMP_ACT_ALLOW);
	assert_int_equal(s.seccomp->arches[0], SCMP_ARCH_AARCH64);
	assert_int_equal(s.seccomp->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	assert_string_equal(s.seccomp->rules[0].names[0], "no_such_syscall_at_all");
	assert_int_equal(s.seccomp->rules[0].action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(s.seccomp->rules[1].action, SCMP_ACT_ERRNO(3));
	assert_int_equal(s.seccomp->rules[1].args[0].index, 1);
	assert_int_equal(s.seccomp->rules[1].args[0].op, SCMP_CMP_GE);
	assert_int_equal(s.seccomp->rules[2].action, SCMP_ACT_KILL_PROCESS);
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE "
		     "take an errno, not SCMP_ACT_ALLOW", SECCOMP("\"defaultErrnoRet\": 1"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\" "
		     "(libseccomp does not know it)", SECCOMP("\"architectures\": [\"SCMP_ARCH_X86\", "
							      "\"SCMP_ARCH_Z80\"]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.architectures[0]: unknown architecture \"x86_64\" "
		     "(libseccomp names it SCMP_ARCH_..., and does not know it)",
		     SECCOMP("\"architectures\": [\"x86_64\"]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_X\"",
		     SECCOMP("\"flags\": [\"SECCOMP_FILTER_FLAG_X\"]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.flags[0]: this seccomp flag is not supported by sbx-oci "
		     "(it refuses what it cannot honour)",
		     SECCOMP("\"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_X\"",
		     SECCOMP("\"syscalls\": [{\"names\": [\"a\"], \"action\": \"SCMP_ACT_LOG\", \"args\": "
			     "[{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_X\"}]}]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0..5)",
		     SECCOMP("\"syscalls\": [{\"names\": [\"a\"], \"action\": \"SCMP_ACT_LOG\", \"args\": "
			     "[{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_NO\"",
		     SECCOMP("\"syscalls\": [{\"names\": [\"a\"], \"action\": \"SCMP_ACT_NO\"}]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.syscalls[0].names: is empty",
		     SECCOMP("\"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_LOG\"}]"));
	EXPECT_ERROR(b, "config.json: linux.seccomp.defaultAction: missing; the runtime-spec requires it",
		     ", \"linux\": {\"seccomp\": {}}");
}

static void test_linux_devices_sysctl_cgroups(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_OK(b, &s, ", \"linux\": {\"namespaces\": [{\"type\": \"network\"}, {\"type\": \"ipc\"}], "
		  "\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, "
		  "\"fileMode\": 438, \"uid\": 0, \"gid\": 0}, {\"path\": \"/dev/f\", \"type\": \"p\"}], "
		  "\"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"100\", "
		  "\"fs.mqueue.msg_max\": \"10\"}, \"cgroupsPath\": \"machine.slice:libpod:abc\"}");
	assert_int_equal(s.n_devices, 2);
	assert_int_equal(s.devices[0].type, 'c');
	assert_int_equal(s.devices[0].minor, 229);
	assert_true(s.devices[0].has_mode);
	assert_int_equal(s.devices[0].mode, 0666);
	assert_false(s.devices[1].has_uid);
	assert_int_equal(s.n_sysctl, 3);
	assert_string_equal(s.cgroups_path, "machine.slice:libpod:abc");
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: linux.devices[0].type: \"x\" is not a device type (c, b, u or p)",
		     ", \"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\"}]}");
	EXPECT_ERROR(b, "config.json: linux.devices[0].minor: missing; a device of type b needs major and minor",
		     ", \"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"b\", \"major\": 8}]}");
	EXPECT_ERROR(b, "config.json: linux.devices[0].path: \"dev/x\" is not an absolute path",
		     ", \"linux\": {\"devices\": [{\"path\": \"dev/x\", \"type\": \"b\", \"major\": 8}]}");
	EXPECT_ERROR(b, "config.json: linux.sysctl[\"kernel.panic\"]: is not in a namespace of the container: "
		     "it would change the host", ", \"linux\": {\"sysctl\": {\"kernel.panic\": \"1\"}}");
	EXPECT_ERROR(b, "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: needs the container's own "
		     "network namespace, and namespaces has none",
		     ", \"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}");
	EXPECT_ERROR(b, "config.json: linux.sysctl[\"net/../kernel/panic\"]: is not a sysctl name (an empty part)",
		     ", \"linux\": {\"namespaces\": [{\"type\": \"network\"}], \"sysctl\": "
		     "{\"net/../kernel/panic\": \"1\"}}");
	EXPECT_ERROR(b, "config.json: linux.cgroupsPath: \"/default/../../x\" has a \"..\" part",
		     ", \"linux\": {\"cgroupsPath\": \"/default/../../x\"}");
	EXPECT_ERROR(b, "config.json: linux.cgroupsPath: \"system.slice:..:x\" has a \"..\" part",
		     ", \"linux\": {\"cgroupsPath\": \"system.slice:..:x\"}");
	/* written as one line of sbx-enforce.state, beside families= */
	EXPECT_ERROR(b, "config.json: linux.cgroupsPath: has a control character (0x0a)",
		     ", \"linux\": {\"cgroupsPath\": \"/x\\nfamilies=off\\ny\"}");
	EXPECT_ERROR(b, "config.json: linux.cgroupsPath: has a control character (0x0d)",
		     ", \"linux\": {\"cgroupsPath\": \"/x\\ry\"}");
	EXPECT_ERROR(b, "config.json: linux.resources.devices[0].access: \"rwx\" is not an access (r, w and m)",
		     ", \"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}}");
	EXPECT_ERROR(b, "config.json: linux.resources.devices[0].allow: missing; the runtime-spec requires it",
		     ", \"linux\": {\"resources\": {\"devices\": [{\"access\": \"r\"}]}}");
	EXPECT_ERROR(b, "config.json: linux.resources.blockIO.weight: 5 is out of range (10..1000)",
		     ", \"linux\": {\"resources\": {\"blockIO\": {\"weight\": 5}}}");
}

static void test_resources_and_hooks(void **state)
{
	struct bundle *b = *state;
	struct oci_spec s;

	EXPECT_OK(b, &s, ", \"linux\": {\"resources\": {\"memory\": {\"limit\": -1, \"reservation\": 100, "
		  "\"kernel\": 5, \"disableOOMKiller\": true}, \"cpu\": {\"quota\": 50000, \"period\": 100000, "
		  "\"cpus\": \"0-1\", \"mems\": \"0\"}, \"blockIO\": {\"weight\": 500}, \"pids\": "
		  "{\"limit\": 0}}}, \"hooks\": {\"prestart\": [{\"path\": \"/bin/a\"}], \"poststop\": "
		  "[{\"path\": \"/bin/b\", \"args\": [\"b\", \"1\"], \"env\": [\"X=1\"], \"timeout\": 5}, "
		  "{\"path\": \"/bin/c\"}], \"createRuntime\": []}");
	assert_int_equal(s.resources.memory_limit, -1);
	assert_int_equal(s.resources.memory_reservation, 100);
	assert_true(s.resources.disable_oom_killer);
	assert_int_equal(s.resources.cpu_quota, 50000);
	assert_int_equal(s.resources.cpu_period, 100000);
	assert_string_equal(s.resources.cpuset_cpus, "0-1");
	assert_int_equal(s.resources.blkio_weight, 500);
	assert_true(s.resources.has_pids_limit);
	assert_int_equal(s.n_hooks[OCI_HOOK_PRESTART], 1);
	assert_int_equal(s.n_hooks[OCI_HOOK_CREATE_RUNTIME], 0);
	assert_int_equal(s.n_hooks[OCI_HOOK_POSTSTOP], 2);
	assert_string_equal(s.hooks[OCI_HOOK_POSTSTOP][0].args[1], "1");
	assert_int_equal(s.hooks[OCI_HOOK_POSTSTOP][0].timeout, 5);
	assert_null(s.hooks[OCI_HOOK_POSTSTOP][1].args);
	assert_non_null(s.warnings);
	assert_string_equal(s.warnings[0], "linux.resources.memory.kernel: ignored: kernel memory limits are "
			    "deprecated (Linux 5.4) and not applied, as runc 1.1 does");
	oci_spec_free(&s);
	/* hugepageLimits as Kubernetes sends them (enforce.c decides) */
	EXPECT_OK(b, &s, ", \"linux\": {\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2MB\", "
		  "\"limit\": 0}, {\"pageSize\": \"1GB\", \"limit\": 1073741824}, {\"pageSize\": \"64KB\", "
		  "\"limit\": 0}]}}");
	assert_int_equal(s.resources.n_hugepages, 3);
	assert_int_equal(s.resources.hugepages[0].page_kib, 2048);
	assert_int_equal(s.resources.hugepages[0].limit, 0);
	assert_int_equal(s.resources.hugepages[1].page_kib, 1048576);
	assert_int_equal(s.resources.hugepages[1].limit, 1073741824);
	assert_int_equal(s.resources.hugepages[2].page_kib, 64);
	oci_spec_free(&s);
	EXPECT_ERROR(b, "config.json: linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size "
		     "(like \"2MB\" or \"1GB\")", ", \"linux\": {\"resources\": {\"hugepageLimits\": "
		     "[{\"pageSize\": \"2M\", \"limit\": 0}]}}");
	EXPECT_ERROR(b, "config.json: linux.resources.hugepageLimits[0].pageSize: \"2MBx\" is not a page size "
		     "(like \"2MB\" or \"1GB\")", ", \"linux\": {\"resources\": {\"hugepageLimits\": "
		     "[{\"pageSize\": \"2MBx\", \"limit\": 0}]}}");
	EXPECT_ERROR(b, "config.json: linux.resources.hugepageLimits[1].limit: missing; the runtime-spec "
		     "requires it", ", \"linux\": {\"resources\": {\"hugepageLimits\": "
		     "[{\"pageSize\": \"2MB\", \"limit\": 0}, {\"pageSize\": \"2MB\"}]}}");
	EXPECT_ERROR(b, "config.json: hooks.poststart[0].path: \"hook\" is not an absolute path",
		     ", \"hooks\": {\"poststart\": [{\"path\": \"hook\"}]}");
	EXPECT_ERROR(b, "config.json: hooks.poststart[0].timeout: 0 is out of range (1..2147483647)",
		     ", \"hooks\": {\"poststart\": [{\"path\": \"/hook\", \"timeout\": 0}]}");
	EXPECT_ERROR(b, "config.json: hooks.afterwards: unknown field; sbx-oci refuses what it does not "
		     "implement", ", \"hooks\": {\"afterwards\": []}");
}

static void test_process_json(void **state)
{
	struct bundle *b = *state;
	const char *good = "{\"terminal\": true, \"consoleSize\": {\"height\": 24, \"width\": 80}, "
			   "\"cwd\": \"/\", \"args\": [\"/bin/sh\"], \"env\": [\"PATH=/bin\"], "
			   "\"user\": {\"uid\": 1000, \"gid\": 1000, \"additionalGids\": [5, 6]}, "
			   "\"apparmorProfile\": \"x\"}";
	const char *bad = "{\"cwd\": \"/\", \"args\": [\"/bin/sh\"], \"user\": {\"uid\": \"root\", \"gid\": 0}}";
	struct oci_process p;
	char path[160], want[256];
	FILE *f;

	assert_int_equal(oci_process_parse(good, strlen(good), &p, b->why, sizeof(b->why)), 0);
	assert_true(p.terminal);
	assert_int_equal(p.console_height, 24);
	assert_int_equal(p.console_width, 80);
	assert_int_equal(p.user.uid, 1000);
	assert_int_equal(p.user.n_additional_gids, 2);
	assert_int_equal(p.user.additional_gids[1], 6);
	oci_process_free(&p);
	assert_int_equal(oci_process_parse(bad, strlen(bad), &p, b->why, sizeof(b->why)), -EINVAL);
	assert_string_equal(b->why, "process.json: user.uid: must be an integer, not a string");
	snprintf(path, sizeof(path), "%s/config.json", b->dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(good, f);
	fclose(f);
	assert_int_equal(oci_process_load(path, &p, b->why, sizeof(b->why)), 0);
	assert_string_equal(p.args[0], "/bin/sh");
	oci_process_free(&p);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(bad, f);
	fclose(f);
	assert_int_equal(oci_process_load(path, &p, b->why, sizeof(b->why)), -EINVAL);
	snprintf(want, sizeof(want), "%s: user.uid: must be an integer, not a string", path);
	assert_string_equal(b->why, want);
	assert_int_equal(oci_process_load("/nonexistent/p.json", &p, b->why, sizeof(b->why)), -ENOENT);
	assert_string_equal(b->why, "/nonexistent/p.json: No such file or directory");
}

/* What `podman exec` and `ctr task exec` gave the runtime as --process. */
static void test_exec_fixtures_parse(void **state)
{
	struct bundle *b = *state;
	struct oci_process p;
	char path[512];

	assert_int_equal(oci_process_load(test_srcpath(path, sizeof(path), "tests/fixtures/oci/podman-exec.json"),
					  &p, b->why, sizeof(b->why)), 0);
	assert_int_equal(p.user.uid, 1000);
	assert_int_equal(p.user.gid, 1000);
	assert_string_equal(p.cwd, "/bin");
	assert_string_equal(p.args[0], "/bin/id");
	assert_string_equal(p.env[3], "HOME=");
	assert_null(p.env[4]);
	assert_true(p.has_caps);
	assert_int_equal(__builtin_popcountll(p.caps.bounding), 40);
	assert_true(p.caps.bounding & CAP(21));
	assert_int_equal(p.n_rlimits, 2);
	assert_false(p.terminal);
	oci_process_free(&p);
	assert_int_equal(oci_process_load(test_srcpath(path, sizeof(path), "tests/fixtures/oci/containerd-exec.json"),
					  &p, b->why, sizeof(b->why)), 0);
	assert_int_equal(p.user.uid, 1000);
	assert_int_equal(p.user.gid, 0);
	assert_int_equal(p.user.n_additional_gids, 1);
	assert_int_equal(p.user.additional_gids[0], 0);
	assert_true(p.no_new_privileges);
	assert_null(p.env);
	assert_string_equal(p.cwd, "/bin");
	oci_process_free(&p);
}

/* Every name features lists is accepted by the parser, and what it
 * leaves out is refused. */
static void test_features_lists_what_parser_accepts(void **state)
{
	struct bundle *b = *state;
	char *text = oci_features_json();
	json_object *f, *lx, *a, *sc;
	struct oci_spec s;

	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	f = json_tokener_parse(text);
	assert_non_null(f);
	assert_string_equal(json_object_get_string(json_object_object_get(f, "ociVersionMin")), "1.0.0");
	assert_string_equal(json_object_get_string(json_object_object_get(f, "ociVersionMax")), "1.2.0");
	assert_non_null(json_object_object_get(json_object_object_get(f, "annotations"), "org.sbx.version"));
	assert_non_null(json_object_object_get(json_object_object_get(f, "annotations"), "org.sbx.profile"));
	a = json_object_object_get(f, "hooks");
	assert_int_equal(json_object_array_length(a), 6);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		EXPECT_OK(b, &s, ", \"hooks\": {\"%s\": [{\"path\": \"/h\"}]}",
			  json_object_get_string(json_object_array_get_idx(a, i)));
		oci_spec_free(&s);
	}
	a = json_object_object_get(f, "mountOptions");
	assert_true(json_object_array_length(a) > 30);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(a, i));

		EXPECT_OK(b, &s, ", \"mounts\": [{\"destination\": \"/m\", \"options\": [\"%s\"]}]", o);
		assert_null(s.mounts[0].data);
		oci_spec_free(&s);
		assert_string_not_equal(o, "tmpcopyup");
		assert_string_not_equal(o, "idmap");
	}
	lx = json_object_object_get(f, "linux");
	a = json_object_object_get(lx, "namespaces");
	assert_int_equal(json_object_array_length(a), 8);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(a, i));

		EXPECT_OK(b, &s, ", \"linux\": {\"namespaces\": [{\"type\": \"%s\"}]%s}", t,
			  strcmp(t, "user") ? "" : ", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, "
			  "\"size\": 1}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]");
		oci_spec_free(&s);
	}
	a = json_object_object_get(lx, "capabilities");
	assert_int_equal(json_object_array_length(a), 41);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		EXPECT_OK(b, &s, ", %s, \"capabilities\": {\"effective\": [\"%s\"]}}", proc_min,
			  json_object_get_string(json_object_array_get_idx(a, i)));
		oci_spec_free(&s);
	}
	sc = json_object_object_get(lx, "seccomp");
	assert_true(json_object_get_boolean(json_object_object_get(sc, "enabled")));
	a = json_object_object_get(sc, "actions");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		EXPECT_OK(b, &s, ", \"linux\": {\"seccomp\": {\"defaultAction\": \"%s\"}}",
			  json_object_get_string(json_object_array_get_idx(a, i)));
		oci_spec_free(&s);
		assert_string_not_equal(json_object_get_string(json_object_array_get_idx(a, i)),
					"SCMP_ACT_NOTIFY");
	}
	a = json_object_object_get(sc, "operators");
	assert_int_equal(json_object_array_length(a), 7);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		EXPECT_OK(b, &s, SECCOMP("\"syscalls\": [{\"names\": [\"a\"], \"action\": \"SCMP_ACT_LOG\", "
					 "\"args\": [{\"index\": 0, \"value\": 1, \"op\": \"%s\"}]}]"),
			  json_object_get_string(json_object_array_get_idx(a, i)));
		oci_spec_free(&s);
	}
	a = json_object_object_get(sc, "archs");
	assert_true(json_object_array_length(a) >= 15);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		EXPECT_OK(b, &s, SECCOMP("\"architectures\": [\"%s\"]"),
			  json_object_get_string(json_object_array_get_idx(a, i)));
		oci_spec_free(&s);
	}
	a = json_object_object_get(sc, "supportedFlags");
	assert_int_equal(json_object_array_length(a), 3);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		EXPECT_OK(b, &s, SECCOMP("\"flags\": [\"%s\"]"),
			  json_object_get_string(json_object_array_get_idx(a, i)));
		oci_spec_free(&s);
	}
	assert_int_equal(json_object_array_length(json_object_object_get(sc, "knownFlags")), 6);
	assert_false(json_object_get_boolean(json_object_object_get(json_object_object_get(lx, "apparmor"),
								    "enabled")));
	assert_false(json_object_get_boolean(json_object_object_get(json_object_object_get(lx, "selinux"),
								    "enabled")));
	json_object_put(f);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_podman_fixture_parses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_containerd_fixture_parses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_reads_bundle_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_path_made_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_errors_name_root_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_json_has_line_and_column, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_fields_refused_with_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_settings_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_profile_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_types_name_the_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname_needs_uts_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounts_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities_and_rlimits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_capability_dropped_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seccomp_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_devices_sysctl_cgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resources_and_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_fixtures_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_lists_what_parser_accepts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
