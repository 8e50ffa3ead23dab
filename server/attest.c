// SPDX-License-Identifier: MIT
/*
 * Nonces and attestation (docs/api.md).  The checks, in order, each with
 * its own reason code: the machine is known and approved; its policies
 * exist (fail closed); the evidence parses; the nonce is one a verifier of
 * this database made for this machine (m_nonce_check()), unexpired, used
 * now for the first and only time (settled last, with the result); then
 * the library's one evidence check, m_evidence_check() (the evidence's AK
 * is the enrolled one, the logs parse, m_quote_verify(): signature, magic,
 * type, AK attributes, nonce, policy PCRs quoted, PCR digest, logs replay;
 * the quoted values and, event by event, the logs match every policy's
 * reference manifest); clock/resetCount/restartCount never go backwards
 * (settle(); a TPM 1.2 quote has no clock).  Stages: machine, nonce, key, evidence, payload.  Only then is the
 * payload released: AES-GCM under a fresh key K, and K wrapped with
 * MakeCredential to the machine's EK for its AK's Name (on a TPM 1.2: in
 * an activation blob to the EK for the AIK, attest12.c), so only that TPM
 * can open it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "measured/base64.h"
#include "measured/attest.h"
#include "measured/credential.h"
#include "measured/error.h"
#include "measured/text.h"
#include "server.h"

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

/*
 * Known and approved; -1 with the answer set otherwise.  @cached: on the
 * way in, whether the remembered row may do (machine_cache.c); on the way
 * out, whether it did.  A row read is remembered (or forgotten, if the
 * machine is not approved).
 */
static int machine_ready(struct m_store *st, struct srv_reply *rep, struct m_machine *m, bool *cached)
{
	int r;

	if (*cached && srv_machine_recall(rep->machine, m))
		return 0;
	*cached = false;
	r = m_store_machine_get(st, rep->machine, m);
	if (r == 0)
		srv_machine_remember(m);
	else if (r == -ENOENT)
		srv_machine_forget(rep->machine);
	if (r == -ENOENT || (r == 0 && m->state == M_MACHINE_REVOKED)) {
		srv_fail(rep, 403, "unknown-machine", "machine '%s' is not enrolled, or was revoked", rep->machine);
		return -1;
	}
	if (r < 0) {
		slog_error("machine", r);
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return -1;
	}
	if (m->state != M_MACHINE_APPROVED) {
		srv_fail(rep, 403, "not-approved", "machine '%s' waits for an administrator's approval", rep->machine);
		return -1;
	}
	return 0;
}

/* the machine's policies; -1 with the answer set otherwise */
static int policies_for(struct srv *s, struct m_store *st, struct srv_reply *rep, const struct m_machine *m,
			struct srv_policy_set *ps)
{
	int r = srv_policies(s, st, m->policy, ps);

	if (r == -ENOENT || r == -E2BIG) {
		srv_fail(rep, 403, "unknown-policy", "%s", m_errmsg(r));
		return -1;
	} else if (r < 0) {
		/* the database failed, or holds what was never allowed in (a list over its maximum) */
		slog_error("policy", r);
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return -1;
	}
	return 0;
}

int srv_nonce_key_load(struct srv *s, struct m_store *st)
{
	uint8_t k[M_NONCE_KEY_LEN];
	char kh[2 * M_NONCE_KEY_LEN + 1], *v = NULL;
	int r;

	if (RAND_bytes(k, sizeof(k)) != 1)
		return m_err(-EIO, "no randomness");
	m_hex(k, sizeof(k), kh);
	r = m_store_secret(st, "nonce-key", kh, &v);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(kh, sizeof(kh));
	if (r < 0)
		return m_err_prefix(r, "the nonce key");
	if (strlen(v) != 2 * M_NONCE_KEY_LEN || m_unhex(v, s->nonce_key, M_NONCE_KEY_LEN) < 0)
		r = m_err(-EINVAL, "the database's nonce key is not %u hex bytes", M_NONCE_KEY_LEN);
	OPENSSL_cleanse(v, strlen(v));
	free(v);
	return r;
}

/*
 * /v1/nonce answers every name alike: a name that is not an approved
 * machine (unknown, pending, revoked) gets a nonce too, for the PCRs and
 * banks of the policies together (srv_decoy_selection()), so the answer
 * does not tell which names exist.  Its attestation fails at /v1/attest.
 */
