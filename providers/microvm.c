/* SPDX-License-Identifier: MIT */
/*
 * The "microvm" provider: the command runs inside a small virtual machine.
 * The VM monitor (qemu -M microvm by default, Firecracker with backend =
 * "firecracker") is the process sbx starts in the sandbox cgroup, so the
 * cgroup limits and the eBPF programs apply to it: guest networking goes
 * through qemu's user-mode network stack, i.e. through sockets of the qemu
 * process, where the allow/deny lists are enforced.
 *
 * The guest boots a kernel and an initramfs whose /init is sbx-guest-init
 * (providers/guest/, built by providers/guest/mkguest.sh). sbx talks to it
 * over three virtio-serial ports (vsock with Firecracker): "ctl" carries the
 * command in (argv, env, cwd, ids, rlimits) and "SBX-EXIT:<wait status>" out, "out" and "err" the
 * workload's stdout and stderr, which a relay thread copies to sbx's own.
 * The kernel console and qemu's messages are kept in memory and shown only
 * when the guest fails. See docs/microvm.md.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firecracker.h"
#include "privs.h"
#include "provider.h"
#include "vmm.h"
#include "util/util.h"

#define DEFAULT_DIR "/var/cache/sbx/microvm"
#define GUEST_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define QEMU_RESERVE_MIB 96	/* of the memory limit, for qemu itself (TCG buffers, heap) */
#define MIN_GUEST_MIB 128
#define DEFAULT_GUEST_MIB 256
#define MAX_CMD_BYTES (1u << 20) /* sbx-guest-init's buffer */
#define VSOCK_PORT_BASE 10240
#define FC_API_TIMEOUT_MS 10000

/* The cmdline of every boot: quiet (the console only matters on failure),
 * no reboot loop on panic, and what spares a few hundred ms under TCG. */
#define BASE_APPEND "quiet panic=-1 tsc_early_khz=2000000 clocksource=tsc tsc=reliable " \
		    "no_timer_check nowatchdog cryptomgr.notests audit=0 random.trust_cpu=on"

enum { CH_CTL, CH_OUT, CH_ERR, CH_CONSOLE, CH_MONITOR, CH_N };

struct mvm_state {
	const struct sbx_profile *p;
	const char *argv0;
	bool fc, kvm, drop;
	enum sbx_cvm cvm;		/* tee provider: a confidential guest on q35 */
	unsigned cbitpos;
	char kernel[PATH_MAX], initrd[PATH_MAX], vmm[PATH_MAX], jailer[PATH_MAX];
	char dir[PATH_MAX];		/* Firecracker: API and vsock sockets */
	char jail_base[PATH_MAX];	/* with the jailer */
	char api_sock[108], vsock_uds[108];
	unsigned vcpus;
	uint64_t mem_mib;
	char *cfg;			/* the command records for the guest init */
	size_t cfg_len;
	char **argv;			/* of qemu / firecracker / jailer */
	size_t argc;
	int chan[CH_N];			/* sbx's ends (Firecracker: ctl/out/err listen first) */
	int peer[CH_N];			/* the monitor's ends, closed after spawn */
	pthread_t relay;
	bool relay_running;
	pthread_mutex_t ctl_lock;
	/* what the guest said */
	bool have_status;
	int status, exec_errno;
	char error[300];
	struct sbx_logtail console, monitor;
};

/* ---- locating qemu, the kernel and the initramfs ------------------------------ */

int sbx_qemu_find(const char *prof, char *ret, size_t len)
{
	const char *q = getenv("SBX_QEMU");

	if (prof)
		return sbx_find_program(prof, ret, len);
	return sbx_find_program(q && *q ? q : "qemu-system-x86_64", ret, len);
}

static int find_qemu(char *ret, size_t len)
{
	return sbx_qemu_find(NULL, ret, len);
}

/* profile value, else $ENV, else $SBX_MICROVM_DIR/name, else the cache dir */
static int find_guest_file(const char *prof, const char *env, const char *name, char *ret,
			   size_t len)
{
	const char *e = getenv(env), *dir = getenv("SBX_MICROVM_DIR");

	if (prof)
		snprintf(ret, len, "%s", prof);
	else if (e && *e)
		snprintf(ret, len, "%s", e);
	else
		snprintf(ret, len, "%s/%s", dir && *dir ? dir : DEFAULT_DIR, name);
	return access(ret, R_OK) == 0 ? 0 : -errno;
}

/* The guest builder to name when the guest is missing: the installed copy
 * beside this binary (make install puts PREFIX/bin/sbx and
 * PREFIX/lib/sbx/mkguest.sh; sbxd is in PREFIX/sbin), else the source
 * tree's, for a binary run from its build directory. */
static void guest_builder(char *ret, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	snprintf(ret, len, "providers/guest/mkguest.sh from the sbx source tree");
	if (n <= 0)
		return;
	exe[n] = '\0';
	for (int up = 0; up < 2; up++) {	/* PREFIX/bin/sbx -> PREFIX */
		slash = strrchr(exe, '/');
		if (!slash)
			return;
		*slash = '\0';
	}
	if (strlen(exe) + sizeof("/lib/sbx/mkguest.sh") > len)
		return;
	strcat(exe, "/lib/sbx/mkguest.sh");
	if (access(exe, X_OK) == 0)
		snprintf(ret, len, "%s", exe);
}

