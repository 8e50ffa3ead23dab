// SPDX-License-Identifier: MIT
/*
 * Authenticode digest on small PE images built here.  The expected digest
 * is computed in the test with OpenSSL over the byte ranges Authenticode
 * names (the layout is known because the test wrote it), not with the
 * code under test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/pe.h"

#define LFANEW 0x80
#define OPT (LFANEW + 24)
#define HDRS 0x200

struct sec { uint32_t ptr, size; };

/*
 * A PE32+ (or PE32) image: headers in 0..HDRS, sections where @s says,
 * @tail bytes of trailing data after @end, and a certificate table of
 * @cert bytes at the end (0: none).
 */
static size_t build(uint8_t *buf, size_t cap, bool plus, const struct sec *s, unsigned n,
		    uint32_t end, uint32_t tail, uint32_t cert)
{
	struct mbuf_writer w;
	uint16_t optsize = plus ? 240 : 224;
	size_t dirs = plus ? 112 : 96;
	size_t len = end + tail + cert;

	assert_true(len <= cap);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	mbw_init_fixed(&w, buf, cap);
	mbw_bytes(&w, "MZ", 2);
	w.len = 0x3c;
	mbw_le32(&w, LFANEW);
	w.len = LFANEW;
	mbw_bytes(&w, "PE\0\0", 4);
	mbw_le16(&w, 0x8664);
	mbw_le16(&w, (uint16_t)n);
	w.len += 12;
	mbw_le16(&w, optsize);
	mbw_le16(&w, 0x22);
	mbw_le16(&w, plus ? 0x20b : 0x10b);
	w.len = OPT + 60;
	mbw_le32(&w, HDRS);
	mbw_le32(&w, 0xdeadbeef);	/* CheckSum: excluded */
	w.len = OPT + dirs - 4;
	mbw_le32(&w, 16);
	w.len = OPT + dirs + 4 * 8;
	mbw_le32(&w, cert ? end + tail : 0);
	mbw_le32(&w, cert);
	w.len = OPT + optsize;
	for (unsigned i = 0; i < n; i++) {
		mbw_bytes(&w, ".sect\0\0\0", 8);
		mbw_le32(&w, s[i].size);
		mbw_le32(&w, 0x1000 * (i + 1));
		mbw_le32(&w, s[i].size);
		mbw_le32(&w, s[i].ptr);
		w.len += 16;
	}
	assert_true(mbw_ok(&w));
	return len;
}

static void ossl(EVP_MD_CTX *c, const uint8_t *b, size_t from, size_t to)
{
	EVP_DigestUpdate(c, b + from, to - from);
}

/* Authenticode by hand: headers minus CheckSum and cert entry, sections by offset, tail. */
static void expect(const uint8_t *b, bool plus, const struct sec *sorted, unsigned n, uint32_t end,
		   uint32_t tail, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t certdir = OPT + (plus ? 112 : 96) + 32;
	unsigned len;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	ossl(c, b, 0, OPT + 64);
	ossl(c, b, OPT + 68, certdir);
	ossl(c, b, certdir + 8, HDRS);
	for (unsigned i = 0; i < n; i++)
		ossl(c, b, sorted[i].ptr, sorted[i].ptr + sorted[i].size);
	ossl(c, b, end, end + tail);
	EVP_DigestFinal_ex(c, out, &len);
	EVP_MD_CTX_free(c);
}

static uint8_t img[0x4000];

static void test_digest_layouts(void **state)
{
	(void)state;
	/* Section table out of file order: hashing must sort by PointerToRawData. */
	const struct sec s[3] = { { 0x600, 0x300 }, { 0x200, 0x200 }, { 0x400, 0x200 } };
	const struct sec sorted[3] = { { 0x200, 0x200 }, { 0x400, 0x200 }, { 0x600, 0x300 } };
	struct m_digests d;
	uint8_t want[32];

	for (int plus = 0; plus < 2; plus++) {
		for (uint32_t tail = 0; tail <= 13; tail += 13) {
			for (uint32_t cert = 0; cert <= 64; cert += 64) {
				uint32_t t = cert ? (tail + 7) & ~7u : tail;	/* cert table 8-aligned */
				size_t len = build(img, sizeof(img), plus, s, 3, 0x900, t, cert);

				expect(img, plus, sorted, 3, 0x900, t, want);
				assert_int_equal(m_pe_authenticode(img, len, M_BANK_BIT(M_SHA256), &d), 0);
				assert_memory_equal(d.d[M_SHA256], want, 32);
			}
		}
	}
	/* CheckSum and the certificate-table entry do not count. */
	size_t len = build(img, sizeof(img), true, s, 3, 0x900, 0, 0);
	assert_int_equal(m_pe_authenticode(img, len, M_BANK_BIT(M_SHA256), &d), 0);
	memcpy(want, d.d[M_SHA256], 32);
	img[OPT + 64] ^= 0xff;
	assert_int_equal(m_pe_authenticode(img, len, M_BANK_BIT(M_SHA256), &d), 0);
	assert_memory_equal(d.d[M_SHA256], want, 32);
	img[0x300] ^= 1;	/* a section byte does */
	assert_int_equal(m_pe_authenticode(img, len, M_BANK_BIT(M_SHA256), &d), 0);
	assert_memory_not_equal(d.d[M_SHA256], want, 32);
}

static void expect_einval(const uint8_t *b, size_t len, const char *needle)
{
	struct m_digests d;
	int e = m_pe_authenticode(b, len, M_BANK_BIT(M_SHA256), &d);

	assert_int_equal(e, -EINVAL);
	if (!strstr(m_errmsg(e), needle))
		fail_msg("message '%s' lacks '%s'", m_errmsg(e), needle);
}

static void test_bad_images(void **state)
{
	(void)state;
	const struct sec ok[2] = { { 0x200, 0x200 }, { 0x400, 0x200 } };
	const struct sec overlap[2] = { { 0x200, 0x300 }, { 0x400, 0x200 } };
	const struct sec outside[1] = { { 0x200, 0x2000 } };
	size_t len;

	expect_einval(img, 10, "truncated");
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 0);
	img[0] = 'X';
	expect_einval(img, len, "MZ");
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 0);
	img[LFANEW + 1] = 'X';
	expect_einval(img, len, "PE");
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 0);
	expect_einval(img, 0x300, "outside the file");
	expect_einval(img, 0x1f0, "SizeOfHeaders");
	len = build(img, sizeof(img), true, overlap, 2, 0x600, 0, 0);
	expect_einval(img, len, "overlaps section");
	len = build(img, sizeof(img), false, outside, 1, 0x600, 0, 0);
	expect_einval(img, len, "outside the file");
	/* certificate table: misaligned, outside, not at the end */
	len = build(img, sizeof(img), true, ok, 2, 0x600, 3, 16);
	expect_einval(img, len, "not 8-byte aligned");
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 16);
	expect_einval(img, len - 8, "outside the file");
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 16);
	img[len] = 0;
	expect_einval(img, len + 8, "not at the end");
	/* too many sections */
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 0);
	img[LFANEW + 6] = 97;
	expect_einval(img, len, "too many sections");
	/* bad optional header magic */
	len = build(img, sizeof(img), true, ok, 2, 0x600, 0, 0);
	img[OPT] = 0x07;
	expect_einval(img, len, "magic");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_layouts),
		cmocka_unit_test(test_bad_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
