/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CREDENTIAL_H
#define MEASURED_CREDENTIAL_H

/*
 * TPM2_MakeCredential in software (TPM 2.0 Part 1, 24 "Credential
 * Protection"; Part 3, 12.6): a secret that only the TPM holding the EK can
 * recover with TPM2_ActivateCredential, and only for an object (the AK)
 * whose Name is the one given.  The verifier uses it twice: to prove at
 * enrolment that the AK lives in the EK's TPM, and to wrap the key of a
 * released payload.
 */

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

/* The credential is a TPM2B_DIGEST: at most the EK nameAlg's digest size. */
#define M_CRED_SECRET_MAX sizeof(((TPM2B_DIGEST *)0)->buffer)
#define M_CRED_BLOB_MAX   sizeof(TPM2B_ID_OBJECT)
#define M_CRED_SEED_MAX   sizeof(TPM2B_ENCRYPTED_SECRET)

struct m_credential {
	uint8_t blob[M_CRED_BLOB_MAX];		/* marshalled TPM2B_ID_OBJECT */
	size_t blob_len;
	uint8_t secret[M_CRED_SEED_MAX];	/* marshalled TPM2B_ENCRYPTED_SECRET */
	size_t secret_len;
};

/**
 * m_make_credential() - wrap @cred (at most the digest size of @ek's
 * nameAlg) to the EK @ek for the object named @name (nameAlg || digest,
 * as m_tpm_public_name() computes it).  RSA EKs: seed under RSA-OAEP with
 * label "IDENTITY"; ECC EKs: ECDH with an ephemeral key and KDFe.  Then
 * KDFa "STORAGE" / "INTEGRITY", AES-CFB with the EK's symmetric
 * parameters, outer HMAC (Part 1, 24.4 and 24.5).
 */
int m_make_credential(const TPMT_PUBLIC *ek, const uint8_t *name, size_t name_len,
		      const uint8_t *cred, size_t cred_len, struct m_credential *ret);

/**
 * m_kdfa() - KDFa (Part 1, 11.4.10.2): HMAC-based counter-mode KDF, the
 * label with its terminating NUL, @bits of output into @out.
 */
int m_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_len, const char *label,
	   const uint8_t *ctx_u, size_t u_len, const uint8_t *ctx_v, size_t v_len,
	   uint32_t bits, uint8_t *out);

/** m_kdfe() - KDFe (Part 1, 11.4.10.3): hash-based, for ECDH shared secrets. */
int m_kdfe(uint16_t hash_alg, const uint8_t *z, size_t z_len, const char *label,
	   const uint8_t *party_u, size_t u_len, const uint8_t *party_v, size_t v_len,
	   uint32_t bits, uint8_t *out);

#endif
