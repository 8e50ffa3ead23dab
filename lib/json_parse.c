// SPDX-License-Identifier: MIT
/*
 * JSON text (RFC 8259) to json-c objects, by recursive descent with a depth
 * limit.  json-c's own tokenizer is a character-at-a-time state machine
 * that appends every string byte by byte (about 2 ns a byte here: 100 us
 * for the 55 KB base64 log of a secure-boot firmware log), and an
 * evidence document is read on every attestation.  Here a string without
 * escapes is found with memchr(), checked eight bytes at a time and copied
 * once into its json_object; only strings with escapes go through a
 * byte loop.
 *
 * Grammar: RFC 8259 sections 2-7.  UTF-8 (M_JSON_UTF8): RFC 3629 section 4.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "measured/json.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct reader {
	const char *start, *p, *end;
	unsigned depth, max_depth, flags;
	/* decoded keys, escaped strings and numbers for strtod, grown as
	 * needed (a payload answer of 86 MB has short keys); the keys of the
	 * enclosing objects stay below top */
	char *scratch;
	size_t top, cap;
	struct m_json_error *err;
};

static int fail(struct reader *r, const char *at, const char *reason)
{
	r->err->offset = (size_t)(at - r->start);
	r->err->reason = reason;
	return -1;
}

/* room for @need bytes at top; the scratch may move */
static int reserve(struct reader *r, size_t need)
{
	size_t want = r->top + need, cap = r->cap ? r->cap : 256;
	char *n;

	if (want <= r->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	n = realloc(r->scratch, cap);
	if (!n)
		return -1;
	r->scratch = n;
	r->cap = cap;
	return 0;
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

#define HIGH 0x8080808080808080ull

/* the first '"', '\\' or control character (below 0x20, which a string may
 * not hold raw: section 7) in [s, e), or NULL; sixteen bytes a step with
 * SSE2, which every x86-64 has */
static const char *find_special(const char *s, const char *e)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);

	while (e - s >= 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)s);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, quote), _mm_cmpeq_epi8(c, backslash)),
					 _mm_cmpeq_epi8(_mm_min_epu8(c, ctl), c));
		int k = _mm_movemask_epi8(m);

		if (k)
			return s + __builtin_ctz((unsigned)k);
		s += 16;
	}
#endif
	for (; s < e; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return s;
	return NULL;
}

/* the first byte of [s, e) that does not begin a well-formed UTF-8
 * sequence (RFC 3629 section 4: no overlongs, no surrogates, <= U+10FFFF) */
