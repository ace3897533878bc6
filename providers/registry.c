/* SPDX-License-Identifier: MIT */
/* The provider registry. Providers are declared weak so that each one is a
 * self-contained file: a build without one simply lacks it. */
#include <string.h>

#include "provider.h"

#define WEAK __attribute__((weak))
extern const struct sbx_provider sbx_provider_mock WEAK;
extern const struct sbx_provider sbx_provider_wasm WEAK;
extern const struct sbx_provider sbx_provider_gvisor WEAK;
extern const struct sbx_provider sbx_provider_microvm WEAK;

/* Weakest isolation first: "auto" picks the last available one that fits. */
static const struct sbx_provider *const known[] = {
	&sbx_provider_mock, &sbx_provider_host, &sbx_provider_process, &sbx_provider_wasm,
	&sbx_provider_gvisor, &sbx_provider_microvm,
};

const struct sbx_provider *sbx_providers[sizeof(known) / sizeof(known[0]) + 1];

__attribute__((constructor)) static void fill_registry(void)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i])
			sbx_providers[n++] = known[i];
	sbx_providers[n] = NULL;
}

const struct sbx_provider *sbx_provider_find(const char *name)
{
	for (size_t i = 0; sbx_providers[i]; i++)
		if (!strcmp(sbx_providers[i]->name, name))
			return sbx_providers[i];
	return NULL;
}