static int find_guest(const struct sbx_profile *p, char *kernel, char *initrd, size_t len,
		      char *why, size_t wlen)
{
	char builder[PATH_MAX];
	int r = find_guest_file(p ? p->microvm.kernel : NULL, "SBX_MICROVM_KERNEL", "vmlinux",
				kernel, len);

	if (r < 0) {
		guest_builder(builder, sizeof(builder));
		return sbx_fail(why, wlen, r, "no guest kernel at %s (%s): build one with "
				"%s, see docs/microvm.md", kernel, strerror(-r), builder);
	}
	r = find_guest_file(p ? p->microvm.initrd : NULL, "SBX_MICROVM_INITRD", "initrd.img",
			    initrd, len);
	if (r < 0) {
		guest_builder(builder, sizeof(builder));
		return sbx_fail(why, wlen, r, "no guest initramfs at %s (%s): build one with "
				"%s, see docs/microvm.md", initrd, strerror(-r), builder);
	}
	return r;
}

/* ---- what the guest can run ------------------------------------------------ */

/* Calls fn with each path of a newc cpio archive (the guest initramfs that
 * mkguest.sh writes uncompressed), without reading file contents; stops
 * when fn returns true. -ENOEXEC for anything else (e.g. compressed). */
static int cpio_each(int fd, bool (*fn)(const char *path, void *ctx), void *ctx)
{
	char hdr[111], name[PATH_MAX];
	unsigned long namesize, filesize;
	off_t off = 0;

	for (;;) {
		if (pread(fd, hdr, 110, off) != 110 || memcmp(hdr, "070701", 6))
			return -ENOEXEC;
		hdr[110] = 0;
		if (sscanf(hdr + 54, "%8lx", &filesize) != 1 || sscanf(hdr + 94, "%8lx", &namesize) != 1 ||
		    namesize == 0 || namesize > sizeof(name))
			return -ENOEXEC;
		if (pread(fd, name, namesize, off + 110) != (ssize_t)namesize || name[namesize - 1])
			return -ENOEXEC;
		if (!strcmp(name, "TRAILER!!!"))
			return 0;
		if (fn(name + (name[0] == '.' && name[1] == '/') + (name[0] == '/'), ctx))
			return 0;
		off += (110 + namesize + 3) & ~3ul;
		off += (filesize + 3) & ~3ul;
	}
}

struct guest_lookup {
	const char *want;	/* "bin/sh": a guest path without the leading '/' */
	bool found;
};

static bool guest_match(const char *path, void *ctx)
{
	struct guest_lookup *g = ctx;

	g->found = !strcmp(path, g->want);
	return g->found;
}

/* 0 and *ret_found: is the guest path want (no leading '/') in the archive? */
static int guest_has(int fd, const char *want, bool *ret_found)
{
	struct guest_lookup g = { .want = want };
	int r = cpio_each(fd, guest_match, &g);

	*ret_found = g.found;
	return r;
}

/* Is prog (argv[0]) in the guest initramfs, along the guest's PATH? The guest has
 * none of the host's files, so a host program is not there (docs/microvm.md). */
