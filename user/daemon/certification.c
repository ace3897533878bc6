/* SPDX-License-Identifier: MIT */
/*
 * A certification run is one client calling Start, Test01 ... Test11 and
 * End, each test with what the one before it returned. The server checks
 * every parameter it gets and the call's flags (Test10 must ask for "more"
 * and gets ten replies, Test11 must be "oneway" and gets none), and End
 * answers all_ok only when every test passed in order. A wrong value is
 * answered with CertificationError {wants, got}; a failure that cannot be
 * answered (in the oneway Test11) still turns End's all_ok false.
 *
 * The state of the runs is a small table: a Start past its size drops the
 * oldest run, so no client can make the daemon hold more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/certification.h"
#include "varlink/varlink.h"

#define CERT_IFACE		"org.varlink.certification"
#define CERT_MAX_CLIENTS	16
#define CERT_LAST_TEST		11
#define CERT_STREAM_TEST	10	/* answers with "continues" */
#define CERT_ONEWAY_TEST	11
#define CERT_STREAM_REPLIES	10

struct cert_client {
	char id[37];			/* a UUID; "" = a free slot */
	uint64_t born;			/* order of Start: the oldest is dropped first */
	int passed;			/* the last test passed, in order */
	bool failed;
};

struct cert_state {
	struct cert_client clients[CERT_MAX_CLIENTS];
	uint64_t starts;
};

static struct cert_state cert_state;

/*
 * chain[n] is what TestNN+1 must be called with, and so what TestNN
 * returns: chain[0] is Test01's input (nothing but client_id) and
 * chain[10] Test11's, the strings Test10 streamed.
 */
#define PI		"3.141592653589793"
#define SCALARS		"{\"bool\": false, \"int\": 2, \"float\": " PI ", \"string\": \"a lot of string\"}"
#define MAP		"{\"foo\": \"Foo\", \"bar\": \"Bar\"}"
#define SET		"{\"one\": {}, \"two\": {}, \"three\": {}}"

static const char *const chain[CERT_LAST_TEST] = {
	"{}",
	"{\"bool\": true}",
	"{\"int\": 1}",
	"{\"float\": 1.0}",
	"{\"string\": \"ping\"}",
	SCALARS,
	"{\"struct\": " SCALARS "}",
	"{\"map\": " MAP "}",
	"{\"set\": " SET "}",
	"{\"mytype\": {"
		"\"object\": {\"method\": \"" CERT_IFACE ".Test09\", \"parameters\": {\"map\": " MAP "}}, "
		"\"enum\": \"two\", "
		"\"struct\": {\"first\": 1, \"second\": \"2\"}, "
		"\"array\": [\"one\", \"two\", \"three\"], "
		"\"dictionary\": " MAP ", "
		"\"stringset\": " SET ", "
		"\"nullable\": null, "
		"\"nullable_array_struct\": null, "
		"\"interface\": {"
			"\"foo\": [null, {\"Foo\": \"foo\", \"Bar\": \"bar\"}, null, "
				  "{\"one\": \"foo\", \"two\": \"bar\"}], "
			"\"anon\": {\"foo\": true, \"bar\": false}}}}",
	"{\"last_more_replies\": [\"Reply number 1\", \"Reply number 2\", \"Reply number 3\", "
		"\"Reply number 4\", \"Reply number 5\", \"Reply number 6\", \"Reply number 7\", "
		"\"Reply number 8\", \"Reply number 9\", \"Reply number 10\"]}",
};

static bool is_null(json_object *o)
{
	return !o || json_object_is_type(o, json_type_null);
}

static bool is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

static bool json_same(json_object *a, json_object *b);

/* Every member of a is in b with the same value; an absent member is null. */
static bool members_in(json_object *a, json_object *b)
{
	json_object_object_foreach(a, key, va) {
		json_object *vb = NULL;

		json_object_object_get_ex(b, key, &vb);
		if (!json_same(va, vb))
			return false;
	}
	return true;
}

/* Equal as varlink values: a float may come as 1 or 1.0, and an optional
 * field may be null or left out. The recursion ends at the shallower side. */
static bool json_same(json_object *a, json_object *b)
{
	size_t n;

	if (is_null(a) || is_null(b))
		return is_null(a) && is_null(b);
	if (is_number(a) && is_number(b)) {
		if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int))
			return json_object_get_int64(a) == json_object_get_int64(b);
		return json_object_get_double(a) == json_object_get_double(b);
	}
	if (json_object_get_type(a) != json_object_get_type(b))
		return false;
	switch (json_object_get_type(a)) {
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       !memcmp(json_object_get_string(a), json_object_get_string(b),
			       (size_t)json_object_get_string_len(a));
	case json_type_array:
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!json_same(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return false;
		return true;
	case json_type_object:
		return members_in(a, b) && members_in(b, a);
	default:
		return false;
	}
}

