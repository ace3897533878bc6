/* SPDX-License-Identifier: MIT */
/*
 * bench/core/policy_cost.c - what a large policy costs sbx run before any
 * kernel work: load the file (read, parse, validate), plan the filesystem
 * policy for the process provider (the mount view with Landlock) and
 * compile the profile's entries into map keys, as sbx run does; no map is
 * written, no sandbox is made. Prints the milliseconds of CPU time of each
 * of ROUNDS rounds, one line each: "load plan compile total". CPU time, not
 * wall time: on the shared 2-CPU machines a busy minute stretches the wall
 * time of a single-threaded step 10-20x, its CPU time hardly at all.
 *
 *   policy_cost FILE PROFILE ROUNDS
 *
 * Linked with the core (make OUTPUT/bench/policy_cost), unlike the bench's
 * other helpers, which are standalone programs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compile.h"
#include "core/fsplan.h"
#include "core/resolve.h"
#include "policy.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const struct sbx_profile *find_profile(const struct sbx_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->n_profiles; i++)
		if (!strcmp(pol->profiles[i].name, name))
			return &pol->profiles[i];
	return NULL;
}

/* One round; 0 or a negative errno with the reason printed. */
static int round_once(const char *file, const char *name, double ms[3])
{
	struct sbx_fsplan_features ft = { .view = true, .landlock_abi = 7, .provider = "process" };
	struct sbx_diags d = { 0 };
	struct sbx_policy *pol = NULL;
	const struct sbx_profile *p;
	struct sbx_resolved res = { 0 };
	struct sbx_compiled c;
	struct sbx_fsplan pl;
	char why[1024];
	double t0 = now_ms(), t1, t2;
	int r = sbx_policy_load(&file, 1, NULL, &pol, &d);

	if (r != 0 || !(p = find_profile(pol, name))) {
		fprintf(stderr, "policy_cost: %s: %s\n", file, r ? "invalid" : "no such profile");
		sbx_diags_free(&d);
		sbx_policy_free(pol);
		return r ? r : -ENOENT;
	}
	t1 = now_ms();
	r = sbx_fsplan_make(p, &ft, &pl, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "policy_cost: %s\n", why);
		goto out;
	}
	sbx_fsplan_free(&pl);
	t2 = now_ms();
	r = sbx_resolve(p, false, &res, why, sizeof(why));
	if (r == 0)
		r = sbx_compile(p, res.entries, res.n, 2, &c, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "policy_cost: %s\n", why);
		goto out;
	}
	sbx_compiled_free(&c);
	ms[0] = t1 - t0;
	ms[1] = t2 - t1;
	ms[2] = now_ms() - t2;
out:
	sbx_resolved_free(&res);
	sbx_diags_free(&d);
	sbx_policy_free(pol);
	return r;
}

int main(int argc, char **argv)
{
	int rounds = argc == 4 ? atoi(argv[3]) : 0;

	if (rounds <= 0) {
		fprintf(stderr, "usage: policy_cost FILE PROFILE ROUNDS\n");
		return 2;
	}
	for (int i = 0; i < rounds; i++) {
		double ms[3];

		if (round_once(argv[1], argv[2], ms) < 0)
			return 1;
		printf("%.3f %.3f %.3f %.3f\n", ms[0], ms[1], ms[2], ms[0] + ms[1] + ms[2]);
	}
	return 0;
}
