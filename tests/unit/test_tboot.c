// SPDX-License-Identifier: MIT
/*
 * tboot / TXT arithmetic.  Expected values are computed in the test with
 * OpenSSL's SHA1()/SHA256() and, for the PCR vectors, also written out as
 * literals (computed separately with Python's hashlib from the formulas
 * in docs/predict-formulas.md).
 *
 * Legacy mapping (TPM 1.2), inputs of the vector below:
 *   sinit_hash = SHA1("sinit"), mle_hash = SHA1("mle")
 *   SINIT details = SHA1(BiosAcmID 0x11*20 | EdxSenterFlags 0 (LE32) |
 *       MsegValid 1 (LE64) | StmHash 0*20 | PolicyControl 0 (LE32) |
 *       LcpPolicyHash 0*20 | OsSinitData.Capabilities 4 (LE32))
 *       = fe30ea374ce6d7b62996e6c3d558261d2d084494
 *   policy = tboot's default TPM 1.2 policy; policy-control digest
 *       SHA1(01000000 | SHA1(policy)) = c3438497fda827be3b321c5309a204f0c9e53943
 *   module 0 = SHA1(SHA1("ro") | SHA1("kernel")), module 1 = SHA1(SHA1("") | SHA1("initrd"))
 *   PCR17 = E(E(E(0, sinit_hash), details), pcd)  = e8e1bc5e637caf532ea66c9adfd7af6790053a08
 *   PCR18 = E(E(0, mle_hash), module 0)             = d60cc40176bcd610a760531ae5d848289c967227
 *   PCR19 = E(0, module 1)                          = 1bd5257b98a4560199fbf23456f62c10e877d724
 *   (E(p, d) = SHA1(p | d), DRTM PCRs start at 0 after the locality-4 reset)
 * DA default policy (TPM 2.0, sha256): pcd =
 *   71be5852a14eabefebf0df0e1acc5da291883b6d4c5ab20914ed987c1daf3f91
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include "measured/buf.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/tboot.h"

static void hex_eq(const uint8_t *d, size_t n, const char *want)
{
	char hex[2 * M_DIGEST_MAX + 1];

	m_hex(d, n, hex);
	assert_string_equal(hex, want);
}

static void ossl_extend(uint8_t pcr[20], const uint8_t d[20])
{
	uint8_t b[40];

	memcpy(b, pcr, 20);
	memcpy(b + 20, d, 20);
	SHA1(b, 40, pcr);
}

static void test_legacy_pcrs(void **state)
{
	(void)state;
	struct m_txt_legacy_sinit s = { .edx_senter_flags = 0, .mseg_valid = 1, .lcp_policy_control = 0,
					.has_os_sinit_caps = true, .os_sinit_caps = 4 };
	uint8_t pol_bytes[M_TB_POLICY_DEFAULT_SIZE], det[20], pcd[20], mle[20];
	struct m_tb_policy *pol = malloc(sizeof(*pol));
	struct m_digests m0, m1;
	uint8_t p17[20] = { 0 }, p18[20] = { 0 }, p19[20] = { 0 };
	uint8_t o17[20] = { 0 }, o18[20] = { 0 }, o19[20] = { 0 }, t[20], u[20], b[64];

	assert_non_null(pol);
	SHA1((const uint8_t *)"sinit", 5, s.sinit_hash);
	memset(s.bios_acm_id, 0x11, 20);
	SHA1((const uint8_t *)"mle", 3, mle);

	/* library */
	assert_int_equal(m_txt_legacy_sinit_details(&s, det), 0);
	hex_eq(det, 20, "fe30ea374ce6d7b62996e6c3d558261d2d084494");
	m_tb_policy_default(true, false, pol_bytes);
	assert_int_equal(m_tb_policy_parse(pol_bytes, sizeof(pol_bytes), pol), 0);
	assert_int_equal(m_tb_policy_control_digest(pol, M_SHA1, M_SHA1, pcd), 0);
	hex_eq(pcd, 20, "c3438497fda827be3b321c5309a204f0c9e53943");
	assert_int_equal(m_tboot_module_hash("ro", (const uint8_t *)"kernel", 6, M_BANK_BIT(M_SHA1), &m0), 0);
	assert_int_equal(m_tboot_module_hash("", (const uint8_t *)"initrd", 6, M_BANK_BIT(M_SHA1), &m1), 0);
	m_extend(M_SHA1, p17, s.sinit_hash);
	m_extend(M_SHA1, p17, det);
	m_extend(M_SHA1, p17, pcd);
	m_extend(M_SHA1, p18, mle);
	m_extend(M_SHA1, p18, m0.d[M_SHA1]);
	/* module 1 goes where the policy's ANY entry says: PCR 19 */
	const struct m_tb_policy_entry *e = m_tb_policy_find(pol, 1);
	assert_non_null(e);
	assert_int_equal(e->pcr, 19);
	assert_int_equal(m_tb_policy_find(pol, 0)->pcr, M_TB_PCR_NONE);
	m_extend(M_SHA1, p19, m1.d[M_SHA1]);

	/* OpenSSL directly */
	ossl_extend(o17, s.sinit_hash);
	ossl_extend(o17, det);
	SHA1(pol_bytes, sizeof(pol_bytes), t);
	memcpy(b, "\x01\0\0\0", 4);
	memcpy(b + 4, t, 20);
	SHA1(b, 24, u);
	ossl_extend(o17, u);
	ossl_extend(o18, mle);
	SHA1((const uint8_t *)"ro", 2, b);
	SHA1((const uint8_t *)"kernel", 6, b + 20);
	SHA1(b, 40, u);
	ossl_extend(o18, u);
	SHA1((const uint8_t *)"", 0, b);
	SHA1((const uint8_t *)"initrd", 6, b + 20);
	SHA1(b, 40, u);
	ossl_extend(o19, u);

	assert_memory_equal(p17, o17, 20);
	assert_memory_equal(p18, o18, 20);
	assert_memory_equal(p19, o19, 20);
	hex_eq(p17, 20, "e8e1bc5e637caf532ea66c9adfd7af6790053a08");
	hex_eq(p18, 20, "d60cc40176bcd610a760531ae5d848289c967227");
	hex_eq(p19, 20, "1bd5257b98a4560199fbf23456f62c10e877d724");
	free(pol);
}

