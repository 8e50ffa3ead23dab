// SPDX-License-Identifier: MIT
/*
 * TPM2_MakeCredential in software (TPM 2.0 Part 1, 24; Part 3, 12.6).
 *
 *   seed        random (RSA EK: nameAlg-size bytes, sent under RSA-OAEP with
 *               label "IDENTITY"), or KDFe(Z, "IDENTITY", Qe.x, Qs.x) after
 *               ECDH with an ephemeral key (ECC EK; the ephemeral point is sent)
 *   symKey      KDFa(nameAlg, seed, "STORAGE", Name, -, EK's symmetric keyBits)
 *   encIdentity AES-CFB(symKey, IV 0, TPM2B_DIGEST(credential))   (24.4)
 *   HMACkey     KDFa(nameAlg, seed, "INTEGRITY", -, -, digest bits)
 *   outerHMAC   HMAC(HMACkey, encIdentity || Name)                (24.5)
 *   blob        TPM2B_ID_OBJECT(TPM2B_DIGEST(outerHMAC) || encIdentity)
 */
#include <errno.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/credential.h"
#include "measured/error.h"

static const char LABEL_IDENTITY[] = "IDENTITY";

static int md_size(uint16_t alg, const EVP_MD **ret_md)
{
	int b = m_bank_by_alg(alg);

	if (b < 0 || b == M_SHA1 || !(*ret_md = m_bank_md((enum m_bank)b)))
		return m_err(-ENOTSUP, "EK nameAlg 0x%04x is not supported for MakeCredential", alg);
	return (int)m_bank_info((enum m_bank)b)->size;
}

/* RSA: a random seed, encrypted with OAEP(nameAlg) and label "IDENTITY\0" (Part 1, B.10.3). */
static int seed_rsa(EVP_PKEY *key, const EVP_MD *md, uint8_t *seed, size_t seed_len,
		    TPM2B_ENCRYPTED_SECRET *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	unsigned char *label = OPENSSL_malloc(sizeof(LABEL_IDENTITY));
	size_t olen = sizeof(out->secret);
	int r = -EIO;

	if (!ctx || !label)
		goto out;
	memcpy(label, LABEL_IDENTITY, sizeof(LABEL_IDENTITY));
	if (RAND_bytes(seed, (int)seed_len) != 1 || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0)
		goto out;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, sizeof(LABEL_IDENTITY)) <= 0)
		goto out;
	label = NULL;	/* owned by ctx now */
	if (EVP_PKEY_encrypt(ctx, out->secret, &olen, seed, seed_len) <= 0)
		goto out;
	out->size = (uint16_t)olen;
	r = 0;
out:
	OPENSSL_free(label);
	EVP_PKEY_CTX_free(ctx);
	return r < 0 ? m_err(r, "MakeCredential: RSA-OAEP encryption of the seed failed") : 0;
}

static int bn_fixed(EVP_PKEY *k, const char *param, uint8_t *out, size_t len)
{
	BIGNUM *bn = NULL;
	int ok = EVP_PKEY_get_bn_param(k, param, &bn) == 1 && BN_bn2binpad(bn, out, (int)len) == (int)len;

	BN_free(bn);
	return ok ? 0 : -EIO;
}

/* ECC: one-pass Diffie-Hellman, C(1, 1, ECC CDH) with an ephemeral key (Part 1, C.6.4). */
static int seed_ecc(EVP_PKEY *key, const TPMT_PUBLIC *ek, uint16_t alg, uint8_t *seed, size_t seed_len,
		    TPM2B_ENCRYPTED_SECRET *out)
{
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new(key, NULL), *dctx = NULL;
	EVP_PKEY *eph = NULL;
	TPMS_ECC_POINT pt = { 0 };
	uint8_t z[128];
	size_t zlen = sizeof(z), flen = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8, off = 0;
	int r = -EIO;

	if (!kctx || flen > sizeof(pt.x.buffer) || EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_keygen(kctx, &eph) <= 0)
		goto out;
	dctx = EVP_PKEY_CTX_new(eph, NULL);
	if (!dctx || EVP_PKEY_derive_init(dctx) <= 0 || EVP_PKEY_derive_set_peer(dctx, key) <= 0 ||
	    EVP_PKEY_derive(dctx, z, &zlen) <= 0)
		goto out;
	if (bn_fixed(eph, OSSL_PKEY_PARAM_EC_PUB_X, pt.x.buffer, flen) < 0 ||
	    bn_fixed(eph, OSSL_PKEY_PARAM_EC_PUB_Y, pt.y.buffer, flen) < 0)
		goto out;
	pt.x.size = pt.y.size = (uint16_t)flen;
	r = m_kdfe(alg, z, zlen, LABEL_IDENTITY, pt.x.buffer, flen, ek->unique.ecc.x.buffer,
		   ek->unique.ecc.x.size, (uint32_t)seed_len * 8, seed);
	if (r < 0)
		goto out;
	if (Tss2_MU_TPMS_ECC_POINT_Marshal(&pt, out->secret, sizeof(out->secret), &off) != TSS2_RC_SUCCESS) {
		r = -EIO;
		goto out;
	}
	out->size = (uint16_t)off;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_free(eph);
	return r < 0 ? m_err(r, "MakeCredential: ECDH with the EK failed") : 0;
}

