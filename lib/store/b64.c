// SPDX-License-Identifier: MIT
/* base64 (RFC 4648 section 4, with padding) over OpenSSL's block coder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "measured/error.h"
#include "measured/store.h"

char *m_store_b64_encode(const uint8_t *d, size_t n)
{
	char *out;

	if (n > (SIZE_MAX / 4) * 3 - 3 || n > INT32_MAX / 2)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, d, (int)n);
	return out;
}

int m_store_b64_decode(const char *s, size_t slen, size_t max, uint8_t **ret, size_t *ret_len)
{
	uint8_t *out;
	size_t pad = 0;
	int n;

	/* EVP_DecodeBlock takes no whitespace and leaves the padding as zeros */
	if (slen % 4)
		return m_err(-EBADMSG, "base64 of %zu characters (not a multiple of 4)", slen);
	if (slen / 4 * 3 > max + 2)
		return m_err(-E2BIG, "base64 value over %zu bytes", max);
	for (size_t i = 0; i < slen; i++) {
		char c = s[i];

		if (c == '=') {
			if (i + 2 < slen || (i + 1 < slen && s[i + 1] != '='))
				return m_err(-EBADMSG, "base64: '=' before the end");
			pad++;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '+' || c == '/')) {
			return m_err(-EBADMSG, "base64: character %zu is not base64", i);
		}
	}
	out = malloc(slen / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	n = slen ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)slen) : 0;
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return m_err(-EBADMSG, "bad base64");
	}
	if ((size_t)n - pad > max) {
		free(out);
		return m_err(-E2BIG, "base64 value over %zu bytes", max);
	}
	*ret = out;
	*ret_len = (size_t)n - pad;
	return 0;
}
