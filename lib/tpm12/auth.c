// SPDX-License-Identifier: MIT
/*
 * TPM 1.2 authorization sessions (TPM Main 1.2 Part 1, 13; Part 3, 18):
 * OIAP and OSAP, and the HMAC every authorized command and its response
 * carry.
 *
 *   inParamDigest  = SHA1(ordinal || the "S" parameters)        (handles excluded)
 *   authValue      = HMAC-SHA1(key, inParamDigest || nonceEven || nonceOdd || continueAuthSession)
 *   outParamDigest = SHA1(returnCode || ordinal || the "S" outputs)
 *   resAuth        = HMAC-SHA1(key, outParamDigest || newNonceEven || nonceOdd || continueAuthSession)
 *
 * The key is the entity's secret for OIAP and, for OSAP, the shared secret
 * HMAC-SHA1(secret, nonceEvenOSAP || nonceOddOSAP).  Sessions are used
 * once (continueAuthSession = FALSE): the TPM closes them with the command,
 * so a session's nonceOdd is drawn when it opens (a command that encrypts a
 * second secret needs it before the parameters are written).
 */
#include <errno.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "measured/error.h"
#include "initcore.h"
#include "tpm12_priv.h"

#define ORD_OIAP 0x0000000a
#define ORD_OSAP 0x0000000b
#define ORD_FLUSH_SPECIFIC 0x000000ba
#define REQ_TRAILER 45u	/* authHandle, nonceOdd, continueAuthSession, auth */
#define RSP_TRAILER 41u	/* nonceEven, continueAuthSession, resAuth */

void t12_flush(struct m_tpm *tpm, uint32_t handle, uint32_t type)
{
	uint8_t c[32], r[64];
	struct mbuf_writer w;
	size_t n;
	uint8_t *size;

	mbw_init_fixed(&w, c, sizeof(c));
	size = mi_tpm_hdr_begin(&w, MI_T12_TAG_RQU_COMMAND, ORD_FLUSH_SPECIFIC);
	mbw_be32(&w, handle);
	mbw_be32(&w, type);
	mi_tpm_hdr_end(&w, size);
	(void)m_tpm_raw(tpm, &w, r, sizeof(r), &n);	/* best effort: nothing to do on failure */
}

static int hmac_sha1(const uint8_t key[20], const uint8_t *msg, size_t len, uint8_t out[20])
{
	unsigned int olen = 20;

	if (!HMAC(EVP_sha1(), key, 20, msg, len, out, &olen) || olen != 20)
		return m_err(-EIO, "HMAC-SHA1 failed");
	return 0;
}

int t12_oiap(struct m_tpm *tpm, const uint8_t secret[20], struct t12_session *ret)
{
	uint8_t c[16], r[64];
	struct mbuf_writer w;
	struct mbuf_reader rd;
	struct t12_session s;
	size_t n;
	uint8_t *size;
	int err;

	mbw_init_fixed(&w, c, sizeof(c));
	size = mi_tpm_hdr_begin(&w, MI_T12_TAG_RQU_COMMAND, ORD_OIAP);
	mi_tpm_hdr_end(&w, size);
	err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
	if (err == 0)
		err = mi_t12_rsp_begin(&rd, r, n, "TPM_OIAP", &tpm->last_rc);
	if (err < 0)
		return err;
	s.handle = mbr_be32(&rd);
	mbr_copy(&rd, s.even, 20);
	if (!mbr_ok(&rd) || mbr_remaining(&rd))
		return m_err(-EBADMSG, "TPM_OIAP: response of %zu bytes", n);
	if (RAND_bytes(s.odd, sizeof(s.odd)) != 1) {
		t12_flush(tpm, s.handle, T12_RT_AUTH);
		return m_err(-EIO, "no random bytes for nonceOdd");
	}
	memcpy(s.key, secret, 20);
	*ret = s;
	return 0;
}

