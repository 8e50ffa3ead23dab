// SPDX-License-Identifier: MIT
/*
 * HTTPS front end: libmicrohttpd with GnuTLS, a pool of worker threads
 * (each with its own store connection), one route table of {path,
 * method, body limit, handler}, bodies grown as they arrive up to their
 * route's limit, JSON in and out (docs/api.md).
 *
 * Limits (docs/server.md, "Threat model and limits"): a body over its
 * maximum is answered 413 without being read when Content-Length announces
 * it, and cut off (the connection closed) when it arrives chunked; a
 * client idle for cfg.timeout seconds is disconnected
 * (MHD_OPTION_CONNECTION_TIMEOUT); and every connection has an absolute
 * deadline, cfg.request_deadline seconds from its accept (TLS handshake
 * and headers included) or from the end of its previous request: a thread
 * of its own shuts down the socket of one past it (conn_sweep()), however
 * steadily it trickles bytes (not the main thread: a deadline must not
 * wait for its checkpoints' disk flushes).  At most cfg.max_conns
 * connections, and cfg.max_conns_per_ip from one address, each with SRV_CONN_MEMORY bytes
 * for its request line, headers and reads (bodies are copied out as they
 * arrive; a request whose headers do not fit is answered 431 and the
 * connection closed).  TLS 1.2 and 1.3 only, forward
 * secret key exchange and AEAD ciphers only (TLS_PRIORITIES).
 * With a client CA, every endpoint but /v1/health needs a client
 * certificate that verifies against it and is for TLS client
 * authentication (extended key usage): GnuTLS only asks for one, so the
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
#include <gnutls/x509.h>
#include <microhttpd.h>
#include "measured/json.h"
#include "measured/base64.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/heap.h"
#include "server.h"

#define PEM_MAX (256u << 10)

/*
 * TLS 1.2 and 1.3; (EC)DHE key exchange only (no static RSA); AEAD ciphers
 * only (no CBC, no SHA-1 MAC).  GnuTLS priority syntax (gnutls_priority_init(3)).
 */
#define TLS_PRIORITIES "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
		       "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA"

struct route;

struct req {
	const struct route *rt;
	char cert_name[M_STORE_NAME_MAX];	/* the client certificate's CN, with --client-cert-binds-machine */
	char *body;
	size_t len, cap;
	bool too_big;
	struct timespec start;
};

/* One accepted connection, for its absolute deadline (conn_sweep()). */
struct conn {
	struct conn *prev, *next;
	int fd;
	struct timespec since;	/* accept, or the end of the previous request */
	bool serving;		/* the request arrived whole: the server's time is not the client's */
	bool cut;
};

/* the connection's deadline record (NULL if it has none) */
static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;

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
	r = m_store_open_flags(s->cfg.db, s->cfg.allow_shared_db ? M_STORE_OPEN_SHARED_FILE : 0, &st);
	if (r < 0) {
		slog_error("store-open", r);
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
	char *msg = NULL;
	va_list ap;

	/* whole: a message is never cut */
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (rep->body)
		json_object_put(rep->body);
	rep->status = status;
	rep->reason = reason;
	rep->body = json_object_new_object();
	json_object_object_add(rep->body, "result", json_object_new_string("fail"));
	json_object_object_add(rep->body, "reason", json_object_new_string(reason));
	json_object_object_add(rep->body, "message", json_object_new_string(msg ? msg : "out of memory"));
	free(msg);
}

