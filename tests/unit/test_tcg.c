// SPDX-License-Identifier: MIT
/*
 * TCG PC Client event log parser on hand-built logs.  Logs are written
 * with the project's writer following the spec's layouts (PFP 10.2.1
 * TCG_PCR_EVENT, 10.2.2 TCG_PCR_EVENT2, 10.4.5.1 Spec ID Event03); the
 * expected PCR values are computed here with OpenSSL's EVP directly, not
 * with the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/eventlog.h"

#define EV_POST_CODE 0x1u
#define EV_NO_ACTION 0x3u
#define EV_SEPARATOR 0x4u
#define EV_EFI_ACTION 0x80000007u
#define EV_EFI_VARIABLE_BOOT 0x80000002u
#define ALG_SHA1 0x0004
#define ALG_SHA256 0x000b
#define ALG_SHA384 0x000c

struct alg {
	uint16_t id;
	uint16_t size;
};

static const struct alg sha1_256[] = { { ALG_SHA1, 20 }, { ALG_SHA256, 32 } };

/* --- writing logs ------------------------------------------------------ */

static void w_specid(struct mbuf_writer *w, const struct alg *algs, unsigned n, const uint8_t *vendor,
		     uint8_t vlen)
{
	uint8_t zero[20] = { 0 };

	mbw_le32(w, 0);				/* pcrIndex */
	mbw_le32(w, EV_NO_ACTION);
	mbw_bytes(w, zero, 20);
	mbw_le32(w, 16 + 4 + 4 + 4 + 4 * n + 1 + vlen);
	mbw_bytes(w, "Spec ID Event03", 16);
	mbw_le32(w, 0);				/* platformClass */
	mbw_u8(w, 0);				/* specVersionMinor */
	mbw_u8(w, 2);				/* specVersionMajor */
	mbw_u8(w, 0);				/* specErrata */
	mbw_u8(w, 2);				/* uintnSize */
	mbw_le32(w, n);
	for (unsigned i = 0; i < n; i++) {
		mbw_le16(w, algs[i].id);
		mbw_le16(w, algs[i].size);
	}
	mbw_u8(w, vlen);
	if (vlen)
		mbw_bytes(w, vendor, vlen);
}

/* The digest of alg i is @fill repeated, so tests know it without hashing. */
static void w_event2(struct mbuf_writer *w, uint32_t pcr, uint32_t type, const struct alg *algs, unsigned n,
		     uint8_t fill, const void *data, uint32_t len)
{
	uint8_t d[64];

	memset(d, fill, sizeof(d));
	mbw_le32(w, pcr);
	mbw_le32(w, type);
	mbw_le32(w, n);
	for (unsigned i = 0; i < n; i++) {
		mbw_le16(w, algs[i].id);
		mbw_bytes(w, d, algs[i].size);
	}
	mbw_le32(w, len);
	if (len)
		mbw_bytes(w, data, len);
}

static void w_event1(struct mbuf_writer *w, uint32_t pcr, uint32_t type, uint8_t fill, const void *data,
		     uint32_t len)
{
	uint8_t d[20];

	memset(d, fill, sizeof(d));
	mbw_le32(w, pcr);
	mbw_le32(w, type);
	mbw_bytes(w, d, 20);
	mbw_le32(w, len);
	if (len)
		mbw_bytes(w, data, len);
}

/* --- independent reference --------------------------------------------- */

/* pcr = H(pcr || digest) with OpenSSL, digest = @fill repeated */
static void ref_extend(const char *md, uint8_t *pcr, uint8_t fill)
{
	const EVP_MD *m = EVP_get_digestbyname(md);
	uint8_t buf[128];
	unsigned n = (unsigned)EVP_MD_get_size(m), outlen;

	memcpy(buf, pcr, n);
	memset(buf + n, fill, n);
	assert_int_equal(EVP_Digest(buf, 2 * n, pcr, &outlen, m, NULL), 1);
	assert_int_equal(outlen, n);
}

static struct m_log *parse_ok(const struct mbuf_writer *w)
{
	struct m_log *log = NULL;
	int r;

	assert_true(mbw_ok(w));
	r = m_log_parse(w->data, w->len, "test.bin", &log);
	if (r < 0)
		fail_msg("parse: %s", m_errmsg(r));
	return log;
}

