// SPDX-License-Identifier: MIT
/* tboot policy parser (and the digest over what it accepts); also the MLE/ELF reader. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "measured/tboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct m_tb_policy pol;
	uint8_t out[M_DIGEST_MAX];
	struct m_digests d;

	if (m_tb_policy_parse(data, size, &pol) == 0) {
		m_tb_policy_control_digest(&pol, M_SHA256, M_SHA1, out);
		for (unsigned i = 0; i < 256; i++)
			m_tb_policy_find(&pol, i);
	}
	if (size < (1u << 20))
		m_tboot_mlehash(data, size, "x", M_BANK_BIT(M_SHA1), &d);
	return 0;
}
