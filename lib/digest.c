// SPDX-License-Identifier: MIT
/*
 * Digest banks over OpenSSL EVP.  TPM_ALG_ID values are from the TCG
 * Algorithm Registry (sha1 0x0004, sha256 0x000b, sha384 0x000c,
 * sha512 0x000d, sm3_256 0x0012).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "measured/digest.h"
#include "measured/error.h"

static const struct m_bank_info banks[M_BANK_COUNT] = {
	[M_SHA1]    = { "sha1",    0x0004, 20, "SHA1" },
	[M_SHA256]  = { "sha256",  0x000b, 32, "SHA256" },
	[M_SHA384]  = { "sha384",  0x000c, 48, "SHA384" },
	[M_SHA512]  = { "sha512",  0x000d, 64, "SHA512" },
	[M_SM3_256] = { "sm3_256", 0x0012, 32, "SM3" },
};

const struct m_bank_info *m_bank_info(enum m_bank b)
{
	return (unsigned)b < M_BANK_COUNT ? &banks[b] : NULL;
}

int m_bank_by_name(const char *name)
{
	for (int b = 0; b < M_BANK_COUNT; b++)
		if (strcmp(name, banks[b].name) == 0)
			return b;
	/* tpm2-tools also accepts "sm3" */
	if (strcmp(name, "sm3") == 0)
		return M_SM3_256;
	return -1;
}

int m_bank_by_alg(uint16_t alg)
{
	for (int b = 0; b < M_BANK_COUNT; b++)
		if (banks[b].tpm_alg == alg)
			return b;
	return -1;
}

static const EVP_MD *md_of(enum m_bank b)
{
	static const EVP_MD *cache[M_BANK_COUNT];
	static bool tried[M_BANK_COUNT];

	/* EVP_MD_fetch once per bank: fetching per call costs a provider lookup. */
	if (!tried[b]) {
		cache[b] = EVP_MD_fetch(NULL, banks[b].ossl, NULL);
		tried[b] = true;
	}
	return cache[b];
}

bool m_bank_supported(enum m_bank b)
{
	return (unsigned)b < M_BANK_COUNT && md_of(b) != NULL;
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

void m_bank_list_format(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for_each_bank(b, mask) {
		int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", banks[b].name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += n;
	}
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
			return m_err(-EOPNOTSUPP, "bank %s is not supported by this OpenSSL", banks[b].name);
		}
		h->ctx[b] = EVP_MD_CTX_new();
		if (!h->ctx[b] || !EVP_DigestInit_ex(h->ctx[b], md, NULL)) {
			m_hash_free(h);
			return m_err(-ENOMEM, "cannot initialise %s", banks[b].name);
		}
	}
	*ret = h;
	return 0;
}

int m_hash_update_bank(struct m_hash *h, enum m_bank b, const void *data, size_t len)
{
	if (!EVP_DigestUpdate(h->ctx[b], data, len))
		return m_err(-EIO, "%s update failed", banks[b].name);
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
			return m_err(-EIO, "%s final failed", banks[b].name);
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
	const EVP_MD *md = md_of(b);

	if (!md)
		return m_err(-EOPNOTSUPP, "bank %s is not supported by this OpenSSL", banks[b].name);
	if (!EVP_Digest(data, len, out, NULL, md, NULL))
		return m_err(-EIO, "%s digest failed", banks[b].name);
	return 0;
}

int m_extend(enum m_bank b, uint8_t *pcr, const uint8_t *digest)
{
	uint8_t cat[2 * M_DIGEST_MAX];
	size_t n = banks[b].size;

	memcpy(cat, pcr, n);
	memcpy(cat + n, digest, n);
	return m_digest_one(b, cat, 2 * n, pcr);
}

void m_hex(const uint8_t *data, size_t len, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = x[data[i] >> 4];
		out[2 * i + 1] = x[data[i] & 15];
	}
	out[2 * len] = '\0';
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int m_unhex(const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return m_err(-EINVAL, "expected %zu hex digits, got %zu", 2 * len, strlen(hex));
	for (size_t i = 0; i < len; i++) {
		int hi = unhex_digit(hex[2 * i]), lo = unhex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return m_err(-EINVAL, "bad hex digit at position %zu", 2 * i + (hi < 0 ? 0 : 1));
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
