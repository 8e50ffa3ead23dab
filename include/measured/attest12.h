/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_ATTEST12_H
#define MEASURED_ATTEST12_H
/*
 * Attestation with a TPM 1.2 (TPM Main Specification 1.2 rev 116): the
 * attestation identity key (AIK) made with TPM_MakeIdentity and proven
 * with TPM_ActivateIdentity, quotes with TPM_Quote2, and the verifier's
 * side (the privacy CA's activation blob, quote verification).  Commands
 * that need an authorization use OIAP/OSAP sessions (Part 1, 13).  The
 * TPM must have an owner; the owner, SRK and AIK secrets are 20-byte
 * values (the TSS "well-known secret" is 20 zero bytes).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "measured/pcrs.h"
#include "measured/tpm.h"

#define M_T12_AUTH_LEN 20u
#define M_T12_NONCE_LEN 20u
/* An RSA key of at most 2048 bits, which is all a TPM 1.2 makes. */
#define M_T12_MODULUS_MAX 256u
/* A TPM_KEY blob of a 2048-bit key: its public part, an encrypted private
 * part of one modulus and parameters; 1 KiB leaves room. */
#define M_T12_KEYBLOB_MAX 1024u
#define M_T12_SIG_MAX M_T12_MODULUS_MAX
/* TPM_PUBKEY of a 2048-bit RSA key: 12 + 12 + 4 + 256 bytes, and room. */
#define M_T12_PUBKEY_MAX 512u
/* TPM_PCR_INFO_SHORT with a 3-byte selection: 2 + 3 + 1 + 20. */
#define M_T12_PCRINFO_SHORT_LEN 26u

/* An RSA public key as a TPM 1.2 describes it: the TPM_PUBKEY bytes
 * (Part 2, 10.5) and the fields a verifier uses. */
struct m_t12_pubkey {
	uint8_t raw[M_T12_PUBKEY_MAX];	/* marshalled TPM_PUBKEY */
	size_t raw_len;
	uint8_t n[M_T12_MODULUS_MAX];
	size_t n_len;
	uint32_t exponent;		/* 0 means 65537 (Part 2, 5.1 TPM_RSA_KEY_PARMS) */
	uint16_t enc_scheme, sig_scheme;
};

/* ---- the verifier's side (lib/attest/quote12.c): no TPM ---- */

/** m_t12_pubkey_parse() - a TPM_PUBKEY (Part 2, 10.5) of an RSA key. */
int m_t12_pubkey_parse(const uint8_t *data, size_t len, struct m_t12_pubkey *ret);
/** m_t12_key_pubkey() - the TPM_PUBKEY inside a TPM_KEY or TPM_KEY12 blob (Part 2, 10.2, 10.3). */
int m_t12_key_pubkey(const uint8_t *blob, size_t len, struct m_t12_pubkey *ret);
/** m_t12_pubkey_to_pkey() - an OpenSSL RSA public key. */
int m_t12_pubkey_to_pkey(const struct m_t12_pubkey *k, EVP_PKEY **ret);

/**
 * m_t12_identity_verify() - TPM_MakeIdentity's identityBinding: the AIK's
 * own signature over TPM_IDENTITY_CONTENTS (Part 2, 12.5) with
 * @label_digest, proving the key is an identity key the TPM made.
 */
int m_t12_identity_verify(const struct m_t12_pubkey *aik, const uint8_t label_digest[20], const uint8_t *sig,
			  size_t sig_len);

/**
 * m_t12_activation_blob() - what a privacy CA sends for
 * TPM_ActivateIdentity: TPM_ASYM_CA_CONTENTS (Part 2, 12.4), the 16-byte
 * AES-128 @session_key and the digest of the AIK's TPM_PUBKEY, encrypted
 * to the EK with RSA-OAEP (SHA-1, MGF1-SHA-1, label "TCPA"; Part 1, 31.1.1).
 * Only the TPM holding the EK decrypts it, and it releases the key only
 * for an AIK it loaded with that public key.
 */
int m_t12_activation_blob(const struct m_t12_pubkey *ek, const struct m_t12_pubkey *aik,
			  const uint8_t session_key[16], uint8_t *ret_blob, size_t *ret_len);

/** m_t12_composite_digest() - SHA-1 of TPM_PCR_COMPOSITE (Part 2, 8.2) of @pcrs (sha1 bank) over @mask. */
int m_t12_composite_digest(const struct m_pcrs *pcrs, uint32_t mask, uint8_t ret[20]);

