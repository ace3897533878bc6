/* SPDX-License-Identifier: MIT */
/*
 * sbx-oci's configuration file (config.h): a line-based reader of its two
 * keys, strict about everything else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"
#include "util/util.h"

static const char *skip_blank(const char *p)
{
	return p + strspn(p, " \t");
}

/* Whether the rest of a line is empty or a comment. */
static bool line_end(const char *p)
{
	p = skip_blank(p);
	return !*p || *p == '\n' || *p == '#';
}

/* A quoted profile name at *pp into out; *pp moves past it. Profile names
 * are those a policy file may define: letters, digits, '_', '-' and '.'. */
static int quoted_name(const char **pp, char *out, const char *where, char *why, size_t len)
{
	const char *p = *pp, *e;
	size_t n;

	if (*p != '"')
		return sbx_fail(why, len, -EINVAL, "%s: expected a quoted profile name", where);
	e = strchr(p + 1, '"');
	if (!e)
		return sbx_fail(why, len, -EINVAL, "%s: a profile name without its closing quote", where);
	n = (size_t)(e - p - 1);
	if (!n || n >= OCI_CONFIG_NAME_MAX)
		return sbx_fail(why, len, -EINVAL, "%s: a profile name must have 1 to %d characters", where,
				OCI_CONFIG_NAME_MAX - 1);
	for (const char *q = p + 1; q < e; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		      *q == '_' || *q == '-' || *q == '.'))
			return sbx_fail(why, len, -EINVAL, "%s: '%.*s' is no profile name (letters, digits, "
					"'_', '-', '.')", where, (int)n, p + 1);
	memcpy(out, p + 1, n);
	out[n] = 0;
	*pp = e + 1;
	return 0;
}

static int parse_allowed(struct oci_config *c, const char *p, const char *where, char *why, size_t len)
{
	int r;

	if (c->has_allowed)
		return sbx_fail(why, len, -EINVAL, "%s: allowed_profiles given twice (first on line %u)",
				where, c->allowed_line);
	c->has_allowed = true;
	p = skip_blank(p);
	if (*p != '[')
		return sbx_fail(why, len, -EINVAL, "%s: allowed_profiles takes a list on one line: "
				"[\"NAME\", ...]", where);
	p = skip_blank(p + 1);
	while (*p != ']') {
		if (c->n_allowed == OCI_CONFIG_MAX_ALLOWED)
			return sbx_fail(why, len, -E2BIG, "%s: more than %d allowed profiles", where,
					OCI_CONFIG_MAX_ALLOWED);
		r = quoted_name(&p, c->allowed[c->n_allowed], where, why, len);
		if (r < 0)
			return r;
		c->n_allowed++;
		p = skip_blank(p);
		if (*p == ',')
			p = skip_blank(p + 1);
		else if (*p != ']')
			return sbx_fail(why, len, -EINVAL, "%s: expected ',' or ']' after a name", where);
	}
	return line_end(p + 1) ? 0 : sbx_fail(why, len, -EINVAL, "%s: text after the list", where);
}

static int parse_default(struct oci_config *c, const char *p, const char *where, char *why, size_t len)
{
	int r;

	if (c->default_profile[0])
		return sbx_fail(why, len, -EINVAL, "%s: default_profile given twice", where);
	p = skip_blank(p);
	if (*p != '"') {
		/* a bare NAME, as sbx-oci has always read it */
		size_t n = strcspn(p, " \t\n#");
		char q[OCI_CONFIG_NAME_MAX + 3];
		const char *qp = q;

		if (n > OCI_CONFIG_NAME_MAX)
			n = OCI_CONFIG_NAME_MAX;
		snprintf(q, sizeof(q), "\"%.*s\"", (int)n, p);

		r = quoted_name(&qp, c->default_profile, where, why, len);
		/* all of it: a quote inside (a"b) ended the name early */
		if (r == 0 && *qp)
			r = sbx_fail(why, len, -EINVAL, "%s: '%.*s' is no profile name (letters, digits, "
				     "'_', '-', '.')", where, (int)n, p);
		return r < 0 ? r : line_end(p + n) ? 0 :
			sbx_fail(why, len, -EINVAL, "%s: text after the name", where);
	}
	r = quoted_name(&p, c->default_profile, where, why, len);
	if (r < 0)
		return r;
	return line_end(p) ? 0 : sbx_fail(why, len, -EINVAL, "%s: text after the name", where);
}

int oci_config_parse(struct oci_config *c, const char *path, const char *text, char *why, size_t len)
{
	unsigned ln = 0;
	const char *line = text;

	snprintf(c->path, sizeof(c->path), "%s", path);
	c->default_profile[0] = 0;
	c->has_allowed = false;
	c->n_allowed = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *p = skip_blank(line), *key = p;
		char where[4096 + 32];
		size_t klen;
		int r = 0;

		ln++;
		snprintf(where, sizeof(where), "%s:%u", path, ln);
		if (!line_end(p)) {
			klen = strcspn(p, " \t=");
			p = skip_blank(p + klen);
			if (*p != '=')
				return sbx_fail(why, len, -EINVAL, "%s: expected KEY = VALUE (default_profile, "
						"allowed_profiles)", where);
			if (klen == 15 && !strncmp(key, "default_profile", klen)) {
				r = parse_default(c, p + 1, where, why, len);
			} else if (klen == 16 && !strncmp(key, "allowed_profiles", klen)) {
				r = parse_allowed(c, p + 1, where, why, len);
				c->allowed_line = ln;
			} else {
				return sbx_fail(why, len, -EINVAL, "%s: unknown key '%.*s' (known: default_profile, "
						"allowed_profiles)", where, (int)klen, key);
			}
			if (r < 0)
				return r;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int oci_config_read(struct oci_config *c, char *why, size_t len)
{
	const char *env = getenv("SBX_OCI_CONFIG");
	const char *path = env && *env ? env : OCI_CONFIG_DEFAULT;
	static char text[65536 + 1];
	size_t n;
	FILE *f;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : sbx_fail(why, len, -errno, "%s: %m", path);
	n = fread(text, 1, sizeof(text), f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r < 0)
		return sbx_fail(why, len, r, "%s: read error", path);
	if (n == sizeof(text))
		return sbx_fail(why, len, -EFBIG, "%s: larger than %zu bytes", path, sizeof(text) - 1);
	if (memchr(text, 0, n))
		return sbx_fail(why, len, -EINVAL, "%s: a NUL byte (not a text file)", path);
	text[n] = 0;
	return oci_config_parse(c, path, text, why, len);
}

bool oci_config_allows(const struct oci_config *c, const char *name)
{
	if (!c->has_allowed)
		return true;
	for (size_t i = 0; i < c->n_allowed; i++)
		if (!strcmp(c->allowed[i], name))
			return true;
	return false;
}
