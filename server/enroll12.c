// SPDX-License-Identifier: MIT
/*
 * Enrolment of a TPM 1.2 (docs/api.md, "TPM 1.2"): the privacy-CA protocol
 * of TPM Main 1.2 without a CA certificate.  The request carries the EK and
 * the AIK as TPM_PUBKEY (Part 2, 10.5), the label's SHA-1 and the AIK's
 * identity binding from TPM_MakeIdentity (its own signature over
 * TPM_IDENTITY_CONTENTS, Part 2, 12.5), and the EK certificate from NV if
 * the TPM has one.  The EK is trusted as a 2.0 EK is (srv_ek_trust()); the
 * answer is TPM_ASYM_CA_CONTENTS encrypted to the EK (m_t12_activation_blob():
 * a 16-byte session key and the AIK's digest), which only the TPM holding
 * the EK opens with TPM_ActivateIdentity, and only for that AIK.
 * /v1/activate compares the returned key as it compares a 2.0 secret.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/base64.h"
#include "measured/error.h"
#include "server.h"

#define SESSION_KEY_LEN 16u	/* AES-128: what TPM_ActivateIdentity releases (docs/tpm12.md) */

struct enr12 {
	struct srv *s;
	struct m_store *st;
	struct srv_reply *rep;
	uint8_t *ekb, *akb, *certb, *labelb, *bindb;
	size_t ekl, akl, certl, labell, bindl;
	struct m_t12_pubkey ek, aik;
	const char *trust;
	bool known_ek;
	struct m_enrolment e;
	uint8_t key[SESSION_KEY_LEN];
	uint8_t blob[M_T12_MODULUS_MAX];
	size_t blob_len;
};

/* request: name, EK and AIK as TPM_PUBKEY, label digest, identity binding, optional EK certificate */
static int e12_request(struct enr12 *x, json_object *req)
{
	int r;

	if (srv_get_name(req, "machine", x->rep, x->rep->machine, sizeof(x->rep->machine)) < 0 ||
	    srv_get_b64(req, "ek_pub", M_T12_PUBKEY_MAX, false, x->rep, &x->ekb, &x->ekl) < 0 ||
	    srv_get_b64(req, "ak_pub", M_T12_PUBKEY_MAX, false, x->rep, &x->akb, &x->akl) < 0 ||
	    srv_get_b64(req, "label_digest", 20, false, x->rep, &x->labelb, &x->labell) < 0 ||
	    srv_get_b64(req, "identity_binding", M_T12_SIG_MAX, false, x->rep, &x->bindb, &x->bindl) < 0 ||
	    srv_get_b64(req, "ek_cert", M_EK_CERT_MAX, true, x->rep, &x->certb, &x->certl) < 0)
		return -1;
	if (x->labell != 20) {
		srv_fail(x->rep, 400, "bad-request", "label_digest: 20 bytes (SHA-1) are required");
		return -1;
	}
	if ((r = m_t12_pubkey_parse(x->ekb, x->ekl, &x->ek)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		return -1;
	}
	if ((r = m_t12_pubkey_parse(x->akb, x->akl, &x->aik)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ak_pub: %s", m_errmsg(r));
		return -1;
	}
	return 0;
}

/* trust: the AIK's identity binding, then the EK (certificate, or on first use if configured) */
static int e12_trust(struct enr12 *x)
{
	EVP_PKEY *ekkey = NULL;
	int r;

	r = m_t12_identity_verify(&x->aik, x->labelb, x->bindb, x->bindl);
	if (r == -ENOMEM) {
		srv_fail(x->rep, 500, "internal-error", "out of memory");
		return -2;
	}
	if (r < 0) {
		srv_fail(x->rep, 403, "ak-attributes", "identity_binding: %s", m_errmsg(r));
		return -1;
	}
	if ((r = m_t12_pubkey_to_pkey(&x->ek, &ekkey)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		return -1;
	}
	r = srv_ek_trust(x->s, x->certb, x->certl, ekkey, x->rep, &x->trust);
	EVP_PKEY_free(ekkey);
	return r;
}

/* the activation blob for the EK and AIK; only the session key's hash is kept, pending activation */
static int e12_blob(struct enr12 *x)
{
	uint8_t id[16], h[32];
	int r;

	if (RAND_bytes(x->key, sizeof(x->key)) != 1 || RAND_bytes(id, sizeof(id)) != 1) {
		srv_fail(x->rep, 500, "internal-error", "no randomness");
		return -1;
	}
	r = m_t12_activation_blob(&x->ek, &x->aik, x->key, x->blob, &x->blob_len);
	if (r < 0) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		return -1;
	}
	m_hex(id, sizeof(id), x->e.id);
	memcpy(x->e.machine, x->rep->machine, sizeof(x->e.machine));
	snprintf(x->e.ek_trust, sizeof(x->e.ek_trust), "%s", x->trust);
	snprintf(x->e.tpm, sizeof(x->e.tpm), "1.2");
	EVP_Digest(x->key, sizeof(x->key), h, NULL, EVP_sha256(), NULL);
	m_hex(h, sizeof(h), x->e.secret_hash);
	x->e.expires = (int64_t)time(NULL) + SRV_ENROL_TTL;
	r = m_store_enrolment_add(x->st, &x->e);
	if (r < 0) {
		slog_error("enrolment", r);
		srv_fail(x->rep, 503, "internal-error", "the database is unavailable");
		return -1;
	}
	return 0;
}

void srv_enroll12(struct srv *s, struct m_store *st, json_object *req, struct srv_reply *rep)
{
	struct enr12 x = { .s = s, .st = st, .rep = rep };
	json_object *o;
	int r = 0;

	if (e12_request(&x, req) < 0)
		goto out;
	/* the stored keys are the TPM_PUBKEYs as parsed: one text per key */
	x.e.ek_pub = m_b64_encode(x.ek.raw, x.ek.raw_len);
	x.e.ak_pub = m_b64_encode(x.aik.raw, x.aik.raw_len);
	if (!x.e.ek_pub || !x.e.ak_pub) {
		srv_fail(rep, 500, "internal-error", "out of memory");
		goto out;
	}
	if ((r = e12_trust(&x)) == -1 ||
	    (r = srv_enrol_name_check(st, rep, x.e.ek_pub, "1.2", &x.known_ek)) == -1) {
		srv_audit(s, st, false, rep->machine, "enroll-start", "fail", rep->reason, "");
		goto out;
	}
	if (r < 0 || e12_blob(&x) < 0)
		goto out;
	srv_audit(s, st, false, rep->machine, "enroll-start", "ok", "",
		  x.known_ek ? "re-enrolment of the enrolled EK (TPM 1.2)" : x.trust);
	o = json_object_new_object();
	json_object_object_add(o, "enrollment", json_object_new_string(x.e.id));
	json_object_object_add(o, "tpm", json_object_new_string("1.2"));
	json_object_object_add(o, "activation_blob", srv_b64_obj(x.blob, x.blob_len));
	srv_ok(rep, o);
out:
	OPENSSL_cleanse(x.key, sizeof(x.key));
	m_enrolment_clear(&x.e);
	free(x.ekb);
	free(x.akb);
	free(x.certb);
	free(x.labelb);
	free(x.bindb);
}
