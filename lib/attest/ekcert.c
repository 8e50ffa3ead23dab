// SPDX-License-Identifier: MIT
/*
 * An EK certificate against the CAs a verifier trusts: the chain must
 * verify, and the certified key must be the EK the machine presented (a
 * certificate of another TPM's EK proves nothing about this one).
 */
#include <errno.h>
#include <openssl/x509.h>
#include "measured/attest.h"
#include "measured/error.h"

int m_ek_ca_store_load(const char *const *ca_files, size_t n_ca, X509_STORE **ret)
{
	X509_STORE *store = X509_STORE_new();

	if (!store)
		return -ENOMEM;
	for (size_t i = 0; i < n_ca; i++)
		if (X509_STORE_load_file(store, ca_files[i]) != 1) {
			X509_STORE_free(store);
			return m_err(-EINVAL, "%s: no PEM certificate could be read", ca_files[i]);
		}
	*ret = store;
	return 0;
}

int m_ek_cert_verify(X509_STORE *store, const uint8_t *der, size_t len, EVP_PKEY *ek)
{
	const unsigned char *p = der;
	X509_STORE_CTX *ctx = NULL;
	X509 *cert = NULL;
	EVP_PKEY *ckey;
	int r = -ENOMEM;

	cert = d2i_X509(NULL, &p, (long)len);
	if (!cert || p != der + len) {
		r = m_err(-EBADMSG, "the EK certificate is not one DER certificate");
		goto out;
	}
	ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		r = m_err(-EACCES, "the EK certificate does not chain to a trusted CA: %s",
			  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	/* the certificate must certify this EK, not another TPM's */
	ckey = X509_get0_pubkey(cert);
	if (!ckey || EVP_PKEY_eq(ckey, ek) != 1) {
		r = m_err(-EACCES, "the EK certificate is for another key than the EK presented");
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_free(cert);
	return r;
}

int m_ek_cert_check(const char *const *ca_files, size_t n_ca, const uint8_t *der, size_t len, EVP_PKEY *ek)
{
	X509_STORE *store;
	int r = m_ek_ca_store_load(ca_files, n_ca, &store);

	if (r < 0)
		return r;
	r = m_ek_cert_verify(store, der, len, ek);
	X509_STORE_free(store);
	return r;
}
