/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_ATTEST_H
#define MEASURED_ATTEST_H

/*
 * TPM quotes as attestation evidence: the keys that make them (EK, AK), the
 * evidence document (docs/evidence.md) and its verification.  The verifier
 * server and `measured verify` call the same m_quote_verify().
 *
 * TPM structures are (un)marshalled by libtss2-mu only; the sizes below are
 * tpm2-tss's own maxima for each structure, and are the documented limits
 * of the evidence fields.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>
#include "measured/digest.h"
#include "measured/eventlog.h"
#include "measured/manifest.h"
#include "measured/pcrs.h"
#include "measured/tpm.h"

struct m_t12_pubkey;

#define M_EVIDENCE_VERSION   1
#define M_NONCE_MAX          sizeof(((TPM2B_DATA *)0)->buffer)	/* 64 */
#define M_ATTEST_MAX         sizeof(TPMS_ATTEST)
#define M_SIG_MAX            sizeof(TPMT_SIGNATURE)
#define M_AKPUB_MAX          sizeof(TPM2B_PUBLIC)
#define M_EVIDENCE_MAX_LOGS  4u			/* firmware, CEL, IMA, one spare */
#define M_EVIDENCE_MAX_SIZE  (96u << 20)	/* JSON text: 4/3 of M_LOG_MAX_SIZE and more */
#define M_NAME_MAX           sizeof(TPMU_NAME)

/* ---- keys (lib/attest/tpm_keys.c) ---- */

enum m_key_alg {
	M_KEY_RSA2048,		/* RSASSA-SHA256 AK; EK template L-1 */
	M_KEY_ECC_P256,		/* ECDSA-SHA256 AK; EK template L-2 */
};

/** m_key_alg_parse() - "rsa"/"rsa2048" or "ecc"/"ecc256"; -EINVAL otherwise. */
int m_key_alg_parse(const char *s, enum m_key_alg *ret);

/*
 * The TCG EK Credential Profile 2.0, 2.1.5.1/2.1.5.2 default templates
 * (L-1 RSA-2048, L-2 ECC NIST P-256) and our AK template.
 */
void m_ek_template(enum m_key_alg alg, TPM2B_PUBLIC *ret);
void m_ak_template(enum m_key_alg alg, TPM2B_PUBLIC *ret);

/**
 * m_tpm_create_primary() - TPM2_CreatePrimary of @tmpl in the endorsement
 * hierarchy.  @ret_handle is an ESYS_TR the caller flushes with
 * m_tpm_flush().  The AK is a primary key here: it derives from the
 * endorsement seed, so the same TPM recreates the same AK without storage
 * and without an EK policy session (docs/evidence.md, "Keys").
 */
int m_tpm_create_primary(struct m_tpm *tpm, const TPM2B_PUBLIC *tmpl, uint32_t *ret_handle,
			 TPM2B_PUBLIC *ret_pub);
/** m_tpm_load_persistent() - an ESYS_TR for persistent handle 0x81xxxxxx, and its public area. */
int m_tpm_load_persistent(struct m_tpm *tpm, uint32_t tpm_handle, uint32_t *ret_handle,
			  TPM2B_PUBLIC *ret_pub);
/** m_tpm_persist() - TPM2_EvictControl(owner) of transient @handle to @tpm_handle. */
int m_tpm_persist(struct m_tpm *tpm, uint32_t handle, uint32_t tpm_handle);
/** m_tpm_flush() - flush a transient object (no-op for persistent ones). */
void m_tpm_flush(struct m_tpm *tpm, uint32_t handle);
/**
 * m_tpm_ek_cert_read() - the EK certificate in NV index @nv_index
 * (0x01c00002 RSA, 0x01c0000a ECC P-256, 0x01c00016 ECC P-384), at most
 * M_EK_CERT_MAX bytes; -ENOENT when the index is not defined.
 */
#define M_EK_CERT_MAX 4096u
int m_tpm_ek_cert_read(struct m_tpm *tpm, uint32_t nv_index, uint8_t **ret, size_t *ret_len);

/**
 * m_ek_cert_check() - @der (an EK certificate) chains to a CA in the PEM
 * files @ca_files (intermediates included there) and certifies @ek;
 * -EACCES saying which check failed (lib/attest/ekcert.c).
 */
