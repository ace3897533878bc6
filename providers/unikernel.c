/* SPDX-License-Identifier: MIT */
/*
 * The "unikernel" provider: the workload is a unikernel image (a PVH or
 * multiboot ELF, as Unikraft, Hermit or OSv build them) that qemu boots with
 * -kernel, -M microvm or -M q35. As with the microvm provider (whose code it
 * shares, vmm.h), qemu is the process sbx starts in the sandbox cgroup: the
 * cgroup limits bound it, and the guest's network, when the profile allows
 * one, is qemu's user-mode stack, i.e. sockets of qemu that the eBPF lists
 * decide. Under TCG qemu runs as the sandbox's uid without capabilities,
 * with no_new_privs and Landlock scoping.
 *
 * The guest's command line is the profile's unikernel.cmdline followed by
 * the argv, its serial console (COM1) is the workload's stdout, and its exit
 * status comes through the isa-debug-exit device at port 0xf4: a guest that
 * writes N makes qemu exit with (N << 1) | 1, which sbx turns back into N.
 * See docs/providers-unikernel.md.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firecracker.h"
#include "provider.h"
#include "util/util.h"
#include "vmm.h"

#define QEMU_RESERVE_MIB 96	/* of the memory limit, for qemu itself (TCG buffers, heap) */
#define MIN_GUEST_MIB 8
#define DEFAULT_GUEST_MIB 64
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MULTIBOOT_MAGIC 0x1badb002u
#define MULTIBOOT2_MAGIC 0xe85250d6u
#define MULTIBOOT_SEARCH 32768	/* a multiboot header lies in the first 32 KiB */
#define DEBUG_EXIT "isa-debug-exit,iobase=0xf4,iosize=0x04"

enum { UK_SERIAL, UK_MONITOR, UK_N };

struct uk_state {
	char image[PATH_MAX], vmm[PATH_MAX];
	char **argv;
	size_t argc;
	bool kvm, drop;
	uint64_t mem_mib;
	int chan[UK_N], peer[UK_N];
	pthread_t relay;
	bool relay_running;
	struct sbx_logtail monitor;
};

/* ---- the image -------------------------------------------------------------- */

/* Has the ELF a PT_NOTE with Xen's PHYS32_ENTRY note (the PVH entry)? */
static bool has_pvh_note(const unsigned char *b, size_t n)
{
	const Elf32_Ehdr *e32 = (const void *)b;
	const Elf64_Ehdr *e64 = (const void *)b;
	bool is64 = b[EI_CLASS] == ELFCLASS64;
	size_t phoff = is64 ? e64->e_phoff : e32->e_phoff;
	size_t phnum = is64 ? e64->e_phnum : e32->e_phnum;
	size_t phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	/* e_phoff is the image's word: near SIZE_MAX, phoff + phsz would wrap
	 * below n and the headers be read from before the buffer */
	if (phoff > n)
		return false;
	for (size_t i = 0; i < phnum && phsz * (i + 1) <= n - phoff; i++) {
		const Elf32_Phdr *p32 = (const void *)(b + phoff + i * phsz);
		const Elf64_Phdr *p64 = (const void *)(b + phoff + i * phsz);
		size_t off = is64 ? p64->p_offset : p32->p_offset;
		size_t sz = is64 ? p64->p_filesz : p32->p_filesz;

		if ((is64 ? p64->p_type : p32->p_type) != PT_NOTE || off > n || sz > n - off)
			continue;
		/* notes: namesz, descsz, type, name and desc padded to 4 */
		for (size_t o = off; o + 12 <= off + sz;) {
			uint32_t nsz, dsz, type;

			memcpy(&nsz, b + o, 4);
			memcpy(&dsz, b + o + 4, 4);
			memcpy(&type, b + o + 8, 4);
			if (nsz == 4 && o + 16 <= n && !memcmp(b + o + 12, "Xen", 4) &&
			    type == XEN_ELFNOTE_PHYS32_ENTRY)
				return true;
			if (nsz > sz || dsz > sz)
				break;
			o += 12 + ((nsz + 3) & ~3u) + ((dsz + 3) & ~3u);
		}
	}
	return false;
}

static bool has_multiboot(const unsigned char *b, size_t n)
{
	for (size_t o = 0; o + 12 <= n && o < MULTIBOOT_SEARCH; o += 4) {
		uint32_t m, f, c;

		memcpy(&m, b + o, 4);
		memcpy(&f, b + o + 4, 4);
		memcpy(&c, b + o + 8, 4);
		if (m == MULTIBOOT_MAGIC && (uint32_t)(m + f + c) == 0)
			return true;
	}
	return false;
}