static int parse_err(const struct mbuf_writer *w, const char *want_msg)
{
	struct m_log *log = NULL;
	int r;

	assert_true(mbw_ok(w));
	r = m_log_parse(w->data, w->len, "test.bin", &log);
	assert_true(r < 0);
	assert_null(log);
	assert_non_null(strstr(m_errmsg(r), "test.bin: record "));
	if (want_msg && !strstr(m_errmsg(r), want_msg))
		fail_msg("message '%s' lacks '%s'", m_errmsg(r), want_msg);
	return r;
}

/* --- tests ---------------------------------------------------------------- */

/* PFP 10.4.5.3: locality 3 makes PCR 0 start at 00..03 in every bank. */
static void test_startup_locality(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct m_log *log;
	struct m_pcrs p;
	uint8_t loc[17], v1[20] = { 0 }, v256[32] = { 0 };

	memcpy(loc, "StartupLocality", 16);
	loc[16] = 3;
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0x00, loc, sizeof(loc));
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x5a, "POST CODE", 9);
	log = parse_ok(&w);
	assert_int_equal(log->format, M_LOG_TCG_AGILE);
	assert_int_equal(log->startup_locality, 3);
	assert_int_equal(log->count, 3);
	assert_false(log->ev[1].extends);
	assert_string_equal(log->ev[1].desc, "StartupLocality 3");
	/* a 9-byte POST_CODE event, described by its text */
	assert_int_equal(log->ev[2].data_len, 9);
	assert_string_equal(log->ev[2].desc, "POST CODE");
	assert_string_equal(m_tcg_event_type_name(log->ev[2].type), "EV_POST_CODE");
	assert_int_equal(m_log_replay(log, &p), 0);
	v1[19] = 3;
	v256[31] = 3;
	ref_extend("SHA1", v1, 0x5a);
	ref_extend("SHA256", v256, 0x5a);
	assert_int_equal(p.present[M_SHA1], 1u);
	assert_int_equal(p.present[M_SHA256], 1u);
	assert_memory_equal(p.v[M_SHA1][0], v1, 20);
	assert_memory_equal(p.v[M_SHA256][0], v256, 32);
	m_log_free(log);
	mbw_free(&w);
}

static void test_locality_rules(void **state)
{
	(void)state;
	struct mbuf_writer w;
	uint8_t loc[17];

	memcpy(loc, "StartupLocality", 16);
	loc[16] = 3;
	/* after PCR 0 was extended: the initial value would be wrong */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x11, "x", 1);
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	parse_err(&w, "record 2 at offset 0x");
	mbw_free(&w);
	/* twice */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	parse_err(&w, "second StartupLocality");
	mbw_free(&w);
	/* not a locality */
	loc[16] = 9;
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	parse_err(&w, "StartupLocality 9");
	mbw_free(&w);
	/* PFP 10.4.5.3 names 0, 3 and 4 (H-CRTM) only */
	loc[16] = 1;
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	parse_err(&w, "StartupLocality 1 is not 0, 3 or 4");
	mbw_free(&w);
	/* logged for another PCR */
	loc[16] = 3;
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 1, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	parse_err(&w, "StartupLocality logged for a PCR other than 0");
	mbw_free(&w);
}

/*
 * H-CRTM (TPM 2.0 Library Part 1, "H-CRTM Event Sequence"; PFP 10.4.5.3
 * and EV_EFI_HCRTM_EVENT): _TPM_Hash_Start from locality 4 resets PCR 0 to
 * 0...04, and _TPM_Hash_End extends it with the H-CRTM digest, before
 * TPM2_Startup; the log holds StartupLocality 4 and the H-CRTM event.  A
 * log with the H-CRTM event and no StartupLocality event still starts at
 * 4; one that says locality 0 or 3, or puts the H-CRTM event after
 * another PCR 0 extend, contradicts the sequence.
 */
