/* SPDX-License-Identifier: MIT */
/* Small helpers of the policy loader: suggestions, safe quoting, path checks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy-internal.h"
#include "util/util.h"

#define SUGGEST_MAX_LEN 64	/* longer words get no suggestion: keeps the DP table small */

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Levenshtein distance, one row at a time. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[SUGGEST_MAX_LEN + 1];

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];

			row[j] = min3(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1]));
			diag = up;
		}
	}
	return row[lb];
}

const char *sbx_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t best_d = 3, wl = strlen(word);

	if (wl == 0 || wl > SUGGEST_MAX_LEN)
		return NULL;
	for (; *cands; cands++) {
		size_t d;

		if (strlen(*cands) > SUGGEST_MAX_LEN)
			continue;
		d = edit_distance(word, *cands);
		/* A distance as large as the word itself ("x" -> "cpu") is no hint. */
		if (d < best_d && d < wl) {
			best = *cands;
			best_d = d;
		}
	}
	return best;
}

const char *sbx_printable(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < buflen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == 64) {
			o += (size_t)snprintf(buf + o, buflen - o, "...");
			break;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '\\' || ch == '\'')
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o < buflen ? o : buflen - 1] = '\0';
	return buf;
}

int sbx_check_path(const char *s, size_t maxlen, bool allow_dir, char *errbuf, size_t errlen)
{
	char q[96];
	size_t n = strlen(s);

	sbx_printable(s, n, q, sizeof(q));
	if (s[0] != '/')
		return sbx_fail(errbuf, errlen, -EINVAL, "path '%s' is not absolute", q);
	if (n >= maxlen)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"path '%s' is too long (%zu bytes; the limit is %zu)", q, n,
				maxlen - 1);
	if (!allow_dir && n > 1 && s[n - 1] == '/')
		return sbx_fail(errbuf, errlen, -EINVAL, "path '%s' must not end with '/'", q);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sbx_fail(errbuf, errlen, -EINVAL,
					"path '%s' contains a control character", q);
	for (const char *c = s + 1; *c;) {
		size_t len = strcspn(c, "/");

		if (len == 0)
			return sbx_fail(errbuf, errlen, -EINVAL, "path '%s' contains '//'", q);
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return sbx_fail(errbuf, errlen, -EINVAL,
					"path '%s' contains a '%.*s' component", q, (int)len, c);
		c += len;
		if (*c)
			c++;
	}
	return 0;
}
