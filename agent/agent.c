// SPDX-License-Identifier: MIT
/*
 * One run of the agent (docs/agent.md, docs/api.md "Flow"), on a TPM 2.0 or
 * a TPM 1.2 (the family m_tpm_open() found; 1.2 steps in agent12.c): keys, enrolment
 * when this TPM is not enrolled under this name yet, a nonce from the
 * server, the quote, and the payload.  Nothing is written to the payload's
 * path until the verifier has said "pass", the TPM has recovered the key
 * and the AES-GCM tag has checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include "agent.h"
#include "measured/attest12.h"
#include "measured/base64.h"
#include "measured/error.h"
#include "measured/file.h"

/* TCG EK Credential Profile 2.0, 2.2.1.4: low-range EK certificate indices */
#define NV_EK_CERT_RSA2048 0x01c00002u
#define NV_EK_CERT_ECC256  0x01c0000au

struct run {
	struct m_tpm *tpm;
	struct m_http *http;
	const struct m_agent_config *cfg;
	struct m_agent_result *res;
	uint32_t ek, ak;		/* ESYS_TR, or ESYS_TR_NONE */
	TPM2B_PUBLIC ek_pub, ak_pub;
	char ak_name[2 * sizeof(TPMU_NAME) + 1];
	/* a TPM 1.2 (agent12.c): the AIK's key blob, from the state or a new enrolment */
	bool t12;
	uint8_t aik_blob[M_T12_KEYBLOB_MAX];
	size_t aik_blob_len;
};

static int tpm_fault(struct run *x, int r)
{
	x->res->fault = M_AGENT_FAULT_TPM;
	return r;
}

static int io_fault(struct run *x, int r)
{
	if (x->res->fault == M_AGENT_FAULT_NONE)
		x->res->fault = M_AGENT_FAULT_IO;
	return r;
}

static void keys_flush(struct run *x)
{
	m_tpm_flush(x->tpm, x->ek);
	m_tpm_flush(x->tpm, x->ak);
	x->ek = x->ak = ESYS_TR_NONE;
}

/* Both keys are primaries of the endorsement hierarchy: created again, they are the same keys. */
static int keys_load(struct run *x)
{
	TPM2B_PUBLIC tmpl;
	uint8_t name[sizeof(TPMU_NAME)];
	size_t nlen = sizeof(name);
	int r;

	if (x->t12) {
		/* the AIK of the last enrolment, if any (none: enrol) */
		x->ak_name[0] = 0;
		r = m_agent12_aik_load(x->cfg->state_dir, x->aik_blob, &x->aik_blob_len);
		if (r == -ENOENT)
			return 0;
		if (r == 0)
			r = m_agent12_aik_name(x->aik_blob, x->aik_blob_len, x->ak_name);
		return r < 0 ? io_fault(x, r) : 0;
	}
	m_ek_template(x->cfg->alg, &tmpl);
	r = m_tpm_create_primary(x->tpm, &tmpl, &x->ek, &x->ek_pub);
	if (r < 0)
		return tpm_fault(x, m_err_prefix(r, "EK"));
	m_ak_template(x->cfg->alg, &tmpl);
	r = m_tpm_create_primary(x->tpm, &tmpl, &x->ak, &x->ak_pub);
	if (r < 0)
		return tpm_fault(x, m_err_prefix(r, "AK"));
	r = m_tpm_public_name(&x->ak_pub.publicArea, name, &nlen);
	if (r < 0)
		return tpm_fault(x, r);
	m_hex(name, nlen, x->ak_name);
	return 0;
}

/* POST, keeping the answer in the result; 0 for 200, 1 for 403 (a refusal), else an error. */
static int post(struct run *x, const char *path, json_object *req, size_t max, json_object **ret)
{
	const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	json_object *a = NULL;
	long status = 0;
	int r;

	if (!body)
		return -ENOMEM;
	r = m_http_post_json(x->http, path, body, max, &status, &a);
	if (r < 0)
		return io_fault(x, r);
	json_object_put(x->res->answer);
	x->res->answer = a;
	x->res->http_status = status;
	if (status == 200) {
		*ret = a;
		return 0;
	}
	if (status == 403)
		return 1;
	return io_fault(x, m_err(-EPROTO, "%s: HTTP %ld: %s: %s", path, status,
				 m_json_str(a, "reason") ? m_json_str(a, "reason") : "no reason",
				 m_json_str(a, "message") ? m_json_str(a, "message") : ""));
}

