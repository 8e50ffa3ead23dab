// SPDX-License-Identifier: MIT
/*
 * veritysetup's superblock (lib/measure/verity.c), read by measured-init
 * from the untrusted hash device and by `measured predict`: any 512 bytes
 * at any offset.  What parses must format into a table line that fits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "measured/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_verity v;
	uint64_t off = 0;
	char table[M_VERITY_TABLE_MAX];

	if (size >= 8) {	/* the first 8 bytes choose the offset */
		memcpy(&off, data, 8);
		data += 8;
		size -= 8;
	}
	if (m_verity_sb_parse(data, size, off, &v) == 0) {
		if (v.salt_len > M_VERITY_SALT_MAX || v.hash_start < off / v.hash_block)
			__builtin_trap();
		v.error = (enum m_verity_error)(off % 3);
		if (m_verity_table(&v, table, sizeof(table)) != 0)
			__builtin_trap();
	}
	return 0;
}
