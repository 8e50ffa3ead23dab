// SPDX-License-Identifier: MIT
/*
 * The enrolled AKs as OpenSSL keys, converted once: turning a TPMT_PUBLIC
 * into an EVP_PKEY (for P-256, decoding and checking the point on the
 * curve) cost about as much as the signature check itself.  A direct-mapped
 * table of SRV_AK_CACHE slots keyed by the machine's enrolled AK (its
 * base64 TPM2B_PUBLIC text from the store, compared whole, so a re-enrolled
 * AK is a different key); a collision replaces the slot.  Keys are
 * reference-counted: a request keeps its key while another thread evicts
 * it.  A fleet larger than the table converts on misses, as before.  The
 * slots are 16 bytes each; a converted key takes memory only once used.
 */
#include <stdlib.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "server.h"

struct ak_slot {
	char *ak_pub;
	EVP_PKEY *key;
};

static struct ak_slot slots[SRV_AK_CACHE];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return (size_t)(h % SRV_AK_CACHE);
}

/* either family's key: a TPM 2.0 AK (@ak) or a TPM 1.2 AIK (@aik12); the texts never coincide */
static EVP_PKEY *ak_key(const char *ak_pub, const TPMT_PUBLIC *ak, const struct m_t12_pubkey *aik12)
{
	struct ak_slot *sl = &slots[slot_of(ak_pub)];
	EVP_PKEY *key = NULL;
	char *copy;

	pthread_mutex_lock(&lock);
	if (sl->ak_pub && !strcmp(sl->ak_pub, ak_pub) && EVP_PKEY_up_ref(sl->key) == 1)
		key = sl->key;
	pthread_mutex_unlock(&lock);
	if (key)
		return key;
	if ((ak ? m_tpm_public_to_pkey(ak, &key) : m_t12_pubkey_to_pkey(aik12, &key)) < 0)
		return NULL;	/* m_quote_verify() tries again and names the problem */
	copy = strdup(ak_pub);
	if (!copy || EVP_PKEY_up_ref(key) != 1) {
		free(copy);
		return key;
	}
	pthread_mutex_lock(&lock);
	free(sl->ak_pub);
	EVP_PKEY_free(sl->key);
	sl->ak_pub = copy;
	sl->key = key;		/* the table's reference; the caller has its own */
	pthread_mutex_unlock(&lock);
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
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SRV_AK_CACHE; i++) {
		free(slots[i].ak_pub);
		EVP_PKEY_free(slots[i].key);
		slots[i] = (struct ak_slot){ 0 };
	}
	pthread_mutex_unlock(&lock);
}
