// SPDX-License-Identifier: MIT
/*
 * Evidence parsing and quote verification on arbitrary bytes: the JSON
 * document, base64 fields, then libtss2-mu's unmarshalling of TPMS_ATTEST,
 * TPMT_SIGNATURE and TPM2B_PUBLIC and the event log parsers, through
 * m_evidence_verify() with the document's own AK as the trusted one.
 * Any input may fail; none may crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include "measured/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_evidence *ev;
	struct m_verify_result res;
	TPMT_PUBLIC ak;

	if (m_evidence_from_json((const char *)data, size, &ev) < 0)
		return 0;
	if (m_tpm_public_parse(ev->ak_pub, ev->ak_pub_len, &ak) == 0)
		m_evidence_verify(ev, &ak, NULL, ev->nonce, ev->nonce_len, NULL, &res);
	m_evidence_free(ev);
	return 0;
}
