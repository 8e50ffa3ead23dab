// SPDX-License-Identifier: MIT
/*
 * HTTPS to the verifier with libcurl.  TLS is not optional: only https://
 * URLs are accepted, the peer's certificate and host name are always
 * verified (there is deliberately no switch to turn that off; a private CA
 * is given with --ca-cert), redirects are not followed, and every answer is
 * read into a buffer with a maximum (docs/agent.md, "Limits").
 *
 * --server may list several verifiers of one fleet (one database: a nonce
 * or enrolment made by one is good at all).  A request goes to the one
 * that answered last, and moves on to the next by itself only when no
 * connection was made: nothing can have been done.  A 503 (the verifier's
 * database is unavailable; docs/server.md: it may have committed an
 * attestation whose answer it lost) is the agent's to handle: it starts the
 * exchange again at the next verifier (m_http_next()) with a fresh nonce.
 * A timeout after the request left is not retried elsewhere, and a TLS
 * failure is an error, not a reason to try another; every move is said on
 * stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "agent.h"
#include "measured/json.h"
#include "measured/error.h"

#define CONNECT_TIMEOUT_S 15L

struct m_http {
	CURL *curl;
	struct curl_slist *headers;
	char *base[M_HTTP_SERVERS_MAX];
	size_t nbase, cur;	/* the verifiers, and the one that answered last */
	size_t moves;		/* m_http_next() calls since an answer other than 503 */
	char errbuf[CURL_ERROR_SIZE];
};

struct answer {
	char *data;
	size_t len, cap, max;
	bool over;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t add = size * n;

	if (add > a->max - a->len) {
		a->over = true;
		return 0;	/* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	if (a->len + add + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		char *nd;

		while (cap < a->len + add + 1)
			cap *= 2;
		nd = realloc(a->data, cap);
		if (!nd)
			return 0;
		a->data = nd;
		a->cap = cap;
	}
	memcpy(a->data + a->len, p, add);
	a->len += add;
	a->data[a->len] = '\0';
	return add;
}

/* the comma-separated https:// URLs of @list, each without its trailing slashes */
static int parse_servers(struct m_http *h, const char *list)
{
	const char *s = list;

	for (;;) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n < 8 || strncasecmp(s, "https://", 8) != 0)
			return m_err(-EINVAL, "server '%.*s': only https:// URLs (TLS is always used)", (int)n, s);
		if (h->nbase == M_HTTP_SERVERS_MAX)
			return m_err(-EINVAL, "--server: more than %d verifiers", M_HTTP_SERVERS_MAX);
		while (n > 8 && s[n - 1] == '/')
			n--;
		h->base[h->nbase] = strndup(s, n);
		if (!h->base[h->nbase])
			return -ENOMEM;
		h->nbase++;
		if (!e)
			return 0;
		s = e + 1;
	}
}

int m_http_new(const struct m_http_opts *o, struct m_http **ret)
{
	struct m_http *h;
	int r = -ENOMEM;

	if (!o->client_cert != !o->client_key)
		return m_err(-EINVAL, "a client certificate needs its key, and the other way round");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return m_err(-EIO, "libcurl initialisation failed");
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	r = parse_servers(h, o->server);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	h->curl = curl_easy_init();
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (h->headers)
		h->headers = curl_slist_append(h->headers, "Accept: application/json");
	if (!h->curl || !h->headers)
		goto fail;
	r = -EINVAL;
	if (curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 60L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK) {
		r = m_err(-EIO, "libcurl refused an option (built without HTTPS?)");
		goto fail;
	}
	if (o->ca_cert && curl_easy_setopt(h->curl, CURLOPT_CAINFO, o->ca_cert) != CURLE_OK) {
		r = m_err(-EIO, "libcurl: cannot use CA file %s", o->ca_cert);
		goto fail;
	}
	if (o->client_cert &&
	    (curl_easy_setopt(h->curl, CURLOPT_SSLCERT, o->client_cert) != CURLE_OK ||
	     curl_easy_setopt(h->curl, CURLOPT_SSLKEY, o->client_key) != CURLE_OK)) {
		r = m_err(-EIO, "libcurl: cannot use client certificate %s", o->client_cert);
		goto fail;
	}
	*ret = h;
	return 0;
fail:
	m_http_free(h);
	return r;
}

void m_http_free(struct m_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	for (size_t i = 0; i < h->nbase; i++)
		free(h->base[i]);
	free(h);
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EPROTO;
	}
}

/* one POST to one verifier; *@ret_code is libcurl's result */
static int post_once(struct m_http *h, const char *base, const char *path, const char *body, size_t max,
		     CURLcode *ret_code, long *ret_status, json_object **ret)
{
	struct answer a = { .max = max };
	struct m_json_error err;
	json_object *o = NULL;
	char *url = NULL;
	long status = 0;
	CURLcode c;
	int r;

	*ret_status = 0;
	if (asprintf(&url, "%s%s", base, path) < 0)
		return -ENOMEM;
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &a);
	c = *ret_code = curl_easy_perform(h->curl);
	if (a.over) {
		r = m_err(-EFBIG, "%s: answer over %zu bytes", url, max);
		goto out;
	}
	if (c != CURLE_OK) {
		r = m_err(curl_errno(c), "%s: %s", url, h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;
	o = m_json_parse(a.data ? a.data : "", a.len, M_HTTP_JSON_DEPTH, 0, &err);
	if (!o || !json_object_is_type(o, json_type_object)) {
		r = o ? m_err(-EBADMSG, "%s: HTTP %ld, answer is not one JSON object", url, status)
		      : m_err(-EBADMSG, "%s: HTTP %ld, answer is not one JSON object (byte %zu: %s)", url,
			      status, err.offset, err.reason);
		goto out;
	}
	*ret = o;
	o = NULL;
	r = 0;
out:
	json_object_put(o);
	free(a.data);
	free(url);
	return r;
}

int m_http_post_json(struct m_http *h, const char *path, const char *body, size_t max,
		     long *ret_status, json_object **ret)
{
	for (size_t tried = 0;; tried++) {
		size_t i = (h->cur + tried) % h->nbase;
		json_object *o = NULL;
		CURLcode c = CURLE_OK;
		long status = 0;
		int r = post_once(h, h->base[i], path, body, max, &c, &status, &o);
		bool unreached = r < 0 && (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
					   c == CURLE_COULDNT_RESOLVE_PROXY);

		if (unreached && tried + 1 < h->nbase) {
			fprintf(stderr, "measured attest: %s%s: %s; trying %s\n", h->base[i], path, m_errmsg(r),
				h->base[(i + 1) % h->nbase]);
			continue;
		}
		if (r < 0)
			return r;
		h->cur = i;
		if (status != 503)
			h->moves = 0;
		*ret_status = status;
		*ret = o;
		return 0;
	}
}

bool m_http_next(struct m_http *h, const char *why)
{
	size_t next = (h->cur + 1) % h->nbase;

	if (h->moves + 1 >= h->nbase)
		return false;	/* every one has answered 503 since the last other answer */
	h->moves++;
	fprintf(stderr, "measured attest: %s: %s; trying %s\n", h->base[h->cur], why, h->base[next]);
	h->cur = next;
	return true;
}
