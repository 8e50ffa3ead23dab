// SPDX-License-Identifier: MIT
/*
 * Evidence from a TPM 1.2: TPM_Quote2 with the AIK over the sha1 PCRs, then
 * the PCR values, as lib/attest/quote.c does for TPM 2.0 (and checked with
 * the verifier's own m_quote_verify(), re-quoted if a PCR moved between the
 * quote and the reads).  The evidence carries the signed TPM_QUOTE_INFO2,
 * the raw signature and the AIK's TPM_PUBKEY (docs/evidence.md).
 */
#include <errno.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "tpm12_priv.h"

#define QUOTE_ATTEMPTS 4

int m_attest_quote12(struct m_tpm *tpm, const struct m_quote_params *p, struct m_evidence **ret)
{
	uint8_t ext[20], info[M_T12_PCRINFO_SHORT_LEN];
	struct m_t12_pubkey aik;
	struct m_evidence *ev = NULL;
	struct m_quote_check c = { 0 };
	uint32_t handle = 0;
	int r;

	if (!p->aik_blob || !p->aik_auth || !p->srk_auth)
		return m_err(-EINVAL, "a TPM 1.2 quote needs the AIK's key blob and the AIK and SRK secrets");
	if (p->banks != M_BANK_BIT(M_SHA1))
		return m_err(-ENOENT, "a TPM 1.2 quotes the sha1 bank only");
	if (!p->pcrs || (p->pcrs >> M_PCR_COUNT))
		return m_err(-EINVAL, "nothing to quote (PCRs 0x%x)", p->pcrs);
	if (p->nonce_len > M_NONCE_MAX)
		return m_err(-EINVAL, "nonce of %zu bytes (at most %zu)", p->nonce_len, M_NONCE_MAX);
	r = m_t12_key_pubkey(p->aik_blob, p->aik_blob_len, &aik);
	if (r < 0)
		return m_err_prefix(r, "the AIK");
	r = m_t12_external_data(p->nonce, p->nonce_len, ext);
	if (r < 0)
		return r;
	ev = m_evidence_new();
	if (!ev)
		return -ENOMEM;
	ev->tpm_family = 12;
	memcpy(ev->ak_pub, aik.raw, aik.raw_len);
	ev->ak_pub_len = aik.raw_len;
	memcpy(ev->nonce, p->nonce, p->nonce_len);
	ev->nonce_len = p->nonce_len;
	r = m_tpm12_load_key(tpm, p->srk_auth, p->aik_blob, p->aik_blob_len, &handle);
	if (r < 0)
		goto out;
	for (int i = 0; i < QUOTE_ATTEMPTS; i++) {
		if (p->legacy_quote) {
			uint8_t digest[20];

			r = m_tpm12_quote(tpm, handle, p->aik_auth, ext, p->pcrs, digest, ev->sig, &ev->sig_len);
			if (r < 0)
				goto out;
			m_t12_quote_info(ext, digest, ev->attest);
			ev->attest_len = M_T12_QUOTE_INFO_LEN;
		} else {
			r = m_tpm12_quote2(tpm, handle, p->aik_auth, ext, p->pcrs, info, ev->sig, &ev->sig_len);
			if (r < 0)
				goto out;
			m_t12_quote_info2(ext, info, ev->attest);
			ev->attest_len = M_T12_QUOTE_INFO2_LEN;
		}
		memset(&ev->pcrs, 0, sizeof(ev->pcrs));
		r = m_tpm_pcr_read(tpm, M_BANK_BIT(M_SHA1), p->pcrs, &ev->pcrs);
		if (r < 0)
			goto out;
		c.tpm_family = 12;
		c.aik12 = &aik;
		r = m_quote_self_check(&c, ev, p->nonce, p->nonce_len);
		if (r != -EAGAIN)
			break;
	}
	if (r == -EAGAIN)
		r = m_err(-EIO, "the PCRs changed during each of %d quotes", QUOTE_ATTEMPTS);
	if (r < 0)
		goto out;
	*ret = ev;
	ev = NULL;
out:
	if (handle)
		m_tpm12_flush_key(tpm, handle);
	m_evidence_free(ev);
	return r;
}
