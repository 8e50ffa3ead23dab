// SPDX-License-Identifier: MIT
/*
 * Nonces and attestation (docs/api.md).  The checks, in order, each with
 * its own reason code: the machine is known and approved; its policies
 * exist (fail closed); the evidence parses; the nonce is one a verifier of
 * this database made for this machine (m_nonce_check()), unexpired, used
 * now for the first and only time (settled last, with the result);
 * m_quote_verify() (signature, magic, type, AK attributes, nonce,
 * policy PCRs quoted, PCR digest, logs replay); clock/resetCount/
 * restartCount never go backwards; the quoted values and, event by event,
 * the logs match every policy's reference manifest.  Only then is the
 * payload released: AES-256-GCM under a fresh key K, and K wrapped with
 * MakeCredential to the machine's EK for its AK's Name, so only that TPM
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
#include "server.h"

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Known and approved; -1 with the answer set otherwise. */
static int machine_ready(struct m_store *st, struct srv_reply *rep, struct m_machine *m)
{
	int r = m_store_machine_get(st, rep->machine, m);

	if (r == -ENOENT || (r == 0 && m->state == M_MACHINE_REVOKED)) {
		srv_fail(rep, 403, "unknown-machine", "machine '%s' is not enrolled, or was revoked", rep->machine);
		return -1;
	}
	if (r < 0) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return -1;
	}
	if (m->state != M_MACHINE_APPROVED) {
		srv_fail(rep, 403, "not-approved", "machine '%s' waits for an administrator's approval", rep->machine);
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
	hex(k, sizeof(k), kh);
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

void srv_nonce(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct m_store *st = srv_store(s);
	struct m_machine m = { 0 };
	struct srv_policy_set ps;
	uint8_t n[M_NONCE_LEN];
	char nh[2 * M_NONCE_LEN + 1];
	int64_t exp = now() + s->cfg.nonce_ttl;
	json_object *o, *pcrs, *banks;
	int r;

	if (!st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (srv_get_name(req, "machine", rep, rep->machine, sizeof(rep->machine)) < 0 ||
	    machine_ready(st, rep, &m) < 0)
		goto out;
	r = srv_policies(s, st, m.policy, &ps);
	if (r == -ENOENT || r == -E2BIG) {
		srv_fail(rep, 403, "unknown-policy", "%s", m_errmsg(r));
		goto out;
	} else if (r < 0) {
		srv_fail(rep, 500, "internal-error", "%s", m_errmsg(r));
		goto out;
	}
	/* nothing is written: the nonce carries its machine, expiry and MAC */
	if ((r = m_nonce_make(s->nonce_key, rep->machine, exp, n)) < 0) {
		srv_fail(rep, 500, "internal-error", "%s", m_errmsg(r));
		goto out;
	}
	hex(n, sizeof(n), nh);
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

/* ---- manifest comparison ---- */

static json_object *event_obj(const struct m_check_item *it, bool expected)
{
	json_object *o = json_object_new_object();
	char hx[2 * M_DIGEST_MAX + 1];

	if (expected) {
		const struct m_ref_event *e = it->expected;

		json_object_object_add(o, "type", json_object_new_int64(e->type));
		if (e->d.banks & M_BANK_BIT(it->bank)) {
			hex(e->d.d[it->bank], m_bank_info(it->bank)->size, hx);
			json_object_object_add(o, "digest", json_object_new_string(hx));
		}
		if (e->description)
			json_object_object_add(o, "description", json_object_new_string(e->description));
		if (e->source)
			json_object_object_add(o, "source", json_object_new_string(e->source));
	} else {
		const struct m_event *e = it->found;

		json_object_object_add(o, "type", json_object_new_int64(e->type));
		if (e->banks & M_BANK_BIT(it->bank)) {
			hex(e->digest[it->bank], m_bank_info(it->bank)->size, hx);
			json_object_object_add(o, "digest", json_object_new_string(hx));
		}
		if (it->found_log) {
			char *desc = m_event_describe(it->found_log, e);

			json_object_object_add(o, "log",
					       json_object_new_string(m_log_format_name(it->found_log->format)));
			if (desc)
				json_object_object_add(o, "description", json_object_new_string(desc));
			free(desc);
		}
		json_object_object_add(o, "record", json_object_new_int64(e->recnum));
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)e->offset));
	}
	return o;
}

