// SPDX-License-Identifier: MIT
/*
 * The TSS 1.2 "portable data" encoding of a key blob (TCG Software Stack
 * 1.2, Tspi_EncodeDER_TssBlob): what tpm-quote-tools' tpm_mkaik writes as
 * the AIK's public key and tpm_verifyquote reads.
 *
 *   TssBlob ::= SEQUENCE {
 *       structVersion INTEGER,       -- 1
 *       blobType      INTEGER,       -- TSS_BLOB_TYPE_PUBKEY = 2
 *       blobLength    INTEGER,       -- the blob's size
 *       blob          OCTET STRING } -- the TPM_PUBKEY
 *
 * In strict DER: TrouSerS 0.3.15 writes blobLength as four bytes with
 * leading zeros, which its own decoder (OpenSSL 3's d2i) refuses, so
 * Debian 12's tpm_verifyquote cannot read tpm_mkaik's files; the minimal
 * encoding here is what that decoder accepts.
 */
#include <errno.h>
#include <string.h>
#include "measured/attest12.h"
#include "measured/buf.h"
#include "measured/error.h"

#define BLOB_TYPE_PUBKEY 2

static void der_len(struct mbuf_writer *w, size_t n)
{
	if (n < 0x80) {
		mbw_u8(w, (uint8_t)n);
	} else if (n < 0x100) {
		mbw_u8(w, 0x81);
		mbw_u8(w, (uint8_t)n);
	} else {
		mbw_u8(w, 0x82);
		mbw_be16(w, (uint16_t)n);
	}
}

static size_t der_len_size(size_t n)
{
	return n < 0x80 ? 1 : n < 0x100 ? 2 : 3;
}

/* INTEGER content of a non-negative @v: minimal, a 0 first if the top bit is set */
static size_t int_bytes(uint32_t v, uint8_t out[5])
{
	uint8_t b[5] = { 0, v >> 24, v >> 16, v >> 8, v };
	size_t i = 1;

	while (i < 4 && b[i] == 0)
		i++;
	if (b[i] & 0x80)
		i--;
	memcpy(out, b + i, 5 - i);
	return 5 - i;
}

int m_t12_tssblob_pubkey(const struct m_t12_pubkey *k, uint8_t *out, size_t cap, size_t *ret_len)
{
	struct mbuf_writer w;
	uint8_t len_int[5];
	size_t nlen = int_bytes((uint32_t)k->raw_len, len_int);
	size_t inner = 3 + 3 + 2 + nlen + 1 + der_len_size(k->raw_len) + k->raw_len;

	mbw_init_fixed(&w, out, cap);
	mbw_u8(&w, 0x30);
	der_len(&w, inner);
	mbw_bytes(&w, (uint8_t[]){ 0x02, 0x01, 0x01 }, 3);			/* structVersion 1 */
	mbw_bytes(&w, (uint8_t[]){ 0x02, 0x01, BLOB_TYPE_PUBKEY }, 3);		/* blobType */
	mbw_u8(&w, 0x02);							/* blobLength */
	mbw_u8(&w, (uint8_t)nlen);
	mbw_bytes(&w, len_int, nlen);
	mbw_u8(&w, 0x04);							/* blob */
	der_len(&w, k->raw_len);
	mbw_bytes(&w, k->raw, k->raw_len);
	if (!mbw_ok(&w))
		return m_err(-EOVERFLOW, "TssBlob: %zu bytes do not fit", inner);
	*ret_len = w.len;
	return 0;
}
