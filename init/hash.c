// SPDX-License-Identifier: MIT
/* The init's hash backend: low-level OpenSSL SHA; see hash.h for why. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "hash.h"

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

static void *ih_new(unsigned banks)
{
	struct ih_ctx *c = malloc(sizeof(*c));

	if (c)
		ctx_init(c, banks);
	return c;
}

static int ih_update(void *ctx, const void *data, size_t len)
{
	struct ih_ctx *c = ctx;

	if (c->banks & M_BANK_BIT(M_SHA1))
		SHA1_Update(&c->sha1, data, len);
	if (c->banks & M_BANK_BIT(M_SHA256))
		SHA256_Update(&c->sha256, data, len);
	if (c->banks & M_BANK_BIT(M_SHA384))
		SHA384_Update(&c->sha384, data, len);
	if (c->banks & M_BANK_BIT(M_SHA512))
		SHA512_Update(&c->sha512, data, len);
	return 0;
}

static int ih_final(void *ctx, struct m_digests *ret)
{
	ctx_final(ctx, ret);
	free(ctx);
	return 0;
}

static void ih_release(void *ctx)
{
	free(ctx);
}

const struct m_hash_backend *ih_backend(void)
{
	static const struct m_hash_backend be = { ih_new, ih_update, ih_final, ih_release, IH_BANKS };

	return &be;
}
