// SPDX-License-Identifier: MIT
/*
 * The TPM side of TPM 1.2 attestation (TPM Main 1.2 Part 3): 15.1
 * TPM_MakeIdentity, 15.2 TPM_ActivateIdentity, 10.5 TPM_LoadKey2, 16.5
 * TPM_Quote2, TPM_OwnerReadInternalPub (ordinal 0x81), TPM_FlushSpecific.
 * Authorizations through lib/tpm12/auth.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "initcore.h"
#include "tpm12_priv.h"

#define ORD_MAKE_IDENTITY 0x00000079
#define ORD_ACTIVATE_IDENTITY 0x0000007a
#define ORD_LOAD_KEY2 0x00000041
#define ORD_QUOTE2 0x0000003e
#define ORD_QUOTE 0x00000016
#define ORD_OWNER_READ_INTERNAL_PUB 0x00000081
#define ORD_NV_READ_VALUE 0x000000cf
/* TPM_NV_INDEX_EKCert with the D bit (Part 2, 19.1.2): where a TPM 1.2 keeps
 * its EK certificate, as TCG_PCCLIENT_STORED_CERT (PC Client spec 1.2, 7.4.4) */
#define NV_INDEX_EKCERT 0x1000f000
#define NV_CHUNK 512u
#define TAG_STORED_CERT 0x1001
#define TAG_FULL_CERT 0x1002
#define RSP_MAX 4096u

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

int m_tpm12_ek_public(struct m_tpm *tpm, const uint8_t owner_auth[20], struct m_t12_pubkey *ret)
{
	uint8_t rsp[RSP_MAX], param[4];
	const uint8_t *out;
	size_t out_len;
	int err;

	/* keyHandle is in the HMAC here (a parameter, not a handle): so a
	 * man in the middle cannot swap the SRK's handle for the EK's */
	be32(param, T12_KH_EK);
	err = t12_auth1_call(tpm, owner_auth, "TPM_OwnerReadInternalPub", ORD_OWNER_READ_INTERNAL_PUB, NULL, 0, param,
			     4, 0, rsp, sizeof(rsp), &out, &out_len);
	if (err < 0)
		return err;
	return m_t12_pubkey_parse(out, out_len, ret);
}

/* TPM_NV_ReadValue of @len bytes at @off, owner authorized (Part 3, 20.4). */
static int nv_read(struct m_tpm *tpm, const uint8_t owner_auth[20], uint32_t index, uint32_t off, uint32_t len,
		   uint8_t *out)
{
	uint8_t rsp[RSP_MAX], params[12];
	struct mbuf_reader r;
	const uint8_t *o;
	size_t olen;
	int err;

	be32(params, index);
	be32(params + 4, off);
	be32(params + 8, len);
	err = t12_auth1_call(tpm, owner_auth, "TPM_NV_ReadValue", ORD_NV_READ_VALUE, NULL, 0, params, 12, 0, rsp,
			     sizeof(rsp), &o, &olen);
	if (err < 0)
		return tpm->last_rc == MI_T12_BADINDEX ? m_err(-ENOENT, "the TPM has no EK certificate (NV index 0x%08x)", index) : err;
	mbr_init(&r, o, olen);
	if (mbr_be32(&r) != len || !mbr_copy(&r, out, len) || mbr_remaining(&r))
		return m_err(-EBADMSG, "TPM_NV_ReadValue: %zu bytes for %u asked", olen, len);
	return 0;
}

