// SPDX-License-Identifier: MIT
/*
 * The JSON reader (lib/json_parse.c) against RFC 8259's grammar, worked by
 * hand: what it reads and into which json-c types, what it refuses and at
 * which byte.  tests/fuzz/fuzz_json.c compares it with json-c's tokenizer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "measured/json.h"

static json_object *parse(const char *text, unsigned flags)
{
	struct m_json_error err;

	return m_json_parse(text, strlen(text), 8, flags, &err);
}

static void refused(const char *text, unsigned depth, unsigned flags, size_t offset, const char *reason)
{
	struct m_json_error err;
	json_object *o = m_json_parse(text, strlen(text), depth, flags, &err);

	if (o)
		fail_msg("accepted: %s", text);
	assert_non_null(err.reason);
	if (strcmp(err.reason, reason) != 0 || err.offset != offset)
		fail_msg("%s: got '%s' at %zu, want '%s' at %zu", text, err.reason, err.offset, reason, offset);
}

static void test_types(void **state)
{
	json_object *o = parse(" {\"a\" : [1, -2, 0, 1.5e2, true, false, null, \"x\", {}, []],\n\t\"b\":{\"c\":-0.25}} ", 0);
	json_object *a, *b, *c;

	(void)state;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "a", &a));
	assert_int_equal(json_object_array_length(a), 10);
	assert_true(json_object_is_type(json_object_array_get_idx(a, 0), json_type_int));
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(a, 1)), -2);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(a, 2)), 0);
	assert_true(json_object_is_type(json_object_array_get_idx(a, 3), json_type_double));
	assert_true(json_object_get_double(json_object_array_get_idx(a, 3)) == 150.0);
	assert_true(json_object_get_boolean(json_object_array_get_idx(a, 4)));
	assert_false(json_object_get_boolean(json_object_array_get_idx(a, 5)));
	assert_null(json_object_array_get_idx(a, 6));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 7)), "x");
	assert_true(json_object_is_type(json_object_array_get_idx(a, 8), json_type_object));
	assert_true(json_object_is_type(json_object_array_get_idx(a, 9), json_type_array));
	assert_true(json_object_object_get_ex(o, "b", &b));
	assert_true(json_object_object_get_ex(b, "c", &c));
	assert_true(json_object_get_double(c) == -0.25);
	json_object_put(o);
}

static void test_integers(void **state)
{
	json_object *o = parse("[9223372036854775807, -9223372036854775808, 18446744073709551615]", 0);

	(void)state;
	assert_non_null(o);
	assert_true(json_object_get_int64(json_object_array_get_idx(o, 0)) == INT64_MAX);
	assert_true(json_object_get_int64(json_object_array_get_idx(o, 1)) == INT64_MIN);
	assert_true(json_object_get_uint64(json_object_array_get_idx(o, 2)) == UINT64_MAX);
	json_object_put(o);
	refused("[18446744073709551616]", 8, 0, 1, "integer out of range");
	refused("[-9223372036854775809]", 8, 0, 1, "integer out of range");
	refused("[1e400]", 8, 0, 1, "number out of range");
}

static void test_escapes(void **state)
{
	/* U+00E9 as two bytes, U+20AC as three, U+1F600 from a surrogate pair, a NUL */
	json_object *o = parse("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\\ud83d\\ude00\", \"a\\u0000b\"]", 0);
	json_object *s;

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(o, 0)), "\"\\/\b\f\n\r\t");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(o, 1)), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	s = json_object_array_get_idx(o, 2);
	assert_int_equal(json_object_get_string_len(s), 3);
	assert_memory_equal(json_object_get_string(s), "a\0b", 3);
	json_object_put(o);
}

/* escaped keys stay whole while their values decode (and grow the
 * scratch the keys are kept in: here far past its first 256 bytes) */
static void test_escaped_keys_nested(void **state)
{
	char t[4096], *p = t, want[1100];
	json_object *o, *in, *v;

	(void)state;
	p += sprintf(p, "{\"k\\u00e9y1\": {\"inner\\n\": \"");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "\\tab");
	p += sprintf(p, "\", \"n\": 1.25}, \"k\\\"2\": [\"\\u0041\"]}");
	o = parse(t, M_JSON_UTF8);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "k\xc3\xa9y1", &in));
	assert_true(json_object_object_get_ex(in, "inner\n", &v));
	for (int i = 0; i < 200; i++)
		memcpy(want + 3 * i, "\tab", 3);
	assert_int_equal(json_object_get_string_len(v), 600);
	assert_memory_equal(json_object_get_string(v), want, 600);
	assert_true(json_object_object_get_ex(in, "n", &v));
	assert_true(json_object_get_double(v) == 1.25);
	assert_true(json_object_object_get_ex(o, "k\"2", &v));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "A");
	json_object_put(o);
}