/* TPM_QUOTE_INFO2 (Part 2, 11.4): tag, "QUT2", externalData, TPM_PCR_INFO_SHORT. */
#define M_T12_QUOTE_INFO2_LEN (6u + 20u + M_T12_PCRINFO_SHORT_LEN)

/**
 * m_t12_external_data() - the 20-byte externalData a quote carries for a
 * verifier's nonce: the nonce itself when it is 20 bytes, else its SHA-1.
 */
int m_t12_external_data(const uint8_t *nonce, size_t len, uint8_t ret[20]);
/** m_t12_quote_info2() - the TPM_QUOTE_INFO2 a TPM_Quote2 answer signs. */
void m_t12_quote_info2(const uint8_t external[20], const uint8_t pcr_info[M_T12_PCRINFO_SHORT_LEN],
		       uint8_t ret[M_T12_QUOTE_INFO2_LEN]);
/* TPM_QUOTE_INFO (Part 2, 11.3): version 1.1.0.0, "QUOT", composite digest, externalData. */
#define M_T12_QUOTE_INFO_LEN (8u + 20u + 20u)
/** m_t12_quote_info() - the TPM_QUOTE_INFO a TPM_Quote answer signs. */
void m_t12_quote_info(const uint8_t external[20], const uint8_t digest[20], uint8_t ret[M_T12_QUOTE_INFO_LEN]);

/* What a quote signed: TPM_QUOTE_INFO2 (TPM_Quote2) or TPM_QUOTE_INFO (TPM_Quote). */
struct m_t12_quote_info {
	bool v2;			/* QUT2 */
	uint8_t external[20];
	size_t external_off;		/* where externalData sits in the structure */
	uint32_t mask;			/* QUT2: the PCR selection (0-23); QUOT carries none */
	uint8_t digest[20];		/* SHA-1 of the TPM_PCR_COMPOSITE */
};
/** m_t12_quote_info_parse() - either structure; anything else is -EBADMSG. */
int m_t12_quote_info_parse(const uint8_t *data, size_t len, struct m_t12_quote_info *ret);
/**
 * m_t12_signature_verify() - RSASSA-PKCS1-v1_5 SHA-1 signature (the only
 * scheme of an identity key: TPM_SS_RSASSAPKCS1v15_SHA1) by @k over @msg;
 * -EBADMSG "WHAT: ..." if it does not verify or @k has another scheme.
 */
int m_t12_signature_verify(const struct m_t12_pubkey *k, const uint8_t *msg, size_t len, const uint8_t *sig,
			   size_t sig_len, const char *what);

/**
 * m_t12_tssblob_pubkey() - @k in the TSS 1.2 portable encoding of a public
 * key blob (DER TssBlob, TSS_BLOB_TYPE_PUBKEY): tpm-quote-tools' AIK files.
 */
int m_t12_tssblob_pubkey(const struct m_t12_pubkey *k, uint8_t *out, size_t cap, size_t *ret_len);

/* ---- tpm-quote-tools' files (lib/attest/quote12_tqt.c) ---- */

/** m_t12_tssblob_parse() - tpm_mkaik's public key file (DER TssBlob of a TPM_PUBKEY). */
int m_t12_tssblob_parse(const uint8_t *der, size_t len, struct m_t12_pubkey *ret);
/** m_t12_pcrvals_parse() - tpm_getquote -p's "N=HEX" lines into the sha1 bank; the PCRs in @ret_mask. */
int m_t12_pcrvals_parse(const char *text, size_t len, struct m_pcrs *ret, uint32_t *ret_mask);
/**
 * m_t12_evidence_from_quote_tools() - evidence for a tpm_getquote signature:
 * the TPM_QUOTE_INFO2 rebuilt from @pcrs over @mask, @nonce and locality 0.
 */
struct m_evidence;
int m_t12_evidence_from_quote_tools(const struct m_t12_pubkey *aik, const struct m_pcrs *pcrs, uint32_t mask,
				    const uint8_t nonce[20], const uint8_t *sig, size_t sig_len,
				    struct m_evidence **ret);

/* ---- the TPM's side (lib/tpm12/identity.c, wrapkey.c) ---- */

/**
 * m_tpm12_ek_cert_read() - the EK certificate (DER, at most M_EK_CERT_MAX
 * bytes, malloc'd) from NV index TPM_NV_INDEX_EKCert, owner authorized;
 * -ENOENT when the TPM has none.
 */
