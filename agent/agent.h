/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_AGENT_H
#define MEASURED_AGENT_H

/*
 * The attestation agent: `measured attest --server URL` (docs/agent.md).
 * It talks to the verifier over HTTPS (docs/api.md, libcurl), enrols the
 * TPM once (EK + AK, credential activation), then quotes with a nonce of
 * the server's and recovers the released payload with
 * TPM2_ActivateCredential and AES-256-GCM.  On a TPM 1.2 the same steps
 * use an AIK made with TPM_MakeIdentity and TPM_ActivateIdentity
 * (agent12.c), and the payload is AES-128-GCM.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <tss2/tss2_tpm2_types.h>
#include "measured/attest.h"
#include "measured/tpm.h"

/* ---- HTTPS client (agent/http.c) ---- */

/* Answer size limits (docs/agent.md): JSON of the small endpoints, and the
 * attest answer that carries a payload of at most M_PAYLOAD_MAX bytes in
 * base64 (4/3) plus the envelope. */
#define M_HTTP_SMALL_MAX   (64u << 10)
#define M_PAYLOAD_MAX      (64u << 20)
#define M_HTTP_ATTEST_MAX  (M_PAYLOAD_MAX / 3 * 4 + (1u << 20))
#define M_HTTP_JSON_DEPTH  16

#define M_HTTP_SERVERS_MAX 8	/* verifiers in one --server list */

struct m_http_opts {
	const char *server;		/* https://HOST[:PORT][/PREFIX], or several, comma-separated */
	const char *ca_cert;		/* PEM bundle to verify the server, or NULL: system CAs */
	const char *client_cert;	/* PEM, for mutual TLS (with client_key) */
	const char *client_key;
	long timeout_s;			/* whole request; 0: 60 s */
};

struct m_http;

/**
 * m_http_new() - a client for @o->server: one https:// URL or up to
 * M_HTTP_SERVERS_MAX of one fleet, comma-separated (agent/http.c says when
 * a request moves on to the next).
 */
int m_http_new(const struct m_http_opts *o, struct m_http **ret);
void m_http_free(struct m_http *h);

/**
 * m_http_post_json() - POST @body (JSON text) to server + @path and parse
 * the answer, at most @max bytes, as one JSON object.  The TLS peer and host
 * name are always verified.  @ret_status is the HTTP status; the answer is
 * returned for every status that carries a JSON object (403 included).
 * -ECONNREFUSED/-EHOSTUNREACH/-ETIMEDOUT/-EPROTO for transport errors,
 * -EFBIG over @max, -EBADMSG for an answer that is not a JSON object.
 */
int m_http_post_json(struct m_http *h, const char *path, const char *body, size_t max,
		     long *ret_status, json_object **ret);
/**
 * m_http_next() - send the following requests to the next verifier of the
 * list, saying so on stderr with @why; false once every verifier has
 * answered 503 since the last other answer (or there is only one).
 */
bool m_http_next(struct m_http *h, const char *why);

/* ---- JSON fields (agent/json_field.c) ---- */

/** m_json_str() - the string member @key of @o, or NULL (wrong type or absent). */
const char *m_json_str(json_object *o, const char *key);
/**
 * m_json_b64() - decode the base64 member @key (RFC 4648, padded) into at
 * most @max bytes, malloc'd.  Errors name the field.
 */
int m_json_b64(json_object *o, const char *key, size_t max, uint8_t **ret, size_t *ret_len);

/* ---- payload (agent/payload.c) ---- */

/**
 * m_payload_decrypt() - AES-GCM (NIST SP 800-38D) with @key (32 bytes:
 * AES-256; 16 bytes: AES-128, the key a TPM 1.2 recovers),
 * a 12-byte @iv and a 16-byte @tag, no additional data (docs/api.md).
 * The plaintext (at most M_PAYLOAD_MAX) is returned only if the tag checks.
 */
int m_payload_decrypt(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
		      const uint8_t *ct, size_t ct_len, const uint8_t *tag, size_t tag_len,
		      uint8_t **ret, size_t *ret_len);
/**
 * m_payload_write() - create @path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600),
 * write @data and fsync it; a partial file is removed.  An existing path
 * is -EEXIST: the agent never overwrites.
 */
int m_payload_write(const char *path, const uint8_t *data, size_t len);

/* ---- enrolment state (agent/state.c) ---- */

/*
 * STATE_DIR/enrollment.json: {"server","machine","enrollment","ak_name"}.
 * The AK is a primary key (same TPM, same key), so its name says whether
 * the state belongs to this TPM; a different AK name means enrol again.
 */
