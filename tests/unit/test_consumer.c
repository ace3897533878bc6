/* SPDX-License-Identifier: MIT */
/*
 * The example ring-buffer consumer (docs/examples/sbx-consumer.c) decodes
 * every event type of the ABI: each value of enum sbx_event_type, read from
 * the text of bpf/include/sbx_abi.h (so a type added there is seen here
 * without anyone listing it), is fed to the consumer's own on_event(), which
 * must print it by its audit name (core/audit.c's, also checked), never as
 * "unknown". A type added to the ABI without a line in the consumer fails.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "core/audit.h"

/* The consumer is a program: compile it in, with its main() renamed. */
int sbx_consumer_main(int argc, char **argv);
#define main sbx_consumer_main
#include "../../docs/examples/sbx-consumer.c"
#undef main

#define MAX_TYPES 256

/* The values of enum sbx_event_type, as written in the header. */
static size_t abi_event_types(unsigned ret[MAX_TYPES], char enum_names[MAX_TYPES][64])
{
	char path[4096], line[512];
	bool in_enum = false;
	size_t n = 0;
	FILE *f;

	f = fopen(test_srcpath(path, sizeof(path), "bpf/include/sbx_abi.h"), "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && n < MAX_TYPES) {
		unsigned v;
		char name[64];

		if (strstr(line, "enum sbx_event_type {"))
			in_enum = true;
		else if (in_enum && strstr(line, "};"))
			break;
		else if (in_enum && sscanf(line, " %63[A-Z0-9_] = %u", name, &v) == 2) {
			ret[n] = v;
			snprintf(enum_names[n++], 64, "%s", name);
		}
	}
	fclose(f);
	return n;
}

/* What on_event() prints for an event of type t (zeroed payload, the largest size). */
static char *decode(unsigned t)
{
	static union {
		struct sbx_event_hdr hdr;
		char bytes[4096];
	} ev;
	FILE *out = tmpfile();
	int save = dup(1);
	struct stat st;
	char *text;

	assert_non_null(out);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = (uint16_t)t;
	ev.hdr.size = sizeof(ev);
	ev.hdr.seq = 7;
	fflush(stdout);
	dup2(fileno(out), 1);
	on_event(NULL, &ev, sizeof(ev));
	fflush(stdout);
	dup2(save, 1);
	close(save);
	assert_int_equal(fstat(fileno(out), &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(pread(fileno(out), text, (size_t)st.st_size, 0), st.st_size);
	fclose(out);
	return text;
}

static void test_consumer_decodes_every_abi_event_type(void **state)
{
	unsigned types[MAX_TYPES];
	char enum_names[MAX_TYPES][64];
	size_t n = abi_event_types(types, enum_names);

	/* the parse itself must have worked: the ABI has had 10 types since ABI 6 */
	assert_true(n >= 10);
	for (size_t i = 0; i < n; i++) {
		const char *name = sbx_event_name((uint16_t)types[i]);
		char *got = decode(types[i]);
		size_t wl = name ? strlen(name) : 0;

		if (!name)
			fail_msg("%s = %u has no name in user/core/audit.c", enum_names[i], types[i]);
		if (strncmp(got, name, wl) || got[wl] != ' ' || !strstr(got, " seq=7 "))
			fail_msg("%s = %u: the consumer printed \"%s\", expected a line starting \"%s seq=7\" "
				 "(add the type to docs/examples/sbx-consumer.c)", enum_names[i], types[i], got, name);
		free(got);
	}
}

/* The check above would pass for a consumer that printed the name alone:
 * the new types' payloads are decoded too. */
static void test_consumer_decodes_file_and_syscall_payloads(void **state)
{
	char *got = decode(SBX_EV_FILE);

	assert_non_null(strstr(got, " op=? access= error=0 path="));
	free(got);
	got = decode(SBX_EV_SYSCALL_DENIED);
	assert_non_null(strstr(got, " verdict=deny nr=0 ret=0 args=0x0,0x0,0x0"));
	free(got);
	got = decode(999);
	assert_non_null(strstr(got, "unknown type=999"));
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consumer_decodes_every_abi_event_type),
		cmocka_unit_test(test_consumer_decodes_file_and_syscall_payloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
