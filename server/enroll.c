// SPDX-License-Identifier: MIT
/*
 * Enrolment (docs/api.md): the EK is trusted through its certificate chain
 * (or, only when configured, on first use), the AK must be a restricted
 * signing key of a TPM, and the AK and EK are proven to share a TPM by
 * TPM2_ActivateCredential of a secret MakeCredential wrapped to the EK for
 * the AK's Name (TPM 2.0 Part 1, 24).  The store keeps only a hash of the
 * secret, and no answer ever contains it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <tss2/tss2_mu.h>
#include "measured/base64.h"
#include "measured/attest.h"
#include "measured/credential.h"
#include "measured/error.h"
#include "server.h"

#define SECRET_LEN 32u

int srv_ek_store_load(struct srv *s)
{
	int r;

	if (!s->cfg.n_ek_ca)
		return 0;
	r = m_ek_ca_store_load(s->cfg.ek_ca, s->cfg.n_ek_ca, &s->ek_store);
	return r < 0 ? m_err_prefix(r, "--ek-ca") : 0;
}

/* the library's check (lib/attest/ekcert.c) against the store loaded at start */
int srv_ek_cert_check(struct srv *s, const uint8_t *der, size_t len, EVP_PKEY *ekkey, char *why,
		      size_t why_len)
{
	int r;

	if (!s->ek_store) {
		snprintf(why, why_len, "no EK CA is configured");
		return -EACCES;
	}
	r = m_ek_cert_verify(s->ek_store, der, len, ekkey);
	if (r < 0)
		snprintf(why, why_len, "%s", m_errmsg(r));
	return r == -ENOMEM ? r : r < 0 ? -EACCES : 0;
}

/*
 * The EK's trust, for either TPM family: its certificate chains to a
 * configured CA and certifies @ekkey ("ca"), or trust on first use when,
 * and only when, configured ("tofu"); -1 with the answer set otherwise.
 */
int srv_ek_trust(struct srv *s, const uint8_t *cert, size_t cert_len, EVP_PKEY *ekkey, struct srv_reply *rep,
		 const char **ret_trust)
{
	char why[256];

	if (cert) {
		if (srv_ek_cert_check(s, cert, cert_len, ekkey, why, sizeof(why)) == 0)
			*ret_trust = "ca";
		else if (s->cfg.tofu && !s->ek_store)
			*ret_trust = "tofu";
		else {
			srv_fail(rep, 403, "ek-cert-invalid", "%s", why);
			return -1;
		}
	} else if (s->cfg.tofu) {
		*ret_trust = "tofu";
	} else {
		srv_fail(rep, 403, "ek-cert-invalid", "no EK certificate, and trust on first use is not enabled");
		return -1;
	}
	return 0;
}

/* TPM 2.0 Part 2, 8.3: a restricted signing key that cannot leave its TPM. */
static bool ak_attributes_ok(const TPMT_PUBLIC *ak)
{
	TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_RESTRICTED |
			   TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_SENSITIVEDATAORIGIN;

	return (ak->objectAttributes & need) == need && !(ak->objectAttributes & TPMA_OBJECT_DECRYPT);
}

/* One enrolment's state, through its stages (srv_enroll()). */
struct enr {
	struct srv *s;
	struct m_store *st;
	struct srv_reply *rep;
	uint8_t *ekb, *akb, *certb;
	size_t ekl, akl, certl;
	TPMT_PUBLIC ek, ak;
	const char *trust;	/* "ca" or "tofu" */
	bool known_ek;		/* the machine is enrolled with this EK: a new AK */
	struct m_enrolment e;
	struct m_credential cred;
	uint8_t secret[SECRET_LEN];
};