static json_object *item_obj(const char *policy, const struct m_check_item *it)
{
	json_object *o = json_object_new_object();
	char msg[1024];

	json_object_object_add(o, "policy", json_object_new_string(policy));
	json_object_object_add(o, "pcr", json_object_new_int((int)it->pcr));
	json_object_object_add(o, "bank", json_object_new_string(m_bank_info(it->bank)->name));
	json_object_object_add(o, "status", json_object_new_string(m_check_status_name(it->status)));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)it->index));
	if (it->expected)
		json_object_object_add(o, "expected", event_obj(it, true));
	if (it->found)
		json_object_object_add(o, "found", event_obj(it, false));
	m_check_describe(it, msg, sizeof(msg));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

/*
 * One manifest against the quoted values (only quoted PCRs are signed) and
 * the logs.  A manifest PCR must be quoted in at least one bank the
 * manifest predicts it in, and match in every such bank.  A differing
 * event is reported before a differing value: it says why.
 */
static int check_manifest(const char *policy, const struct m_manifest *m, const struct m_pcrs *pcrs,
			  const uint32_t *quoted, struct m_log *const *logs, size_t nlogs, json_object **ret_diff)
{
	struct m_check_result lr = { .match = true };
	struct m_check_item vit = { 0 };
	bool vbad = false;
	int r;

	for (unsigned p = 0; p < M_PCR_COUNT && !vbad; p++) {
		unsigned seen = 0;

		if (!(m->pcrs & (1u << p)))
			continue;
		for_each_bank(b, m_manifest_pcr_banks(m, p)) {
			if (!(quoted[b] & (1u << p)))
				continue;
			seen++;
			if (memcmp(pcrs->v[b][p], m->values.v[b][p], m_bank_info(b)->size) != 0) {
				vit = (struct m_check_item){ .pcr = p, .bank = b, .status = M_CHECK_VALUE_DIFFERS };
				vbad = true;
				break;
			}
		}
		if (!seen && !vbad) {
			for_each_bank(b, m_manifest_pcr_banks(m, p)) {
				vit = (struct m_check_item){ .pcr = p, .bank = b, .status = M_CHECK_NOT_COVERED };
				break;
			}
			vbad = true;
		}
	}
	r = m_manifest_check_logs(m, logs, nlogs, &lr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < lr.count; i++) {
		enum m_check_status stt = lr.items[i].status;

		if (stt == M_CHECK_MATCH || stt == M_CHECK_NOT_COVERED)
			continue;
		*ret_diff = item_obj(policy, &lr.items[i]);
		m_check_result_free(&lr);
		return 1;
	}
	if (vbad) {
		for (size_t i = 0; i < lr.count; i++)
			if (lr.items[i].pcr == vit.pcr && lr.items[i].status == M_CHECK_NOT_COVERED &&
			    vit.status == M_CHECK_VALUE_DIFFERS)
				vit.expected = lr.items[i].expected;
		*ret_diff = item_obj(policy, &vit);
		m_check_result_free(&lr);
		return 1;
	}
	m_check_result_free(&lr);
	return 0;
}

/* ---- payload ---- */

