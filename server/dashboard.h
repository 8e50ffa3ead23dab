/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_SERVER_DASHBOARD_H
#define MEASURED_SERVER_DASHBOARD_H

/*
 * The operators' dashboard (docs/server.md "Dashboard", docs/api.md
 * "Dashboard"): dashboard.c serves it on its own TLS listener, dash_auth.c
 * holds its credentials, dash_assets.c (generated from server/dashboard/
 * at build time) its page, script and style.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_DASH_TOKEN_PREFIX "mdt_"
#define SRV_DASH_TOKEN_LEN    (4 + 64)	/* the prefix and 64 hex digits */
#define SRV_DASH_HEX          65	/* a SHA-256 or HMAC-SHA256 in hex, with its NUL */
#define SRV_DASH_KEY_LEN      32	/* the CSRF key, shared by the verifiers of one database */
#define SRV_DASH_COOKIE       "measured_session"

/** srv_dash_token_syntax() - @t (@n bytes) is "mdt_" and 64 lowercase hex digits. */
bool srv_dash_token_syntax(const char *t, size_t n);
/** srv_dash_token_hash() - lowercase hex SHA-256 of the token text; -EINVAL for a malformed token. */
int srv_dash_token_hash(const char *t, size_t n, char ret_hex[SRV_DASH_HEX]);
/** srv_dash_token_new() - a fresh random token and its hash. */
int srv_dash_token_new(char ret_token[SRV_DASH_TOKEN_LEN + 1], char ret_hex[SRV_DASH_HEX]);
/** srv_dash_hex_equal() - two 64-digit hex strings equal, compared in constant time. */
bool srv_dash_hex_equal(const char *a, const char *b);
/** srv_dash_csrf() - the CSRF token of a session: HMAC-SHA256(@key, "csrf" || @token_hash), hex. */
int srv_dash_csrf(const uint8_t key[SRV_DASH_KEY_LEN], const char *token_hash, char ret_hex[SRV_DASH_HEX]);
/** srv_dash_csrf_ok() - @presented is the session's CSRF token (constant time). */
bool srv_dash_csrf_ok(const uint8_t key[SRV_DASH_KEY_LEN], const char *token_hash, const char *presented);
/**
 * srv_dash_origin_ok() - a state-changing request's Origin and
 * Sec-Fetch-Site headers (NULL: absent) allow it: Sec-Fetch-Site, if
 * sent, is "same-origin"; Origin, if sent, is "https://" and the Host.
 */
bool srv_dash_origin_ok(const char *origin, const char *fetch_site, const char *host);

/* the embedded files (dash_assets.c, generated) */
struct srv_dash_asset {
	const char *path, *type;
	const unsigned char *data;
	size_t len;
};
extern const struct srv_dash_asset srv_dash_assets[];
extern const size_t srv_dash_nassets;

#endif
