// SPDX-License-Identifier: MIT
/*
 * The operators' dashboard (docs/server.md "Dashboard", docs/api.md
 * "Dashboard"): a page, a script and a style sheet embedded in the binary,
 * and JSON endpoints the script polls (dash_get.c, dash_post.c; this file
 * answers, authenticates and routes), on a TLS listener of its own
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
#include "measured/error.h"
#include "dash_priv.h"

/* every answer: nothing from elsewhere, no framing, no sniffing, no referrer */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';" \
	    " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

enum MHD_Result srv_dash_send_buf(struct MHD_Connection *c, unsigned status, const char *type, const void *data,
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

enum MHD_Result srv_dash_send_obj(struct MHD_Connection *c, unsigned status, json_object *o, const char *cookie)
{
	size_t len;
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	enum MHD_Result r = srv_dash_send_buf(c, status, "application/json", t, len, false, cookie);

	json_object_put(o);
	return r;
}

enum MHD_Result srv_dash_send_fail(struct MHD_Connection *c, unsigned status, const char *reason, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_new_string("fail"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return srv_dash_send_obj(c, status, o, NULL);
}

void srv_dash_peer(struct MHD_Connection *c, char *out, size_t len)
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

/* ---- routing ---- */

static enum MHD_Result serve_asset(struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (size_t i = 0; i < srv_dash_nassets; i++)
		if (!strcmp(url + 1, srv_dash_assets[i].path))
			return srv_dash_send_buf(c, 200, srv_dash_assets[i].type, srv_dash_assets[i].data,
						 srv_dash_assets[i].len, true, NULL);
	return srv_dash_send_fail(c, 404, "not-found", "no such page");
}

static enum MHD_Result route(struct srv *s, struct MHD_Connection *c, const char *url, const char *method,
			     const struct dreq *rq)
{
	struct m_store *st = srv_store(s);
	bool post = !strcmp(method, "POST");
	struct who w;
	int a;

	if (strncmp(url, "/api/", 5) != 0)
		return strcmp(method, "GET") && strcmp(method, "HEAD") ? srv_dash_send_fail(c, 405, "bad-request", "GET only")
								   : serve_asset(c, url);
	if (!st)
		return srv_dash_send_fail(c, 503, "internal-error", "the database is unavailable");
	if (!post && strcmp(method, "GET"))
		return srv_dash_send_fail(c, 405, "bad-request", "GET or POST only");
	if (post && !srv_dash_origin_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
					MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
					MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		return srv_dash_send_fail(c, 403, "csrf", "a cross-origin request");
	if (post && !strcmp(url, "/api/login"))
		return srv_dash_login(s, st, c, rq);
	a = authenticate(st, c, &w);
	if (a == -2)
		return srv_dash_send_fail(c, 503, "internal-error", "the database is unavailable");
	if (a <= 0) {
		if (a < 0) {
			char addr[64], detail[128];

			srv_dash_peer(c, addr, sizeof(addr));
			snprintf(detail, sizeof(detail), "dashboard request with an unknown token from %s", addr);
			srv_audit(s, st, false, "", "dashboard-login", "fail", "bad-token", detail);
		}
		return srv_dash_send_fail(c, 401, "unauthorized", "a dashboard token is required");
	}
	if (!post)
		return srv_dash_get(s, st, c, url, &w);
	if (!srv_dash_csrf_ok(s->dash_key, w.hash, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token")))
		return srv_dash_send_fail(c, 403, "csrf", "the session's CSRF token is missing or wrong");
	return srv_dash_post(s, st, c, url, rq, &w);
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
			return srv_dash_send_fail(c, 403, "client-cert-required",
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
		return srv_dash_send_fail(c, 413, "body-too-large", "the body is over the endpoint's limit");
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
