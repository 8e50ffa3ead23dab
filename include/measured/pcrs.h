/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_PCRS_H
#define MEASURED_PCRS_H

/* A set of PCR values in several banks: what a TPM holds or a replay computes. */

#include <stdio.h>
#include "measured/digest.h"

#define M_PCR_COUNT 24u

struct m_pcrs {
	/* bit p of present[b] set: PCR p in bank b has a value */
	uint32_t present[M_BANK_COUNT];
	uint8_t v[M_BANK_COUNT][M_PCR_COUNT][M_DIGEST_MAX];
};

/**
 * m_pcr_initial() - the value a PCR holds after TPM2_Startup(CLEAR) from
 * locality @locality (TCG PC Client Platform TPM Profile, PCR attributes):
 * PCR 0 is 0...0 with the last byte = the StartupLocality, PCRs 17-22 (the
 * DRTM PCRs) are all 0xFF until a dynamic launch resets them, the rest 0.
 */
void m_pcr_initial(enum m_bank b, unsigned pcr, uint8_t locality, uint8_t *out);

/** m_pcr_list_parse() - "0,1,4-7" or "all" into a mask of PCR numbers. */
int m_pcr_list_parse(const char *list, uint32_t *ret_mask);

/**
 * m_pcrs_print() - `BANK PCR HEX` lines, sorted by bank then PCR (the
 * project's stable text format), or a JSON object with @json.
 */
void m_pcrs_print(FILE *f, const struct m_pcrs *p, bool json);

#endif