static int microvm_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len)
{
	const char *path = GUEST_PATH;
	char k[PATH_MAX], i[PATH_MAX], want[PATH_MAX];
	bool found = false;
	int fd, r = find_guest(p, k, i, sizeof(k), why, len);

	for (size_t e = 0; e < p->n_env; e++)
		if (!strcmp(p->env[e].name, "PATH"))
			path = p->env[e].value;

	if (r < 0)
		return r;
	fd = open(i, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail(why, len, -ENOENT, "cannot read %s: %s", i, strerror(errno));
	if (strchr(prog, '/'))
		r = guest_has(fd, prog + (prog[0] == '/'), &found);
	while (!strchr(prog, '/') && *path && r == 0 && !found) {
		size_t n = strcspn(path, ":");

		snprintf(want, sizeof(want), "%.*s/%s", (int)n, path, prog);
		if (want[0] == '/')	/* archive paths have no leading '/' */
			r = guest_has(fd, want + 1, &found);
		path += n + (path[n] == ':');
	}
	close(fd);
	if (r < 0)
		return sbx_fail(why, len, r, "cannot list the programs of the guest initramfs %s "
				"(not an uncompressed newc cpio)", i);
	if (!found)
		return sbx_fail(why, len, -ENOENT, "%s is not in the guest (it holds busybox and "
				"the files of mkguest.sh -a only)", prog);
	return 0;
}

static int microvm_probe(char *why, size_t len)
{
	char qemu[PATH_MAX], k[PATH_MAX], i[PATH_MAX], fc[400] = "";
	int r;

	if (find_qemu(qemu, sizeof(qemu)) < 0) {
		sbx_firecracker_probe(NULL, NULL, NULL, fc, sizeof(fc));
		return sbx_fail(why, len, -ENOENT,
				"qemu-system-x86_64 not found (apt-get install qemu-system-x86); "
				"firecracker backend: %s", fc);
	}
	r = find_guest(NULL, k, i, sizeof(k), why, len);
	return r < 0 ? r : 0;
}

/* ---- prepare ---------------------------------------------------------------------- */

void sbx_argv_free(char **argv, size_t argc)
{
	for (size_t i = 0; argv && i < argc; i++)
		free(argv[i]);
	free(argv);
}

static void state_free(struct mvm_state *st)
{
	sbx_argv_free(st->argv, st->argc);
	free(st->cfg);
	for (int i = 0; i < CH_N; i++) {
		if (st->chan[i] >= 0)
			close(st->chan[i]);
		if (st->peer[i] >= 0)
			close(st->peer[i]);
	}
	pthread_mutex_destroy(&st->ctl_lock);
	free(st);
}

int sbx_argv_add(char ***argv, size_t *argc, const char *fmt, ...)
{
	char **nv = realloc(*argv, (*argc + 2) * sizeof(*nv));
	va_list ap;
	int r;

	if (!nv)
		return -ENOMEM;
	*argv = nv;
	va_start(ap, fmt);
	r = vasprintf(&nv[*argc], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	nv[++*argc] = NULL;
	return 0;
}

#define add_arg(st, ...) sbx_argv_add(&(st)->argv, &(st)->argc, __VA_ARGS__)

/* One "<type><text>\0" record of the command for sbx-guest-init. */
static int add_record(FILE *f, char type, const char *text)
{
	return fprintf(f, "%c%s", type, text) < 0 || fputc(0, f) == EOF ? -EIO : 0;
}

/* uid/gid in the guest: numbers, root or nobody; the guest has no user database */
static int guest_id(const char *name, const char *what, long *ret, char *why, size_t len)
{
	char *end;

	*ret = -1;
	if (!name)
		return 0;
	if (!strcmp(name, "root"))
		*ret = 0;
	else if (!strcmp(name, "nobody") || !strcmp(name, "nogroup"))
		*ret = 65534;
	else {
		errno = 0;
		*ret = strtol(name, &end, 10);
		if (errno || *end || end == name || *ret < 0)
			return sbx_fail(why, len, -EINVAL,
					"%s '%s' does not exist in the microvm guest: give a number, "
					"root or nobody", what, name);
	}
	return 0;
}

static bool env_set(const struct sbx_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_env; i++)
		if (!strcmp(p->env[i].name, name))
			return true;
	return false;
}

static int build_command(struct mvm_state *st, const struct sbx_spawn *s, char *why, size_t len)
{
	const struct sbx_profile *p = s->profile;
	char num[32];
	long uid, gid;
	FILE *f;
	int r;

	if ((r = guest_id(p->user, "user", &uid, why, len)) < 0 ||
	    (r = guest_id(p->group, "group", &gid, why, len)) < 0)
		return r;
	f = open_memstream(&st->cfg, &st->cfg_len);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; s->argv[i]; i++)
		r |= add_record(f, 'A', s->argv[i]);
	if (!env_set(p, "PATH"))
		r |= add_record(f, 'E', "PATH=" GUEST_PATH);
	if (!env_set(p, "HOME"))
		r |= add_record(f, 'E', uid > 0 ? "HOME=/" : "HOME=/root");
	if (!env_set(p, "TERM"))
		r |= add_record(f, 'E', "TERM=dumb");
	for (size_t i = 0; i < p->n_env; i++) {
		fprintf(f, "E%s=%s", p->env[i].name, p->env[i].value);
		r |= fputc(0, f) == EOF;
	}
	r |= add_record(f, 'C', p->cwd ? p->cwd : "/");
	r |= add_record(f, 'H', s->id);
	if (uid >= 0) {
		snprintf(num, sizeof(num), "%ld", uid);
		r |= add_record(f, 'U', num);
	}
	if (gid >= 0) {
		snprintf(num, sizeof(num), "%ld", gid);
		r |= add_record(f, 'G', num);
	}
	r |= add_record(f, 'N', p->net.mode != SBX_NET_NONE ? "1" : "0");
	/* only when set: a guest init from before the L record refuses it (fails
	 * closed) and keeps working for profiles without these limits */
	if (p->nofile) {
		snprintf(num, sizeof(num), "nofile=%u", p->nofile);
		r |= add_record(f, 'L', num);
	}
	if (p->fsize) {
		snprintf(num, sizeof(num), "fsize=%llu", (unsigned long long)p->fsize);
		r |= add_record(f, 'L', num);
	}
	r |= add_record(f, 'Z', "");
	if (fclose(f) != 0 || r)
		return sbx_fail(why, len, -ENOMEM, "building the guest's command failed");
	if (st->cfg_len > MAX_CMD_BYTES - 4096)
		return sbx_fail(why, len, -E2BIG,
				"the command and its environment exceed %u KiB, the guest's limit",
				MAX_CMD_BYTES / 1024 - 4);
	return 0;
}

/* Guest RAM and vCPUs from the profile's limits. The memory limit covers the
 * qemu process as a whole, so the guest gets that minus qemu's own share. */
static int size_vm(struct mvm_state *st, const struct sbx_profile *p, char *why, size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	st->vcpus = p->cpu_milli ? (p->cpu_milli + 999) / 1000 : 1;
	if (ncpu > 0 && st->vcpus > (unsigned)ncpu)
		st->vcpus = (unsigned)ncpu;
	if (st->vcpus < 1)
		st->vcpus = 1;
	st->mem_mib = DEFAULT_GUEST_MIB;
	if (p->memory_bytes) {
		uint64_t mib = p->memory_bytes >> 20;

		if (mib < MIN_GUEST_MIB + QEMU_RESERVE_MIB)
			return sbx_fail(why, len, -EINVAL,
					"memory limit of %llu MiB is too small for a microvm: the guest "
					"needs %d MiB and the VM monitor %d MiB more",
					(unsigned long long)mib, MIN_GUEST_MIB, QEMU_RESERVE_MIB);
		st->mem_mib = mib - QEMU_RESERVE_MIB;
	}
	return 0;
}

