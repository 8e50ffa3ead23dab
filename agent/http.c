// SPDX-License-Identifier: MIT
/*
 * HTTPS to the verifier with libcurl.  TLS is not optional: only https://
 * URLs are accepted, the peer's certificate and host name are always
 * verified (there is deliberately no switch to turn that off; a private CA
 * is given with --ca-cert), redirects are not followed, and every answer is
 * read into a buffer with a maximum (docs/agent.md, "Limits").
 */
#include <errno.h>
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
	char *base;
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

int m_http_new(const struct m_http_opts *o, struct m_http **ret)
{
	struct m_http *h;
	size_t blen;
	int r = -ENOMEM;

	if (strncasecmp(o->server, "https://", 8) != 0)
		return m_err(-EINVAL, "server '%s': only https:// URLs (TLS is always used)", o->server);
	if (!o->client_cert != !o->client_key)
		return m_err(-EINVAL, "a client certificate needs its key, and the other way round");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return m_err(-EIO, "libcurl initialisation failed");
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	blen = strlen(o->server);
	while (blen > 8 && o->server[blen - 1] == '/')
		blen--;
	h->base = strndup(o->server, blen);
	h->curl = curl_easy_init();
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (h->headers)
		h->headers = curl_slist_append(h->headers, "Accept: application/json");
	if (!h->base || !h->curl || !h->headers)
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
	free(h->base);
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

int m_http_post_json(struct m_http *h, const char *path, const char *body, size_t max,
		     long *ret_status, json_object **ret)
{
	struct answer a = { .max = max };
	struct m_json_error err;
	json_object *o = NULL;
	char *url = NULL;
	long status = 0;
	CURLcode c;
	int r;

	if (asprintf(&url, "%s%s", h->base, path) < 0)
		return -ENOMEM;
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &a);
	c = curl_easy_perform(h->curl);
	if (a.over) {
		r = m_err(-EFBIG, "%s: answer over %zu bytes", url, max);
		goto out;
	}
	if (c != CURLE_OK) {
		r = m_err(curl_errno(c), "%s: %s", url, h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	o = m_json_parse(a.data ? a.data : "", a.len, M_HTTP_JSON_DEPTH, 0, &err);
	if (!o || !json_object_is_type(o, json_type_object)) {
		r = o ? m_err(-EBADMSG, "%s: HTTP %ld, answer is not one JSON object", url, status)
		      : m_err(-EBADMSG, "%s: HTTP %ld, answer is not one JSON object (byte %zu: %s)", url,
			      status, err.offset, err.reason);
		goto out;
	}
	*ret_status = status;
	*ret = o;
	o = NULL;
	r = 0;
out:
	json_object_put(o);
	free(a.data);
	free(url);
	return r;
}