static const char *find_bad_utf8(const char *s, const char *e)
{
	const unsigned char *u = (const unsigned char *)s, *ue = (const unsigned char *)e;

	while (u < ue) {
		uint64_t x;
		unsigned c = *u;
		int n;
		unsigned lo = 0x80, hi = 0xbf;

		if (ue - u >= 8 && (memcpy(&x, u, 8), !(x & HIGH))) {
			u += 8;
			continue;
		}
		if (c < 0x80) {
			u++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return (const char *)u;
		if (ue - u <= n || u[1] < lo || u[1] > hi)
			return (const char *)u;
		for (int k = 2; k <= n; k++)
			if ((u[k] & 0xc0) != 0x80)
				return (const char *)u;
		u += n + 1;
	}
	return NULL;
}

static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int check_utf8(struct reader *r, const char *s, const char *e)
{
	const char *bad;

	if ((r->flags & M_JSON_UTF8) && (bad = find_bad_utf8(s, e)))
		return fail(r, bad, "string is not UTF-8");
	return 0;
}

/*
 * Section 7: the string at r->p.  One without escapes is returned where it
 * lies in the text; one with escapes is decoded into the scratch at top
 * (*@in_scratch set), valid until the scratch grows again.  Runs between
 * escapes are found sixteen bytes a step and checked whole.
 */
static int string(struct reader *r, const char **ret, size_t *ret_len, bool *in_scratch)
{
	const char *s = r->p + 1, *x;
	size_t o = 0;	/* decoded bytes, at scratch + top */
	bool escaped = false;
	char *d;

	for (;;) {
		if (!(x = find_special(s, r->end)))
			return fail(r, r->p, "unterminated string");
		if (check_utf8(r, s, x) < 0)
			return -1;
		if (*x == '"' && !escaped) {
			*ret = s;
			*ret_len = (size_t)(x - s);
			*in_scratch = false;
			r->p = x + 1;
			return 0;
		}
		/* the run, and the at most 4 bytes its escape decodes to */
		if (reserve(r, o + (size_t)(x - s) + 4) < 0)
			return fail(r, s, "out of memory");
		d = r->scratch + r->top;
		memcpy(d + o, s, (size_t)(x - s));
		o += (size_t)(x - s);
		s = x;
		if (*s == '"')
			break;
		if (*s != '\\')
			return fail(r, s, "control character in a string");
		escaped = true;
		if (r->end - s < 2)
			return fail(r, r->p, "unterminated string");
		switch (s[1]) {
		case '"': d[o++] = '"'; break;
		case '\\': d[o++] = '\\'; break;
		case '/': d[o++] = '/'; break;
		case 'b': d[o++] = '\b'; break;
		case 'f': d[o++] = '\f'; break;
		case 'n': d[o++] = '\n'; break;
		case 'r': d[o++] = '\r'; break;
		case 't': d[o++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (r->end - s < 6 || hex4(s + 2, &cp) < 0)
				return fail(r, s, "bad \\u escape");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(r, s, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->end - s < 12 || s[6] != '\\' || s[7] != 'u' || hex4(s + 8, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return fail(r, s, "lone high surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			o += put_utf8(d + o, cp);
			s += 6;
			continue;
		}
		default:
			return fail(r, s, "bad escape");
		}
		s += 2;
	}
	r->p = s + 1;
	*ret = r->scratch + r->top;
	*ret_len = o;
	*in_scratch = true;
	return 0;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static bool digit(const struct reader *r, const char *p)
{
	return p < r->end && *p >= '0' && *p <= '9';
}

/* section 6: an integer is an int64 (or, above INT64_MAX, a uint64) as
 * json-c keeps them; anything with a fraction or exponent a double */
static int number(struct reader *r, json_object **ret)
{
	const char *s = r->p, *p = s;
	bool neg = false, integer = true;
	uint64_t v = 0;
	bool overflow = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!digit(r, p))
		return fail(r, s, "bad number");
	if (*p == '0')
		p++;
	else
		for (; digit(r, p); p++) {
			unsigned d = (unsigned)(*p - '0');

			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			v = v * 10 + d;
		}
	if (digit(r, p))
		return fail(r, s, "leading zero in a number");
	if (p < r->end && *p == '.') {
		p++;
		integer = false;
		if (!digit(r, p))
			return fail(r, p, "no digit after a decimal point");
		while (digit(r, p))
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		integer = false;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (!digit(r, p))
			return fail(r, p, "no digit in an exponent");
		while (digit(r, p))
			p++;
	}
	r->p = p;
	if (integer) {
		if (overflow || (neg && v > (uint64_t)INT64_MAX + 1))
			return fail(r, s, "integer out of range");
		if (neg)
			*ret = json_object_new_int64(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v);
		else if (v <= INT64_MAX)
			*ret = json_object_new_int64((int64_t)v);
		else
			*ret = json_object_new_uint64(v);
	} else {
		/* strtod wants a NUL: the number is copied to the scratch */
		char *t;
		double d;

		if (reserve(r, (size_t)(p - s) + 1) < 0)
			return fail(r, s, "out of memory");
		t = r->scratch + r->top;
		memcpy(t, s, (size_t)(p - s));
		t[p - s] = 0;
		pthread_once(&c_locale_once, c_locale_init);
		if (!c_locale)
			return fail(r, s, "out of memory");
		d = strtod_l(t, NULL, c_locale);
		if (isinf(d))
			return fail(r, s, "number out of range");
		*ret = json_object_new_double(d);
	}
	return *ret ? 0 : fail(r, s, "out of memory");
}

static int value(struct reader *r, json_object **ret);

static int array(struct reader *r, json_object **ret)
{
	json_object *a = json_object_new_array(), *v;

	if (!a)
		return fail(r, r->p, "out of memory");
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		*ret = a;
		return 0;
	}
	for (;;) {
		if (value(r, &v) < 0)
			goto bad;
		if (json_object_array_add(a, v) < 0) {
			json_object_put(v);
			fail(r, r->p, "out of memory");
			goto bad;
		}
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			*ret = a;
			return 0;
		}
		fail(r, r->p, "expected ',' or ']'");
		goto bad;
	}
bad:
	json_object_put(a);
	return -1;
}

static int object(struct reader *r, json_object **ret)
{
	json_object *o = json_object_new_object(), *v;
	size_t top = r->top;

	if (!o)
		return fail(r, r->p, "out of memory");
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		*ret = o;
		return 0;
	}
	for (;;) {
		const char *k, *at = r->p;
		size_t kn, key;
		bool in_scratch;

		if (r->p >= r->end || *r->p != '"') {
			fail(r, r->p, "expected a key");
			goto bad;
		}
		if (string(r, &k, &kn, &in_scratch) < 0)
			goto bad;
		if (memchr(k, 0, kn)) {
			fail(r, at, "NUL character in a key");
			goto bad;
		}
		/* the key stays in the scratch, below what its value decodes (an
		 * escaped key is there already, at top, and stays there if it moves) */
		if (reserve(r, kn + 1) < 0) {
			fail(r, at, "out of memory");
			goto bad;
		}
		key = r->top;
		if (!in_scratch)
			memcpy(r->scratch + key, k, kn);
		r->scratch[key + kn] = 0;
		if (json_object_object_get_ex(o, r->scratch + key, NULL)) {
			fail(r, at, "key repeated in an object");
			goto bad;
		}
		r->top += kn + 1;
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':') {
			fail(r, r->p, "expected ':'");
			goto bad;
		}
		r->p++;
		if (value(r, &v) < 0)
			goto bad;
		/* the value may have grown (moved) the scratch: the key is found again */
		if (json_object_object_add_ex(o, r->scratch + key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
			json_object_put(v);
			fail(r, at, "out of memory");
			goto bad;
		}
		r->top = top;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			*ret = o;
			return 0;
		}
		fail(r, r->p, "expected ',' or '}'");
		goto bad;
	}
bad:
	r->top = top;
	json_object_put(o);
	return -1;
}

