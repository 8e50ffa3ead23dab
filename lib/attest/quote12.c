// SPDX-License-Identifier: MIT
/*
 * The verifier's side of TPM 1.2 attestation, no TPM involved (TPM Main
 * 1.2 Part 2): the identity binding of TPM_MakeIdentity
 * (TPM_IDENTITY_CONTENTS, 12.5), the privacy CA's activation blob
 * (TPM_ASYM_CA_CONTENTS, 12.4, encrypted to the EK), and TPM_Quote2's
 * signature over TPM_QUOTE_INFO2 (11.4) with the composite PCR digest
 * (TPM_PCR_COMPOSITE, 8.2; TPM_PCR_INFO_SHORT, 8.6).
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include "measured/attest12.h"
#include "measured/buf.h"
#include "measured/error.h"

#define ORD_MAKE_IDENTITY 0x00000079
#define SS_RSASSAPKCS1v15_SHA1 0x0002
#define TAG_QUOTE_INFO2 0x0036
#define ALG_AES128 0x00000006
#define ES_SYM_CBC_PKCS5PAD 0x00ff

static int sha1(const void *data, size_t len, uint8_t out[20])
{
	unsigned int n = 20;

	return EVP_Digest(data, len, out, &n, EVP_sha1(), NULL) ? 0 : m_err(-EIO, "SHA-1 failed");
}

int m_t12_signature_verify(const struct m_t12_pubkey *k, const uint8_t *msg, size_t len, const uint8_t *sig,
		       size_t sig_len, const char *what)
{
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *c = NULL;
	int r, ok;

	if (k->sig_scheme != SS_RSASSAPKCS1v15_SHA1)
		return m_err(-EBADMSG, "%s: the key's signature scheme is 0x%04x, not RSASSA-PKCS1-v1_5 SHA-1", what,
			     k->sig_scheme);
	r = m_t12_pubkey_to_pkey(k, &key);
	if (r < 0)
		return r;
	c = EVP_MD_CTX_new();
	ok = c && EVP_DigestVerifyInit(c, NULL, EVP_sha1(), NULL, key) == 1 &&
	     EVP_DigestVerify(c, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(key);
	return ok ? 0 : m_err(-EBADMSG, "%s: the signature does not verify with the AIK", what);
}

int m_t12_identity_verify(const struct m_t12_pubkey *aik, const uint8_t label_digest[20], const uint8_t *sig,
			  size_t sig_len)
{
	uint8_t buf[8 + 20 + M_T12_PUBKEY_MAX];
	struct mbuf_writer w;

	mbw_init_fixed(&w, buf, sizeof(buf));
	mbw_be32(&w, 0x01010000);		/* ver 1.1.0.0 */
	mbw_be32(&w, ORD_MAKE_IDENTITY);
	mbw_bytes(&w, label_digest, 20);	/* labelPrivCADigest */
	mbw_bytes(&w, aik->raw, aik->raw_len);	/* identityPubKey */
	if (!mbw_ok(&w))
		return m_err(-EOVERFLOW, "TPM_IDENTITY_CONTENTS too long");
	return m_t12_signature_verify(aik, buf, w.len, sig, sig_len, "identity binding");
}

int m_t12_activation_blob(const struct m_t12_pubkey *ek, const struct m_t12_pubkey *aik,
			  const uint8_t session_key[16], uint8_t *ret_blob, size_t *ret_len)
{
	static const char label[] = "TCPA";	/* Part 1, 31.1.1: OAEP's encoding parameter */
	uint8_t plain[8 + 16 + 20];
	struct mbuf_writer w;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *l = NULL;
	size_t olen = M_T12_MODULUS_MAX;
	int r;

	mbw_init_fixed(&w, plain, sizeof(plain));
	mbw_be32(&w, ALG_AES128);		/* sessionKey: TPM_SYMMETRIC_KEY */
	mbw_be16(&w, ES_SYM_CBC_PKCS5PAD);
	mbw_be16(&w, 16);
	mbw_bytes(&w, session_key, 16);
	r = sha1(aik->raw, aik->raw_len, mbw_reserve(&w, 20));	/* idDigest */
	if (r < 0 || !mbw_ok(&w))
		goto out;
	r = m_t12_pubkey_to_pkey(ek, &key);
	if (r < 0)
		goto out;
	r = -EIO;
	ctx = EVP_PKEY_CTX_new(key, NULL);
	l = OPENSSL_malloc(4);
	if (!ctx || !l)
		goto out;
	memcpy(l, label, 4);
	if (EVP_PKEY_encrypt_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) <= 0 ||
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, 4) <= 0)
		goto out;
	l = NULL;	/* owned by ctx */
	if (EVP_PKEY_encrypt(ctx, ret_blob, &olen, plain, w.len) <= 0)
		goto out;
	*ret_len = olen;
	r = 0;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_free(l);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r == -EIO ? m_err(r, "activation blob: RSA-OAEP encryption to the EK failed") : r;
}

