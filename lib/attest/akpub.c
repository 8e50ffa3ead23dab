// SPDX-License-Identifier: MIT
/*
 * TPM public areas as OpenSSL keys and TPM names.  TPMT_PUBLIC is
 * (un)marshalled by libtss2-mu; the key material goes to OpenSSL through
 * the OpenSSL 3 parameter API (EVP_PKEY_fromdata), no deprecated RSA/EC_KEY.
 * An ECC key starts as a copy of its curve's parameters, made once: building
 * the curve's group from its name took three quarters of a conversion
 * (~22 us of ~28 us for P-256), and a verifier converts an AK per
 * attestation whenever its AK cache misses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/error.h"

int m_tpm_public_parse(const uint8_t *data, size_t len, TPMT_PUBLIC *ret)
{
	TPM2B_PUBLIC p2b;
	TPMT_PUBLIC pt;
	size_t off = 0;

	if (len > M_AKPUB_MAX)
		return m_err(-EINVAL, "public key: %zu bytes (at most %zu)", len, M_AKPUB_MAX);
	memset(&p2b, 0, sizeof(p2b));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(data, len, &off, &p2b) == TSS2_RC_SUCCESS && off == len) {
		*ret = p2b.publicArea;
		return 0;
	}
	off = 0;
	memset(&pt, 0, sizeof(pt));
	if (Tss2_MU_TPMT_PUBLIC_Unmarshal(data, len, &off, &pt) == TSS2_RC_SUCCESS && off == len) {
		*ret = pt;
		return 0;
	}
	return m_err(-EINVAL, "public key: neither a TPM2B_PUBLIC nor a TPMT_PUBLIC (%zu bytes)", len);
}

static const char *curve_name(TPMI_ECC_CURVE c, size_t *ret_size)
{
	switch (c) {
	case TPM2_ECC_NIST_P256: *ret_size = 32; return "prime256v1";
	case TPM2_ECC_NIST_P384: *ret_size = 48; return "secp384r1";
	case TPM2_ECC_NIST_P521: *ret_size = 66; return "secp521r1";
	}
	return NULL;
}

static int pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **ret)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	int r = -EINVAL;

	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!params || !ctx) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = m_err(-EINVAL, "public key: OpenSSL rejects the %s key material", type);
		goto out;
	}
	*ret = key;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return r;
}

static int rsa_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **ret)
{
	const TPMS_RSA_PARMS *rp = &pub->parameters.rsaDetail;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r = -ENOMEM;

	if (pub->unique.rsa.size == 0 || pub->unique.rsa.size * 8u != rp->keyBits)
		return m_err(-EINVAL, "public key: RSA modulus of %u bytes for %u bits",
			     pub->unique.rsa.size, rp->keyBits);
	n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL);
	/* Part 2, 12.2.3.5: exponent 0 means the default, 2^16 + 1 */
	e = BN_new();
	bld = OSSL_PARAM_BLD_new();
	if (!n || !e || !bld || !BN_set_word(e, rp->exponent ? rp->exponent : 65537))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	r = pkey_fromdata("RSA", bld, ret);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

static const TPMI_ECC_CURVE curves[] = { TPM2_ECC_NIST_P256, TPM2_ECC_NIST_P384, TPM2_ECC_NIST_P521 };
static EVP_PKEY *curve_params[3];	/* per curves[]: the group alone, no key; NULL if OpenSSL refused */
static pthread_once_t curve_once = PTHREAD_ONCE_INIT;

static void curve_params_init(void)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		size_t fs;
		OSSL_PARAM p[] = {
			OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve_name(curves[i], &fs), 0),
			OSSL_PARAM_END
		};
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

		if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
		    EVP_PKEY_fromdata(ctx, &curve_params[i], EVP_PKEY_KEY_PARAMETERS, p) <= 0)
			curve_params[i] = NULL;
		EVP_PKEY_CTX_free(ctx);
	}
}