static int make_channels(struct mvm_state *st, int from, int to, char *why, size_t len)
{
	for (int i = from; i < to; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return sbx_fail(why, len, -errno, "socketpair: %s", strerror(errno));
		st->chan[i] = sv[0];
		st->peer[i] = sv[1];
	}
	return 0;
}

/* -M, and for a confidential guest its -object and firmware, which
 * measures and boots the kernel. */
static int machine_args(struct mvm_state *st)
{
	char machine[160] = "microvm", object[160] = "";
	int r = 0;

	if (st->cvm && sbx_cvm_qemu_words(st->cvm, st->cbitpos, machine, sizeof(machine), object,
					  sizeof(object)) < 0)
		return -EINVAL;
	r |= add_arg(st, "-M");
	r |= add_arg(st, "%s", machine);
	if (st->cvm) {
		r |= add_arg(st, "-object");
		r |= add_arg(st, "%s", object);
		r |= add_arg(st, "-bios");
		r |= add_arg(st, "%s", sbx_tee_firmware());
	}
	return r;
}

static int qemu_args(struct mvm_state *st, const struct sbx_profile *p)
{
	static const char *const names[] = { "sbx.ctl", "sbx.out", "sbx.err" };
	const char *extra = getenv("SBX_MICROVM_APPEND");
	/* a confidential guest needs q35 (PCI); microvm has virtio-mmio only */
	const char *bus = st->cvm ? "pci" : "device";
	int r = 0;

	r |= add_arg(st, "%s", st->vmm);
	r |= machine_args(st);
	r |= add_arg(st, "-nodefaults");
	r |= add_arg(st, "-no-user-config");
	r |= add_arg(st, "-display");
	r |= add_arg(st, "none");
	r |= add_arg(st, "-no-reboot");
	r |= add_arg(st, "-accel");
	r |= add_arg(st, "%s", st->kvm ? "kvm" : "tcg,tb-size=32");
	r |= add_arg(st, "-cpu");
	r |= add_arg(st, "%s", st->kvm ? "host" : "max");
	r |= add_arg(st, "-m");
	r |= add_arg(st, "%lluM", (unsigned long long)st->mem_mib);
	r |= add_arg(st, "-smp");
	r |= add_arg(st, "%u", st->vcpus);
	r |= add_arg(st, "-kernel");
	r |= add_arg(st, "%s", st->kernel);
	r |= add_arg(st, "-initrd");
	r |= add_arg(st, "%s", st->initrd);
	r |= add_arg(st, "-append");
	r |= add_arg(st, "console=ttyS0 %s%s%s%s", BASE_APPEND, st->kvm ? "" : " mitigations=off",
		     extra ? " " : "", extra ? extra : "");
	r |= add_arg(st, "-chardev");
	r |= add_arg(st, "socket,id=con,fd=%d", st->peer[CH_CONSOLE]);
	r |= add_arg(st, "-serial");
	r |= add_arg(st, "chardev:con");
	r |= add_arg(st, "-device");
	r |= add_arg(st, "virtio-serial-%s,max_ports=4", bus);
	for (int i = CH_CTL; i <= CH_ERR; i++) {
		r |= add_arg(st, "-chardev");
		r |= add_arg(st, "socket,id=c%d,fd=%d", i, st->peer[i]);
		r |= add_arg(st, "-device");
		r |= add_arg(st, "virtserialport,chardev=c%d,name=%s", i, names[i]);
	}
	if (p->net.mode != SBX_NET_NONE) {
		/* guest connections become connect()s of this process: the eBPF
		 * lists of the sandbox cgroup decide; 10.0.2.2 is the host's loopback */
		r |= add_arg(st, "-netdev");
		r |= add_arg(st, "user,id=n0");
		r |= add_arg(st, "-device");
		r |= add_arg(st, "virtio-net-%s,netdev=n0", bus);
	}
	r |= add_arg(st, "-sandbox");
	r |= add_arg(st, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	return r ? -ENOMEM : 0;
}

/* The jailer chroots Firecracker into <base>/firecracker/<id>/root and drops
 * to nobody: the kernel, the initramfs and the sockets must be in there, and
 * the API sees them by their paths inside. Untested here (no KVM). */
static int jail_prepare(struct mvm_state *st, const struct sbx_spawn *s, char *why, size_t len)
{
	static const char *const names[] = { "vmlinux", "initrd.img" };
	char root[PATH_MAX], path[PATH_MAX + 16], dir[PATH_MAX];
	char *src[] = { st->kernel, st->initrd };

	snprintf(st->jail_base, sizeof(st->jail_base), "%s/jail", st->dir);
	snprintf(dir, sizeof(dir), "%s/firecracker", st->jail_base);
	snprintf(path, sizeof(path), "%s/%s", dir, s->id);
	snprintf(root, sizeof(root), "%s/root", path);
	if (mkdir(st->jail_base, 0755) < 0 || mkdir(dir, 0755) < 0 || mkdir(path, 0755) < 0 ||
	    mkdir(root, 0755) < 0) {
		return sbx_fail(why, len, -errno, "jail %s: %s", root, strerror(errno));
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, names[i]);
		if (link(src[i], path) < 0)
			return sbx_fail(why, len, -errno,
					"link %s into the jail (same file system needed): %s",
					src[i], strerror(errno));
		snprintf(src[i], PATH_MAX, "/%s", names[i]);
	}
	if (snprintf(st->api_sock, sizeof(st->api_sock), "%s/api.sock", root) >=
	    (int)sizeof(st->api_sock) ||
	    snprintf(st->vsock_uds, sizeof(st->vsock_uds), "%s/v.sock", root) >=
	    (int)sizeof(st->vsock_uds) - 8) {
		return sbx_fail(why, len, -ENAMETOOLONG,
				"jail directory %s is too long for unix sockets", root);
	}
	return 0;
}

