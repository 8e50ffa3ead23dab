// SPDX-License-Identifier: MIT
/*
 * The TPM 1.2 wire layer (lib/initcore/tpm12_wire.c) against byte layouts
 * written out by hand from TPM Main Specification 1.2 rev 116.
 *
 * Every command starts with the header of Part 3, section 1 (and Part 2,
 * 6.0): tag UINT16 (TPM_TAG_RQU_COMMAND = 0x00C1 for the commands without
 * authorization), paramSize UINT32 (the whole command, header included),
 * ordinal UINT32 (Part 2, 17).  Responses: tag (TPM_TAG_RSP_COMMAND =
 * 0x00C4), paramSize, returnCode (TPM_RESULT, Part 2, 16), then outputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "measured/error.h"
#include "tpm12.h"

static void build_check(void (*build)(struct mbuf_writer *), const uint8_t *want, size_t n)
{
	uint8_t buf[128];
	struct mbuf_writer w;

	mbw_init_fixed(&w, buf, sizeof(buf));
	build(&w);
	assert_true(mbw_ok(&w));
	assert_int_equal(w.len, n);
	assert_memory_equal(buf, want, n);
}

/* Part 3, 3.2 TPM_Startup: ordinal TPM_ORD_Startup = 0x99, one UINT16
 * startupType, TPM_ST_CLEAR = 0x0001 (Part 2, 4.5); 10 + 2 = 12 bytes. */
static void test_startup(void **state)
{
	(void)state;
	static const uint8_t want[] = { 0x00, 0xc1, 0, 0, 0, 12, 0, 0, 0, 0x99, 0x00, 0x01 };
	static const uint8_t ok[] = { 0x00, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0 };

	build_check(mi_t12_startup_cmd, want, sizeof(want));
	assert_int_equal(mi_t12_startup_rsp(ok, sizeof(ok)), 0);
}

/* Part 3, 7.1 TPM_GetCapability: ordinal 0x65; capArea TPM_CAP_PROPERTY =
 * 0x05 (Part 2, 21.1), subCapSize 4, subCap TPM_CAP_PROP_PCR = 0x101 (21.2);
 * 10 + 4 + 4 + 4 = 22 bytes.  Answer: respSize UINT32 = 4, then the PCR
 * count as UINT32 (24 on a PC Client TPM); 10 + 4 + 4 = 18 bytes. */
static void test_getcap_npcr(void **state)
{
	(void)state;
	static const uint8_t want[] = { 0x00, 0xc1, 0, 0, 0, 22, 0, 0, 0, 0x65,
					0, 0, 0, 0x05, 0, 0, 0, 4, 0, 0, 0x01, 0x01 };
	uint8_t rsp[] = { 0x00, 0xc4, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 24 };
	unsigned n = 0;

	build_check(mi_t12_getcap_npcr_cmd, want, sizeof(want));
	assert_int_equal(mi_t12_getcap_npcr_rsp(rsp, sizeof(rsp), &n), 0);
	assert_int_equal(n, 24);
	/* a TPM claiming no PCRs, or absurdly many, is not believed */
	rsp[17] = 0;
	assert_int_equal(mi_t12_getcap_npcr_rsp(rsp, sizeof(rsp), &n), -EBADMSG);
	rsp[16] = 1;
	assert_int_equal(mi_t12_getcap_npcr_rsp(rsp, sizeof(rsp), &n), -EBADMSG);
	/* respSize other than 4 */
	rsp[16] = 0, rsp[17] = 24, rsp[13] = 5;
	assert_int_equal(mi_t12_getcap_npcr_rsp(rsp, sizeof(rsp), &n), -EBADMSG);
}

/* Part 3, 16.1 TPM_Extend: ordinal 0x14; pcrNum UINT32, inDigest
 * TPM_DIGEST (20 bytes); 10 + 4 + 20 = 34 = 0x22 bytes.  The answer is
 * outDigest, the PCR's new value: 10 + 20 = 30 = 0x1e bytes. */
static void test_extend(void **state)
{
	(void)state;
	uint8_t dig[20], want[34], buf[64], rsp[30], out[20] = { 0 };
	struct mbuf_writer w;
	static const uint8_t head[] = { 0x00, 0xc1, 0, 0, 0, 0x22, 0, 0, 0, 0x14, 0, 0, 0, 15 };

	memset(dig, 0x11, sizeof(dig));
	memcpy(want, head, sizeof(head));
	memset(want + sizeof(head), 0x11, 20);
	mbw_init_fixed(&w, buf, sizeof(buf));
	mi_t12_extend_cmd(&w, 15, dig);
	assert_true(mbw_ok(&w));
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	memset(rsp, 0x5a, sizeof(rsp));
	memcpy(rsp, (uint8_t[]){ 0x00, 0xc4, 0, 0, 0, 0x1e, 0, 0, 0, 0 }, 10);
	assert_int_equal(mi_t12_extend_rsp(rsp, sizeof(rsp), out), 0);
	assert_int_equal(out[0], 0x5a);
	assert_int_equal(out[19], 0x5a);
	/* one byte short of outDigest: the size field still matches, the output does not */
	rsp[5] = 0x1d;
	assert_int_equal(mi_t12_extend_rsp(rsp, sizeof(rsp) - 1, out), -EBADMSG);
}

