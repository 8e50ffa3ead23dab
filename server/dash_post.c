// SPDX-License-Identifier: MIT
/*
 * The dashboard's POST endpoints (docs/api.md, "Dashboard"): login, and
 * for a write token, approve, revoke and a new policy.  dashboard.c has
 * checked the origin and, but for login, the token and the CSRF token.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "measured/json.h"
#include "measured/digest.h"
#include "measured/manifest.h"
#include "measured/pcrs.h"
#include "dash_priv.h"

static json_object *parse_body(const struct dreq *rq)
{
	struct m_json_error err;
	json_object *o = m_json_parse(rq->body ? rq->body : "", rq->len, SRV_JSON_DEPTH, 0, &err);

	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

enum MHD_Result srv_dash_login(struct srv *s, struct m_store *st, struct MHD_Connection *c, const struct dreq *rq)
{
	json_object *b = parse_body(rq), *t;
	struct who w;
	char addr[64], cookie[160], detail[128];
	const char *tok;
	bool ok = false;

	srv_dash_peer(c, addr, sizeof(addr));
	if (b && json_object_object_get_ex(b, "token", &t) && json_object_is_type(t, json_type_string)) {
		tok = json_object_get_string(t);
		if (srv_dash_token_hash(tok, (size_t)json_object_get_string_len(t), w.hash) == 0) {
			int r = m_store_dash_token_find(st, w.hash, w.name, sizeof(w.name), &w.role);

			if (r < 0 && r != -ENOENT) {
				slog_error("dashboard", r);
				json_object_put(b);
				return srv_dash_send_fail(c, 503, "internal-error", "the database is unavailable");
			}
			ok = r == 0;
		}
		if (ok)
			snprintf(cookie, sizeof(cookie), SRV_DASH_COOKIE "=%s; Path=/; Max-Age=%u; Secure; HttpOnly;"
				 " SameSite=Strict", tok, DASH_SESSION_S);
	}
	json_object_put(b);
	snprintf(detail, sizeof(detail), "dashboard login from %s", addr);
	if (!ok) {
		srv_audit(s, st, false, "", "dashboard-login", "fail", "bad-token", detail);
		return srv_dash_send_fail(c, 401, "unauthorized", "no such dashboard token");
	}
	srv_audit(s, st, true, "", "dashboard-login", "ok", "", w.name);
	{
		unsigned status = 200;
		json_object *o = srv_dash_session(s, &w, &status);
		enum MHD_Result r = o ? srv_dash_send_obj(c, 200, o, cookie)
				      : srv_dash_send_fail(c, status, "internal-error", "no session");

		explicit_bzero(cookie, sizeof(cookie));
		return r;
	}
}

static enum MHD_Result post_machine(struct srv *s, struct m_store *st, struct MHD_Connection *c,
				    const struct dreq *rq, const struct who *w, bool approve)
{
	json_object *b = parse_body(rq), *v, *o;
	char name[M_STORE_NAME_MAX], detail[M_STORE_NAME_MAX + M_STORE_POLICY_LIST_MAX + 32];
	const char *policy = NULL;
	struct srv_reply rep = { 0 };
	int r;

	if (!b || srv_get_name(b, "machine", &rep, name, sizeof(name)) < 0) {
		json_object_put(rep.body);
		json_object_put(b);
		return srv_dash_send_fail(c, 400, "bad-request", "machine: a name is required");
	}
	if (approve && json_object_object_get_ex(b, "policy", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		policy = json_object_get_string(v);
		char buf[M_STORE_POLICY_LIST_MAX], *save = NULL;

		if (m_store_policy_list_check(policy) < 0) {
			json_object_put(b);
			return srv_dash_send_fail(c, 400, "bad-request", "policy: too long a list");
		}
		memcpy(buf, policy, strlen(policy) + 1);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			struct m_policy p;

			if (!m_store_name_ok(t, strlen(t)) || m_store_policy_head(st, t, &p) < 0) {
				json_object_put(b);
				return srv_dash_send_fail(c, 400, "bad-request", "policy: no such policy");
			}
		}
	}
	r = m_store_machine_set(st, name, approve ? M_MACHINE_APPROVED : M_MACHINE_REVOKED, policy);
	srv_machine_forget(name);	/* other verifiers find out at the attestation's commit (attest.c) */
	if (r < 0) {
		json_object_put(b);
		return r == -ENOENT ? srv_dash_send_fail(c, 404, "unknown-machine", "no such machine")
				    : srv_dash_send_fail(c, 503, "internal-error", "the database is unavailable");
	}
	snprintf(detail, sizeof(detail), "by dashboard token %s%s%s", w->name, policy ? "; policy " : "",
		 policy ? policy : "");
	srv_audit(s, st, true, name, approve ? "dashboard-approve" : "dashboard-revoke", "ok", "", detail);
	json_object_put(b);
	o = json_object_new_object();
	json_object_object_add(o, "result", json_object_new_string("ok"));
	json_object_object_add(o, "machine", json_object_new_string(name));
	json_object_object_add(o, "state", json_object_new_string(approve ? "approved" : "revoked"));
	return srv_dash_send_obj(c, 200, o, NULL);
}

