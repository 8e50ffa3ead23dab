// SPDX-License-Identifier: MIT
/*
 * TPM_CreateWrapKey (TPM Main 1.2 Part 3, 10.4): a signing key under the
 * SRK.  Attestation needs none (its key is the identity key of
 * TPM_MakeIdentity); it is here so that a signature by a key of the same
 * TPM that is no identity key can be shown to a verifier.
 *
 * The SRK authorizes through an OSAP session (the command requires one),
 * whose shared secret encrypts the new key's usage secret with
 * SHA1(sharedSecret || nonceEven) and its migration secret with
 * SHA1(sharedSecret || nonceOdd).
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include "measured/attest12.h"
#include "measured/error.h"
#include "tpm12_priv.h"

#define ORD_CREATE_WRAP_KEY 0x0000001f
#define RSP_MAX 4096u

int m_tpm12_create_signing_key(struct m_tpm *tpm, const uint8_t srk_auth[20], const uint8_t key_auth[20],
			       uint8_t *ret_blob, size_t *ret_blob_len)
{
	static const uint8_t no_migration[20];	/* a key that is not migratable keeps tpmProof instead */
	const char *what = "TPM_CreateWrapKey";
	uint8_t rsp[RSP_MAX], params[128], h[4];
	uint8_t usage_enc[20], migration_enc[20];
	struct t12_session s;
	struct mbuf_writer w;
	struct mbuf_reader r;
	const uint8_t *out;
	size_t out_len;
	int err;

	err = t12_osap(tpm, T12_ET_KEYHANDLE, T12_KH_SRK, srk_auth, &s);
	if (err < 0)
		return err;
	err = t12_adip(&s, false, key_auth, usage_enc);
	if (err == 0)
		err = t12_adip(&s, true, no_migration, migration_enc);
	if (err < 0) {
		t12_flush(tpm, s.handle, T12_RT_AUTH);
		OPENSSL_cleanse(&s, sizeof(s));
		return err;
	}
	mbw_init_fixed(&w, h, sizeof(h));
	mbw_be32(&w, T12_KH_SRK);		/* parentHandle */
	mbw_init_fixed(&w, params, sizeof(params));
	mbw_bytes(&w, usage_enc, 20);		/* dataUsageAuth */
	mbw_bytes(&w, migration_enc, 20);	/* dataMigrationAuth */
	t12_key_info(&w, T12_KEY_SIGNING);	/* keyInfo */
	err = t12_auth_call(tpm, what, ORD_CREATE_WRAP_KEY, h, 4, params, w.len, &s, 1, 0, rsp, sizeof(rsp), &out,
			    &out_len);
	OPENSSL_cleanse(&s, sizeof(s));
	if (err < 0)
		return err;
	/* wrappedKey: a TPM_KEY, nothing after it */
	mbr_init(&r, out, out_len);
	err = t12_key_read(&r, NULL);
	if (err < 0)
		return m_err_prefix(err, "%s: wrappedKey", what);
	if (mbr_remaining(&r) || out_len > M_T12_KEYBLOB_MAX)
		return m_err(-EBADMSG, "%s: malformed answer (%zu bytes)", what, out_len);
	memcpy(ret_blob, out, out_len);
	*ret_blob_len = out_len;
	return 0;
}