int m_make_credential(const TPMT_PUBLIC *ek, const uint8_t *name, size_t name_len,
		      const uint8_t *cred, size_t cred_len, struct m_credential *ret)
{
	const EVP_MD *md = NULL;
	const TPMT_SYM_DEF_OBJECT *sym;
	EVP_PKEY *key = NULL;
	EVP_CIPHER_CTX *cctx = NULL;
	TPM2B_ENCRYPTED_SECRET es = { 0 };
	TPM2B_DIGEST plain = { 0 }, hmac = { 0 };
	TPM2B_ID_OBJECT id = { 0 };
	uint8_t seed[M_DIGEST_MAX], symkey[32], hkey[M_DIGEST_MAX], pbuf[sizeof(TPM2B_DIGEST)];
	uint8_t mac_in[sizeof(id.credential) + sizeof(TPMU_NAME)];
	size_t plen = 0, off;
	unsigned hlen;
	int dsize, outl, fl, r;

	dsize = md_size(ek->nameAlg, &md);
	if (dsize < 0)
		return dsize;
	if (cred_len == 0 || cred_len > (size_t)dsize)
		return m_err(-EINVAL, "MakeCredential: a credential of %zu bytes (1 to %d for this EK)",
			     cred_len, dsize);
	if (name_len < 2 || name_len > sizeof(TPMU_NAME))
		return m_err(-EINVAL, "MakeCredential: a name of %zu bytes", name_len);
	if (ek->type == TPM2_ALG_RSA)
		sym = &ek->parameters.rsaDetail.symmetric;
	else if (ek->type == TPM2_ALG_ECC)
		sym = &ek->parameters.eccDetail.symmetric;
	else
		return m_err(-ENOTSUP, "MakeCredential: EK type 0x%04x", ek->type);
	/* Part 1, 24.4: the EK's own symmetric definition protects the credential */
	if (sym->algorithm != TPM2_ALG_AES || sym->mode.aes != TPM2_ALG_CFB ||
	    (sym->keyBits.aes != 128 && sym->keyBits.aes != 256))
		return m_err(-ENOTSUP, "MakeCredential: the EK is not a storage key with AES-128/256-CFB");

	r = m_tpm_public_to_pkey(ek, &key);
	if (r < 0)
		return m_err_prefix(r, "EK");
	r = ek->type == TPM2_ALG_RSA ? seed_rsa(key, md, seed, (size_t)dsize, &es)
				     : seed_ecc(key, ek, ek->nameAlg, seed, (size_t)dsize, &es);
	if (r < 0)
		goto out;
	r = m_kdfa(ek->nameAlg, seed, (size_t)dsize, "STORAGE", name, name_len, NULL, 0,
		   sym->keyBits.aes, symkey);
	if (r < 0)
		goto out;
	r = m_kdfa(ek->nameAlg, seed, (size_t)dsize, "INTEGRITY", NULL, 0, NULL, 0,
		   (uint32_t)dsize * 8, hkey);
	if (r < 0)
		goto out;

	plain.size = (uint16_t)cred_len;
	memcpy(plain.buffer, cred, cred_len);
	if (Tss2_MU_TPM2B_DIGEST_Marshal(&plain, pbuf, sizeof(pbuf), &plen) != TSS2_RC_SUCCESS) {
		r = m_err(-EIO, "MakeCredential: marshalling the credential");
		goto out;
	}
	/* encIdentity goes after the HMAC's TPM2B in the blob: 2 + dsize bytes in */
	off = 2 + (size_t)dsize;
	r = -EIO;
	cctx = EVP_CIPHER_CTX_new();
	if (!cctx ||
	    !EVP_EncryptInit_ex(cctx, sym->keyBits.aes == 128 ? EVP_aes_128_cfb128() : EVP_aes_256_cfb128(),
				NULL, symkey, NULL) ||
	    !EVP_EncryptUpdate(cctx, id.credential + off, &outl, pbuf, (int)plen) ||
	    !EVP_EncryptFinal_ex(cctx, id.credential + off + outl, &fl)) {
		r = m_err(-EIO, "MakeCredential: AES-CFB failed");
		goto out;
	}
	memcpy(mac_in, id.credential + off, plen);
	memcpy(mac_in + plen, name, name_len);
	if (!HMAC(md, hkey, dsize, mac_in, plen + name_len, hmac.buffer, &hlen)) {
		r = m_err(-EIO, "MakeCredential: HMAC failed");
		goto out;
	}
	hmac.size = (uint16_t)hlen;
	off = 0;
	if (Tss2_MU_TPM2B_DIGEST_Marshal(&hmac, id.credential, sizeof(id.credential), &off) != TSS2_RC_SUCCESS) {
		r = m_err(-EIO, "MakeCredential: marshalling the HMAC");
		goto out;
	}
	id.size = (uint16_t)(off + plen);

	memset(ret, 0, sizeof(*ret));
	off = 0;
	if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(&id, ret->blob, sizeof(ret->blob), &off) != TSS2_RC_SUCCESS) {
		r = m_err(-EIO, "MakeCredential: marshalling TPM2B_ID_OBJECT");
		goto out;
	}
	ret->blob_len = off;
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&es, ret->secret, sizeof(ret->secret), &off) !=
	    TSS2_RC_SUCCESS) {
		r = m_err(-EIO, "MakeCredential: marshalling TPM2B_ENCRYPTED_SECRET");
		goto out;
	}
	ret->secret_len = off;
	r = 0;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(symkey, sizeof(symkey));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	OPENSSL_cleanse(pbuf, sizeof(pbuf));
	OPENSSL_cleanse(&plain, sizeof(plain));
	EVP_CIPHER_CTX_free(cctx);
	EVP_PKEY_free(key);
	return r;
}
