// SPDX-License-Identifier: MIT
/*
 * The enrolled AKs as OpenSSL keys, converted once: turning a TPMT_PUBLIC
 * into an EVP_PKEY (for P-256, decoding and checking the point on the
 * curve) cost about as much as the signature check itself.  Keyed by the
 * machine's enrolled AK (its base64 TPM2B_PUBLIC text from the store,
 * compared whole, so a re-enrolled AK is a different key), at most
 * SRV_AK_CACHE of them (keycache.c).  Keys are reference-counted: a
 * request keeps its key while another thread evicts it.
 */
#include <stdlib.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "server.h"

static void key_free(void *k)
{
	EVP_PKEY_free(k);
}

static struct srv_kcache keys = SRV_KCACHE_INIT(SRV_AK_CACHE, key_free);

static void key_ref(const void *val, void *arg)
{
	EVP_PKEY *k = (EVP_PKEY *)val;

	*(EVP_PKEY **)arg = EVP_PKEY_up_ref(k) == 1 ? k : NULL;
}

/* either family's key: a TPM 2.0 AK (@ak) or a TPM 1.2 AIK (@aik12); the texts never coincide */
static EVP_PKEY *ak_key(const char *ak_pub, const TPMT_PUBLIC *ak, const struct m_t12_pubkey *aik12)
{
	EVP_PKEY *key = NULL;

	if (srv_kcache_get(&keys, ak_pub, key_ref, &key) && key)
		return key;
	if ((ak ? m_tpm_public_to_pkey(ak, &key) : m_t12_pubkey_to_pkey(aik12, &key)) < 0)
		return NULL;	/* m_quote_verify() tries again and names the problem */
	if (EVP_PKEY_up_ref(key) == 1)
		srv_kcache_put(&keys, ak_pub, key);	/* the table's reference; the caller has its own */
	return key;
}

EVP_PKEY *srv_ak_key(const char *ak_pub, const TPMT_PUBLIC *ak)
{
	return ak_key(ak_pub, ak, NULL);
}

EVP_PKEY *srv_ak_key12(const char *ak_pub, const struct m_t12_pubkey *aik)
{
	return ak_key(ak_pub, NULL, aik);
}

void srv_ak_cache_free(void)
{
	srv_kcache_clear(&keys);
}