#define EV_EFI_HCRTM_EVENT 0x80000010u
static void test_hcrtm(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct m_log *log;
	struct m_pcrs p;
	uint8_t loc[17], v1[20] = { 0 }, v256[32] = { 0 };

	memcpy(loc, "StartupLocality", 16);
	loc[16] = 4;
	v1[19] = 4;
	v256[31] = 4;
	ref_extend("SHA1", v1, 0x61);
	ref_extend("SHA256", v256, 0x61);
	ref_extend("SHA1", v1, 0x62);
	ref_extend("SHA256", v256, 0x62);
	for (int with_locality = 1; with_locality >= 0; with_locality--) {
		mbw_init_heap(&w, 1 << 20);
		w_specid(&w, sha1_256, 2, NULL, 0);
		if (with_locality)
			w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
		w_event2(&w, 0, EV_EFI_HCRTM_EVENT, sha1_256, 2, 0x61, "HCRTM", 5);
		w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x62, "x", 1);
		log = parse_ok(&w);
		assert_int_equal(log->startup_locality, 4);
		assert_int_equal(m_log_replay(log, &p), 0);
		assert_memory_equal(p.v[M_SHA1][0], v1, 20);
		assert_memory_equal(p.v[M_SHA256][0], v256, 32);
		m_log_free(log);
		mbw_free(&w);
	}
	/* StartupLocality 3 and an H-CRTM sequence contradict each other */
	loc[16] = 3;
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_NO_ACTION, sha1_256, 2, 0, loc, sizeof(loc));
	w_event2(&w, 0, EV_EFI_HCRTM_EVENT, sha1_256, 2, 0x61, "HCRTM", 5);
	parse_err(&w, "EV_EFI_HCRTM_EVENT with StartupLocality 3");
	mbw_free(&w);
	/* the H-CRTM digest is PCR 0's first extend, never a later one */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x62, "x", 1);
	w_event2(&w, 0, EV_EFI_HCRTM_EVENT, sha1_256, 2, 0x61, "HCRTM", 5);
	parse_err(&w, "EV_EFI_HCRTM_EVENT after PCR 0 was extended");
	mbw_free(&w);
	/* and only PCR 0's */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 2, EV_EFI_HCRTM_EVENT, sha1_256, 2, 0x61, "HCRTM", 5);
	parse_err(&w, "EV_EFI_HCRTM_EVENT for a PCR other than 0");
	mbw_free(&w);
}

/* EV_NO_ACTION carries a digest in the record but is never extended (PFP 10.4.5). */
static void test_no_action_not_extended(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct m_log *log;
	struct m_pcrs p;
	uint8_t v256[32] = { 0 }, v17[32];

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 1, EV_NO_ACTION, sha1_256, 2, 0xee, "SP800-155 Event", 16);
	w_event2(&w, 2, EV_EFI_ACTION, sha1_256, 2, 0x22, "Calling EFI Application", 23);
	w_event2(&w, 17, EV_NO_ACTION, sha1_256, 2, 0x33, "x", 1);
	w_event2(&w, 17, EV_EFI_ACTION, sha1_256, 2, 0x44, "drtm", 4);
	log = parse_ok(&w);
	assert_false(log->ev[1].extends);
	assert_true(log->ev[2].extends);
	assert_string_equal(log->ev[2].desc, "Calling EFI Application");
	assert_int_equal(m_log_replay(log, &p), 0);
	/* PCR 1 never extended; 2 from zero; 17 from all-0xFF (DRTM PCR) */
	assert_int_equal(p.present[M_SHA256], (1u << 2) | (1u << 17));
	ref_extend("SHA256", v256, 0x22);
	assert_memory_equal(p.v[M_SHA256][2], v256, 32);
	memset(v17, 0xff, sizeof(v17));
	ref_extend("SHA256", v17, 0x44);
	assert_memory_equal(p.v[M_SHA256][17], v17, 32);
	m_log_free(log);
	mbw_free(&w);
}

/* A TPM 1.2 style log: TCG_PCR_EVENT records only, SHA-1. */
static void test_sha1_format(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct m_log *log;
	struct m_pcrs p;
	uint8_t v0[20] = { 0 }, v4[20] = { 0 }, sep[4] = { 0 };

	mbw_init_heap(&w, 1 << 20);
	w_event1(&w, 0, 0x8, 0x01, "v\0e\0r\0", 6);	/* EV_S_CRTM_VERSION, UCS-2 */
	w_event1(&w, 0, EV_POST_CODE, 0x02, "POST CODE", 9);
	w_event1(&w, 4, EV_SEPARATOR, 0x03, sep, 4);
	log = parse_ok(&w);
	assert_int_equal(log->format, M_LOG_TCG_SHA1);
	assert_int_equal(log->banks, M_BANK_BIT(M_SHA1));
	assert_int_equal(log->count, 3);
	assert_string_equal(log->ev[0].desc, "ver");
	assert_string_equal(log->ev[2].desc, "0x00000000");
	assert_int_equal(log->ev[2].offset, 32 + 6 + 32 + 9);
	assert_int_equal(m_log_replay(log, &p), 0);
	ref_extend("SHA1", v0, 0x01);
	ref_extend("SHA1", v0, 0x02);
	ref_extend("SHA1", v4, 0x03);
	assert_int_equal(p.present[M_SHA1], 1u | 1u << 4);
	assert_int_equal(p.present[M_SHA256], 0);
	assert_memory_equal(p.v[M_SHA1][0], v0, 20);
	assert_memory_equal(p.v[M_SHA1][4], v4, 20);
	m_log_free(log);
	mbw_free(&w);
}