void srv_ok(struct srv_reply *rep, json_object *body)
{
	if (rep->body)
		json_object_put(rep->body);
	rep->status = 200;
	rep->reason = NULL;
	rep->body = body;
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
	if (!m_store_name_ok(s, (size_t)json_object_get_string_len(v)) || (size_t)json_object_get_string_len(v) >= len) {
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

/* the certificate's extended key usage names TLS client authentication (RFC 5280, 4.2.1.12) */
static bool for_client_auth(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	bool ok = false;

	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) == 0) {
		for (unsigned i = 0;; i++) {
			char oid[128];
			size_t sz = sizeof(oid);
			int r = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &sz, NULL);

			if (r < 0)
				break;	/* no more, or no extension at all: not for client authentication */
			if (!strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT)) {
				ok = true;
				break;
			}
		}
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* the certificate's subject CN, whole (a CN that does not fit is no name) */
static bool common_name(const gnutls_datum_t *der, char *out, size_t len)
{
	gnutls_x509_crt_t crt;
	size_t sz = len;
	bool ok = false;

	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &sz) == 0 && sz < len &&
	    strlen(out) == sz)
		ok = true;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/*
 * With a client CA: a client certificate that GnuTLS verified against it,
 * and that was issued for TLS client authentication (the server's own
 * certificate, under the same CA, is not).
 */
bool srv_client_verified(struct MHD_Connection *c, char *ret_cn, size_t cn_len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *peers;
	gnutls_session_t sess;
	unsigned status = 0;
	unsigned n = 0;

	if (!ci || !ci->tls_session)
		return false;
	sess = (gnutls_session_t)ci->tls_session;
	peers = gnutls_certificate_get_peers(sess, &n);
	if (!peers || n == 0)
		return false;
	if (gnutls_certificate_verify_peers2(sess, &status) != GNUTLS_E_SUCCESS || status != 0)
		return false;
	return for_client_auth(&peers[0]) && (!ret_cn || common_name(&peers[0], ret_cn, cn_len));
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void route_health(struct srv *s, json_object *req, struct srv_reply *rep)
{
	json_object *o = json_object_new_object();
	(void)s;
	(void)req;

	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version", json_object_new_string(MEASURED_VERSION));
	srv_ok(rep, o);
}

/* every endpoint: body_max 0 takes no body; attest's limit is cfg.attest_body_max */
static const struct route {
	const char *path, *method;
	size_t body_max;
	bool open;	/* answered without a client certificate under --client-ca */
	void (*fn)(struct srv *s, json_object *req, struct srv_reply *rep);
} routes[] = {
	{ "/v1/health", "GET", 0, true, route_health },
	{ "/v1/enroll", "POST", SRV_BODY_MAX, false, srv_enroll },
	{ "/v1/activate", "POST", SRV_BODY_MAX, false, srv_activate },
	{ "/v1/nonce", "POST", SRV_BODY_MAX, false, srv_nonce },
	{ "/v1/attest", "POST", SRV_ATTEST_BODY_MAX, false, srv_attest },
};

static size_t body_max(const struct srv *s, const struct route *rt)
{
	return rt->fn == srv_attest ? s->cfg.attest_body_max : rt->body_max;
}

static void dispatch(struct srv *s, struct req *rq, struct srv_reply *rep)
{
	struct m_json_error err;
	json_object *o, *m;

	if (rq->rt->body_max == 0) {
		rq->rt->fn(s, NULL, rep);
		return;
	}
	o = m_json_parse(rq->body ? rq->body : "", rq->len, SRV_JSON_DEPTH, 0, &err);
	if (!o) {
		srv_fail(rep, 400, "bad-request", "the body is not one JSON object: byte %zu: %s", err.offset,
			 err.reason);
		return;
	}
	if (!json_object_is_type(o, json_type_object)) {
		srv_fail(rep, 400, "bad-request", "the body is not one JSON object");
		json_object_put(o);
		return;
	}
	if (s->cfg.bind_client_name && json_object_object_get_ex(o, "machine", &m) &&
	    json_object_is_type(m, json_type_string) && strcmp(json_object_get_string(m), rq->cert_name) != 0) {
		/* the certificate names the one machine it may speak for */
		srv_fail(rep, 403, "client-cert-required", "the client certificate is not for this machine");
		json_object_put(o);
		return;
	}
	rq->rt->fn(s, o, rep);
	json_object_put(o);
}

/* the first call for a request: route it, or answer now */
static enum MHD_Result request_start(struct srv *s, struct MHD_Connection *c, const char *url, const char *method,
				     void **con_cls)
{
	const struct route *rt = NULL;
	struct req *rq;
	const char *cl;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(url, routes[i].path))
			rt = &routes[i];
	char cn[M_STORE_NAME_MAX] = "";

	if (rt && !rt->open && s->cfg.client_ca &&
	    !srv_client_verified(c, s->cfg.bind_client_name ? cn : NULL, sizeof(cn)))
		return send_error(c, 403, "client-cert-required",
				  "a client certificate for TLS client authentication, signed by the configured CA, "
				  "is required");
	if (!rt)
		return send_error(c, 404, "bad-request", "no such endpoint");
	if (strcmp(method, rt->method) != 0)
		return send_error(c, 405, "bad-request", !strcmp(rt->method, "GET") ? "GET only" : "POST only");
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return MHD_NO;
	rq->rt = rt;
	memcpy(rq->cert_name, cn, sizeof(cn));
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	*con_cls = rq;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > body_max(s, rt)) {
		rq->too_big = true;
		return send_error(c, 413, "body-too-large", "the body is over this endpoint's limit");
	}
	return MHD_YES;
}

