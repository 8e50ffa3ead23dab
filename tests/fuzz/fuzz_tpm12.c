// SPDX-License-Identifier: MIT
/*
 * The TPM 1.2 parsers: responses to the init's commands
 * (lib/initcore/tpm12_wire.c), and the structures a verifier reads from
 * outside (lib/tpm12/key12.c, lib/attest/quote12.c, quote12_tqt.c): TPM_KEY,
 * TPM_PUBKEY, TPM_QUOTE_INFO2, tpm-quote-tools' TssBlob and PCR values.  Inputs up to MI_TPM_BUF_MAX bytes, as a TPM answers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "measured/attest12.h"
#include "initcore.h"
#include "tpm12.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d[20];
	struct m_t12_pubkey k;
	struct mbuf_reader r;
	unsigned n;
	uint32_t mask, rc;

	if (size > MI_TPM_BUF_MAX)
		return 0;
	(void)mi_tpm_family(data, size);
	(void)mi_t12_rsp_begin(&r, data, size, "fuzz", &rc);
	(void)mi_t12_startup_rsp(data, size);
	if (mi_t12_getcap_npcr_rsp(data, size, &n) == 0 && (n == 0 || n > MI_T12_PCR_MAX))
		__builtin_trap();
	(void)mi_t12_extend_rsp(data, size, d);
	(void)mi_t12_pcrread_rsp(data, size, d);
	if (m_t12_key_pubkey(data, size, &k) == 0 && (k.n_len > sizeof(k.n) || k.raw_len > sizeof(k.raw)))
		__builtin_trap();
	if (m_t12_pubkey_parse(data, size, &k) == 0 && (k.raw_len != size || k.n_len > sizeof(k.n)))
		__builtin_trap();
	{
		struct m_t12_quote_info q;

		if (m_t12_quote_info_parse(data, size, &q) == 0 && ((q.mask >> 24) || q.external_off + 20 > size))
			__builtin_trap();
	}
	if (m_t12_tssblob_parse(data, size, &k) == 0 && k.raw_len > sizeof(k.raw))
		__builtin_trap();
	{
		struct m_pcrs p;

		if (m_t12_pcrvals_parse((const char *)data, size, &p, &mask) == 0 && (!mask || mask >> 24))
			__builtin_trap();
	}
	return 0;
}