#define M_STATE_MAX (16u << 10)

struct m_agent_state {
	char server[1024];
	char machine[256];
	char enrollment[256];
	char ak_name[2 * sizeof(TPMU_NAME) + 1];	/* hex */
};

/** m_agent_state_load() - -ENOENT when there is no state yet. */
int m_agent_state_load(const char *dir, struct m_agent_state *ret);
/** m_agent_state_save() - written to a temporary file and renamed into place. */
int m_agent_state_save(const char *dir, const struct m_agent_state *s);

/* ---- TPM 1.2 (agent/agent12.c) ---- */

struct m_agent_config;
/* the AIK's key blob (TPM_KEY from TPM_MakeIdentity), STATE_DIR/aik12.blob */
/** m_agent12_aik_load() - -ENOENT when there is none yet. */
int m_agent12_aik_load(const char *dir, uint8_t *blob, size_t *ret_len);
/** m_agent12_aik_save() - written to a temporary file and renamed into place, mode 0600. */
int m_agent12_aik_save(const char *dir, const uint8_t *blob, size_t len);
/** m_agent12_aik_name() - hex SHA-1 of the blob's TPM_PUBKEY: the enrolment record's "ak_name". */
int m_agent12_aik_name(const uint8_t *blob, size_t len, char ret[2 * 20 + 1]);
/**
 * m_agent12_enroll_request() - a new AIK (TPM_MakeIdentity, label
 * "measured") and the /v1/enroll request for it: EK and AIK TPM_PUBKEYs,
 * the label's SHA-1, the identity binding, the EK certificate if the TPM
 * has one.  @blob (M_T12_KEYBLOB_MAX bytes) gets the AIK's key blob.
 */
int m_agent12_enroll_request(struct m_tpm *tpm, const struct m_agent_config *cfg, uint8_t *blob,
			     size_t *blob_len, json_object **ret);
/** m_agent12_activate() - TPM_ActivateIdentity of @act with the AIK of @aik_blob: the 16-byte key. */
int m_agent12_activate(struct m_tpm *tpm, const struct m_agent_config *cfg, const uint8_t *aik_blob,
		       size_t aik_len, const uint8_t *act, size_t act_len, uint8_t ret_key[16]);

/* ---- the whole exchange (agent/agent.c) ---- */

struct m_agent_config {
	const char *server;		/* for the state file */
	const char *machine;		/* at most 255 bytes */
	const char *state_dir;
	/* instead of writing @output: hand the released payload here (install mode, agent/install.h) */
	int (*deliver)(void *arg, const char *name, json_object *payload, const uint8_t *data, size_t len);
	void *deliver_arg;
	enum m_key_alg alg;		/* EK and AK algorithm */
	uint32_t pcrs;			/* 0: the PCRs the server names */
	unsigned banks;			/* 0: the server's banks, else every allocated bank */
	const char *const *logs;	/* event log files to send */
	size_t nlogs;
	bool logs_by_default;		/* picked by the agent: send only those touching a quoted PCR */
	const char *payload;		/* payload name to ask for, or NULL */
	const char *output;		/* where to write it */
	/* TPM 1.2: the owner's, the SRK's and the AIK's 20-byte secrets (NULL: the
	 * TSS well-known secret, 20 zero bytes) */
	const uint8_t *owner_auth, *srk_auth, *aik_auth;
};

enum m_agent_fault {
	M_AGENT_FAULT_NONE,
	M_AGENT_FAULT_TPM,		/* the TPM failed: exit 4 */
	M_AGENT_FAULT_IO,		/* network, protocol, local files: exit 3 */
};

struct m_agent_result {
	bool enrolled;			/* enrolment ran in this call */
	bool pass;			/* the verifier said "pass" */
	enum m_agent_fault fault;	/* why m_agent_run() returned < 0 */
	long http_status;		/* of the refusing answer */
	json_object *answer;		/* the verifier's last answer (pass or fail), owned */
	size_t payload_len;		/* bytes written to config.output */
};

/**
 * m_agent_run() - enrol if needed, attest, and release the payload.
 * Returns 0 when the verifier answered (see @ret->pass; a refusal is not an
 * error), a negative errno otherwise with @ret->fault saying whose.  The
 * caller frees @ret->answer with json_object_put().
 */
int m_agent_run(struct m_tpm *tpm, struct m_http *http, const struct m_agent_config *cfg,
		struct m_agent_result *ret);

#endif
