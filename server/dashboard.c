// SPDX-License-Identifier: MIT
/*
 * The operators' dashboard (docs/server.md "Dashboard", docs/api.md
 * "Dashboard"): a page, a script and a style sheet embedded in the binary,
 * and JSON endpoints the script polls, on a TLS listener of its own
 * (--dashboard-listen): the API's listener faces the machines (and may
 * demand their client certificates), this one faces operators, and the
 * two can be bound to different networks.
 *
 * Every /api/ endpoint but /api/login needs a dashboard token: as a
 * bearer token, or as the HttpOnly, Secure, SameSite=Strict session
 * cookie /api/login sets.  Without one the answer is 401 and nothing else.
 * Tokens have a role: "read" sees everything; "write" may also approve
 * and revoke.  Every POST carries the session's CSRF token (X-CSRF-Token,
 * from /api/session) and, from a browser, Sec-Fetch-Site same-origin and
 * an Origin of this listener.  The server puts no data into HTML: the
 * page builds its DOM with textContent from JSON (json-c escapes it), so
 * a machine's event descriptions stay text.  Failed logins are audited.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/manifest.h"
#include "measured/pcrs.h"
#include "server.h"
#include "dashboard.h"
#include "store_dash.h"

#define DASH_BODY_MAX   (16u << 10)	/* a POST's JSON */
#define DASH_POLICY_MAX (4u << 20)	/* POST /api/policy: a manifest's JSON text inside JSON */
#define DASH_THREADS    2
#define DASH_CONNS      64
#define DASH_PAGE_DEF   50
#define DASH_SESSION_S  43200		/* the session cookie's lifetime */

/* every answer: nothing from elsewhere, no framing, no sniffing, no referrer */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';" \
	    " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

struct dreq {
	char *body;
	size_t len, max;
	bool too_big;
};

struct who {
	char name[M_STORE_NAME_MAX];
	int role;
	char hash[SRV_DASH_HEX];
};

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type, const void *data,
				size_t len, bool cache, const char *cookie)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? "max-age=300" : "no-store");
	if (cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result send_obj(struct MHD_Connection *c, unsigned status, json_object *o, const char *cookie)
{
	size_t len;
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	enum MHD_Result r = send_buf(c, status, "application/json", t, len, false, cookie);

	json_object_put(o);
	return r;
}

static enum MHD_Result send_fail(struct MHD_Connection *c, unsigned status, const char *reason, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_new_string("fail"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return send_obj(c, status, o, NULL);
}

static void peer(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(out, len, "?");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, (socklen_t)len);
}

/*
 * The presented token (bearer, else the session cookie): 1 found, 0 none
 * presented, -1 presented and wrong, -2 the database did not answer.
 */
static int authenticate(struct m_store *st, struct MHD_Connection *c, struct who *w)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *tok = NULL;
	int r;

	if (auth && !strncmp(auth, "Bearer ", 7))
		tok = auth + 7;
	else
		tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SRV_DASH_COOKIE);
	if (!tok)
		return 0;
	if (srv_dash_token_hash(tok, strlen(tok), w->hash) < 0)
		return -1;
	r = m_store_dash_token_find(st, w->hash, w->name, sizeof(w->name), &w->role);
	if (r < 0 && r != -ENOENT)
		slog_error("dashboard", r);
	return r == 0 ? 1 : r == -ENOENT ? -1 : -2;
}

/* a non-negative decimal query argument, or @def when absent; -1 when malformed */
static int64_t arg_num(struct MHD_Connection *c, const char *key, int64_t def, int64_t max)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
	int64_t n = 0;

	if (!v || !*v)
		return def;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || n > (max - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

/* a name-like query argument: NULL when absent or empty, @bad set when not a name */
static const char *arg_name(struct MHD_Connection *c, const char *key, bool *bad)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

	if (!v || !*v)
		return NULL;
	if (!m_store_name_ok(v, strlen(v)))
		*bad = true;
	return v;
}

static const char *state_name(int st)
{
	return st == M_MACHINE_APPROVED ? "approved" : st == M_MACHINE_REVOKED ? "revoked" : "pending";
}

/* ---- GET endpoints ---- */

struct counts {
	json_object *states, *results;
	int64_t total;
};

static void add_to(json_object *o, const char *k, int64_t n)
{
	json_object *v;
	int64_t have = json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;

	json_object_object_add(o, k, json_object_new_int64(have + n));
}

