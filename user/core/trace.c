/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "core/trace.h"
#include "util/util.h"

/* The links, sys_exit first: an entry armed at sys_enter is only ever
 * reported at sys_exit (bpf/lib/fsaudit.h). */
static const struct {
	const char *prog;
	const char *link;
} tps[2] = {
	{ SBX_PIN_PROG_SYS_EXIT, SBX_PIN_LINK_SYS_EXIT },
	{ SBX_PIN_PROG_SYS_ENTER, SBX_PIN_LINK_SYS_ENTER },
};

static int pin_path(const struct sbx_instance *p, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", p->pin_dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool sbx_trace_pin(const char *name)
{
	return !strcmp(name, SBX_PIN_LINK_SYS_ENTER) || !strcmp(name, SBX_PIN_LINK_SYS_EXIT);
}

int sbx_trace_policy_needs(const struct sbx_bpf *b, uint32_t policy_id)
{
	struct sbx_syscall_set sys;
	struct sbx_policy_cfg pol;
	struct sbx_fs_cfg fs;

	if (bpf_map_lookup_elem(b->policies_fd, &policy_id, &pol) ||
	    bpf_map_lookup_elem(b->syscalls_fd, &policy_id, &sys) ||
	    bpf_map_lookup_elem(b->fscfg_fd, &policy_id, &fs))
		return -errno;
	if (pol.flags & SBX_POLF_OBSERVE)
		return 1;
	if (pol.audit == SBX_AUDITL_NONE)
		return 0;
	if (!(fs.flags & (SBX_FSF_ENFORCE | SBX_FSF_FULL)))
		return 1;
	if (sys.flags)
		return 1;
	for (size_t i = 0; i < SBX_SYSCALL_WORDS; i++)
		if (sys.bits[i])
			return 1;
	return 0;
}

void sbx_trace_close(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void unpin(const struct sbx_instance *p)
{
	char path[PATH_MAX + 32];

	for (int i = 0; i < 2; i++)
		if (pin_path(p, tps[i].link, path, sizeof(path)) == 0)
			unlink(path);
}

/* Opens the pinned links; -ENOENT when one is missing. */
static int open_links(const struct sbx_instance *p, int fds[2])
{
	char path[PATH_MAX + 32];

	for (int i = 0; i < 2; i++) {
		pin_path(p, tps[i].link, path, sizeof(path));
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			int r = -errno;

			sbx_trace_close(fds);
			return r;
		}
	}
	return 0;
}

/* Attaches the pinned program of tps[i] to its tracepoint and pins the link. */
static int attach_one(const struct sbx_instance *p, int i, int *ret_fd, char *why, size_t len)
{
	char path[PATH_MAX + 32];
	int prog, fd, r;

	pin_path(p, tps[i].prog, path, sizeof(path));
	prog = bpf_obj_get(path);
	if (prog < 0)
		return sbx_fail(why, len, -errno, "open pinned program %s: %s (pins of an older "
				"sbx: run 'sbx unload')", path, strerror(errno));
	fd = bpf_raw_tracepoint_open(NULL, prog);
	r = fd < 0 ? -errno : 0;
	close(prog);
	if (r < 0)
		return sbx_fail(why, len, r, "attach %s to its tracepoint: %s", path, strerror(-r));
	pin_path(p, tps[i].link, path, sizeof(path));
	if (bpf_obj_pin(fd, path) < 0) {
		r = sbx_fail(why, len, -errno, "pin %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int attach_links(const struct sbx_instance *p, int fds[2], char *why, size_t len)
{
	int r = 0;

	unpin(p);	/* half a pair, left by a failure: it goes first */
	for (int i = 0; i < 2 && !r; i++)
		r = attach_one(p, i, &fds[i], why, len);
	if (r < 0) {
		sbx_trace_close(fds);
		unpin(p);
	}
	return r;
}

int sbx_trace_acquire_locked(const struct sbx_bpf *b, uint32_t slot, int ret_fds[2],
			     char *why, size_t len)
{
	int fds[2] = { -1, -1 }, r;
	struct sbx_slot s;

	if (bpf_map_lookup_elem(b->slots_fd, &slot, &s))
		return sbx_fail(why, len, -errno, "read slot %u: %s", slot, strerror(errno));
	if (!(s.flags & SBX_SLOTF_ACTIVE))
		return sbx_fail(why, len, -ENOENT, "slot %u is not active", slot);
	/* flagged first: a sweep after this point keeps the links */
	s.flags |= SBX_SLOTF_TRACE;
	if (bpf_map_update_elem(b->slots_fd, &slot, &s, BPF_EXIST))
		return sbx_fail(why, len, -errno, "flag slot %u: %s", slot, strerror(errno));
	r = open_links(&b->paths, fds);
	if (r == -ENOENT)
		r = attach_links(&b->paths, fds, why, len);
	else if (r < 0)
		sbx_fail(why, len, r, "open the pinned links of %s: %s", b->paths.pin_dir,
			 strerror(-r));
	if (r < 0)
		return r;
	if (ret_fds) {
		ret_fds[0] = fds[0];
		ret_fds[1] = fds[1];
	} else {
		sbx_trace_close(fds);	/* the pins hold them */
	}
	return 0;
}

void sbx_trace_sweep(const struct sbx_bpf *b, const struct sbx_slot *all)
{
	const uint32_t need = SBX_SLOTF_ACTIVE | SBX_SLOTF_TRACE;

	for (uint32_t i = 0; i < SBX_MAX_SANDBOXES; i++)
		if ((all[i].flags & need) == need)
			return;
	unpin(&b->paths);
}

bool sbx_trace_attached(const struct sbx_instance *p)
{
	char path[PATH_MAX + 32];

	for (int i = 0; i < 2; i++)
		if (pin_path(p, tps[i].link, path, sizeof(path)) < 0 || access(path, F_OK) < 0)
			return false;
	return true;
}
