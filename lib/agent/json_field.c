// SPDX-License-Identifier: MIT
/*
 * Typed access to the verifier's JSON answers.  Binary fields are base64
 * with padding (RFC 4648, 4); anything else in them is refused, so a
 * field is decoded the same way on both sides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "measured/agent.h"
#include "measured/error.h"

const char *m_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

char *m_b64_encode(const uint8_t *d, size_t n)
{
	char *s;

	if (n > (size_t)(INT32_MAX / 4 * 3))
		return NULL;
	s = malloc(4 * ((n + 2) / 3) + 1);
	if (s)
		EVP_EncodeBlock((unsigned char *)s, d, (int)n);
	return s;
}

int m_json_b64(json_object *o, const char *key, size_t max, uint8_t **ret, size_t *ret_len)
{
	const char *s = m_json_str(o, key);
	size_t len, pad = 0, n;
	uint8_t *out;
	int dec;

	if (!s)
		return m_err(-EBADMSG, "answer field '%s': missing or not a string", key);
	len = strlen(s);
	if (len % 4)
		return m_err(-EBADMSG, "answer field '%s': base64 length %zu is not a multiple of 4", key, len);
	if (len / 4 * 3 > max + 2)
		return m_err(-EFBIG, "answer field '%s': over %zu bytes", key, max);
	/* EVP_DecodeBlock skips blanks and keeps the padding's zero bytes */
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '+' || c == '/' || (c == '=' && i >= len - 2);

		if (!ok || (i == len - 2 && c == '=' && s[len - 1] != '='))
			return m_err(-EBADMSG, "answer field '%s': bad base64 at offset %zu", key, i);
	}
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	dec = len ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)len) : 0;
	if (dec < 0 || (size_t)dec < pad) {
		free(out);
		return m_err(-EBADMSG, "answer field '%s': bad base64", key);
	}
	n = (size_t)dec - pad;
	if (n > max) {
		free(out);
		return m_err(-EFBIG, "answer field '%s': %zu bytes, at most %zu", key, n, max);
	}
	*ret = out;
	*ret_len = n;
	return 0;
}