static int literal(struct reader *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, r->p, "unexpected character");
	r->p += n;
	return 0;
}

static int value(struct reader *r, json_object **ret)
{
	const char *s;
	size_t n;
	bool in_scratch;
	int k;

	skip_ws(r);
	if (r->p >= r->end)
		return fail(r, r->p, "unexpected end of text");
	switch (*r->p) {
	case '{':
	case '[':
		if (r->depth >= r->max_depth)
			return fail(r, r->p, "nesting too deep");
		r->depth++;
		k = *r->p == '{' ? object(r, ret) : array(r, ret);
		r->depth--;
		return k;
	case '"':
		if (string(r, &s, &n, &in_scratch) < 0)
			return -1;
		*ret = json_object_new_string_len(s, (int)n);
		return *ret ? 0 : fail(r, s, "out of memory");
	case 't':
	case 'f':
		k = *r->p == 't';
		if (literal(r, k ? "true" : "false", k ? 4 : 5) < 0)
			return -1;
		*ret = json_object_new_boolean(k);
		return *ret ? 0 : fail(r, r->p, "out of memory");
	case 'n':
		*ret = NULL;	/* json-c's null */
		return literal(r, "null", 4);
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			return number(r, ret);
		return fail(r, r->p, "unexpected character");
	}
}

json_object *m_json_parse(const char *text, size_t len, unsigned max_depth, unsigned flags,
			  struct m_json_error *err)
{
	struct reader r = {
		.start = text, .p = text, .end = text + len,
		.max_depth = max_depth, .flags = flags, .err = err,
	};
	json_object *v = NULL;

	err->offset = 0;
	err->reason = NULL;
	if (len > INT32_MAX) {	/* json-c's string lengths are ints */
		fail(&r, text, "text too long");
		return NULL;
	}
	if (value(&r, &v) < 0)
		v = NULL;
	else {
		skip_ws(&r);
		if (r.p != r.end) {
			json_object_put(v);
			v = NULL;
			fail(&r, r.p, "text after the value");
		}
	}
	free(r.scratch);
	/* a lone "null" is a valid text but no document of ours */
	if (!v && !err->reason)
		fail(&r, text, "the value is null");
	return v;
}
