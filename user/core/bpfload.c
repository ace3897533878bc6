/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/bpfload.h"
#include "core/trace.h"
#include "kernel/features.h"
#include "kernel/limits.h"
#include "sbx.skel.h"
#include "util/util.h"

#define BPF_FS_MAGIC 0xcafe4a11

static const char *const map_names[] = {
	"sbx_config", "sbx_cgroups", "sbx_slots", "sbx_stats", "sbx_drops",
	"sbx_policies", "sbx_net4", "sbx_net6", "sbx_rings", "sbx_events", "sbx_syscalls",
	"sbx_paths", "sbx_execs", "sbx_fscfg", "sbx_loaders", "sbx_rates", "sbx_rate_ifs",
	"sbx_dns", "sbx_pins", "sbx_dns_orig", "sbx_dns_ports",
};

/* Pinned links, named after the hook they enforce. */
static const struct {
	const char *pin;
	const char *prog;
} link_names[] = {
	{ "link_connect4", "sbx_connect4" },	{ "link_connect6", "sbx_connect6" },
	{ "link_sendmsg4", "sbx_sendmsg4" },	{ "link_sendmsg6", "sbx_sendmsg6" },
	{ "link_bind4", "sbx_bind4" },		{ "link_bind6", "sbx_bind6" },
	{ "link_sock_create", "sbx_sock_create" },	{ "link_setsockopt", "sbx_setsockopt" },
	{ "link_skb_ingress", "sbx_skb_ingress" }, { "link_skb_egress", "sbx_skb_egress" },
	{ "link_recvmsg4", "sbx_recvmsg4" },	{ "link_recvmsg6", "sbx_recvmsg6" },
	{ "link_getpeername4", "sbx_getpeername4" }, { "link_getpeername6", "sbx_getpeername6" },
};

/* Optional cgroup links: the unix address hooks, where the kernel has them
 * (sbx_config.flags SBX_CFGF_UNIX_HOOKS). */
static const struct {
	const char *pin;
	const char *prog;
	int attach_type;
} unix_links[] = {
	{ "link_connect_unix", "sbx_connect_unix", SBX_BPF_CGROUP_UNIX_CONNECT },
	{ "link_sendmsg_unix", "sbx_sendmsg_unix", SBX_BPF_CGROUP_UNIX_SENDMSG },
};

#define PROG_EMIT_PIN "prog_emit_user"
#define LINK_EXEC_GUARD "link_exec_guard"	/* tp_btf/sched_process_exec */
/* tc programs of the bandwidth rate: attached per sandbox (kernel/netrate.h) */
#define PROG_TC_SANDBOX_PIN "prog_tc_sandbox"
#define PROG_TC_HOST_PIN "prog_tc_host"

static int pin_path(const struct sbx_instance *p, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", p->pin_dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool sbx_bpf_pinned(const struct sbx_instance *p)
{
	char path[PATH_MAX + 32];

	pin_path(p, "sbx_config", path, sizeof(path));
	return access(path, F_OK) == 0;
}

static int *map_fd_slot(struct sbx_bpf *b, size_t i)
{
	int *fds[] = { &b->config_fd, &b->cgroups_fd, &b->slots_fd, &b->stats_fd, &b->drops_fd,
		       &b->policies_fd, &b->net4_fd, &b->net6_fd, &b->rings_fd, &b->events_fd,
		       &b->syscalls_fd, &b->paths_fd, &b->execs_fd, &b->fscfg_fd,
		       &b->loaders_fd, &b->rates_fd, &b->rate_ifs_fd, &b->dns_fd, &b->pins_fd,
		       &b->dns_orig_fd, &b->dns_ports_fd };

	return fds[i];
}

static int check_config(struct sbx_bpf *b, char *why, size_t whylen)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(b->config_fd, &zero, &b->cfg) < 0)
		return sbx_fail(why, whylen, -errno, "read sbx_config: %s", strerror(errno));
	if (b->cfg.abi_version != SBX_ABI_VERSION || b->cfg.root_cgroup_id != b->root.id) {
		return sbx_fail(why, whylen, -ESTALE,
				"pins in %s belong to another setup (ABI %u, cgroup root id %llu; "
				"expected ABI %u, root %s id %llu); run 'sbx unload' first",
				b->paths.pin_dir, b->cfg.abi_version,
				(unsigned long long)b->cfg.root_cgroup_id, SBX_ABI_VERSION,
				b->root.path, (unsigned long long)b->root.id);
	}
	return 0;
}

