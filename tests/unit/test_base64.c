// SPDX-License-Identifier: MIT
/*
 * Base64 decoding (lib/base64.c) against a bit-at-a-time decoder written
 * here from RFC 4648's alphabet: random texts of every length up to 300
 * (long enough for the sixteen-character SSSE3 steps, with every tail),
 * round trips through the encoder, and every byte outside the alphabet at
 * every position refused with the offset of its group of four.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "measured/base64.h"
#include "measured/error.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* the reference: six bits per character, eight per byte, padding ignored */
static size_t reference(const char *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		acc = acc << 6 | (uint32_t)(strchr(alphabet, s[i]) - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void test_random_texts(void **state)
{
	char s[304];
	uint8_t want[240], *got, fixed[240];
	size_t n, gn;

	(void)state;
	for (size_t len = 0; len <= 300; len += 4)
		for (int pad = 0; pad <= 2; pad++) {
			if (pad && !len)
				continue;
			for (int k = 0; k < 8; k++) {
				for (size_t i = 0; i < len; i++)
					s[i] = alphabet[rnd() % 64];
				/* padding: the bits it leaves unused are zero, as an encoder writes them */
				if (pad == 1) {
					s[len - 1] = '=';
					s[len - 2] = alphabet[(strchr(alphabet, s[len - 2]) - alphabet) & ~3];
				} else if (pad == 2) {
					s[len - 1] = s[len - 2] = '=';
					s[len - 3] = alphabet[(strchr(alphabet, s[len - 3]) - alphabet) & ~15];
				}
				n = reference(s, len, want);
				assert_int_equal(m_b64_decode(s, len, sizeof(want), NULL, &got, &gn), 0);
				assert_int_equal(gn, n);
				assert_memory_equal(got, want, n);
				free(got);
				/* into an exactly sized caller's buffer: nothing written past it */
				memset(fixed, 0xa5, sizeof(fixed));
				assert_int_equal(m_b64_decode(s, len, n, fixed, NULL, &gn), 0);
				assert_int_equal(gn, n);
				assert_memory_equal(fixed, want, n);
				for (size_t i = n; i < sizeof(fixed); i++)
					assert_int_equal(fixed[i], 0xa5);
			}
		}
}

static void test_round_trip(void **state)
{
	uint8_t d[1000], *got;
	size_t gn;

	(void)state;
	for (size_t n = 0; n <= sizeof(d); n += 37) {
		for (size_t i = 0; i < n; i++)
			d[i] = (uint8_t)rnd();
		char *s = m_b64_encode(d, n);

		assert_non_null(s);
		assert_int_equal(m_b64_decode(s, strlen(s), n, NULL, &got, &gn), 0);
		assert_int_equal(gn, n);
		assert_memory_equal(got, d, n);
		free(got);
		free(s);
	}
}

static void test_every_bad_byte_everywhere(void **state)
{
	char s[96], want[64];
	uint8_t *got;
	size_t gn;

	(void)state;
	for (int c = 0; c < 256; c++) {
		if (c && strchr(alphabet, c))
			continue;
		for (size_t p = 0; p < sizeof(s); p++) {
			/* '=' is allowed in the last two places only */
			if (c == '=' && p >= sizeof(s) - 2)
				continue;
			for (size_t i = 0; i < sizeof(s); i++)
				s[i] = alphabet[(i * 7 + p) % 64];
			s[p] = (char)c;
			int r = m_b64_decode(s, sizeof(s), 100, NULL, &got, &gn);

			if (r != -EBADMSG)
				fail_msg("byte 0x%02x at %zu: %d", c, p, r);
			snprintf(want, sizeof(want), "near offset %zu", p / 4 * 4);
			if (!strstr(m_errmsg(r), want))
				fail_msg("byte 0x%02x at %zu: %s", c, p, m_errmsg(r));
		}
	}
}

static void test_length_and_limit(void **state)
{
	uint8_t *got;
	size_t gn;

	(void)state;
	assert_int_equal(m_b64_decode("QUJD", 3, 10, NULL, &got, &gn), -EBADMSG);
	assert_int_equal(m_b64_decode("QUJDREVG", 8, 5, NULL, &got, &gn), -E2BIG);
	assert_int_equal(m_b64_decode("QUJDREVG", 8, 6, NULL, &got, &gn), 0);
	assert_memory_equal(got, "ABCDEF", 6);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_texts),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_bad_byte_everywhere),
		cmocka_unit_test(test_length_and_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
