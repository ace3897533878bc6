/* SPDX-License-Identifier: MIT */
/* The provider registry: one table, so that the list of providers is in one
 * place and a missing provider is a link error, not a silent gap. */
#include <string.h>

#include "provider.h"

/* Weakest isolation first: the order in which `sbx providers` lists them. */
const struct sbx_provider *const sbx_providers[] = {
	&sbx_provider_mock, &sbx_provider_host, &sbx_provider_process, &sbx_provider_wasm,
	&sbx_provider_gvisor, &sbx_provider_unikernel, &sbx_provider_microvm, &sbx_provider_tee, NULL,
};

const struct sbx_provider *sbx_provider_find(const char *name)
{
	for (size_t i = 0; sbx_providers[i]; i++)
		if (!strcmp(sbx_providers[i]->name, name))
			return sbx_providers[i];
	return NULL;
}