/* A marshalled TPM2B from a base64 field; the whole field must be consumed. */
static int field_id_object(json_object *o, const char *key, TPM2B_ID_OBJECT *ret)
{
	uint8_t *d;
	size_t n, off = 0;
	int r = m_json_b64(o, key, sizeof(*ret), &d, &n);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(d, n, &off, ret) != TSS2_RC_SUCCESS || off != n)
		r = m_err(-EBADMSG, "answer field '%s': not a marshalled TPM2B_ID_OBJECT", key);
	free(d);
	return r;
}

static int field_enc_secret(json_object *o, const char *key, TPM2B_ENCRYPTED_SECRET *ret)
{
	uint8_t *d;
	size_t n, off = 0;
	int r = m_json_b64(o, key, sizeof(*ret), &d, &n);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(d, n, &off, ret) != TSS2_RC_SUCCESS || off != n)
		r = m_err(-EBADMSG, "answer field '%s': not a marshalled TPM2B_ENCRYPTED_SECRET", key);
	free(d);
	return r;
}

/* TPM 1.2: TPM_ActivateIdentity of the answer's activation blob with the AIK */
static int activate12(struct run *x, json_object *o, TPM2B_DIGEST *ret)
{
	uint8_t *act;
	size_t n;
	int r = m_json_b64(o, "activation_blob", M_T12_MODULUS_MAX, &act, &n);

	if (r < 0)
		return io_fault(x, r);
	r = m_agent12_activate(x->tpm, x->cfg, x->aik_blob, x->aik_blob_len, act, n, ret->buffer);
	free(act);
	if (r < 0)
		return tpm_fault(x, r);
	ret->size = 16;
	return 0;
}

/* Recover a credential addressed to this TPM's EK and AK name. */
static int activate(struct run *x, json_object *o, TPM2B_DIGEST *ret)
{
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET sec;
	int r;

	if (x->t12)
		return activate12(x, o, ret);
	r = field_id_object(o, "credential_blob", &blob);
	if (r >= 0)
		r = field_enc_secret(o, "encrypted_secret", &sec);
	if (r < 0)
		return io_fault(x, r);
	r = m_tpm_activate_credential(x->tpm, x->ak, x->ek, &blob, &sec, ret);
	return r < 0 ? tpm_fault(x, r) : 0;
}

static json_object *b64_field(const uint8_t *d, size_t n)
{
	char *s = m_b64_encode(d, n);
	json_object *o = s ? json_object_new_string(s) : NULL;

	free(s);
	return o;
}

static int add_b64(json_object *o, const char *key, const uint8_t *d, size_t n)
{
	json_object *v = b64_field(d, n);

	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int add_public(json_object *o, const char *key, const TPM2B_PUBLIC *pub)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return m_err(-EIO, "cannot marshal the %s public area", key);
	return add_b64(o, key, buf, off);
}

static int enroll_request(struct run *x, json_object **ret)
{
	json_object *req = json_object_new_object();
	uint8_t *cert = NULL;
	size_t clen = 0;
	int r;

	if (!req)
		return -ENOMEM;
	if (x->t12) {
		json_object_put(req);
		/* a new AIK for every enrolment: kept once the verifier has accepted it */
		r = m_agent12_enroll_request(x->tpm, x->cfg, x->aik_blob, &x->aik_blob_len, ret);
		return r < 0 ? tpm_fault(x, r) : 0;
	}
	r = m_tpm_ek_cert_read(x->tpm, x->cfg->alg == M_KEY_RSA2048 ? NV_EK_CERT_RSA2048 : NV_EK_CERT_ECC256,
			       &cert, &clen);
	if (r == -ENOENT) {
		/* no certificate: the server decides (trust on first use, if configured) */
		r = 0;
	} else if (r < 0) {
		r = tpm_fault(x, m_err_prefix(r, "EK certificate"));
		goto out;
	}
	json_object_object_add(req, "machine", json_object_new_string(x->cfg->machine));
	r = add_public(req, "ek_pub", &x->ek_pub);
	if (r >= 0)
		r = add_public(req, "ak_pub", &x->ak_pub);
	if (r >= 0 && cert)
		r = add_b64(req, "ek_cert", cert, clen);
	else if (r >= 0)
		json_object_object_add(req, "ek_cert", NULL);
out:
	free(cert);
	if (r < 0) {
		json_object_put(req);
		return r;
	}
	*ret = req;
	return 0;
}

