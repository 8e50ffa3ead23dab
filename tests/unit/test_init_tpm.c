// SPDX-License-Identifier: MIT
/* measured-init's hand-marshalled TPM commands against byte layouts written
 * out by hand from TPM 2.0 Library Part 3 (22.2, 22.4, 30.2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "initcore.h"

static void test_getcap_cmd(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
		0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	};
	uint8_t buf[64];
	struct mbuf_writer w;

	mbw_init_fixed(&w, buf, sizeof(buf));
	mi_tpm_getcap_pcrs_cmd(&w);
	assert_true(mbw_ok(&w));
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_getcap_rsp(void **state)
{
	(void)state;
	/* sha1 all PCRs, sha256 all, sha384 none allocated, alg 0x0099 unknown */
	static const uint8_t rsp[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04,
		0x00, 0x04, 0x03, 0xff, 0xff, 0xff,
		0x00, 0x0b, 0x03, 0xff, 0xff, 0xff,
		0x00, 0x0c, 0x03, 0x00, 0x00, 0x00,
		0x00, 0x99, 0x03, 0x01, 0x00, 0x00,
	};
	unsigned banks = 0, unknown = 0;

	assert_int_equal(mi_tpm_getcap_pcrs_rsp(rsp, sizeof(rsp), &banks, &unknown), 0);
	assert_int_equal(banks, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256));
	assert_int_equal(unknown, 1);
	/* every truncation is an error, never a read past the end */
	for (size_t n = 0; n < sizeof(rsp); n++) {
		uint8_t cut[sizeof(rsp)];

		memcpy(cut, rsp, n);
		if (n >= 6) {
			cut[2] = 0, cut[3] = 0, cut[4] = 0, cut[5] = (uint8_t)n;	/* consistent size field */
		}
		assert_int_equal(mi_tpm_getcap_pcrs_rsp(cut, n, &banks, &unknown), -EBADMSG);
	}
}

static void test_error_code(void **state)
{
	(void)state;
	static const uint8_t rsp[] = { 0x80, 0x01, 0, 0, 0, 10, 0x00, 0x00, 0x09, 0x8e };
	assert_int_equal(mi_tpm_extend_rsp(rsp, sizeof(rsp)), -EIO);
}

static void test_extend_cmd(void **state)
{
	(void)state;
	struct m_digests d = { .banks = M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256) };
	uint8_t buf[256], want[256];
	struct mbuf_writer w;
	size_t k = 0;

	memset(d.d[M_SHA1], 0x11, 20);
	memset(d.d[M_SHA256], 0x22, 32);
	/* header: ST_SESSIONS, size 10+4+4+9+4+(2+20)+(2+32) = 87, CC 0x182 */
	uint8_t head[] = { 0x80, 0x02, 0, 0, 0, 87, 0, 0, 0x01, 0x82,
			   0, 0, 0, 15,			/* pcrHandle */
			   0, 0, 0, 9,			/* authorizationSize */
			   0x40, 0, 0, 9, 0, 0, 0, 0, 0,	/* TPM_RS_PW, nonce, attrs, hmac */
			   0, 0, 0, 2 };		/* TPML_DIGEST_VALUES.count */
	memcpy(want, head, sizeof(head));
	k = sizeof(head);
	want[k++] = 0x00, want[k++] = 0x04;
	memset(want + k, 0x11, 20), k += 20;
	want[k++] = 0x00, want[k++] = 0x0b;
	memset(want + k, 0x22, 32), k += 32;
	mbw_init_fixed(&w, buf, sizeof(buf));
	mi_tpm_extend_cmd(&w, 15, &d);
	assert_true(mbw_ok(&w));
	assert_int_equal(w.len, 87);
	assert_int_equal(k, 87);
	assert_memory_equal(buf, want, 87);
}

static void test_pcrread(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct mbuf_writer w;
	static const uint8_t want_cmd[] = {
		0x80, 0x01, 0, 0, 0, 26, 0, 0, 0x01, 0x7e,
		0, 0, 0, 2, 0x00, 0x04, 3, 0x00, 0x80, 0x00, 0x00, 0x0b, 3, 0x00, 0x80, 0x00,
	};
	uint8_t rsp[10 + 4 + 4 + 12 + 4 + 22 + 34];
	struct m_digests d;
	size_t k = 0;

	mbw_init_fixed(&w, buf, sizeof(buf));
	mi_tpm_pcrread_cmd(&w, 15, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256));
	assert_int_equal(w.len, 26);
	assert_memory_equal(buf, want_cmd, sizeof(want_cmd));

	uint8_t head[] = { 0x80, 0x01, 0, 0, 0, sizeof(rsp), 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2,
			   0x00, 0x04, 3, 0x00, 0x80, 0x00, 0x00, 0x0b, 3, 0x00, 0x80, 0x00, 0, 0, 0, 2 };
	memcpy(rsp, head, sizeof(head));
	k = sizeof(head);
	rsp[k++] = 0, rsp[k++] = 20;
	memset(rsp + k, 0xaa, 20), k += 20;
	rsp[k++] = 0, rsp[k++] = 32;
	memset(rsp + k, 0xbb, 32), k += 32;
	assert_int_equal(k, sizeof(rsp));
	assert_int_equal(mi_tpm_pcrread_rsp(rsp, sizeof(rsp), 15, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256), &d), 0);
	assert_int_equal(d.d[M_SHA1][19], 0xaa);
	assert_int_equal(d.d[M_SHA256][31], 0xbb);
	/* asking for sha384 too: not answered, an error */
	assert_int_equal(mi_tpm_pcrread_rsp(rsp, sizeof(rsp), 15, M_BANK_BIT(M_SHA384) | M_BANK_BIT(M_SHA1), &d), -ENOENT);
	/* a digest of the wrong size for its bank */
	rsp[sizeof(head) + 1] = 21;
	assert_int_equal(mi_tpm_pcrread_rsp(rsp, sizeof(rsp), 15, M_BANK_BIT(M_SHA1), &d), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getcap_cmd),
		cmocka_unit_test(test_getcap_rsp),
		cmocka_unit_test(test_error_code),
		cmocka_unit_test(test_extend_cmd),
		cmocka_unit_test(test_pcrread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