int m_tpm12_ek_cert_read(struct m_tpm *tpm, const uint8_t owner_auth[20], uint8_t **ret, size_t *ret_len);
/** m_tpm12_ek_public() - the EK's TPM_PUBKEY (TPM_OwnerReadInternalPub, owner authorized). */
int m_tpm12_ek_public(struct m_tpm *tpm, const uint8_t owner_auth[20], struct m_t12_pubkey *ret);
/**
 * m_tpm12_make_identity() - TPM_MakeIdentity: a 2048-bit RSA identity key
 * (signing scheme RSASSA-PKCS1-v1_5 SHA-1) under the SRK with usage secret
 * @aik_auth, bound to @label_digest.  @ret_blob gets the TPM_KEY blob
 * (wrapped by the SRK, loadable with m_tpm12_load_key()), @ret_binding the
 * identityBinding signature.
 */
int m_tpm12_make_identity(struct m_tpm *tpm, const uint8_t owner_auth[20], const uint8_t srk_auth[20],
			  const uint8_t aik_auth[20], const uint8_t label_digest[20], uint8_t *ret_blob,
			  size_t *ret_blob_len, uint8_t *ret_binding, size_t *ret_binding_len);
/**
 * m_tpm12_create_signing_key() - TPM_CreateWrapKey (Part 3, 10.4): a 2048-bit
 * RSA signing key (TPM_KEY_SIGNING, RSASSA-PKCS1-v1_5 SHA-1, not
 * migratable) under the SRK with usage secret @key_auth.  No identity key:
 * it signs what it is given (TPM_Sign) as well as quotes, so a verifier
 * must never take it for one.  @ret_blob (M_T12_KEYBLOB_MAX bytes) gets the
 * TPM_KEY blob, loadable with m_tpm12_load_key().
 */
int m_tpm12_create_signing_key(struct m_tpm *tpm, const uint8_t srk_auth[20], const uint8_t key_auth[20],
			       uint8_t *ret_blob, size_t *ret_blob_len);
/** m_tpm12_load_key() - TPM_LoadKey2 of a TPM_KEY blob under the SRK; flush with m_tpm12_flush_key(). */
int m_tpm12_load_key(struct m_tpm *tpm, const uint8_t srk_auth[20], const uint8_t *blob, size_t len,
		     uint32_t *ret_handle);
void m_tpm12_flush_key(struct m_tpm *tpm, uint32_t handle);
/**
 * m_tpm12_activate_identity() - TPM_ActivateIdentity: the session key of
 * @blob (m_t12_activation_blob()), which the TPM releases only for the AIK
 * loaded at @aik.  AES-128 keys only (16 bytes).
 */
int m_tpm12_activate_identity(struct m_tpm *tpm, uint32_t aik, const uint8_t aik_auth[20],
			      const uint8_t owner_auth[20], const uint8_t *blob, size_t len, uint8_t ret_key[16]);
/**
 * m_tpm12_quote2() - TPM_Quote2 of @mask (PCRs 0-23) with the AIK loaded at
 * @aik over @nonce, without version info: the TPM_PCR_INFO_SHORT and the
 * signature.
 */
int m_tpm12_quote2(struct m_tpm *tpm, uint32_t aik, const uint8_t aik_auth[20], const uint8_t nonce[20],
		   uint32_t mask, uint8_t ret_pcr_info[M_T12_PCRINFO_SHORT_LEN], uint8_t *ret_sig,
		   size_t *ret_sig_len);

/**
 * m_tpm12_quote() - TPM_Quote (the TPM 1.1 quote, Part 3, 16.3) of @mask:
 * SHA-1 of the TPM_PCR_COMPOSITE the TPM returned (the digest its
 * TPM_QUOTE_INFO carries) and the signature.
 */
int m_tpm12_quote(struct m_tpm *tpm, uint32_t aik, const uint8_t aik_auth[20], const uint8_t nonce[20],
		  uint32_t mask, uint8_t ret_digest[20], uint8_t *ret_sig, size_t *ret_sig_len);

/**
 * m_attest_quote12() - m_attest_quote() on a TPM 1.2: TPM_Quote2 with the AIK
 * of @p->aik_blob over the sha1 PCRs, externalData m_t12_external_data(nonce).
 */
struct m_quote_params;
struct m_evidence;
int m_attest_quote12(struct m_tpm *tpm, const struct m_quote_params *p, struct m_evidence **ret);

#endif