int m_ek_cert_check(const char *const *ca_files, size_t n_ca, const uint8_t *der, size_t len, EVP_PKEY *ek);
/** m_ek_ca_store_load() - the CAs of @ca_files as one store, loaded once (a verifier keeps it). */
int m_ek_ca_store_load(const char *const *ca_files, size_t n_ca, X509_STORE **ret);
/** m_ek_cert_verify() - m_ek_cert_check() against a loaded store. */
int m_ek_cert_verify(X509_STORE *store, const uint8_t *der, size_t len, EVP_PKEY *ek);

/* ---- public keys (lib/attest/akpub.c) ---- */

/**
 * m_tpm_public_parse() - a TPMT_PUBLIC from marshalled TPM2B_PUBLIC (what
 * tpm2_createak -u writes) or bare TPMT_PUBLIC (go-attestation's AK.Public):
 * both are tried, and the whole input must be consumed.
 */
int m_tpm_public_parse(const uint8_t *data, size_t len, TPMT_PUBLIC *ret);
/** m_tpm_public_to_pkey() - RSA or ECC (P-256/384/521) public key as an EVP_PKEY. */
int m_tpm_public_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **ret);
/** m_tpm_public_name() - nameAlg || H_nameAlg(marshalled TPMT_PUBLIC) (TPM 2.0 Part 1, 16). */
int m_tpm_public_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t *ret_len);
/** m_pkey_to_pem() - SubjectPublicKeyInfo PEM text, malloc'd. */
int m_pkey_to_pem(EVP_PKEY *key, char **ret);
/** m_pkey_from_pem() - a PEM public key (at most 64 KiB). */
int m_pkey_from_pem(const uint8_t *data, size_t len, EVP_PKEY **ret);

/* ---- evidence (lib/attest/evidence.c) ---- */

struct m_evidence_log {
	char format[24];	/* m_log_format_name() of the log */
	uint8_t *data;		/* raw log, at most M_LOG_MAX_SIZE */
	size_t len;
};

struct m_evidence {
	unsigned version;
	/* 20, or 12 for a TPM 1.2 quote ("tpm": "1.2"): then attest is the
	 * signed TPM_QUOTE_INFO2, sig the raw RSA signature and ak_pub the
	 * AIK's TPM_PUBKEY (docs/evidence.md) */
	unsigned tpm_family;
	uint8_t nonce[M_NONCE_MAX];
	size_t nonce_len;
	uint32_t sel[M_BANK_COUNT];	/* the quoted PCRs, per bank (informative) */
	uint8_t attest[M_ATTEST_MAX];	/* marshalled TPMS_ATTEST */
	size_t attest_len;
	uint8_t sig[M_SIG_MAX];		/* marshalled TPMT_SIGNATURE */
	size_t sig_len;
	uint8_t ak_pub[M_AKPUB_MAX];	/* marshalled TPM2B_PUBLIC of the AK */
	size_t ak_pub_len;
	struct m_pcrs pcrs;		/* the reported PCR values */
	struct m_evidence_log log[M_EVIDENCE_MAX_LOGS];
	size_t nlogs;
};

struct m_evidence *m_evidence_new(void);
void m_evidence_free(struct m_evidence *ev);
/** m_evidence_add_log() - copy @data (at most M_LOG_MAX_SIZE) as a log of @format. */
int m_evidence_add_log(struct m_evidence *ev, const char *format, const void *data, size_t len);
/**
 * m_evidence_add_log_file() - read the event log at @path, check that it
 * parses (a broken log is refused before it is sent) and add it with its
 * detected format.  With a non-zero @only_pcrs a log that extends none of
 * those PCRs is left out (a verifier refuses logs that explain nothing it
 * quoted): for logs picked by default rather than named by the user.
 */
int m_evidence_add_log_file(struct m_evidence *ev, const char *path, uint32_t only_pcrs);
/** m_evidence_to_json() - the JSON document (docs/evidence.md), malloc'd. */
int m_evidence_to_json(const struct m_evidence *ev, char **ret);
/**
 * m_evidence_to_json_object() - the same document as json-c objects, for a
 * caller that sends it within a larger one (the agent's attest request).
 */