/* docs/api.md, /v1/enroll and /v1/activate.  1: refused (answer kept). */
static int enroll(struct run *x)
{
	json_object *req = NULL, *a, *act = NULL;
	struct m_agent_state st;
	TPM2B_DIGEST secret = { 0 };
	const char *id;
	int r;

	r = enroll_request(x, &req);
	if (r < 0)
		return io_fault(x, r);
	r = post(x, "/v1/enroll", req, M_HTTP_SMALL_MAX, &a);
	if (r != 0)
		goto out;
	id = m_json_str(a, "enrollment");
	if (!id || !*id || strlen(id) >= sizeof(st.enrollment)) {
		r = io_fault(x, m_err(-EBADMSG, "/v1/enroll: answer field 'enrollment' missing or too long"));
		goto out;
	}
	memset(&st, 0, sizeof(st));
	snprintf(st.enrollment, sizeof(st.enrollment), "%s", id);
	r = activate(x, a, &secret);
	if (r < 0)
		goto out;
	act = json_object_new_object();
	if (!act) {
		r = -ENOMEM;
		goto out;
	}
	json_object_object_add(act, "enrollment", json_object_new_string(st.enrollment));
	r = add_b64(act, "secret", secret.buffer, secret.size);
	if (r < 0)
		goto out;
	r = post(x, "/v1/activate", act, M_HTTP_SMALL_MAX, &a);
	if (r != 0)
		goto out;
	if (x->t12) {
		/* the accepted AIK is the one later runs quote with */
		r = m_agent12_aik_save(x->cfg->state_dir, x->aik_blob, x->aik_blob_len);
		if (r == 0)
			r = m_agent12_aik_name(x->aik_blob, x->aik_blob_len, x->ak_name);
		if (r < 0) {
			r = io_fault(x, r);
			goto out;
		}
	}
	snprintf(st.server, sizeof(st.server), "%s", x->cfg->server);
	snprintf(st.machine, sizeof(st.machine), "%s", x->cfg->machine);
	snprintf(st.ak_name, sizeof(st.ak_name), "%s", x->ak_name);
	r = m_agent_state_save(x->cfg->state_dir, &st);
	if (r < 0)
		r = io_fault(x, r);
	else
		x->res->enrolled = true;
out:
	if (act) {
		/* the request text holds the secret too */
		json_object *s;

		if (json_object_object_get_ex(act, "secret", &s))
			json_object_set_string(s, "");
		json_object_put(act);
	}
	explicit_bzero(&secret, sizeof(secret));
	json_object_put(req);
	return r;
}

static bool enrolled(struct run *x)
{
	struct m_agent_state st;

	if (m_agent_state_load(x->cfg->state_dir, &st) < 0)
		return false;
	return !strcmp(st.server, x->cfg->server) && !strcmp(st.machine, x->cfg->machine) &&
	       !strcmp(st.ak_name, x->ak_name);
}

struct nonce {
	uint8_t v[M_NONCE_MAX];
	size_t len;
	uint32_t pcrs;
	unsigned banks;
};

static int nonce_parse(json_object *a, struct nonce *n)
{
	const char *hex = m_json_str(a, "nonce");
	json_object *arr;

	memset(n, 0, sizeof(*n));
	if (!hex || !*hex || strlen(hex) % 2 || strlen(hex) / 2 > M_NONCE_MAX ||
	    m_unhex(hex, n->v, strlen(hex) / 2) < 0)
		return m_err(-EBADMSG, "/v1/nonce: 'nonce' is not hex of 1 to %zu bytes", M_NONCE_MAX);
	n->len = strlen(hex) / 2;
	if (json_object_object_get_ex(a, "pcrs", &arr) && json_object_is_type(arr, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *e = json_object_array_get_idx(arr, i);
			int64_t p = json_object_get_int64(e);

			if (!json_object_is_type(e, json_type_int) || p < 0 || p >= (int64_t)M_PCR_COUNT)
				return m_err(-EBADMSG, "/v1/nonce: pcrs[%zu] is not a PCR number", i);
			n->pcrs |= 1u << p;
		}
	}
	if (json_object_object_get_ex(a, "banks", &arr) && json_object_is_type(arr, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *e = json_object_array_get_idx(arr, i);
			int b = json_object_is_type(e, json_type_string) ?
				m_bank_by_name(json_object_get_string(e)) : -1;

			if (b < 0)
				return m_err(-EBADMSG, "/v1/nonce: banks[%zu] is not a bank name", i);
			n->banks |= 1u << b;
		}
	}
	return 0;
}