/* body bytes: kept, the buffer doubling as they come, up to the route's limit */
static enum MHD_Result request_body(struct srv *s, struct req *rq, const char *upload, size_t *upload_len)
{
	size_t max = body_max(s, rq->rt);

	if (ms_since(&rq->start) > s->cfg.request_deadline * 1000.0)
		return MHD_NO;	/* a slow sender: close the connection */
	if (rq->too_big || *upload_len > max - rq->len) {
		rq->too_big = true;
		*upload_len = 0;
		return MHD_YES;
	}
	if (rq->len + *upload_len + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 4096;
		char *b;

		while (cap < rq->len + *upload_len + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		b = realloc(rq->body, cap);
		if (!b)
			return MHD_NO;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, upload, *upload_len);
	rq->len += *upload_len;
	*upload_len = 0;
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct srv *s = cls;
	struct req *rq = *con_cls;
	struct srv_reply rep = { 0 };
	struct conn *k;
	enum MHD_Result res;
	(void)version;

	if (!rq)
		return request_start(s, c, url, method, con_cls);
	if (*upload_len)
		return request_body(s, rq, upload, upload_len);
	if (rq->too_big)
		return send_error(c, 413, "body-too-large", "the body is over this endpoint's limit");

	if ((k = conn_of(c))) {
		pthread_mutex_lock(&conns_lock);
		k->serving = true;
		pthread_mutex_unlock(&conns_lock);
	}
	dispatch(s, rq, &rep);
	res = send_json(c, rep.status, rep.body);
	if ((!s->cfg.quiet && rq->rt->body_max) || rep.status >= 500) {
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
	struct conn *k = conn_of(c);
	(void)cls;
	(void)t;

	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
	/* a kept-alive connection's next request has a deadline of its own */
	if (k) {
		pthread_mutex_lock(&conns_lock);
		clock_gettime(CLOCK_MONOTONIC, &k->since);
		k->serving = false;
		pthread_mutex_unlock(&conns_lock);
	}
}

static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	struct conn *k = *socket_context;
	(void)cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		k = calloc(1, sizeof(*k));
		if (!k || !ci)
			return free(k);	/* no deadline for it: the idle timeout still holds */
		k->fd = ci->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &k->since);
		pthread_mutex_lock(&conns_lock);
		k->next = conns;
		if (conns)
			conns->prev = k;
		conns = k;
		pthread_mutex_unlock(&conns_lock);
		*socket_context = k;
	} else if (k) {
		/* called before libmicrohttpd closes the socket: the sweep never touches a reused fd */
		pthread_mutex_lock(&conns_lock);
		if (k->prev)
			k->prev->next = k->next;
		else
			conns = k->next;
		if (k->next)
			k->next->prev = k->prev;
		pthread_mutex_unlock(&conns_lock);
		free(k);
		*socket_context = NULL;
	}
}

/*
 * Connections past their deadline: shut down, so the worker that owns
 * each sees it end and closes it (a socket is never closed under it).
 */
