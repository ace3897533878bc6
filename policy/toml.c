/* SPDX-License-Identifier: MIT */
/*
 * TOML 1.0 reader.
 *
 * The whole input is checked once up front: valid UTF-8, no NUL, no control
 * character other than tab, CR only as part of CRLF. TOML allows none of
 * these anywhere, so every scanner after that can rely on clean text and the
 * check stays linear whatever the structure. The price: an encoding error is
 * reported even when a syntax error comes earlier in the document.
 *
 * The parser then builds the tree as it reads. It recurses only into arrays
 * and inline tables, and every container is made by new_container(), which
 * refuses to nest deeper than TOML_MAX_DEPTH; this bounds both the parser's
 * stack and the depth of any tree that toml_free() or a caller walks.
 *
 * Tables keep their pairs in document order and, from INDEX_MIN keys on, an
 * open-addressing index hashed with SipHash under a per-parse random key, so
 * a crafted document cannot make lookups degrade to linear scans.
 */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include "toml.h"

#define INDEX_MIN 8		/* below this a linear scan beats hashing */
#define MAX_ENTRIES (UINT32_MAX / 4)	/* index slots hold 32-bit positions */
#define SHOW_MAX 48		/* bytes of a key or token quoted in a message */
#define SHOW_SIZE (SHOW_MAX * 4 + 8)

/* Container state that the spec's redefinition rules depend on. */
enum {
	F_EXPLICIT = 1 << 0,	/* table opened by its own [header] */
	F_DOTTED = 1 << 1,	/* table made or extended through dotted keys */
	F_FROZEN = 1 << 2,	/* inline table: closed once its '}' is read */
	F_AOT = 1 << 3,		/* array made by [[header]]; others are static */
};

/* Tables and arrays; scalars are bare toml_values. */
struct cnode {
	struct toml_value v;	/* first, so a toml_value * is the node's */
	uint32_t flags;
	uint32_t depth;		/* root is 0 */
	size_t cap;		/* allocated kvs or items */
};

struct slot {
	uint32_t idx1;		/* position in kvs + 1; 0 marks a free slot */
	uint32_t hash;
};

struct tindex {
	uint64_t k0, k1;
	size_t mask;
	struct slot slot[];
};

struct buf {
	char *p;
	size_t len, cap;
};

struct keypart {
	size_t off, len;	/* in parser.kb */
	struct toml_pos pos;
};

struct parser {
	const char *p, *end;
	struct toml_pos at;	/* position of *p */
	struct toml_error *err;
	uint64_t k0, k1;	/* hash key for every index of this tree */
	struct buf sb;		/* string value or number being decoded */
	struct buf kb;		/* bytes of the key parts */
	struct keypart part[TOML_MAX_DEPTH];
	size_t nparts;
	struct toml_value *root;
};

static struct cnode *cnode(const struct toml_value *v)
{
	return (struct cnode *)v;
}

/* Scalars are bare toml_values: only containers have flags to read. */
static uint32_t flags_of(const struct toml_value *v)
{
	return v->type == TOML_TABLE || v->type == TOML_ARRAY ? cnode(v)->flags : 0;
}

/* ---- errors and messages ------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *ps, struct toml_pos pos, const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		ps->err->pos = pos;
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static uint32_t utf8_decode(const unsigned char *s)
{
	if (s[0] < 0x80)
		return s[0];
	if (s[0] < 0xE0)
		return (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
	if (s[0] < 0xF0)
		return (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
	return (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
}

/* Names the character at p for "found ..." messages (text is valid UTF-8). */
static const char *describe(const struct parser *ps, const char *p, char out[16])
{
	unsigned char c;

	if (p >= ps->end)
		return "end of file";
	c = (unsigned char)*p;
	if (c == '\n' || c == '\r')
		return "newline";
	if (c == '\t')
		return "tab";
	if (c >= 0x20 && c < 0x7f)
		snprintf(out, 16, "'%c'", c);
	else
		snprintf(out, 16, "U+%04X", (unsigned)utf8_decode((const unsigned char *)p));
	return out;
}

/* Copies at most SHOW_MAX bytes of a key for a message, escaping control bytes. */
static const char *show(char out[SHOW_SIZE], const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= SHOW_MAX && (c & 0xC0) != 0x80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

static const char *article(enum toml_type t)
{
	return strchr("aeiou", toml_type_name(t)[0]) ? "an" : "a";
}

/* ---- growable buffers ----------------------------------------------------- */

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (n >= b->cap - b->len || !b->p) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_utf8(struct buf *b, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | cp >> 18);
		s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_put(b, s, n);
}

/* ---- hashed tables -------------------------------------------------------- */

static uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

/* SipHash-1-3: keyed, so collisions cannot be precomputed. */
static uint64_t siphash(uint64_t k0, uint64_t k1, const char *s, size_t len)
{
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
			  k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
	uint64_t m;
	size_t i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, s + i, 8);
		v[3] ^= m;
		sipround(v);
		v[0] ^= m;
	}
	m = (uint64_t)len << 56;
	for (j = 0; i + j < len; j++)
		m |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
	v[3] ^= m;
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static bool kv_is(const struct toml_kv *kv, const char *key, size_t len)
{
	return kv->key_len == len && memcmp(kv->key, key, len) == 0;
}

static ssize_t tab_find(const struct toml_value *t, const char *key, size_t len)
{
	const struct tindex *ix = t->u.tab.priv;
	const struct toml_kv *kvs = t->u.tab.kvs;
	uint64_t h;
	size_t i;

	if (!ix) {
		for (i = 0; i < t->u.tab.n; i++)
			if (kv_is(&kvs[i], key, len))
				return (ssize_t)i;
		return -1;
	}
	h = siphash(ix->k0, ix->k1, key, len);
	for (i = h & ix->mask;; i = (i + 1) & ix->mask) {
		const struct slot *s = &ix->slot[i];

		if (!s->idx1)
			return -1;
		if (s->hash == (uint32_t)h && kv_is(&kvs[s->idx1 - 1], key, len))
			return (ssize_t)s->idx1 - 1;
	}
}

static void index_put(struct tindex *ix, const struct toml_kv *kv, size_t pos)
{
	uint64_t h = siphash(ix->k0, ix->k1, kv->key, kv->key_len);
	size_t i;

	for (i = h & ix->mask; ix->slot[i].idx1; i = (i + 1) & ix->mask)
		;
	ix->slot[i].idx1 = (uint32_t)(pos + 1);
	ix->slot[i].hash = (uint32_t)h;
}