static int count_cb(int state, const char *result, int64_t n, void *arg)
{
	struct counts *k = arg;

	add_to(k->states, state_name(state), n);
	add_to(k->results, result[0] ? result : "none", n);
	k->total += n;
	return 0;
}

static json_object *api_summary(struct m_store *st, unsigned *status)
{
	struct counts k = { json_object_new_object(), json_object_new_object(), 0 };
	static const char *const states[] = { "pending", "approved", "revoked" };
	static const char *const results[] = { "pass", "fail", "none" };
	json_object *res;

	for (size_t i = 0; i < 3; i++) {
		add_to(k.states, states[i], 0);
		add_to(k.results, results[i], 0);
	}
	if (m_store_dash_counts(st, count_cb, &k) < 0) {
		json_object_put(k.states);
		json_object_put(k.results);
		*status = 503;
		return NULL;
	}
	res = json_object_new_object();
	json_object_object_add(res, "total", json_object_new_int64(k.total));
	json_object_object_add(res, "states", k.states);
	json_object_object_add(res, "results", k.results);
	return res;
}

static int machine_cb(const struct m_dash_machine *m, void *arg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "state", json_object_new_string(state_name(m->state)));
	json_object_object_add(o, "policy", json_object_new_string(m->policy));
	json_object_object_add(o, "tpm", json_object_new_string(m->tpm));
	json_object_object_add(o, "last_result", json_object_new_string(m->last_result));
	json_object_object_add(o, "last_reason", json_object_new_string(m->last_reason));
	json_object_object_add(o, "last_at", json_object_new_int64(m->last_at));
	json_object_object_add(o, "enrolled_at", json_object_new_int64(m->enrolled_at));
	json_object_array_add(arg, o);
	return 0;
}

static json_object *api_machines(struct m_store *st, struct MHD_Connection *c, unsigned *status)
{
	bool bad = false;
	const char *filter = arg_name(c, "filter", &bad);
	int64_t off = arg_num(c, "offset", 0, INT32_MAX), lim = arg_num(c, "limit", DASH_PAGE_DEF, M_DASH_PAGE_MAX);
	int64_t total = 0;
	json_object *a, *o;

	if (bad || off < 0 || lim < 1) {
		*status = 400;
		return NULL;
	}
	/* count=no: the caller has the total from /api/summary (counting costs PostgreSQL a scan) */
	const char *cnt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "count");
	bool count = filter || !cnt || strcmp(cnt, "no") != 0;

	a = json_object_new_array();
	if (m_store_dash_machines(st, filter, off, lim, machine_cb, a, count ? &total : NULL) < 0) {
		json_object_put(a);
		*status = 503;
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "total", count ? json_object_new_int64(total) : NULL);
	json_object_object_add(o, "offset", json_object_new_int64(off));
	json_object_object_add(o, "limit", json_object_new_int64(lim));
	json_object_object_add(o, "machines", a);
	return o;
}

static int audit_cb(const struct m_audit *a, void *arg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(a->id));
	json_object_object_add(o, "at", json_object_new_int64(a->at));
	json_object_object_add(o, "machine", json_object_new_string(a->machine));
	json_object_object_add(o, "event", json_object_new_string(a->event));
	json_object_object_add(o, "result", json_object_new_string(a->result));
	json_object_object_add(o, "reason", json_object_new_string(a->reason));
	json_object_object_add(o, "detail", json_object_new_string(a->detail));
	json_object_array_add(arg, o);
	return 0;
}

/* a page of the audit log as {"records":[...],"next_before":ID|null} */
static json_object *audit_page(struct m_store *st, const char *machine, const char *result, int64_t before,
			       int64_t lim, unsigned *status)
{
	json_object *a = json_object_new_array(), *o;
	size_t n;

	if (m_store_dash_audit(st, machine, result, before, lim, audit_cb, a) < 0) {
		json_object_put(a);
		*status = 503;
		return NULL;
	}
	n = json_object_array_length(a);
	o = json_object_new_object();
	json_object_object_add(o, "records", a);
	json_object_object_add(o, "next_before", n == (size_t)lim
				? json_object_new_int64(json_object_get_int64(json_object_object_get(
					  json_object_array_get_idx(a, n - 1), "id")))
				: NULL);
	return o;
}

