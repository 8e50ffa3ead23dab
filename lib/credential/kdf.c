// SPDX-License-Identifier: MIT
/*
 * The TPM's key derivation functions (TPM 2.0 Part 1, 11.4.10): KDFa, an
 * HMAC counter-mode KDF (SP 800-108), and KDFe, the hash KDF of SP 800-56A
 * used after ECDH.  Both take the label with its terminating NUL octet, as
 * the TPM reference code does.
 */
#include <errno.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "measured/credential.h"
#include "measured/digest.h"
#include "measured/error.h"

/* At most 2^16 bits of output: more than any TPM key or seed needs. */
#define KDF_MAX_BITS 65536u
/* Labels and contexts are names and coordinates: a few hundred bytes at most. */
#define KDF_MAX_CTX 256u

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int m_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_len, const char *label,
	   const uint8_t *ctx_u, size_t u_len, const uint8_t *ctx_v, size_t v_len,
	   uint32_t bits, uint8_t *out)
{
	const EVP_MD *md = m_alg_md(hash_alg);
	size_t need = (bits + 7) / 8, done = 0;
	uint8_t msg[3 * KDF_MAX_CTX + 8], blk[EVP_MAX_MD_SIZE];
	size_t mlen;
	unsigned blen;
	int r = 0;

	if (!md)
		return m_err(-ENOTSUP, "KDFa: hash algorithm 0x%04x", hash_alg);
	if (bits == 0 || bits > KDF_MAX_BITS)
		return m_err(-EINVAL, "KDFa: %u bits", bits);
	if (strlen(label) + 1 > KDF_MAX_CTX || u_len > KDF_MAX_CTX || v_len > KDF_MAX_CTX)
		return m_err(-EINVAL, "KDFa: label or context over %u bytes", KDF_MAX_CTX);
	/* the message is counter || label || NUL || contextU || contextV || bits */
	mlen = 4;
	memcpy(msg + mlen, label, strlen(label) + 1);
	mlen += strlen(label) + 1;
	if (u_len)
		memcpy(msg + mlen, ctx_u, u_len);
	mlen += u_len;
	if (v_len)
		memcpy(msg + mlen, ctx_v, v_len);
	mlen += v_len;
	be32(msg + mlen, bits);
	mlen += 4;
	for (uint32_t i = 1; done < need; i++) {
		be32(msg, i);
		if (!HMAC(md, key, (int)key_len, msg, mlen, blk, &blen)) {
			r = m_err(-EIO, "KDFa: HMAC failed");
			goto out;
		}
		memcpy(out + done, blk, need - done < blen ? need - done : blen);
		done += need - done < blen ? need - done : blen;
	}
	/* Part 1, 11.4.10.2: bits not a multiple of 8 are masked off the first octet */
	if (bits % 8)
		out[0] &= (uint8_t)((1u << (bits % 8)) - 1);
out:
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(msg, sizeof(msg));
	return r;
}

int m_kdfe(uint16_t hash_alg, const uint8_t *z, size_t z_len, const char *label,
	   const uint8_t *party_u, size_t u_len, const uint8_t *party_v, size_t v_len,
	   uint32_t bits, uint8_t *out)
{
	const EVP_MD *md = m_alg_md(hash_alg);
	size_t need = (bits + 7) / 8, done = 0;
	uint8_t cnt[4], blk[EVP_MAX_MD_SIZE];
	unsigned blen;
	int r = 0;

	if (!md)
		return m_err(-ENOTSUP, "KDFe: hash algorithm 0x%04x", hash_alg);
	if (bits == 0 || bits > KDF_MAX_BITS)
		return m_err(-EINVAL, "KDFe: %u bits", bits);
	for (uint32_t i = 1; done < need; i++) {
		EVP_MD_CTX *h = EVP_MD_CTX_new();

		be32(cnt, i);
		if (!h || !EVP_DigestInit_ex(h, md, NULL) || !EVP_DigestUpdate(h, cnt, 4) ||
		    !EVP_DigestUpdate(h, z, z_len) ||
		    !EVP_DigestUpdate(h, label, strlen(label) + 1) ||
		    (u_len && !EVP_DigestUpdate(h, party_u, u_len)) ||
		    (v_len && !EVP_DigestUpdate(h, party_v, v_len)) || !EVP_DigestFinal_ex(h, blk, &blen)) {
			EVP_MD_CTX_free(h);
			r = m_err(-EIO, "KDFe: hash failed");
			goto out;
		}
		EVP_MD_CTX_free(h);
		memcpy(out + done, blk, need - done < blen ? need - done : blen);
		done += need - done < blen ? need - done : blen;
	}
	if (bits % 8)
		out[0] &= (uint8_t)((1u << (bits % 8)) - 1);
out:
	OPENSSL_cleanse(blk, sizeof(blk));
	return r;
}
