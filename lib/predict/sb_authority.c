// SPDX-License-Identifier: MIT
/*
 * Which signature database entry lets an image load (include/measured/chain.h).
 * EFI_SIGNATURE_LIST (UEFI 2.10, 32.4.1): SignatureType GUID |
 * SignatureListSize u32 | SignatureHeaderSize u32 | SignatureSize u32 |
 * header | entries of SignatureSize bytes, each EFI_SIGNATURE_DATA =
 * SignatureOwner GUID | SignatureData.
 *
 * The trust decision is the one firmware (edk2 DxeImageVerificationLib)
 * and shim (verify.c check_db_cert/check_db_hash) make, reduced to what a
 * prediction needs: the first hash entry equal to the image's SHA-256
 * Authenticode digest, else the first certificate that is in the image's
 * PKCS#7 certificates or issued one of them (signature checked).
 */
#include <errno.h>
#include <string.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "measured/buf.h"
#include "measured/chain.h"
#include "measured/error.h"
#include "measured/pe.h"

static bool cert_allows(const uint8_t *der, size_t len, STACK_OF(X509) *certs)
{
	const unsigned char *p = der;
	X509 *ca = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *key;
	bool ok = false;

	if (!ca)
		return false;
	key = X509_get0_pubkey(ca);
	for (int i = 0; key && !ok && i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);

		if (X509_cmp(c, ca) == 0)
			ok = true;
		else if (X509_check_issued(ca, c) == X509_V_OK && X509_verify(c, key) == 1)
			ok = true;
	}
	X509_free(ca);
	return ok;
}

static STACK_OF(X509) *image_certs(const uint8_t *img, size_t len, PKCS7 **ret_p7)
{
	const uint8_t *sig;
	size_t siglen;
	const unsigned char *p;
	PKCS7 *p7;

	if (m_pe_signature(img, len, &sig, &siglen) < 0)
		return NULL;
	p = sig;
	p7 = d2i_PKCS7(NULL, &p, (long)siglen);
	if (!p7 || !PKCS7_type_is_signed(p7) || !p7->d.sign) {
		PKCS7_free(p7);
		return NULL;
	}
	*ret_p7 = p7;
	return p7->d.sign->cert;
}

int m_sb_authority(const uint8_t *img, size_t len, const uint8_t *esl, size_t esl_len,
		   const uint8_t **ret, size_t *ret_len)
{
	struct m_digests auth;
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *certs = image_certs(img, len, &p7);
	struct mbuf_reader r;
	int e = m_pe_authenticode(img, len, M_BANK_BIT(M_SHA256), &auth);

	if (e < 0)
		goto out;
	e = -ENOENT;
	mbr_init(&r, esl, esl_len);
	while (mbr_remaining(&r) >= 28 && e == -ENOENT) {
		const uint8_t *type = mbr_ptr(&r, 16);
		uint32_t lsize = mbr_le32(&r), hsize = mbr_le32(&r), ssize = mbr_le32(&r);
		bool x509 = !memcmp(type, M_EFI_CERT_X509_GUID.b, 16);
		bool sha256 = !memcmp(type, M_EFI_CERT_SHA256_GUID.b, 16);

		if (!mbr_ok(&r) || lsize < 28 || hsize > lsize - 28 || ssize < 16 ||
		    lsize - 28 > mbr_remaining(&r) || (lsize - 28 - hsize) % ssize) {
			e = m_err(-EINVAL, "signature list at 0x%zx malformed", r.off - 28);
			break;
		}
		mbr_skip(&r, hsize);
		for (uint32_t n = (lsize - 28 - hsize) / ssize; n > 0; n--) {
			const uint8_t *sd = mbr_ptr(&r, ssize);

			if ((sha256 && ssize == 48 && !memcmp(sd + 16, auth.d[M_SHA256], 32)) ||
			    (x509 && certs && cert_allows(sd + 16, ssize - 16, certs))) {
				*ret = sd;
				*ret_len = ssize;
				e = 0;
				break;
			}
		}
	}
out:
	PKCS7_free(p7);
	return e;
}