void srv_nonce(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct m_store *st = srv_store(s);
	struct m_machine m = { 0 };
	struct srv_policy_set ps = { 0 };
	/* read, not recalled: the PCRs named are the current policies'; the attestation then recalls it */
	bool cached = false;
	uint8_t n[M_NONCE_LEN];
	char nh[2 * M_NONCE_LEN + 1];
	int64_t exp = now() + s->cfg.nonce_ttl;
	json_object *o, *pcrs, *banks;
	int r;

	if (!st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (srv_get_name(req, "machine", rep, rep->machine, sizeof(rep->machine)) < 0)
		goto out;
	if (machine_ready(st, rep, &m, &cached) < 0) {
		if (rep->status != 403)
			goto out;
		r = srv_decoy_selection(s, st, &ps.pcrs, &ps.banks);
		if (r < 0) {
			slog_error("policy", r);
			srv_fail(rep, 503, "internal-error", "the database is unavailable");
			goto out;
		}
	} else if (policies_for(s, st, rep, &m, &ps) < 0) {
		goto out;
	}
	/* nothing is written: the nonce carries its machine, expiry and MAC */
	if ((r = m_nonce_make(s->nonce_key, rep->machine, exp, n)) < 0) {
		srv_fail(rep, 500, "internal-error", "%s", m_errmsg(r));
		goto out;
	}
	m_hex(n, sizeof(n), nh);
	o = json_object_new_object();
	json_object_object_add(o, "nonce", json_object_new_string(nh));
	json_object_object_add(o, "expires", json_object_new_int64(exp));
	pcrs = json_object_new_array();
	for (unsigned p = 0; p < 32; p++)
		if (ps.pcrs & (1u << p))
			json_object_array_add(pcrs, json_object_new_int((int)p));
	banks = json_object_new_array();
	for_each_bank(b, ps.banks)
		json_object_array_add(banks, json_object_new_string(m_bank_info(b)->name));
	json_object_object_add(o, "pcrs", pcrs);
	json_object_object_add(o, "banks", banks);
	srv_ok(rep, o);
out:
	m_machine_clear(&m);
}

/* ---- a manifest difference as JSON (docs/api.md, "first_difference") ---- */

static void add_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static json_object *difference_obj(const char *policy, const char *label, const struct m_first_difference *d,
				   const char *msg)
{
	json_object *o = json_object_new_object();

	add_str(o, "policy", policy);
	add_str(o, "manifest", label);
	json_object_object_add(o, "pcr", json_object_new_int((int)d->pcr));
	add_str(o, "bank", m_bank_info(d->bank)->name);
	add_str(o, "status", m_check_status_name(d->status));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)d->index));
	if (d->has_expected) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "type", json_object_new_int64(d->expected_type));
		if (d->expected_digest[0])
			add_str(e, "digest", d->expected_digest);
		add_str(e, "description", d->expected_desc);
		add_str(e, "source", d->expected_source);
		json_object_object_add(o, "expected", e);
	}
	if (d->has_found) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "type", json_object_new_int64(d->found_type));
		if (d->found_digest[0])
			add_str(f, "digest", d->found_digest);
		if (d->found_format[0])
			add_str(f, "log", d->found_format);
		add_str(f, "description", d->found_desc);
		json_object_object_add(f, "record", json_object_new_int64(d->found_record));
		json_object_object_add(f, "offset", json_object_new_int64((int64_t)d->found_offset));
		json_object_object_add(o, "found", f);
	}
	add_str(o, "message", msg);
	return o;
}

/* ---- payload ---- */

/* TPM 2.0: K wrapped with MakeCredential to the EK for the AK's Name */
static int wrap_key20(const struct m_machine *m, const uint8_t *k, size_t klen, json_object *o)
{
	uint8_t *ekb = NULL, *akb = NULL, akname[M_NAME_MAX];
	size_t ekl, akl, anl;
	TPMT_PUBLIC ek, ak;
	struct m_credential cred;
	int r;

	r = m_b64_decode(m->ek_pub, strlen(m->ek_pub), M_AKPUB_MAX, NULL, &ekb, &ekl);
	if (r == 0)
		r = m_b64_decode(m->ak_pub, strlen(m->ak_pub), M_AKPUB_MAX, NULL, &akb, &akl);
	if (r == 0)
		r = m_tpm_public_parse(ekb, ekl, &ek);
	if (r == 0)
		r = m_tpm_public_parse(akb, akl, &ak);
	if (r == 0)
		r = m_tpm_public_name(&ak, akname, &anl);
	if (r == 0)
		r = m_make_credential(&ek, akname, anl, k, klen, &cred);
	if (r == 0) {
		json_object_object_add(o, "credential_blob", srv_b64_obj(cred.blob, cred.blob_len));
		json_object_object_add(o, "encrypted_secret", srv_b64_obj(cred.secret, cred.secret_len));
	}
	free(ekb);
	free(akb);
	return r;
}