static unsigned conn_sweep(unsigned deadline_s)
{
	unsigned n = 0;

	pthread_mutex_lock(&conns_lock);
	for (struct conn *k = conns; k; k = k->next)
		if (!k->cut && !k->serving && ms_since(&k->since) > deadline_s * 1000.0) {
			shutdown(k->fd, SHUT_RDWR);
			k->cut = true;
			n++;
		}
	pthread_mutex_unlock(&conns_lock);
	return n;
}

struct sweeper {
	pthread_t thread;
	unsigned deadline_s;
	volatile int *stop;
	bool running;
};

/* every 200 ms until *stop: a deadline is late by at most that */
static void *sweeper_main(void *arg)
{
	struct sweeper *w = arg;

	while (!*w->stop) {
		usleep(200000);
		conn_sweep(w->deadline_s);
	}
	return NULL;
}

int srv_read_pem(const char *path, char **ret)
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

const char srv_tls_priorities[] = TLS_PRIORITIES;

int srv_parse_listen(const char *opt, const char *spec, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return m_err(-EINVAL, "%s '%s': expected ADDRESS:PORT", opt, spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	port = strtoul(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (*end || port == 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return m_err(-EINVAL, "%s '%s': expected an IPv4 ADDRESS:PORT", opt, spec);
	return 0;
}

/*
 * Approving with a policy whose PCRs software can extend at will proves
 * nothing about the boot: said loudly, at start.
 */
static void warn_weak_policies(struct m_store *st, const char *list)
{
	char buf[M_STORE_POLICY_LIST_MAX], *save = NULL;

	if (!list || strlen(list) >= sizeof(buf))
		return;
	memcpy(buf, list, strlen(list) + 1);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct m_policy p;

		if (m_store_policy_head(st, t, &p) == 0 && m_store_policy_weak(p.pcrs)) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "policy", json_object_new_string(t));
			json_object_object_add(f, "message", json_object_new_string(
				"this policy covers only PCRs software can extend at will (15, 16, 23): "
				"it proves nothing about the boot chain"));
			slog("warning", "policy-weak", f);
		}
	}
}

/* the main thread's chores, on its own connection: requests never wait for them */
static void maintain(struct m_store *st, bool expire)
{
	int r;

	if (expire && (r = m_store_expire(st, (int64_t)time(NULL) - 60)) < 0)
		slog_error("expire", r);
	if ((r = m_store_checkpoint(st)) < 0)
		slog_error("checkpoint", r);
}

/* the last log line; on PostgreSQL with how well the passes met (group.c), for choosing --threads */
static void log_stopping(const struct m_store *st)
{
	json_object *f = NULL;
	unsigned long stmts, passes;

	if (!strcmp(m_store_kind(st), "postgresql")) {
		srv_pass_group_stats(&stmts, &passes);
		f = json_object_new_object();
		json_object_object_add(f, "pass_statements", json_object_new_int64((int64_t)stmts));
		json_object_object_add(f, "passes", json_object_new_int64((int64_t)passes));
	}
	slog("info", "stopping", f);
}

/* libmicrohttpd with the limits of the file comment */
static struct MHD_Daemon *start_daemon(struct srv *s, const struct sockaddr_in *sa, const char *cert,
				       const char *key, const char *ca)
{
	const struct srv_config *cfg = &s->cfg;
	struct MHD_OptionItem o[16];
	size_t n = 0;

#define OPT(k, v, p) (o[n++] = (struct MHD_OptionItem){ (k), (intptr_t)(v), (void *)(p) })
	OPT(MHD_OPTION_SOCK_ADDR, 0, sa);
	OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cert);
	OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, key);
	OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, TLS_PRIORITIES);
	if (ca)
		OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, ca);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_conns_per_ip, NULL);
	/* libmicrohttpd zeroes a connection's whole pool between its requests: its 32 KiB default cost 2% */
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, SRV_CONN_MEMORY, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, completed, s);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s);
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	/*
	 * No MHD_USE_TURBO: with it, libmicrohttpd 0.9.75 at its connection
	 * limit leaves closed connections unreaped and its workers spinning
	 * (tests/integration/serve_load.sh floods past the limit).
	 */
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG,
				0, NULL, NULL, handler, s, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

