// SPDX-License-Identifier: MIT
/*
 * TPM2_PCR_Extend's arithmetic (TPM 2.0 Part 1, section 17.2):
 * PCR = H(PCR || digest), once per event of a replay.
 *
 * Through EVP an extend costs twice what its hash does (222 against 115 ns
 * for SHA-256 on this project's machines: provider dispatch and context
 * set-up around two compressions), and a firmware log's replay is a fifth
 * of an attestation's verification.  So the SHA family goes to libcrypto's
 * SHA*_Init/Update/Final, which OpenSSL 3 deprecates in favour of EVP but
 * keeps (hence the define below, for this file only); SM3 has no such
 * functions and takes the EVP path.  These bypass the provider layer, a
 * FIPS provider included: a replay recomputes public values, no secret.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <openssl/sha.h>
#include "measured/digest.h"

int m_extend(enum m_bank b, uint8_t *pcr, const uint8_t *digest)
{
	size_t n = m_bank_info(b)->size;

	switch (b) {
	case M_SHA1: {
		SHA_CTX c;

		SHA1_Init(&c);
		SHA1_Update(&c, pcr, n);
		SHA1_Update(&c, digest, n);
		SHA1_Final(pcr, &c);
		return 0;
	}
	case M_SHA256: {
		SHA256_CTX c;

		SHA256_Init(&c);
		SHA256_Update(&c, pcr, n);
		SHA256_Update(&c, digest, n);
		SHA256_Final(pcr, &c);
		return 0;
	}
	case M_SHA384: {
		SHA512_CTX c;

		SHA384_Init(&c);
		SHA384_Update(&c, pcr, n);
		SHA384_Update(&c, digest, n);
		SHA384_Final(pcr, &c);
		return 0;
	}
	case M_SHA512: {
		SHA512_CTX c;

		SHA512_Init(&c);
		SHA512_Update(&c, pcr, n);
		SHA512_Update(&c, digest, n);
		SHA512_Final(pcr, &c);
		return 0;
	}
	default: {
		uint8_t cat[2 * M_DIGEST_MAX];

		memcpy(cat, pcr, n);
		memcpy(cat + n, digest, n);
		return m_digest_one(b, cat, 2 * n, pcr);
	}
	}
}
