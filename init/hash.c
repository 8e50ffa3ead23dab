// SPDX-License-Identifier: MIT
/* Low-level OpenSSL SHA for the static init; see hash.h for why. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "hash.h"
#include "initcore.h"

struct ih_ctx {
	unsigned banks;
	SHA_CTX sha1;
	SHA256_CTX sha256;
	SHA512_CTX sha384, sha512;
};

static void ctx_init(struct ih_ctx *c, unsigned banks)
{
	memset(c, 0, sizeof(*c));
	c->banks = banks & IH_BANKS;
	SHA1_Init(&c->sha1);
	SHA256_Init(&c->sha256);
	SHA384_Init(&c->sha384);
	SHA512_Init(&c->sha512);
}

static void ctx_final(struct ih_ctx *c, struct m_digests *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->banks = c->banks;
	if (c->banks & M_BANK_BIT(M_SHA1))
		SHA1_Final(ret->d[M_SHA1], &c->sha1);
	if (c->banks & M_BANK_BIT(M_SHA256))
		SHA256_Final(ret->d[M_SHA256], &c->sha256);
	if (c->banks & M_BANK_BIT(M_SHA384))
		SHA384_Final(ret->d[M_SHA384], &c->sha384);
	if (c->banks & M_BANK_BIT(M_SHA512))
		SHA512_Final(ret->d[M_SHA512], &c->sha512);
}

struct ih_ctx *ih_new(unsigned banks)
{
	struct ih_ctx *c = malloc(sizeof(*c));

	if (c)
		ctx_init(c, banks);
	return c;
}

void ih_update(struct ih_ctx *c, const void *data, size_t len)
{
	if (c->banks & M_BANK_BIT(M_SHA1))
		SHA1_Update(&c->sha1, data, len);
	if (c->banks & M_BANK_BIT(M_SHA256))
		SHA256_Update(&c->sha256, data, len);
	if (c->banks & M_BANK_BIT(M_SHA384))
		SHA384_Update(&c->sha384, data, len);
	if (c->banks & M_BANK_BIT(M_SHA512))
		SHA512_Update(&c->sha512, data, len);
}

void ih_final(struct ih_ctx *c, struct m_digests *ret)
{
	ctx_final(c, ret);
	free(c);
}

/* Through a context, not SHA256() and friends: OpenSSL 3's one-shot
 * functions go through EVP_Q_digest() and would pull EVP in. */
void ih_one(enum m_bank b, const void *data, size_t len, uint8_t *out)
{
	struct ih_ctx c;
	struct m_digests d;

	ctx_init(&c, M_BANK_BIT(b));
	ih_update(&c, data, len);
	ctx_final(&c, &d);
	memcpy(out, d.d[b], mi_bank_size(b));
}

void ih_extend(enum m_bank b, uint8_t *pcr, const uint8_t *d)
{
	uint8_t buf[2 * M_DIGEST_MAX];
	unsigned n = mi_bank_size(b);

	memcpy(buf, pcr, n);
	memcpy(buf + n, d, n);
	ih_one(b, buf, 2 * n, pcr);
}
