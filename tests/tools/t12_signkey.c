// SPDX-License-Identifier: MIT
/*
 * t12_signkey TCTI SRK-SECRET-HEX OUT: a TPM 1.2 signing key that is no
 * identity key (TPM_CreateWrapKey under the SRK, m_tpm12_create_signing_key()),
 * its TPM_KEY blob written to OUT.  Its usage secret is the TSS well-known
 * secret (20 zero bytes), the default of `measured quote --aik-secret`, so
 * `measured quote --aik OUT` quotes with it.  For the attack tests only:
 * attestation needs no such key.  Exit 0 done, 2 usage, 3 output, 4 TPM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include "measured/attest12.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/tpm.h"

int main(int argc, char **argv)
{
	static const uint8_t key_auth[20];
	uint8_t srk_auth[20], blob[M_T12_KEYBLOB_MAX];
	struct m_tpm *tpm;
	size_t len;
	FILE *f;
	int r;

	if (argc != 4 || m_unhex(argv[2], srk_auth, sizeof(srk_auth)) < 0) {
		fprintf(stderr, "usage: t12_signkey TCTI SRK-SECRET-HEX OUT\n");
		return 2;
	}
	r = m_tpm_open(argv[1], &tpm);
	if (r == 0 && m_tpm_family(tpm) != 12)
		r = m_err(-EPROTO, "not a TPM 1.2");
	if (r == 0) {
		r = m_tpm12_create_signing_key(tpm, srk_auth, key_auth, blob, &len);
		m_tpm_close(tpm);
	}
	if (r < 0) {
		fprintf(stderr, "t12_signkey: %s\n", m_errmsg(r));
		return 4;
	}
	f = fopen(argv[3], "wbx");
	if (!f || fwrite(blob, 1, len, f) != len || fclose(f) != 0) {
		perror(argv[3]);
		return 3;
	}
	return 0;
}
