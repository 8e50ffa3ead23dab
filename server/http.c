// SPDX-License-Identifier: MIT
/*
 * HTTPS front end: libmicrohttpd with GnuTLS, a pool of worker threads
 * (each with its own store connection), bodies collected up to a per-
 * endpoint maximum, JSON in and out (docs/api.md).
 *
 * Limits: a body over its maximum is answered 413 without being read when
 * Content-Length announces it, and cut off (the connection closed) when it
 * arrives chunked; a client idle for cfg.timeout seconds is disconnected
 * (MHD_OPTION_CONNECTION_TIMEOUT), and one whose body takes longer than
 * cfg.request_deadline seconds in all is disconnected too (slow senders).
 * With a client CA, every endpoint but /v1/health needs a client
 * certificate that verifies against it: GnuTLS only asks for one, so the
 * check is made here, on each request, and a request without one is 403.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include "measured/base64.h"
#include "measured/error.h"
#include "measured/file.h"
#include "server.h"

#define PEM_MAX (256u << 10)

struct req {
	char *body;
	size_t len, max;
	bool too_big;
	struct timespec start;
};

static __thread struct m_store *thread_store;

/*
 * The request threads' connection: one each (PostgreSQL), or one for all
 * when the back end allows it (SQLite: m_store_shareable()).
 */
struct m_store *srv_store(struct srv *s)
{
	struct m_store *st, *spare = NULL;
	int r;

	if (thread_store)
		return thread_store;
	pthread_mutex_lock(&s->lock);
	thread_store = s->shared_store;
	pthread_mutex_unlock(&s->lock);
	if (thread_store)
		return thread_store;
	r = m_store_open(s->cfg.db, &st);
	if (r < 0) {
		slog("error", "store-open", json_object_new_string(m_errmsg(r)));
		return NULL;
	}
	/* request threads never wait on a disk flush: the main thread checkpoints (srv_run) */
	m_store_defer_checkpoints(st);
	pthread_mutex_lock(&s->lock);
	if (m_store_shareable(st) && s->shared_store) {
		thread_store = s->shared_store;	/* another thread opened it first */
		spare = st;
	} else if (s->nstores < sizeof(s->stores) / sizeof(s->stores[0])) {
		s->stores[s->nstores++] = st;
		thread_store = st;
		if (m_store_shareable(st))
			s->shared_store = st;
	} else {
		spare = st;
	}
	pthread_mutex_unlock(&s->lock);
	m_store_close(spare);
	return thread_store;
}

void srv_fail(struct srv_reply *rep, unsigned status, const char *reason, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rep->body)
		json_object_put(rep->body);
	rep->status = status;
	rep->reason = reason;
	rep->body = json_object_new_object();
	json_object_object_add(rep->body, "result", json_object_new_string("fail"));
	json_object_object_add(rep->body, "reason", json_object_new_string(reason));
	json_object_object_add(rep->body, "message", json_object_new_string(msg));
}

void srv_ok(struct srv_reply *rep, json_object *body)
{
	if (rep->body)
		json_object_put(rep->body);
	rep->status = 200;
	rep->reason = NULL;
	rep->body = body;
}

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= M_STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

int srv_get_name(json_object *req, const char *key, struct srv_reply *rep, char *out, size_t len)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string)) {
		srv_fail(rep, 400, "bad-request", "%s: a string is required", key);
		return -EINVAL;
	}
	s = json_object_get_string(v);
	if (!name_ok(s, (size_t)json_object_get_string_len(v)) || (size_t)json_object_get_string_len(v) >= len) {
		srv_fail(rep, 400, "bad-request", "%s: 1 to %u characters of [A-Za-z0-9._-]", key,
			 M_STORE_NAME_MAX - 1);
		return -EINVAL;
	}
	memcpy(out, s, (size_t)json_object_get_string_len(v) + 1);
	return 0;
}

int srv_get_b64(json_object *req, const char *key, size_t max, bool optional, struct srv_reply *rep,
		uint8_t **ret, size_t *ret_len)
{
	json_object *v;
	int r;

	*ret = NULL;
	*ret_len = 0;
	if (!json_object_object_get_ex(req, key, &v) || !v) {
		if (optional)
			return 0;
		srv_fail(rep, 400, "bad-request", "%s: base64 text is required", key);
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		srv_fail(rep, 400, "bad-request", "%s: base64 text is required", key);
		return -EINVAL;
	}
	r = m_b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), max, NULL, ret, ret_len);
	if (r < 0) {
		srv_fail(rep, 400, "bad-request", "%s: %s", key, m_errmsg(r));
		return r;
	}
	return 0;
}