/* 0 when path is an x86 ELF that qemu -kernel boots by PVH or multiboot. */
static int check_image(const char *path, char *why, size_t len)
{
	static unsigned char b[65536];	/* callers are single-threaded (prepare, can_run) */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return sbx_fail(why, len, -ENOENT, "unikernel image %s: %s", path, strerror(errno));
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(b, ELFMAG, SELFMAG) ||
	    (b[EI_CLASS] == ELFCLASS64 && n < (ssize_t)sizeof(Elf64_Ehdr)))
		return sbx_fail(why, len, -ENOEXEC, "%s is not an ELF file: the unikernel provider "
				"boots PVH or multiboot ELF images", path);
	if (has_pvh_note(b, (size_t)n) || has_multiboot(b, (size_t)n))
		return 0;
	return sbx_fail(why, len, -ENOEXEC, "%s has neither a PVH entry note "
			"(XEN_ELFNOTE_PHYS32_ENTRY) nor a multiboot header: qemu -kernel cannot "
			"boot it as a unikernel", path);
}

/* The profile's image, else argv[0] as a path. */
static const char *image_of(const struct sbx_profile *p, const char *argv0)
{
	return p->unikernel.image ? p->unikernel.image : argv0;
}

static int unikernel_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len)
{
	return check_image(image_of(p, prog), why, len);
}

static int unikernel_probe(char *why, size_t len)
{
	char qemu[PATH_MAX];

	if (sbx_qemu_find(NULL, qemu, sizeof(qemu)) < 0)
		return sbx_fail(why, len, -ENOENT,
				"qemu-system-x86_64 not found (apt-get install qemu-system-x86)");
	return 0;
}

/* ---- prepare ------------------------------------------------------------------- */

/* The guest's command line: cmdline, then the argv words. A word that the
 * guest would split or misread (blank, quote, backslash, not printable) is
 * refused rather than mangled. */
static int build_cmdline(const struct sbx_spawn *s, char **ret, char *why, size_t len)
{
	const char *pre = s->profile->unikernel.cmdline;
	size_t n = pre ? strlen(pre) + 1 : 0;
	char *c;

	for (size_t i = 0; s->argv[i]; i++) {
		for (const char *q = s->argv[i]; *q; q++)
			if (*q <= ' ' || *q > '~' || *q == '"' || *q == '\'' || *q == '\\')
				return sbx_fail(why, len, -EINVAL, "argument %zu ('%s') holds a "
						"blank, quote, backslash or unprintable byte, which the "
						"unikernel's command line cannot carry", i, s->argv[i]);
		if (!s->argv[i][0])
			return sbx_fail(why, len, -EINVAL, "argument %zu is empty, which the "
					"unikernel's command line cannot carry", i);
		n += strlen(s->argv[i]) + 1;
	}
	if (n > SBX_UNIKERNEL_CMDLINE_MAX)
		return sbx_fail(why, len, -E2BIG, "the unikernel's command line would be %zu bytes, "
				"more than %d", n, SBX_UNIKERNEL_CMDLINE_MAX);
	c = calloc(1, n + 1);
	if (!c)
		return -ENOMEM;
	if (pre)
		strcat(c, pre);
	for (size_t i = 0; s->argv[i]; i++) {
		if (c[0])
			strcat(c, " ");
		strcat(c, s->argv[i]);
	}
	*ret = c;
	return 0;
}

/* Guest RAM: the memory limit covers qemu as a whole, so the guest gets the
 * limit minus qemu's own share. */
static int size_guest(struct uk_state *st, const struct sbx_profile *p, char *why, size_t len)
{
	uint64_t mib = p->memory_bytes >> 20;

	st->mem_mib = DEFAULT_GUEST_MIB;
	if (!p->memory_bytes)
		return 0;
	if (mib < MIN_GUEST_MIB + QEMU_RESERVE_MIB)
		return sbx_fail(why, len, -EINVAL, "memory limit of %llu MiB is too small for a "
				"unikernel: the guest needs %d MiB and qemu %d MiB more",
				(unsigned long long)mib, MIN_GUEST_MIB, QEMU_RESERVE_MIB);
	st->mem_mib = mib - QEMU_RESERVE_MIB;
	return 0;
}

#define ARG(...) (r |= sbx_argv_add(&st->argv, &st->argc, __VA_ARGS__))

