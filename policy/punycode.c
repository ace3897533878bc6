/* SPDX-License-Identifier: MIT */
/* Punycode, RFC 3492 section 6, with the parameters of section 5. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "punycode.h"

enum {
	BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700,
	INITIAL_BIAS = 72, INITIAL_N = 0x80,
};

#define PUNY_MAXINT UINT32_MAX

static uint32_t adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((BASE - TMIN) * TMAX) / 2) {
		delta /= BASE - TMIN;
		k += BASE;
	}
	return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

static uint32_t threshold(uint32_t k, uint32_t bias)
{
	if (k <= bias)
		return TMIN;
	if (k >= bias + TMAX)
		return TMAX;
	return k - bias;
}

/* 0-25 are a-z, 26-35 are 0-9. */
static char encode_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + d - 26);
}

static int decode_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	return -1;
}

static bool scalar_value(uint32_t c)
{
	return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff);
}

static int put(char *out, size_t outlen, size_t *o, char c)
{
	if (*o + 1 >= outlen)
		return -E2BIG;
	out[(*o)++] = c;
	out[*o] = '\0';
	return 0;
}

/* The variable-length integer q, as digits with thresholds from bias. */
static int put_number(char *out, size_t outlen, size_t *o, uint32_t q, uint32_t bias)
{
	for (uint32_t k = BASE;; k += BASE) {
		uint32_t t = threshold(k, bias);
		int r;

		if (q < t)
			return put(out, outlen, o, encode_digit(q));
		r = put(out, outlen, o, encode_digit(t + (q - t) % (BASE - t)));
		if (r < 0)
			return r;
		q = (q - t) / (BASE - t);
	}
}