static void test_da_default_policy(void **state)
{
	(void)state;
	uint8_t pb[M_TB_POLICY_DEFAULT_SIZE], pcd[32], t[32], b[36];
	struct m_tb_policy *pol = malloc(sizeof(*pol));

	assert_non_null(pol);
	m_tb_policy_default(false, true, pb);
	assert_int_equal(m_tb_policy_parse(pb, sizeof(pb), pol), 0);
	assert_int_equal(pol->bank, M_SHA256);
	assert_int_equal(m_tb_policy_find(pol, 5)->pcr, 17);	/* DA: modules into PCR 17 */
	assert_int_equal(m_tb_policy_control_digest(pol, M_SHA256, M_SHA256, pcd), 0);
	SHA256(pb, sizeof(pb), t);
	memcpy(b, "\x01\0\0\0", 4);
	memcpy(b + 4, t, 32);
	SHA256(b, 36, t);
	assert_memory_equal(pcd, t, 32);
	hex_eq(pcd, 32, "71be5852a14eabefebf0df0e1acc5da291883b6d4c5ab20914ed987c1daf3f91");

	/* EXTEND_PCR17 clear: zeros in place of the policy hash */
	pb[3] = 0;
	assert_int_equal(m_tb_policy_parse(pb, sizeof(pb), pol), 0);
	assert_int_equal(m_tb_policy_control_digest(pol, M_SHA256, M_SHA256, pcd), 0);
	memset(b, 0, sizeof(b));
	SHA256(b, 36, t);
	assert_memory_equal(pcd, t, 32);
	free(pol);
}

/* hash_alg 0 (TPM 1.2 tools) is hashed as if it were 4. */
static void test_legacy_alg_zero(void **state)
{
	(void)state;
	uint8_t pb[M_TB_POLICY_DEFAULT_SIZE], a[20], z[20];
	struct m_tb_policy *pol = malloc(sizeof(*pol));

	assert_non_null(pol);
	m_tb_policy_default(true, false, pb);
	assert_int_equal(m_tb_policy_parse(pb, sizeof(pb), pol), 0);
	assert_int_equal(m_tb_policy_control_digest(pol, M_SHA1, M_SHA1, a), 0);
	pb[2] = 0;
	assert_int_equal(m_tb_policy_parse(pb, sizeof(pb), pol), 0);
	assert_int_equal(pol->bank, M_SHA1);
	assert_int_equal(m_tb_policy_control_digest(pol, M_SHA1, M_SHA1, z), 0);
	assert_memory_equal(a, z, 20);
	free(pol);
}

static void policy_einval(const uint8_t *b, size_t n, const char *needle)
{
	struct m_tb_policy *pol = malloc(sizeof(*pol));
	int e;

	assert_non_null(pol);
	e = m_tb_policy_parse(b, n, pol);
	assert_int_equal(e, -EINVAL);
	if (!strstr(m_errmsg(e), needle))
		fail_msg("message '%s' lacks '%s'", m_errmsg(e), needle);
	free(pol);
}

static void test_policy_errors(void **state)
{
	(void)state;
	uint8_t pb[M_TB_POLICY_DEFAULT_SIZE + 40];

	m_tb_policy_default(false, true, pb);
	policy_einval(pb, 11, "shorter than");
	policy_einval(pb, M_TB_POLICY_DEFAULT_SIZE - 1, "truncated");
	policy_einval(pb, M_TB_POLICY_DEFAULT_SIZE + 1, "left over");
	policy_einval(pb, M_TB_POLICY_MAX_SIZE + 1, "limit");
	pb[0] = 1;
	policy_einval(pb, M_TB_POLICY_DEFAULT_SIZE, "version");
	pb[0] = 2;
	pb[2] = 0x99;
	policy_einval(pb, M_TB_POLICY_DEFAULT_SIZE, "hash_alg");
	pb[2] = 0x0b;
	pb[12 + 1] = 24;	/* entry 0's PCR */
	policy_einval(pb, M_TB_POLICY_DEFAULT_SIZE, "bad pcr");
	pb[12 + 1] = 255;
	pb[12 + 7] = 1;		/* one hash declared, none present */
	policy_einval(pb, M_TB_POLICY_DEFAULT_SIZE, "run past the end");
}