/*
 * The payload, AES-GCM under a fresh key K that only the machine's TPM
 * can recover: 32 bytes (AES-256) wrapped with MakeCredential on a TPM
 * 2.0; 16 bytes (AES-128, what TPM_ActivateIdentity releases) in an
 * activation blob to the EK for the AIK on a TPM 1.2 (srv_wrap_key12()).
 */
static int seal_payload(const struct m_machine *m, const char *name, const uint8_t *data, size_t len,
			json_object **ret)
{
	bool t12 = !strcmp(m->tpm, "1.2");
	size_t klen = t12 ? 16 : 32;
	uint8_t k[32], iv[12], tag[16], *ct = NULL;
	EVP_CIPHER_CTX *c = NULL;
	int outl, fl, r;
	json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(name));
	if (RAND_bytes(k, (int)klen) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
		r = m_err(-EIO, "no randomness");
		goto out;
	}
	r = t12 ? srv_wrap_key12(m, k, o) : wrap_key20(m, k, klen, o);
	if (r < 0)
		goto out;
	ct = malloc(len + 16);
	c = EVP_CIPHER_CTX_new();
	if (!ct || !c || len > INT32_MAX) {
		r = -ENOMEM;
		goto out;
	}
	if (!EVP_EncryptInit_ex(c, t12 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, k, iv) ||
	    !EVP_EncryptUpdate(c, ct, &outl, data, (int)len) || !EVP_EncryptFinal_ex(c, ct + outl, &fl) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag)) {
		r = m_err(-EIO, "AES-GCM failed");
		goto out;
	}
	json_object_object_add(o, "iv", srv_b64_obj(iv, sizeof(iv)));
	json_object_object_add(o, "ciphertext", srv_b64_obj(ct, (size_t)(outl + fl)));
	json_object_object_add(o, "tag", srv_b64_obj(tag, sizeof(tag)));
	*ret = o;
	o = NULL;
	r = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	EVP_CIPHER_CTX_free(c);
	free(ct);
	json_object_put(o);
	return r;
}

/* ---- /v1/attest ---- */

static const char *fail_detail(const struct srv_reply *rep)
{
	return json_object_get_string(json_object_object_get(rep->body, "message"));
}

/*
 * The end of every attestation whose evidence carried a valid nonce, pass
 * or fail, in one transaction (one commit, one turn of SQLite's write
 * lock): the nonce is used up, and if it was used before, that is the
 * answer whatever else was found.  Only a verified quote changes the
 * machine's row: its clock is recorded (if it went backwards that is the
 * answer; it outranks a manifest mismatch, which the checks' order in
 * docs/api.md puts later) with the result.  Then the audit record: always
 * for a verified quote, rate-limited otherwise (srv_audit()).  The answer
 * leaves only after the commit: a pass is on record first, and a database
 * that fails here releases nothing.  -ESTALE, with nothing committed and
 * no answer set: @seen (the row the checks used) is not the machine's row
 * any more; check again.  With @confirm_reuse, a used nonce is -EALREADY,
 * nothing committed and no answer set: the machine check comes first
 * (docs/api.md), and @seen was not read for this request.
 */