int m_t12_composite_digest(const struct m_pcrs *pcrs, uint32_t mask, uint8_t ret[20])
{
	uint8_t buf[2 + 3 + 4 + 20 * M_PCR_COUNT];
	struct mbuf_writer w;
	unsigned n = 0;

	if (!mask || mask >> M_PCR_COUNT)
		return m_err(-ERANGE, "PCR mask 0x%x", mask);
	if ((pcrs->present[M_SHA1] & mask) != mask)
		return m_err(-ENOENT, "the sha1 value of PCR %u is missing",
			     (unsigned)__builtin_ctz(mask & ~pcrs->present[M_SHA1]));
	for (unsigned p = 0; p < M_PCR_COUNT; p++)
		n += (mask >> p) & 1;
	mbw_init_fixed(&w, buf, sizeof(buf));
	mbw_be16(&w, 3);			/* select: TPM_PCR_SELECTION */
	mbw_u8(&w, mask & 0xff);
	mbw_u8(&w, (mask >> 8) & 0xff);
	mbw_u8(&w, (mask >> 16) & 0xff);
	mbw_be32(&w, 20 * n);			/* valueSize */
	for (unsigned p = 0; p < M_PCR_COUNT; p++)
		if (mask & (1u << p))
			mbw_bytes(&w, pcrs->v[M_SHA1][p], 20);
	return sha1(buf, w.len, ret);
}

int m_t12_external_data(const uint8_t *nonce, size_t len, uint8_t ret[20])
{
	if (len == 20) {
		memcpy(ret, nonce, 20);
		return 0;
	}
	return sha1(nonce, len, ret);
}

void m_t12_quote_info2(const uint8_t external[20], const uint8_t pcr_info[M_T12_PCRINFO_SHORT_LEN],
		       uint8_t ret[M_T12_QUOTE_INFO2_LEN])
{
	ret[0] = TAG_QUOTE_INFO2 >> 8, ret[1] = TAG_QUOTE_INFO2 & 0xff;
	memcpy(ret + 2, "QUT2", 4);
	memcpy(ret + 6, external, 20);
	memcpy(ret + 26, pcr_info, M_T12_PCRINFO_SHORT_LEN);
}

void m_t12_quote_info(const uint8_t external[20], const uint8_t digest[20], uint8_t ret[M_T12_QUOTE_INFO_LEN])
{
	memcpy(ret, (uint8_t[]){ 1, 1, 0, 0, 'Q', 'U', 'O', 'T' }, 8);
	memcpy(ret + 8, digest, 20);
	memcpy(ret + 28, external, 20);
}

int m_t12_quote_info_parse(const uint8_t *data, size_t len, struct m_t12_quote_info *ret)
{
	struct m_t12_quote_info q;
	struct mbuf_reader r;
	uint8_t sel[3] = { 0 }, head[8];
	uint16_t nsel;

	memset(&q, 0, sizeof(q));
	mbr_init(&r, data, len);
	if (!mbr_copy(&r, head, 8))
		return m_err(-EBADMSG, "neither TPM_QUOTE_INFO2 nor TPM_QUOTE_INFO (%zu bytes)", len);
	if (!memcmp(head, (uint8_t[]){ 1, 1, 0, 0, 'Q', 'U', 'O', 'T' }, 8)) {
		/* TPM_QUOTE_INFO: version, "QUOT", digestValue, externalData */
		mbr_copy(&r, q.digest, 20);
		q.external_off = r.off;
		mbr_copy(&r, q.external, 20);
		if (!mbr_ok(&r) || mbr_remaining(&r))
			return m_err(-EBADMSG, "TPM_QUOTE_INFO: %zu bytes", len);
		*ret = q;
		return 0;
	}
	/* TPM_QUOTE_INFO2: tag, "QUT2", externalData, infoShort: pcrSelection,
	 * localityAtRelease, digestAtRelease */
	if (head[0] != TAG_QUOTE_INFO2 >> 8 || head[1] != (TAG_QUOTE_INFO2 & 0xff) || memcmp(head + 2, "QUT2", 4))
		return m_err(-EBADMSG, "neither TPM_QUOTE_INFO2 nor TPM_QUOTE_INFO: not made by TPM_Quote2 or TPM_Quote");
	q.v2 = true;
	r.off = 6;
	q.external_off = 6;
	mbr_copy(&r, q.external, 20);
	nsel = mbr_be16(&r);
	if (nsel > 3 || !mbr_copy(&r, sel, nsel))
		return m_err(-EBADMSG, "TPM_QUOTE_INFO2: a PCR selection of %u bytes", nsel);
	(void)mbr_u8(&r);
	mbr_copy(&r, q.digest, 20);
	if (!mbr_ok(&r) || mbr_remaining(&r))
		return m_err(-EBADMSG, "TPM_QUOTE_INFO2: %zu bytes", len);
	q.mask = sel[0] | (uint32_t)sel[1] << 8 | (uint32_t)sel[2] << 16;
	*ret = q;
	return 0;
}