/*
 * Cut a small valid log at every length: at a record boundary the result
 * is a shorter valid log, anywhere else an error, never a crash and never
 * a partial record.
 */
static void cut_everywhere(const struct mbuf_writer *w, const size_t *bounds, size_t nb)
{
	for (size_t cut = 1; cut < w->len; cut++) {
		struct m_log *log = NULL;
		int r = m_log_parse(w->data, cut, "cut.bin", &log);
		size_t k;

		for (k = 0; k < nb && bounds[k] != cut; k++)
			;
		if (k < nb) {
			if (r < 0)
				fail_msg("cut at record boundary %zu: %s", cut, m_errmsg(r));
			assert_int_equal(log->count, k + 1);
			m_log_free(log);
		} else {
			if (r >= 0)
				fail_msg("cut at %zu parsed as %zu records", cut, log->count);
			assert_null(log);
			assert_non_null(strstr(m_errmsg(r), "cut.bin: record "));
		}
	}
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct mbuf_writer w;
	size_t bounds[4];
	uint8_t sep[4] = { 0 };

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, (const uint8_t *)"\x01\x02", 2);
	bounds[0] = w.len;
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x10, "POST CODE", 9);
	bounds[1] = w.len;
	w_event2(&w, 7, EV_SEPARATOR, sha1_256, 2, 0x20, sep, 4);
	bounds[2] = w.len;
	w_event2(&w, 4, EV_EFI_ACTION, sha1_256, 2, 0x30, "x", 1);
	bounds[3] = w.len;
	assert_true(mbw_ok(&w));
	cut_everywhere(&w, bounds, 3);
	mbw_free(&w);

	mbw_init_heap(&w, 1 << 20);
	w_event1(&w, 0, EV_POST_CODE, 0x10, "POST CODE", 9);
	bounds[0] = w.len;
	w_event1(&w, 4, EV_SEPARATOR, 0x20, sep, 4);
	bounds[1] = w.len;
	w_event1(&w, 5, EV_EFI_ACTION, 0x30, "ab", 2);
	assert_true(mbw_ok(&w));
	cut_everywhere(&w, bounds, 2);
	mbw_free(&w);
}

static void test_digest_count_mismatch(void **state)
{
	(void)state;
	struct mbuf_writer w;
	size_t off;
	char want[64];

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x10, "a", 1);
	off = w.len;
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 1, 0x10, "a", 1);	/* sha1 only */
	snprintf(want, sizeof(want), "record 2 at offset 0x%zx: digest count 1", off);
	parse_err(&w, want);
	parse_err(&w, "header declares 2 banks");
	mbw_free(&w);
}

static void test_undeclared_algorithm(void **state)
{
	(void)state;
	static const struct alg hdr[] = { { ALG_SHA256, 32 } }, ev[] = { { ALG_SHA384, 48 } },
				twice[] = { { ALG_SHA1, 20 }, { ALG_SHA1, 20 } };
	struct mbuf_writer w;

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, hdr, 1, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, ev, 1, 0x10, "a", 1);
	parse_err(&w, "algorithm 0x000c, not declared");
	mbw_free(&w);
	/* the right count, but one algorithm twice */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, twice, 2, 0x10, "a", 1);
	parse_err(&w, "repeats algorithm 0x0004");
	mbw_free(&w);
	/* a known algorithm declared with the wrong size */
	static const struct alg badsize[] = { { ALG_SHA256, 20 } };
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, badsize, 1, NULL, 0);
	parse_err(&w, "sha256 digest size 20");
	mbw_free(&w);
}

