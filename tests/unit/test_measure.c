// SPDX-License-Identifier: MIT
/*
 * The definition of what is measured (lib/measure/), which measured-init
 * and the library both compile: the lock-step hasher with any thread
 * count, a short input, and the root's event in both modes, each checked
 * against OpenSSL directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/error.h"
#include "measured/measure.h"

#define SIZE (3u * 1024 * 1024 + 12345)	/* several chunks and a ragged tail */
#define BANKS (M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256) | M_BANK_BIT(M_SHA384) | M_BANK_BIT(M_SHA512))

static uint8_t *data;
static char path[] = "/tmp/measured-test-measure.XXXXXX";
static int fd = -1;

static int setup(void **state)
{
	(void)state;
	data = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, SIZE) != (ssize_t)SIZE)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(fd);
	unlink(path);
	free(data);
	return 0;
}

static void ossl(const char *md, const void *d, size_t n, uint8_t *out)
{
	unsigned len;

	assert_int_equal(EVP_Digest(d, n, out, &len, EVP_get_digestbyname(md), NULL), 1);
}

static void test_lockstep_threads(void **state)
{
	(void)state;
	static const char *md[] = { [M_SHA1] = "SHA1", [M_SHA256] = "SHA256", [M_SHA384] = "SHA384",
				    [M_SHA512] = "SHA512" };
	uint8_t want[M_BANK_COUNT][M_DIGEST_MAX];

	for_each_bank(b, BANKS)
		ossl(md[b], data, SIZE, want[b]);
	for (unsigned threads = 0; threads <= 5; threads++) {
		struct m_lockstep_opts o = { .banks = BANKS, .size = SIZE, .max_threads = threads,
					     .chunk = 64 << 10, .drop_cache = threads == 2 };
		struct m_digests d;
		unsigned used = 0;

		assert_int_equal(m_lockstep_hash(fd, m_hash_backend_evp(), &o, &d, &used), 0);
		assert_int_equal(d.banks, BANKS);
		/* 0 means one per bank; never more threads than banks */
		assert_int_equal(used, threads == 0 || threads > 4 ? 4 : threads);
		for_each_bank(b, BANKS)
			assert_memory_equal(d.d[b], want[b], m_bank_info(b)->size);
	}
}

static void test_lockstep_short(void **state)
{
	(void)state;
	struct m_lockstep_opts o = { .banks = BANKS, .size = SIZE + 1 };
	struct m_digests d;
	int r;

	/* exactly the size given, or an error naming where the input ended */
	r = m_lockstep_hash(fd, m_hash_backend_evp(), &o, &d, NULL);
	assert_int_equal(r, -EIO);
	assert_non_null(strstr(m_errmsg(r), "unexpected end"));
	o.size = SIZE;
	o.banks = 0;
	assert_int_equal(m_lockstep_hash(fd, m_hash_backend_evp(), &o, &d, NULL), -EINVAL);
}

static void test_root_event(void **state)
{
	(void)state;
	struct m_digests img = { .banks = BANKS }, ext;
	char hex[41];
	uint8_t want[20];

	for_each_bank(b, BANKS)
		memset(img.d[b], 0x11 * (b + 1), m_bank_info(b)->size);
	/* current mode: the image's digest in every bank */
	assert_int_equal(m_root_extend_digests(m_hash_backend_evp(), false, BANKS, &img, &ext), 0);
	assert_int_equal(ext.banks, BANKS);
	assert_memory_equal(ext.d[M_SHA384], img.d[M_SHA384], 48);
	/* the original's: SHA-1 of the 40 lowercase hex characters, sha1 only */
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", img.d[M_SHA1][i]);
	ossl("SHA1", hex, 40, want);
	assert_int_equal(m_root_extend_digests(m_hash_backend_evp(), true, BANKS, &img, &ext), 0);
	assert_int_equal(ext.banks, M_BANK_BIT(M_SHA1));
	assert_memory_equal(ext.d[M_SHA1], want, 20);
	/* a bank the image lacks */
	img.banks = M_BANK_BIT(M_SHA256);
	assert_int_equal(m_root_extend_digests(m_hash_backend_evp(), true, BANKS, &img, &ext), -EINVAL);
	assert_int_equal(m_root_extend_digests(m_hash_backend_evp(), false, BANKS, &img, &ext), -EINVAL);
	/* the defaults: 15, and the original's 9 */
	assert_int_equal(m_root_pcr_default(false), 15);
	assert_int_equal(m_root_pcr_default(true), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockstep_threads),
		cmocka_unit_test(test_lockstep_short),
		cmocka_unit_test(test_root_event),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
