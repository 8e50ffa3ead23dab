/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TPM_H
#define MEASURED_TPM_H

/*
 * TPM 2.0 access through tpm2-tss (ESAPI + tctildr).  The TCTI string is
 * tctildr's: "device:/dev/tpmrm0", "swtpm:path=/run/sock",
 * "swtpm:host=127.0.0.1,port=2321", "mssim:...".
 * TPM response codes are kept in the context (m_tpm_last_rc()) and decoded
 * into the error message; return values stay negative errno (-EIO for a
 * TPM error, -ENODEV when no TPM can be reached).
 */

#include <stdint.h>
#include "measured/digest.h"
#include "measured/pcrs.h"

struct m_tpm;

int m_tpm_open(const char *tcti, struct m_tpm **ret);
void m_tpm_close(struct m_tpm *tpm);
uint32_t m_tpm_last_rc(const struct m_tpm *tpm);

/** m_tpm_banks() - the banks with at least one PCR allocated. */
int m_tpm_banks(struct m_tpm *tpm, unsigned *ret_banks);
/**
 * m_tpm_pcr_read() - read @pcrs in @banks, as many TPM2_PCR_Read calls as it
 * takes (a response carries at most 8 digests).
 */
int m_tpm_pcr_read(struct m_tpm *tpm, unsigned banks, uint32_t pcrs, struct m_pcrs *ret);
/** m_tpm_pcr_extend() - one TPM2_PCR_Extend with every bank in @d. */
int m_tpm_pcr_extend(struct m_tpm *tpm, unsigned pcr, const struct m_digests *d);

#endif
