/* SPDX-License-Identifier: MIT */
/* `sbx providers`: every isolation provider, its level, and whether it can
 * run here (and if not, why). */
#include <stdio.h>

#include "cli/cli.h"
#include "provider.h"

static int providers_run(const struct cli_verb *self, int argc, char **argv)
{
	struct json_writer w;
	struct cli_parser a;
	int r;

	cli_parser_init(&a, self, argc, argv);
	r = cli_next_option(&a);
	if (r < 0)
		return cli_parse_exit(r);
	if (a.n_args)
		return cli_usage(self, "unexpected argument '%s'", a.args[0]);
	if (cli_opts.json) {
		cli_json_begin(&w);
		json_begin_object(&w);
		json_key(&w, "providers");
		json_begin_array(&w);
	} else {
		printf("%-10s %-10s %-10s %s\n", "PROVIDER", "ISOLATION", "AVAILABLE", "DETAIL");
	}
	for (size_t i = 0; sbx_providers[i]; i++) {
		const struct sbx_provider *pv = sbx_providers[i];
		char why[512] = "";
		bool ok = pv->probe(why, sizeof(why)) == 0;

		if (!cli_opts.json) {
			printf("%-10s %-10s %-10s %s\n", pv->name, sbx_isolation_name(pv->level),
			       ok ? "yes" : "no", ok ? pv->summary : why);
			continue;
		}
		json_begin_object(&w);
		json_kv_string(&w, "name", pv->name);
		json_kv_string(&w, "isolation", sbx_isolation_name(pv->level));
		json_kv_bool(&w, "available", ok);
		json_kv_string(&w, "summary", pv->summary);
		if (ok)
			json_kv_null(&w, "reason");
		else
			json_kv_string(&w, "reason", why);
		json_end_object(&w);
	}
	if (!cli_opts.json)
		return SBX_EXIT_OK;
	json_end_array(&w);
	json_end_object(&w);
	return cli_json_end(&w) < 0 ? SBX_EXIT_FAILURE : SBX_EXIT_OK;
}

const struct cli_verb cli_verb_providers = {
	.name = "providers", .cmd = "providers", .run = providers_run,
	.summary = "list isolation providers and whether they are available here",
	.synopsis = "providers [--json]",
	.description =
		"  List every isolation provider sbx has, its isolation level (none <\n"
		"  process < gvisor < microvm; wasm is its own level), and whether it can run\n"
		"  on this machine; when it cannot, the reason. `sbx run --provider auto`\n"
		"  (the default) picks the strongest available provider that meets the\n"
		"  profile's min_isolation. With --json:\n"
		"    {\"providers\": [{\"name\", \"isolation\", \"available\", \"summary\", \"reason\"}]}\n",
	.options =
		"  -j, --json      print JSON on stdout\n"
		"  -p, --pretty    indent the JSON output; implies --json\n"
		"  -h, --help      show this help\n",
	.exit_status = "  0  success\n  1  the output could not be written\n  2  usage error\n",
	.examples = "  sbx providers\n  sbx providers --json | jq -r '.providers[] | select(.available) | .name'\n",
};