static int qemu_args(struct uk_state *st, const struct sbx_profile *p, const char *cmdline)
{
	const char *machine = p->unikernel.machine ? p->unikernel.machine : "microvm";
	int r = 0;

	ARG("%s", st->vmm);
	ARG("-M"), ARG("%s", machine);
	ARG("-nodefaults"), ARG("-no-user-config"), ARG("-display"), ARG("none");
	/* a reset (a triple fault) stops qemu instead of booting again */
	ARG("-no-reboot");
	ARG("-accel"), ARG("%s", st->kvm ? "kvm" : "tcg,tb-size=32");
	ARG("-cpu"), ARG("%s", st->kvm ? "host" : "max");
	ARG("-m"), ARG("%lluM", (unsigned long long)st->mem_mib);
	ARG("-smp"), ARG("1");
	ARG("-kernel"), ARG("%s", st->image);
	ARG("-append"), ARG("%s", cmdline);
	ARG("-chardev"), ARG("socket,id=con,fd=%d", st->peer[UK_SERIAL]);
	ARG("-serial"), ARG("chardev:con");
	ARG("-device"), ARG(DEBUG_EXIT);
	if (p->net.mode != SBX_NET_NONE) {
		/* guest connections become connect()s of qemu: the eBPF lists decide */
		ARG("-netdev"), ARG("user,id=n0");
		ARG("-device"), ARG("virtio-net-%s,netdev=n0", strcmp(machine, "q35") ? "device" : "pci");
	}
	ARG("-sandbox");
	ARG("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	return r ? -ENOMEM : 0;
}

static void unikernel_cleanup(void *state);

static int uk_setup(struct uk_state *st, const struct sbx_spawn *s, char *why, size_t len)
{
	const struct sbx_profile *p = s->profile;
	char kvmwhy[400], *cmdline = NULL;
	int r;

	snprintf(st->image, sizeof(st->image), "%s", image_of(p, s->argv[0]));
	if ((r = check_image(st->image, why, len)) < 0 || (r = size_guest(st, p, why, len)) < 0 ||
	    (r = build_cmdline(s, &cmdline, why, len)) < 0)
		return r;
	if (sbx_qemu_find(p->unikernel.qemu, st->vmm, sizeof(st->vmm)) < 0) {
		free(cmdline);
		return sbx_fail(why, len, -ENOENT, "qemu %s not found (apt-get install "
				"qemu-system-x86)", p->unikernel.qemu ? p->unikernel.qemu :
				"qemu-system-x86_64");
	}
	/* KVM only where the microvm provider's test boot found it working */
	st->kvm = sbx_kvm_usable(st->vmm, NULL, NULL, kvmwhy, sizeof(kvmwhy)) == 0;
	st->drop = !st->kvm && geteuid() == 0;
	for (int i = 0; i < UK_N && !r; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			r = sbx_fail(why, len, -errno, "socketpair: %s", strerror(errno));
		else
			st->chan[i] = sv[0], st->peer[i] = sv[1];
	}
	if (!r && (r = qemu_args(st, p, cmdline)) < 0)
		sbx_fail(why, len, r, "building qemu's command line failed");
	free(cmdline);
	return r;
}

static int unikernel_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	struct uk_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	/* qemu's own unix sockets are its business: the guest reaches none */
	if (s->policy_flags)
		*s->policy_flags |= SBX_POLF_UNIX_ANY;
	for (int i = 0; i < UK_N; i++)
		st->chan[i] = st->peer[i] = -1;
	r = uk_setup(st, s, why, len);
	if (r < 0) {
		unikernel_cleanup(st);
		return r;
	}
	*ret_state = st;
	return 0;
}

/* ---- spawn ------------------------------------------------------------------------ */

static int unikernel_child(const struct sbx_spawn *s, void *arg)
{
	struct uk_state *st = arg;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* qemu's own messages are kept, shown when the guest fails */
	if (null < 0 || dup2(null, 0) < 0 || dup2(st->peer[UK_MONITOR], 1) < 0 ||
	    dup2(st->peer[UK_MONITOR], 2) < 0 || fcntl(st->peer[UK_SERIAL], F_SETFD, 0) < 0)
		return -errno;
	return sbx_vmm_exec(s, st->argv, st->drop);
}

