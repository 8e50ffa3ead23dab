// SPDX-License-Identifier: MIT
/*
 * Making evidence: TPM2_Quote (TPM 2.0 Part 3, 18.4) over the chosen PCRs
 * with the AK, then the PCR values themselves.  The two are separate
 * commands, so a PCR can move in between; the quote is checked against the
 * values read afterwards (with the verifier's own code) and taken again if
 * they differ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "../tpm_priv.h"

#define QUOTE_ATTEMPTS 4

static void build_selection(unsigned banks, uint32_t pcrs, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	for_each_bank(b, banks) {
		TPMS_PCR_SELECTION *s = &sel->pcrSelections[sel->count++];

		s->hash = m_bank_info(b)->tpm_alg;
		s->sizeofSelect = 3;	/* 24 PCRs, the PC Client minimum */
		s->pcrSelect[0] = pcrs & 0xff;
		s->pcrSelect[1] = (pcrs >> 8) & 0xff;
		s->pcrSelect[2] = (pcrs >> 16) & 0xff;
	}
}

static int quote_once(struct m_tpm *tpm, ESYS_TR ak, const struct m_quote_params *p,
		      const TPML_PCR_SELECTION *sel, struct m_evidence *ev)
{
	TPM2B_DATA qual = { 0 };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };	/* the AK's own scheme */
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *sig = NULL;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	qual.size = (uint16_t)p->nonce_len;
	memcpy(qual.buffer, p->nonce, p->nonce_len);
	rc = Esys_Quote(tpm->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual, &scheme, sel,
			&quoted, &sig);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_Quote", rc);
	if (quoted->size > sizeof(ev->attest) ||
	    Tss2_MU_TPMT_SIGNATURE_Marshal(sig, ev->sig, sizeof(ev->sig), &off) != TSS2_RC_SUCCESS) {
		r = m_err(-EIO, "TPM2_Quote: answer does not fit the evidence");
		goto out;
	}
	memcpy(ev->attest, quoted->attestationData, quoted->size);
	ev->attest_len = quoted->size;
	ev->sig_len = off;
	r = m_tpm_pcr_read(tpm, p->banks, p->pcrs, &ev->pcrs);
out:
	Esys_Free(quoted);
	Esys_Free(sig);
	return r;
}

int m_attest_quote(struct m_tpm *tpm, const struct m_quote_params *p, struct m_evidence **ret)
{
	TPML_PCR_SELECTION sel;
	TPM2B_PUBLIC pub, tmpl;
	struct m_evidence *ev = NULL;
	struct m_quote_check c = { 0 };
	ESYS_TR ak = ESYS_TR_NONE;
	size_t off = 0;
	int r;

	if (m_tpm_family(tpm) == 12)
		return m_attest_quote12(tpm, p, ret);
	if (p->nonce_len > M_NONCE_MAX)
		return m_err(-EINVAL, "nonce of %zu bytes (at most %zu)", p->nonce_len, M_NONCE_MAX);
	if (!p->banks || !p->pcrs || (p->pcrs >> M_PCR_COUNT))
		return m_err(-EINVAL, "nothing to quote (banks 0x%x, PCRs 0x%x)", p->banks, p->pcrs);
	if (p->ak_handle) {
		r = m_tpm_load_persistent(tpm, p->ak_handle, &ak, &pub);
	} else {
		m_ak_template(p->ak_alg, &tmpl);
		r = m_tpm_create_primary(tpm, &tmpl, &ak, &pub);
	}
	if (r < 0)
		return r;
	ev = m_evidence_new();
	if (!ev) {
		r = -ENOMEM;
		goto out;
	}
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, ev->ak_pub, sizeof(ev->ak_pub), &off) != TSS2_RC_SUCCESS) {
		r = m_err(-EIO, "cannot marshal the AK's public area");
		goto out;
	}
	ev->ak_pub_len = off;
	memcpy(ev->nonce, p->nonce, p->nonce_len);
	ev->nonce_len = p->nonce_len;
	build_selection(p->banks, p->pcrs, &sel);
	for (int i = 0; i < QUOTE_ATTEMPTS; i++) {
		memset(&ev->pcrs, 0, sizeof(ev->pcrs));
		r = quote_once(tpm, ak, p, &sel, ev);
		if (r < 0)
			goto out;
		c.ak = &pub.publicArea;
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
	m_evidence_free(ev);
	m_tpm_flush(tpm, ak);
	return r;
}