/*
 * A new policy: its name, one manifest (JSON text, its label "default"
 * unless given), the PCRs (default: the manifest's) and banks (default
 * sha256) every quote must cover, as `measured admin policy add` takes
 * them.  An existing name is refused (409): replacing a policy, and every
 * manifest of it, stays with `measured admin`.
 */
static enum MHD_Result post_policy(struct srv *s, struct m_store *st, struct MHD_Connection *c,
				   const struct dreq *rq, const struct who *w)
{
	json_object *b = parse_body(rq), *v, *o;
	struct srv_reply rep = { 0 };
	struct m_policy pol = { 0 }, have;
	struct m_manifest *m = NULL;
	char label[M_STORE_NAME_MAX], detail[2 * M_STORE_NAME_MAX + 64];
	const char *text, *why = NULL;
	size_t len;
	int r;

	if (!b || srv_get_name(b, "name", &rep, pol.name, sizeof(pol.name)) < 0) {
		why = "name: 1 to 127 characters of [A-Za-z0-9._-]";
		goto bad;
	}
	if (json_object_object_get_ex(b, "label", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		if (srv_get_name(b, "label", &rep, label, sizeof(label)) < 0) {
			why = "label: 1 to 127 characters of [A-Za-z0-9._-]";
			goto bad;
		}
		pol.label = label;
	}
	if (!json_object_object_get_ex(b, "manifest", &v) || !json_object_is_type(v, json_type_string)) {
		why = "manifest: the manifest's JSON text is required";
		goto bad;
	}
	text = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (m_manifest_parse(text, len, "manifest", &m) < 0) {
		why = "manifest: not a reference manifest (docs/manifest.md)";
		goto bad;
	}
	if (m_bank_list_parse(json_object_object_get_ex(b, "banks", &v) && json_object_is_type(v, json_type_string) &&
			      json_object_get_string_len(v) ? json_object_get_string(v) : "sha256", &pol.banks) < 0 ||
	    !pol.banks) {
		why = "banks: a list of bank names";
		goto bad;
	}
	pol.pcrs = m->pcrs;
	if (json_object_object_get_ex(b, "pcrs", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) && m_pcr_list_parse(json_object_get_string(v), &pol.pcrs) < 0) {
		why = "pcrs: a list of PCR numbers";
		goto bad;
	}
	if (!pol.pcrs) {
		why = "the policy quotes no PCR";
		goto bad;
	}
	r = m_store_policy_head(st, pol.name, &have);
	if (r == 0) {
		m_manifest_free(m);
		json_object_put(rep.body);
		json_object_put(b);
		return srv_dash_send_fail(c, 409, "policy-exists", "a policy of that name exists (replace it with measured admin)");
	}
	pol.manifest = (char *)text;
	r = r == -ENOENT ? m_store_policy_put(st, &pol) : r;
	m_manifest_free(m);
	if (r < 0) {
		json_object_put(b);
		return srv_dash_send_fail(c, 503, "internal-error", "the database is unavailable");
	}
	snprintf(detail, sizeof(detail), "%s by dashboard token %s", pol.name, w->name);
	srv_audit(s, st, true, "", "policy-add", "ok", "", detail);
	o = json_object_new_object();
	json_object_object_add(o, "result", json_object_new_string("ok"));
	json_object_object_add(o, "policy", json_object_new_string(pol.name));
	json_object_object_add(o, "weak", json_object_new_boolean(m_store_policy_weak(pol.pcrs)));
	json_object_put(b);
	return srv_dash_send_obj(c, 200, o, NULL);
bad:
	m_manifest_free(m);
	json_object_put(rep.body);
	json_object_put(b);
	return srv_dash_send_fail(c, 400, "bad-request", why);
}

enum MHD_Result srv_dash_post(struct srv *s, struct m_store *st, struct MHD_Connection *c, const char *url,
			      const struct dreq *rq, const struct who *w)
{
	if (!strcmp(url, "/api/logout"))
		return srv_dash_send_buf(c, 200, "application/json", "{\"result\":\"ok\"}", 15, false,
							 SRV_DASH_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
	if (strcmp(url, "/api/machine/approve") && strcmp(url, "/api/machine/revoke") && strcmp(url, "/api/policy"))
		return srv_dash_send_fail(c, 404, "not-found", "no such endpoint");
	if (w->role != M_DASH_WRITE)
		return srv_dash_send_fail(c, 403, "read-only", "this token may not change anything");
	if (!strcmp(url, "/api/policy"))
		return post_policy(s, st, c, rq, w);
	return post_machine(s, st, c, rq, w, !strcmp(url, "/api/machine/approve"));
}