int sbx_punycode_encode(const uint32_t *cp, size_t n, char *out, size_t outlen)
{
	uint32_t cur = INITIAL_N, delta = 0, bias = INITIAL_BIAS, h, b = 0;
	size_t o = 0;
	int r;

	if (outlen == 0)
		return -E2BIG;
	out[0] = '\0';
	for (size_t j = 0; j < n; j++) {
		if (!scalar_value(cp[j]))
			return -EINVAL;
		if (cp[j] < 0x80 && (r = put(out, outlen, &o, (char)cp[j])) < 0)
			return r;
	}
	h = b = (uint32_t)o;
	if (b > 0 && (r = put(out, outlen, &o, '-')) < 0)
		return r;
	while (h < n) {
		uint32_t m = PUNY_MAXINT;

		for (size_t j = 0; j < n; j++)
			if (cp[j] >= cur && cp[j] < m)
				m = cp[j];
		if (m - cur > (PUNY_MAXINT - delta) / (h + 1))
			return -ERANGE;
		delta += (m - cur) * (h + 1);
		cur = m;
		for (size_t j = 0; j < n; j++) {
			if (cp[j] < cur && ++delta == 0)
				return -ERANGE;
			if (cp[j] != cur)
				continue;
			r = put_number(out, outlen, &o, delta, bias);
			if (r < 0)
				return r;
			bias = adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		cur++;
	}
	return (int)o;
}

/* Reads one variable-length integer at *in into *i (RFC 3492 6.2, inner loop). */
static int get_number(const char *s, size_t len, size_t *in, uint32_t *i, uint32_t bias)
{
	uint32_t w = 1;

	for (uint32_t k = BASE;; k += BASE) {
		uint32_t t;
		int d;

		if (*in >= len)
			return -EINVAL;
		d = decode_digit(s[(*in)++]);
		if (d < 0)
			return -EINVAL;
		if ((uint32_t)d > (PUNY_MAXINT - *i) / w)
			return -ERANGE;
		*i += (uint32_t)d * w;
		t = threshold(k, bias);
		if ((uint32_t)d < t)
			return 0;
		if (w > PUNY_MAXINT / (BASE - t))
			return -ERANGE;
		w *= BASE - t;
	}
}

int sbx_punycode_decode(const char *s, size_t len, uint32_t *out, size_t max, size_t *ret_n)
{
	uint32_t cur = INITIAL_N, i = 0, bias = INITIAL_BIAS;
	size_t n = 0, in = 0, b = 0;
	int r;

	for (size_t j = 0; j < len; j++)
		if (s[j] == '-')
			b = j;
	for (size_t j = 0; j < b; j++) {
		if ((unsigned char)s[j] >= 0x80)
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		out[n++] = (unsigned char)s[j];
	}
	in = b > 0 ? b + 1 : 0;
	while (in < len) {
		uint32_t oldi = i;

		r = get_number(s, len, &in, &i, bias);
		if (r < 0)
			return r;
		bias = adapt(i - oldi, (uint32_t)n + 1, oldi == 0);
		if (i / (n + 1) > PUNY_MAXINT - cur)
			return -ERANGE;
		cur += i / (uint32_t)(n + 1);
		i %= (uint32_t)(n + 1);
		if (cur < 0x80 || !scalar_value(cur))
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		memmove(out + i + 1, out + i, (n - i) * sizeof(*out));
		out[i++] = cur;
		n++;
	}
	*ret_n = n;
	return 0;
}

int sbx_punycode_label_valid(const char *label, size_t len)
{
	uint32_t cp[SBX_PUNY_LABEL_MAX];
	char back[SBX_PUNY_LABEL_MAX + 1];
	size_t n;
	bool wide = false;
	int r;

	if (len < 4 || strncasecmp(label, "xn--", 4) != 0 || len > SBX_PUNY_LABEL_MAX)
		return -EINVAL;
	r = sbx_punycode_decode(label + 4, len - 4, cp, SBX_PUNY_LABEL_MAX, &n);
	if (r < 0)
		return -EINVAL;
	for (size_t j = 0; j < n; j++)
		wide |= cp[j] >= 0x80;
	/* Without a non-ASCII character the label would be plain ASCII; a label
	 * that does not encode back is a second spelling of another name. */
	if (!wide || sbx_punycode_encode(cp, n, back, sizeof(back)) != (int)(len - 4) ||
	    strncasecmp(back, label + 4, len - 4) != 0)
		return -EINVAL;
	return 0;
}

/* One UTF-8 sequence at *s into *ret; shortest form only, no surrogates. */
static int utf8_next(const unsigned char **s, uint32_t *ret)
{
	const unsigned char *p = *s;
	uint32_t c = p[0], min;
	int more;

	if (c < 0x80)
		more = 0, min = 0;
	else if ((c & 0xe0) == 0xc0)
		more = 1, min = 0x80, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		more = 2, min = 0x800, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		more = 3, min = 0x10000, c &= 0x07;
	else
		return -EINVAL;
	for (int k = 1; k <= more; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -EINVAL;
		c = c << 6 | (p[k] & 0x3f);
	}
	if (c < min || !scalar_value(c))
		return -EINVAL;
	*s = p + 1 + more;
	*ret = c;
	return 0;
}

/* One label of len bytes, appended to out at *o. */
static int label_to_ascii(const char *l, size_t len, char *out, size_t outlen, size_t *o)
{
	uint32_t cp[256];
	const unsigned char *s = (const unsigned char *)l, *end = s + len;
	size_t n = 0;
	bool wide = false;
	int r;

	if (len == 0)
		return -EINVAL;
	while (s < end) {
		if (n >= sizeof(cp) / sizeof(cp[0]))
			return -E2BIG;
		r = utf8_next(&s, &cp[n]);
		if (r < 0 || s > end)
			return -EINVAL;
		if (cp[n] >= 'A' && cp[n] <= 'Z')
			cp[n] += 'a' - 'A';
		wide |= cp[n++] >= 0x80;
	}
	if (!wide) {
		for (size_t j = 0; j < n; j++)
			if ((r = put(out, outlen, o, (char)cp[j])) < 0)
				return r;
		return 0;
	}
	for (const char *p = "xn--"; *p; p++)
		if ((r = put(out, outlen, o, *p)) < 0)
			return r;
	if (*o >= outlen)
		return -E2BIG;
	r = sbx_punycode_encode(cp, n, out + *o, outlen - *o);
	if (r < 0)
		return r;
	*o += (size_t)r;
	return 0;
}

int sbx_idn_to_ascii(const char *name, char *out, size_t outlen)
{
	size_t o = 0;
	int r;

	if (outlen == 0)
		return -E2BIG;
	out[0] = '\0';
	for (const char *l = name;;) {
		size_t len = strcspn(l, ".");

		r = label_to_ascii(l, len, out, outlen, &o);
		if (r < 0)
			return r;
		if (!l[len])
			return 0;
		if ((r = put(out, outlen, &o, '.')) < 0)
			return r;
		l += len + 1;
	}
}
