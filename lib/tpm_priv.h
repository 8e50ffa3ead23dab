/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TPM_PRIV_H
#define MEASURED_TPM_PRIV_H

/*
 * The inside of struct m_tpm, shared by the library files that send TPM
 * commands of their own (lib/tpm.c, lib/attest/).  Not installed.
 */

#include <stdint.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tcti.h>
#include "measured/tpm.h"

struct m_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	uint32_t last_rc;
	char *tcti_name;
};

/**
 * m_tpm_rc_fail() - keep @rc in @tpm for m_tpm_last_rc(), set the message
 * "CMD: 0xRC DECODED (TCTI NAME)" and return -EIO.
 */
int m_tpm_rc_fail(struct m_tpm *tpm, const char *cmd, TSS2_RC rc);

#endif