json_object *srv_b64_obj(const uint8_t *d, size_t n)
{
	char *t = m_b64_encode(d, n);
	json_object *o = json_object_new_string(t ? t : "");

	free(t);
	return o;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_object *body)
{
	size_t len;
	const char *txt = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)txt, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *reason, const char *msg)
{
	struct srv_reply rep = { 0 };
	enum MHD_Result r;

	srv_fail(&rep, status, reason, "%s", msg);
	r = send_json(c, status, rep.body);
	json_object_put(rep.body);
	return r;
}

/* With a client CA: a client certificate that GnuTLS verified against it. */
static bool client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t sess;
	unsigned status = 0;
	unsigned n = 0;

	if (!ci || !ci->tls_session)
		return false;
	sess = (gnutls_session_t)ci->tls_session;
	if (!gnutls_certificate_get_peers(sess, &n) || n == 0)
		return false;
	return gnutls_certificate_verify_peers2(sess, &status) == GNUTLS_E_SUCCESS && status == 0;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void dispatch(struct srv *s, const char *url, struct req *rq, struct srv_reply *rep)
{
	json_tokener *tok;
	json_object *o;

	tok = json_tokener_new_ex(SRV_JSON_DEPTH);
	if (!tok) {
		srv_fail(rep, 500, "internal-error", "out of memory");
		return;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);	/* as lib/attest/evidence.c reads evidence */
	o = json_tokener_parse_ex(tok, rq->body ? rq->body : "", (int)rq->len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int)rq->len ||
	    !json_object_is_type(o, json_type_object)) {
		srv_fail(rep, 400, "bad-request", "the body is not one JSON object: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		json_tokener_free(tok);
		return;
	}
	json_tokener_free(tok);
	if (!strcmp(url, "/v1/enroll"))
		srv_enroll(s, o, rep);
	else if (!strcmp(url, "/v1/activate"))
		srv_activate(s, o, rep);
	else if (!strcmp(url, "/v1/nonce"))
		srv_nonce(s, o, rep);
	else
		srv_attest(s, o, rep);
	json_object_put(o);
}

static bool known_post(const char *url)
{
	return !strcmp(url, "/v1/enroll") || !strcmp(url, "/v1/activate") || !strcmp(url, "/v1/nonce") ||
	       !strcmp(url, "/v1/attest");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct srv *s = cls;
	struct req *rq = *con_cls;
	struct srv_reply rep = { 0 };
	enum MHD_Result res;
	(void)version;

	if (!rq) {
		const char *cl;

		if (!strcmp(url, "/v1/health")) {
			json_object *o = json_object_new_object();

			if (strcmp(method, "GET") != 0)
				return send_error(c, 405, "bad-request", "GET only");
			json_object_object_add(o, "status", json_object_new_string("ok"));
			json_object_object_add(o, "version", json_object_new_string(MEASURED_VERSION));
			res = send_json(c, 200, o);
			json_object_put(o);
			return res;
		}
		if (s->cfg.client_ca && !client_verified(c))
			return send_error(c, 403, "client-cert-required",
					  "a client certificate signed by the configured CA is required");
		if (!known_post(url))
			return send_error(c, 404, "bad-request", "no such endpoint");
		if (strcmp(method, "POST") != 0)
			return send_error(c, 405, "bad-request", "POST only");
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->max = !strcmp(url, "/v1/attest") ? s->cfg.attest_body_max : SRV_BODY_MAX;
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		*con_cls = rq;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > rq->max) {
			rq->too_big = true;
			return send_error(c, 413, "body-too-large", "the body is over this endpoint's limit");
		}
		return MHD_YES;
	}
	if (*upload_len) {
		if (ms_since(&rq->start) > s->cfg.request_deadline * 1000.0)
			return MHD_NO;	/* a slow sender: close the connection */
		if (rq->too_big || *upload_len > rq->max - rq->len) {
			rq->too_big = true;
			*upload_len = 0;
			return MHD_YES;
		}
		if (!rq->body) {
			rq->body = malloc(rq->max + 1);
			if (!rq->body)
				return MHD_NO;
		}
		memcpy(rq->body + rq->len, upload, *upload_len);
		rq->len += *upload_len;
		*upload_len = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return send_error(c, 413, "body-too-large", "the body is over this endpoint's limit");

	dispatch(s, url, rq, &rep);
	res = send_json(c, rep.status, rep.body);
	if (!s->cfg.quiet || rep.status >= 500) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "path", json_object_new_string(url));
		json_object_object_add(f, "status", json_object_new_int((int)rep.status));
		if (rep.machine[0])
			json_object_object_add(f, "machine", json_object_new_string(rep.machine));
		if (rep.reason)
			json_object_object_add(f, "reason", json_object_new_string(rep.reason));
		json_object_object_add(f, "ms", json_object_new_double(ms_since(&rq->start)));
		slog(rep.status >= 500 ? "error" : "info", "request", f);
	}
	json_object_put(rep.body);
	return res;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct req *rq = *con_cls;
	(void)cls;
	(void)c;
	(void)t;

	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static int read_pem(const char *path, char **ret)
{
	uint8_t *d;
	size_t n;
	int r = m_read_file(path, PEM_MAX, &d, &n);

	if (r < 0)
		return m_err_prefix(r, "%s", path);
	*ret = realloc(d, n + 1);
	if (!*ret) {
		free(d);
		return -ENOMEM;
	}
	(*ret)[n] = 0;
	return 0;
}