/* An algorithm this code doesn't know is parsed past with the header's size. */
static void test_unknown_algorithm_skipped(void **state)
{
	(void)state;
	static const struct alg hdr[] = { { 0x7777, 7 }, { ALG_SHA256, 32 }, { 0x7778, 0 } };
	static const struct alg ev[] = { { ALG_SHA256, 32 }, { 0x7778, 0 }, { 0x7777, 7 } };
	struct mbuf_writer w;
	struct m_log *log;
	struct m_pcrs p;
	uint8_t v[32] = { 0 };

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, hdr, 3, NULL, 0);
	w_event2(&w, 3, EV_POST_CODE, hdr, 3, 0x61, "one", 3);
	w_event2(&w, 3, EV_POST_CODE, ev, 3, 0x62, "two", 3);	/* order differs from the header */
	log = parse_ok(&w);
	assert_int_equal(log->banks, M_BANK_BIT(M_SHA256));
	assert_int_equal(log->count, 3);
	assert_int_equal(log->ev[2].data_len, 3);
	assert_memory_equal(log->ev[2].data, "two", 3);
	assert_int_equal(m_log_replay(log, &p), 0);
	ref_extend("SHA256", v, 0x61);
	ref_extend("SHA256", v, 0x62);
	assert_memory_equal(p.v[M_SHA256][3], v, 32);
	m_log_free(log);
	mbw_free(&w);
}

static void test_event_size_limits(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct m_log *log;
	uint8_t *big;
	int r;

	/* eventSize 0xFFFFFFFF, both formats */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x10, NULL, 0);
	w.data[w.len - 4] = w.data[w.len - 3] = w.data[w.len - 2] = w.data[w.len - 1] = 0xff;
	mbw_bytes(&w, "abcd", 4);
	r = parse_err(&w, "eventSize 4294967295");
	assert_int_equal(r, -EFBIG);
	mbw_free(&w);
	mbw_init_heap(&w, 1 << 20);
	w_event1(&w, 0, EV_POST_CODE, 0x10, NULL, 0);
	memset(w.data + w.len - 4, 0xff, 4);
	mbw_bytes(&w, "abcd", 4);
	parse_err(&w, "record 0 at offset 0x0: eventSize 4294967295");
	mbw_free(&w);

	/* exactly M_LOG_MAX_EVENT parses; one more byte is refused */
	big = calloc(1, M_LOG_MAX_EVENT + 1);
	assert_non_null(big);
	mbw_init_heap(&w, 2 * M_LOG_MAX_EVENT);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 1, EV_POST_CODE, sha1_256, 2, 0x10, big, M_LOG_MAX_EVENT);
	log = parse_ok(&w);
	assert_int_equal(log->ev[1].data_len, M_LOG_MAX_EVENT);
	m_log_free(log);
	mbw_free(&w);
	mbw_init_heap(&w, 2 * M_LOG_MAX_EVENT);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 1, EV_POST_CODE, sha1_256, 2, 0x10, big, M_LOG_MAX_EVENT + 1);
	r = parse_err(&w, "over the limit");
	assert_int_equal(r, -EFBIG);
	mbw_free(&w);
	free(big);

	/* an eventSize larger than what is left */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x10, "abc", 3);
	w.len -= 1;
	parse_err(&w, "eventSize 3 but only 2 bytes left");
	mbw_free(&w);
}

/* Logs over 64 KiB, odd vendorInfo, UEFI variable names. */
static void test_large_log_and_vendor_data(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct m_log *log;
	struct m_pcrs p;
	uint8_t vendor[255], var[16 + 8 + 8 + 2 * 10 + 1], v[20] = { 0 };
	uint8_t *blob = malloc(70000);
	struct mbuf_writer vw;

	assert_non_null(blob);
	memset(blob, 0xc3, 70000);
	for (unsigned i = 0; i < sizeof(vendor); i++)
		vendor[i] = (uint8_t)(255 - i);
	/* UEFI_VARIABLE_DATA for "SecureBoot", one data byte */
	mbw_init_fixed(&vw, var, sizeof(var));
	mbw_bytes(&vw, "0123456789abcdef", 16);
	mbw_le64(&vw, 10);
	mbw_le64(&vw, 1);
	for (const char *s = "SecureBoot"; *s; s++)
		mbw_le16(&vw, (uint16_t)*s);
	mbw_u8(&vw, 1);
	assert_true(mbw_ok(&vw) && vw.len == sizeof(var));

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, vendor, sizeof(vendor));
	w_event2(&w, 7, EV_EFI_VARIABLE_BOOT, sha1_256, 2, 0x01, var, sizeof(var));
	w_event2(&w, 0, 0x80000008u, sha1_256, 2, 0x02, blob, 70000);	/* odd data for its type */
	for (unsigned i = 0; i < 100; i++)
		w_event2(&w, 5, 0x0000000du, sha1_256, 2, (uint8_t)i, "grub_cmd", 8);
	assert_true(w.len > 65536);
	log = parse_ok(&w);
	assert_int_equal(log->count, 103);
	assert_string_equal(log->ev[1].desc, "SecureBoot");
	assert_null(log->ev[2].desc);
	assert_string_equal(log->ev[3].desc, "grub_cmd");
	assert_int_equal(m_log_replay(log, &p), 0);
	for (unsigned i = 0; i < 100; i++)
		ref_extend("SHA1", v, (uint8_t)i);
	assert_memory_equal(p.v[M_SHA1][5], v, 20);
	m_log_free(log);
	mbw_free(&w);
	free(blob);
}