static void test_skip_filename(void **state)
{
	(void)state;
	assert_string_equal(m_tboot_skip_filename("  /foo/bar   baz"), "baz");
	assert_string_equal(m_tboot_skip_filename("/foo/bar"), "");
	assert_string_equal(m_tboot_skip_filename(""), "");
	assert_string_equal(m_tboot_skip_filename("/vmlinuz ro  quiet"), "ro  quiet");
}

/*
 * A minimal 32-bit ELF with one PT_LOAD of 0x100 file bytes and 0x80 of
 * bss, its MLE header at image offset 0x40: MLE 0x20..0x160, command line
 * field 0xa0..0xc0.  Expected: SHA-256 of that range with the field set.
 */
static void test_mlehash_elf(void **state)
{
	(void)state;
	static const uint8_t uuid[16] = { 0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74,
					  0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42 };
	uint8_t elf[0x200] = { 0 }, image[0x180] = { 0 }, want[32];
	struct mbuf_writer w;
	struct m_digests d;

	for (size_t i = 0x100; i < 0x200; i++)
		elf[i] = (uint8_t)(i * 13);
	mbw_init_fixed(&w, elf, sizeof(elf));
	mbw_bytes(&w, "\x7f" "ELF\x01\x01\x01", 7);
	w.len = 16;
	mbw_le16(&w, 2); mbw_le16(&w, 3); mbw_le32(&w, 1); mbw_le32(&w, 0x800000);
	mbw_le32(&w, 52);		/* e_phoff */
	mbw_le32(&w, 0); mbw_le32(&w, 0); mbw_le16(&w, 52);
	mbw_le16(&w, 32); mbw_le16(&w, 1);	/* e_phentsize, e_phnum */
	w.len = 52;
	mbw_le32(&w, 1); mbw_le32(&w, 0x100); mbw_le32(&w, 0x800000); mbw_le32(&w, 0x800000);
	mbw_le32(&w, 0x100); mbw_le32(&w, 0x180); mbw_le32(&w, 7); mbw_le32(&w, 0x1000);
	w.len = 0x140;
	mbw_bytes(&w, uuid, 16);
	mbw_le32(&w, 0x34); mbw_le32(&w, 0x20001); mbw_le32(&w, 0x10); mbw_le32(&w, 0);
	mbw_le32(&w, 0x20); mbw_le32(&w, 0x160); mbw_le32(&w, 0x627);
	mbw_le32(&w, 0xa0); mbw_le32(&w, 0xc0);
	assert_true(mbw_ok(&w));

	memcpy(image, elf + 0x100, 0x100);
	memset(image + 0xa0, 0, 0x20);
	memcpy(image + 0xa0, "loglvl=all", 10);
	SHA256(image + 0x20, 0x140, want);
	assert_int_equal(m_tboot_mlehash(elf, sizeof(elf), "loglvl=all", M_BANK_BIT(M_SHA256), &d), 0);
	assert_memory_equal(d.d[M_SHA256], want, 32);

	/* 31 bytes + NUL fit the 32-byte field; 32 do not */
	assert_int_equal(m_tboot_mlehash(elf, sizeof(elf), "0123456789012345678901234567890",
					 M_BANK_BIT(M_SHA256), &d), 0);
	assert_int_equal(m_tboot_mlehash(elf, sizeof(elf), "01234567890123456789012345678901",
					 M_BANK_BIT(M_SHA256), &d), -E2BIG);
	/* corrupt: MLE end beyond the image, segment outside the file, no header */
	elf[0x140 + 36] = 0xff;
	assert_int_equal(m_tboot_mlehash(elf, sizeof(elf), NULL, M_BANK_BIT(M_SHA256), &d), -EINVAL);
	elf[0x140 + 36] = 0x60;
	assert_int_equal(m_tboot_mlehash(elf, 0x180, NULL, M_BANK_BIT(M_SHA256), &d), -EINVAL);
	assert_non_null(strstr(m_errmsg(-EINVAL), "outside the file"));
	elf[0x140] = 0;
	assert_int_equal(m_tboot_mlehash(elf, sizeof(elf), NULL, M_BANK_BIT(M_SHA256), &d), -EINVAL);
	assert_non_null(strstr(m_errmsg(-EINVAL), "no MLE header"));
	assert_int_equal(m_tboot_mlehash(elf, 20, NULL, M_BANK_BIT(M_SHA256), &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_pcrs),
		cmocka_unit_test(test_da_default_policy),
		cmocka_unit_test(test_legacy_alg_zero),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_skip_filename),
		cmocka_unit_test(test_mlehash_elf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
