// SPDX-License-Identifier: MIT
/*
 * measured-init's TPM response parsers (lib/initcore/tpm_wire.c): what a
 * TPM (or anything posing as /dev/tpm0) answers to GetCapability(PCRS),
 * PCR_Extend and PCR_Read.  The first input byte picks the PCR (0-31,
 * beyond the range too), the second the banks asked for; the rest is the
 * response.  Responses are at most
 * MI_TPM_BUF_MAX bytes, as the init reads them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "initcore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned banks = 0, unknown = 0, pcr, want;
	struct m_digests d;

	if (size < 2 || size > MI_TPM_BUF_MAX + 2)
		return 0;
	pcr = data[0] & 0x1f;
	want = data[1] & 0xf;		/* sha1, sha256, sha384, sha512 */
	data += 2;
	size -= 2;
	mi_tpm_getcap_pcrs_rsp(data, size, &banks, &unknown);
	mi_tpm_getcap_pcrs_rsp(data, size, &banks, NULL);
	mi_tpm_extend_rsp(data, size);
	memset(&d, 0, sizeof(d));
	if (mi_tpm_pcrread_rsp(data, size, pcr, want, &d) == 0) {
		/* a success answers exactly the banks asked for */
		if (d.banks != want)
			__builtin_trap();
	}
	return 0;
}
