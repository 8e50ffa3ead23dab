// SPDX-License-Identifier: MIT
/* OVMF variable stores from arbitrary bytes: 0 or an error, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include "measured/efivars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_efi_vars *v;

	if (m_efi_vars_parse(data, size, "fuzz", &v) == 0)
		m_efi_vars_free(v);
	return 0;
}