int m_tpm12_ek_cert_read(struct m_tpm *tpm, const uint8_t owner_auth[20], uint8_t **ret, size_t *ret_len)
{
	uint8_t head[7], *der;
	struct mbuf_reader r;
	uint16_t tag, size, tag2;
	size_t len;
	int err = nv_read(tpm, owner_auth, NV_INDEX_EKCERT, 0, sizeof(head), head);

	if (err < 0)
		return err;
	/* TCG_PCCLIENT_STORED_CERT: tag, certType (0: full), certSize, then
	 * TCG_FULL_CERT: tag, the DER certificate */
	mbr_init(&r, head, sizeof(head));
	tag = mbr_be16(&r);
	(void)mbr_u8(&r);
	size = mbr_be16(&r);
	tag2 = mbr_be16(&r);
	if (tag != TAG_STORED_CERT || tag2 != TAG_FULL_CERT || size < 3 || size - 2u > M_EK_CERT_MAX)
		return m_err(-EBADMSG, "EK certificate NV area: tags 0x%04x/0x%04x, size %u", tag, tag2, size);
	len = size - 2u;
	der = malloc(len);
	if (!der)
		return -ENOMEM;
	for (size_t off = 0; off < len && err == 0; off += NV_CHUNK) {
		uint32_t n = len - off < NV_CHUNK ? (uint32_t)(len - off) : NV_CHUNK;

		err = nv_read(tpm, owner_auth, NV_INDEX_EKCERT, (uint32_t)(sizeof(head) + off), n, der + off);
	}
	if (err < 0) {
		free(der);
		return err;
	}
	*ret = der;
	*ret_len = len;
	return 0;
}

int m_tpm12_make_identity(struct m_tpm *tpm, const uint8_t owner_auth[20], const uint8_t srk_auth[20],
			  const uint8_t aik_auth[20], const uint8_t label_digest[20], uint8_t *ret_blob,
			  size_t *ret_blob_len, uint8_t *ret_binding, size_t *ret_binding_len)
{
	const char *what = "TPM_MakeIdentity";
	uint8_t rsp[RSP_MAX], params[128], enc[20];
	struct t12_session s[2];
	struct mbuf_writer w;
	struct mbuf_reader r;
	const uint8_t *out, *binding;
	size_t out_len, key_len;
	uint32_t bsize;
	int err;

	/* SRK first (OIAP), owner second (OSAP: its shared secret encrypts identityAuth) */
	err = t12_oiap(tpm, srk_auth, &s[0]);
	if (err < 0)
		return err;
	err = t12_osap(tpm, T12_ET_OWNER, T12_KH_OWNER, owner_auth, &s[1]);
	if (err < 0) {
		t12_flush(tpm, s[0].handle, 2);
		return err;
	}
	err = t12_adip(&s[1], false, aik_auth, enc);
	if (err < 0) {
		/* no command will end the two sessions: they are flushed, not left to fill the TPM */
		t12_flush(tpm, s[0].handle, 2);
		t12_flush(tpm, s[1].handle, 2);
		OPENSSL_cleanse(&s, sizeof(s));
		return err;
	}
	mbw_init_fixed(&w, params, sizeof(params));
	mbw_bytes(&w, enc, 20);			/* identityAuth (TPM_ENCAUTH) */
	mbw_bytes(&w, label_digest, 20);	/* labelPrivCADigest */
	t12_key_info(&w, T12_KEY_IDENTITY);	/* idKeyParams */
	err = t12_auth_call(tpm, what, ORD_MAKE_IDENTITY, NULL, 0, params, w.len, s, 2, 0, rsp, sizeof(rsp), &out,
			    &out_len);
	OPENSSL_cleanse(&s, sizeof(s));
	if (err < 0)
		return err;
	mbr_init(&r, out, out_len);
	err = t12_key_read(&r, NULL);
	if (err < 0)
		return m_err_prefix(err, "%s: idKey", what);
	key_len = r.off;
	bsize = mbr_be32(&r);
	binding = mbr_ptr(&r, bsize);
	if (!binding || mbr_remaining(&r) || bsize > M_T12_SIG_MAX || key_len > M_T12_KEYBLOB_MAX)
		return m_err(-EBADMSG, "%s: malformed answer (key %zu bytes, binding %u bytes)", what, key_len, bsize);
	memcpy(ret_blob, out, key_len);
	*ret_blob_len = key_len;
	memcpy(ret_binding, binding, bsize);
	*ret_binding_len = bsize;
	return 0;
}