/* The global links every setup pins, whatever the kernel: the exec guard
 * (once per exec). The syscall tracepoints' programs are pinned instead, and
 * their links come and go with the sandboxes that need them (core/trace.h). */
static const char *const global_pins[] = { LINK_EXEC_GUARD, SBX_PIN_PROG_SYS_ENTER,
					    SBX_PIN_PROG_SYS_EXIT };

/* The first pin of a complete setup (loaded with cfg_flags) that is missing
 * from p, or NULL. Shared by adoption (which refuses such a setup) and by
 * the replacement of an idle one. */
static const char *missing_pin(const struct sbx_instance *p, uint32_t cfg_flags, char *path,
			       size_t len)
{
	const char *need[sizeof(map_names) / sizeof(map_names[0]) +
			 sizeof(link_names) / sizeof(link_names[0]) +
			 sizeof(global_pins) / sizeof(global_pins[0]) +
			 sizeof(unix_links) / sizeof(unix_links[0]) + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++)
		need[n++] = map_names[i];
	for (size_t i = 0; i < sizeof(link_names) / sizeof(link_names[0]); i++)
		need[n++] = link_names[i].pin;
	for (size_t i = 0; i < sizeof(global_pins) / sizeof(global_pins[0]); i++)
		need[n++] = global_pins[i];
	for (size_t i = 0; (cfg_flags & SBX_CFGF_UNIX_HOOKS) && i < sizeof(unix_links) /
			   sizeof(unix_links[0]); i++)
		need[n++] = unix_links[i].pin;
	if (cfg_flags & SBX_CFGF_BPF_LSM)
		need[n++] = "link_lsm_file_open";
	for (size_t i = 0; i < n; i++)
		if (pin_path(p, need[i], path, len) < 0 || access(path, F_OK) < 0)
			return need[i];
	return NULL;
}

/* Maps without their programs enforce nothing: refuse to adopt a setup whose
 * pins are not all there (fail closed). */
static int check_links(struct sbx_bpf *b, char *why, size_t whylen)
{
	char path[PATH_MAX + 32];

	if (missing_pin(&b->paths, b->cfg.flags, path, sizeof(path)))
		return sbx_fail(why, whylen, -ESTALE,
				"%s is missing: the programs of %s are not all attached, and "
				"sandboxes still run under them; run 'sbx unload' once they have "
				"ended", path, b->paths.pin_dir);
	return 0;
}

/* Opens every link pin of the setup (the per-cgroup ones, the exec guard,
 * the syscall and LSM links) and keeps the fds: the kernel keeps a link
 * attached while one fd refers to it, whatever becomes of its pin. */
