/* SPDX-License-Identifier: MIT */
/*
 * The names config.json may use (capabilities, rlimits, namespaces, mount
 * options, seccomp actions, operators, flags and architectures, hook kinds)
 * and the features document made from the same tables, so that `features`
 * lists exactly what the parser accepts.
 */
#include <errno.h>
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "cli/cli.h"
#include "oci/spec_int.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* Linux's capability numbers (linux/capability.h), 0..40 as of 5.9. */
const char *const oci_cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
const size_t oci_n_cap_names = sizeof(oci_cap_names) / sizeof(oci_cap_names[0]);
_Static_assert(sizeof(oci_cap_names) / sizeof(oci_cap_names[0]) <= 64, "capabilities fit a uint64_t");

const struct spec_name oci_rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK }, { NULL, 0 },
};

const struct spec_name oci_namespace_names[] = {
	{ "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME }, { NULL, 0 },
};

const struct spec_name oci_propagation_names[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
	{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
	{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	{ NULL, 0 },
};

/* SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry errnoRet (spec_linux.c). */
const struct spec_name oci_seccomp_actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL }, { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS }, { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) }, { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW }, { "SCMP_ACT_LOG", SCMP_ACT_LOG },
	{ NULL, 0 },
};

const struct spec_name oci_seccomp_ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ }, { NULL, 0 },
};

const struct spec_name oci_seccomp_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ NULL, 0 },
};