static int parse_listen(const char *spec, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return m_err(-EINVAL, "--listen '%s': expected ADDRESS:PORT", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	port = strtoul(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (*end || port == 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return m_err(-EINVAL, "--listen '%s': expected an IPv4 ADDRESS:PORT", spec);
	return 0;
}

/* the main thread's chores, on its own connection: requests never wait for them */
static void maintain(struct m_store *st, bool expire)
{
	int r;

	if (expire && (r = m_store_expire(st, (int64_t)time(NULL) - 60)) < 0)
		slog("error", "expire", json_object_new_string(m_errmsg(r)));
	if ((r = m_store_checkpoint(st)) < 0)
		slog("error", "checkpoint", json_object_new_string(m_errmsg(r)));
}

int srv_run(const struct srv_config *cfg, volatile int *stop)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa;
	char *cert = NULL, *key = NULL, *ca = NULL;
	struct m_store *maint = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	pthread_mutex_init(&s->lock, NULL);
	r = parse_listen(cfg->listen, &sa);
	if (r < 0)
		goto out;
	r = read_pem(cfg->tls_cert, &cert);
	if (r < 0)
		goto out;
	r = read_pem(cfg->tls_key, &key);
	if (r < 0)
		goto out;
	if (cfg->client_ca && (r = read_pem(cfg->client_ca, &ca)) < 0)
		goto out;
	r = srv_ek_store_load(s);
	if (r < 0)
		goto out;
	/* the schema exists before the first request, and a bad --db fails now; then the main thread's */
	r = m_store_open(cfg->db, &maint);
	if (r < 0)
		goto out;
	r = srv_nonce_key_load(s, maint);
	if (r < 0)
		goto out;

	if (ca)
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_TLS |
				     MHD_USE_ERROR_LOG,
				     0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
				     MHD_OPTION_HTTPS_MEM_TRUST, ca,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	else
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_TLS |
				     MHD_USE_ERROR_LOG,
				     0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	if (!d) {
		r = m_err(-EIO, "cannot listen on %s with TLS (port in use, or a bad certificate/key)", cfg->listen);
		goto out;
	}
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "listen", json_object_new_string(cfg->listen));
		json_object_object_add(f, "db", json_object_new_string(!strncmp(cfg->db, "sqlite:", 7) ? "sqlite"
									 : "postgresql"));
		json_object_object_add(f, "threads", json_object_new_int((int)cfg->threads));
		json_object_object_add(f, "mtls", json_object_new_boolean(ca != NULL));
		json_object_object_add(f, "tofu", json_object_new_boolean(cfg->tofu));
		slog("info", "listening", f);
	}
	for (unsigned tick = 0; !*stop; tick++) {
		usleep(200000);
		maintain(maint, tick % 150 == 0);	/* checkpoints as needed; expiry every 30 s */
	}
	slog("info", "stopping", NULL);
	r = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	for (size_t i = 0; i < s->nstores; i++)
		m_store_close(s->stores[i]);
	m_store_close(maint);
	srv_policies_free(s);
	srv_ak_cache_free();
	if (s->ek_store)
		X509_STORE_free(s->ek_store);
	pthread_mutex_destroy(&s->lock);
	if (key)
		explicit_bzero(key, strlen(key));
	free(cert);
	free(key);
	free(ca);
	free(s);
	return r;
}