static int seal_payload(const struct m_machine *m, const char *name, const uint8_t *data, size_t len,
			json_object **ret)
{
	uint8_t k[32], iv[12], tag[16], *ekb = NULL, *akb = NULL, *ct = NULL, akname[M_NAME_MAX];
	size_t ekl, akl, anl;
	TPMT_PUBLIC ek, ak;
	struct m_credential cred;
	EVP_CIPHER_CTX *c = NULL;
	int outl, fl, r;
	json_object *o;

	r = m_b64_decode(m->ek_pub, strlen(m->ek_pub), M_AKPUB_MAX, NULL, &ekb, &ekl);
	if (r == 0)
		r = m_b64_decode(m->ak_pub, strlen(m->ak_pub), M_AKPUB_MAX, NULL, &akb, &akl);
	if (r == 0)
		r = m_tpm_public_parse(ekb, ekl, &ek);
	if (r == 0)
		r = m_tpm_public_parse(akb, akl, &ak);
	if (r == 0)
		r = m_tpm_public_name(&ak, akname, &anl);
	if (r < 0)
		goto out;
	if (RAND_bytes(k, sizeof(k)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
		r = m_err(-EIO, "no randomness");
		goto out;
	}
	r = m_make_credential(&ek, akname, anl, k, sizeof(k), &cred);
	if (r < 0)
		goto out;
	ct = malloc(len + 16);
	c = EVP_CIPHER_CTX_new();
	if (!ct || !c || len > INT32_MAX) {
		r = -ENOMEM;
		goto out;
	}
	r = -EIO;
	if (!EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, iv) ||
	    !EVP_EncryptUpdate(c, ct, &outl, data, (int)len) || !EVP_EncryptFinal_ex(c, ct + outl, &fl) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag)) {
		r = m_err(-EIO, "AES-256-GCM failed");
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "credential_blob", srv_b64_obj(cred.blob, cred.blob_len));
	json_object_object_add(o, "encrypted_secret", srv_b64_obj(cred.secret, cred.secret_len));
	json_object_object_add(o, "iv", srv_b64_obj(iv, sizeof(iv)));
	json_object_object_add(o, "ciphertext", srv_b64_obj(ct, (size_t)(outl + fl)));
	json_object_object_add(o, "tag", srv_b64_obj(tag, sizeof(tag)));
	*ret = o;
	r = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	EVP_CIPHER_CTX_free(c);
	free(ct);
	free(ekb);
	free(akb);
	return r;
}

/* ---- /v1/attest ---- */

static const char *reason_code(enum m_verify_reason r)
{
	/* the library's names, except where docs/api.md spells them otherwise */
	return r == M_V_EVENTLOG_MALFORMED ? "eventlog-invalid" : m_verify_reason_name(r);
}

static void audit(struct m_store *st, const struct srv_reply *rep, const char *detail)
{
	bool pass = rep->status == 200;
	int r;

	r = m_store_audit(st, rep->machine, "attest", pass ? "pass" : "fail", rep->reason ? rep->reason : "",
			  detail ? detail : "");
	if (r == 0)
		r = m_store_machine_result(st, rep->machine, pass ? "pass" : "fail", rep->reason ? rep->reason : "",
					   now());
	if (r < 0)
		slog("error", "audit", json_object_new_string(m_errmsg(r)));
}

static const char *fail_detail(const struct srv_reply *rep)
{
	return json_object_get_string(json_object_object_get(rep->body, "message"));
}

/*
 * The end of every attestation whose evidence carried a valid nonce, pass
 * or fail, in one transaction (one commit, one turn of SQLite's write
 * lock): the nonce is used up, and if it was used before, that is the
 * answer whatever else was found; a verified quote's clock is
 * recorded, and if it went backwards that is the answer (it outranks a
 * manifest mismatch, which the checks' order in docs/api.md puts later);
 * then the audit record and the machine's last result.  The answer leaves
 * only after the commit: a pass is on record first, and a database that
 * fails here releases nothing.
 */
static void settle(struct m_store *st, struct srv_reply *rep, const char *nonce_hex, int64_t nonce_expires,
		   const struct m_verify_result *quote, const char *pass_detail)
{
	bool fresh = false;
	int r;

	r = m_store_begin(st);
	if (r == 0) {
		r = m_store_nonce_use(st, nonce_hex, rep->machine, nonce_expires);
		fresh = r == 0;
		if (r == -EALREADY) {
			srv_fail(rep, 403, "nonce-reused", "the nonce was used before");
			r = 0;
		}
	}
	if (r == 0 && fresh && quote) {
		/* the clock and the result in one statement; the clock check decides */
		r = m_store_machine_attested(st, rep->machine, quote->clock, quote->reset_count, quote->restart_count,
					     rep->status == 200 ? "pass" : "fail", rep->reason ? rep->reason : "", now());
		if (r == -ERANGE) {
			srv_fail(rep, 403, "clock-rollback",
				 "the TPM's clock/resetCount/restartCount (%llu/%u/%u) is older than a previous quote's",
				 (unsigned long long)quote->clock, quote->reset_count, quote->restart_count);
			r = m_store_machine_result(st, rep->machine, "fail", rep->reason, now());
		}
	} else if (r == 0) {
		r = m_store_machine_result(st, rep->machine, rep->status == 200 ? "pass" : "fail",
					   rep->reason ? rep->reason : "", now());
	}
	if (r == 0)
		r = m_store_audit(st, rep->machine, "attest", rep->status == 200 ? "pass" : "fail",
				  rep->reason ? rep->reason : "", rep->status == 200 ? pass_detail : fail_detail(rep));
	if (r == 0)
		r = m_store_commit(st);
	else
		m_store_rollback(st);
	if (r < 0) {
		slog("error", "attest", json_object_new_string(m_errmsg(r)));
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
	}
}