int t12_osap(struct m_tpm *tpm, uint16_t etype, uint32_t evalue, const uint8_t secret[20], struct t12_session *ret)
{
	uint8_t c[64], r[96], odd_osap[20], even_osap[20], msg[40];
	struct mbuf_writer w;
	struct mbuf_reader rd;
	struct t12_session s;
	size_t n;
	uint8_t *size;
	int err;

	if (RAND_bytes(odd_osap, sizeof(odd_osap)) != 1)
		return m_err(-EIO, "no random bytes for nonceOddOSAP");
	mbw_init_fixed(&w, c, sizeof(c));
	size = mi_tpm_hdr_begin(&w, MI_T12_TAG_RQU_COMMAND, ORD_OSAP);
	mbw_be16(&w, etype);
	mbw_be32(&w, evalue);
	mbw_bytes(&w, odd_osap, 20);
	mi_tpm_hdr_end(&w, size);
	err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
	if (err == 0)
		err = mi_t12_rsp_begin(&rd, r, n, "TPM_OSAP", &tpm->last_rc);
	if (err < 0)
		return err;
	s.handle = mbr_be32(&rd);
	mbr_copy(&rd, s.even, 20);
	mbr_copy(&rd, even_osap, 20);
	if (!mbr_ok(&rd) || mbr_remaining(&rd))
		return m_err(-EBADMSG, "TPM_OSAP: response of %zu bytes", n);
	memcpy(msg, even_osap, 20);
	memcpy(msg + 20, odd_osap, 20);
	err = hmac_sha1(secret, msg, sizeof(msg), s.key);
	if (err == 0 && RAND_bytes(s.odd, sizeof(s.odd)) != 1)
		err = m_err(-EIO, "no random bytes for nonceOdd");
	if (err < 0) {
		t12_flush(tpm, s.handle, T12_RT_AUTH);
		OPENSSL_cleanse(&s, sizeof(s));
		return err;
	}
	*ret = s;
	OPENSSL_cleanse(&s, sizeof(s));
	return 0;
}

int t12_adip(const struct t12_session *s, bool second, const uint8_t secret[20], uint8_t ret_enc[20])
{
	uint8_t msg[40], pad[20];
	unsigned int len = 20;

	/* Part 1, 13.8 and Part 3, 10.4: XOR with SHA1(sharedSecret ||
	 * authLastNonceEven), a command's second secret with SHA1(sharedSecret
	 * || nonceOdd) */
	memcpy(msg, s->key, 20);
	memcpy(msg + 20, second ? s->odd : s->even, 20);
	if (!EVP_Digest(msg, sizeof(msg), pad, &len, EVP_sha1(), NULL))
		return m_err(-EIO, "SHA-1 failed");
	for (unsigned i = 0; i < 20; i++)
		ret_enc[i] = secret[i] ^ pad[i];
	OPENSSL_cleanse(pad, sizeof(pad));
	return 0;
}

static int sha1_2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[20])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, a, alen) &&
		 EVP_DigestUpdate(c, b, blen) && EVP_DigestFinal_ex(c, out, NULL);

	EVP_MD_CTX_free(c);
	return ok ? 0 : m_err(-EIO, "SHA-1 failed");
}

/* HMAC-SHA1(key, digest || even || odd || continue) */
static int session_hmac(const struct t12_session *s, const uint8_t digest[20], const uint8_t even[20],
			uint8_t cont, uint8_t out[20])
{
	uint8_t msg[61];

	memcpy(msg, digest, 20);
	memcpy(msg + 20, even, 20);
	memcpy(msg + 40, s->odd, 20);
	msg[60] = cont;
	return hmac_sha1(s->key, msg, sizeof(msg), out);
}

