// SPDX-License-Identifier: MIT
/* Hashing in the digest banks, over OpenSSL EVP (the table: digest_banks.c). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "measured/digest.h"
#include "measured/measure.h"
#include "measured/error.h"

static const EVP_MD *md_cache[M_BANK_COUNT];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;	/* each thread's reusable EVP_MD_CTX, freed when it exits */

static void ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

/* EVP_MD_fetch once per process: fetching per call costs a provider lookup. */
static void md_fetch_all(void)
{
	for (int b = 0; b < M_BANK_COUNT; b++)
		md_cache[b] = EVP_MD_fetch(NULL, m_bank_info(b)->ossl, NULL);
	pthread_key_create(&ctx_key, ctx_free);
}

static const EVP_MD *md_of(enum m_bank b)
{
	pthread_once(&md_once, md_fetch_all);
	return md_cache[b];
}

bool m_bank_supported(enum m_bank b)
{
	return m_bank_md(b) != NULL;
}

const EVP_MD *m_bank_md(enum m_bank b)
{
	return (unsigned)b < M_BANK_COUNT ? md_of(b) : NULL;
}

const EVP_MD *m_alg_md(uint16_t alg)
{
	int b = m_bank_by_alg(alg);

	return b < 0 ? NULL : md_of((enum m_bank)b);
}

int m_bank_list_parse(const char *list, unsigned *ret_mask)
{
	unsigned mask = 0;
	char *copy, *save = NULL, *tok;

	if (!list || !*list)
		return m_err(-EINVAL, "empty bank list");
	if (strcmp(list, "all") == 0) {
		for (int b = 0; b < M_BANK_COUNT; b++)
			if (m_bank_supported(b))
				mask |= M_BANK_BIT(b);
		*ret_mask = mask;
		return 0;
	}
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int b = m_bank_by_name(tok);
		if (b < 0) {
			int r = m_err(-EINVAL, "unknown bank '%s' (known: sha1 sha256 sha384 sha512 sm3_256)", tok);
			free(copy);
			return r;
		}
		if (!m_bank_supported(b)) {
			int r = m_err(-EOPNOTSUPP, "bank '%s' is not supported by this OpenSSL", tok);
			free(copy);
			return r;
		}
		mask |= M_BANK_BIT(b);
	}
	free(copy);
	if (!mask)
		return m_err(-EINVAL, "empty bank list");
	*ret_mask = mask;
	return 0;
}

struct m_hash {
	unsigned banks;
	EVP_MD_CTX *ctx[M_BANK_COUNT];
};

void m_hash_free(struct m_hash *h)
{
	if (!h)
		return;
	for (int b = 0; b < M_BANK_COUNT; b++)
		EVP_MD_CTX_free(h->ctx[b]);
	free(h);
}

int m_hash_new(unsigned bmask, struct m_hash **ret)
{
	struct m_hash *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->banks = bmask;
	for_each_bank(b, bmask) {
		const EVP_MD *md = md_of(b);
		if (!md) {
			m_hash_free(h);
			return m_err(-EOPNOTSUPP, "bank %s is not supported by this OpenSSL", m_bank_info(b)->name);
		}
		h->ctx[b] = EVP_MD_CTX_new();
		if (!h->ctx[b] || !EVP_DigestInit_ex(h->ctx[b], md, NULL)) {
			m_hash_free(h);
			return m_err(-ENOMEM, "cannot initialise %s", m_bank_info(b)->name);
		}
	}
	*ret = h;
	return 0;
}

int m_hash_update_bank(struct m_hash *h, enum m_bank b, const void *data, size_t len)
{
	if (!EVP_DigestUpdate(h->ctx[b], data, len))
		return m_err(-EIO, "%s update failed", m_bank_info(b)->name);
	return 0;
}

int m_hash_update(struct m_hash *h, const void *data, size_t len)
{
	for_each_bank(b, h->banks) {
		int r = m_hash_update_bank(h, b, data, len);
		if (r < 0)
			return r;
	}
	return 0;
}

int m_hash_final(struct m_hash *h, struct m_digests *ret)
{
	struct m_digests out = { .banks = h->banks };

	for_each_bank(b, h->banks)
		if (!EVP_DigestFinal_ex(h->ctx[b], out.d[b], NULL))
			return m_err(-EIO, "%s final failed", m_bank_info(b)->name);
	*ret = out;
	return 0;
}

int m_digest_buf(unsigned bmask, const void *data, size_t len, struct m_digests *ret)
{
	struct m_digests out = { .banks = bmask };

	for_each_bank(b, bmask) {
		int r = m_digest_one(b, data, len, out.d[b]);
		if (r < 0)
			return r;
	}
	*ret = out;
	return 0;
}

int m_digest_one(enum m_bank b, const void *data, size_t len, uint8_t *out)
{
	/* one context per thread, reused: a replay hashes thousands of short inputs */
	const EVP_MD *md = md_of(b);
	EVP_MD_CTX *ctx;

	if (!md)
		return m_err(-EOPNOTSUPP, "bank %s is not supported by this OpenSSL", m_bank_info(b)->name);
	ctx = pthread_getspecific(ctx_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (!ctx || pthread_setspecific(ctx_key, ctx) != 0) {
			EVP_MD_CTX_free(ctx);
			return -ENOMEM;
		}
	}
	if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, data, len) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		return m_err(-EIO, "%s digest failed", m_bank_info(b)->name);
	return 0;
}

static unsigned evp_banks;

static void backend_banks(void)
{
	for (enum m_bank b = 0; b < M_BANK_COUNT; b++)
		if (m_bank_supported(b))
			evp_banks |= M_BANK_BIT(b);
}

/* The library's backend for the shared hasher (lib/measure/): EVP. */
static void *evp_new(unsigned banks)
{
	struct m_hash *h;

	return m_hash_new(banks, &h) == 0 ? h : NULL;
}

static int evp_update(void *ctx, const void *data, size_t len)
{
	return m_hash_update(ctx, data, len);
}

static int evp_final(void *ctx, struct m_digests *ret)
{
	int r = m_hash_final(ctx, ret);

	m_hash_free(ctx);
	return r;
}

static void evp_release(void *ctx)
{
	m_hash_free(ctx);
}

const struct m_hash_backend *m_hash_backend_evp(void)
{
	static struct m_hash_backend be = { evp_new, evp_update, evp_final, evp_release, 0 };
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, backend_banks);
	be.banks = evp_banks;
	return &be;
}