static int ecc_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **ret)
{
	const TPMS_ECC_POINT *pt = &pub->unique.ecc;
	uint8_t point[1 + 2 * 66];
	EVP_PKEY *key, *params = NULL;
	size_t fs;

	if (!curve_name(pub->parameters.eccDetail.curveID, &fs))
		return m_err(-EOPNOTSUPP, "public key: unsupported ECC curve 0x%04x",
			     pub->parameters.eccDetail.curveID);
	if (pt->x.size == 0 || pt->x.size > fs || pt->y.size == 0 || pt->y.size > fs)
		return m_err(-EINVAL, "public key: ECC point coordinates of %u/%u bytes for a %zu-byte curve",
			     pt->x.size, pt->y.size, fs);
	pthread_once(&curve_once, curve_params_init);
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i] == pub->parameters.eccDetail.curveID)
			params = curve_params[i];
	if (!params)
		return m_err(-ENOMEM, "public key: OpenSSL has no group for curve 0x%04x",
			     pub->parameters.eccDetail.curveID);
	/* SEC 1, 2.3.3 uncompressed point; TPM coordinates may lack leading zeros */
	memset(point, 0, sizeof(point));
	point[0] = 0x04;
	memcpy(point + 1 + fs - pt->x.size, pt->x.buffer, pt->x.size);
	memcpy(point + 1 + 2 * fs - pt->y.size, pt->y.buffer, pt->y.size);
	key = EVP_PKEY_dup(params);
	if (!key)
		return -ENOMEM;
	/* the point is decoded and checked to be on the curve (SEC 1, 2.3.4) */
	if (EVP_PKEY_set1_encoded_public_key(key, point, 1 + 2 * fs) != 1) {
		EVP_PKEY_free(key);
		return m_err(-EINVAL, "public key: OpenSSL rejects the EC key material");
	}
	*ret = key;
	return 0;
}

int m_tpm_public_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **ret)
{
	switch (pub->type) {
	case TPM2_ALG_RSA:
		return rsa_to_pkey(pub, ret);
	case TPM2_ALG_ECC:
		return ecc_to_pkey(pub, ret);
	}
	return m_err(-EOPNOTSUPP, "public key: type 0x%04x is neither RSA nor ECC", pub->type);
}

int m_tpm_public_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t *ret_len)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	int b = m_bank_by_alg(pub->nameAlg);
	int r;

	if (b < 0)
		return m_err(-EOPNOTSUPP, "public key: nameAlg 0x%04x unsupported", pub->nameAlg);
	if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return m_err(-EINVAL, "public key: cannot marshal TPMT_PUBLIC");
	name[0] = pub->nameAlg >> 8;
	name[1] = pub->nameAlg & 0xff;
	r = m_digest_one((enum m_bank)b, buf, off, name + 2);
	if (r < 0)
		return r;
	*ret_len = 2 + m_bank_info((enum m_bank)b)->size;
	return 0;
}

int m_pkey_to_pem(EVP_PKEY *key, char **ret)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	if (!bio)
		return -ENOMEM;
	if (!PEM_write_bio_PUBKEY(bio, key)) {
		BIO_free(bio);
		return m_err(-EINVAL, "cannot write the public key as PEM");
	}
	n = BIO_get_mem_data(bio, &p);
	s = malloc((size_t)n + 1);
	if (!s) {
		BIO_free(bio);
		return -ENOMEM;
	}
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(bio);
	*ret = s;
	return 0;
}

#define PEM_MAX (64u << 10)

int m_pkey_from_pem(const uint8_t *data, size_t len, EVP_PKEY **ret)
{
	EVP_PKEY *key;
	BIO *bio;

	if (len > PEM_MAX)
		return m_err(-EINVAL, "PEM public key: %zu bytes (at most %u)", len, PEM_MAX);
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return -ENOMEM;
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key)
		return m_err(-EINVAL, "not a PEM public key");
	*ret = key;
	return 0;
}
