// SPDX-License-Identifier: MIT
/*
 * The verifier's nonces (lib/attest/nonce.c): a nonce checks for the key
 * and machine it was made for until it expires, and for nothing else; any
 * changed byte, another machine, another key or another length is
 * "unknown"; the expiry read back is the one made.  The MAC is recomputed
 * here with OpenSSL's HMAC from the layout docs/api.md gives.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "measured/attest.h"

static const uint8_t key[M_NONCE_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static void test_roundtrip(void **state)
{
	uint8_t n[M_NONCE_LEN], n2[M_NONCE_LEN], other[M_NONCE_KEY_LEN] = { 9 };
	int64_t exp = 0;

	(void)state;
	assert_int_equal(m_nonce_make(key, "m1", 1700000060, n), 0);
	assert_int_equal(m_nonce_check(key, "m1", n, sizeof(n), 1700000000, &exp), M_NONCE_OK);
	assert_int_equal(exp, 1700000060);
	assert_int_equal(m_nonce_check(key, "m1", n, sizeof(n), 1700000060, NULL), M_NONCE_OK);
	assert_int_equal(m_nonce_check(key, "m1", n, sizeof(n), 1700000061, NULL), M_NONCE_EXPIRED);
	assert_int_equal(m_nonce_check(key, "m2", n, sizeof(n), 1700000000, NULL), M_NONCE_UNKNOWN);
	assert_int_equal(m_nonce_check(key, "m", n, sizeof(n), 1700000000, NULL), M_NONCE_UNKNOWN);
	assert_int_equal(m_nonce_check(other, "m1", n, sizeof(n), 1700000000, NULL), M_NONCE_UNKNOWN);
	assert_int_equal(m_nonce_check(key, "m1", n, sizeof(n) - 1, 1700000000, NULL), M_NONCE_UNKNOWN);
	assert_int_equal(m_nonce_check(key, "m1", n, 0, 1700000000, NULL), M_NONCE_UNKNOWN);
	for (size_t i = 0; i < sizeof(n); i++) {
		memcpy(n2, n, sizeof(n));
		n2[i] ^= 0x01;
		assert_int_equal(m_nonce_check(key, "m1", n2, sizeof(n2), 1700000000, NULL), M_NONCE_UNKNOWN);
	}
	/* a later expiry written into an expired nonce does not check */
	memcpy(n2, n, sizeof(n));
	n2[16] = 0x7f;
	assert_int_equal(m_nonce_check(key, "m1", n2, sizeof(n2), 1700000100, NULL), M_NONCE_UNKNOWN);
	/* two nonces differ */
	assert_int_equal(m_nonce_make(key, "m1", 1700000060, n2), 0);
	assert_memory_not_equal(n, n2, 16);
	assert_int_equal(m_nonce_make(key, "m1", -1, n2), -ERANGE);

	/* keys in turn: each its own MAC (lib/attest/nonce.c keeps a context keyed with the last) */
	assert_int_equal(m_nonce_make(other, "m1", 1700000060, n2), 0);
	assert_int_equal(m_nonce_check(other, "m1", n2, sizeof(n2), 1700000000, NULL), M_NONCE_OK);
	assert_int_equal(m_nonce_check(key, "m1", n2, sizeof(n2), 1700000000, NULL), M_NONCE_UNKNOWN);
	assert_int_equal(m_nonce_check(key, "m1", n, sizeof(n), 1700000000, NULL), M_NONCE_OK);
	assert_int_equal(m_nonce_check(other, "m1", n, sizeof(n), 1700000000, NULL), M_NONCE_UNKNOWN);
}

/* the layout: random(16) || expiry(4, big-endian) || HMAC-SHA256(key, label\0 machine\0 random expiry)[0:12] */
static void test_layout(void **state)
{
	static const char label[] = "measured-nonce-1";
	uint8_t n[M_NONCE_LEN], msg[64], md[32];
	unsigned mdl = 0;
	size_t k = 0;

	(void)state;
	assert_int_equal(m_nonce_make(key, "box-7", 0x01020304, n), 0);
	assert_memory_equal(n + 16, "\x01\x02\x03\x04", 4);
	memcpy(msg, label, sizeof(label));
	k = sizeof(label);
	memcpy(msg + k, "box-7", 6);
	k += 6;
	memcpy(msg + k, n, 20);
	k += 20;
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), msg, k, md, &mdl));
	assert_memory_equal(n + 20, md, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
