// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "measured/buf.h"

static void test_reader_endianness(void **state)
{
	(void)state;
	const uint8_t in[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mbuf_reader r;

	mbr_init(&r, in, sizeof(in));
	assert_int_equal(mbr_le32(&r), 0x04030201);
	assert_int_equal(mbr_be32(&r), 0x05060708);
	assert_true(mbr_ok(&r));
	assert_int_equal(mbr_remaining(&r), 0);
	mbr_init(&r, in, sizeof(in));
	assert_true(mbr_le64(&r) == 0x0807060504030201ull);
	mbr_init(&r, in, sizeof(in));
	assert_true(mbr_be64(&r) == 0x0102030405060708ull);
	mbr_init(&r, in, sizeof(in));
	assert_int_equal(mbr_le16(&r), 0x0201);
	assert_int_equal(mbr_be16(&r), 0x0304);
	assert_int_equal(mbr_u8(&r), 5);
}

static void test_reader_sticky_error(void **state)
{
	(void)state;
	const uint8_t in[] = { 0xaa, 0xbb, 0xcc };
	struct mbuf_reader r;
	uint8_t out[4] = { 1, 1, 1, 1 };

	mbr_init(&r, in, sizeof(in));
	assert_int_equal(mbr_le32(&r), 0);	/* short: zero, and error */
	assert_false(mbr_ok(&r));
	/* sticky: even a read that would fit now fails */
	assert_int_equal(mbr_u8(&r), 0);
	assert_false(mbr_copy(&r, out, 1));
	assert_int_equal(out[0], 0);
	assert_int_equal(mbr_remaining(&r), 0);
}

static void test_reader_overflow_safe(void **state)
{
	(void)state;
	const uint8_t in[16] = { 0 };
	struct mbuf_reader r, sub;

	mbr_init(&r, in, sizeof(in));
	mbr_skip(&r, 8);
	/* off + n would wrap around; the check n > len - off cannot */
	assert_null(mbr_ptr(&r, SIZE_MAX - 4));
	assert_false(mbr_ok(&r));

	mbr_init(&r, in, sizeof(in));
	assert_true(mbr_sub(&r, 4, &sub));
	assert_int_equal(mbr_remaining(&r), 12);
	assert_int_equal(mbr_le32(&sub), 0);
	assert_int_equal(mbr_u8(&sub), 0);
	assert_false(mbr_ok(&sub));
	assert_true(mbr_ok(&r));	/* the child's error is its own */
	assert_false(mbr_sub(&r, 13, &sub));
	assert_false(mbr_ok(&sub));
}

static void test_writer_fixed(void **state)
{
	(void)state;
	uint8_t buf[6];
	struct mbuf_writer w;

	mbw_init_fixed(&w, buf, sizeof(buf));
	mbw_be16(&w, 0x8001);
	mbw_le32(&w, 0x0a0b0c0d);
	assert_true(mbw_ok(&w));
	assert_memory_equal(buf, "\x80\x01\x0d\x0c\x0b\x0a", 6);
	mbw_u8(&w, 1);	/* full */
	assert_false(mbw_ok(&w));
	assert_int_equal(w.len, 6);
	mbw_init_fixed(&w, buf, sizeof(buf));
	mbw_be64(&w, 0x0102030405060708ull);	/* 8 > 6 */
	assert_false(mbw_ok(&w));
}

static void test_writer_heap_max(void **state)
{
	(void)state;
	struct mbuf_writer w;

	mbw_init_heap(&w, 1000);
	for (int i = 0; i < 250; i++)
		mbw_le32(&w, (uint32_t)i);
	assert_true(mbw_ok(&w));
	assert_int_equal(w.len, 1000);
	assert_int_equal(w.data[4], 1);
	mbw_u8(&w, 0);
	assert_false(mbw_ok(&w));
	assert_int_equal(w.len, 1000);
	mbw_free(&w);

	mbw_init_heap(&w, 16);
	mbw_str(&w, "0123456789abcdefX");
	assert_false(mbw_ok(&w));
	mbw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_endianness),
		cmocka_unit_test(test_reader_sticky_error),
		cmocka_unit_test(test_reader_overflow_safe),
		cmocka_unit_test(test_writer_fixed),
		cmocka_unit_test(test_writer_heap_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
