/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INIT_HASH_H
#define MEASURED_INIT_HASH_H
/*
 * measured-init's own digest backend: OpenSSL's low-level SHA functions,
 * which link statically in about 70 KiB, where EVP (libmeasured's digest.c)
 * pulls the provider machinery and about 4 MiB into a static binary.  See
 * docs/init-footprint.md.  Banks: sha1, sha256, sha384, sha512 (no SM3:
 * OpenSSL has no low-level SM3 interface).
 */
#include <stdint.h>
#include "measured/digest.h"

#define IH_BANKS (M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256) | M_BANK_BIT(M_SHA384) | M_BANK_BIT(M_SHA512))

struct ih_ctx;
/** ih_new() - one context hashing every bank of @banks (& IH_BANKS). */
struct ih_ctx *ih_new(unsigned banks);
void ih_update(struct ih_ctx *c, const void *data, size_t len);
/** ih_final() - the digests, and frees @c. */
void ih_final(struct ih_ctx *c, struct m_digests *ret);
/** ih_one() - one bank over one buffer. */
void ih_one(enum m_bank b, const void *data, size_t len, uint8_t *out);
/** ih_extend() - software PCR extend: pcr = H(pcr || d) (TPM 2.0 Part 1, 17.5). */
void ih_extend(enum m_bank b, uint8_t *pcr, const uint8_t *d);
#endif