/* Keeps the load factor at most 3/4; rebuilding rehashes every key, which
 * amortises to a constant per insertion. */
static int index_add(struct parser *ps, struct toml_value *t)
{
	struct tindex *ix = t->u.tab.priv;
	size_t n = t->u.tab.n, slots = 32, i;

	if (!ix && n < INDEX_MIN)
		return 0;
	if (ix && n * 4 <= (ix->mask + 1) * 3) {
		index_put(ix, &t->u.tab.kvs[n - 1], n - 1);
		return 0;
	}
	while (slots < n * 2)
		slots *= 2;
	ix = calloc(1, sizeof(*ix) + slots * sizeof(ix->slot[0]));
	if (!ix)
		return -ENOMEM;
	ix->k0 = ps->k0;
	ix->k1 = ps->k1;
	ix->mask = slots - 1;
	for (i = 0; i < n; i++)
		index_put(ix, &t->u.tab.kvs[i], i);
	free(t->u.tab.priv);
	t->u.tab.priv = ix;
	return 0;
}

/* Takes ownership of key and val only on success. */
static int tab_append(struct parser *ps, struct toml_value *t, char *key, size_t len,
		      struct toml_pos pos, struct toml_value *val)
{
	struct cnode *c = cnode(t);
	struct toml_kv *kv;
	int r;

	if (t->u.tab.n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;

		if (cap > MAX_ENTRIES)
			return -ENOMEM;
		kv = reallocarray(t->u.tab.kvs, cap, sizeof(*kv));
		if (!kv)
			return -ENOMEM;
		t->u.tab.kvs = kv;
		c->cap = cap;
	}
	kv = &t->u.tab.kvs[t->u.tab.n++];
	*kv = (struct toml_kv){ .key = key, .key_len = len, .key_pos = pos, .val = val };
	r = index_add(ps, t);
	if (r < 0)
		t->u.tab.n--;
	return r;
}

/* Takes ownership of item only on success. */
static int arr_push(struct toml_value *a, struct toml_value *item)
{
	struct cnode *c = cnode(a);

	if (a->u.arr.n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		struct toml_value **items = reallocarray(a->u.arr.items, cap, sizeof(*items));

		if (!items)
			return -ENOMEM;
		a->u.arr.items = items;
		c->cap = cap;
	}
	a->u.arr.items[a->u.arr.n++] = item;
	return 0;
}

static int new_container(struct parser *ps, enum toml_type type, uint32_t depth,
			 struct toml_pos pos, struct toml_value **ret)
{
	struct cnode *c;

	if (depth > TOML_MAX_DEPTH)
		return fail(ps, pos, "nesting too deep (limit %d)", TOML_MAX_DEPTH);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->v.type = type;
	c->v.pos = pos;
	c->depth = depth;
	*ret = &c->v;
	return 0;
}

static int new_scalar(const struct toml_value *tmp, struct toml_value **ret)
{
	struct toml_value *v = malloc(sizeof(*v));

	if (!v)
		return -ENOMEM;
	*v = *tmp;
	*ret = v;
	return 0;
}

/* ---- input checks and cursor ------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0 with *why set. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end, const char **why)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0xC2 || c > 0xF4) {
		*why = c < 0xC0 ? "unexpected continuation byte" : c < 0xC2 ? "overlong encoding" :
		       c < 0xF8 ? "code point above U+10FFFF" : "invalid byte";
		return 0;
	}
	n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (c == 0xE0 || c == 0xF0)
		lo = c == 0xE0 ? 0xA0 : 0x90;
	if (c == 0xED || c == 0xF4)
		hi = c == 0xED ? 0x9F : 0x8F;
	if ((size_t)(end - s) < n) {
		*why = "truncated sequence";
		return 0;
	}
	if (s[1] < lo || s[1] > hi) {
		*why = (s[1] & 0xC0) != 0x80 ? "truncated sequence" : s[1] < lo ? "overlong encoding" :
		       c == 0xED ? "encoded surrogate" : "code point above U+10FFFF";
		return 0;
	}
	for (i = 2; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*why = "truncated sequence";
			return 0;
		}
	}
	return n;
}

static int bad_byte(struct parser *ps, struct toml_pos pos, const unsigned char *s)
{
	if (*s == 0)
		return fail(ps, pos, "NUL byte in document (write \\u0000 inside a basic string)");
	if (*s == '\r')
		return fail(ps, pos, "carriage return not followed by a line feed");
	return fail(ps, pos, "control character U+%04X is not allowed (use an escape in basic strings)",
		    *s);
}

/* Rejects, in one linear pass, every byte sequence TOML allows nowhere. */
static int check_text(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->p, *end = (const unsigned char *)ps->end;
	struct toml_pos pos = { 1, 1 };
	const char *why;
	size_t n;

	while (s < end) {
		if (*s == '\n') {
			pos.line++;
			pos.col = 1;
			s++;
		} else if ((*s >= 0x20 && *s < 0x7f) || *s == '\t') {
			pos.col++;
			s++;
		} else if (*s == '\r' && s + 1 < end && s[1] == '\n') {
			s++;
		} else if (*s < 0x80) {
			return bad_byte(ps, pos, s);
		} else {
			n = utf8_len(s, end, &why);
			if (!n)
				return fail(ps, pos, "invalid UTF-8 (%s)", why);
			s += n;
			pos.col++;
		}
	}
	return 0;
}

