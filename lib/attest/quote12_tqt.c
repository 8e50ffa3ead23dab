// SPDX-License-Identifier: MIT
/*
 * Reading what Debian's tpm-quote-tools write: tpm_mkaik's public key (a
 * TSS 1.2 DER TssBlob of the AIK's TPM_PUBKEY), tpm_getquote's quote (the
 * signature of a TPM_Quote2) and its -p file of PCR values ("N=HEX" lines),
 * made into an evidence document that m_evidence_verify() checks like ours.
 * tpm_getquote does not write the TPM_QUOTE_INFO2 it signed: it is rebuilt
 * from the values, the nonce and the selection, as tpm_getpcrhash does, with
 * localityAtRelease 0x01 (locality 0, where the TSS runs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/buf.h"
#include "measured/error.h"

#define BLOB_TYPE_PUBKEY 2
#define PCRVALS_MAX (24u * 64u)	/* 24 lines "NN=" + 40 hex digits + newline, and slack */

/* One DER TLV header: tag @tag, definite length (short, 81 or 82 form). */
static bool tlv(struct mbuf_reader *r, uint8_t tag, size_t *ret_len)
{
	uint8_t l;

	if (mbr_u8(r) != tag)
		return false;
	l = mbr_u8(r);
	if (l == 0x81)
		*ret_len = mbr_u8(r);
	else if (l == 0x82)
		*ret_len = mbr_be16(r);
	else if (l < 0x80)
		*ret_len = l;
	else
		return false;
	return mbr_ok(r) && *ret_len <= mbr_remaining(r);
}

/* A small non-negative INTEGER; TrouSerS writes leading zeros, which are read here. */
static bool der_uint(struct mbuf_reader *r, uint32_t *ret)
{
	size_t n;
	uint32_t v = 0;

	if (!tlv(r, 0x02, &n) || n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = mbr_u8(r);

		if (i == 0 && (b & 0x80))
			return false;
		if (n == 5 && i == 0 && b)
			return false;
		v = v << 8 | b;
	}
	*ret = v;
	return mbr_ok(r);
}

int m_t12_tssblob_parse(const uint8_t *der, size_t len, struct m_t12_pubkey *ret)
{
	struct mbuf_reader r, seq;
	uint32_t version, type, blen;
	size_t n;
	const uint8_t *blob;

	mbr_init(&r, der, len);
	if (!tlv(&r, 0x30, &n) || !mbr_sub(&r, n, &seq) || mbr_remaining(&r))
		return m_err(-EBADMSG, "TssBlob: not one DER SEQUENCE");
	if (!der_uint(&seq, &version) || !der_uint(&seq, &type) || !der_uint(&seq, &blen) || !tlv(&seq, 0x04, &n))
		return m_err(-EBADMSG, "TssBlob: malformed fields");
	if (version != 1 || type != BLOB_TYPE_PUBKEY)
		return m_err(-EBADMSG, "TssBlob: version %u, type %u (a public key is version 1, type 2)", version, type);
	blob = mbr_ptr(&seq, n);
	if (!blob || blen != n || mbr_remaining(&seq))
		return m_err(-EBADMSG, "TssBlob: blobLength %u, %zu bytes of blob", blen, n);
	return m_t12_pubkey_parse(blob, n, ret);
}

int m_t12_pcrvals_parse(const char *text, size_t len, struct m_pcrs *ret, uint32_t *ret_mask)
{
	struct m_pcrs p;
	uint32_t mask = 0;
	size_t i = 0;
	unsigned line = 0;

	if (len > PCRVALS_MAX)
		return m_err(-EMSGSIZE, "PCR values: %zu bytes, at most %u", len, PCRVALS_MAX);
	memset(&p, 0, sizeof(p));
	while (i < len) {
		char hex[41];
		unsigned pcr = 0, digits = 0;

		line++;
		while (i < len && text[i] >= '0' && text[i] <= '9' && digits < 3)
			pcr = pcr * 10 + (unsigned)(text[i++] - '0'), digits++;
		if (!digits || pcr >= M_PCR_COUNT || i >= len || text[i] != '=' || len - i < 42)
			return m_err(-EBADMSG, "PCR values line %u: not \"N=40 hex digits\"", line);
		memcpy(hex, text + i + 1, 40);
		hex[40] = '\0';
		i += 41;
		if (text[i] != '\n' || m_unhex(hex, p.v[M_SHA1][pcr], 20) < 0 || (mask & (1u << pcr)))
			return m_err(-EBADMSG, "PCR values line %u: bad value, or PCR %u twice", line, pcr);
		i++;
		mask |= 1u << pcr;
	}
	if (!mask)
		return m_err(-EBADMSG, "PCR values: none");
	p.present[M_SHA1] = mask;
	*ret = p;
	*ret_mask = mask;
	return 0;
}

int m_t12_evidence_from_quote_tools(const struct m_t12_pubkey *aik, const struct m_pcrs *pcrs, uint32_t mask,
				    const uint8_t nonce[20], const uint8_t *sig, size_t sig_len,
				    struct m_evidence **ret)
{
	uint8_t info[M_T12_PCRINFO_SHORT_LEN];
	struct m_evidence *ev;
	int r;

	if (sig_len > M_T12_SIG_MAX)
		return m_err(-EMSGSIZE, "signature of %zu bytes", sig_len);
	ev = m_evidence_new();
	if (!ev)
		return -ENOMEM;
	/* TPM_PCR_INFO_SHORT: selection (3 bytes), localityAtRelease, digestAtRelease */
	info[0] = 0, info[1] = 3;
	info[2] = mask & 0xff, info[3] = (mask >> 8) & 0xff, info[4] = (mask >> 16) & 0xff;
	info[5] = 0x01;
	r = m_t12_composite_digest(pcrs, mask, info + 6);
	if (r < 0) {
		m_evidence_free(ev);
		return r;
	}
	ev->tpm_family = 12;
	m_t12_quote_info2(nonce, info, ev->attest);
	ev->attest_len = M_T12_QUOTE_INFO2_LEN;
	memcpy(ev->sig, sig, sig_len);
	ev->sig_len = sig_len;
	memcpy(ev->ak_pub, aik->raw, aik->raw_len);
	ev->ak_pub_len = aik->raw_len;
	memcpy(ev->nonce, nonce, 20);
	ev->nonce_len = 20;
	ev->pcrs = *pcrs;
	ev->sel[M_SHA1] = mask;
	*ret = ev;
	return 0;
}
