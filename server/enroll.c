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

#define EK_CERT_MAX 8192u
#define SECRET_LEN 32u

int srv_ek_store_load(struct srv *s)
{
	if (!s->cfg.n_ek_ca)
		return 0;
	s->ek_store = X509_STORE_new();
	if (!s->ek_store)
		return -ENOMEM;
	for (size_t i = 0; i < s->cfg.n_ek_ca; i++)
		if (X509_STORE_load_file(s->ek_store, s->cfg.ek_ca[i]) != 1)
			return m_err(-EINVAL, "--ek-ca %s: no PEM certificate could be read", s->cfg.ek_ca[i]);
	return 0;
}

int srv_ek_cert_check(struct srv *s, const uint8_t *der, size_t len, const TPMT_PUBLIC *ek, char *why,
		      size_t why_len)
{
	const unsigned char *p = der;
	X509 *cert = NULL;
	X509_STORE_CTX *ctx = NULL;
	EVP_PKEY *ekkey = NULL, *ckey;
	int r = -EACCES;

	if (!s->ek_store) {
		snprintf(why, why_len, "no EK CA is configured");
		return r;
	}
	cert = d2i_X509(NULL, &p, (long)len);
	if (!cert || p != der + len) {
		snprintf(why, why_len, "ek_cert is not one DER certificate");
		goto out;
	}
	ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, s->ek_store, cert, NULL) != 1) {
		r = -ENOMEM;
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, why_len, "the EK certificate does not chain to a configured CA: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	/* the certificate must certify this EK, not another TPM's */
	ckey = X509_get0_pubkey(cert);
	if (m_tpm_public_to_pkey(ek, &ekkey) < 0 || !ckey || EVP_PKEY_eq(ckey, ekkey) != 1) {
		snprintf(why, why_len, "the EK certificate is for another key than ek_pub");
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(ekkey);
	return r;
}

/* TPM 2.0 Part 2, 8.3: a restricted signing key that cannot leave its TPM. */
static bool ak_attributes_ok(const TPMT_PUBLIC *ak)
{
	TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_RESTRICTED |
			   TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_SENSITIVEDATAORIGIN;

	return (ak->objectAttributes & need) == need && !(ak->objectAttributes & TPMA_OBJECT_DECRYPT);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

void srv_enroll(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct m_store *st = srv_store(s);
	uint8_t *ekb = NULL, *akb = NULL, *certb = NULL;
	size_t ekl, akl, certl;
	TPMT_PUBLIC ek, ak;
	struct m_machine old = { 0 };
	struct m_enrolment e = { 0 };
	struct m_credential cred;
	uint8_t secret[SECRET_LEN], id[16], name[M_NAME_MAX], h[32];
	size_t name_len;
	char why[256];
	const char *trust;
	bool known_ek;
	json_object *o;
	int r;

	if (!st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (srv_get_name(req, "machine", rep, rep->machine, sizeof(rep->machine)) < 0 ||
	    srv_get_b64(req, "ek_pub", M_AKPUB_MAX, false, rep, &ekb, &ekl) < 0 ||
	    srv_get_b64(req, "ak_pub", M_AKPUB_MAX, false, rep, &akb, &akl) < 0 ||
	    srv_get_b64(req, "ek_cert", EK_CERT_MAX, true, rep, &certb, &certl) < 0)
		goto out;
	if ((r = m_tpm_public_parse(ekb, ekl, &ek)) < 0) {
		srv_fail(rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		goto out;
	}
	if ((r = m_tpm_public_parse(akb, akl, &ak)) < 0) {
		srv_fail(rep, 400, "bad-request", "ak_pub: %s", m_errmsg(r));
		goto out;
	}
	if (!ak_attributes_ok(&ak)) {
		srv_fail(rep, 403, "ak-attributes",
			 "the AK must be fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign (not decrypt)");
		goto audit_fail;
	}
	if (certb) {
		if (srv_ek_cert_check(s, certb, certl, &ek, why, sizeof(why)) == 0)
			trust = "ca";
		else if (s->cfg.tofu && !s->ek_store)
			trust = "tofu";
		else {
			srv_fail(rep, 403, "ek-cert-invalid", "%s", why);
			goto audit_fail;
		}
	} else if (s->cfg.tofu) {
		trust = "tofu";
	} else {
		srv_fail(rep, 403, "ek-cert-invalid", "no EK certificate, and trust on first use is not enabled");
		goto audit_fail;
	}
	/* ek_pub is canonicalised as the TPM2B_PUBLIC of what was parsed */
	free(ekb);
	ekb = NULL;
	{
		uint8_t buf[sizeof(TPM2B_PUBLIC)];
		size_t off = 0;
		TPM2B_PUBLIC p2 = { .publicArea = ek };

		if (Tss2_MU_TPM2B_PUBLIC_Marshal(&p2, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS) {
			srv_fail(rep, 400, "bad-request", "ek_pub: cannot be marshalled again");
			goto out;
		}
		e.ek_pub = m_b64_encode(buf, off);
	}
	e.ak_pub = m_b64_encode(akb, akl);
	if (!e.ek_pub || !e.ak_pub) {
		srv_fail(rep, 500, "internal-error", "out of memory");
		goto out;
	}
	r = m_store_machine_get(st, rep->machine, &old);
	if (r == 0 && strcmp(old.ek_pub, e.ek_pub) != 0) {
		srv_fail(rep, 403, "ek-mismatch", "machine '%s' is enrolled with another EK", rep->machine);
		goto audit_fail;
	} else if (r < 0 && r != -ENOENT) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		goto out;
	}
	/* the same EK enrolling again (a new AK): audited as that, not as a new first use */
	known_ek = r == 0;
	if ((r = m_tpm_public_name(&ak, name, &name_len)) < 0) {
		srv_fail(rep, 400, "bad-request", "ak_pub: %s", m_errmsg(r));
		goto out;
	}
	if (RAND_bytes(secret, sizeof(secret)) != 1 || RAND_bytes(id, sizeof(id)) != 1) {
		srv_fail(rep, 500, "internal-error", "no randomness");
		goto out;
	}
	r = m_make_credential(&ek, name, name_len, secret, sizeof(secret), &cred);
	if (r < 0) {
		srv_fail(rep, 400, "bad-request", "ek_pub: %s", m_errmsg(r));
		goto out;
	}
	hex(id, sizeof(id), e.id);
	snprintf(e.machine, sizeof(e.machine), "%s", rep->machine);
	snprintf(e.ek_trust, sizeof(e.ek_trust), "%s", trust);
	EVP_Digest(secret, sizeof(secret), h, NULL, EVP_sha256(), NULL);
	hex(h, sizeof(h), e.secret_hash);
	e.expires = (int64_t)time(NULL) + SRV_ENROL_TTL;
	r = m_store_enrolment_add(st, &e);
	if (r < 0) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		goto out;
	}
	/* anyone can start an enrolment (a victim's public EK and AK replayed): rate-limited records */
	srv_audit(s, st, false, rep->machine, "enroll-start", "ok", "", known_ek ? "re-enrolment of the enrolled EK" : trust);
	o = json_object_new_object();
	json_object_object_add(o, "enrollment", json_object_new_string(e.id));
	json_object_object_add(o, "credential_blob", srv_b64_obj(cred.blob, cred.blob_len));
	json_object_object_add(o, "encrypted_secret", srv_b64_obj(cred.secret, cred.secret_len));
	srv_ok(rep, o);
	goto out;
audit_fail:
	srv_audit(s, st, false, rep->machine, "enroll-start", "fail", rep->reason, "");
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	m_machine_clear(&old);
	m_enrolment_clear(&e);
	free(ekb);
	free(akb);
	free(certb);
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
	hex(h, sizeof(h), hh);
	if (e.expires < (int64_t)time(NULL)) {
		srv_fail(rep, 403, "activation-failed", "the enrolment expired; enrol again");
		goto audit_fail;
	}
	if (CRYPTO_memcmp(hh, e.secret_hash, 64) != 0) {
		srv_fail(rep, 403, "activation-failed",
			 "the secret is not the credential: the AK is not in the TPM of this EK");
		goto audit_fail;
	}
	snprintf(m.name, sizeof(m.name), "%s", e.machine);
	m.ek_pub = e.ek_pub;
	m.ak_pub = e.ak_pub;
	snprintf(m.ek_trust, sizeof(m.ek_trust), "%s", e.ek_trust);
	m.state = s->cfg.approve_policy ? M_MACHINE_APPROVED : M_MACHINE_PENDING;
	snprintf(m.policy, sizeof(m.policy), "%s", s->cfg.approve_policy ? s->cfg.approve_policy : "");
	/* a machine enrolled before with this EK (m_store_machine_enrol keeps its trust) */
	r = m_store_machine_get(st, e.machine, &prev);
	known = r == 0 && !strcmp(prev.ek_pub, e.ek_pub);
	m_machine_clear(&prev);
	r = m_store_machine_enrol(st, &m);
	m.ek_pub = m.ak_pub = NULL;
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