/* request: the machine name, the EK and AK public areas, the optional EK certificate */
static int enr_request(struct enr *x, json_object *req)
{
	int r;

	if (srv_get_name(req, "machine", x->rep, x->rep->machine, sizeof(x->rep->machine)) < 0 ||
	    srv_get_b64(req, "ek_pub", M_AKPUB_MAX, false, x->rep, &x->ekb, &x->ekl) < 0 ||
	    srv_get_b64(req, "ak_pub", M_AKPUB_MAX, false, x->rep, &x->akb, &x->akl) < 0 ||
	    srv_get_b64(req, "ek_cert", M_EK_CERT_MAX, true, x->rep, &x->certb, &x->certl) < 0)
		return -1;
	if ((r = m_tpm_public_parse(x->ekb, x->ekl, &x->ek)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		return -1;
	}
	if ((r = m_tpm_public_parse(x->akb, x->akl, &x->ak)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ak_pub: %s", m_errmsg(r));
		return -1;
	}
	return 0;
}

/* trust: a TPM's restricted signing AK; the EK through its certificate, or on first use if configured */
static int enr_trust(struct enr *x)
{
	EVP_PKEY *ekkey = NULL;
	int r;

	if (!ak_attributes_ok(&x->ak)) {
		srv_fail(x->rep, 403, "ak-attributes",
			 "the AK must be fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign (not decrypt)");
		return -1;
	}
	if ((r = m_tpm_public_to_pkey(&x->ek, &ekkey)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		return -1;
	}
	r = srv_ek_trust(x->s, x->certb, x->certl, ekkey, x->rep, &x->trust);
	EVP_PKEY_free(ekkey);
	return r;
}

/* name: ek_pub canonicalised (the TPM2B_PUBLIC of what was parsed); a name held by another EK is refused */
static int enr_name(struct enr *x)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;
	TPM2B_PUBLIC p2 = { .publicArea = x->ek };
	int r;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&p2, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: cannot be marshalled again");
		return -2;
	}
	x->e.ek_pub = m_b64_encode(buf, off);
	x->e.ak_pub = m_b64_encode(x->akb, x->akl);
	if (!x->e.ek_pub || !x->e.ak_pub) {
		srv_fail(x->rep, 500, "internal-error", "out of memory");
		return -2;
	}
	r = srv_enrol_name_check(x->st, x->rep, x->e.ek_pub, "2.0", &x->known_ek);
	return r;
}

/*
 * A name held by another EK (or by a TPM of the other family) is refused
 * (-1, "ek-mismatch"); -2 for a database failure; @ret_known: the machine
 * is enrolled with this EK (a new AK).
 */
int srv_enrol_name_check(struct m_store *st, struct srv_reply *rep, const char *ek_pub, const char *tpm,
			 bool *ret_known)
{
	struct m_machine old = { 0 };
	int r;

	r = m_store_machine_get(st, rep->machine, &old);
	if (r == 0 && (strcmp(old.ek_pub, ek_pub) != 0 || strcmp(old.tpm, tpm) != 0)) {
		m_machine_clear(&old);
		srv_fail(rep, 403, "ek-mismatch", "machine '%s' is enrolled with another EK", rep->machine);
		return -1;
	} else if (r < 0 && r != -ENOENT) {
		slog_error("machine", r);
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return -2;
	}
	/* the same EK enrolling again (a new AK): audited as that, not as a new first use */
	*ret_known = r == 0;
	m_machine_clear(&old);
	return 0;
}

/* credential: a secret wrapped to the EK for the AK's Name; only its hash is kept, pending activation */
static int enr_credential(struct enr *x)
{
	uint8_t id[16], name[M_NAME_MAX], h[32];
	size_t name_len;
	int r;

	if ((r = m_tpm_public_name(&x->ak, name, &name_len)) < 0) {
		srv_fail(x->rep, 400, "bad-request", "ak_pub: %s", m_errmsg(r));
		return -1;
	}
	if (RAND_bytes(x->secret, sizeof(x->secret)) != 1 || RAND_bytes(id, sizeof(id)) != 1) {
		srv_fail(x->rep, 500, "internal-error", "no randomness");
		return -1;
	}
	r = m_make_credential(&x->ek, name, name_len, x->secret, sizeof(x->secret), &x->cred);
	if (r < 0) {
		srv_fail(x->rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		return -1;
	}
	m_hex(id, sizeof(id), x->e.id);
	memcpy(x->e.machine, x->rep->machine, sizeof(x->e.machine));
	snprintf(x->e.ek_trust, sizeof(x->e.ek_trust), "%s", x->trust);
	EVP_Digest(x->secret, sizeof(x->secret), h, NULL, EVP_sha256(), NULL);
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

void srv_enroll(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct enr x = { .s = s, .st = srv_store(s), .rep = rep };
	json_object *o;
	int r = 0;

	if (!x.st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (json_object_object_get_ex(req, "tpm", &o) && o) {
		const char *fam = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";

		if (!strcmp(fam, "1.2")) {
			srv_enroll12(s, x.st, req, rep);	/* enroll12.c */
			return;
		}
		if (strcmp(fam, "2.0") != 0) {
			srv_fail(rep, 400, "bad-request", "tpm: \"1.2\" or \"2.0\"");
			return;
		}
	}
	if (enr_request(&x, req) < 0)
		goto out;
	/* anyone can start an enrolment (a victim's public EK and AK replayed): rate-limited records */
	if (enr_trust(&x) < 0 || (r = enr_name(&x)) == -1) {
		srv_audit(s, x.st, false, rep->machine, "enroll-start", "fail", rep->reason, "");
		goto out;
	}
	if (r < 0 || enr_credential(&x) < 0)
		goto out;
	srv_audit(s, x.st, false, rep->machine, "enroll-start", "ok", "",
		  x.known_ek ? "re-enrolment of the enrolled EK" : x.trust);
	o = json_object_new_object();
	json_object_object_add(o, "enrollment", json_object_new_string(x.e.id));
	json_object_object_add(o, "credential_blob", srv_b64_obj(x.cred.blob, x.cred.blob_len));
	json_object_object_add(o, "encrypted_secret", srv_b64_obj(x.cred.secret, x.cred.secret_len));
	srv_ok(rep, o);
out:
	OPENSSL_cleanse(x.secret, sizeof(x.secret));
	m_enrolment_clear(&x.e);
	free(x.ekb);
	free(x.akb);
	free(x.certb);
}

void srv_activate(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct m_store *st = srv_store(s);
	struct m_enrolment e = { 0 };
	struct m_machine m = { 0 }, prev = { 0 };
	bool known;
	uint8_t *sec = NULL, h[32];
	size_t secl;
	char hh[65], id[65];
	json_object *v, *o;
	int r;

	if (!st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (!json_object_object_get_ex(req, "enrollment", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != 32) {
		srv_fail(rep, 400, "bad-request", "enrollment: the 32-character ID /v1/enroll returned");
		return;
	}
	snprintf(id, sizeof(id), "%s", json_object_get_string(v));
	if (srv_get_b64(req, "secret", M_CRED_SECRET_MAX, false, rep, &sec, &secl) < 0)
		return;
	/* taken once: a wrong answer ends the enrolment (no guessing) */
	r = m_store_enrolment_take(st, id, &e);
	if (r == -ENOENT) {
		srv_fail(rep, 403, "activation-failed", "no pending enrolment with this ID (unknown, used or expired)");
		goto out;
	} else if (r < 0) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		goto out;
	}
	snprintf(rep->machine, sizeof(rep->machine), "%s", e.machine);
	EVP_Digest(sec, secl, h, NULL, EVP_sha256(), NULL);
	m_hex(h, sizeof(h), hh);
	if (e.expires < (int64_t)time(NULL)) {
		srv_fail(rep, 403, "activation-failed", "the enrolment expired; enrol again");
		goto audit_fail;
	}
	if (CRYPTO_memcmp(hh, e.secret_hash, 64) != 0) {
		srv_fail(rep, 403, "activation-failed",
			 !strcmp(e.tpm, "1.2") ? "the secret is not the activation blob's: the AIK is not in the TPM of this EK"
			 : "the secret is not the credential: the AK is not in the TPM of this EK");
		goto audit_fail;
	}
	snprintf(m.name, sizeof(m.name), "%s", e.machine);
	m.ek_pub = e.ek_pub;
	m.ak_pub = e.ak_pub;
	snprintf(m.ek_trust, sizeof(m.ek_trust), "%s", e.ek_trust);
	snprintf(m.tpm, sizeof(m.tpm), "%s", e.tpm);
	m.state = s->cfg.approve_policy ? M_MACHINE_APPROVED : M_MACHINE_PENDING;
	snprintf(m.policy, sizeof(m.policy), "%s", s->cfg.approve_policy ? s->cfg.approve_policy : "");
	/* a machine enrolled before with this EK (m_store_machine_enrol keeps its trust) */
	r = m_store_machine_get(st, e.machine, &prev);
	known = r == 0 && !strcmp(prev.ek_pub, e.ek_pub) && !strcmp(prev.tpm, e.tpm);
	m_machine_clear(&prev);
	r = m_store_machine_enrol(st, &m);
	m.ek_pub = m.ak_pub = NULL;
	srv_machine_forget(e.machine);	/* a new AK: this process reads the row again */
	if (r == -EEXIST) {
		srv_fail(rep, 403, "ek-mismatch", "machine '%s' is enrolled with another EK", e.machine);
		goto audit_fail;
	} else if (r < 0) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		goto out;
	}
	/* committed before the answer: a crash after this loses nothing */
	r = m_store_machine_get(st, e.machine, &m);
	srv_audit(s, st, true, e.machine, "enroll", "ok", "",
	      known ? "re-enrolment: the enrolled EK, a new AK"
	      : !strcmp(e.ek_trust, "tofu") ? "ek trusted on first use (tofu)" : "ek certificate chain verified");
	o = json_object_new_object();
	json_object_object_add(o, "machine", json_object_new_string(e.machine));
	json_object_object_add(o, "status", json_object_new_string(r == 0 && m.state == M_MACHINE_APPROVED
								   ? "approved" : "enrolled"));
	srv_ok(rep, o);
	goto out;
audit_fail:
	srv_audit(s, st, false, e.machine, "enroll", "fail", rep->reason, "");
out:
	if (sec)
		OPENSSL_cleanse(sec, secl);
	free(sec);
	m_machine_clear(&m);
	m_enrolment_clear(&e);
}
