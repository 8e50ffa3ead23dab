// SPDX-License-Identifier: MIT
/*
 * A verifier's nonces, checked without a database read: 16 random bytes,
 * the expiry (seconds since the epoch, big-endian 32 bits), and the first
 * 12 bytes of HMAC-SHA256(key, "measured-nonce-1" || 0 || machine || 0 ||
 * random || expiry).  A nonce the server did not make, made for another
 * machine, or altered fails the MAC (forging one takes about 2^96 tries);
 * its age is read from it.  Only its single use needs the database
 * (m_store_nonce_use()), and only when a quote comes back.
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "measured/attest.h"
#include "measured/error.h"

#define RAND_LEN 16u
#define EXP_LEN 4u
#define MAC_LEN (M_NONCE_LEN - RAND_LEN - EXP_LEN)

static const char LABEL[] = "measured-nonce-1";

static int mac(const uint8_t key[M_NONCE_KEY_LEN], const char *machine, const uint8_t *body,
	       uint8_t out[MAC_LEN])
{
	uint8_t msg[sizeof(LABEL) + 256 + 1 + RAND_LEN + EXP_LEN], md[EVP_MAX_MD_SIZE];
	size_t ml = strlen(machine), n = 0;
	unsigned mdl = 0;

	if (ml > 256)
		return m_err(-EINVAL, "machine name of %zu bytes", ml);
	memcpy(msg, LABEL, sizeof(LABEL));	/* with its NUL */
	n = sizeof(LABEL);
	memcpy(msg + n, machine, ml + 1);
	n += ml + 1;
	memcpy(msg + n, body, RAND_LEN + EXP_LEN);
	n += RAND_LEN + EXP_LEN;
	if (!HMAC(EVP_sha256(), key, M_NONCE_KEY_LEN, msg, n, md, &mdl) || mdl < MAC_LEN)
		return m_err(-EIO, "HMAC-SHA256 failed");
	memcpy(out, md, MAC_LEN);
	return 0;
}

int m_nonce_make(const uint8_t key[M_NONCE_KEY_LEN], const char *machine, int64_t expires,
		 uint8_t out[M_NONCE_LEN])
{
	if (expires < 0 || expires > UINT32_MAX)
		return m_err(-ERANGE, "nonce expiry %lld out of range", (long long)expires);
	if (RAND_bytes(out, RAND_LEN) != 1)
		return m_err(-EIO, "no randomness");
	for (unsigned i = 0; i < EXP_LEN; i++)
		out[RAND_LEN + i] = (uint8_t)((uint64_t)expires >> (8 * (EXP_LEN - 1 - i)));
	return mac(key, machine, out, out + RAND_LEN + EXP_LEN);
}

enum m_nonce_status m_nonce_check(const uint8_t key[M_NONCE_KEY_LEN], const char *machine,
				  const uint8_t *nonce, size_t len, int64_t now, int64_t *ret_expires)
{
	uint8_t want[MAC_LEN];
	int64_t exp = 0;

	if (len != M_NONCE_LEN || mac(key, machine, nonce, want) < 0 ||
	    CRYPTO_memcmp(want, nonce + RAND_LEN + EXP_LEN, MAC_LEN) != 0)
		return M_NONCE_UNKNOWN;
	for (unsigned i = 0; i < EXP_LEN; i++)
		exp = exp << 8 | nonce[RAND_LEN + i];
	if (ret_expires)
		*ret_expires = exp;
	return exp < now ? M_NONCE_EXPIRED : M_NONCE_OK;
}
