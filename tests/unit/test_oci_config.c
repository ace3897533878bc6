/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sbx-oci's configuration file (user/oci/config.c):
 * default_profile (quoted or bare), allowed_profiles (a one-line list; an
 * empty list allows nothing; no list allows everything), and every malformed
 * form refused with the file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/config.h"

static char why[512];

static void expect_error(const char *text, const char *msg)
{
	struct oci_config c;

	why[0] = 0;
	if (oci_config_parse(&c, "oci.toml", text, why, sizeof(why)) >= 0)
		fail_msg("'%s' was accepted (default '%s')", text, c.default_profile);
	if (!strstr(why, msg))
		fail_msg("'%s': error '%s' does not say '%s'", text, why, msg);
}

static void test_valid_forms(void **state)
{
	struct oci_config c;

	(void)state;
	assert_int_equal(oci_config_parse(&c, "f", "", why, sizeof(why)), 0);
	assert_string_equal(c.default_profile, "");
	assert_false(c.has_allowed);
	assert_true(oci_config_allows(&c, "none"));
	assert_int_equal(oci_config_parse(&c, "f", "# comment\n\n  default_profile = \"web-1.a_b\"  # x\n"
					  "allowed_profiles=[\"web\",\"db\" , \"x\"]\n", why, sizeof(why)), 0);
	assert_string_equal(c.default_profile, "web-1.a_b");
	assert_true(c.has_allowed);
	assert_int_equal(c.allowed_line, 4);
	assert_int_equal(c.n_allowed, 3);
	assert_true(oci_config_allows(&c, "db"));
	assert_false(oci_config_allows(&c, "none"));
	assert_false(oci_config_allows(&c, "d"));
	assert_false(oci_config_allows(&c, "web-1.a_b"));	/* the default is not listed by itself */
	/* bare, as sbx-oci read it before */
	assert_int_equal(oci_config_parse(&c, "f", "default_profile = plain\n", why, sizeof(why)), 0);
	assert_string_equal(c.default_profile, "plain");
	/* an empty list allows no annotation */
	assert_int_equal(oci_config_parse(&c, "f", "allowed_profiles = [ ]", why, sizeof(why)), 0);
	assert_true(c.has_allowed);
	assert_false(oci_config_allows(&c, "t"));
	/* a trailing comma */
	assert_int_equal(oci_config_parse(&c, "f", "allowed_profiles = [\"a\",]\n", why, sizeof(why)), 0);
	assert_int_equal(c.n_allowed, 1);
}

static void test_malformed_refused(void **state)
{
	char big[64 * 80 + 64], *p = big;

	(void)state;
	expect_error("default_profile\n", "oci.toml:1: expected KEY = VALUE");
	expect_error("\n\nprofile = \"x\"\n", "oci.toml:3: unknown key 'profile'");
	expect_error("default_profile = \"\"\n", "oci.toml:1: a profile name must have 1 to");
	expect_error("default_profile = \"a\" b\n", "oci.toml:1: text after the name");
	expect_error("default_profile = a b\n", "oci.toml:1: text after the name");
	expect_error("default_profile = \"a\"\ndefault_profile = \"b\"\n", "oci.toml:2: default_profile given twice");
	expect_error("default_profile = \"a/b\"\n", "'a/b' is no profile name");
	expect_error("default_profile = \"a\n", "without its closing quote");
	expect_error("allowed_profiles = \"a\"\n", "oci.toml:1: allowed_profiles takes a list");
	expect_error("allowed_profiles = [\"a\"\n", "oci.toml:1: expected ',' or ']'");
	expect_error("allowed_profiles = [a]\n", "expected a quoted profile name");
	expect_error("allowed_profiles = [\"a\"] x\n", "text after the list");
	expect_error("allowed_profiles = []\nallowed_profiles = []\n", "oci.toml:2: allowed_profiles given twice "
		     "(first on line 1)");
	expect_error("allowed_profiles = [\"a\" \"b\"]\n", "expected ',' or ']'");
	/* attacks on the reader (tests/security/test_oci_attack3.sh's pass):
	 * a bare name with a quote inside is not the name before the quote */
	expect_error("default_profile = a\"b\n", "oci.toml:1:");
	expect_error("default_profile = a\"\n", "oci.toml:1:");
	/* CRLF lines, a BOM, a key with a suffix or another case, a comment
	 * inside the list, other blanks: refused, never read loosely */
	expect_error("allowed_profiles = [\"a\"]\r\n", "oci.toml:1: text after the list");
	expect_error("default_profile = \"a\"\r\n", "oci.toml:1: text after the name");
	expect_error("default_profile = a\r\n", "oci.toml:1:");
	expect_error("\xef\xbb\xbf" "allowed_profiles = []\n", "oci.toml:1: unknown key");
	expect_error("allowed_profilesX = []\n", "unknown key 'allowed_profilesX'");
	expect_error("allowed_profile = []\n", "unknown key 'allowed_profile'");
	expect_error("Allowed_Profiles = []\n", "unknown key 'Allowed_Profiles'");
	expect_error("allowed_profiles = [\"a\", # b\n", "expected a quoted profile name");
	expect_error("allowed_profiles = [\"a\" # , \"b\"]\n", "expected ',' or ']'");
	expect_error("allowed_profiles\v= []\n", "oci.toml:1:");
	expect_error("allowed_profiles = [\"a\xc3\xa9\"]\n", "is no profile name");
	expect_error("allowed_profiles = [\"../t\"]\n", "is no profile name");
	expect_error("allowed_profiles = [\"a b\"]\n", "is no profile name");
	p += sprintf(p, "allowed_profiles = [");
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "\"p%d\",", i);
	sprintf(p, "]\n");
	expect_error(big, "more than 64 allowed profiles");
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/oci-config-XXXXXX";
	struct oci_config c;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "default_profile = \"t\"\n\0x", 24), 24);
	close(fd);
	setenv("SBX_OCI_CONFIG", path, 1);
	assert_true(oci_config_read(&c, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "a NUL byte"));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "default_profile = \"t\"\n", 22), 22);
	close(fd);
	assert_int_equal(oci_config_read(&c, why, sizeof(why)), 0);
	assert_string_equal(c.default_profile, "t");
	assert_string_equal(c.path, path);
	unlink(path);
	/* a missing file: the defaults */
	assert_int_equal(oci_config_read(&c, why, sizeof(why)), 0);
	assert_string_equal(c.default_profile, "");
	assert_false(c.has_allowed);
	unsetenv("SBX_OCI_CONFIG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_forms),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
