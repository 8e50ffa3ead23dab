// SPDX-License-Identifier: MIT
/*
 * The dashboard's credentials (docs/server.md, "Dashboard"): access
 * tokens, their stored form, the per-session CSRF token and the origin
 * check of a state-changing request.  Pure functions of their inputs, so
 * tests/unit/test_dashboard.c checks them against independent values.
 *
 * A token is "mdt_" and 64 lowercase hex digits: 256 random bits.  The
 * database keeps only SHA-256 of the whole token text: a token that
 * random needs no slow KDF (no guessing attack gets anywhere near 2^256,
 * and a KDF would cost every request), and the hash is looked up as a
 * key, so a stolen database holds no usable credential.
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "measured/digest.h"
#include "measured/error.h"
#include "dashboard.h"

bool srv_dash_token_syntax(const char *t, size_t n)
{
	if (n != SRV_DASH_TOKEN_LEN || memcmp(t, SRV_DASH_TOKEN_PREFIX, sizeof(SRV_DASH_TOKEN_PREFIX) - 1) != 0)
		return false;
	for (size_t i = sizeof(SRV_DASH_TOKEN_PREFIX) - 1; i < n; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return false;
	return true;
}

int srv_dash_token_hash(const char *t, size_t n, char ret_hex[SRV_DASH_HEX])
{
	uint8_t d[32];
	unsigned dl = 0;

	if (!srv_dash_token_syntax(t, n))
		return m_err(-EINVAL, "a dashboard token is %s and 64 lowercase hex digits", SRV_DASH_TOKEN_PREFIX);
	if (!EVP_Digest(t, n, d, &dl, EVP_sha256(), NULL) || dl != sizeof(d))
		return m_err(-EIO, "SHA-256 failed");
	m_hex(d, sizeof(d), ret_hex);
	return 0;
}

int srv_dash_token_new(char ret_token[SRV_DASH_TOKEN_LEN + 1], char ret_hex[SRV_DASH_HEX])
{
	uint8_t rnd[32];
	char t[SRV_DASH_TOKEN_LEN + 1];
	int r;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return m_err(-EIO, "no randomness");
	memcpy(t, SRV_DASH_TOKEN_PREFIX, sizeof(SRV_DASH_TOKEN_PREFIX) - 1);
	m_hex(rnd, sizeof(rnd), t + sizeof(SRV_DASH_TOKEN_PREFIX) - 1);
	r = srv_dash_token_hash(t, SRV_DASH_TOKEN_LEN, ret_hex);
	if (r == 0)
		memcpy(ret_token, t, sizeof(t));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(t, sizeof(t));
	return r;
}

bool srv_dash_hex_equal(const char *a, const char *b)
{
	/* both hex of one length: compared in time independent of where they differ */
	if (!a || !b || strlen(a) != SRV_DASH_HEX - 1 || strlen(b) != SRV_DASH_HEX - 1)
		return false;
	return CRYPTO_memcmp(a, b, SRV_DASH_HEX - 1) == 0;
}

int srv_dash_csrf(const uint8_t key[SRV_DASH_KEY_LEN], const char *token_hash, char ret_hex[SRV_DASH_HEX])
{
	uint8_t mac[32];
	unsigned ml = 0;

	/* HMAC-SHA256(server key, "csrf" || token hash): one per token, none derivable without the key */
	uint8_t msg[4 + SRV_DASH_HEX - 1];

	if (strlen(token_hash) != SRV_DASH_HEX - 1)
		return m_err(-EINVAL, "not a token hash");
	memcpy(msg, "csrf", 4);
	memcpy(msg + 4, token_hash, SRV_DASH_HEX - 1);
	if (!HMAC(EVP_sha256(), key, SRV_DASH_KEY_LEN, msg, sizeof(msg), mac, &ml) || ml != sizeof(mac))
		return m_err(-EIO, "HMAC failed");
	m_hex(mac, sizeof(mac), ret_hex);
	return 0;
}

bool srv_dash_csrf_ok(const uint8_t key[SRV_DASH_KEY_LEN], const char *token_hash, const char *presented)
{
	char want[SRV_DASH_HEX];

	if (!presented || srv_dash_csrf(key, token_hash, want) < 0)
		return false;
	return srv_dash_hex_equal(want, presented);
}

bool srv_dash_origin_ok(const char *origin, const char *fetch_site, const char *host)
{
	/*
	 * Fetch Metadata: a browser says where a request comes from; only
	 * "same-origin" may change anything ("same-site" is another port or
	 * subdomain).  A client that sends neither header (a script with a
	 * bearer token) still needs the CSRF token.
	 */
	if (fetch_site && strcmp(fetch_site, "same-origin") != 0)
		return false;
	if (origin) {
		static const char scheme[] = "https://";

		if (!host || strncmp(origin, scheme, sizeof(scheme) - 1) != 0 ||
		    strcmp(origin + sizeof(scheme) - 1, host) != 0)
			return false;
	}
	return true;
}