static json_object *kv(const char *key, json_object *value)
{
	json_object *o = json_object_new_object();

	if (!o || json_object_object_add(o, key, value)) {
		json_object_put(o);
		json_object_put(value);
		return NULL;
	}
	return o;
}

/* CertificationError: the run is spoiled whether or not the reply arrives. */
static int cert_fail(struct vl_call *c, struct cert_client *cl, json_object *wants, json_object *got)
{
	json_object *p = json_object_new_object();

	cl->failed = true;
	if (p) {
		json_object_object_add(p, "wants", wants);
		json_object_object_add(p, "got", got);
	} else {
		json_object_put(wants);
		json_object_put(got);
	}
	return vl_call_error(c, CERT_IFACE ".CertificationError", p);
}

static void uuid_text(const uint8_t b[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = '\0';
}

/* A free slot, or the oldest run's. */
static struct cert_client *client_slot(struct cert_state *st)
{
	struct cert_client *oldest = &st->clients[0];

	for (size_t i = 0; i < CERT_MAX_CLIENTS; i++) {
		struct cert_client *cl = &st->clients[i];

		if (!cl->id[0])
			return cl;
		if (cl->born < oldest->born)
			oldest = cl;
	}
	return oldest;
}

/* The run named by params.client_id; replies and returns NULL when there is none. */
static struct cert_client *client_of(struct cert_state *st, struct vl_call *c, json_object *params)
{
	const char *id;

	if (vl_get_string(params, "client_id", &id) < 0) {
		vl_call_invalid(c, "client_id");
		return NULL;
	}
	for (size_t i = 0; i < CERT_MAX_CLIENTS; i++)
		if (st->clients[i].id[0] && !strcmp(st->clients[i].id, id))
			return &st->clients[i];
	vl_call_error(c, CERT_IFACE ".ClientIdError", NULL);
	return NULL;
}

static int cert_start(struct vl_call *c, json_object *params, void *data)
{
	struct cert_state *st = data;
	struct cert_client *cl;
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	cl = client_slot(st);
	memset(cl, 0, sizeof(*cl));
	uuid_text(b, cl->id);
	cl->born = ++st->starts;
	return vl_call_reply(c, kv("client_id", json_object_new_string(cl->id)));
}

/* Test10's answer: ten replies, all but the last with "continues". A
 * failed send ends the stream (the final reply is then dropped). */
static int cert_stream(struct vl_call *c)
{
	char s[32];

	for (int i = 1; i < CERT_STREAM_REPLIES; i++) {
		snprintf(s, sizeof(s), "Reply number %d", i);
		if (vl_call_notify(c, kv("string", json_object_new_string(s))) < 0)
			break;
	}
	snprintf(s, sizeof(s), "Reply number %d", CERT_STREAM_REPLIES);
	return vl_call_reply(c, kv("string", json_object_new_string(s)));
}

/* The flag the test needs: Test10 "more", Test11 "oneway". */
static int check_flags(struct vl_call *c, struct cert_client *cl, int n)
{
	const char *flag = NULL;
	bool set = true;

	if (n == CERT_STREAM_TEST) {
		flag = "more";
		set = vl_call_more(c);
	} else if (n == CERT_ONEWAY_TEST) {
		flag = "oneway";
		set = vl_call_oneway(c);
	}
	if (set)
		return 0;
	cert_fail(c, cl, kv(flag, json_object_new_boolean(1)), kv(flag, json_object_new_boolean(0)));
	return 1;
}

static int cert_test(struct vl_call *c, json_object *params, void *data)
{
	const char *name = strrchr(vl_call_method(c), '.') + 1;
	int n = atoi(name + strlen("Test"));
	struct cert_client *cl = client_of(data, c, params);
	json_object *wants, *got = NULL;
	char expected[16] = "End";

	if (!cl)
		return 0;
	if (n != cl->passed + 1) {
		if (cl->passed < CERT_LAST_TEST)
			snprintf(expected, sizeof(expected), "Test%02d", cl->passed + 1);
		return cert_fail(c, cl, kv("method", json_object_new_string(expected)),
				 kv("method", json_object_new_string(name)));
	}
	if (check_flags(c, cl, n))
		return 0;
	wants = json_tokener_parse(chain[n - 1]);
	if (!wants || (params && json_object_deep_copy(params, &got, NULL) < 0)) {
		json_object_put(wants);
		return -ENOMEM;
	}
	if (!got)
		got = json_object_new_object();
	json_object_object_del(got, "client_id");
	if (!json_same(wants, got))
		return cert_fail(c, cl, wants, got);
	json_object_put(wants);
	json_object_put(got);
	cl->passed = n;
	if (n == CERT_STREAM_TEST)
		return cert_stream(c);
	if (n == CERT_LAST_TEST)
		return vl_call_reply(c, NULL);
	return vl_call_reply(c, json_tokener_parse(chain[n]));
}

static int cert_end(struct vl_call *c, json_object *params, void *data)
{
	struct cert_client *cl = client_of(data, c, params);
	bool ok;

	if (!cl)
		return 0;
	ok = cl->passed == CERT_LAST_TEST && !cl->failed;
	memset(cl, 0, sizeof(*cl));
	return vl_call_reply(c, kv("all_ok", json_object_new_boolean(ok)));
}

/* The interface as varlink's certification defines it. */
static const char cert_description[] =
	"# The interface of varlink's protocol certification: a client calls\n"
	"# Start, Test01, ..., Test11, End, each with what the call before returned.\n"
	"interface org.varlink.certification\n"
	"\n"
	"type Interface (\n"
	"  foo: ?[]?[string](foo, bar, baz),\n"
	"  anon: (foo: bool, bar: bool)\n"
	")\n"
	"\n"
	"type MyType (\n"
	"  object: object,\n"
	"  enum: (one, two, three),\n"
	"  struct: (first: int, second: string),\n"
	"  array: []string,\n"
	"  dictionary: [string]string,\n"
	"  stringset: [string](),\n"
	"  nullable: ?string,\n"
	"  nullable_array_struct: ?[](first: int, second: string),\n"
	"  interface: Interface\n"
	")\n"
	"\n"
	"method Start() -> (client_id: string)\n"
	"\n"
	"method Test01(client_id: string) -> (bool: bool)\n"
	"\n"
	"method Test02(client_id: string, bool: bool) -> (int: int)\n"
	"\n"
	"method Test03(client_id: string, int: int) -> (float: float)\n"
	"\n"
	"method Test04(client_id: string, float: float) -> (string: string)\n"
	"\n"
	"method Test05(client_id: string, string: string) -> (\n"
	"  bool: bool,\n"
	"  int: int,\n"
	"  float: float,\n"
	"  string: string\n"
	")\n"
	"\n"
	"method Test06(\n"
	"  client_id: string,\n"
	"  bool: bool,\n"
	"  int: int,\n"
	"  float: float,\n"
	"  string: string\n"
	") -> (\n"
	"  struct: (\n"
	"    bool: bool,\n"
	"    int: int,\n"
	"    float: float,\n"
	"    string: string\n"
	"  )\n"
	")\n"
	"\n"
	"method Test07(\n"
	"  client_id: string,\n"
	"  struct: (\n"
	"    bool: bool,\n"
	"    int: int,\n"
	"    float: float,\n"
	"    string: string\n"
	"  )\n"
	") -> (map: [string]string)\n"
	"\n"
	"method Test08(client_id: string, map: [string]string) -> (set: [string]())\n"
	"\n"
	"method Test09(client_id: string, set: [string]()) -> (mytype: MyType)\n"
	"\n"
	"# returns more than one reply with \"continues\"\n"
	"method Test10(client_id: string, mytype: MyType) -> (string: string)\n"
	"\n"
	"method Test11(\n"
	"  client_id: string,\n"
	"  last_more_replies: []string\n"
	") -> ()\n"
	"\n"
	"method End(client_id: string) -> (all_ok: bool)\n"
	"\n"
	"error ClientIdError ()\n"
	"\n"
	"error CertificationError (wants: object, got: object)\n";

static const struct vl_method cert_methods[] = {
	{ "Start", cert_start },
	{ "Test01", cert_test },
	{ "Test02", cert_test },
	{ "Test03", cert_test },
	{ "Test04", cert_test },
	{ "Test05", cert_test },
	{ "Test06", cert_test },
	{ "Test07", cert_test },
	{ "Test08", cert_test },
	{ "Test09", cert_test },
	{ "Test10", cert_test },
	{ "Test11", cert_test },
	{ "End", cert_end },
	{ NULL, NULL }
};

static const struct vl_interface cert_interface = {
	.name = CERT_IFACE,
	.description = cert_description,
	.methods = cert_methods,
	.userdata = &cert_state,
};

const struct vl_interface *sbxd_certification_interface(void)
{
	return &cert_interface;
}
