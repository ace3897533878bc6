/* SPDX-License-Identifier: MIT */
/* `sbx features`: prints what the kernel can do for sbx (sbx_features.c probes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/trace.h"
#include "kernel/features.h"

/* Rows selected by the NAME arguments (all when there are none). */
static bool selected(const struct sbx_feature *it, char **names, int n)
{
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (strcmp(it->name, names[i]) == 0)
			return true;
	return false;
}

/* The instance's syscall tracepoints (core/trace.h): "attached" while a
 * sandbox needs them, "detached", or "not-loaded" (nothing pinned). */
static const char *syscall_tracing(struct sbx_instance *in)
{
	if (sbx_instance_get(in) < 0 || !sbx_bpf_pinned(in))
		return "not-loaded";
	return sbx_trace_attached(in) ? "attached" : "detached";
}

static void print_table(const struct sbx_features *f, char **names, int n)
{
	int w = (int)strlen("FEATURE");

	for (size_t i = 0; i < f->n; i++)
		if (selected(&f->items[i], names, n) && (int)strlen(f->items[i].name) > w)
			w = (int)strlen(f->items[i].name);
	printf("kernel %s (%s)\n\n", f->kernel, f->machine);
	printf("%-*s  %-9s  %s\n", w, "FEATURE", "AVAILABLE", "DETAIL");
	for (size_t i = 0; i < f->n; i++) {
		const struct sbx_feature *it = &f->items[i];

		if (selected(it, names, n))
			printf("%-*s  %-9s  %s\n", w, it->name, it->available ? "yes" : "no",
			       it->detail);
	}
	if (n > 0)
		return;
	printf("\nfilesystem/exec policy backend: %s", sbx_features_fs_backend(f));
	if (!f->bpf_lsm && f->landlock_abi > 0)
		printf(" (ABI %d; BPF LSM not functional: rules Landlock cannot express "
		       "are refused)", f->landlock_abi);
	printf("\n");
	struct sbx_instance in = { 0 };
	const char *tr = syscall_tracing(&in);

	printf("syscall tracing of instance %s (tp_btf/sys_enter, sys_exit): %s\n", in.name,
	       !strcmp(tr, "attached") ? "attached (a running sandbox audits syscalls)" :
	       !strcmp(tr, "detached") ? "detached (no running sandbox needs it)" :
	       "not loaded");
}

static int print_json(const struct sbx_features *f, char **names, int n)
{
	struct json_writer w;

	cli_json_begin(&w);
	json_begin_object(&w);
	json_kv_string(&w, "kernel", f->kernel);
	json_kv_string(&w, "machine", f->machine);
	json_key(&w, "features");
	json_begin_array(&w);
	for (size_t i = 0; i < f->n; i++) {
		const struct sbx_feature *it = &f->items[i];

		if (!selected(it, names, n))
			continue;
		json_begin_object(&w);
		json_kv_string(&w, "name", it->name);
		json_kv_bool(&w, "available", it->available);
		json_kv_string(&w, "detail", it->detail);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_kv_string(&w, "fs_backend", sbx_features_fs_backend(f));
	json_kv_int(&w, "landlock_abi", f->landlock_abi);
	json_kv_string(&w, "cgroup2_mount", f->cgroup2 ? f->cgroup2_mount : NULL);
	struct sbx_instance in = { 0 };

	json_kv_string(&w, "syscall_tracing", syscall_tracing(&in));
	json_kv_string(&w, "instance", in.name[0] ? in.name : NULL);
	json_end_object(&w);
	return cli_json_end(&w);
}

static int check_names(const struct cli_verb *self, const struct sbx_features *f,
		       char **names, int n)
{
	for (int i = 0; i < n; i++)
		if (!sbx_features_find(f, names[i]))
			return cli_usage(self, "unknown feature '%s' (see 'sbx features')",
					 names[i]);
	return 0;
}

static int features_run(const struct cli_verb *self, int argc, char **argv)
{
	struct sbx_features *f;
	struct cli_parser p;
	int r;

	r = cli_parse_no_options(&p, self, argc, argv);
	if (r < 0)
		return cli_parse_exit(r);
	f = calloc(1, sizeof(*f));
	if (!f)
		return log_error_errno(-ENOMEM, "probing kernel features: %m"), SBX_EXIT_FAILURE;
	r = sbx_features_probe(f);
	if (r < 0) {
		free(f);
		return log_error_errno(r, "probing kernel features: %m"), SBX_EXIT_FAILURE;
	}
	r = check_names(self, f, p.args, p.n_args);
	if (r == 0 && cli_opts.json)
		r = print_json(f, p.args, p.n_args) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
	else if (r == 0)
		print_table(f, p.args, p.n_args);
	free(f);
	return r;
}

const struct cli_verb cli_verb_features = {
	.name = "features",
	.cmd = "features",
	.run = features_run,
	.summary = "show which kernel features sbx can use here",
	.synopsis = "features [--json] [NAME]...",
	.description =
		"  Probe the running kernel for every feature sbx uses and print what was\n"
		"  found: one row per feature with its name, whether it is available, and a\n"
		"  detail that says what was found or why the feature is missing. With NAME\n"
		"  arguments, print only those rows.\n"
		"\n"
		"  Probes are functional, not read from lists: BPF programs are loaded (and\n"
		"  for bpf_lsm and tp_btf attached and observed firing for this process), a\n"
		"  child is cloned into a temporary cgroup, a seccomp filter is installed and\n"
		"  a user namespace created in throw-away children. \"bpf\" listed among the\n"
		"  active LSMs does not make bpf_lsm available: it must load and fire.\n"
		"\n"
		"  The only cgroup created is <cgroup2 mount><own cgroup>/sbx-probe-<pid>; it\n"
		"  is removed before sbx exits. Most probes need root (CAP_BPF, CAP_SYS_ADMIN);\n"
		"  run unprivileged, they report what an unprivileged sbx could use.\n"
		"\n"
		"  The last line names the filesystem/exec policy backend sbx will use:\n"
		"  bpf-lsm when it works, else landlock, else none. docs/features.md explains\n"
		"  each row.\n"
		"\n"
		"  Output (--json): {\"kernel\": \"...\", \"machine\": \"...\", \"features\":\n"
		"  [{\"name\": \"...\", \"available\": true, \"detail\": \"...\"}, ...],\n"
		"  \"fs_backend\": \"...\", \"landlock_abi\": N, \"cgroup2_mount\": \"...\"}\n",
	.options =
		"  -j, --json      print one JSON object\n"
		"  -p, --pretty    pretty-print JSON; implies --json\n"
		"  -h, --help      show this help\n",
	.exit_status =
		"  0  the report was printed, whatever it says\n"
		"  1  probing itself failed (out of memory, no uname) or output failed\n"
		"  2  usage error (unknown option or feature NAME)\n",
	.examples =
		"  sbx features\n"
		"  sbx features --pretty\n"
		"  sbx features bpf_lsm landlock\n"
		"  sbx features -j | jq -r '.features[] | select(.available | not) | .name'\n",
};