static int settle(struct srv *s, struct m_store *st, struct srv_reply *rep, const struct m_machine *seen,
		  bool confirm_reuse, const char *nonce_hex, int64_t nonce_expires,
		  const struct m_verify_result *quote, const char *pass_detail, const char *matched)
{
	/* a TPM 2.0 quote: the nonce's use, the clock and the result in one go (one statement on PostgreSQL) */
	bool both = quote && quote->tpm_family != 12;
	const char *result = rep->status == 200 ? "pass" : "fail", *reason = rep->reason ? rep->reason : "";
	bool recorded = false;
	bool fresh = false, used;
	int r;

	/*
	 * A pass, in one exchange where the store can, with other requests'
	 * passes (group.c).  A used nonce wrote nothing there: its answer
	 * below needs no statement (the transaction begun stays empty).
	 * Anything else in its way is found and named the long way.  A
	 * statement whose answer was lost may have committed: the request is
	 * answered 503, as any write's (store_pg.c), not settled again.
	 */
	r = -EAGAIN;
	if (both && rep->status == 200 && !strcmp(m_store_kind(st), "postgresql")) {
		struct m_store_pass p = { .nonce_hex = nonce_hex, .expires = nonce_expires, .seen = seen,
					  .clock = quote->clock, .reset = quote->reset_count,
					  .restart = quote->restart_count, .matched = matched, .detail = pass_detail,
					  .at = now() };

		r = srv_pass_group(st, &p);
	}
	if (r == 0)
		return 0;
	if (r != -EAGAIN && r != -EALREADY) {
		slog_error("attest", r);
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return 0;
	}
	used = r == -EALREADY;
	r = m_store_begin(st);
	if (r == 0)
		r = used ? -EALREADY
		    : both ? m_store_nonce_use_attested(st, nonce_hex, nonce_expires, seen, quote->clock,
							quote->reset_count, quote->restart_count, result, reason, now())
			   : m_store_nonce_use(st, nonce_hex, rep->machine, nonce_expires);
	if (r == -EALREADY && confirm_reuse) {
		/* @seen is a remembered row: the caller checks it before this answer */
		m_store_rollback(st);
		return r;
	}
	if (r == -EALREADY) {
		srv_fail(rep, 403, "nonce-reused", "the nonce was used before");
		r = 0;
	} else {
		/* the nonce is used up, whatever the record's fate */
		fresh = r == 0 || (both && (r == -ERANGE || r == -EPERM || r == -ESTALE));
	}
	/* a TPM 1.2 quote has no clock: only the result is recorded */
	if (r == 0 && fresh && quote && !both)
		r = m_store_machine_result(st, seen, result, reason, now());
	if (fresh && quote) {
		if (r == -ERANGE) {
			srv_fail(rep, 403, "clock-rollback",
				 "the TPM's clock/resetCount/restartCount (%llu/%u/%u) is older than a previous quote's",
				 (unsigned long long)quote->clock, quote->reset_count, quote->restart_count);
			r = 0;	/* the row keeps its newer clock and result: this quote proved nothing new */
		} else if (r == -EPERM) {
			srv_fail(rep, 403, "unknown-machine", "machine '%s' was revoked", rep->machine);
			r = 0;	/* revoked while this request ran: nothing is released */
		} else {
			recorded = r == 0;
		}
	}
	/* beside the result: the manifests it matched, none for a failure */
	if (r == 0 && recorded)
		r = m_store_machine_matched(st, rep->machine, rep->status == 200 ? matched : "", now());
	/* the dashboard shows a failure's first difference (server/store/store_dash.h) */
	if (r == 0 && fresh && quote && rep->status != 200)
		r = srv_dash_record_difference(st, rep);
	/* the audit record goes with the commit (one exchange on PostgreSQL) */
	if (r == 0 && fresh && quote)
		r = m_store_audit_commit(st, rep->machine, "attest", rep->status == 200 ? "pass" : "fail",
					 rep->reason ? rep->reason : "",
					 rep->status == 200 ? pass_detail : fail_detail(rep));
	else if (r == 0)
		r = m_store_commit(st);
	else
		m_store_rollback(st);
	if (r == -ESTALE)
		return r;
	if (r < 0) {
		slog_error("attest", r);
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return 0;
	}
	if (!(fresh && quote))
		srv_audit(s, st, false, rep->machine, "attest", "fail", rep->reason ? rep->reason : "",
			  fail_detail(rep));
	return 0;
}