static json_object *api_audit(struct m_store *st, struct MHD_Connection *c, unsigned *status)
{
	bool bad = false;
	const char *machine = arg_name(c, "machine", &bad);
	const char *result = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "result");
	int64_t before = arg_num(c, "before", 0, INT64_MAX), lim = arg_num(c, "limit", DASH_PAGE_DEF, M_DASH_PAGE_MAX);

	if (result && !*result)
		result = NULL;
	if (bad || before < 0 || lim < 1 || (result && strcmp(result, "pass") && strcmp(result, "fail"))) {
		*status = 400;
		return NULL;
	}
	return audit_page(st, machine, result, before, lim, status);
}

static json_object *api_machine(struct m_store *st, struct MHD_Connection *c, unsigned *status)
{
	bool bad = false;
	const char *name = arg_name(c, "name", &bad);
	struct m_machine m;
	json_object *o, *mo, *hist, *d = NULL;
	char *dj = NULL;
	int64_t dat = 0;
	int r;

	if (bad || !name) {
		*status = 400;
		return NULL;
	}
	r = m_store_machine_get(st, name, &m);
	if (r < 0) {
		*status = r == -ENOENT ? 404 : 503;
		return NULL;
	}
	mo = json_object_new_array();
	{
		struct m_dash_machine dm = { m.name, m.policy, m.tpm, m.last_result, m.last_reason, m.state,
					     m.enrolled_at, m.last_at };

		machine_cb(&dm, mo);
	}
	o = json_object_new_object();
	json_object_object_add(o, "machine", json_object_get(json_object_array_get_idx(mo, 0)));
	json_object_put(mo);
	json_object_object_add(json_object_object_get(o, "machine"), "ek_trust", json_object_new_string(m.ek_trust));
	m_machine_clear(&m);
	hist = audit_page(st, name, NULL, arg_num(c, "before", 0, INT64_MAX), DASH_PAGE_DEF, status);
	if (!hist) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "history", hist);
	if (m_store_dash_difference_get(st, name, &dj, &dat) == 0) {
		/* our own JSON (srv_dash_record_difference()); parsed with the API's depth limit all the same */
		json_tokener *tok = json_tokener_new_ex(SRV_JSON_DEPTH);

		if (tok) {
			d = json_tokener_parse_ex(tok, dj, (int)strlen(dj));
			json_tokener_free(tok);
		}
		if (d && json_object_is_type(d, json_type_object))
			json_object_object_add(d, "at", json_object_new_int64(dat));
		free(dj);
	}
	json_object_object_add(o, "difference", d);
	return o;
}

struct pol_ctx {
	struct m_store *st;
	json_object *a;
	int err;
};

static int manifest_cb(const struct m_policy_manifest *pm, void *arg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "label", json_object_new_string(pm->label));
	json_object_object_add(o, "added_at", json_object_new_int64(pm->added_at));
	if (pm->manifest && pm->manifest[0])
		json_object_object_add(o, "manifest", json_object_new_string(pm->manifest));
	json_object_array_add(arg, o);
	return 0;
}

static int policy_cb(const struct m_policy *p, void *arg)
{
	json_object *a = arg, *o = json_object_new_object(), *pcrs = json_object_new_array(), *banks = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(p->name));
	for (unsigned i = 0; i < 24; i++)
		if (p->pcrs & (1u << i))
			json_object_array_add(pcrs, json_object_new_int((int)i));
	for (unsigned b = 0; b < M_BANK_COUNT; b++)
		if (p->banks & (1u << b))
			json_object_array_add(banks, json_object_new_string(m_bank_info(b)->name));
	json_object_object_add(o, "pcrs", pcrs);
	json_object_object_add(o, "banks", banks);
	json_object_object_add(o, "version", json_object_new_int64(p->version));
	json_object_array_add(a, o);
	return 0;
}

/* every policy with its manifests' labels; with ?name= that one policy's manifests, texts included */
static json_object *api_policies(struct m_store *st, struct MHD_Connection *c, unsigned *status)
{
	bool bad = false;
	const char *name = arg_name(c, "name", &bad);
	json_object *a = json_object_new_array(), *o;
	int r;

	if (bad) {
		json_object_put(a);
		*status = 400;
		return NULL;
	}
	r = m_store_policy_list(st, policy_cb, a);
	for (size_t i = 0; r == 0 && i < json_object_array_length(a); i++) {
		json_object *p = json_object_array_get_idx(a, i), *ms = json_object_new_array();
		const char *pn = json_object_get_string(json_object_object_get(p, "name"));
		bool text = name && !strcmp(name, pn);

		json_object_object_add(p, "manifests", ms);
		if (!name || text)
			r = m_store_policy_manifests(st, pn, text, manifest_cb, ms);
	}
	if (r < 0) {
		json_object_put(a);
		*status = 503;
		return NULL;
	}
	if (name) {
		json_object *one = NULL;

		for (size_t i = 0; i < json_object_array_length(a); i++)
			if (!strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(a, i), "name")),
				    name))
				one = json_object_get(json_object_array_get_idx(a, i));
		json_object_put(a);
		if (!one)
			*status = 404;
		return one;
	}
	o = json_object_new_object();
	json_object_object_add(o, "policies", a);
	return o;
}