struct json_object;
int m_evidence_to_json_object(const struct m_evidence *ev, struct json_object **ret);
/**
 * m_evidence_from_json() - parse a document of at most M_EVIDENCE_MAX_SIZE
 * bytes; errors name the field ("quote.attest: bad base64").
 */
int m_evidence_from_json(const char *text, size_t len, struct m_evidence **ret);
/**
 * m_evidence_from_json_object() - the same from a parsed document (json-c),
 * for a caller that parsed it within a larger one (the verifier's request;
 * the size limit is then the caller's).
 */
int m_evidence_from_json_object(struct json_object *root, struct m_evidence **ret);
/** m_evidence_load() - read @path (O_NOFOLLOW) and parse it. */
int m_evidence_load(const char *path, struct m_evidence **ret);

/* ---- quoting (lib/attest/quote.c) ---- */

struct m_quote_params {
	unsigned banks;			/* banks to quote */
	uint32_t pcrs;			/* PCRs to quote, in every bank */
	const uint8_t *nonce;		/* qualifying data, at most M_NONCE_MAX */
	size_t nonce_len;
	uint32_t ak_handle;		/* persistent AK (0x81...), or 0: primary AK of ak_alg */
	enum m_key_alg ak_alg;
	/* TPM 1.2 (sha1 only): the AIK's TPM_KEY blob from TPM_MakeIdentity and
	 * the 20-byte secrets of the AIK and the SRK */
	const uint8_t *aik_blob;
	size_t aik_blob_len;
	const uint8_t *aik_auth, *srk_auth;
	bool legacy_quote;		/* TPM 1.2: TPM_Quote instead of TPM_Quote2 */
};

/**
 * m_attest_quote() - TPM2_Quote with the AK, plus the PCR values it covers
 * (read afterwards, and re-quoted if a PCR moved in between).  On a TPM 1.2
 * TPM_Quote2 with the AIK of @p->aik_blob (lib/tpm12/quote12.c).
 */
int m_attest_quote(struct m_tpm *tpm, const struct m_quote_params *p, struct m_evidence **ret);

/* ---- a verifier's nonces (lib/attest/nonce.c) ---- */

#define M_NONCE_LEN     32u	/* random, expiry, MAC */
#define M_NONCE_KEY_LEN 32u

enum m_nonce_status {
	M_NONCE_OK = 0,
	M_NONCE_UNKNOWN,	/* not made with this key, for this machine */
	M_NONCE_EXPIRED,
	M_NONCE_REUSED,		/* m_store_nonce_use() said so */
};

/** m_nonce_make() - a fresh nonce for @machine, valid until @expires (seconds since the epoch). */
int m_nonce_make(const uint8_t key[M_NONCE_KEY_LEN], const char *machine, int64_t expires,
		 uint8_t out[M_NONCE_LEN]);
/** m_nonce_check() - was @nonce made with @key for @machine, and is it unexpired at @now? */
enum m_nonce_status m_nonce_check(const uint8_t key[M_NONCE_KEY_LEN], const char *machine,
				  const uint8_t *nonce, size_t len, int64_t now, int64_t *ret_expires);

/* ---- tpm2-tools file formats (lib/attest/tpm2tools.c) ---- */

/**
 * m_tpm2tools_pcrs_write() - the PCR file tpm2_quote -o writes and
 * tpm2_checkquote -f reads (tpm2-tools 5.x "values" format: the in-memory
 * TPML_PCR_SELECTION, a UINT32 count and that many TPML_DIGEST, host
 * byte order), for @sel taken from the quote and values from @pcrs.
 */
int m_tpm2tools_pcrs_write(const TPML_PCR_SELECTION *sel, const struct m_pcrs *pcrs, uint8_t **ret,
			   size_t *ret_len);
/** m_tpm2tools_pcrs_read() - parse that file (little-endian hosts' layout). */
int m_tpm2tools_pcrs_read(const uint8_t *data, size_t len, struct m_pcrs *ret);

/* ---- verification (lib/attest/verify_quote.c) ---- */

