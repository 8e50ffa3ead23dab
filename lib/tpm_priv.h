/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TPM_PRIV_H
#define MEASURED_TPM_PRIV_H

/*
 * The inside of struct m_tpm, shared by the library files that send TPM
 * commands of their own (lib/tpm.c, lib/attest/).  Not installed.
 */

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tcti.h>
#include "measured/buf.h"
#include "measured/tpm.h"
#include "tpm12.h"

struct m_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;	/* NULL on a TPM 1.2 */
	uint32_t last_rc;
	char *tcti_name;
	int family;		/* 20 or 12 */
	unsigned npcr12;	/* TPM 1.2: how many PCRs */
};

/**
 * m_tpm_rc_fail() - keep @rc in @tpm for m_tpm_last_rc(), set the message
 * "CMD: 0xRC DECODED (TCTI NAME)" and return -EIO.
 */
int m_tpm_rc_fail(struct m_tpm *tpm, const char *cmd, TSS2_RC rc);

/* ---- TPM 1.2 (lib/tpm12/) ---- */

/** m_tpm_raw() - one command's bytes through the TCTI, the response into @rsp (@cap bytes). */
int m_tpm_raw(struct m_tpm *tpm, const struct mbuf_writer *cmd, uint8_t *rsp, size_t cap, size_t *ret_len);
/** m_tpm12_start() - the PCR count (TPM_Startup(ST_CLEAR) first if the TPM was never started). */
int m_tpm12_start(struct m_tpm *tpm);
int m_tpm12_pcr_read1(struct m_tpm *tpm, unsigned pcr, uint8_t ret[MI_T12_DIGEST_LEN]);
/** m_tpm12_pcr_read() - one TPM_PCRRead per PCR of @pcrs; only the sha1 bank exists. */
int m_tpm12_pcr_read(struct m_tpm *tpm, unsigned banks, uint32_t pcrs, struct m_pcrs *out);
int m_tpm12_extend(struct m_tpm *tpm, unsigned pcr, const struct m_digests *d);

#endif