static void *relay_main(void *arg)
{
	struct uk_state *st = arg;
	bool dead = false, open_[UK_N] = { true, true };
	char buf[65536];
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (open_[UK_SERIAL] || open_[UK_MONITOR]) {
		struct pollfd pf[UK_N];

		for (int i = 0; i < UK_N; i++)
			pf[i] = (struct pollfd){ .fd = open_[i] ? st->chan[i] : -1, .events = POLLIN };
		if (poll(pf, UK_N, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < UK_N; i++) {
			ssize_t n;

			if (!pf[i].revents)
				continue;
			n = read(st->chan[i], buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				open_[i] = false;
			else if (i == UK_SERIAL)
				sbx_vmm_copy_out(STDOUT_FILENO, buf, (size_t)n, &dead);
			else
				sbx_logtail_keep(&st->monitor, buf, (size_t)n);
		}
	}
	return NULL;
}

static int unikernel_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
			   char *why, size_t len)
{
	struct uk_state *st = state;
	int r = sbx_vmm_start(s, unikernel_child, st, st->peer, UK_N, st->argv[0], relay_main,
			      &st->relay, ret, why, len);

	if (r < 0)
		return r;
	st->relay_running = true;
	return 0;
}

/* ---- signal, wait, cleanup ------------------------------------------------------ */

/* qemu stops the guest on SIGTERM/SIGINT/SIGHUP; a unikernel has no signals. */
static int unikernel_signal(void *state, struct sbx_child *c, int sig)
{
	(void)state;
	return sbx_child_signal(c, sig);
}

static void show_monitor(const struct sbx_logtail *t)
{
	if (t->len)
		fprintf(stderr, "sbx: unikernel: last qemu output:\n%.*s%s", (int)t->len, t->buf,
			t->buf[t->len - 1] == '\n' ? "" : "\n");
}

/*
 * qemu's exit status to the workload's. Odd: isa-debug-exit, the guest wrote
 * (status >> 1). Killed, or "terminating on signal": sbx (the timeout) or the
 * caller stopped it. Anything else (0: the guest powered off or reset without
 * an exit status; qemu's own failure, which it explains on stderr) is not
 * the workload's status: 125 with qemu's words.
 */
static int map_status(const struct uk_state *st, int vmm)
{
	bool qemu_said = memmem(st->monitor.buf, st->monitor.len, "qemu-system", 11) != NULL;

	if (WIFSIGNALED(vmm))
		return vmm;
	if (memmem(st->monitor.buf, st->monitor.len, "terminating on signal", 21))
		return SIGTERM;
	if (WIFEXITED(vmm) && (WEXITSTATUS(vmm) & 1) && !qemu_said)
		return W_EXITCODE(WEXITSTATUS(vmm) >> 1, 0);
	if (WIFEXITED(vmm) && WEXITSTATUS(vmm) == 0)
		fprintf(stderr, "sbx: error: the unikernel stopped (power-off or reset) without an "
			"exit status through isa-debug-exit (docs/providers-unikernel.md)\n");
	else
		fprintf(stderr, "sbx: error: qemu failed (exit status %d)\n",
			WIFEXITED(vmm) ? WEXITSTATUS(vmm) : -1);
	show_monitor(&st->monitor);
	return W_EXITCODE(125, 0);
}

static void relay_join(struct uk_state *st)
{
	if (st->relay_running)
		pthread_join(st->relay, NULL);
	st->relay_running = false;
}

static int unikernel_wait(void *state, struct sbx_child *c, int *ret_status)
{
	struct uk_state *st = state;
	int vmm, r = sbx_child_wait(c, &vmm);

	if (r < 0)
		return r;
	relay_join(st);	/* qemu is gone: both channels reach EOF */
	*ret_status = map_status(st, vmm);
	return 0;
}

static void unikernel_cleanup(void *state)
{
	struct uk_state *st = state;

	if (!st)
		return;
	if (st->relay_running)
		for (int i = 0; i < UK_N; i++)
			shutdown(st->chan[i], SHUT_RDWR);
	relay_join(st);
	for (int i = 0; i < UK_N; i++) {
		if (st->chan[i] >= 0)
			close(st->chan[i]);
		if (st->peer[i] >= 0)
			close(st->peer[i]);
	}
	sbx_argv_free(st->argv, st->argc);
	free(st);
}

const struct sbx_provider sbx_provider_unikernel = {
	.name = "unikernel",
	.level = SBX_ISO_UNIKERNEL,
	.summary = "boots a unikernel image (PVH or multiboot ELF) in qemu -M microvm or q35; "
		   "serial console to stdout, exit status through isa-debug-exit",
	.relays_output = true,
	.probe = unikernel_probe,
	.can_run = unikernel_can_run,
	.prepare = unikernel_prepare,
	.spawn = unikernel_spawn,
	.signal = unikernel_signal,
	.wait = unikernel_wait,
	.cleanup = unikernel_cleanup,
};
