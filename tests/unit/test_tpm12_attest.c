// SPDX-License-Identifier: MIT
/*
 * The verifier's TPM 1.2 structures (lib/attest/quote12.c,
 * lib/tpm12/key12.c) against layouts written out by hand from TPM Main
 * Specification 1.2 rev 116, Part 2.  SHA-1 values were computed with
 * python's hashlib from the bytes written here, not with this code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "measured/attest12.h"
#include "measured/digest.h"
#include "measured/error.h"

/*
 * TPM_PCR_COMPOSITE (8.2) of PCR 0 = 00*20 and PCR 16 = 11*20:
 *   00 03 | 01 00 01 | 00 00 00 28 | 00*20 | 11*20
 * (TPM_PCR_SELECTION: sizeOfSelect 3, bit n of byte n/8 for PCR n;
 * valueSize 40; values in PCR order).  SHA-1 of those 69 bytes:
 * python3 -c "import hashlib,struct; print(hashlib.sha1(struct.pack('>H',3)
 *   + bytes([1,0,1]) + struct.pack('>I',40) + bytes(20) + b'\x11'*20).hexdigest())"
 */
static void test_composite(void **state)
{
	(void)state;
	struct m_pcrs p;
	uint8_t d[20], want[20];

	memset(&p, 0, sizeof(p));
	memset(p.v[M_SHA1][16], 0x11, 20);
	p.present[M_SHA1] = 1u << 0 | 1u << 16;
	assert_int_equal(m_unhex("1ed8aadde61c2589eaf12a8918b9cd3f95ebfb6c", want, 20), 0);
	assert_int_equal(m_t12_composite_digest(&p, 1u << 0 | 1u << 16, d), 0);
	assert_memory_equal(d, want, 20);
	/* a PCR without a value */
	assert_int_equal(m_t12_composite_digest(&p, 1u << 1, d), -ENOENT);
}

/*
 * TPM_QUOTE_INFO2 (11.4): tag TPM_TAG_QUOTE_INFO2 = 00 36, fixed "QUT2",
 * externalData (20), TPM_PCR_INFO_SHORT (8.6: pcrSelection 00 03 01 00 01,
 * localityAtRelease 01, digestAtRelease 20 bytes): 52 bytes.
 */
static void test_quote_info2(void **state)
{
	(void)state;
	uint8_t ext[20], info[26], q[M_T12_QUOTE_INFO2_LEN];
	static const uint8_t head[] = { 0x00, 0x36, 'Q', 'U', 'T', '2' };
	struct m_t12_quote_info got;

	memset(ext, 0xaa, sizeof(ext));
	memcpy(info, (uint8_t[]){ 0x00, 0x03, 0x01, 0x00, 0x01, 0x01 }, 6);
	memset(info + 6, 0xdd, 20);
	m_t12_quote_info2(ext, info, q);
	assert_int_equal(M_T12_QUOTE_INFO2_LEN, 52);
	assert_memory_equal(q, head, 6);
	assert_memory_equal(q + 6, ext, 20);
	assert_memory_equal(q + 26, info, 26);
	assert_int_equal(m_t12_quote_info_parse(q, sizeof(q), &got), 0);
	assert_true(got.v2);
	assert_int_equal(got.mask, 1u << 0 | 1u << 16);
	assert_int_equal(got.external_off, 6);
	assert_memory_equal(got.external, ext, 20);
	assert_int_equal(got.digest[19], 0xdd);
	/* "QUT3" is nothing */
	q[5] = '3';
	assert_int_equal(m_t12_quote_info_parse(q, sizeof(q), &got), -EBADMSG);
	q[5] = '2';
	for (size_t n = 0; n < sizeof(q); n++)
		assert_int_equal(m_t12_quote_info_parse(q, n, &got), -EBADMSG);
}

/*
 * TPM_QUOTE_INFO (11.3), what TPM_Quote signs: version 01 01 00 00, fixed
 * "QUOT", digestValue (20), externalData (20): 48 bytes.
 */
static void test_quote_info(void **state)
{
	(void)state;
	uint8_t ext[20], d[20], q[M_T12_QUOTE_INFO_LEN];
	static const uint8_t head[] = { 1, 1, 0, 0, 'Q', 'U', 'O', 'T' };
	struct m_t12_quote_info got;

	memset(ext, 0x5e, sizeof(ext));
	memset(d, 0xd1, sizeof(d));
	m_t12_quote_info(ext, d, q);
	assert_int_equal(M_T12_QUOTE_INFO_LEN, 48);
	assert_memory_equal(q, head, 8);
	assert_memory_equal(q + 8, d, 20);
	assert_memory_equal(q + 28, ext, 20);
	assert_int_equal(m_t12_quote_info_parse(q, sizeof(q), &got), 0);
	assert_false(got.v2);
	assert_int_equal(got.external_off, 28);
	assert_memory_equal(got.external, ext, 20);
	assert_memory_equal(got.digest, d, 20);
	for (size_t n = 0; n < sizeof(q); n++)
		assert_int_equal(m_t12_quote_info_parse(q, n, &got), -EBADMSG);
}