/* One attestation's state, through its stages (srv_attest()). */
struct att {
	struct srv *s;
	struct m_store *st;
	struct srv_reply *rep;
	struct m_machine m;
	struct srv_policy_set ps;
	struct m_evidence *ev;
	TPMT_PUBLIC ak;
	uint8_t *akb, *pdata;
	size_t akl, plen;
	EVP_PKEY *ak_key;
	char nh[2 * M_NONCE_MAX + 1], pname[M_STORE_NAME_MAX];
	bool matched[SRV_MAX_MANIFESTS];	/* which of ps.m the evidence matched */
	char matched_list[M_STORE_MATCHED_MAX];	/* "POLICY:LABEL,...": recorded with a pass */
	char pass_detail[M_STORE_MATCHED_MAX + M_STORE_NAME_MAX + 32];
	int64_t nexp;
	struct m_verify_result res;
	bool cached;		/* in: may att_machine() take the remembered row; out: it did */
	bool nonce_valid;	/* from here on, every outcome ends in settle() */
	bool verified;		/* the quote verified: the machine's row may change */
	bool t12;		/* the machine's TPM is a 1.2: the AIK is @ak_key alone */
	struct m_payload_meta pmeta;	/* the payload's install metadata, when pmeta.kind[0] */
};

/* the request's fields: machine, evidence object, optional payload name */
static int att_request(struct att *a, json_object *req, json_object **ret_evo)
{
	json_object *pv;

	if (srv_get_name(req, "machine", a->rep, a->rep->machine, sizeof(a->rep->machine)) < 0)
		return -1;
	if (!json_object_object_get_ex(req, "evidence", ret_evo) || !json_object_is_type(*ret_evo, json_type_object)) {
		srv_fail(a->rep, 400, "bad-request", "evidence: an object is required (docs/evidence.md)");
		return -1;
	}
	if (json_object_object_get_ex(req, "payload", &pv) && pv &&
	    srv_get_name(req, "payload", a->rep, a->pname, sizeof(a->pname)) < 0)
		return -1;
	return 0;
}

/* machine: known, approved, its policies loaded, the payload (if any) bound to one of them */
static int att_machine(struct att *a)
{
	char ppolicy[M_STORE_NAME_MAX];
	bool bound = false;
	int r;

	if (machine_ready(a->st, a->rep, &a->m, &a->cached) < 0)
		return -1;
	if (policies_for(a->s, a->st, a->rep, &a->m, &a->ps) < 0)
		return -1;
	if (!a->pname[0])
		return 0;
	r = m_store_payload_get(a->st, a->pname, ppolicy, sizeof(ppolicy), &a->pdata, &a->plen);
	if (r == -ENOENT) {
		srv_fail(a->rep, 403, "unknown-policy", "payload '%s' does not exist", a->pname);
		return -1;
	} else if (r < 0) {
		slog_error("payload", r);
		srv_fail(a->rep, 503, "internal-error", "the database is unavailable");
		return -1;
	}
	r = m_store_payload_meta_get(a->st, a->pname, &a->pmeta);
	if (r < 0 && r != -ENOENT) {
		slog_error("payload", r);
		srv_fail(a->rep, 503, "internal-error", "the database is unavailable");
		return -1;
	}
	for (size_t i = 0; i < a->ps.n; i++)
		bound |= !strcmp(a->ps.names[i], ppolicy);
	if (!bound) {
		srv_fail(a->rep, 403, "payload-denied", "payload '%s' is bound to a policy this machine does not have",
			 a->pname);
		return -1;
	}
	return 0;
}

/* nonce: made for this machine by a verifier of this database, fresh (used up in settle()) */
static int att_nonce(struct att *a, json_object *evo)
{
	int r = m_evidence_from_json_object(evo, &a->ev);

	if (r < 0) {
		srv_fail(a->rep, 400, "bad-request", "evidence: %s", m_errmsg(r));
		return -1;
	}
	switch (m_nonce_check(a->s->nonce_key, a->rep->machine, a->ev->nonce, a->ev->nonce_len, now(), &a->nexp)) {
	case M_NONCE_OK:
		break;
	case M_NONCE_EXPIRED:
		srv_fail(a->rep, 403, "nonce-expired", "the nonce expired");
		return -1;
	default:
		srv_fail(a->rep, 403, "nonce-unknown", a->ev->nonce_len ? "this server did not issue this nonce to this machine"
									: "the evidence has no nonce");
		return -1;
	}
	m_hex(a->ev->nonce, a->ev->nonce_len, a->nh);
	a->nonce_valid = true;
	return 0;
}