static int peek(const struct parser *ps)
{
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

static int peek_at(const struct parser *ps, size_t i)
{
	return (size_t)(ps->end - ps->p) > i ? (unsigned char)ps->p[i] : -1;
}

/* Steps over n ASCII characters on the current line. */
static void adv(struct parser *ps, size_t n)
{
	ps->p += n;
	ps->at.col += (uint32_t)n;
}

/* Steps over one byte of any kind (CR only ever precedes LF). */
static void adv_byte(struct parser *ps)
{
	unsigned char c = (unsigned char)*ps->p++;

	if (c == '\n') {
		ps->at.line++;
		ps->at.col = 1;
	} else if ((c & 0xC0) != 0x80 && c != '\r') {
		ps->at.col++;
	}
}

static bool at_newline(const struct parser *ps)
{
	return peek(ps) == '\n' || peek(ps) == '\r';
}

static void skip_newline(struct parser *ps)
{
	if (peek(ps) == '\r')
		adv_byte(ps);
	adv_byte(ps);
}

static void skip_ws(struct parser *ps)
{
	while (peek(ps) == ' ' || peek(ps) == '\t')
		adv(ps, 1);
}

static void skip_comment(struct parser *ps)
{
	while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\r')
		adv_byte(ps);
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static void skip_blank(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (peek(ps) == '#')
			skip_comment(ps);
		else if (at_newline(ps))
			skip_newline(ps);
		else
			return;
	}
}

/* ---- strings --------------------------------------------------------------- */

/* Copies plain characters up to a quote, a newline or (if esc) a backslash. */
static int copy_run(struct parser *ps, struct buf *out, char quote, bool esc)
{
	const char *s = ps->p;
	uint32_t col = ps->at.col;
	int r;

	while (s < ps->end && *s != quote && *s != '\n' && *s != '\r' && !(esc && *s == '\\')) {
		col += (*s & 0xC0) != 0x80;
		s++;
	}
	r = buf_put(out, ps->p, (size_t)(s - ps->p));
	ps->p = s;
	ps->at.col = col;
	return r;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* \uXXXX or \UXXXXXXXX at the cursor. */
static int parse_ucn(struct parser *ps, struct buf *out, int n)
{
	struct toml_pos pos = ps->at;
	uint32_t cp = 0;
	int i, d;

	for (i = 0; i < n; i++) {
		d = hexval(peek_at(ps, 2 + (size_t)i));
		if (d > 15)
			return fail(ps, pos, "invalid escape '\\%c': expected %d hex digits",
				    ps->p[1], n);
		cp = cp << 4 | (uint32_t)d;
	}
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return fail(ps, pos, "invalid escape '\\%c%.*s': U+%04X is not a unicode scalar value",
			    ps->p[1], n, ps->p + 2, (unsigned)cp);
	adv(ps, 2 + (size_t)n);
	return buf_utf8(out, cp);
}

static int parse_escape(struct parser *ps, struct buf *out)
{
	static const char simple[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	int c = peek_at(ps, 1);
	char d[16];
	size_t i;

	for (i = 0; c > 0 && simple[i]; i += 2) {
		if (c == simple[i]) {
			adv(ps, 2);
			return buf_put(out, &simple[i + 1], 1);
		}
	}
	if (c == 'u' || c == 'U')
		return parse_ucn(ps, out, c == 'u' ? 4 : 8);
	if (c > 0x20 && c < 0x7f)
		return fail(ps, ps->at, "invalid escape '\\%c' in string", c);
	if (c == ' ')
		return fail(ps, ps->at, "invalid escape '\\ ' in string");
	return fail(ps, ps->at, "invalid escape in string: backslash followed by %s",
		    describe(ps, ps->p + 1, d));
}

static int parse_basic(struct parser *ps, struct buf *out)
{
	struct toml_pos start = ps->at;
	int r;

	adv(ps, 1);
	for (;;) {
		r = copy_run(ps, out, '"', true);
		if (r < 0)
			return r;
		if (peek(ps) == '"') {
			adv(ps, 1);
			return 0;
		}
		if (peek(ps) != '\\')
			break;
		r = parse_escape(ps, out);
		if (r < 0)
			return r;
	}
	if (peek(ps) < 0)
		return fail(ps, start, "unterminated string");
	return fail(ps, ps->at, "newline in single-line string");
}

static int parse_literal(struct parser *ps, struct buf *out)
{
	struct toml_pos start = ps->at;
	int r;

	adv(ps, 1);
	r = copy_run(ps, out, '\'', false);
	if (r < 0)
		return r;
	if (peek(ps) == '\'') {
		adv(ps, 1);
		return 0;
	}
	if (peek(ps) < 0)
		return fail(ps, start, "unterminated string");
	return fail(ps, ps->at, "newline in single-line string");
}

/* A run of quotes inside a multi-line string: one or two are content, three
 * to five close it (the extra ones being content). Returns 1 when closed. */
static int ml_quotes(struct parser *ps, struct buf *out, char q)
{
	size_t n = 0;
	int r;

	while (peek_at(ps, n) == q)
		n++;
	if (n >= 6)
		return fail(ps, ps->at, "too many quotes in multi-line string");
	r = buf_put(out, ps->p, n < 3 ? n : n - 3);
	adv(ps, n);
	if (r < 0)
		return r;
	return n >= 3;
}

/* A backslash that ends a line (spaces may follow it) swallows all
 * whitespace and newlines after it. */
static int ml_backslash(struct parser *ps, struct buf *out)
{
	size_t i = 1;

	while (peek_at(ps, i) == ' ' || peek_at(ps, i) == '\t')
		i++;
	if (peek_at(ps, i) != '\n' && peek_at(ps, i) != '\r')
		return parse_escape(ps, out);
	adv(ps, i);
	while (peek(ps) == ' ' || peek(ps) == '\t' || at_newline(ps))
		adv_byte(ps);
	return 0;
}

static int parse_ml(struct parser *ps, struct buf *out)
{
	struct toml_pos start = ps->at;
	char q = *ps->p;
	int r;

	adv(ps, 3);
	if (at_newline(ps))
		skip_newline(ps);
	for (;;) {
		r = copy_run(ps, out, q, q == '"');
		if (r < 0)
			return r;
		if (peek(ps) < 0)
			return fail(ps, start, "unterminated multi-line string");
		if (peek(ps) == q) {
			r = ml_quotes(ps, out, q);
			if (r)
				return r < 0 ? r : 0;
		} else if (peek(ps) == '\\') {
			r = ml_backslash(ps, out);
			if (r < 0)
				return r;
		} else {
			/* the spec lets newlines be normalised: CRLF reads as LF */
			r = buf_put(out, "\n", 1);
			if (r < 0)
				return r;
			skip_newline(ps);
		}
	}
}

static int parse_string_value(struct parser *ps, struct toml_value **ret)
{
	struct toml_value tmp = { .type = TOML_STRING, .pos = ps->at };
	int q = peek(ps), r;

	ps->sb.len = 0;
	if (peek_at(ps, 1) == q && peek_at(ps, 2) == q)
		r = parse_ml(ps, &ps->sb);
	else
		r = q == '"' ? parse_basic(ps, &ps->sb) : parse_literal(ps, &ps->sb);
	if (r < 0)
		return r;
	tmp.u.str.len = ps->sb.len;
	tmp.u.str.ptr = malloc(ps->sb.len + 1);
	if (!tmp.u.str.ptr)
		return -ENOMEM;
	if (ps->sb.len)
		memcpy(tmp.u.str.ptr, ps->sb.p, ps->sb.len);
	tmp.u.str.ptr[ps->sb.len] = '\0';
	r = new_scalar(&tmp, ret);
	if (r < 0)
		free(tmp.u.str.ptr);
	return r;
}

/* ---- numbers and dates ------------------------------------------------------ */

static bool is_token_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '-' || c == '+' || c == '.' || c == ':';
}

static size_t token_len(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && is_token_char((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Length of a run of digits with single underscores between them; -1 if there
 * is no digit, -2 if an underscore is not between two digits. */
static ssize_t digit_run(const char *s, size_t n, int base)
{
	size_t i;

	if (!n || hexval((unsigned char)s[0]) >= base)
		return n && s[0] == '_' ? -2 : -1;
	for (i = 1; i < n; i++) {
		if (s[i] == '_') {
			if (i + 1 == n || hexval((unsigned char)s[i + 1]) >= base)
				return -2;
			i++;
		} else if (hexval((unsigned char)s[i]) >= base) {
			break;
		}
	}
	return (ssize_t)i;
}

static int int_value(const char *s, size_t n, int base, bool neg, int64_t *ret)
{
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t d;

		if (s[i] == '_')
			continue;
		d = (uint64_t)hexval((unsigned char)s[i]);
		if (v > (lim - d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + d;
	}
	*ret = neg && v ? -(int64_t)(v - 1) - 1 : (int64_t)v;
	return 0;
}

static locale_t c_locale(void)
{
	static locale_t cached;
	locale_t l = __atomic_load_n(&cached, __ATOMIC_ACQUIRE), none = (locale_t)0;

	if (l)
		return l;
	l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (l && !__atomic_compare_exchange_n(&cached, &none, l, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE)) {
		freelocale(l);
		l = none;
	}
	return l;
}

/* strtod in the C locale, whatever the program's locale, without underscores. */
static int float_value(struct parser *ps, const char *s, size_t n, double *ret)
{
	locale_t loc = c_locale();
	size_t i;
	int r = 0;

	if (!loc)
		return -ENOMEM;
	ps->sb.len = 0;
	for (i = 0; i < n && r == 0; i++)
		if (s[i] != '_')
			r = buf_put(&ps->sb, &s[i], 1);
	if (r < 0)
		return r;
	*ret = strtod_l(ps->sb.p, NULL, loc);
	return 0;
}

static int bad_number(struct parser *ps, const char *s, size_t n, struct toml_pos pos,
		      ssize_t why)
{
	int len = n > SHOW_MAX ? SHOW_MAX : (int)n;
	const char *more = n > SHOW_MAX ? "..." : "";

	if (why == -2)
		return fail(ps, pos, "invalid number '%.*s%s': underscores must be between digits",
			    len, s, more);
	if (why == -3)
		return fail(ps, pos, "invalid number '%.*s%s': leading zeros are not allowed",
			    len, s, more);
	if (why == -4)
		return fail(ps, pos, "integer %.*s%s overflows 64 bits", len, s, more);
	if (why == -5)
		return fail(ps, pos, "invalid number '%.*s%s': only decimal integers take a sign",
			    len, s, more);
	return fail(ps, pos, "invalid number '%.*s%s'", len, s, more);
}

/* After the integer part: frac and/or exponent, each a digit run. */
static int parse_float_tail(struct parser *ps, const char *s, size_t n, size_t j,
			    struct toml_pos pos, struct toml_value *v)
{
	ssize_t run;

	if (s[j] == '.') {
		run = digit_run(s + j + 1, n - j - 1, 10);
		if (run < 0)
			return bad_number(ps, s, n, pos, run);
		j += 1 + (size_t)run;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		run = digit_run(s + j, n - j, 10);
		if (run < 0)
			return bad_number(ps, s, n, pos, run);
		j += (size_t)run;
	}
	if (j != n)
		return bad_number(ps, s, n, pos, -1);
	v->type = TOML_FLOAT;
	return float_value(ps, s, n, &v->u.fp);
}

static int parse_decimal(struct parser *ps, const char *s, size_t n, struct toml_pos pos,
			 struct toml_value *v)
{
	size_t i = s[0] == '+' || s[0] == '-', j;
	ssize_t run = digit_run(s + i, n - i, 10);

	if (run < 0)
		return bad_number(ps, s, n, pos, run);
	if (s[i] == '0' && run > 1)
		return bad_number(ps, s, n, pos, -3);
	j = i + (size_t)run;
	if (j < n && (s[j] == '.' || s[j] == 'e' || s[j] == 'E'))
		return parse_float_tail(ps, s, n, j, pos, v);
	if (j != n)
		return bad_number(ps, s, n, pos, -1);
	v->type = TOML_INTEGER;
	if (int_value(s + i, (size_t)run, 10, s[0] == '-', &v->u.integer) < 0)
		return bad_number(ps, s, n, pos, -4);
	return 0;
}

static int parse_number(struct parser *ps, const char *s, size_t n, struct toml_pos pos,
			struct toml_value *v)
{
	size_t i = s[0] == '+' || s[0] == '-';
	int base = 0;
	ssize_t run;

	if (n - i == 3 && (!memcmp(s + i, "inf", 3) || !memcmp(s + i, "nan", 3))) {
		v->type = TOML_FLOAT;
		v->u.fp = s[i] == 'i' ? __builtin_inf() : __builtin_nan("");
		if (s[0] == '-')
			v->u.fp = -v->u.fp;
		return 0;
	}
	if (n - i > 1 && s[i] == '0')
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : s[i + 1] == 'b' ? 2 : 0;
	if (!base)
		return parse_decimal(ps, s, n, pos, v);
	if (i)
		return bad_number(ps, s, n, pos, -5);
	run = digit_run(s + 2, n - 2, base);
	if (run < 0 || (size_t)run != n - 2)
		return bad_number(ps, s, n, pos, run < 0 ? run : -1);
	v->type = TOML_INTEGER;
	if (int_value(s + 2, n - 2, base, false, &v->u.integer) < 0)
		return bad_number(ps, s, n, pos, -4);
	return 0;
}

/* Exactly k decimal digits. */
static bool digits(const char *s, int k, int *ret)
{
	int v = 0, i;

	for (i = 0; i < k; i++) {
		if (!is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static const char *dt_date(const char *s, size_t n, struct toml_datetime *dt)
{
	if (n < 10 || !digits(s, 4, &dt->year) || s[4] != '-' || !digits(s + 5, 2, &dt->month) ||
	    s[7] != '-' || !digits(s + 8, 2, &dt->day))
		return "expected YYYY-MM-DD";
	if (dt->month < 1 || dt->month > 12)
		return "month out of range";
	if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
		return "day out of range for the month";
	return NULL;
}

/* HH:MM:SS[.fraction]; seconds may be 60 as RFC 3339 allows a leap second. */
static const char *dt_time(const char *s, size_t n, size_t *i, struct toml_datetime *dt)
{
	uint32_t scale = 100000000;

	s += *i;
	n -= *i;
	if (n < 8 || !digits(s, 2, &dt->hour) || s[2] != ':' || !digits(s + 3, 2, &dt->minute) ||
	    s[5] != ':' || !digits(s + 6, 2, &dt->second))
		return "expected HH:MM:SS";
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return "time out of range";
	*i += 8;
	if (n == 8 || s[8] != '.')
		return NULL;
	if (n == 9 || !is_digit((unsigned char)s[9]))
		return "expected digits after '.'";
	for (s += 9, n -= 9, *i += 1; n && is_digit((unsigned char)*s); s++, n--, (*i)++) {
		dt->nanosecond += (uint32_t)(*s - '0') * scale;
		scale /= 10;	/* digits past nanoseconds are truncated */
	}
	return NULL;
}

static const char *dt_offset(const char *s, size_t n, size_t i, struct toml_datetime *dt)
{
	int h, m;

	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return NULL;
	if ((s[i] != '+' && s[i] != '-') || n - i != 6 || !digits(s + i + 1, 2, &h) ||
	    s[i + 3] != ':' || !digits(s + i + 4, 2, &m))
		return "expected Z or an offset like +HH:MM";
	if (h > 23 || m > 59)
		return "offset out of range";
	dt->offset_minutes = (s[i] == '-' ? -1 : 1) * (h * 60 + m);
	return NULL;
}

static int parse_datetime(struct parser *ps, const char *s, size_t n, struct toml_pos pos,
			  struct toml_value *v)
{
	struct toml_datetime *dt = &v->u.dt;
	const char *why;
	size_t i = 0;

	if (s[2] == ':') {
		v->type = TOML_TIME_LOCAL;
		why = dt_time(s, n, &i, dt);
	} else {
		v->type = TOML_DATE_LOCAL;
		why = dt_date(s, n, dt);
		i = 10;
		if (!why && i < n) {
			v->type = TOML_DATETIME_LOCAL;
			if (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
				i++;
				why = dt_time(s, n, &i, dt);
			} else {
				why = "expected 'T' or a space between date and time";
			}
		}
		if (!why && i < n) {
			v->type = TOML_DATETIME;
			why = dt_offset(s, n, i, dt);
			i = n;
		}
	}
	if (!why && i != n)
		why = "unexpected characters after the time";
	if (why)
		return fail(ps, pos, "invalid date-time '%.*s%s': %s", n > SHOW_MAX ? SHOW_MAX : (int)n,
			    s, n > SHOW_MAX ? "..." : "", why);
	return 0;
}

/* Numbers, dates and times: one token, classified by its first characters. */
static int parse_token_value(struct parser *ps, struct toml_value **ret)
{
	struct toml_value tmp = { .pos = ps->at };
	const char *s = ps->p;
	size_t n = token_len(s, ps->end), left = (size_t)(ps->end - s);
	int y, r;

	if (n >= 5 && digits(s, 4, &y) && s[4] == '-') {
		/* "1979-05-27 07:32:00": the space is the date-time delimiter */
		if (n == 10 && left > 13 && s[10] == ' ' && is_digit((unsigned char)s[11]) &&
		    is_digit((unsigned char)s[12]) && s[13] == ':')
			n = 11 + token_len(s + 11, ps->end);
		r = parse_datetime(ps, s, n, tmp.pos, &tmp);
	} else if (n >= 3 && is_digit((unsigned char)s[0]) && is_digit((unsigned char)s[1]) &&
		   s[2] == ':') {
		r = parse_datetime(ps, s, n, tmp.pos, &tmp);
	} else {
		r = parse_number(ps, s, n, tmp.pos, &tmp);
	}
	if (r < 0)
		return r;
	adv(ps, n);
	return new_scalar(&tmp, ret);
}

/* ---- keys ------------------------------------------------------------------- */

static bool is_bare(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '-';
}

static const char *part_str(const struct parser *ps, size_t i)
{
	return ps->kb.p + ps->part[i].off;
}

/* Key parts 0..i joined with dots, as written relative to the table they
 * started from, shortened for a message. */
static const char *show_path(const struct parser *ps, size_t i, char out[SHOW_SIZE])
{
	char raw[SHOW_MAX + 4];	/* enough to finish a character begun before SHOW_MAX */
	size_t j, n = 0, k;

	for (j = 0; j <= i && n < sizeof(raw); j++) {
		if (j)
			raw[n++] = '.';
		k = ps->part[j].len < sizeof(raw) - n ? ps->part[j].len : sizeof(raw) - n;
		memcpy(raw + n, part_str(ps, j), k);
		n += k;
	}
	return show(out, raw, n);
}

static char *part_dup(const struct parser *ps, size_t i)
{
	char *s = malloc(ps->part[i].len + 1);

	if (s) {
		memcpy(s, part_str(ps, i), ps->part[i].len);
		s[ps->part[i].len] = '\0';
	}
	return s;
}

static int parse_key_part(struct parser *ps)
{
	struct keypart *kp = &ps->part[ps->nparts];
	const char *s = ps->p;
	int c = peek(ps), r;
	char d[16];

	kp->pos = ps->at;
	kp->off = ps->kb.len;
	if ((c == '"' || c == '\'') && peek_at(ps, 1) == c && peek_at(ps, 2) == c)
		return fail(ps, ps->at, "multi-line strings cannot be used as keys");
	if (c == '"') {
		r = parse_basic(ps, &ps->kb);
	} else if (c == '\'') {
		r = parse_literal(ps, &ps->kb);
	} else {
		while (ps->p < ps->end && is_bare((unsigned char)*ps->p))
			adv(ps, 1);
		if (ps->p == s)
			return fail(ps, ps->at, "expected a key, found %s", describe(ps, ps->p, d));
		r = buf_put(&ps->kb, s, (size_t)(ps->p - s));
	}
	kp->len = ps->kb.len - kp->off;
	ps->nparts++;
	return r;
}

/* simple-key *( ws "." ws simple-key ), and the whitespace after it. */
static int parse_key(struct parser *ps)
{
	int r;

	ps->nparts = 0;
	ps->kb.len = 0;
	for (;;) {
		if (ps->nparts == TOML_MAX_DEPTH)
			return fail(ps, ps->at, "nesting too deep (limit %d)", TOML_MAX_DEPTH);
		r = parse_key_part(ps);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (peek(ps) != '.')
			return 0;
		adv(ps, 1);
		skip_ws(ps);
	}
}

/* ---- table structure ----------------------------------------------------------- */

static int add_container(struct parser *ps, struct toml_value **t, size_t i, enum toml_type type,
			 uint32_t flags, struct toml_pos pos)
{
	struct toml_value *v = NULL;
	char *key;
	int r;

	r = new_container(ps, type, cnode(*t)->depth + 1, pos, &v);
	if (r < 0)
		return r;
	cnode(v)->flags = flags;
	key = part_dup(ps, i);
	r = key ? tab_append(ps, *t, key, ps->part[i].len, ps->part[i].pos, v) : -ENOMEM;
	if (r < 0) {
		free(key);
		toml_free(v);
		return r;
	}
	*t = v;
	return 0;
}

static int not_a_table(struct parser *ps, size_t i, const struct toml_kv *kv, bool dotted)
{
	const struct toml_value *v = kv->val;
	uint32_t line = kv->key_pos.line, flags = flags_of(v);
	char k[SHOW_SIZE];

	show_path(ps, i, k);
	if (v->type == TOML_TABLE && (flags & F_FROZEN))
		return fail(ps, ps->part[i].pos, "cannot extend inline table '%s' (defined at line %u)",
			    k, line);
	if (v->type == TOML_TABLE)
		return fail(ps, ps->part[i].pos,
			    "cannot add to table '%s' with dotted keys: it has a [header] at line %u",
			    k, line);
	if (v->type == TOML_ARRAY && !dotted && !(flags & F_AOT))
		return fail(ps, ps->part[i].pos, "cannot extend static array '%s' (defined at line %u)",
			    k, line);
	if (v->type == TOML_ARRAY && (flags & F_AOT))
		return fail(ps, ps->part[i].pos,
			    "key '%s' is an array of tables (defined at line %u), not a table", k, line);
	return fail(ps, ps->part[i].pos, "key '%s' is %s %s (defined at line %u), not a table", k,
		    article(v->type), toml_type_name(v->type), line);
}

/* Steps from *t into key part i on the way to a header's table (dotted false,
 * implicit tables start at the header's pos) or to a key/value pair's table. */
static int descend(struct parser *ps, struct toml_value **t, size_t i, bool dotted,
		   struct toml_pos hdr)
{
	ssize_t idx = tab_find(*t, part_str(ps, i), ps->part[i].len);
	const struct toml_kv *kv;
	struct toml_value *v = NULL;
	uint32_t bad;

	if (idx < 0)
		return add_container(ps, t, i, TOML_TABLE, dotted ? F_DOTTED : 0,
				     dotted ? ps->part[i].pos : hdr);
	kv = &(*t)->u.tab.kvs[idx];
	v = kv->val;
	/* [[a]] then [a.b]: b belongs to the last element of a */
	if (!dotted && v->type == TOML_ARRAY && (cnode(v)->flags & F_AOT))
		v = v->u.arr.items[v->u.arr.n - 1];
	bad = dotted ? F_FROZEN | F_EXPLICIT : F_FROZEN;
	if (v->type != TOML_TABLE || (cnode(v)->flags & bad))
		return not_a_table(ps, i, kv, dotted);
	if (dotted)
		cnode(v)->flags |= F_DOTTED;
	*t = v;
	return 0;
}

static int redefined(struct parser *ps, size_t i, const struct toml_kv *kv, bool aot)
{
	const struct toml_value *v = kv->val;
	uint32_t line = kv->key_pos.line, flags = flags_of(v);
	struct toml_pos pos = ps->part[i].pos;
	char k[SHOW_SIZE];

	show_path(ps, i, k);
	if (v->type == TOML_ARRAY && aot)
		return fail(ps, pos, "cannot append to static array '%s' (defined at line %u)", k, line);
	if (v->type == TOML_TABLE && (flags & F_FROZEN))
		return fail(ps, pos, "cannot redefine inline table '%s' (defined at line %u)", k, line);
	if (v->type == TOML_TABLE && !aot && (flags & F_DOTTED))
		return fail(ps, pos, "table '%s' already defined by dotted keys at line %u", k, line);
	if (v->type == TOML_TABLE && !aot)
		return fail(ps, pos, "table '%s' already defined at line %u", k, line);
	if (v->type == TOML_ARRAY && (flags & F_AOT))
		return fail(ps, pos, "'%s' is an array of tables (defined at line %u), not a table",
			    k, line);
	return fail(ps, pos, "key '%s' is %s %s (defined at line %u), not %s", k, article(v->type),
		    toml_type_name(v->type), line, aot ? "an array of tables" : "a table");
}

/* Last part of [a.b]: a new table, or one only implied so far. */
static int open_table(struct parser *ps, struct toml_value **t, struct toml_pos hdr)
{
	size_t last = ps->nparts - 1;
	ssize_t idx = tab_find(*t, part_str(ps, last), ps->part[last].len);
	struct toml_kv *kv;

	if (idx < 0)
		return add_container(ps, t, last, TOML_TABLE, F_EXPLICIT, hdr);
	kv = &(*t)->u.tab.kvs[idx];
	if (kv->val->type != TOML_TABLE ||
	    (cnode(kv->val)->flags & (F_EXPLICIT | F_DOTTED | F_FROZEN)))
		return redefined(ps, last, kv, false);
	cnode(kv->val)->flags |= F_EXPLICIT;
	kv->val->pos = hdr;
	kv->key_pos = ps->part[last].pos;
	*t = kv->val;
	return 0;
}

/* Last part of [[a.b]]: a new element of a new or existing array of tables. */
static int open_aot(struct parser *ps, struct toml_value **t, struct toml_pos hdr)
{
	size_t last = ps->nparts - 1;
	ssize_t idx = tab_find(*t, part_str(ps, last), ps->part[last].len);
	struct toml_value *arr = *t, *tab = NULL;
	int r;

	if (idx < 0) {
		r = add_container(ps, &arr, last, TOML_ARRAY, F_AOT, hdr);
		if (r < 0)
			return r;
	} else {
		arr = (*t)->u.tab.kvs[idx].val;
		if (arr->type != TOML_ARRAY || !(cnode(arr)->flags & F_AOT))
			return redefined(ps, last, &(*t)->u.tab.kvs[idx], true);
	}
	r = new_container(ps, TOML_TABLE, cnode(arr)->depth + 1, hdr, &tab);
	if (r < 0)
		return r;
	cnode(tab)->flags = F_EXPLICIT;
	r = arr_push(arr, tab);
	if (r < 0) {
		toml_free(tab);
		return r;
	}
	*t = tab;
	return 0;
}

/* ---- values, key/value pairs, headers -------------------------------------------- */

static int parse_value(struct parser *ps, uint32_t depth, struct toml_value **ret);

static int parse_keyval(struct parser *ps, struct toml_value *t)
{
	struct toml_value *v = NULL;
	struct toml_pos kpos;
	char d[16], k[SHOW_SIZE], *key;
	size_t i, last, len;
	ssize_t idx;
	int r;

	r = parse_key(ps);
	if (r < 0)
		return r;
	if (peek(ps) != '=')
		return fail(ps, ps->at, "expected '=' after key, found %s", describe(ps, ps->p, d));
	adv(ps, 1);
	skip_ws(ps);
	last = ps->nparts - 1;
	for (i = 0; i < last; i++) {
		r = descend(ps, &t, i, true, ps->at);
		if (r < 0)
			return r;
	}
	idx = tab_find(t, part_str(ps, last), ps->part[last].len);
	if (idx >= 0)
		return fail(ps, ps->part[last].pos, "duplicate key '%s' (first defined at line %u)",
			    show_path(ps, last, k), t->u.tab.kvs[idx].key_pos.line);
	/* the value may hold inline tables whose keys reuse ps->part */
	kpos = ps->part[last].pos;
	len = ps->part[last].len;
	key = part_dup(ps, last);
	if (!key)
		return -ENOMEM;
	r = parse_value(ps, cnode(t)->depth + 1, &v);
	if (r >= 0)
		r = tab_append(ps, t, key, len, kpos, v);
	if (r < 0) {
		free(key);
		toml_free(v);
	}
	return r;
}

static int parse_array(struct parser *ps, uint32_t depth, struct toml_value **ret)
{
	struct toml_value *arr = NULL, *item = NULL;
	char d[16];
	int r;

	r = new_container(ps, TOML_ARRAY, depth, ps->at, &arr);
	if (r < 0)
		return r;
	adv(ps, 1);
	for (;;) {
		skip_blank(ps);
		if (peek(ps) == ']')
			break;
		r = parse_value(ps, depth + 1, &item);
		if (r < 0)
			goto fail;
		r = arr_push(arr, item);
		if (r < 0) {
			toml_free(item);
			goto fail;
		}
		skip_blank(ps);
		if (peek(ps) == ']')
			break;
		if (peek(ps) != ',') {
			r = fail(ps, ps->at, "expected ',' or ']' in array, found %s",
				 describe(ps, ps->p, d));
			goto fail;
		}
		adv(ps, 1);
	}
	adv(ps, 1);
	*ret = arr;
	return 0;
fail:
	toml_free(arr);
	return r;
}

static int inline_sep(struct parser *ps, bool *done)
{
	char d[16];

	skip_ws(ps);
	if (peek(ps) == '}') {
		adv(ps, 1);
		*done = true;
		return 0;
	}
	if (at_newline(ps))
		return fail(ps, ps->at, "newline not allowed in inline table");
	if (peek(ps) != ',')
		return fail(ps, ps->at, "expected ',' or '}' in inline table, found %s",
			    describe(ps, ps->p, d));
	adv(ps, 1);
	skip_ws(ps);
	if (peek(ps) == '}')
		return fail(ps, ps->at, "trailing comma not allowed in inline table");
	if (at_newline(ps))
		return fail(ps, ps->at, "newline not allowed in inline table");
	return 0;
}

static int parse_inline_table(struct parser *ps, uint32_t depth, struct toml_value **ret)
{
	struct toml_value *tab = NULL;
	bool done = false;
	int r;

	r = new_container(ps, TOML_TABLE, depth, ps->at, &tab);
	if (r < 0)
		return r;
	adv(ps, 1);
	skip_ws(ps);
	if (peek(ps) == '}') {
		adv(ps, 1);
		done = true;
	} else if (at_newline(ps)) {
		r = fail(ps, ps->at, "newline not allowed in inline table");
	}
	while (!done && r == 0) {
		r = parse_keyval(ps, tab);
		if (r == 0)
			r = inline_sep(ps, &done);
	}
	if (r < 0) {
		toml_free(tab);
		return r;
	}
	cnode(tab)->flags |= F_FROZEN;
	*ret = tab;
	return 0;
}

static int parse_bool(struct parser *ps, struct toml_value **ret)
{
	struct toml_value tmp = { .type = TOML_BOOL, .pos = ps->at };
	size_t n = token_len(ps->p, ps->end);

	if (n >= 4 && !memcmp(ps->p, "true", 4)) {
		tmp.u.boolean = true;
		adv(ps, 4);
	} else if (n >= 5 && !memcmp(ps->p, "false", 5)) {
		adv(ps, 5);
	} else {
		return fail(ps, ps->at, "invalid value '%.*s%s'", n > SHOW_MAX ? SHOW_MAX : (int)n,
			    ps->p, n > SHOW_MAX ? "..." : "");
	}
	return new_scalar(&tmp, ret);
}

/* depth: what an array or inline table made here would have. */
static int parse_value(struct parser *ps, uint32_t depth, struct toml_value **ret)
{
	int c = peek(ps);
	size_t n;
	char d[16];

	if (c == '"' || c == '\'')
		return parse_string_value(ps, ret);
	if (c == '[')
		return parse_array(ps, depth, ret);
	if (c == '{')
		return parse_inline_table(ps, depth, ret);
	if (c == 't' || c == 'f')
		return parse_bool(ps, ret);
	if (is_digit(c) || c == '+' || c == '-' || c == '.' || c == 'i' || c == 'n')
		return parse_token_value(ps, ret);
	n = token_len(ps->p, ps->end);
	if (n)
		return fail(ps, ps->at, "invalid value '%.*s%s' (strings must be quoted)",
			    n > SHOW_MAX ? SHOW_MAX : (int)n, ps->p, n > SHOW_MAX ? "..." : "");
	return fail(ps, ps->at, "expected a value, found %s", describe(ps, ps->p, d));
}

static int parse_header(struct parser *ps, struct toml_value **cur)
{
	struct toml_pos hdr = ps->at;
	bool aot = peek_at(ps, 1) == '[';
	struct toml_value *t = ps->root;
	size_t i;
	char d[16];
	int r;

	adv(ps, aot ? 2 : 1);
	skip_ws(ps);
	r = parse_key(ps);
	if (r < 0)
		return r;
	if (peek(ps) != ']' || (aot && peek_at(ps, 1) != ']'))
		return fail(ps, ps->at, "expected '%s' to close the table header, found %s",
			    aot ? "]]" : "]", describe(ps, ps->p, d));
	adv(ps, aot ? 2 : 1);
	for (i = 0; i + 1 < ps->nparts; i++) {
		r = descend(ps, &t, i, false, hdr);
		if (r < 0)
			return r;
	}
	r = aot ? open_aot(ps, &t, hdr) : open_table(ps, &t, hdr);
	if (r < 0)
		return r;
	*cur = t;
	return 0;
}

static int line_end(struct parser *ps, const char *what)
{
	char d[16];

	skip_ws(ps);
	if (peek(ps) == '#')
		skip_comment(ps);
	if (peek(ps) < 0)
		return 0;
	if (at_newline(ps)) {
		skip_newline(ps);
		return 0;
	}
	return fail(ps, ps->at, "expected newline after %s, found %s", what,
		    describe(ps, ps->p, d));
}

static int parse_document(struct parser *ps)
{
	struct toml_value *cur = ps->root;
	int c, r;

	for (;;) {
		skip_ws(ps);
		c = peek(ps);
		if (c < 0)
			return 0;
		if (c == '#' || c == '\n' || c == '\r') {
			r = line_end(ps, "comment");
		} else if (c == '[') {
			r = parse_header(ps, &cur);
			if (r == 0)
				r = line_end(ps, "table header");
		} else {
			r = parse_keyval(ps, cur);
			if (r == 0)
				r = line_end(ps, "value");
		}
		if (r < 0)
			return r;
	}
}

/* ---- public interface -------------------------------------------------------------- */

static void seed(struct parser *ps)
{
	uint64_t k[2];

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		/* no entropy yet (early boot): still unpredictable enough per process */
		k[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)ps;
		k[1] = (uint64_t)clock() ^ (uint64_t)(uintptr_t)&k;
	}
	ps->k0 = k[0];
	ps->k1 = k[1];
}

int toml_parse(const char *buf, size_t len, struct toml_value **ret_root, struct toml_error *err)
{
	struct parser ps = { .p = buf ? buf : "", .at = { 1, 1 }, .err = err };
	int r;

	if (!buf)
		len = 0;
	ps.end = ps.p + len;
	if (err)
		memset(err, 0, sizeof(*err));
	seed(&ps);
	r = check_text(&ps);
	if (r == 0)
		r = new_container(&ps, TOML_TABLE, 0, ps.at, &ps.root);
	/* part_str() and strtod_l() never see a NULL buffer */
	if (r == 0)
		r = buf_put(&ps.kb, "", 1);
	if (r == 0)
		r = buf_put(&ps.sb, "", 1);
	if (r == 0)
		r = parse_document(&ps);
	free(ps.sb.p);
	free(ps.kb.p);
	if (r < 0) {
		toml_free(ps.root);
		if (r == -ENOMEM && err)
			snprintf(err->msg, sizeof(err->msg), "out of memory");
		return r;
	}
	*ret_root = ps.root;
	return 0;
}

struct toml_value *toml_free(struct toml_value *v)
{
	size_t i;

	if (!v)
		return NULL;
	if (v->type == TOML_TABLE) {
		for (i = 0; i < v->u.tab.n; i++) {
			free(v->u.tab.kvs[i].key);
			toml_free(v->u.tab.kvs[i].val);
		}
		free(v->u.tab.kvs);
		free(v->u.tab.priv);
	} else if (v->type == TOML_ARRAY) {
		for (i = 0; i < v->u.arr.n; i++)
			toml_free(v->u.arr.items[i]);
		free(v->u.arr.items);
	} else if (v->type == TOML_STRING) {
		free(v->u.str.ptr);
	}
	free(v);
	return NULL;
}

const struct toml_kv *toml_get_kv(const struct toml_value *table, const char *key)
{
	ssize_t i;

	if (!table || !key || table->type != TOML_TABLE)
		return NULL;
	i = tab_find(table, key, strlen(key));
	return i < 0 ? NULL : &table->u.tab.kvs[i];
}

const struct toml_value *toml_get(const struct toml_value *table, const char *key)
{
	const struct toml_kv *kv = toml_get_kv(table, key);

	return kv ? kv->val : NULL;
}

const char *toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_TABLE: return "table";
	case TOML_ARRAY: return "array";
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "boolean";
	case TOML_DATETIME: return "offset date-time";
	case TOML_DATETIME_LOCAL: return "local date-time";
	case TOML_DATE_LOCAL: return "local date";
	case TOML_TIME_LOCAL: return "local time";
	}
	return "unknown";
}
