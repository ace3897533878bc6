/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the policy loader: the input is one policy file,
 * loaded without an environment and with "prod" selected, so that both the
 * plain and the overlay paths run. Everything is freed on every path, so
 * leaks show up under ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_once(const uint8_t *data, size_t size, const char *env)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };

	if (sbx_policy_load_buffer("fuzz.toml", (const char *)data, size, env, &p, &d) == 0) {
		/* Touch what a consumer reads, so bad pointers fault here. */
		for (size_t i = 0; i < p->n_profiles; i++) {
			const struct sbx_profile *pr = &p->profiles[i];

			if (sbx_policy_find(p, pr->name) != pr)
				__builtin_trap();
			for (size_t j = 0; j < pr->net.n_entries; j++)
				if (!pr->net.entries[j].text || !strlen(pr->net.entries[j].text))
					__builtin_trap();
		}
	}
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].file || !d.v[i].msg)
			__builtin_trap();
	sbx_policy_free(p);
	sbx_diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_once(data, size, NULL);
	load_once(data, size, "prod");
	return 0;
}