/* Part 3, 16.2 TPM_PCRRead: ordinal 0x15; pcrIndex UINT32; 14 bytes. */
static void build_pcrread15(struct mbuf_writer *w) { mi_t12_pcrread_cmd(w, 15); }

static void test_pcrread(void **state)
{
	(void)state;
	static const uint8_t want[] = { 0x00, 0xc1, 0, 0, 0, 14, 0, 0, 0, 0x15, 0, 0, 0, 15 };
	uint8_t rsp[30], out[20], before[20];

	build_check(build_pcrread15, want, sizeof(want));
	memset(rsp, 0xab, sizeof(rsp));
	memcpy(rsp, (uint8_t[]){ 0x00, 0xc4, 0, 0, 0, 30, 0, 0, 0, 0 }, 10);
	assert_int_equal(mi_t12_pcrread_rsp(rsp, sizeof(rsp), out), 0);
	assert_int_equal(out[7], 0xab);

	/* every truncation (with a size field that agrees) is an error, and
	 * the output is left alone */
	for (size_t n = 0; n < sizeof(rsp); n++) {
		uint8_t cut[30];

		memcpy(cut, rsp, n);
		if (n >= 6)
			cut[5] = (uint8_t)n;
		memset(out, 0xee, sizeof(out));
		memcpy(before, out, sizeof(out));
		assert_true(mi_t12_pcrread_rsp(cut, n, out) < 0);
		assert_memory_equal(out, before, sizeof(out));
	}
}

/* Part 2, 16: TPM_BADINDEX = TPM_BASE + 2 for a PCR the TPM does not have;
 * the message names it.  Size field and tag are checked before the code. */
static void test_errors(void **state)
{
	(void)state;
	uint8_t rsp[] = { 0x00, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0x02 };
	uint8_t out[20];
	struct mbuf_reader r;
	uint32_t rc = 0;

	assert_int_equal(mi_t12_pcrread_rsp(rsp, sizeof(rsp), out), -EIO);
	assert_non_null(strstr(m_errmsg(-EIO), "TPM_PCRRead: TPM 1.2 error 0x002 (TPM_BADINDEX"));
	assert_int_equal(mi_t12_rsp_begin(&r, rsp, sizeof(rsp), "x", &rc), -EIO);
	assert_int_equal(rc, MI_T12_BADINDEX);
	/* TPM_INVALID_POSTINIT = 38 = 0x26: what a TPM never started answers */
	rsp[9] = 0x26;
	assert_int_equal(mi_t12_rsp_begin(&r, rsp, sizeof(rsp), "x", &rc), -EIO);
	assert_int_equal(rc, MI_T12_INVALID_POSTINIT);
	/* size field disagreeing with the bytes received */
	rsp[9] = 0, rsp[5] = 11;
	assert_int_equal(mi_t12_startup_rsp(rsp, sizeof(rsp)), -EBADMSG);
	/* a TPM 2.0 response tag is not a 1.2 response */
	rsp[5] = 10, rsp[0] = 0x80, rsp[1] = 0x01;
	assert_int_equal(mi_t12_startup_rsp(rsp, sizeof(rsp)), -EBADMSG);
	assert_null(mi_t12_rcname(0x0ff));
}

/*
 * The family probe: a TPM 1.2 answers the TPM 2.0 command
 * TPM2_GetCapability with a 1.2 header (swtpm 0.7 in 1.2 mode answers
 * 00 c4 00 00 00 0a 00 00 00 0a: TPM_BAD_ORDINAL); a TPM 2.0 answers with
 * TPM_ST_NO_SESSIONS (0x8001).  Anything else answers neither.
 */
static void test_family(void **state)
{
	(void)state;
	static const uint8_t t12[] = { 0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x0a };
	static const uint8_t t20[] = { 0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0, 0 };
	static const uint8_t junk[] = { 0x12, 0x34, 0, 0, 0, 0x0a, 0, 0, 0, 0 };

	assert_int_equal(mi_tpm_family(t12, sizeof(t12)), 12);
	assert_int_equal(mi_tpm_family(t20, sizeof(t20)), 20);
	assert_int_equal(mi_tpm_family(junk, sizeof(junk)), -EPROTO);
	assert_non_null(strstr(m_errmsg(-EPROTO), "tag 0x1234: neither a TPM 2.0 nor a TPM 1.2 response"));
	assert_int_equal(mi_tpm_family(t12, 1), -EPROTO);
	assert_non_null(strstr(m_errmsg(-EPROTO), "neither a TPM 2.0 nor a TPM 1.2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_getcap_npcr),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_pcrread),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_family),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