/* a long string with no escape is read in one piece: every byte kept */
static void test_long_string(void **state)
{
	size_t n = 100000;
	char *t = malloc(n + 16);
	json_object *o, *d;

	(void)state;
	assert_non_null(t);
	strcpy(t, "{\"d\":\"");
	for (size_t i = 0; i < n; i++)
		t[6 + i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	strcpy(t + 6 + n, "\"}");
	o = parse(t, 0);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "d", &d));
	assert_int_equal(json_object_get_string_len(d), n);
	assert_memory_equal(json_object_get_string(d), t + 6, n);
	json_object_put(o);
	/* a control character far into it is found, at its offset */
	t[6 + 77777] = '\n';
	refused(t, 8, 0, 6 + 77777, "control character in a string");
	free(t);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", 8, 0, 0, "unexpected end of text");
	refused("null", 8, 0, 0, "the value is null");
	refused("{\"a\":1,}", 8, 0, 7, "expected a key");
	refused("[1,]", 8, 0, 3, "unexpected character");
	refused("[1 2]", 8, 0, 3, "expected ',' or ']'");
	refused("{\"a\" 1}", 8, 0, 5, "expected ':'");
	refused("{\"a\":1 \"b\":2}", 8, 0, 7, "expected ',' or '}'");
	refused("{\"a\":1,\"a\":2}", 8, 0, 7, "key repeated in an object");
	refused("{\"a\\u0000\":1}", 8, 0, 1, "NUL character in a key");
	refused("[01]", 8, 0, 1, "leading zero in a number");
	refused("[1.]", 8, 0, 3, "no digit after a decimal point");
	refused("[1e+]", 8, 0, 4, "no digit in an exponent");
	refused("[-]", 8, 0, 1, "bad number");
	refused("[NaN]", 8, 0, 1, "unexpected character");
	refused("['a']", 8, 0, 1, "unexpected character");
	refused("[tru]", 8, 0, 1, "unexpected character");
	refused("{} x", 8, 0, 3, "text after the value");
	refused("{}/**/", 8, 0, 2, "text after the value");
	refused("[\"a\tb\"]", 8, 0, 3, "control character in a string");
	refused("[\"abc", 8, 0, 1, "unterminated string");
	refused("[\"a\\x\"]", 8, 0, 3, "bad escape");
	refused("[\"\\u12g4\"]", 8, 0, 2, "bad \\u escape");
	refused("[\"\\ud83d\"]", 8, 0, 2, "lone high surrogate");
	refused("[\"\\ud83d\\u0041\"]", 8, 0, 2, "lone high surrogate");
	refused("[\"\\ude00\"]", 8, 0, 2, "lone low surrogate");
	refused("[[[]]]", 2, 0, 2, "nesting too deep");
}

static void test_utf8(void **state)
{
	json_object *o;

	(void)state;
	o = parse("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]", M_JSON_UTF8);
	assert_non_null(o);
	json_object_put(o);
	/* without the flag bytes pass as they are, as json-c keeps them */
	o = parse("[\"\xff\"]", 0);
	assert_non_null(o);
	json_object_put(o);
	refused("[\"ab\xff\"]", 8, M_JSON_UTF8, 4, "string is not UTF-8");
	refused("[\"\xc0\xaf\"]", 8, M_JSON_UTF8, 2, "string is not UTF-8");	/* overlong '/' */
	refused("[\"\xed\xa0\x80\"]", 8, M_JSON_UTF8, 2, "string is not UTF-8");	/* a surrogate */
	refused("[\"\xf4\x90\x80\x80\"]", 8, M_JSON_UTF8, 2, "string is not UTF-8");	/* > U+10FFFF */
	refused("[\"\\n\xe2\x82\"]", 8, M_JSON_UTF8, 4, "string is not UTF-8");	/* cut short, after an escape */
	refused("{\"k\xff\":1}", 8, M_JSON_UTF8, 3, "string is not UTF-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_escaped_keys_nested),
		cmocka_unit_test(test_long_string),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