/* Stable reason codes: scripts and the server's audit log use the names. */
enum m_verify_reason {
	M_V_OK = 0,
	M_V_MALFORMED_QUOTE,		/* "malformed-quote" */
	M_V_NOT_TPM_GENERATED,		/* "not-tpm-generated" */
	M_V_WRONG_ATTEST_TYPE,		/* "wrong-attest-type" */
	M_V_UNSUPPORTED_ALG,		/* "unsupported-algorithm" */
	M_V_BAD_SIGNATURE,		/* "bad-signature" */
	M_V_AK_MISMATCH,		/* "ak-mismatch" */
	M_V_AK_ATTRIBUTES,		/* "ak-attributes" */
	M_V_NONCE_MISMATCH,		/* "nonce-mismatch" */
	M_V_PCR_MISSING,		/* "pcr-missing" */
	M_V_PCR_VALUE_MISSING,		/* "pcr-value-missing" */
	M_V_PCR_DIGEST_MISMATCH,	/* "pcr-digest-mismatch" */
	M_V_EVENTLOG_MALFORMED,		/* "eventlog-malformed" */
	M_V_EVENTLOG_UNTOUCHED_PCR,	/* "eventlog-untouched-pcr" */
	M_V_EVENTLOG_REPLAY_MISMATCH,	/* "eventlog-replay-mismatch" */
	M_V_MANIFEST_MISMATCH,		/* "manifest-mismatch" */
	M_V_REASON_COUNT,
};

const char *m_verify_reason_name(enum m_verify_reason r);

struct m_quote_check {
	const uint8_t *attest;		/* marshalled TPMS_ATTEST */
	size_t attest_len;
	const uint8_t *sig;		/* marshalled TPMT_SIGNATURE */
	size_t sig_len;
	/* the AK: its public area (attributes are checked) and/or a key; when
	 * only @ak_key is known (a PEM file) the attribute check cannot run
	 * and m_verify_result.ak_attributes_checked says so */
	const TPMT_PUBLIC *ak;
	EVP_PKEY *ak_key;		/* optional: a cached conversion of @ak */
	const uint8_t *nonce;
	size_t nonce_len;
	const struct m_pcrs *pcrs;	/* reported values; NULL: the PCR checks are skipped */
	const uint32_t *required;	/* [M_BANK_COUNT] PCRs the policy needs, or NULL */
	struct m_log *const *logs;	/* parsed logs, replayed in this order */
	size_t nlogs;
	/* a TPM 1.2 quote: attest is TPM_QUOTE_INFO2, sig a raw RSASSA-PKCS1-v1_5
	 * SHA-1 signature by @aik12 (@ak is then unused) */
	unsigned tpm_family;
	const struct m_t12_pubkey *aik12;
};

struct m_verify_result {
	enum m_verify_reason reason;	/* the first failed check, or M_V_OK */
	char msg[1024];
	bool ak_attributes_checked;
	/* from TPMS_ATTEST, for the server's rollback check (Part 2, 10.11.1) */
	uint64_t clock;
	uint32_t reset_count;
	uint32_t restart_count;
	bool safe;
	uint64_t firmware_version;
	uint32_t quoted[M_BANK_COUNT];	/* the quote's PCR selection */
	uint16_t sig_hash_alg;		/* TPM_ALG_ID of the signature's hash */
	unsigned tpm_family;		/* 12 for a TPM 1.2 quote (no clock fields), else 20 */
};

/**
 * m_quote_verify() - every check of the quote, in a fixed order; the first
 * that fails is reported in @res.  Returns 0 when the checks ran (whatever
 * their outcome), a negative errno only for an internal failure (memory).
 */
int m_quote_verify(const struct m_quote_check *c, struct m_verify_result *res);
/**
 * m_quote_self_check() - a quote just made, checked as a verifier will
 * check it, before it leaves the machine: @c holds the key; the quote,
 * signature, PCR values of @ev and the nonce are filled in here.  0 with
 * @ev->sel set, -EAGAIN when a PCR moved between the quote and the read
 * (quote again), -EIO naming the failed check.  Both TPM families use it.
 */
int m_quote_self_check(struct m_quote_check *c, struct m_evidence *ev, const uint8_t *nonce, size_t nonce_len);