/* 1: refused; on "unknown-machine" after an old enrolment, enrol again once. */
static int get_nonce(struct run *x, struct nonce *n)
{
	json_object *req = json_object_new_object(), *a;
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "machine", json_object_new_string(x->cfg->machine));
	r = post(x, "/v1/nonce", req, M_HTTP_SMALL_MAX, &a);
	if (r == 1 && !x->res->enrolled && m_json_str(x->res->answer, "reason") &&
	    !strcmp(m_json_str(x->res->answer, "reason"), "unknown-machine")) {
		r = enroll(x);
		if (r == 0)
			r = post(x, "/v1/nonce", req, M_HTTP_SMALL_MAX, &a);
	}
	if (r == 0) {
		r = nonce_parse(a, n);
		if (r < 0)
			r = io_fault(x, r);
	}
	json_object_put(req);
	return r;
}

static int add_logs(struct run *x, struct m_evidence *ev, uint32_t quoted)
{
	for (size_t i = 0; i < x->cfg->nlogs; i++) {
		int r = m_evidence_add_log_file(ev, x->cfg->logs[i], x->cfg->logs_by_default ? quoted : 0);

		if (r < 0)
			return r;
	}
	return 0;
}

static int quote(struct run *x, const struct nonce *n, struct m_evidence **ret)
{
	static const uint8_t well_known[M_T12_AUTH_LEN];
	struct m_quote_params qp = { .ak_alg = x->cfg->alg, .nonce = n->v, .nonce_len = n->len };
	unsigned allocated;
	int r;

	qp.pcrs = x->cfg->pcrs ? x->cfg->pcrs : n->pcrs;
	if (!qp.pcrs)
		return io_fault(x, m_err(-EPROTO, "the server named no PCRs to quote (and --pcrs not given)"));
	r = m_tpm_banks(x->tpm, &allocated);
	if (r < 0)
		return tpm_fault(x, r);
	qp.banks = x->cfg->banks ? x->cfg->banks : n->banks ? n->banks : allocated;
	if (qp.banks & ~allocated) {
		char b[64];

		m_bank_list_format(qp.banks & ~allocated, b, sizeof(b));
		return tpm_fault(x, m_err(-ENOENT, "banks to quote that this TPM does not have: %s", b));
	}
	/* m_attest_quote() makes its own AK handle: three keys would not fit every TPM */
	keys_flush(x);
	if (x->t12) {
		/* TPM_Quote2 with the enrolled AIK (it loads and flushes it) */
		qp.aik_blob = x->aik_blob;
		qp.aik_blob_len = x->aik_blob_len;
		qp.aik_auth = x->cfg->aik_auth ? x->cfg->aik_auth : well_known;
		qp.srk_auth = x->cfg->srk_auth ? x->cfg->srk_auth : well_known;
	}
	r = m_attest_quote(x->tpm, &qp, ret);
	return r < 0 ? tpm_fault(x, r) : 0;
}

static int attest_request(struct run *x, struct m_evidence *ev, json_object **ret)
{
	json_object *req = NULL, *evo = NULL;
	uint32_t quoted = 0;
	int r;

	for_each_bank(b, M_BANKS_ALL)
		quoted |= ev->sel[b];
	r = add_logs(x, ev, quoted);
	if (r >= 0)
		r = m_evidence_to_json_object(ev, &evo);
	if (r < 0)
		return io_fault(x, r);
	req = json_object_new_object();
	if (!evo || !req) {
		json_object_put(evo);
		json_object_put(req);
		return io_fault(x, m_err(-ENOMEM, "cannot build the attest request"));
	}
	json_object_object_add(req, "machine", json_object_new_string(x->cfg->machine));
	json_object_object_add(req, "evidence", evo);
	json_object_object_add(req, "payload",
			       x->cfg->payload ? json_object_new_string(x->cfg->payload) : NULL);
	*ret = req;
	return 0;
}

/* docs/api.md, "Release": K by ActivateCredential, then AES-256-GCM. */
static int release(struct run *x, json_object *answer)
{
	json_object *p;
	TPM2B_DIGEST key = { 0 };
	uint8_t *iv = NULL, *ct = NULL, *tag = NULL, *pt = NULL;
	size_t ivl, ctl, tagl, ptl = 0;
	const char *name;
	int r;

	if (!json_object_object_get_ex(answer, "payload", &p) || !json_object_is_type(p, json_type_object))
		return io_fault(x, m_err(-EPROTO, "/v1/attest: pass without the payload asked for"));
	name = m_json_str(p, "name");
	if (!name || strcmp(name, x->cfg->payload) != 0)
		return io_fault(x, m_err(-EPROTO, "/v1/attest: payload '%s' released, '%s' asked for",
					 name ? name : "(none)", x->cfg->payload));
	r = m_json_b64(p, "iv", 16, &iv, &ivl);
	if (r >= 0)
		r = m_json_b64(p, "tag", 16, &tag, &tagl);
	if (r >= 0)
		r = m_json_b64(p, "ciphertext", M_PAYLOAD_MAX, &ct, &ctl);
	if (r < 0) {
		r = io_fault(x, r);
		goto out;
	}
	r = keys_load(x);
	if (r >= 0)
		r = activate(x, p, &key);
	if (r < 0)
		goto out;
	r = m_payload_decrypt(key.buffer, key.size, iv, ivl, ct, ctl, tag, tagl, &pt, &ptl);
	if (r >= 0)
		r = x->cfg->deliver ? x->cfg->deliver(x->cfg->deliver_arg, name, p, pt, ptl) :
				      m_payload_write(x->cfg->output, pt, ptl);
	if (r < 0) {
		r = io_fault(x, r);
		goto out;
	}
	x->res->payload_len = ptl;
out:
	explicit_bzero(&key, sizeof(key));
	if (pt) {
		explicit_bzero(pt, ptl);
		free(pt);
	}
	free(iv);
	free(ct);
	free(tag);
	return r;
}

