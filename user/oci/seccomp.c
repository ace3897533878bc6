/* SPDX-License-Identifier: MIT */
/*
 * linux.seccomp of config.json as a libseccomp filter (oci.h,
 * oci_seccomp_load), with runc's semantics so that a profile written for
 * runc (Docker's, Podman's) means the same here:
 * - the default action; the architectures besides the native one;
 * - each rule for each of its names: a name that libseccomp does not know
 *   (a newer call, another architecture's) is skipped, and so is a rule
 *   whose action is the default action (libseccomp would refuse it);
 * - args: when no two args of a rule name the same index, the rule is one
 *   libseccomp rule with all of them (ANDed); when two do, every arg becomes
 *   a rule of its own (ORed, the "old behaviour" runc falls back to, since
 *   libseccomp cannot AND two conditions on one argument);
 * - flags: SECCOMP_FILTER_FLAG_TSYNC, _LOG and _SPEC_ALLOW as libseccomp's
 *   attributes; no other flag is honoured (refused).
 * The filter never sets no_new_privs itself (SCMP_FLTATR_CTL_NNP off): that
 * is process.noNewPrivileges' (proc.c), and without it loading needs
 * CAP_SYS_ADMIN, which proc.c keeps until the filter is in.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "oci/inside.h"
#include "oci/oci.h"
#include "util/util.h"

#define MAX_ARGS 6

bool oci_seccomp_args_split(const struct oci_seccomp_arg *args, size_t n)
{
	unsigned seen = 0;

	for (size_t i = 0; i < n; i++) {
		if (args[i].index < MAX_ARGS && (seen & (1u << args[i].index)))
			return true;
		if (args[i].index < MAX_ARGS)
			seen |= 1u << args[i].index;
	}
	return false;
}

static int set_flags(scmp_filter_ctx ctx, uint32_t flags, char *why, size_t len)
{
	static const struct {
		uint32_t flag;
		enum scmp_filter_attr attr;
		const char *name;
	} map[] = {
		{ SECCOMP_FILTER_FLAG_TSYNC, SCMP_FLTATR_CTL_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC" },
		{ SECCOMP_FILTER_FLAG_LOG, SCMP_FLTATR_CTL_LOG, "SECCOMP_FILTER_FLAG_LOG" },
		{ SECCOMP_FILTER_FLAG_SPEC_ALLOW, SCMP_FLTATR_CTL_SSB, "SECCOMP_FILTER_FLAG_SPEC_ALLOW" },
	};
	uint32_t left = flags;
	int r;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!(flags & map[i].flag))
			continue;
		left &= ~map[i].flag;
		r = seccomp_attr_set(ctx, map[i].attr, 1);
		if (r < 0)
			return sbx_fail(why, len, r, "linux.seccomp.flags: %s: %s", map[i].name,
					strerror(-r));
	}
	if (left)
		return sbx_fail(why, len, -EINVAL, "linux.seccomp.flags: flag 0x%x is not supported",
				left);
	return seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
}

static int add_arches(scmp_filter_ctx ctx, const struct oci_seccomp *sc, char *why, size_t len)
{
	for (size_t i = 0; i < sc->n_arches; i++) {
		int r;

		if (sc->arches[i] == seccomp_arch_native())
			continue;
		r = seccomp_arch_add(ctx, sc->arches[i]);
		if (r < 0 && r != -EEXIST)
			return sbx_fail(why, len, r, "linux.seccomp.architectures[%zu]: %s", i,
					strerror(-r));
	}
	return 0;
}

static int add_name(scmp_filter_ctx ctx, const struct oci_seccomp_rule *ru, int nr)
{
	struct scmp_arg_cmp cmp[MAX_ARGS];
	int r;

	if (ru->n_args > MAX_ARGS)
		return -E2BIG;
	for (size_t i = 0; i < ru->n_args; i++) {
		if (ru->args[i].index >= MAX_ARGS)
			return -EINVAL;
		cmp[i] = (struct scmp_arg_cmp){ .arg = ru->args[i].index,
						.op = (enum scmp_compare)ru->args[i].op,
						.datum_a = ru->args[i].value,
						.datum_b = ru->args[i].value2 };
	}
	if (!oci_seccomp_args_split(ru->args, ru->n_args))
		return seccomp_rule_add_array(ctx, ru->action, nr, (unsigned)ru->n_args, cmp);
	for (size_t i = 0; i < ru->n_args; i++)
		if ((r = seccomp_rule_add_array(ctx, ru->action, nr, 1, &cmp[i])) < 0)
			return r;
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct oci_seccomp *sc, char *why, size_t len)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct oci_seccomp_rule *ru = &sc->rules[i];

		if (ru->action == sc->default_action)
			continue;
		for (size_t j = 0; ru->names && ru->names[j]; j++) {
			int nr = seccomp_syscall_resolve_name(ru->names[j]);
			int r;

			if (nr == __NR_SCMP_ERROR)
				continue;	/* unknown to libseccomp: skipped, as runc does */
			r = add_name(ctx, ru, nr);
			if (r < 0)
				return sbx_fail(why, len, r, "linux.seccomp.syscalls[%zu] \"%s\": %s", i,
						ru->names[j], strerror(-r));
		}
	}
	return 0;
}

int oci_seccomp_load(const struct oci_seccomp *sc, char *why, size_t len)
{
	scmp_filter_ctx ctx;
	int r;

	if (!sc)
		return 0;
	ctx = seccomp_init(sc->default_action);
	if (!ctx)
		return sbx_fail(why, len, -EINVAL, "linux.seccomp.defaultAction: libseccomp refused "
				"0x%x", sc->default_action);
	r = set_flags(ctx, sc->flags, why, len);
	if (!r)
		r = add_arches(ctx, sc, why, len);
	if (!r)
		r = add_rules(ctx, sc, why, len);
	if (!r && (r = seccomp_load(ctx)) < 0)
		sbx_fail(why, len, r, "linux.seccomp: loading the filter: %s", strerror(-r));
	seccomp_release(ctx);
	return r;
}