int m_tpm12_load_key(struct m_tpm *tpm, const uint8_t srk_auth[20], const uint8_t *blob, size_t len,
		     uint32_t *ret_handle)
{
	uint8_t rsp[RSP_MAX], h[4];
	struct mbuf_reader r;
	const uint8_t *out;
	size_t out_len;
	uint32_t handle;
	int err = m_t12_key_pubkey(blob, len, NULL);

	if (err < 0)
		return err;
	be32(h, T12_KH_SRK);
	err = t12_auth1_call(tpm, srk_auth, "TPM_LoadKey2", ORD_LOAD_KEY2, h, 4, blob, len, 4, rsp, sizeof(rsp), &out,
			     &out_len);
	if (err < 0)
		return err;
	mbr_init(&r, out, out_len);
	handle = mbr_be32(&r);
	if (!mbr_ok(&r) || mbr_remaining(&r))
		return m_err(-EBADMSG, "TPM_LoadKey2: answer of %zu bytes", out_len);
	*ret_handle = handle;
	return 0;
}

void m_tpm12_flush_key(struct m_tpm *tpm, uint32_t handle)
{
	t12_flush(tpm, handle, T12_RT_KEY);
}

int m_tpm12_activate_identity(struct m_tpm *tpm, uint32_t aik, const uint8_t aik_auth[20],
			      const uint8_t owner_auth[20], const uint8_t *blob, size_t len, uint8_t ret_key[16])
{
	const char *what = "TPM_ActivateIdentity";
	uint8_t rsp[RSP_MAX], params[4 + M_T12_MODULUS_MAX], h[4], key[16];
	struct t12_session s[2];
	struct mbuf_reader r;
	const uint8_t *out;
	size_t out_len;
	uint32_t alg;
	uint16_t size;
	int err;

	if (len > M_T12_MODULUS_MAX)
		return m_err(-EMSGSIZE, "%s: blob of %zu bytes, at most %u", what, len, M_T12_MODULUS_MAX);
	err = t12_oiap(tpm, aik_auth, &s[0]);
	if (err < 0)
		return err;
	err = t12_oiap(tpm, owner_auth, &s[1]);
	if (err < 0) {
		t12_flush(tpm, s[0].handle, 2);
		return err;
	}
	be32(h, aik);
	be32(params, (uint32_t)len);
	memcpy(params + 4, blob, len);
	err = t12_auth_call(tpm, what, ORD_ACTIVATE_IDENTITY, h, 4, params, 4 + len, s, 2, 0, rsp, sizeof(rsp), &out,
			    &out_len);
	if (err < 0)
		return err;
	/* TPM_SYMMETRIC_KEY: algId, encScheme, size, data */
	mbr_init(&r, out, out_len);
	alg = mbr_be32(&r);
	(void)mbr_be16(&r);
	size = mbr_be16(&r);
	if (!mbr_ok(&r) || size != 16 || mbr_remaining(&r) != 16)
		return m_err(-EBADMSG, "%s: a session key of %u bytes (algorithm %u), AES-128 expected", what, size, alg);
	mbr_copy(&r, key, 16);
	memcpy(ret_key, key, 16);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(rsp, sizeof(rsp));
	return 0;
}

