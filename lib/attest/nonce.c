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
#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "measured/attest.h"
#include "measured/error.h"

#define RAND_LEN 16u
#define EXP_LEN 4u
#define MAC_LEN (M_NONCE_LEN - RAND_LEN - EXP_LEN)

static const char LABEL[] = "measured-nonce-1";

/* HMAC looked up once, not on every nonce (HMAC() fetches it by name each call) */
static EVP_MAC *hmac;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/*
 * A context keyed with the last key used, copied for each MAC: keying one
 * (EVP_MAC_init()) looks SHA-256 up by name and hashes the key's pads, the
 * copy only copies two digest states.  A verifier uses one key.  The
 * template is only ever read (copied) by the threads that share it.
 */
static EVP_MAC_CTX *keyed;
static uint8_t keyed_key[M_NONCE_KEY_LEN];
static pthread_rwlock_t keyed_lock = PTHREAD_RWLOCK_INITIALIZER;

static EVP_MAC_CTX *keyed_ctx(const uint8_t key[M_NONCE_KEY_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_END
	};
	EVP_MAC_CTX *ctx = NULL, *t;

	pthread_rwlock_rdlock(&keyed_lock);
	if (keyed && CRYPTO_memcmp(keyed_key, key, M_NONCE_KEY_LEN) == 0)
		ctx = EVP_MAC_CTX_dup(keyed);
	pthread_rwlock_unlock(&keyed_lock);
	if (ctx)
		return ctx;
	pthread_once(&fetch_once, fetch);
	ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	if (!ctx || EVP_MAC_init(ctx, key, M_NONCE_KEY_LEN, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	if ((t = EVP_MAC_CTX_dup(ctx))) {
		pthread_rwlock_wrlock(&keyed_lock);
		EVP_MAC_CTX_free(keyed);
		keyed = t;
		memcpy(keyed_key, key, M_NONCE_KEY_LEN);
		pthread_rwlock_unlock(&keyed_lock);
	}
	return ctx;
}

static int mac(const uint8_t key[M_NONCE_KEY_LEN], const char *machine, const uint8_t *body,
	       uint8_t out[MAC_LEN])
{
	uint8_t msg[sizeof(LABEL) + 256 + 1 + RAND_LEN + EXP_LEN], md[EVP_MAX_MD_SIZE];
	size_t ml = strlen(machine), n = 0, mdl = 0;
	EVP_MAC_CTX *ctx;
	bool ok;

	if (ml > 256)
		return m_err(-EINVAL, "machine name of %zu bytes", ml);
	memcpy(msg, LABEL, sizeof(LABEL));	/* with its NUL */
	n = sizeof(LABEL);
	memcpy(msg + n, machine, ml + 1);
	n += ml + 1;
	memcpy(msg + n, body, RAND_LEN + EXP_LEN);
	n += RAND_LEN + EXP_LEN;
	ctx = keyed_ctx(key);
	ok = ctx && EVP_MAC_update(ctx, msg, n) == 1 && EVP_MAC_final(ctx, md, &mdl, sizeof(md)) == 1 &&
	     mdl >= MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	if (!ok)
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
