// SPDX-License-Identifier: MIT
/*
 * The dashboard's GET endpoints (docs/api.md, "Dashboard"): each builds its
 * JSON from the store's paged queries (server/store/store_dash.h); the
 * query arguments are checked here (names, decimal numbers), after
 * libmicrohttpd has split and unescaped them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/json.h"
#include "measured/digest.h"
#include "dash_priv.h"

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
		struct m_json_error err;

		d = m_json_parse(dj, strlen(dj), SRV_JSON_DEPTH, 0, &err);
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

json_object *srv_dash_session(struct srv *s, const struct who *w, unsigned *status)
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

enum MHD_Result srv_dash_get(struct srv *s, struct m_store *st, struct MHD_Connection *c, const char *url,
			     const struct who *w)
{
	unsigned status = 404;
	json_object *o = NULL;

	if (!strcmp(url, "/api/session"))
		o = srv_dash_session(s, w, &status);
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
		return srv_dash_send_obj(c, 200, o, NULL);
	return srv_dash_send_fail(c, status, status == 400 ? "bad-request" : status == 404 ? "not-found" : "internal-error",
			 status == 400 ? "bad query arguments" : status == 404 ? "not found" : "the database is unavailable");
}