/* externalData: a 20-byte nonce as it is, any other its SHA-1
 * (python3 -c "import hashlib; print(hashlib.sha1(bytes([0,0x11])).hexdigest())"). */
static void test_external_data(void **state)
{
	(void)state;
	uint8_t n20[20], out[20], want[20];
	static const uint8_t n2[] = { 0x00, 0x11 };

	memset(n20, 0x42, sizeof(n20));
	assert_int_equal(m_t12_external_data(n20, 20, out), 0);
	assert_memory_equal(out, n20, 20);
	assert_int_equal(m_unhex("a1102759c931bf55c37a88e659b76bbb2b8610f9", want, 20), 0);
	assert_int_equal(m_t12_external_data(n2, 2, out), 0);
	assert_memory_equal(out, want, 20);
}

/*
 * A TPM_KEY (10.2) of a 512-bit RSA identity key, written out:
 *   01 01 00 00             ver 1.1.0.0
 *   00 12                   keyUsage TPM_KEY_IDENTITY
 *   00 00 00 00             keyFlags
 *   01                      authDataUsage TPM_AUTH_ALWAYS
 *   00 00 00 01 00 01 00 02 TPM_KEY_PARMS: TPM_ALG_RSA, TPM_ES_NONE, TPM_SS_RSASSAPKCS1v15_SHA1
 *   00 00 00 0c             parmSize 12: TPM_RSA_KEY_PARMS
 *   00 00 02 00 00 00 00 02 00 00 00 00   keyLength 512, numPrimes 2, exponentSize 0
 *   00 00 00 00             PCRInfoSize
 *   00 00 00 40 + 64 bytes  TPM_STORE_PUBKEY
 *   00 00 00 03 + 3 bytes   encData
 * Its TPM_PUBKEY (10.5) is TPM_KEY_PARMS || TPM_STORE_PUBKEY: 24 + 68 bytes.
 */
static void test_key(void **state)
{
	(void)state;
	uint8_t key[4 + 2 + 4 + 1 + 24 + 4 + 68 + 7], *p = key;
	struct m_t12_pubkey k, k2;

	memcpy(p, (uint8_t[]){ 1, 1, 0, 0, 0x00, 0x12, 0, 0, 0, 0, 0x01 }, 11), p += 11;
	memcpy(p, (uint8_t[]){ 0, 0, 0, 1, 0, 1, 0, 2, 0, 0, 0, 12, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0 }, 24), p += 24;
	memcpy(p, (uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0x40 }, 8), p += 8;
	memset(p, 0xc5, 64), p += 64;
	memcpy(p, (uint8_t[]){ 0, 0, 0, 3, 9, 9, 9 }, 7), p += 7;
	assert_int_equal(p - key, sizeof(key));
	assert_int_equal(m_t12_key_pubkey(key, sizeof(key), &k), 0);
	assert_int_equal(k.n_len, 64);
	assert_int_equal(k.n[63], 0xc5);
	assert_int_equal(k.exponent, 0);
	assert_int_equal(k.sig_scheme, 0x0002);
	assert_int_equal(k.raw_len, 24 + 68);
	assert_memory_equal(k.raw, key + 11, 24);
	assert_memory_equal(k.raw + 24, key + 11 + 24 + 4, 68);
	/* the TPM_PUBKEY parses to the same key */
	assert_int_equal(m_t12_pubkey_parse(k.raw, k.raw_len, &k2), 0);
	assert_memory_equal(k2.n, k.n, 64);
	/* TPM_KEY12: tag 00 28, fill 00 00 */
	key[0] = 0x00, key[1] = 0x28, key[2] = 0, key[3] = 0;
	assert_int_equal(m_t12_key_pubkey(key, sizeof(key), &k), 0);
	key[1] = 0x29;
	assert_int_equal(m_t12_key_pubkey(key, sizeof(key), &k), -EBADMSG);
	key[0] = 1, key[1] = 1;
	/* a modulus length that disagrees with keyLength */
	key[11 + 24 + 4 + 3] = 0x3f;
	assert_int_equal(m_t12_key_pubkey(key, sizeof(key), &k), -EBADMSG);
	key[11 + 24 + 4 + 3] = 0x40;
	/* every truncation */
	for (size_t n = 0; n < sizeof(key); n++)
		assert_true(m_t12_key_pubkey(key, n, &k) < 0);
	/* not RSA */
	key[11 + 3] = 2;
	assert_int_equal(m_t12_key_pubkey(key, sizeof(key), &k), -EOPNOTSUPP);
}

/*
 * The TSS 1.2 DER TssBlob of a TPM_PUBKEY of 92 bytes (a 512-bit key:
 * 24 + 4 + 64), in strict DER:
 *   30 0e+...  SEQUENCE, 3 + 3 + 3 + 2 + 92 = 103 = 0x67 content bytes
 *   02 01 01   structVersion 1
 *   02 01 02   blobType TSS_BLOB_TYPE_PUBKEY
 *   02 01 5c   blobLength 92 (one byte: DER's minimal INTEGER)
 *   04 5c ...  the TPM_PUBKEY
 */