/* Firecracker (and the jailer, when named) can run this profile. */
static int fc_find(struct mvm_state *st, const struct sbx_profile *p, char *why, size_t len)
{
	char fcwhy[400];
	int r;

	if (p->net.mode != SBX_NET_NONE)
		return sbx_fail(why, len, -EOPNOTSUPP,
				"the firecracker backend supports network mode \"none\" only: a "
				"Firecracker guest's traffic leaves through a tap device, not through "
				"sockets of the sandboxed process, so the eBPF lists could not apply");
	r = sbx_firecracker_probe(p->microvm.firecracker, st->kernel, st->initrd, fcwhy, sizeof(fcwhy));
	if (r < 0)
		return sbx_fail(why, len, r, "firecracker backend unavailable: %s", fcwhy);
	sbx_find_program(p->microvm.firecracker ? p->microvm.firecracker : "firecracker", st->vmm,
			 sizeof(st->vmm));
	if (p->microvm.jailer && sbx_find_program(p->microvm.jailer, st->jailer, sizeof(st->jailer)))
		return sbx_fail(why, len, -ENOENT, "jailer %s not found", p->microvm.jailer);
	return 0;
}

/* <run_dir>/fc-<id> with the API and vsock socket paths (in the jail when
 * there is one). */
static int fc_dirs(struct mvm_state *st, const struct sbx_spawn *s, char *why, size_t len)
{
	if (!s->run_dir)
		return sbx_fail(why, len, -EINVAL, "no run directory given");
	snprintf(st->dir, sizeof(st->dir), "%s/fc-%s", s->run_dir, s->id);
	if ((mkdir(s->run_dir, 0700) < 0 && errno != EEXIST) || mkdir(st->dir, 0700) < 0)
		return sbx_fail(why, len, -errno, "mkdir %s: %s", st->dir, strerror(errno));
	if (snprintf(st->api_sock, sizeof(st->api_sock), "%s/api.sock", st->dir) >=
	    (int)sizeof(st->api_sock) - 8 ||
	    snprintf(st->vsock_uds, sizeof(st->vsock_uds), "%s/v.sock", st->dir) >=
	    (int)sizeof(st->vsock_uds) - 8) {
		return sbx_fail(why, len, -ENAMETOOLONG,
				"run directory %s is too long for unix sockets", st->dir);
	}
	return st->jailer[0] ? jail_prepare(st, s, why, len) : 0;
}