static int hold_links(struct sbx_bpf *b, char *why, size_t whylen)
{
	char path[PATH_MAX + 32];
	DIR *d = opendir(b->paths.pin_dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return sbx_fail(why, whylen, -errno, "open %s: %s", b->paths.pin_dir,
				strerror(errno));
	while (!r && (de = readdir(d))) {
		int fd;

		/* the syscall tracepoints' links are held by the sandboxes
		 * that need them (core/trace.h), or they would never detach */
		if (strncmp(de->d_name, "link_", 5) || sbx_trace_pin(de->d_name))
			continue;
		if (b->n_links >= SBX_BPF_MAX_LINKS) {
			r = sbx_fail(why, whylen, -E2BIG, "more than %d links pinned in %s",
				     SBX_BPF_MAX_LINKS, b->paths.pin_dir);
			break;
		}
		pin_path(&b->paths, de->d_name, path, sizeof(path));
		fd = bpf_obj_get(path);	/* O_CLOEXEC: never reaches a workload */
		if (fd < 0)
			r = sbx_fail(why, whylen, -errno, "open pinned link %s: %s", path,
				     strerror(errno));
		else
			b->link_fds[b->n_links++] = fd;
	}
	closedir(d);
	return r;
}

/* check_pins: whether the link pins are still to be checked (not when
 * pinned_setup_current found them all under the same lock a moment ago:
 * 41 access() calls at every start were made twice). */
static int adopt(struct sbx_bpf *b, bool check_pins, char *why, size_t whylen)
{
	char path[PATH_MAX + 32];
	int r;

	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		pin_path(&b->paths, map_names[i], path, sizeof(path));
		*map_fd_slot(b, i) = bpf_obj_get(path);
		if (*map_fd_slot(b, i) < 0 && errno == ENOENT)
			return sbx_fail(why, whylen, -ESTALE, "%s is missing: the pins in %s come "
					"from an earlier build and sandboxes still run under them; "
					"run 'sbx unload' once they have ended", path, b->paths.pin_dir);
		if (*map_fd_slot(b, i) < 0)
			return sbx_fail(why, whylen, -errno, "open pinned map %s: %s", path,
					strerror(errno));
		/* sbx_config comes first: an older setup is named as such */
		if (i == 0 && (r = check_config(b, why, whylen)) < 0)
			return r;
	}
	pin_path(&b->paths, PROG_EMIT_PIN, path, sizeof(path));
	b->emit_fd = bpf_obj_get(path);
	if (b->emit_fd < 0)
		return sbx_fail(why, whylen, -errno, "open pinned program %s: %s", path,
				strerror(errno));
	r = check_pins ? check_links(b, why, whylen) : 0;
	return r < 0 ? r : hold_links(b, why, whylen);
}

/* Pins need bpffs at /sys/fs/bpf; like bpftool, mount it when it is missing. */
static int check_bpffs(char *why, size_t whylen)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0)
		return 0;
	return sbx_fail(why, whylen, -ENOTSUP,
			"/sys/fs/bpf is not a bpffs mount and mounting one failed: %s",
			strerror(errno));
}

/* libbpf 1.1 cannot resize an inner map template in place (it crashes), so
 * the template of sbx_rings is a ring buffer of the wanted size made here. */
static int set_sizes(struct sbx_sbx *skel, uint32_t ring_size, uint32_t events_size,
		     int *ret_tmpl_fd, char *why, size_t whylen)
{
	int fd, r;

	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "sbx_ring_tmpl", 0, 0, ring_size, NULL);
	if (fd < 0)
		return sbx_fail(why, whylen, -errno,
				"create ring buffer of %u bytes: %s (a power of two >= 4096?)",
				ring_size, strerror(errno));
	r = bpf_map__set_inner_map_fd(skel->maps.sbx_rings, fd);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.sbx_events, events_size);
	if (r) {
		close(fd);
		return sbx_fail(why, whylen, r, "ring sizes %u/%u: %s", ring_size, events_size,
				strerror(-r));
	}
	*ret_tmpl_fd = fd;
	return 0;
}

/* The BPF LSM programs (bpf/lib/lsm.h) load only where BPF LSM works, and
 * each only where the kernel has its hook; elsewhere the fs policy falls
 * back to Landlock and these programs stay out of the object. */
static void lsm_autoload(struct sbx_sbx *skel)
{
	bool lsm = sbx_bpf_lsm_supported();
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);

		if (bpf_program__type(prog) != BPF_PROG_TYPE_LSM)
			continue;
		if (!lsm || strncmp(sec, "lsm/", 4) ||
		    libbpf_find_vmlinux_btf_id(sec + 4, BPF_LSM_MAC) < 0)
			bpf_program__set_autoload(prog, false);
	}
}