int m_tpm12_quote(struct m_tpm *tpm, uint32_t aik, const uint8_t aik_auth[20], const uint8_t nonce[20],
		  uint32_t mask, uint8_t ret_digest[20], uint8_t *ret_sig, size_t *ret_sig_len)
{
	const char *what = "TPM_Quote";
	uint8_t rsp[RSP_MAX], params[20 + 5], h[4];
	struct mbuf_reader r, comp;
	const uint8_t *out, *sig, *cstart;
	size_t out_len;
	uint32_t vsize, ssize;
	uint16_t nsel;
	unsigned int dlen = 20;
	int err;

	if (!mask || mask >> 24)
		return m_err(-ERANGE, "%s: PCR mask 0x%x (PCRs 0-23, at least one)", what, mask);
	be32(h, aik);
	memcpy(params, nonce, 20);		/* externalData */
	params[20] = 0, params[21] = 3;		/* targetPCR: TPM_PCR_SELECTION */
	params[22] = mask & 0xff, params[23] = (mask >> 8) & 0xff, params[24] = (mask >> 16) & 0xff;
	err = t12_auth1_call(tpm, aik_auth, what, ORD_QUOTE, h, 4, params, sizeof(params), 0, rsp, sizeof(rsp), &out,
			     &out_len);
	if (err < 0)
		return err;
	/* pcrData: TPM_PCR_COMPOSITE (select, valueSize, values), then sigSize, sig */
	mbr_init(&r, out, out_len);
	cstart = r.data + r.off;
	nsel = mbr_be16(&r);
	mbr_skip(&r, nsel);
	vsize = mbr_be32(&r);
	if (!mbr_ok(&r) || nsel > 3 || vsize > 20u * 24u || !mbr_sub(&r, vsize, &comp))
		return m_err(-EBADMSG, "%s: malformed TPM_PCR_COMPOSITE", what);
	if (!EVP_Digest(cstart, (size_t)(r.data + r.off - cstart), ret_digest, &dlen, EVP_sha1(), NULL))
		return m_err(-EIO, "SHA-1 failed");
	ssize = mbr_be32(&r);
	sig = mbr_ptr(&r, ssize);
	if (!sig || mbr_remaining(&r) || ssize > M_T12_SIG_MAX)
		return m_err(-EBADMSG, "%s: malformed answer of %zu bytes", what, out_len);
	memcpy(ret_sig, sig, ssize);
	*ret_sig_len = ssize;
	return 0;
}

int m_tpm12_quote2(struct m_tpm *tpm, uint32_t aik, const uint8_t aik_auth[20], const uint8_t nonce[20],
		   uint32_t mask, uint8_t ret_pcr_info[M_T12_PCRINFO_SHORT_LEN], uint8_t *ret_sig, size_t *ret_sig_len)
{
	const char *what = "TPM_Quote2";
	uint8_t rsp[RSP_MAX], params[20 + 5 + 1], h[4];
	struct mbuf_reader r;
	const uint8_t *out, *info, *sig;
	size_t out_len;
	uint32_t vsize, ssize;
	int err;

	if (!mask || mask >> 24)
		return m_err(-ERANGE, "%s: PCR mask 0x%x (PCRs 0-23, at least one)", what, mask);
	be32(h, aik);
	memcpy(params, nonce, 20);		/* externalData */
	params[20] = 0, params[21] = 3;		/* TPM_PCR_SELECTION.sizeOfSelect */
	params[22] = mask & 0xff, params[23] = (mask >> 8) & 0xff, params[24] = (mask >> 16) & 0xff;
	params[25] = 0;				/* addVersion: FALSE */
	err = t12_auth1_call(tpm, aik_auth, what, ORD_QUOTE2, h, 4, params, sizeof(params), 0, rsp, sizeof(rsp), &out,
			     &out_len);
	if (err < 0)
		return err;
	mbr_init(&r, out, out_len);
	info = mbr_ptr(&r, M_T12_PCRINFO_SHORT_LEN);
	vsize = mbr_be32(&r);
	mbr_skip(&r, vsize);
	ssize = mbr_be32(&r);
	sig = mbr_ptr(&r, ssize);
	if (!info || !sig || mbr_remaining(&r) || ssize > M_T12_SIG_MAX)
		return m_err(-EBADMSG, "%s: malformed answer of %zu bytes", what, out_len);
	memcpy(ret_pcr_info, info, M_T12_PCRINFO_SHORT_LEN);
	memcpy(ret_sig, sig, ssize);
	*ret_sig_len = ssize;
	return 0;
}