/* The guest's vsock connections to host port P arrive at <uds>_P. */
static int fc_listen(struct mvm_state *st, char *why, size_t len)
{
	for (int i = CH_CTL; i <= CH_ERR; i++) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(a.sun_path, sizeof(a.sun_path), "%s_%d", st->vsock_uds, VSOCK_PORT_BASE + i);
		st->chan[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (st->chan[i] < 0 || bind(st->chan[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(st->chan[i], 1) < 0) {
			return sbx_fail(why, len, -errno, "vsock listener %s: %s", a.sun_path,
					strerror(errno));
		}
	}
	return 0;
}

/* The command line: the jailer's, or Firecracker's own. */
static int fc_argv(struct mvm_state *st, const struct sbx_spawn *s)
{
	int r = 0;

	if (st->jailer[0]) {
		const char *v[20];
		char buf[64];
		int n = sbx_fc_jailer_argv(st->jailer, st->vmm, s->id, 65534, 65534, st->jail_base,
					   "/api.sock", buf, sizeof(buf), v, 20);

		for (int i = 0; i < n && !r; i++)
			r = add_arg(st, "%s", v[i]);
		return n < 0 ? n : r;
	}
	r |= add_arg(st, "%s", st->vmm);
	r |= add_arg(st, "--api-sock");
	r |= add_arg(st, "%s", st->api_sock);
	r |= add_arg(st, "--id");
	r |= add_arg(st, "%s", s->id);
	return r ? -ENOMEM : 0;
}

static int fc_prepare(struct mvm_state *st, const struct sbx_spawn *s, char *why, size_t len)
{
	int r = fc_find(st, s->profile, why, len);

	if (r == 0)
		r = fc_dirs(st, s, why, len);
	if (r == 0)
		r = fc_listen(st, why, len);
	if (r == 0)
		r = make_channels(st, CH_CONSOLE, CH_N, why, len);
	return r < 0 ? r : fc_argv(st, s);
}

static void microvm_cleanup(void *state);

/* qemu, KVM (a confidential guest has no TCG) and the argv. */
static int qemu_prepare(struct mvm_state *st, const struct sbx_profile *p, char *why, size_t len)
{
	char kvmwhy[400] = "";
	int r = 0;

	if (find_qemu(st->vmm, sizeof(st->vmm)) < 0)
		return sbx_fail(why, len, -ENOENT,
				"qemu-system-x86_64 not found (apt-get install qemu-system-x86)");
	st->kvm = sbx_kvm_usable(st->vmm, st->kernel, st->initrd, kvmwhy, sizeof(kvmwhy)) == 0;
	if (st->cvm && !st->kvm)
		return sbx_fail(why, len, -ENODEV, "a confidential guest needs KVM: %s", kvmwhy);
	/* qemu runs as the sandbox's uid (nobody without one) unless it needs
	 * /dev/kvm (root:kvm 0660) */
	st->drop = !st->kvm && geteuid() == 0;
	r = make_channels(st, 0, CH_N, why, len);
	if (!r && (r = qemu_args(st, p)) < 0)
		sbx_fail(why, len, r, "building qemu's command line failed");
	return r;
}

static int prepare_vm(const struct sbx_spawn *s, enum sbx_cvm cvm, unsigned cbitpos,
		      void **ret_state, char *why, size_t len)
{
	const struct sbx_profile *p = s->profile;
	const char *backend = p->microvm.backend ? p->microvm.backend : "qemu";
	struct mvm_state *st = calloc(1, sizeof(*st));
	int r;

	/* the runtime's own unix sockets are its business: the workload runs
	 * behind it and reaches no host unix socket (docs/policy.md) */
	if (s->policy_flags)
		*s->policy_flags |= SBX_POLF_UNIX_ANY;

	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->ctl_lock, NULL);
	for (int i = 0; i < CH_N; i++)
		st->chan[i] = st->peer[i] = -1;
	st->p = p;
	st->argv0 = s->argv[0];
	st->fc = !strcmp(backend, "firecracker");
	st->cvm = cvm;
	st->cbitpos = cbitpos;
	r = st->fc && cvm ? sbx_fail(why, len, -EOPNOTSUPP, "a confidential guest runs in qemu "
				     "only: the firecracker backend has none") : 0;
	if (!r)
		r = find_guest(p, st->kernel, st->initrd, sizeof(st->kernel), why, len);
	if (!r)
		r = size_vm(st, p, why, len);
	if (!r)
		r = build_command(st, s, why, len);
	if (!r && st->fc)
		r = fc_prepare(st, s, why, len);
	if (!r && !st->fc)
		r = qemu_prepare(st, p, why, len);
	if (r < 0) {
		if (!why[0])
			snprintf(why, len, "prepare: %s", strerror(-r));
		microvm_cleanup(st);
		return r;
	}
	*ret_state = st;
	return 0;
}

static int microvm_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	return prepare_vm(s, SBX_CVM_NONE, 0, ret_state, why, len);
}

int sbx_microvm_prepare_cvm(const struct sbx_spawn *s, enum sbx_cvm kind, unsigned cbitpos,
			    void **ret_state, char *why, size_t len)
{
	if (kind == SBX_CVM_NONE)
		return sbx_fail(why, len, -EINVAL, "no confidential guest kind given");
	return prepare_vm(s, kind, cbitpos, ret_state, why, len);
}

/*
 * SEV-SNP: the C-bit position comes from CPUID 0x8000001f EBX[5:0] and one
 * physical address bit is lost to it. TDX: the interrupt controller must be
 * split (the TD's local APIC is emulated by KVM). Both need the firmware
 * (OVMF / TDVF) that the tee provider adds with -bios.
 */
int sbx_cvm_qemu_words(enum sbx_cvm kind, unsigned cbitpos, char *machine, size_t mlen,
		       char *object, size_t olen)
{
	if (kind == SBX_CVM_SEV_SNP && cbitpos >= 32 && cbitpos < 64) {
		snprintf(machine, mlen, "q35,confidential-guest-support=cvm0");
		snprintf(object, olen, "sev-snp-guest,id=cvm0,cbitpos=%u,reduced-phys-bits=1",
			 cbitpos);
		return 0;
	}
	if (kind == SBX_CVM_TDX) {
		snprintf(machine, mlen, "q35,kernel-irqchip=split,confidential-guest-support=cvm0");
		snprintf(object, olen, "tdx-guest,id=cvm0");
		return 0;
	}
	return -EINVAL;
}

/* ---- spawn --------------------------------------------------------------------------- */

int sbx_vmm_exec(const struct sbx_spawn *s, char *const *argv, bool drop)
{
	/* the sandbox's own uid: qemu's threads, fds and memory locks count
	 * against it, not against a uid that every VM and the host share */
	const struct sbx_ids vmm = { .uid = s->uid ? s->uid : 65534, .gid = s->uid ? s->uid : 65534,
				     .home = "/" };

	if (drop) {
		int r = sbx_drop_privileges(&vmm);

		if (r < 0 || (r = sbx_landlock_scope()) < 0)
			return r;
	}
	execv(argv[0], argv);
	return -errno;
}