/* key: the AK enrolled for this machine (converted once: srv_ak_key()) */
static int att_key(struct att *a)
{
	int r;

	/* the evidence's TPM family is the enrolled TPM's */
	a->t12 = !strcmp(a->m.tpm, "1.2");
	if (a->ev->tpm_family != (a->t12 ? 12u : 20u)) {
		srv_fail(a->rep, 403, "ak-mismatch", "machine '%s' enrolled a TPM %s; the evidence is a TPM %s quote",
			 a->rep->machine, a->t12 ? "1.2" : "2.0", a->t12 ? "2.0" : "1.2");
		return -1;
	}
	if (a->t12) {
		a->ak_key = srv_aik12_key(a->m.ak_pub);	/* attest12.c */
		if (!a->ak_key) {
			srv_fail(a->rep, 500, "internal-error", "the enrolled AIK does not parse");
			return -1;
		}
		return 0;
	}
	r = m_b64_decode(a->m.ak_pub, strlen(a->m.ak_pub), M_AKPUB_MAX, NULL, &a->akb, &a->akl);

	if (r == 0)
		r = m_tpm_public_parse(a->akb, a->akl, &a->ak);
	if (r < 0) {
		srv_fail(a->rep, 500, "internal-error", "the enrolled AK does not parse");
		return -1;
	}
	a->ak_key = srv_ak_key(a->m.ak_pub, &a->ak);
	return 0;
}

/*
 * The evidence: the library's one check (m_evidence_check(): the
 * document's AK, its logs, the quote, every policy's manifest).
 */
static int att_evidence(struct att *a)
{
	struct m_evidence_check c = {
		.ev = a->ev, .ak = a->t12 ? NULL : &a->ak, .ak_key = a->ak_key, .nonce = a->ev->nonce,
		.nonce_len = a->ev->nonce_len, .required = a->ps.required, .manifests = a->ps.m,
		.nmanifests = a->ps.nm, .flags = M_EVIDENCE_LOGS_REQUIRED, .groups = a->ps.group,
		.ret_matched = a->matched,
	};
	struct m_first_difference d;
	int r = m_evidence_check(&c, &a->res, &d);

	if (r < 0) {
		srv_fail(a->rep, 500, "internal-error", "%s", m_errmsg(r));
		return -1;
	}
	/* a quote that verified may change the machine's row (settle()), whatever the manifests said */
	switch (a->res.reason) {
	case M_V_OK:
		a->verified = true;
		return 0;
	case M_V_MANIFEST_MISMATCH: {
		const char *pol = a->ps.names[a->ps.group[d.manifest]], *label = a->ps.label[d.manifest];

		a->verified = true;
		srv_fail(a->rep, 403, "manifest-mismatch", "policy %s, manifest %s: %s", pol, label, a->res.msg);
		json_object_object_add(a->rep->body, "first_difference", difference_obj(pol, label, &d, a->res.msg));
		m_first_difference_clear(&d);
		return -1;
	}
	default:
		srv_fail(a->rep, 403, m_verify_reason_name(a->res.reason), "%s", a->res.msg);
		return -1;
	}
}

/*
 * What a pass matched, one manifest per policy: the answer's "matched"
 * array, and the text recorded for the machine and in the audit log.
 */
static json_object *att_matched(struct att *a)
{
	json_object *arr = json_object_new_array();
	size_t off = 0;

	for (size_t i = 0; i < a->ps.nm; i++) {
		const char *pol = a->ps.names[a->ps.group[i]];
		json_object *o;

		if (!a->matched[i])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "policy", json_object_new_string(pol));
		json_object_object_add(o, "manifest", json_object_new_string(a->ps.label[i]));
		json_object_array_add(arr, o);
		/* names and labels are [A-Za-z0-9._-]: the list never needs escaping; it fits by its maximum */
		off += (size_t)snprintf(a->matched_list + off, sizeof(a->matched_list) - off, "%s%s:%s",
					off ? "," : "", pol, a->ps.label[i]);
	}
	if (a->pname[0])
		snprintf(a->pass_detail, sizeof(a->pass_detail), "matched %s; payload %s", a->matched_list, a->pname);
	else
		snprintf(a->pass_detail, sizeof(a->pass_detail), "matched %s", a->matched_list);
	return arr;
}