/* Trailing 0x00 / 0xFF from a firmware buffer end the log; a short tail is a truncated record. */
static void test_padding(void **state)
{
	(void)state;
	static const uint8_t ff[64] = { [0 ... 63] = 0xff };
	static const uint8_t zero[64];
	struct mbuf_writer w;
	struct m_log *log;
	size_t len;

	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 0, EV_POST_CODE, sha1_256, 2, 0x10, "a", 1);
	len = w.len;
	mbw_bytes(&w, ff, sizeof(ff));
	log = parse_ok(&w);
	assert_int_equal(log->count, 2);
	m_log_free(log);
	w.len = len;
	mbw_bytes(&w, zero, sizeof(zero));
	log = parse_ok(&w);
	assert_int_equal(log->count, 2);
	m_log_free(log);
	w.len = len;
	mbw_bytes(&w, zero, 4);
	parse_err(&w, "truncated");
	w.len = len;
	mbw_bytes(&w, zero, 63);
	mbw_u8(&w, 1);		/* not uniform: a real (bad) record */
	parse_err(&w, "record 2");
	mbw_free(&w);
}

static void test_other_rejects(void **state)
{
	(void)state;
	struct mbuf_writer w;
	uint8_t loc[17];

	/* first record EV_NO_ACTION but no Spec ID (go-attestation's short_no_action_eventlog) */
	memcpy(loc, "StartupLocality", 16);
	loc[16] = 3;
	mbw_init_heap(&w, 1 << 20);
	w_event1(&w, 0, EV_NO_ACTION, 0, loc, sizeof(loc));
	parse_err(&w, "not a Spec ID event");
	mbw_free(&w);
	/* PCR out of range */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w_event2(&w, 24, EV_POST_CODE, sha1_256, 2, 0x10, "a", 1);
	parse_err(&w, "PCR 24");
	mbw_free(&w);
	/* Spec ID with zero algorithms */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 0, NULL, 0);
	parse_err(&w, "declares 0 algorithms");
	mbw_free(&w);
	/* Spec ID with bytes after vendorInfo */
	mbw_init_heap(&w, 1 << 20);
	w_specid(&w, sha1_256, 2, NULL, 0);
	w.data[28] += 1;	/* eventSize one more ... */
	mbw_u8(&w, 0);		/* ... and the byte */
	parse_err(&w, "after vendorInfo");
	mbw_free(&w);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(m_tcg_event_type_name(0), "EV_PREBOOT_CERT");
	assert_string_equal(m_tcg_event_type_name(4), "EV_SEPARATOR");
	assert_string_equal(m_tcg_event_type_name(0x13), "EV_POST_CODE2");
	assert_string_equal(m_tcg_event_type_name(0x80000001), "EV_EFI_VARIABLE_DRIVER_CONFIG");
	assert_string_equal(m_tcg_event_type_name(0x800000e0), "EV_EFI_VARIABLE_AUTHORITY");
	assert_string_equal(m_tcg_event_type_name(0x800000e1), "EV_EFI_SPDM_FIRMWARE_BLOB");
	assert_string_equal(m_tcg_event_type_name(0x800000e4), "EV_EFI_SPDM_DEVICE_AUTHORITY");
	assert_null(m_tcg_event_type_name(0x14));
	assert_null(m_tcg_event_type_name(0x8000000e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup_locality),
		cmocka_unit_test(test_locality_rules),
		cmocka_unit_test(test_hcrtm),
		cmocka_unit_test(test_no_action_not_extended),
		cmocka_unit_test(test_sha1_format),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_digest_count_mismatch),
		cmocka_unit_test(test_undeclared_algorithm),
		cmocka_unit_test(test_unknown_algorithm_skipped),
		cmocka_unit_test(test_event_size_limits),
		cmocka_unit_test(test_large_log_and_vendor_data),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_other_rejects),
		cmocka_unit_test(test_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
