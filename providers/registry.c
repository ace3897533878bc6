/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "provider.h"

const struct sbx_provider *const sbx_providers[] = {
	&sbx_provider_host,
	&sbx_provider_process,
	NULL,
};

const struct sbx_provider *sbx_provider_find(const char *name)
{
	for (size_t i = 0; sbx_providers[i]; i++)
		if (!strcmp(sbx_providers[i]->name, name))
			return sbx_providers[i];
	return NULL;
}
