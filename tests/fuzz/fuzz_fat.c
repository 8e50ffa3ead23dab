// SPDX-License-Identifier: MIT
/* A FAT12/16 root-directory file from arbitrary bytes: 0 or an error, never a crash. */
#include <stdlib.h>
#include "measured/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out;
	size_t len;

	if (m_fat_root_file(data, size, "grub.cfg", &out, &len) == 0)
		free(out);
	return 0;
}
