/* SPDX-License-Identifier: MIT */
/*
 * Punycode (RFC 3492), the encoding of internationalised domain name labels
 * as "xn--..." ASCII. The policy reader only accepts ASCII host names: it
 * decodes "xn--" labels to refuse invalid ones and encodes a non-ASCII name
 * to show the user what to write instead. No IDNA mapping (NFC, case folding
 * of non-ASCII letters) is done: see docs/policy.md.
 */
#ifndef SBX_PUNYCODE_H
#define SBX_PUNYCODE_H

#include <stddef.h>
#include <stdint.h>

#define SBX_PUNY_LABEL_MAX 63	/* a DNS label, and so any label we encode or decode */

/* Encodes n code points into out (no "xn--" prefix, NUL-terminated).
 * Returns the length, -E2BIG when it does not fit outlen, -EINVAL for a code
 * point that is not a Unicode scalar value, -ERANGE on overflow. */
int sbx_punycode_encode(const uint32_t *cp, size_t n, char *out, size_t outlen);

/* Decodes len bytes of ASCII punycode (no "xn--" prefix) into at most max
 * code points; *ret_n is their number. Returns 0, or -EINVAL for input that
 * is not valid punycode (bad digit, truncated, a non-basic code point before
 * the delimiter, a result that is not a Unicode scalar value), -ERANGE on
 * overflow, -E2BIG when the result has more than max code points. */
int sbx_punycode_decode(const char *in, size_t len, uint32_t *out, size_t max, size_t *ret_n);

/* Whether an "xn--" label (the whole label, prefix included, any case) is a
 * valid A-label in the RFC 3492 sense: it decodes, holds a non-ASCII code
 * point, and encodes back to the same text. */
int sbx_punycode_label_valid(const char *label, size_t len);

/* The ASCII form of a UTF-8 host name: ASCII letters lower-cased, each label
 * with a non-ASCII character written as "xn--" + punycode. Returns 0,
 * -EINVAL for bad UTF-8 or an empty label, -E2BIG when out is too short. */
int sbx_idn_to_ascii(const char *name, char *out, size_t outlen);

#endif