static int microvm_child(const struct sbx_spawn *s, void *arg)
{
	struct mvm_state *st = arg;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* stdout/stderr of the monitor: kept, shown when the guest fails */
	if (null < 0 || dup2(null, 0) < 0 || dup2(st->peer[CH_MONITOR], 1) < 0 ||
	    dup2(st->peer[CH_MONITOR], 2) < 0)
		return -errno;
	for (int i = 0; i < CH_MONITOR; i++)
		if (st->peer[i] >= 0 && fcntl(st->peer[i], F_SETFD, 0) < 0)
			return -errno;
	return sbx_vmm_exec(s, st->argv, st->drop);
}

void sbx_logtail_keep(struct sbx_logtail *t, const char *p, size_t n)
{
	if (n >= sizeof(t->buf)) {
		p += n - sizeof(t->buf);
		n = sizeof(t->buf);
	}
	if (t->len + n > sizeof(t->buf)) {
		size_t drop = t->len + n - sizeof(t->buf);

		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Copies to sbx's stdout/stderr; a closed reader stops the copying, not the
 * draining (the guest must never block on its output). */
int sbx_vmm_start(const struct sbx_spawn *s, int (*child)(const struct sbx_spawn *s, void *arg),
		  void *arg, int *peer, size_t n_peer, const char *argv0, void *(*relay)(void *),
		  pthread_t *thread, struct sbx_child *ret, char *why, size_t len)
{
	int r = sbx_clone_into_cgroup(s, child, arg, ret, why, len);

	for (size_t i = 0; i < n_peer; i++) {
		if (peer[i] >= 0)
			close(peer[i]);
		peer[i] = -1;
	}
	if (r == 0 && ret->exec_errno) {
		snprintf(why, len, "cannot run %s: %s", argv0, strerror(ret->exec_errno));
		r = -ret->exec_errno;
		ret->exec_errno = 0;
	}
	if (r < 0)
		return r;
	if (pthread_create(thread, NULL, relay, arg) != 0)
		return sbx_fail(why, len, -EAGAIN, "starting the relay thread failed");
	return 0;
}

void sbx_vmm_copy_out(int fd, const char *p, size_t n, bool *dead)
{
	while (n && !*dead) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0) {
			*dead = true;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void ctl_lines(struct mvm_state *st, char *buf, size_t *len)
{
	char *nl;

	while ((nl = memchr(buf, '\n', *len))) {
		*nl = 0;
		if (!strncmp(buf, "SBX-EXIT:", 9)) {
			st->status = atoi(buf + 9);
			st->have_status = true;
		} else if (!strncmp(buf, "SBX-EXEC:", 9)) {
			st->exec_errno = atoi(buf + 9);
		} else if (!strncmp(buf, "SBX-ERROR:", 10)) {
			snprintf(st->error, sizeof(st->error), "%s", buf + 10);
		}
		*len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, *len);
	}
	if (*len == 511)	/* a line that long is not ours */
		*len = 0;
}

static int send_cfg(struct mvm_state *st)
{
	const char *p = st->cfg;
	size_t n = st->cfg_len;

	pthread_mutex_lock(&st->ctl_lock);
	while (n) {
		ssize_t w = send(st->chan[CH_CTL], p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	pthread_mutex_unlock(&st->ctl_lock);
	return n ? -EPIPE : 0;
}

/* Firecracker: wait for the guest's three vsock connections. */
static int accept_vsock(struct mvm_state *st)
{
	for (int i = CH_CTL; i <= CH_ERR; i++) {
		struct pollfd pf[2] = { { .fd = st->chan[i], .events = POLLIN },
					{ .fd = st->chan[CH_MONITOR], .events = POLLIN } };
		int fd;

		/* until the guest connects, or the monitor's output ends (it exited) */
		for (;;) {
			if (poll(pf, 2, -1) < 0 && errno != EINTR)
				return -errno;
			if (pf[0].revents)
				break;
			if (pf[1].revents) {
				char b[512];
				ssize_t n = read(st->chan[CH_MONITOR], b, sizeof(b));

				if (n <= 0)
					return -EPIPE;
				sbx_logtail_keep(&st->monitor, b, (size_t)n);
			}
		}
		fd = accept4(st->chan[i], NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(st->chan[i]);
		st->chan[i] = fd;
	}
	return 0;
}

static void *relay_main(void *arg)
{
	struct mvm_state *st = arg;
	bool dead[2] = { false, false }, open_[CH_N];
	char ctl[512], buf[65536];
	size_t ctl_len = 0;
	sigset_t all;
	int n_open = CH_N;

	/* signals stay with the main thread; EPIPE instead of SIGPIPE here */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (st->fc && accept_vsock(st) < 0)
		return NULL;
	send_cfg(st);
	for (int i = 0; i < CH_N; i++)
		open_[i] = true;
	while (n_open) {
		struct pollfd pf[CH_N];

		for (int i = 0; i < CH_N; i++)
			pf[i] = (struct pollfd){ .fd = open_[i] ? st->chan[i] : -1, .events = POLLIN };
		if (poll(pf, CH_N, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < CH_N; i++) {
			ssize_t n;

			if (!pf[i].revents)
				continue;
			n = read(st->chan[i], i == CH_CTL ? ctl + ctl_len : buf,
				 i == CH_CTL ? sizeof(ctl) - 1 - ctl_len : sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				open_[i] = false;
				n_open--;
				continue;
			}
			if (i == CH_CTL) {
				ctl_len += (size_t)n;
				ctl_lines(st, ctl, &ctl_len);
			} else if (i == CH_OUT || i == CH_ERR) {
				sbx_vmm_copy_out(i == CH_OUT ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t)n,
					 &dead[i - CH_OUT]);
			} else {
				sbx_logtail_keep(i == CH_CONSOLE ? &st->console : &st->monitor, buf, (size_t)n);
			}
		}
	}
	return NULL;
}

static int fc_start(struct mvm_state *st, char *why, size_t len)
{
	struct sbx_fc_config c = { .kernel = st->kernel, .initrd = st->initrd,
				   .vcpus = st->vcpus, .mem_mib = st->mem_mib,
				   .vsock_cid = 3, .vsock_uds = st->vsock_uds };
	char args[512];
	struct stat sb;
	int i;

	snprintf(args, sizeof(args), "console=ttyS0 reboot=k pci=off sbx.transport=vsock %s",
		 BASE_APPEND);
	c.boot_args = args;
	/* the API socket appears once Firecracker is up */
	for (i = 0; i < 500 && stat(st->api_sock, &sb) < 0; i++)
		usleep(10000);
	return sbx_fc_boot(st->api_sock, &c, FC_API_TIMEOUT_MS, why, len);
}

static int microvm_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
			 char *why, size_t len)
{
	struct mvm_state *st = state;
	int r = sbx_vmm_start(s, microvm_child, st, st->peer, CH_N, st->argv[0], relay_main,
			      &st->relay, ret, why, len);

	if (r < 0)
		return r;
	st->relay_running = true;
	if (st->fc && (r = fc_start(st, why, len)) < 0)
		return r;
	return 0;
}

/* ---- signal, wait, cleanup --------------------------------------------------------- */

/* SIGKILL ends the VM; other signals go to the command inside it. */
static int microvm_signal(void *state, struct sbx_child *c, int sig)
{
	struct mvm_state *st = state;
	char line[32];
	int n = snprintf(line, sizeof(line), "S%d\n", sig), r = 0;

	if (sig == SIGKILL || st->chan[CH_CTL] < 0)
		return sbx_child_signal(c, sig);
	pthread_mutex_lock(&st->ctl_lock);
	if (send(st->chan[CH_CTL], line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		r = -errno;
	pthread_mutex_unlock(&st->ctl_lock);
	return r;
}

static void show_tail(const char *what, const struct sbx_logtail *t)
{
	if (!t->len)
		return;
	fprintf(stderr, "sbx: microvm: last %s output:\n%.*s%s", what, (int)t->len, t->buf,
		t->buf[t->len - 1] == '\n' ? "" : "\n");
}

static void relay_stop(struct mvm_state *st)
{
	if (!st->relay_running)
		return;
	/* the monitor is gone: every channel reaches EOF; with Firecracker the
	 * listeners may still wait, so wake them */
	if (st->fc)
		for (int i = CH_CTL; i <= CH_ERR; i++)
			shutdown(st->chan[i], SHUT_RDWR);
	pthread_join(st->relay, NULL);
	st->relay_running = false;
}

static int microvm_wait(void *state, struct sbx_child *c, int *ret_status)
{
	struct mvm_state *st = state;
	int vmm_status, r = sbx_child_wait(c, &vmm_status);

	if (r < 0)
		return r;
	relay_stop(st);
	if (st->error[0])
		fprintf(stderr, "sbx: error: in the microvm guest: %s\n", st->error);
	if (st->exec_errno)
		fprintf(stderr, "sbx: error: %s: %s (in the microvm guest)\n", st->argv0,
			strerror(st->exec_errno));
	if (st->have_status) {
		*ret_status = st->status;
		return 0;
	}
	/* no status: the VM was stopped (timeout, sbx's signal) or failed */
	if (WIFSIGNALED(vmm_status) ||
	    memmem(st->monitor.buf, st->monitor.len, "terminating on signal", 21)) {
		*ret_status = WIFSIGNALED(vmm_status) ? vmm_status : SIGTERM;
		return 0;
	}
	fprintf(stderr, "sbx: error: the microvm guest ended without reporting an exit status "
		"(%s exit status %d)\n", st->fc ? "firecracker" : "qemu",
		WIFEXITED(vmm_status) ? WEXITSTATUS(vmm_status) : -1);
	show_tail(st->fc ? "firecracker" : "qemu", &st->monitor);
	show_tail("guest console", &st->console);
	*ret_status = W_EXITCODE(125, 0);
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void microvm_cleanup(void *state)
{
	struct mvm_state *st = state;

	if (!st)
		return;
	if (st->relay_running) {
		for (int i = 0; i < CH_N; i++)
			if (st->chan[i] >= 0)
				shutdown(st->chan[i], SHUT_RDWR);
		pthread_join(st->relay, NULL);
	}
	/* the directory is ours alone (mkdir made it): sockets, the jail */
	if (st->dir[0])
		nftw(st->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	state_free(st);
}

const struct sbx_provider sbx_provider_microvm = {
	.name = "microvm",
	.level = SBX_ISO_MICROVM,
	.summary = "the command runs in a qemu -M microvm guest (Firecracker optional); network "
		   "through qemu's user-mode stack under the eBPF lists",
	.relays_output = true,
	.probe = microvm_probe,
	.can_run = microvm_can_run,
	.prepare = microvm_prepare,
	.spawn = microvm_spawn,
	.signal = microvm_signal,
	.wait = microvm_wait,
	.cleanup = microvm_cleanup,
};
