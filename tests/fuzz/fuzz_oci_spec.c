/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for sbx-oci's config.json reader (user/oci/spec*.c):
 * the input is parsed as a whole config.json (against a bundle with an
 * empty rootfs/, so that the parser goes past root.path) and as an
 * `exec --process` document. On success every string a caller reads is
 * touched; on failure the error must be a sentence naming the file. All is
 * freed on every path, so leaks show up under ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char bundle[64];
static char rootfs[96];
static volatile size_t sink;

static void remove_bundle(void)
{
	rmdir(rootfs);
	rmdir(bundle);
}

static void make_bundle(void)
{
	strcpy(bundle, "/tmp/sbx-fuzz-oci-XXXXXX");
	if (!mkdtemp(bundle))
		abort();
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	if (mkdir(rootfs, 0755) < 0)
		abort();
	atexit(remove_bundle);
}

static void touch_strv(char **v)
{
	for (; v && *v; v++)
		sink += strlen(*v);
}

static void touch_process(const struct oci_process *p)
{
	if (!p->args || !p->args[0] || !p->cwd || p->cwd[0] != '/')
		abort();
	touch_strv(p->args);
	touch_strv(p->env);
	for (size_t i = 0; i < p->user.n_additional_gids; i++)
		sink += p->user.additional_gids[i];
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].soft > p->rlimits[i].hard)
			abort();
}

static void touch_spec(const struct oci_spec *s)
{
	if (!s->root_path || s->root_path[0] != '/' || !s->oci_version)
		abort();
	for (size_t i = 0; i < s->n_mounts; i++) {
		if (s->mounts[i].destination[0] != '/')
			abort();
		sink += s->mounts[i].data ? strlen(s->mounts[i].data) : 0;
	}
	if (s->has_process)
		touch_process(&s->process);
	for (size_t i = 0; i < s->n_annotations; i++)
		if (oci_annotation(s, s->annotations[i].key) == NULL)
			abort();
	for (size_t i = 0; i < s->n_namespaces; i++)
		if (oci_namespace_of(s, s->namespaces[i].type) != &s->namespaces[i])
			abort();
	for (size_t i = 0; i < s->n_sysctl; i++)
		sink += strlen(s->sysctl[i].key) + strlen(s->sysctl[i].value);
	for (size_t i = 0; s->seccomp && i < s->seccomp->n_rules; i++)
		touch_strv(s->seccomp->rules[i].names);
	touch_strv(s->masked_paths);
	touch_strv(s->readonly_paths);
	touch_strv(s->warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_process p;
	struct oci_spec s;
	char why[512];

	if (!bundle[0])
		make_bundle();
	why[0] = 0;
	if (oci_spec_parse((const char *)data, size, bundle, &s, why, sizeof(why)) == 0) {
		touch_spec(&s);
		oci_spec_free(&s);
	} else if (strncmp(why, "config.json", 11)) {
		abort();
	}
	why[0] = 0;
	if (oci_process_parse((const char *)data, size, &p, why, sizeof(why)) == 0) {
		touch_process(&p);
		oci_process_free(&p);
	} else if (strncmp(why, "process.json", 12)) {
		abort();
	}
	return 0;
}