/* The unix programs carry inet sections for libbpf 1.1's sake: give them
 * their real attach types, or leave them out where the kernel lacks them. */
static void unix_autoload(struct sbx_sbx *skel, bool have)
{
	for (size_t i = 0; i < sizeof(unix_links) / sizeof(unix_links[0]); i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, unix_links[i].prog);

		if (!prog)
			continue;
		if (have)
			bpf_program__set_expected_attach_type(prog, unix_links[i].attach_type);
		else
			bpf_program__set_autoload(prog, false);
	}
}

/* Global links (not per cgroup), pinned like the others: lsm/<hook> as
 * link_lsm_<hook>. */
/* Attaches a global (not per-cgroup) program and pins its link. */
static int attach_global(struct bpf_program *prog, const char *pin, struct sbx_bpf *b,
			 char *why, size_t whylen)
{
	struct bpf_link *link = bpf_program__attach(prog);
	char path[PATH_MAX + 32];
	int r;

	if (!link)
		return sbx_fail(why, whylen, -errno, "attach %s (%s): %s", bpf_program__name(prog),
				bpf_program__section_name(prog), strerror(errno));
	pin_path(&b->paths, pin, path, sizeof(path));
	r = bpf_link__pin(link, path);
	bpf_link__destroy(link);	/* the pin holds it */
	if (r)
		return sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
	return 0;
}

static int attach_lsm(struct sbx_sbx *skel, struct sbx_bpf *b, char *why, size_t whylen)
{
	struct bpf_program *prog;
	char pin[64];
	int r = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		if (bpf_program__type(prog) != BPF_PROG_TYPE_LSM || !bpf_program__autoload(prog))
			continue;
		snprintf(pin, sizeof(pin), "link_lsm_%s", bpf_program__section_name(prog) + 4);
		r = attach_global(prog, pin, b, why, whylen);
		if (r)
			return r;
	}
	return 0;
}

/* The exec guard and the LSM programs are global; their links are pinned
 * like the others. The syscall observers (refusals of seccomp and Landlock,
 * observe mode) are only pinned as programs: they tax every syscall of the
 * host while attached, so core/trace.h attaches them for the sandboxes that
 * need them. */
static int attach_tracing(struct sbx_sbx *skel, struct sbx_bpf *b, char *why, size_t whylen)
{
	const struct {
		struct bpf_program *prog;
		const char *pin;
	} progs[] = { { skel->progs.sbx_sys_enter, SBX_PIN_PROG_SYS_ENTER },
		      { skel->progs.sbx_sys_exit, SBX_PIN_PROG_SYS_EXIT } };
	char path[PATH_MAX + 32];
	int r = attach_global(skel->progs.sbx_exec_guard_prog, LINK_EXEC_GUARD, b, why, whylen);

	for (size_t i = 0; !r && i < sizeof(progs) / sizeof(progs[0]); i++) {
		pin_path(&b->paths, progs[i].pin, path, sizeof(path));
		r = bpf_program__pin(progs[i].prog, path);
		if (r)
			return sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
	}
	return r ? r : attach_lsm(skel, b, why, whylen);
}

