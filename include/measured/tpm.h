/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TPM_H
#define MEASURED_TPM_H

/*
 * TPM access: TPM 2.0 through tpm2-tss (ESAPI + tctildr); a TPM 1.2 through
 * the same TCTI with the project's own 1.2 commands (measured/tpm12.h).
 * m_tpm_open() finds out which family it faces: the kernel's
 * tpm_version_major for a device, else the answer to a TPM 2.0
 * GetCapability (a TPM 1.2 refuses it with a 1.2 response).  The TCTI string is
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
/** m_tpm_family() - 20 for a TPM 2.0, 12 for a TPM 1.2. */
int m_tpm_family(const struct m_tpm *tpm);

/** m_tpm_banks() - the banks with at least one PCR allocated (sha1 alone on a TPM 1.2). */
int m_tpm_banks(struct m_tpm *tpm, unsigned *ret_banks);
/**
 * m_tpm_pcr_read() - read @pcrs in @banks, as many TPM2_PCR_Read calls as it
 * takes (a response carries at most 8 digests).
 */
int m_tpm_pcr_read(struct m_tpm *tpm, unsigned banks, uint32_t pcrs, struct m_pcrs *ret);
/** m_tpm_pcr_extend() - one TPM2_PCR_Extend with every bank in @d (TPM_Extend, sha1 only, on 1.2). */
int m_tpm_pcr_extend(struct m_tpm *tpm, unsigned pcr, const struct m_digests *d);

#endif
