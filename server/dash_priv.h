/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_SERVER_DASH_PRIV_H
#define MEASURED_SERVER_DASH_PRIV_H

/*
 * Between the dashboard's files: dashboard.c (the listener, answers,
 * authentication, routing), dash_get.c (GET endpoints), dash_post.c (POST
 * endpoints).
 */

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>
#include <json-c/json.h>
#include "server.h"
#include "dashboard.h"
#include "store_dash.h"

#define DASH_BODY_MAX   (16u << 10)	/* a POST's JSON */
#define DASH_POLICY_MAX (4u << 20)	/* POST /api/policy: a manifest's JSON text inside JSON */
#define DASH_THREADS    2
#define DASH_CONNS      64
#define DASH_PAGE_DEF   50
#define DASH_SESSION_S  43200		/* the session cookie's lifetime */

/* a request's body, up to @max */
struct dreq {
	char *body;
	size_t len, max;
	bool too_big;
};

/* the token a request came with */
struct who {
	char name[M_STORE_NAME_MAX];
	int role;			/* enum m_dash_role */
	char hash[SRV_DASH_HEX];
};

/* answers, each with the security headers (dashboard.c); @cookie: a Set-Cookie value or NULL */
enum MHD_Result srv_dash_send_buf(struct MHD_Connection *c, unsigned status, const char *type, const void *data,
				  size_t len, bool cache, const char *cookie);
/** srv_dash_send_obj() - @o as JSON; consumes @o. */
enum MHD_Result srv_dash_send_obj(struct MHD_Connection *c, unsigned status, json_object *o, const char *cookie);
enum MHD_Result srv_dash_send_fail(struct MHD_Connection *c, unsigned status, const char *reason, const char *msg);
/** srv_dash_peer() - the client's IPv4 address as text ("?" if unknown). */
void srv_dash_peer(struct MHD_Connection *c, char *out, size_t len);

/* dash_get.c */
enum MHD_Result srv_dash_get(struct srv *s, struct m_store *st, struct MHD_Connection *c, const char *url,
			     const struct who *w);
/** srv_dash_session() - {"name","role","csrf"} of @w; NULL with @status set on failure. */
json_object *srv_dash_session(struct srv *s, const struct who *w, unsigned *status);

/* dash_post.c */
enum MHD_Result srv_dash_login(struct srv *s, struct m_store *st, struct MHD_Connection *c, const struct dreq *rq);
/** srv_dash_post() - an authenticated POST whose origin and CSRF token were checked. */
enum MHD_Result srv_dash_post(struct srv *s, struct m_store *st, struct MHD_Connection *c, const char *url,
			      const struct dreq *rq, const struct who *w);

#endif