/* Known to the kernel, not to sbx-oci: a listener needs a supervisor. */
const char *const oci_seccomp_refused_flags[] = {
	"SECCOMP_FILTER_FLAG_NEW_LISTENER", "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};

const char *const oci_seccomp_arch_names[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", NULL,
};

const char *const oci_hook_names[OCI_HOOK_KINDS] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

/* The options mount(8) and runc know. The recursive "r" forms of the
 * flags (mount_setattr) and idmapped mounts are refused: on a bind
 * mount an option the kernel does not know would be dropped silently. */
const struct mount_opt oci_mount_opts[] = {
	{ "defaults", MO_NONE, 0 },
	{ "notmpcopyup", MO_NONE, 0 },	/* crun's; sbx-oci never copies up */
	{ "ro", MO_FLAG, MS_RDONLY }, { "rw", MO_CLEAR, MS_RDONLY },
	{ "nosuid", MO_FLAG, MS_NOSUID }, { "suid", MO_CLEAR, MS_NOSUID },
	{ "nodev", MO_FLAG, MS_NODEV }, { "dev", MO_CLEAR, MS_NODEV },
	{ "noexec", MO_FLAG, MS_NOEXEC }, { "exec", MO_CLEAR, MS_NOEXEC },
	{ "sync", MO_FLAG, MS_SYNCHRONOUS }, { "async", MO_CLEAR, MS_SYNCHRONOUS },
	{ "dirsync", MO_FLAG, MS_DIRSYNC },
	{ "remount", MO_FLAG, MS_REMOUNT },
	{ "mand", MO_FLAG, MS_MANDLOCK }, { "nomand", MO_CLEAR, MS_MANDLOCK },
	{ "atime", MO_CLEAR, MS_NOATIME }, { "noatime", MO_FLAG, MS_NOATIME },
	{ "diratime", MO_CLEAR, MS_NODIRATIME }, { "nodiratime", MO_FLAG, MS_NODIRATIME },
	{ "relatime", MO_FLAG, MS_RELATIME }, { "norelatime", MO_CLEAR, MS_RELATIME },
	{ "strictatime", MO_FLAG, MS_STRICTATIME }, { "nostrictatime", MO_CLEAR, MS_STRICTATIME },
	{ "lazytime", MO_FLAG, MS_LAZYTIME }, { "nolazytime", MO_CLEAR, MS_LAZYTIME },
	{ "symfollow", MO_CLEAR, MS_NOSYMFOLLOW }, { "nosymfollow", MO_FLAG, MS_NOSYMFOLLOW },
	{ "silent", MO_FLAG, MS_SILENT }, { "loud", MO_CLEAR, MS_SILENT },
	{ "bind", MO_BIND, MS_BIND }, { "rbind", MO_RBIND, MS_BIND | MS_REC },
	{ "private", MO_PROPAGATION, MS_PRIVATE }, { "rprivate", MO_PROPAGATION, MS_PRIVATE | MS_REC },
	{ "shared", MO_PROPAGATION, MS_SHARED }, { "rshared", MO_PROPAGATION, MS_SHARED | MS_REC },
	{ "slave", MO_PROPAGATION, MS_SLAVE }, { "rslave", MO_PROPAGATION, MS_SLAVE | MS_REC },
	{ "unbindable", MO_PROPAGATION, MS_UNBINDABLE },
	{ "runbindable", MO_PROPAGATION, MS_UNBINDABLE | MS_REC },
	{ "tmpcopyup", MO_REFUSED, 0 }, { "idmap", MO_REFUSED, 0 }, { "ridmap", MO_REFUSED, 0 },
	{ "rro", MO_REFUSED, 0 }, { "rrw", MO_REFUSED, 0 }, { "rnosuid", MO_REFUSED, 0 },
	{ "rsuid", MO_REFUSED, 0 }, { "rnodev", MO_REFUSED, 0 }, { "rdev", MO_REFUSED, 0 },
	{ "rnoexec", MO_REFUSED, 0 }, { "rexec", MO_REFUSED, 0 }, { "rnodiratime", MO_REFUSED, 0 },
	{ "rdiratime", MO_REFUSED, 0 }, { "rrelatime", MO_REFUSED, 0 },
	{ "rnorelatime", MO_REFUSED, 0 }, { "rnoatime", MO_REFUSED, 0 }, { "ratime", MO_REFUSED, 0 },
	{ "rstrictatime", MO_REFUSED, 0 }, { "rnostrictatime", MO_REFUSED, 0 },
	{ "rnosymfollow", MO_REFUSED, 0 }, { "rsymfollow", MO_REFUSED, 0 },
	{ NULL, MO_NONE, 0 },
};

long spec_name_lookup(const struct spec_name *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t->value;
	return -1;
}

const struct mount_opt *spec_mount_opt(const char *name)
{
	for (const struct mount_opt *o = oci_mount_opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

int spec_cap_lookup(const char *name)
{
	for (size_t i = 0; i < oci_n_cap_names; i++)
		if (!strcmp(oci_cap_names[i], name))
			return (int)i;
	return -1;
}

/* /proc/sys/kernel/cap_last_cap (read once per process object); when it
 * cannot be read, the last one the table has (a capability the kernel
 * lacks then fails at capset). */
int spec_cap_last(void)
{
	int last = (int)oci_n_cap_names - 1, v;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%d", &v) == 1 && v >= 0 && v < 64)
			last = v;
		fclose(f);
	}
	return last;
}

uint32_t spec_seccomp_arch(const char *name)
{
	char low[32];
	size_t i;
	bool known = false;

	for (const char *const *a = oci_seccomp_arch_names; *a; a++)
		known |= !strcmp(*a, name);
	if (!known || strlen(name) - strlen("SCMP_ARCH_") >= sizeof(low))
		return 0;
	for (i = 0; name[strlen("SCMP_ARCH_") + i]; i++)
		low[i] = (char)tolower((unsigned char)name[strlen("SCMP_ARCH_") + i]);
	low[i] = 0;
	return seccomp_arch_resolve_name(low);
}

/* ---- features.md ---------------------------------------------------- */

static int add_str(json_object *a, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (!v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static json_object *names_array(const struct spec_name *t)
{
	json_object *a = json_object_new_array();

	for (; a && t->name; t++)
		if (add_str(a, t->name) < 0) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

static int put(json_object *o, const char *k, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Adds v under k and returns it (owned by o now), or NULL. */
static json_object *child(json_object *o, const char *k, json_object *v)
{
	return put(o, k, v) == 0 ? v : NULL;
}

static int put_bool(json_object *o, const char *k, bool on)
{
	return put(o, k, json_object_new_boolean(on));
}

static int put_enabled(json_object *o, const char *k, bool on)
{
	json_object *e = child(o, k, json_object_new_object());

	return e ? put_bool(e, "enabled", on) : -ENOMEM;
}

static int features_seccomp(json_object *parent)
{
	json_object *o = child(parent, "seccomp", json_object_new_object()), *archs, *known;
	int r;

	if (!o)
		return -ENOMEM;
	if ((r = put_bool(o, "enabled", true)) < 0 ||
	    (r = put(o, "actions", names_array(oci_seccomp_actions))) < 0 ||
	    (r = put(o, "operators", names_array(oci_seccomp_ops))) < 0)
		return r;
	archs = child(o, "archs", json_object_new_array());
	for (const char *const *a = oci_seccomp_arch_names; *a && archs; a++)
		if (spec_seccomp_arch(*a) && add_str(archs, *a) < 0)
			return -ENOMEM;
	known = child(o, "knownFlags", names_array(oci_seccomp_flags));
	for (const char *const *f = oci_seccomp_refused_flags; *f && known; f++)
		if (add_str(known, *f) < 0)
			return -ENOMEM;
	if (!archs || !known)
		return -ENOMEM;
	return put(o, "supportedFlags", names_array(oci_seccomp_flags));
}

static int features_linux(json_object *top)
{
	json_object *o = child(top, "linux", json_object_new_object()), *caps, *cg;
	int r;

	if (!o || (r = put(o, "namespaces", names_array(oci_namespace_names))) < 0)
		return -ENOMEM;
	caps = child(o, "capabilities", json_object_new_array());
	for (size_t i = 0; i < oci_n_cap_names && caps; i++)
		if (add_str(caps, oci_cap_names[i]) < 0)
			return -ENOMEM;
	cg = child(o, "cgroup", json_object_new_object());
	if (!caps || !cg)
		return -ENOMEM;
	if ((r = put_bool(cg, "v1", true)) < 0 || (r = put_bool(cg, "v2", true)) < 0 ||
	    (r = put_bool(cg, "systemd", true)) < 0 || (r = put_bool(cg, "systemdUser", false)) < 0 ||
	    (r = put_bool(cg, "rdma", false)) < 0 || (r = features_seccomp(o)) < 0 ||
	    (r = put_enabled(o, "apparmor", false)) < 0 || (r = put_enabled(o, "selinux", false)) < 0 ||
	    (r = put_enabled(o, "intelRdt", false)) < 0)
		return r;
	return 0;
}

static int features_annotations(json_object *top)
{
	json_object *o = child(top, "annotations", json_object_new_object());
	const struct scmp_version *v = seccomp_version();
	char ver[48];
	int r;

	snprintf(ver, sizeof(ver), "%u.%u.%u", v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0);
	if (!o)
		return -ENOMEM;
	if ((r = put(o, "org.sbx.version", json_object_new_string(SBX_VERSION))) < 0 ||
	    (r = put(o, "io.github.seccomp.libseccomp.version", json_object_new_string(ver))) < 0 ||
	    (r = put(o, OCI_ANNOT_PROFILE, json_object_new_string(
		"a profile of the policy directory or of sbxd; \"none\": audit only"))) < 0 ||
	    (r = put(o, OCI_ANNOT_POLICY, json_object_new_string(
		"a policy file in a trusted directory"))) < 0)
		return r;
	return put(o, OCI_ANNOT_POLICY_PROFILE,
		   json_object_new_string("the profile of the file that org.sbx.policy names"));
}

static int features(json_object *o)
{
	json_object *hooks, *opts;
	int r;

	if ((r = put(o, "ociVersionMin", json_object_new_string(OCI_VERSION_MIN))) < 0 ||
	    (r = put(o, "ociVersionMax", json_object_new_string(OCI_VERSION_MAX))) < 0)
		return r;
	hooks = child(o, "hooks", json_object_new_array());
	for (size_t i = 0; i < OCI_HOOK_KINDS && hooks; i++)
		if (add_str(hooks, oci_hook_names[i]) < 0)
			return -ENOMEM;
	opts = child(o, "mountOptions", json_object_new_array());
	for (const struct mount_opt *m = oci_mount_opts; m->name && opts; m++)
		if (m->kind != MO_REFUSED && add_str(opts, m->name) < 0)
			return -ENOMEM;
	if (!hooks || !opts)
		return -ENOMEM;
	if ((r = features_linux(o)) < 0)
		return r;
	return features_annotations(o);
}

char *oci_features_json(void)
{
	json_object *o = json_object_new_object();
	char *ret = NULL;

	if (o && features(o) == 0) {
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE);

		if (s && asprintf(&ret, "%s\n", s) < 0)
			ret = NULL;
	}
	json_object_put(o);
	return ret;
}
