/* SPDX-License-Identifier: MIT */
/*
 * A program of its own against libsbx (docs/libsbx.md): prints the daemon's
 * version and the sandboxes the caller may see, one "NAME STATE" a line.
 *
 *	cc libsbx-list.c $(pkg-config --cflags --libs libsbx) -o libsbx-list
 *	./libsbx-list [SOCKET]
 *
 * Exit status: 0, or 1 with the library's message on stderr.
 */
#include <stdio.h>
#include <string.h>

#include <sbx/libsbx.h>

int main(int argc, char **argv)
{
	struct sbx_client *c;
	struct sbx_version v;
	json_object *list = NULL;
	int r;

	r = sbx_client_open(argc > 1 ? argv[1] : NULL, &c);
	if (r < 0) {
		fprintf(stderr, "libsbx-list: cannot connect to sbxd: %s\n", strerror(-r));
		return 1;
	}
	r = sbx_version(c, &v);
	if (r == 0)
		printf("sbxd %s api %lld\n", v.version, (long long)v.api);
	if (r == 0)
		r = sbx_list(c, &list);
	if (r < 0) {
		fprintf(stderr, "libsbx-list: %s\n", sbx_client_last_error(c)->message);
		sbx_client_close(c);
		return 1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *sb = json_object_array_get_idx(list, i), *name, *state;

		json_object_object_get_ex(sb, "name", &name);
		json_object_object_get_ex(sb, "state", &state);
		printf("%s %s\n", json_object_get_string(name), json_object_get_string(state));
	}
	/* a varlink error: its name and the sentence for a person */
	r = sbx_status(c, "no-such-sandbox-here", NULL);
	printf("status: %d %s: %s\n", r, sbx_client_last_error(c)->name,
	       sbx_client_last_error(c)->message);
	json_object_put(list);
	sbx_client_close(c);
	return 0;
}
