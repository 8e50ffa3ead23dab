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

/* the same four calls for each member of the family: its context type and functions */
#define SHA_EXTEND(CTX, INIT, UPDATE, FINAL)		\
	do {						\
		CTX c;					\
		INIT(&c);				\
		UPDATE(&c, pcr, n);			\
		UPDATE(&c, digest, n);			\
		FINAL(pcr, &c);				\
	} while (0)

int m_extend(enum m_bank b, uint8_t *pcr, const uint8_t *digest)
{
	size_t n = m_bank_info(b)->size;
	uint8_t cat[2 * M_DIGEST_MAX];

	switch (b) {
	case M_SHA1:
		SHA_EXTEND(SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final);
		return 0;
	case M_SHA256:
		SHA_EXTEND(SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final);
		return 0;
	case M_SHA384:
		SHA_EXTEND(SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final);
		return 0;
	case M_SHA512:
		SHA_EXTEND(SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final);
		return 0;
	default:
		memcpy(cat, pcr, n);
		memcpy(cat + n, digest, n);
		return m_digest_one(b, cat, 2 * n, pcr);
	}
}
