// SPDX-License-Identifier: MIT
/*
 * update_tool: drives a live policy update (core/update.h) from outside the
 * sandbox's `sbx run`, as the daemon does, for tests/integration/test_update.sh.
 *
 *   update_tool update POLICY CUR NEXT ID   move sandbox ID (of $SBX_INSTANCE)
 *                                           from profile CUR to NEXT of POLICY;
 *                                           prints "ok old=N new=M" or
 *                                           "error: WHY" (exit 1)
 *   update_tool tightens POLICY CUR NEXT    prints "1" or "0: WHY"
 *   update_tool alloc MIB [HOLD]            allocates and touches MIB MiB, then
 *                                           prints "ok" (run inside a sandbox); with
 *                                           HOLD, keeps the memory until file HOLD
 *                                           exists
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/instance.h"
#include "core/update.h"
#include "policy.h"

static struct sbx_policy *load(const char *file)
{
	const char *paths[] = { file };
	struct sbx_diags d = {};
	struct sbx_policy *p = NULL;

	if (sbx_policy_load(paths, 1, NULL, &p, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s:%u:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].col,
				d.v[i].msg);
		p = NULL;
	}
	sbx_diags_free(&d);
	return p;
}

static const struct sbx_profile *find(const struct sbx_policy *p, const char *name)
{
	const struct sbx_profile *pr = sbx_policy_find(p, name);

	if (!pr)
		fprintf(stderr, "no profile %s\n", name);
	return pr;
}

static int update(char **argv)
{
	struct sbx_policy *p = load(argv[0]);
	const struct sbx_profile *cur = p ? find(p, argv[1]) : NULL;
	const struct sbx_profile *next = p ? find(p, argv[2]) : NULL;
	struct sbx_update_report rep;
	struct sbx_instance in;
	char why[1024] = "";
	int r;

	if (!cur || !next || sbx_instance_get(&in) < 0)
		return 2;
	r = sbx_live_update(&in, argv[3], cur, next, &rep, why, sizeof(why));
	if (r < 0)
		printf("error: %s\n", why);
	else
		printf("ok old=%u new=%u slot=%u memory=%llu\n", rep.old_policy_id,
		       rep.new_policy_id, rep.slot,
		       (unsigned long long)rep.limits_after.memory_bytes);
	sbx_policy_free(p);
	return r < 0 ? 1 : 0;
}

static int tightens(char **argv)
{
	struct sbx_policy *p = load(argv[0]);
	const struct sbx_profile *cur = p ? find(p, argv[1]) : NULL;
	const struct sbx_profile *next = p ? find(p, argv[2]) : NULL;
	char why[512] = "";
	int r;

	if (!cur || !next)
		return 2;
	r = sbx_profile_tightens(cur, next, why, sizeof(why));
	printf(r ? "1\n" : "0: %s\n", why);
	sbx_policy_free(p);
	return 0;
}

static int alloc(const char *mib, const char *hold)
{
	size_t n = strtoul(mib, NULL, 10) << 20;
	char *m = malloc(n);

	if (!m) {
		printf("ENOMEM\n");
		return 1;
	}
	for (size_t i = 0; i < n; i += 4096)
		m[i] = 1;
	printf("ok\n");
	while (hold && access(hold, F_OK) < 0)
		usleep(20000);
	free(m);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && !strcmp(argv[1], "update"))
		return update(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "tightens"))
		return tightens(argv + 2);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "alloc"))
		return alloc(argv[2], argc == 4 ? argv[3] : NULL);
	fprintf(stderr, "usage: update_tool update POLICY CUR NEXT ID | tightens POLICY CUR NEXT | "
		"alloc MIB [HOLD]\n");
	return 2;
}