/* payload: sealed to this TPM, and the pass answer */
static int att_payload(struct att *a)
{
	json_object *payload = NULL, *o;
	int r;

	if (a->pname[0]) {
		r = seal_payload(&a->m, a->pname, a->pdata, a->plen, &payload);
		if (r < 0) {
			srv_fail(a->rep, 500, "internal-error", "payload: %s", m_errmsg(r));
			return -1;
		}
		if (a->pmeta.kind[0]) {
			/* docs/api.md: what the agent installs it as, where, and the digest it checks */
			o = json_object_new_object();
			json_object_object_add(o, "kind", json_object_new_string(a->pmeta.kind));
			json_object_object_add(o, "target", a->pmeta.target[0] ?
					       json_object_new_string(a->pmeta.target) : NULL);
			json_object_object_add(o, "digest", json_object_new_string(a->pmeta.digest));
			json_object_object_add(payload, "install", o);
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "result", json_object_new_string("pass"));
	json_object_object_add(o, "machine", json_object_new_string(a->rep->machine));
	json_object_object_add(o, "matched", att_matched(a));
	if (payload)
		json_object_object_add(o, "payload", payload);
	srv_ok(a->rep, o);
	return 0;
}

/* everything a round of the stages allocated */
static void att_release(struct att *a)
{
	m_evidence_free(a->ev);
	m_machine_clear(&a->m);
	EVP_PKEY_free(a->ak_key);
	free(a->akb);
	if (a->pdata)
		OPENSSL_cleanse(a->pdata, a->plen);
	free(a->pdata);
}

/* the stages again from the start, with no answer yet */
static void att_reset(struct att *a)
{
	struct att fresh = { .s = a->s, .st = a->st, .rep = a->rep };

	att_release(a);
	memcpy(fresh.pname, a->pname, sizeof(fresh.pname));
	*a = fresh;
	json_object_put(a->rep->body);
	a->rep->body = NULL;
	a->rep->status = 0;
	a->rep->reason = NULL;
}

static void att_stages(struct att *a, json_object *evo)
{
	if (att_machine(a) == 0 && att_nonce(a, evo) == 0 && att_key(a) == 0 && att_evidence(a) == 0)
		att_payload(a);
}

/*
 * An answer other than a pass, made from the remembered row, stands only
 * if the row read now is the same (else the checks run again on it): a
 * machine re-enrolled or given other policies at another verifier is
 * judged as it is, and a stale row costs a failing request one read, as
 * before the rows were remembered.
 */
static bool att_row_holds(struct att *a)
{
	struct m_machine now_row;
	bool same;

	if (m_store_machine_get(a->st, a->rep->machine, &now_row) < 0) {
		srv_machine_forget(a->rep->machine);
		return false;
	}
	same = srv_machine_same(&now_row, &a->m);
	srv_machine_remember(&now_row);
	m_machine_clear(&now_row);
	return same;
}

/* rounds of the stages: the remembered row, then fresh reads while the row changes under them */
#define ATT_ROUNDS 3

void srv_attest(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct att a = { .s = s, .st = srv_store(s), .rep = rep };
	json_object *evo = NULL;

	if (!a.st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (att_request(&a, req, &evo) < 0)
		return;
	for (int round = 0;; round++) {
		int r;

		a.cached = round == 0;
		att_stages(&a, evo);
		if (a.cached && rep->status != 200) {
			if (!att_row_holds(&a)) {
				att_reset(&a);
				continue;
			}
			a.cached = false;	/* confirmed */
		}
		if (!a.nonce_valid) {
			if (rep->status == 403)
				srv_audit(s, a.st, false, rep->machine, "attest", "fail",
					  rep->reason ? rep->reason : "", fail_detail(rep));
			break;
		}
		r = settle(s, a.st, rep, &a.m, a.cached, a.nh, a.nexp, a.verified ? &a.res : NULL, a.pass_detail,
			   a.matched_list);
		if (r == -EALREADY) {
			if (!att_row_holds(&a)) {
				att_reset(&a);
				continue;
			}
			r = settle(s, a.st, rep, &a.m, false, a.nh, a.nexp, a.verified ? &a.res : NULL,
				   a.pass_detail, a.matched_list);
		}
		if (r != -ESTALE)
			break;
		srv_machine_forget(rep->machine);
		if (round + 1 == ATT_ROUNDS) {
			srv_fail(rep, 503, "internal-error",
				 "machine '%s' changed (its AK, state or policies) during each of %d checks; try again",
				 rep->machine, ATT_ROUNDS);
			break;
		}
		att_reset(&a);
	}
	att_release(&a);
}