static void test_tssblob(void **state)
{
	(void)state;
	static const uint8_t head[] = { 0x30, 0x67, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x5c, 0x04, 0x5c };
	struct m_t12_pubkey k;
	uint8_t out[256];
	size_t len;

	memset(&k, 0, sizeof(k));
	k.raw_len = 92;
	memset(k.raw, 0xab, 92);
	assert_int_equal(m_t12_tssblob_pubkey(&k, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(head) + 92);
	assert_memory_equal(out, head, sizeof(head));
	assert_int_equal(out[len - 1], 0xab);
	/* 284 bytes (a 2048-bit key): long lengths, 0x11c as 01 1c */
	k.raw_len = 284;
	assert_int_equal(m_t12_tssblob_pubkey(&k, out, sizeof(out), &len), -EOVERFLOW);
	{
		uint8_t big[400];
		static const uint8_t h2[] = { 0x30, 0x82, 0x01, 0x2a, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02,
					      0x02, 0x02, 0x01, 0x1c, 0x04, 0x82, 0x01, 0x1c };

		assert_int_equal(m_t12_tssblob_pubkey(&k, big, sizeof(big), &len), 0);
		assert_int_equal(len, sizeof(h2) + 284);
		assert_memory_equal(big, h2, sizeof(h2));
	}
	/* 0x80 bytes: the SEQUENCE takes 30 81 8d, blobLength a leading 0 (00 80), the octet string 81 80 */
	k.raw_len = 0x80;
	assert_int_equal(m_t12_tssblob_pubkey(&k, out, sizeof(out), &len), 0);
	assert_memory_equal(out, ((uint8_t[]){ 0x30, 0x81, 0x8d }), 3);
	assert_memory_equal(out + 9, ((uint8_t[]){ 0x02, 0x02, 0x00, 0x80, 0x04, 0x81, 0x80 }), 7);
}

/*
 * tpm_mkaik's file as TrouSerS 0.3.15 writes it (Tspi_EncodeDER_TssBlob,
 * checked with `openssl asn1parse` on its output): blobLength as four
 * bytes with leading zeros, 02 04 00 00 01 1c, which strict DER forbids;
 * read anyway.  And tpm_getquote -p's "N=HEX" lines.
 */
static void test_quote_tools_files(void **state)
{
	(void)state;
	uint8_t der[20 + 284], *p = der;
	static const uint8_t head[] = { 0x30, 0x82, 0x01, 0x2c, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02,
					0x02, 0x04, 0x00, 0x00, 0x01, 0x1c, 0x04, 0x82, 0x01, 0x1c };
	struct m_t12_pubkey k;
	struct m_pcrs v;
	uint32_t mask;
	static const char vals[] = "0=0000000000000000000000000000000000000000\n"
				   "16=26392D97E146E141BC7717C73D1A596D285FEA82\n";

	memcpy(p, head, sizeof(head)), p += sizeof(head);
	/* TPM_PUBKEY of a 2048-bit RSA key: parms 24 bytes, 00 00 01 00 + modulus */
	memcpy(p, (uint8_t[]){ 0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12, 0, 0, 8, 0, 0, 0, 0, 2, 0, 0, 0, 0,
			       0, 0, 1, 0 }, 28), p += 28;
	memset(p, 0xe9, 256);
	assert_int_equal(m_t12_tssblob_parse(der, sizeof(der), &k), 0);
	assert_int_equal(k.n_len, 256);
	assert_int_equal(k.enc_scheme, 3);
	/* a blob of another type (1: a key blob) or a wrong length */
	der[9] = 1;
	assert_int_equal(m_t12_tssblob_parse(der, sizeof(der), &k), -EBADMSG);
	der[9] = 2, der[15] = 0x1d;
	assert_int_equal(m_t12_tssblob_parse(der, sizeof(der), &k), -EBADMSG);
	der[15] = 0x1c;
	for (size_t n = 0; n < sizeof(der); n++)
		assert_true(m_t12_tssblob_parse(der, n, &k) < 0);

	assert_int_equal(m_t12_pcrvals_parse(vals, strlen(vals), &v, &mask), 0);
	assert_int_equal(mask, 1u << 0 | 1u << 16);
	assert_int_equal(v.v[M_SHA1][16][0], 0x26);
	assert_int_equal(v.v[M_SHA1][16][19], 0x82);
	assert_int_equal(m_t12_pcrvals_parse("24=0000000000000000000000000000000000000000\n", 44, &v, &mask), -EBADMSG);
	assert_int_equal(m_t12_pcrvals_parse(vals, strlen(vals) - 1, &v, &mask), -EBADMSG);
	assert_int_equal(m_t12_pcrvals_parse("", 0, &v, &mask), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_composite),
		cmocka_unit_test(test_quote_info2),
		cmocka_unit_test(test_quote_info),
		cmocka_unit_test(test_external_data),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_tssblob),
		cmocka_unit_test(test_quote_tools_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