void srv_attest(struct srv *s, json_object *req, struct srv_reply *rep)
{
	struct m_store *st = srv_store(s);
	struct m_machine m = { 0 };
	struct srv_policy_set ps;
	struct m_evidence *ev = NULL;
	struct m_log *logs[M_EVIDENCE_MAX_LOGS] = { 0 };
	size_t nlogs = 0;
	struct m_verify_result res;
	struct m_quote_check qc = { 0 };
	TPMT_PUBLIC ak;
	uint8_t *akb = NULL, *pdata = NULL;
	size_t akl, plen;
	char nh[2 * M_NONCE_MAX + 1], ppolicy[M_STORE_NAME_MAX], pname[M_STORE_NAME_MAX] = "";
	json_object *evo, *pv, *diff = NULL, *payload = NULL, *o;
	bool settle_nonce = false, verified = false;
	int64_t nexp = 0;
	int r;

	if (!st) {
		srv_fail(rep, 503, "internal-error", "the database is unavailable");
		return;
	}
	if (srv_get_name(req, "machine", rep, rep->machine, sizeof(rep->machine)) < 0)
		return;
	if (!json_object_object_get_ex(req, "evidence", &evo) || !json_object_is_type(evo, json_type_object)) {
		srv_fail(rep, 400, "bad-request", "evidence: an object is required (docs/evidence.md)");
		return;
	}
	if (json_object_object_get_ex(req, "payload", &pv) && pv &&
	    srv_get_name(req, "payload", rep, pname, sizeof(pname)) < 0)
		return;
	if (machine_ready(st, rep, &m) < 0)
		goto done;
	r = srv_policies(s, st, m.policy, &ps);
	if (r == -ENOENT || r == -E2BIG) {
		srv_fail(rep, 403, "unknown-policy", "%s", m_errmsg(r));
		goto done;
	} else if (r < 0) {
		srv_fail(rep, 500, "internal-error", "policy: %s", m_errmsg(r));
		goto done;
	}
	if (pname[0]) {
		bool bound = false;

		r = m_store_payload_get(st, pname, ppolicy, sizeof(ppolicy), &pdata, &plen);
		if (r == -ENOENT) {
			srv_fail(rep, 403, "unknown-policy", "payload '%s' does not exist", pname);
			goto done;
		} else if (r < 0) {
			srv_fail(rep, 503, "internal-error", "the database is unavailable");
			goto done;
		}
		for (size_t i = 0; i < ps.n; i++)
			bound |= !strcmp(ps.names[i], ppolicy);
		if (!bound) {
			srv_fail(rep, 403, "payload-denied", "payload '%s' is bound to a policy this machine does not have",
				 pname);
			goto done;
		}
	}
	r = m_evidence_from_json_object(evo, &ev);
	if (r < 0) {
		srv_fail(rep, 400, "bad-request", "evidence: %s", m_errmsg(r));
		goto done;
	}

	/* the nonce: made for this machine by a verifier of this database, fresh, and used up (settle()) */
	switch (m_nonce_check(s->nonce_key, rep->machine, ev->nonce, ev->nonce_len, now(), &nexp)) {
	case M_NONCE_OK:
		break;
	case M_NONCE_EXPIRED:
		srv_fail(rep, 403, "nonce-expired", "the nonce expired");
		goto done;
	default:
		srv_fail(rep, 403, "nonce-unknown", ev->nonce_len ? "this server did not issue this nonce to this machine"
								  : "the evidence has no nonce");
		goto done;
	}
	hex(ev->nonce, ev->nonce_len, nh);
	settle_nonce = true;	/* from here on, every outcome ends in settle() */

	/* the quote, against the AK enrolled for this machine */
	r = m_b64_decode(m.ak_pub, strlen(m.ak_pub), M_AKPUB_MAX, NULL, &akb, &akl);
	if (r == 0)
		r = m_tpm_public_parse(akb, akl, &ak);
	if (r < 0) {
		srv_fail(rep, 500, "internal-error", "the enrolled AK does not parse");
		goto done;
	}
	if (ev->ak_pub_len && (ev->ak_pub_len != akl || memcmp(ev->ak_pub, akb, akl) != 0)) {
		TPMT_PUBLIC evak;
		uint8_t n1[M_NAME_MAX], n2[M_NAME_MAX];
		size_t l1, l2;

		if (m_tpm_public_parse(ev->ak_pub, ev->ak_pub_len, &evak) < 0 ||
		    m_tpm_public_name(&evak, n1, &l1) < 0 || m_tpm_public_name(&ak, n2, &l2) < 0 || l1 != l2 ||
		    memcmp(n1, n2, l1) != 0) {
			srv_fail(rep, 403, "ak-mismatch", "the evidence's AK is not the one enrolled for this machine");
			goto done;
		}
	}
	for (size_t i = 0; i < ev->nlogs; i++) {
		char lname[32];

		snprintf(lname, sizeof(lname), "eventlogs[%zu]", i);
		r = m_log_parse(ev->log[i].data, ev->log[i].len, lname, &logs[nlogs]);
		if (r < 0) {
			srv_fail(rep, r == -ENOMEM ? 500 : 403, r == -ENOMEM ? "internal-error" : "eventlog-invalid", "%s",
				 m_errmsg(r));
			goto done;
		}
		nlogs++;
		if (strcmp(m_log_format_name(logs[nlogs - 1]->format), ev->log[i].format) != 0) {
			srv_fail(rep, 403, "eventlog-invalid", "%s: declared %s, but the data is %s", lname,
				 ev->log[i].format, m_log_format_name(logs[nlogs - 1]->format));
			goto done;
		}
	}
	qc.attest = ev->attest;
	qc.attest_len = ev->attest_len;
	qc.sig = ev->sig;
	qc.sig_len = ev->sig_len;
	qc.ak = &ak;
	qc.ak_key = srv_ak_key(m.ak_pub, &ak);
	qc.nonce = ev->nonce;
	qc.nonce_len = ev->nonce_len;
	qc.pcrs = &ev->pcrs;
	qc.required = ps.required;
	qc.logs = logs;
	qc.nlogs = nlogs;
	r = m_quote_verify(&qc, &res);
	if (r < 0) {
		srv_fail(rep, 500, "internal-error", "%s", m_errmsg(r));
		goto done;
	}
	if (res.reason != M_V_OK) {
		srv_fail(rep, 403, reason_code(res.reason), "%s", res.msg);
		goto done;
	}
	if (nlogs == 0) {
		srv_fail(rep, 403, "eventlog-untouched-pcr", "no event log explains the quoted PCRs");
		goto done;
	}
	verified = true;
	for (size_t i = 0; i < ps.n; i++) {
		r = check_manifest(ps.names[i], ps.m[i], &ev->pcrs, res.quoted, logs, nlogs, &diff);
		if (r < 0) {
			srv_fail(rep, 500, "internal-error", "%s", m_errmsg(r));
			goto done;
		}
		if (r > 0) {
			json_object *msg;

			json_object_object_get_ex(diff, "message", &msg);
			srv_fail(rep, 403, "manifest-mismatch", "policy %s: %s", ps.names[i], json_object_get_string(msg));
			json_object_object_add(rep->body, "first_difference", diff);
			diff = NULL;
			goto done;
		}
	}
	if (pname[0]) {
		r = seal_payload(&m, pname, pdata, plen, &payload);
		if (r < 0) {
			srv_fail(rep, 500, "internal-error", "payload: %s", m_errmsg(r));
			goto done;
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "result", json_object_new_string("pass"));
	json_object_object_add(o, "machine", json_object_new_string(rep->machine));
	if (payload)
		json_object_object_add(o, "payload", payload);
	srv_ok(rep, o);
done:
	if (settle_nonce)
		settle(st, rep, nh, nexp, verified ? &res : NULL, pname);
	else if (rep->status == 403)
		audit(st, rep, fail_detail(rep));
	for (size_t i = 0; i < nlogs; i++)
		m_log_free(logs[i]);
	m_evidence_free(ev);
	m_machine_clear(&m);
	EVP_PKEY_free(qc.ak_key);
	free(akb);
	if (pdata)
		OPENSSL_cleanse(pdata, plen);
	free(pdata);
}