static int attest(struct run *x)
{
	struct nonce n;
	struct m_evidence *ev = NULL;
	json_object *req = NULL, *a;
	const char *result;
	int r;

	r = get_nonce(x, &n);
	if (r != 0)
		return r;
	r = quote(x, &n, &ev);
	if (r >= 0)
		r = attest_request(x, ev, &req);
	m_evidence_free(ev);
	if (r < 0)
		return r;
	r = post(x, "/v1/attest", req, M_HTTP_ATTEST_MAX, &a);
	json_object_put(req);
	if (r != 0)
		return r;
	result = m_json_str(a, "result");
	if (!result || strcmp(result, "pass") != 0)
		return io_fault(x, m_err(-EPROTO, "/v1/attest: HTTP 200 without \"result\":\"pass\""));
	if (x->cfg->payload) {
		r = release(x, a);
		if (r < 0)
			return r;
	}
	x->res->pass = true;
	return 0;
}

/*
 * A 503 from a verifier of the --server list (its database unavailable):
 * the exchange starts again at the next one, from a fresh nonce (the one
 * sent may have been used: docs/server.md, "Running a fleet").
 */
static int at_next_verifier(struct run *x, int (*fn)(struct run *))
{
	int r = fn(x);

	while (r < 0 && x->res->http_status == 503 &&
	       m_http_next(x->http, "HTTP 503 (its database is unavailable)")) {
		x->res->http_status = 0;
		x->res->fault = M_AGENT_FAULT_NONE;	/* the 503 was the only fault: it is behind us */
		r = fn(x);
	}
	return r;
}

int m_agent_run(struct m_tpm *tpm, struct m_http *http, const struct m_agent_config *cfg,
		struct m_agent_result *ret)
{
	struct run x = { .tpm = tpm, .http = http, .cfg = cfg, .res = ret,
			 .ek = ESYS_TR_NONE, .ak = ESYS_TR_NONE };
	int r;

	memset(ret, 0, sizeof(*ret));
	x.t12 = m_tpm_family(tpm) == 12;
	if (!cfg->machine || !*cfg->machine || strlen(cfg->machine) >= sizeof(((struct m_agent_state *)0)->machine))
		return io_fault(&x, m_err(-EINVAL, "machine name empty or over 255 bytes"));
	/* the enrolment record keeps the URL whole: one it could not hold is refused, never cut */
	if (!cfg->server || strlen(cfg->server) >= sizeof(((struct m_agent_state *)0)->server))
		return io_fault(&x, m_err(-EINVAL, "server URL empty or over %zu bytes",
					  sizeof(((struct m_agent_state *)0)->server) - 1));
	if (cfg->payload && !cfg->output && !cfg->deliver)
		return io_fault(&x, m_err(-EINVAL, "a payload needs an output file"));
	r = keys_load(&x);
	if (r >= 0 && !enrolled(&x))
		r = at_next_verifier(&x, enroll);
	if (r == 0)
		r = at_next_verifier(&x, attest);
	/* the verifier forgot this machine (its nonce answers every name alike): enrol again, once */
	if (r == 1 && !ret->enrolled && m_json_str(ret->answer, "reason") &&
	    !strcmp(m_json_str(ret->answer, "reason"), "unknown-machine")) {
		json_object_put(ret->answer);
		ret->answer = NULL;
		keys_flush(&x);
		r = keys_load(&x);
		if (r >= 0)
			r = at_next_verifier(&x, enroll);
		if (r == 0)
			r = at_next_verifier(&x, attest);
	}
	keys_flush(&x);
	/* 1 from post(): the verifier refused; that is an answer, not an error */
	return r > 0 ? 0 : r;
}
