// SPDX-License-Identifier: MIT
/* Authenticode digest over arbitrary bytes: must return 0 or an error, never crash. */
#include <stddef.h>
#include <stdint.h>
#include "measured/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_digests d;

	m_pe_authenticode(data, size, M_BANK_BIT(M_SHA256), &d);
	return 0;
}
