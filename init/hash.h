/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INIT_HASH_H
#define MEASURED_INIT_HASH_H
/*
 * measured-init's hash backend for the shared hasher (lib/measure/):
 * OpenSSL's low-level SHA functions, which link statically in about
 * 70 KiB, where EVP (libmeasured's backend) pulls the provider machinery
 * and about 4 MiB into a static binary.  See docs/init-footprint.md.
 * Banks: sha1, sha256, sha384, sha512 (no SM3: OpenSSL has no low-level
 * SM3 interface).
 */
#include "measured/measure.h"

#define IH_BANKS (M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256) | M_BANK_BIT(M_SHA384) | M_BANK_BIT(M_SHA512))

/** ih_backend() - the init's backend (banks: IH_BANKS). */
const struct m_hash_backend *ih_backend(void);
#endif