unsigned srv_default_threads(const char *db)
{
	const char *kind = m_store_url_kind(db);

	return kind && !strcmp(kind, "postgresql") ? SRV_THREADS_PG : SRV_THREADS_SQLITE;
}

int srv_run(const struct srv_config *cfg, volatile int *stop)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct MHD_Daemon *d = NULL, *dash = NULL;
	struct sockaddr_in sa;
	char *cert = NULL, *key = NULL, *ca = NULL;
	struct m_store *maint = NULL;
	struct sweeper sweep = { 0 };
	int r;

	if (!s)
		return -ENOMEM;
	m_heap_retain();	/* a request's evidence is freed and read again the next */
	s->cfg = *cfg;
	if (!s->cfg.threads)
		s->cfg.threads = srv_default_threads(cfg->db);
	cfg = &s->cfg;
	pthread_mutex_init(&s->lock, NULL);
	r = srv_parse_listen("--listen", cfg->listen, &sa);
	if (r < 0)
		goto out;
	r = srv_read_pem(cfg->tls_cert, &cert);
	if (r < 0)
		goto out;
	r = srv_read_pem(cfg->tls_key, &key);
	if (r < 0)
		goto out;
	if (cfg->client_ca && (r = srv_read_pem(cfg->client_ca, &ca)) < 0)
		goto out;
	r = srv_ek_store_load(s);
	if (r < 0)
		goto out;
	/* the schema exists before the first request, and a bad --db fails now; then the main thread's */
	r = m_store_open_flags(cfg->db, cfg->allow_shared_db ? M_STORE_OPEN_SHARED_FILE : 0, &maint);
	if (r < 0)
		goto out;
	warn_weak_policies(maint, cfg->approve_policy);
	r = srv_nonce_key_load(s, maint);
	if (r < 0)
		goto out;

	d = start_daemon(s, &sa, cert, key, ca);
	if (!d) {
		r = m_err(-EIO, "cannot listen on %s with TLS (port in use, or a bad certificate/key)", cfg->listen);
		goto out;
	}
	if (cfg->dashboard_listen && (r = srv_dash_start(s, cert, key, &dash)) < 0)
		goto out;
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "listen", json_object_new_string(cfg->listen));
		json_object_object_add(f, "db", json_object_new_string(m_store_url_kind(cfg->db)));
		json_object_object_add(f, "threads", json_object_new_int((int)cfg->threads));
		json_object_object_add(f, "mtls", json_object_new_boolean(ca != NULL));
		json_object_object_add(f, "tofu", json_object_new_boolean(cfg->tofu));
		slog("info", "listening", f);
	}
	sweep = (struct sweeper){ .deadline_s = cfg->request_deadline, .stop = stop };
	r = pthread_create(&sweep.thread, NULL, sweeper_main, &sweep);
	if (r) {
		r = m_err(-r, "cannot start the deadline thread");
		goto out;
	}
	sweep.running = true;
	for (unsigned tick = 0; !*stop; tick++) {
		usleep(200000);
		maintain(maint, tick % 150 == 0);	/* checkpoints as needed; expiry every 30 s */
		if (tick % (SRV_AUDIT_FLUSH_S * 5) == 0)
			srv_audit_flush(s, maint);
	}
	log_stopping(maint);
	srv_audit_flush(s, maint);
	r = 0;
out:
	if (sweep.running)
		pthread_join(sweep.thread, NULL);	/* *stop is set: it ends within 200 ms */
	srv_dash_stop(dash);
	if (d)
		MHD_stop_daemon(d);
	for (size_t i = 0; i < s->nstores; i++)
		m_store_close(s->stores[i]);
	m_store_close(maint);
	srv_policies_free(s);
	srv_ak_cache_free();
	srv_machine_cache_free();
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