static int attach_and_pin(struct sbx_sbx *skel, struct sbx_bpf *b, char *why, size_t whylen)
{
	char path[PATH_MAX + 32];
	int root_fd, r = 0;

	root_fd = open(b->root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return sbx_fail(why, whylen, -errno, "open cgroup root %s: %s", b->root.path,
				strerror(errno));
	for (size_t i = 0; i < sizeof(link_names) / sizeof(link_names[0]) && !r; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, link_names[i].prog);
		struct bpf_link *link = prog ? bpf_program__attach_cgroup(prog, root_fd) : NULL;

		if (!link) {
			r = prog ? -errno : -ENOENT;
			sbx_fail(why, whylen, r, "attach %s to %s: %s", link_names[i].prog,
				 b->root.path, strerror(-r));
			break;
		}
		pin_path(&b->paths, link_names[i].pin, path, sizeof(path));
		r = bpf_link__pin(link, path);
		if (r)
			sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
		bpf_link__destroy(link);	/* the pin holds it */
	}
	for (size_t i = 0; i < sizeof(unix_links) / sizeof(unix_links[0]) && !r; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, unix_links[i].prog);
		struct bpf_link *link;

		if (!prog || !bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach_cgroup(prog, root_fd);
		if (!link) {
			r = -errno;
			sbx_fail(why, whylen, r, "attach %s to %s: %s", unix_links[i].prog,
				 b->root.path, strerror(-r));
			break;
		}
		pin_path(&b->paths, unix_links[i].pin, path, sizeof(path));
		r = bpf_link__pin(link, path);
		if (r)
			sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
		bpf_link__destroy(link);
	}
	close(root_fd);
	if (r)
		return r;
	r = attach_tracing(skel, b, why, whylen);
	if (r)
		return r;
	pin_path(&b->paths, PROG_EMIT_PIN, path, sizeof(path));
	r = bpf_program__pin(skel->progs.sbx_emit_user, path);
	if (r)
		return sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
	pin_path(&b->paths, PROG_TC_SANDBOX_PIN, path, sizeof(path));
	r = bpf_program__pin(skel->progs.sbx_tc_sandbox, path);
	if (!r) {
		pin_path(&b->paths, PROG_TC_HOST_PIN, path, sizeof(path));
		r = bpf_program__pin(skel->progs.sbx_tc_host, path);
	}
	if (r)
		return sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
	return 0;
}

static int pin_maps(struct sbx_sbx *skel, struct sbx_bpf *b, char *why, size_t whylen)
{
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, map_names[i]);
		int r;

		if (!m)
			return -ENOENT;
		pin_path(&b->paths, map_names[i], path, sizeof(path));
		r = bpf_map__pin(m, path);
		if (r)
			return sbx_fail(why, whylen, r, "pin %s: %s", path, strerror(-r));
	}
	return 0;
}

static int load_and_pin(struct sbx_bpf *b, uint32_t ring_size, uint32_t events_size,
			char *why, size_t whylen)
{
	struct sbx_config cfg = {
		.abi_version = SBX_ABI_VERSION, .sandbox_level = b->root.level + 1,
		.root_cgroup_id = b->root.id, .ring_size = ring_size, .events_size = events_size,
		/* probed once here (it loads a program and parses BTF: tens of
		 * ms); every later run reads the answer from sbx_config */
		.flags = (sbx_bpf_lsm_supported() ? SBX_CFGF_BPF_LSM : 0) |
			 (sbx_unix_hooks_supported() ? SBX_CFGF_UNIX_HOOKS : 0),
	};
	struct sbx_sbx *skel;
	__u32 zero = 0;
	int tmpl_fd = -1, r;

	skel = sbx_sbx__open();
	if (!skel)
		return sbx_fail(why, whylen, -errno, "open BPF object: %s", strerror(errno));
	skel->rodata->sandbox_level = cfg.sandbox_level;
	skel->rodata->root_cgroup_id = cfg.root_cgroup_id;
	lsm_autoload(skel);
	unix_autoload(skel, cfg.flags & SBX_CFGF_UNIX_HOOKS);
	r = set_sizes(skel, ring_size, events_size, &tmpl_fd, why, whylen);
	if (!r) {
		r = sbx_sbx__load(skel);
		if (r)
			sbx_fail(why, whylen, r, "load BPF programs: %s (see the verifier log above)",
				 strerror(-r));
	}
	if (!r) {
		r = bpf_map_update_elem(bpf_map__fd(skel->maps.sbx_config), &zero, &cfg, 0) ? -errno : 0;
		if (r)
			sbx_fail(why, whylen, r, "write sbx_config: %s", strerror(-r));
	}
	if (!r && mkdir(b->paths.pin_dir, 0700) < 0 && errno != EEXIST)
		r = sbx_fail(why, whylen, -errno, "mkdir %s: %s", b->paths.pin_dir, strerror(errno));
	if (!r)
		r = pin_maps(skel, b, why, whylen);
	if (!r)
		r = attach_and_pin(skel, b, why, whylen);
	sbx_sbx__destroy(skel);
	if (tmpl_fd >= 0)
		close(tmpl_fd);
	if (r)
		sbx_bpf_unload(&b->paths, NULL, 0);
	return r;
}

