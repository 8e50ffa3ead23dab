// SPDX-License-Identifier: MIT
/*
 * TPM2_ActivateCredential (TPM 2.0 Part 3, 12.5).  The activation is what
 * proves to the verifier that the AK lives in the same TPM as the EK: only
 * that EK's private part recovers the seed, and the TPM releases the
 * credential only if the name bound into it is the AK's.
 *
 * The EK of the TCG default templates (EK Credential Profile 2.0, B.3.3)
 * has no userWithAuth: its authPolicy is PolicySecret(TPM_RH_ENDORSEMENT),
 * so the EK's handle is authorised by a policy session in which that
 * assertion was made (Part 3, 23.4).  The endorsement auth is empty here,
 * as on every TPM that was not taken ownership of.
 */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include "measured/attest.h"
#include "measured/error.h"
#include "../tpm_priv.h"

static int ek_policy_session(struct m_tpm *tpm, ESYS_TR *ret)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TPM2B_TIMEOUT *timeout = NULL;
	TPMT_TK_AUTH *ticket = NULL;
	ESYS_TR s = ESYS_TR_NONE;
	TSS2_RC rc;

	rc = Esys_StartAuthSession(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &s);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_StartAuthSession(policy)", rc);
	rc = Esys_PolicySecret(tpm->esys, ESYS_TR_RH_ENDORSEMENT, s, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			       ESYS_TR_NONE, NULL, NULL, NULL, 0, &timeout, &ticket);
	Esys_Free(timeout);
	Esys_Free(ticket);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_FlushContext(tpm->esys, s);
		return m_tpm_rc_fail(tpm, "TPM2_PolicySecret(endorsement)", rc);
	}
	*ret = s;
	return 0;
}

int m_tpm_activate_credential(struct m_tpm *tpm, uint32_t ak_handle, uint32_t ek_handle,
			      const TPM2B_ID_OBJECT *blob, const TPM2B_ENCRYPTED_SECRET *secret,
			      TPM2B_DIGEST *ret)
{
	TPM2B_DIGEST *cert = NULL;
	ESYS_TR s = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	r = ek_policy_session(tpm, &s);
	if (r < 0)
		return r;
	rc = Esys_ActivateCredential(tpm->esys, ak_handle, ek_handle, ESYS_TR_PASSWORD, s, ESYS_TR_NONE,
				     blob, secret, &cert);
	/*
	 * The session has continueSession set (ESAPI's default), so it stays
	 * loaded after the command: without a resource manager it would
	 * pile up in the TPM.
	 */
	Esys_FlushContext(tpm->esys, s);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_ActivateCredential", rc);
	*ret = *cert;
	explicit_bzero(cert->buffer, sizeof(cert->buffer));
	Esys_Free(cert);
	return 0;
}