/* The first difference from a reference manifest, copied out of the logs (m_first_difference_clear()). */
struct m_first_difference {
	size_t manifest;		/* which of m_evidence_check.manifests */
	uint32_t pcr;
	enum m_bank bank;
	enum m_check_status status;
	size_t index;			/* among the PCR's events */
	bool has_expected, has_found;
	uint32_t expected_type, found_type;
	char *expected_desc, *expected_source;	/* the manifest's text (NULL: none) */
	char *found_desc;		/* the log's text, escaped (include/measured/text.h); NULL: none */
	char expected_digest[2 * M_DIGEST_MAX + 1], found_digest[2 * M_DIGEST_MAX + 1];
	char found_log[48];		/* "eventlogs[N]" */
	char found_format[24];		/* m_log_format_name() of that log */
	uint32_t found_record;
	uint64_t found_offset;
};

void m_first_difference_clear(struct m_first_difference *d);

/* m_evidence_check.flags */
#define M_EVIDENCE_LOGS_REQUIRED 1u	/* no event log at all: "eventlog-untouched-pcr" */

/* What an evidence document is checked against (m_evidence_check()). */
struct m_evidence_check {
	const struct m_evidence *ev;
	/* the trusted AK: its public area and/or a key (from a PEM file: then
	 * the document's own public area must hold that key) */
	const TPMT_PUBLIC *ak;
	EVP_PKEY *ak_key;
	const uint8_t *nonce;		/* the nonce the quote must carry */
	size_t nonce_len;
	const uint32_t *required;	/* [M_BANK_COUNT] PCRs to be quoted, or NULL */
	const struct m_manifest *const *manifests;	/* each must match; may be none */
	size_t nmanifests;
	unsigned flags;
	/*
	 * Alternatives (optional): manifests[i] is in group groups[i], a group's
	 * manifests adjacent; the evidence must match one manifest of every
	 * group.  NULL: each manifest is a group of its own (all must match).
	 */
	const unsigned *groups;
	/* optional, [nmanifests]: true for the manifest each group matched */
	bool *ret_matched;
};

/**
 * m_evidence_check() - the one verification of an evidence document, used
 * by the verifier, `measured verify` and the library's callers.  In order:
 * key (the document's AK is the trusted one: "ak-mismatch"), logs (each
 * parses and is the format it declares: "eventlog-malformed"; the declared
 * text is never echoed), quote (m_quote_verify(): signature, nonce, PCR
 * selection, digest, replay), then each manifest: its PCRs must be quoted
 * in a bank it predicts them in and match there, and its events match the
 * logs ("manifest-mismatch"; an event difference is reported before a
 * value difference, as it says why).  Within a group of alternatives
 * (@c->groups) the manifests are tried in order and the first that
 * matches is the group's match; when none does, the group's difference is
 * that of its closest manifest: the one whose first difference comes
 * latest in the order the check walks (PCR, then the event's index among
 * the PCR's events), on a tie the later in the list.  The first failure is
 * in @res; @ret_first (optional; m_first_difference_clear() it) gets a
 * manifest difference.  Returns 0 when the checks ran, a negative errno for an
 * internal failure (memory).
 */
int m_evidence_check(const struct m_evidence_check *c, struct m_verify_result *res,
		     struct m_first_difference *ret_first);

/** m_evidence_verify() - m_evidence_check() without manifests. */
int m_evidence_verify(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
		      const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
		      struct m_verify_result *res);

/** m_evidence_verify_manifest() - m_evidence_check() with one manifest. */
int m_evidence_verify_manifest(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
			       const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
			       const struct m_manifest *manifest, struct m_verify_result *res,
			       struct m_first_difference *ret_first);

/* ---- credential activation (lib/attest/activate.c) ---- */

/**
 * m_tpm_activate_credential() - TPM2_ActivateCredential (TPM 2.0 Part 3,
 * 12.5): recover the secret a verifier wrapped with MakeCredential to the
 * EK @ek_handle and the name of the AK @ak_handle (both ESYS_TR).  The EK
 * of the TCG default templates is authorised by a policy session holding
 * PolicySecret(TPM_RH_ENDORSEMENT); the AK by a password session (empty
 * auth).  @ret is secret material: the caller wipes it.
 */
int m_tpm_activate_credential(struct m_tpm *tpm, uint32_t ak_handle, uint32_t ek_handle,
			      const TPM2B_ID_OBJECT *blob, const TPM2B_ENCRYPTED_SECRET *secret,
			      TPM2B_DIGEST *ret);

#endif