static void init_fds(struct sbx_bpf *b)
{
	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++)
		*map_fd_slot(b, i) = -1;
	b->emit_fd = -1;
	b->n_links = 0;
}

/* Whether the pinned setup is this build's and whole: the ABI version of its
 * sbx_config, and every pin that version pins (an earlier build of the same
 * ABI can lack what came later; root may have removed a pin); and attached
 * to a cgroup root that still exists (systemd removes the transient scope
 * that held the root of direct mode when its last run exits). A root of
 * another setup that exists is for adopt() to refuse. */
static bool pinned_setup_current(const struct sbx_instance *p, uint64_t root_id)
{
	char path[PATH_MAX + 32];
	struct sbx_config cfg = { 0 };
	__u32 zero = 0;
	int fd;

	pin_path(p, "sbx_config", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (bpf_map_lookup_elem(fd, &zero, &cfg) < 0)
		cfg.abi_version = 0;
	close(fd);
	return cfg.abi_version == SBX_ABI_VERSION &&
	       (cfg.root_cgroup_id == root_id || sbx_cgroup_id_exists(cfg.root_cgroup_id) != 0) &&
	       !missing_pin(p, cfg.flags, path, sizeof(path));
}

#define live_sandboxes sbx_instance_live

static int bpf_open(struct sbx_bpf *b, bool load, uint32_t ring_size, uint32_t events_size,
		    char *why, size_t whylen)
{
	bool current = false;
	int lock, r;

	sbx_zero(b, sizeof(*b));
	init_fds(b);
	r = sbx_instance_get(&b->paths);
	if (r < 0)
		return sbx_fail(why, whylen, r,
				"invalid SBX_INSTANCE (letters, digits, '_', '.', '-'; at most 48)");
	r = check_bpffs(why, whylen);
	if (r < 0)
		return r;
	r = sbx_cgroot_get(&b->root, b->paths.name, load);
	if (r == -ENOENT && !load)
		return sbx_fail(why, whylen, r, "sbx's programs are not loaded (no cgroup root)");
	if (r < 0)
		return sbx_fail(why, whylen, r,
				"sbx cgroup root: %s (is cgroup2 mounted? SBX_CGROUP_ROOT must lie "
				"below the cgroup2 mount)", strerror(-r));
	lock = sbx_instance_lock(&b->paths);
	if (lock < 0)
		return sbx_fail(why, whylen, lock, "lock %s/lock: %s", b->paths.run_dir,
				strerror(-lock));
	if (load && sbx_bpf_pinned(&b->paths)) {
		current = pinned_setup_current(&b->paths, b->root.id);
		if (!current && !live_sandboxes(&b->paths)) {
			/* an older or incomplete setup with nothing running under it: replace */
			sbx_bpf_unload(&b->paths, NULL, 0);
			sbx_cgroot_get(&b->root, b->paths.name, 1);
		}
	}
	if (!sbx_bpf_pinned(&b->paths)) {
		if (!load) {
			sbx_instance_unlock(lock);
			return sbx_fail(why, whylen, -ENOENT,
					"sbx's programs are not loaded (nothing pinned in %s)",
					b->paths.pin_dir);
		}
		r = load_and_pin(b, ring_size ? ring_size : SBX_DEFAULT_RING_SIZE,
				 events_size ? events_size : SBX_DEFAULT_EVENTS_SIZE, why, whylen);
		b->loaded_now = r == 0;
	}
	if (!r)
		r = adopt(b, !current, why, whylen);
	sbx_instance_unlock(lock);
	if (r < 0)
		sbx_bpf_close(b);
	return r;
}

int sbx_bpf_open(struct sbx_bpf *b, uint32_t ring_size, uint32_t events_size,
		 char *why, size_t whylen)
{
	return bpf_open(b, true, ring_size, events_size, why, whylen);
}

int sbx_bpf_adopt(struct sbx_bpf *b, char *why, size_t whylen)
{
	return bpf_open(b, false, 0, 0, why, whylen);
}

void sbx_bpf_close(struct sbx_bpf *b)
{
	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		int *fd = map_fd_slot(b, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (b->emit_fd >= 0)
		close(b->emit_fd);
	b->emit_fd = -1;
	for (size_t i = 0; i < b->n_links; i++)
		close(b->link_fds[i]);
	b->n_links = 0;
}

int sbx_bpf_unload(const struct sbx_instance *p, char *why, size_t whylen)
{
	char path[PATH_MAX + 32];
	struct sbx_cgroot root;
	int n = 0, r = 0;
	struct dirent *de;
	DIR *d;

	/* v1 directories of sandboxes whose manager and watchdog were killed */
	sbx_limits_remove_instance(p->name);
	d = opendir(p->pin_dir);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		/* nothing pinned: what the caller's lock made goes all the same */
		sbx_instance_remove_run_dir(p);
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		pin_path(p, de->d_name, path, sizeof(path));
		if (unlink(path) < 0)
			r = sbx_fail(why, whylen, -errno, "unlink %s: %s", path, strerror(errno));
		else
			n++;
	}
	closedir(d);
	if (rmdir(p->pin_dir) < 0 && !r)
		r = sbx_fail(why, whylen, -errno, "rmdir %s: %s", p->pin_dir, strerror(errno));
	/* The cgroup root and the run dir go too when no sandbox is left. */
	if (sbx_cgroot_get(&root, p->name, 0) == 0)
		rmdir(root.path);
	sbx_instance_remove_run_dir(p);
	return r < 0 ? r : n;
}

int sbx_bpf_rate_progs(const struct sbx_bpf *b, int *ret_sandbox_fd, int *ret_host_fd,
		       char *why, size_t whylen)
{
	char path[PATH_MAX + 32];
	int fds[2] = { -1, -1 };
	const char *pins[2] = { PROG_TC_SANDBOX_PIN, PROG_TC_HOST_PIN };

	for (int i = 0; i < 2; i++) {
		pin_path(&b->paths, pins[i], path, sizeof(path));
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			int r = -errno;

			if (i)
				close(fds[0]);
			return sbx_fail(why, whylen, r, "open pinned program %s: %s (pins of an "
					"older sbx: run 'sbx unload')", path, strerror(-r));
		}
	}
	*ret_sandbox_fd = fds[0];
	*ret_host_fd = fds[1];
	return 0;
}

/* The bpf(2) calls of the monitor's idle tick, bare: libbpf's wrappers lie
 * in 64 KiB of its text apart from its ring buffer's, which a trimmed
 * monitor would map back every second for two small functions. */
SBX_IDLE_PATH static int sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a)) < 0 ? -errno : 0;
}

SBX_IDLE_PATH int sbx_bpf_lookup(int map_fd, const void *key, void *value)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

SBX_IDLE_PATH int sbx_bpf_emit(const struct sbx_bpf *b, const struct sbx_emit_ctx *ctx, uint64_t *ret_seq)
{
	struct sbx_emit_ctx c = *ctx;
	union bpf_attr a;
	int r;

	/* syscall programs write their context back into ctx_in */
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)b->emit_fd;
	a.test.ctx_in = (uint64_t)(uintptr_t)&c;
	a.test.ctx_size_in = sizeof(c);
	r = sys_bpf(BPF_PROG_TEST_RUN, &a);
	if (r < 0)
		return r;
	if (c.ret_seq < 0)
		return (int)c.ret_seq;
	if (ret_seq)
		*ret_seq = (uint64_t)c.ret_seq;
	return 0;
}