int t12_auth1_call(struct m_tpm *tpm, const uint8_t secret[20], const char *what, uint32_t ordinal,
		   const uint8_t *handles, size_t handles_len, const uint8_t *params, size_t params_len,
		   size_t out_handles_len, uint8_t *rsp, size_t cap, const uint8_t **ret_out, size_t *ret_out_len)
{
	struct t12_session s;
	int err = t12_oiap(tpm, secret, &s);

	if (err < 0)
		return err;
	err = t12_auth_call(tpm, what, ordinal, handles, handles_len, params, params_len, &s, 1, out_handles_len, rsp,
			    cap, ret_out, ret_out_len);
	OPENSSL_cleanse(&s, sizeof(s));
	return err;
}

int t12_auth_call(struct m_tpm *tpm, const char *what, uint32_t ordinal, const uint8_t *handles, size_t handles_len,
		  const uint8_t *params, size_t params_len, struct t12_session *sess, unsigned nsess,
		  size_t out_handles_len, uint8_t *rsp, size_t cap, const uint8_t **ret_out, size_t *ret_out_len)
{
	uint8_t ord[4] = { ordinal >> 24, ordinal >> 16, ordinal >> 8, ordinal }, in_digest[20], out_digest[20];
	uint8_t hdr[8];
	struct mbuf_writer w;
	struct mbuf_reader rd;
	size_t n, body;
	int err;

	if (nsess < 1 || nsess > 2)
		return m_err(-EINVAL, "%s: %u sessions", what, nsess);
	err = sha1_2(ord, 4, params, params_len, in_digest);
	if (err < 0)
		goto fail;
	mbw_init_heap(&w, 10 + handles_len + params_len + 2 * REQ_TRAILER);
	/* a heap buffer moves as it grows: the size is patched by offset below */
	(void)mi_tpm_hdr_begin(&w, nsess == 1 ? MI_T12_TAG_RQU_AUTH1 : MI_T12_TAG_RQU_AUTH2, ordinal);
	mbw_bytes(&w, handles, handles_len);
	mbw_bytes(&w, params, params_len);
	for (unsigned i = 0; i < nsess; i++) {
		uint8_t auth[20];

		if (session_hmac(&sess[i], in_digest, sess[i].even, 0, auth) < 0) {
			mbw_free(&w);
			err = m_err(-EIO, "%s: cannot compute the authorization", what);
			goto fail;
		}
		mbw_be32(&w, sess[i].handle);
		mbw_bytes(&w, sess[i].odd, 20);
		mbw_u8(&w, 0);
		mbw_bytes(&w, auth, 20);
	}
	if (mbw_ok(&w))
		mi_tpm_hdr_end(&w, w.data + 2);
	err = m_tpm_raw(tpm, &w, rsp, cap, &n);
	mbw_free(&w);
	if (err < 0)
		goto fail;
	err = mi_t12_rsp_begin(&rd, rsp, n, what, &tpm->last_rc);
	if (err < 0)
		goto fail;
	if (n < 10 + out_handles_len + nsess * RSP_TRAILER) {
		err = m_err(-EBADMSG, "%s: response of %zu bytes is too short for its authorization", what, n);
		goto fail;
	}
	body = n - 10 - nsess * RSP_TRAILER;
	/* outParamDigest: returnCode (0) || ordinal || outputs after the handles */
	memset(hdr, 0, 4);
	memcpy(hdr + 4, ord, 4);
	err = sha1_2(hdr, 8, rsp + 10 + out_handles_len, body - out_handles_len, out_digest);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < nsess; i++) {
		const uint8_t *t = rsp + 10 + body + i * RSP_TRAILER;
		uint8_t want[20];

		err = session_hmac(&sess[i], out_digest, t, t[20], want);
		if (err < 0)
			return err;
		if (CRYPTO_memcmp(want, t + 21, 20) != 0)
			return m_err(-EBADMSG, "%s: the response's authorization %u does not verify (not from the TPM, or altered)",
				     what, i + 1);
	}
	*ret_out = rsp + 10;
	*ret_out_len = body;
	return 0;
fail:
	/* a failed command may leave its sessions open: close them */
	for (unsigned i = 0; i < nsess; i++)
		t12_flush(tpm, sess[i].handle, T12_RT_AUTH);
	return err;
}
