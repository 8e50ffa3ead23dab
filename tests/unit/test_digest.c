// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "measured/digest.h"
#include "measured/pcrs.h"

static void hex_eq(const uint8_t *d, size_t n, const char *want)
{
	char hex[2 * M_DIGEST_MAX + 1];

	m_hex(d, n, hex);
	assert_string_equal(hex, want);
}

/* FIPS 180-2 "abc" vectors; SM3 from GB/T 32905-2016 appendix A. */
static void test_known_vectors(void **state)
{
	(void)state;
	struct m_digests d;

	assert_int_equal(m_digest_buf(M_BANKS_ALL, "abc", 3, &d), 0);
	hex_eq(d.d[M_SHA1], 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
	hex_eq(d.d[M_SHA256], 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_eq(d.d[M_SHA384], 48, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
				   "8086072ba1e7cc2358baeca134c825a7");
	hex_eq(d.d[M_SM3_256], 32, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

static void test_streaming_equals_oneshot(void **state)
{
	(void)state;
	uint8_t data[1000];
	struct m_hash *h;
	struct m_digests a, b;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(m_hash_new(M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA512), &h), 0);
	assert_int_equal(m_hash_update(h, data, 3), 0);
	assert_int_equal(m_hash_update(h, data + 3, 997), 0);
	assert_int_equal(m_hash_final(h, &a), 0);
	m_hash_free(h);
	assert_int_equal(m_digest_buf(M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA512), data, sizeof(data), &b), 0);
	assert_int_equal(a.banks, b.banks);
	assert_memory_equal(a.d[M_SHA1], b.d[M_SHA1], 20);
	assert_memory_equal(a.d[M_SHA512], b.d[M_SHA512], 64);
}

/* The parallel file path must give what the one-shot hash gives. */
static void test_fd_parallel(void **state)
{
	(void)state;
	char path[] = "/tmp/measured-test-digest-XXXXXX";
	int fd = mkstemp(path);
	size_t len = (3u << 20) + 12345;
	uint8_t *data = malloc(len);
	struct m_digests a, b;
	uint64_t size = 0;

	assert_true(fd >= 0);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i ^ (i >> 9));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(m_digest_fd(fd, M_BANKS_ALL, NULL, NULL, &a, &size), 0);
	assert_int_equal(size, len);
	assert_int_equal(m_digest_buf(M_BANKS_ALL, data, len, &b), 0);
	for (int k = 0; k < M_BANK_COUNT; k++)
		assert_memory_equal(a.d[k], b.d[k], m_bank_info(k)->size);
	close(fd);
	unlink(path);
	free(data);
}

static void test_bank_names(void **state)
{
	(void)state;
	unsigned mask;

	assert_int_equal(m_bank_by_name("sha384"), M_SHA384);
	assert_int_equal(m_bank_by_alg(0x000b), M_SHA256);
	assert_int_equal(m_bank_by_alg(0x0005), -1);
	assert_int_equal(m_bank_list_parse("sha256,sha1", &mask), 0);
	assert_int_equal(mask, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256));
	assert_int_equal(m_bank_list_parse("sha256,md5", &mask), -EINVAL);
	assert_int_equal(m_bank_list_parse("", &mask), -EINVAL);
}

/* TPM 2.0 Part 1, PCR extend: new = H(old || digest). */
static void test_extend(void **state)
{
	(void)state;
	uint8_t pcr[32] = { 0 }, cat[64], want[32], d[32];

	memset(d, 0xab, sizeof(d));
	memcpy(cat + 32, d, 32);
	memset(cat, 0, 32);
	assert_int_equal(m_digest_one(M_SHA256, cat, 64, want), 0);
	assert_int_equal(m_extend(M_SHA256, pcr, d), 0);
	assert_memory_equal(pcr, want, 32);
}

static void test_pcr_initial_and_lists(void **state)
{
	(void)state;
	uint8_t v[64];
	uint32_t mask;

	m_pcr_initial(M_SHA256, 0, 3, v);
	assert_int_equal(v[31], 3);
	assert_int_equal(v[0], 0);
	m_pcr_initial(M_SHA1, 17, 0, v);
	assert_int_equal(v[0], 0xff);
	assert_int_equal(v[19], 0xff);
	m_pcr_initial(M_SHA1, 23, 0, v);
	assert_int_equal(v[19], 0);
	assert_int_equal(m_pcr_list_parse("0,2-4,23", &mask), 0);
	assert_int_equal(mask, 1u | 4u | 8u | 16u | 1u << 23);
	assert_int_equal(m_pcr_list_parse("24", &mask), -ERANGE);
	assert_int_equal(m_pcr_list_parse("4-2", &mask), -ERANGE);
	assert_int_equal(m_pcr_list_parse("1,x", &mask), -EINVAL);
}

static void test_unhex(void **state)
{
	(void)state;
	uint8_t out[2];

	assert_int_equal(m_unhex("aB01", out, 2), 0);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(m_unhex("ab0", out, 2), -EINVAL);
	assert_int_equal(m_unhex("ab0g", out, 2), -EINVAL);
}

static void test_digest_arg(void **state)
{
	(void)state;
	struct m_digests d = { 0 };
	char arg[80] = "sha1:";

	memset(arg + 5, 'a', 40);
	assert_int_equal(m_digest_arg_parse(arg, &d), 0);
	assert_int_equal(d.banks, M_BANK_BIT(M_SHA1));
	assert_int_equal(d.d[M_SHA1][19], 0xaa);
	assert_int_equal(m_digest_arg_parse(arg, &d), -EINVAL);		/* twice */
	assert_int_equal(m_digest_arg_parse("sha256:ab", &d), -EINVAL);	/* length */
	assert_int_equal(m_digest_arg_parse("md5:ab", &d), -EINVAL);
	assert_int_equal(m_digest_arg_parse("sha256", &d), -EINVAL);
	assert_int_equal(d.banks, M_BANK_BIT(M_SHA1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_streaming_equals_oneshot),
		cmocka_unit_test(test_fd_parallel),
		cmocka_unit_test(test_bank_names),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_pcr_initial_and_lists),
		cmocka_unit_test(test_unhex),
		cmocka_unit_test(test_digest_arg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