static json_object *api_session(struct srv *s, const struct who *w, unsigned *status)
{
	char csrf[SRV_DASH_HEX];
	json_object *o;

	if (srv_dash_csrf(s->dash_key, w->hash, csrf) < 0) {
		*status = 500;
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(w->name));
	json_object_object_add(o, "role", json_object_new_string(w->role == M_DASH_WRITE ? "write" : "read"));
	json_object_object_add(o, "csrf", json_object_new_string(csrf));
	return o;
}

/* ---- POST endpoints ---- */

static json_object *parse_body(const struct dreq *rq)
{
	json_tokener *tok = json_tokener_new_ex(SRV_JSON_DEPTH);
	json_object *o = NULL;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, rq->body ? rq->body : "", (int)rq->len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int)rq->len ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static enum MHD_Result post_login(struct srv *s, struct m_store *st, struct MHD_Connection *c, const struct dreq *rq)
{
	json_object *b = parse_body(rq), *t;
	struct who w;
	char addr[64], cookie[160], detail[128];
	const char *tok;
	bool ok = false;

	peer(c, addr, sizeof(addr));
	if (b && json_object_object_get_ex(b, "token", &t) && json_object_is_type(t, json_type_string)) {
		tok = json_object_get_string(t);
		if (srv_dash_token_hash(tok, (size_t)json_object_get_string_len(t), w.hash) == 0) {
			int r = m_store_dash_token_find(st, w.hash, w.name, sizeof(w.name), &w.role);

			if (r < 0 && r != -ENOENT) {
				slog_error("dashboard", r);
				json_object_put(b);
				return send_fail(c, 503, "internal-error", "the database is unavailable");
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
		return send_fail(c, 401, "unauthorized", "no such dashboard token");
	}
	srv_audit(s, st, true, "", "dashboard-login", "ok", "", w.name);
	{
		unsigned status = 200;
		json_object *o = api_session(s, &w, &status);
		enum MHD_Result r = o ? send_obj(c, 200, o, cookie) : send_fail(c, status, "internal-error", "no session");

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
		return send_fail(c, 400, "bad-request", "machine: a name is required");
	}
	if (approve && json_object_object_get_ex(b, "policy", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		policy = json_object_get_string(v);
		char buf[M_STORE_POLICY_LIST_MAX], *save = NULL;

		if (m_store_policy_list_check(policy) < 0) {
			json_object_put(b);
			return send_fail(c, 400, "bad-request", "policy: too long a list");
		}
		memcpy(buf, policy, strlen(policy) + 1);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			struct m_policy p;

			if (!m_store_name_ok(t, strlen(t)) || m_store_policy_head(st, t, &p) < 0) {
				json_object_put(b);
				return send_fail(c, 400, "bad-request", "policy: no such policy");
			}
		}
	}
	r = m_store_machine_set(st, name, approve ? M_MACHINE_APPROVED : M_MACHINE_REVOKED, policy);
	if (r < 0) {
		json_object_put(b);
		return r == -ENOENT ? send_fail(c, 404, "unknown-machine", "no such machine")
				    : send_fail(c, 503, "internal-error", "the database is unavailable");
	}
	snprintf(detail, sizeof(detail), "by dashboard token %s%s%s", w->name, policy ? "; policy " : "",
		 policy ? policy : "");
	srv_audit(s, st, true, name, approve ? "dashboard-approve" : "dashboard-revoke", "ok", "", detail);
	json_object_put(b);
	o = json_object_new_object();
	json_object_object_add(o, "result", json_object_new_string("ok"));
	json_object_object_add(o, "machine", json_object_new_string(name));
	json_object_object_add(o, "state", json_object_new_string(approve ? "approved" : "revoked"));
	return send_obj(c, 200, o, NULL);
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
		return send_fail(c, 409, "policy-exists", "a policy of that name exists (replace it with measured admin)");
	}
	pol.manifest = (char *)text;
	r = r == -ENOENT ? m_store_policy_put(st, &pol) : r;
	m_manifest_free(m);
	if (r < 0) {
		json_object_put(b);
		return send_fail(c, 503, "internal-error", "the database is unavailable");
	}
	snprintf(detail, sizeof(detail), "%s by dashboard token %s", pol.name, w->name);
	srv_audit(s, st, true, "", "policy-add", "ok", "", detail);
	o = json_object_new_object();
	json_object_object_add(o, "result", json_object_new_string("ok"));
	json_object_object_add(o, "policy", json_object_new_string(pol.name));
	json_object_object_add(o, "weak", json_object_new_boolean(m_store_policy_weak(pol.pcrs)));
	json_object_put(b);
	return send_obj(c, 200, o, NULL);
bad:
	m_manifest_free(m);
	json_object_put(rep.body);
	json_object_put(b);
	return send_fail(c, 400, "bad-request", why);
}

/* ---- routing ---- */

static enum MHD_Result serve_asset(struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (size_t i = 0; i < srv_dash_nassets; i++)
		if (!strcmp(url + 1, srv_dash_assets[i].path))
			return send_buf(c, 200, srv_dash_assets[i].type, srv_dash_assets[i].data, srv_dash_assets[i].len,
					true, NULL);
	return send_fail(c, 404, "not-found", "no such page");
}

static enum MHD_Result route_get(struct srv *s, struct m_store *st, struct MHD_Connection *c, const char *url,
				 const struct who *w)
{
	unsigned status = 404;
	json_object *o = NULL;

	if (!strcmp(url, "/api/session"))
		o = api_session(s, w, &status);
	else if (!strcmp(url, "/api/summary"))
		o = api_summary(st, &status);
	else if (!strcmp(url, "/api/machines"))
		o = api_machines(st, c, &status);
	else if (!strcmp(url, "/api/machine"))
		o = api_machine(st, c, &status);
	else if (!strcmp(url, "/api/policies"))
		o = api_policies(st, c, &status);
	else if (!strcmp(url, "/api/audit"))
		o = api_audit(st, c, &status);
	if (o)
		return send_obj(c, 200, o, NULL);
	return send_fail(c, status, status == 400 ? "bad-request" : status == 404 ? "not-found" : "internal-error",
			 status == 400 ? "bad query arguments" : status == 404 ? "not found" : "the database is unavailable");
}

static enum MHD_Result route(struct srv *s, struct MHD_Connection *c, const char *url, const char *method,
			     const struct dreq *rq)
{
	struct m_store *st = srv_store(s);
	bool post = !strcmp(method, "POST");
	struct who w;
	int a;

	if (strncmp(url, "/api/", 5) != 0)
		return strcmp(method, "GET") && strcmp(method, "HEAD") ? send_fail(c, 405, "bad-request", "GET only")
								   : serve_asset(c, url);
	if (!st)
		return send_fail(c, 503, "internal-error", "the database is unavailable");
	if (!post && strcmp(method, "GET"))
		return send_fail(c, 405, "bad-request", "GET or POST only");
	if (post && !srv_dash_origin_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
					MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
					MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		return send_fail(c, 403, "csrf", "a cross-origin request");
	if (post && !strcmp(url, "/api/login"))
		return post_login(s, st, c, rq);
	a = authenticate(st, c, &w);
	if (a == -2)
		return send_fail(c, 503, "internal-error", "the database is unavailable");
	if (a <= 0) {
		if (a < 0) {
			char addr[64], detail[128];

			peer(c, addr, sizeof(addr));
			snprintf(detail, sizeof(detail), "dashboard request with an unknown token from %s", addr);
			srv_audit(s, st, false, "", "dashboard-login", "fail", "bad-token", detail);
		}
		return send_fail(c, 401, "unauthorized", "a dashboard token is required");
	}
	if (!post)
		return route_get(s, st, c, url, &w);
	if (!srv_dash_csrf_ok(s->dash_key, w.hash, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token")))
		return send_fail(c, 403, "csrf", "the session's CSRF token is missing or wrong");
	if (!strcmp(url, "/api/logout"))
		return send_buf(c, 200, "application/json", "{\"result\":\"ok\"}", 15, false,
				SRV_DASH_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
	if (strcmp(url, "/api/machine/approve") && strcmp(url, "/api/machine/revoke") && strcmp(url, "/api/policy"))
		return send_fail(c, 404, "not-found", "no such endpoint");
	if (w.role != M_DASH_WRITE)
		return send_fail(c, 403, "read-only", "this token may not change anything");
	if (!strcmp(url, "/api/policy"))
		return post_policy(s, st, c, rq, &w);
	return post_machine(s, st, c, rq, &w, !strcmp(url, "/api/machine/approve"));
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct dreq *rq = *con_cls;
	(void)version;

	if (!rq) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		struct srv *s = cls;

		/* --dashboard-client-ca: an administrator's certificate before anything, the page included */
		if (s->cfg.dashboard_client_ca && !srv_client_verified(c, NULL, 0))
			return send_fail(c, 403, "client-cert-required",
					 "a client certificate for TLS client authentication, signed by the dashboard's CA, "
					 "is required");

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		rq->max = !strcmp(url, "/api/policy") ? DASH_POLICY_MAX : DASH_BODY_MAX;
		if (cl && strtoull(cl, NULL, 10) > rq->max)
			rq->too_big = true;
		return MHD_YES;
	}
	if (*upload_len) {
		if (!rq->too_big && *upload_len <= rq->max - rq->len) {
			char *b = realloc(rq->body, rq->len + *upload_len + 1);

			if (!b)
				return MHD_NO;
			rq->body = b;
			memcpy(rq->body + rq->len, upload, *upload_len);
			rq->len += *upload_len;
		} else {
			rq->too_big = true;
		}
		*upload_len = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return send_fail(c, 413, "body-too-large", "the body is over the endpoint's limit");
	return route(cls, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct dreq *rq = *con_cls;
	(void)cls, (void)c, (void)t;

	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

int srv_dash_record_difference(struct m_store *st, const struct srv_reply *rep)
{
	json_object *d;
	size_t len;
	const char *t;

	if (!rep->body || !json_object_object_get_ex(rep->body, "first_difference", &d))
		return 0;
	t = json_object_to_json_string_length(d, JSON_C_TO_STRING_PLAIN, &len);
	if (len > M_DASH_DIFF_MAX)
		return 0;	/* shown as absent rather than cut */
	return m_store_dash_difference_put(st, rep->machine, t, (int64_t)time(NULL));
}

/*
 * The CSRF key: HMAC-SHA256 of a fixed label under the nonce key, which
 * every verifier of the database shares (srv_nonce_key_load()), so each
 * accepts the others' sessions; a replaced nonce key replaces it too.
 */
static int derive_key(struct srv *s)
{
	static const char label[] = "measured dashboard CSRF key";
	unsigned len = 0;

	if (!HMAC(EVP_sha256(), s->nonce_key, sizeof(s->nonce_key), (const uint8_t *)label, sizeof(label) - 1,
		  s->dash_key, &len) || len != sizeof(s->dash_key))
		return m_err(-EIO, "HMAC failed");
	return 0;
}

static char *dash_ca;	/* --dashboard-client-ca's PEM, kept while the daemon runs */

int srv_dash_start(struct srv *s, const char *cert, const char *key, struct MHD_Daemon **ret)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	int r;

	r = srv_parse_listen("--dashboard-listen", s->cfg.dashboard_listen, &sa);
	if (r == 0)
		r = derive_key(s);
	if (r == 0 && s->cfg.dashboard_client_ca)
		r = srv_read_pem(s->cfg.dashboard_client_ca, &dash_ca);
	if (r < 0)
		return r;
	/* with a CA, GnuTLS asks for a client certificate; handler() requires one that verifies */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0,
			     NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_CERT, cert,
			     MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_PRIORITIES, srv_tls_priorities,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)DASH_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
			     s->cfg.timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)DASH_CONNS,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, s,
			     dash_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, dash_ca, MHD_OPTION_END);
	if (!d) {
		free(dash_ca);
		dash_ca = NULL;
		return m_err(-EIO, "cannot listen on %s with TLS (port in use?)", s->cfg.dashboard_listen);
	}
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "dashboard", json_object_new_string(s->cfg.dashboard_listen));
		json_object_object_add(f, "mtls", json_object_new_boolean(dash_ca != NULL));
		slog("info", "listening", f);
	}
	*ret = d;
	return 0;
}

void srv_dash_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
	free(dash_ca);
	dash_ca = NULL;
}
