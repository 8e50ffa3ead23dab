// SPDX-License-Identifier: MIT
/*
 * The escape rule of include/measured/text.h, against hand-written
 * expectations: printable ASCII (0x20-0x7e) kept, the backslash doubled,
 * everything else \xNN.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "measured/text.h"

static void check(const char *in, size_t len, const char *want)
{
	char *got = m_text_escape(in, len);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_printable_kept(void **state)
{
	(void)state;
	check("tcg-agile 1.0 ~!{}", 18, "tcg-agile 1.0 ~!{}");
	check("", 0, "");
	assert_true(m_text_is_clean("abc XYZ-._~"));
}

static void test_controls_escaped(void **state)
{
	(void)state;
	/* a forged audit line and a terminal escape sequence (ESC [ 2 J: clear screen) */
	check("x\n1 pass", 8, "x\\x0a1 pass");
	check("\x1b[2J", 4, "\\x1b[2J");
	check("a\rb\tc\x7f", 6, "a\\x0db\\x09c\\x7f");
	check("a\0b", 3, "a\\x00b");
	assert_false(m_text_is_clean("a\nb"));
	assert_false(m_text_is_clean("\x1b"));
}

static void test_backslash_and_high_bytes(void **state)
{
	(void)state;
	/* the backslash is doubled so an escaped form cannot be faked by the input */
	check("\\x0a", 4, "\\\\x0a");
	/* UTF-8 "é" (c3 a9) and an invalid lone continuation byte (80) */
	check("\xc3\xa9\x80", 3, "\\xc3\\xa9\\x80");
	assert_false(m_text_is_clean("\\"));
	assert_false(m_text_is_clean("\xc3\xa9"));
}

static void test_printable_keeps_escapes(void **state)
{
	char *s = m_text_printable("stored \\x0a, raw \n\x1b");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "stored \\x0a, raw \\x0a\\x1b");
	free(s);
}

static void test_str_null(void **state)
{
	char *s = m_text_escape_str(NULL);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable_kept),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_backslash_and_high_bytes),
		cmocka_unit_test(test_printable_keeps_escapes),
		cmocka_unit_test(test_str_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
