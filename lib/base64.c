// SPDX-License-Identifier: MIT
/* Base64, RFC 4648 section 4.  Encoding is OpenSSL's; decoding is strict and table driven (logs make long fields). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "measured/base64.h"
#include "measured/error.h"

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

static signed char table[256];
/* per position in a group of four: the character's 6 bits in place, or BAD */
#define BAD 0x80000000u
static uint32_t pos[4][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(table, -1, sizeof(table));
	for (int i = 0; i < 64; i++)
		table[(unsigned char)a[i]] = (signed char)i;
	for (int c = 0; c < 256; c++)
		for (int k = 0; k < 4; k++)
			pos[k][c] = table[c] < 0 ? BAD : (uint32_t)table[c] << (18 - 6 * k);
}

int m_b64_decode(const char *s, size_t n, size_t max, uint8_t *fixed, uint8_t **ret, size_t *ret_len)
{
	size_t pad = 0, out_len;
	uint8_t *out;

	pthread_once(&table_once, table_init);
	if (n % 4)
		return m_err(-EBADMSG, "bad base64 (length %zu is not a multiple of 4)", n);
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	out_len = n / 4 * 3 - pad;
	if (out_len > max)
		return m_err(-E2BIG, "%zu bytes of base64 data (at most %zu)", out_len, max);
	out = fixed ? fixed : malloc(out_len + 3);
	if (!out)
		return -ENOMEM;
	/* every group but the last: four characters, three bytes, one check (logs make long fields) */
	size_t i = 0, o = 0;

	for (; i + 4 < n; i += 4, o += 3) {
		const unsigned char *g = (const unsigned char *)s + i;
		uint32_t v = pos[0][g[0]] | pos[1][g[1]] | pos[2][g[2]] | pos[3][g[3]];

		if (v & BAD)
			goto bad;
		out[o] = (uint8_t)(v >> 16);
		out[o + 1] = (uint8_t)(v >> 8);
		out[o + 2] = (uint8_t)v;
	}
	if (i < n) {
		/* the last group: its padding characters count as zero bits */
		int a = table[(unsigned char)s[i]], b = table[(unsigned char)s[i + 1]];
		int c = pad == 2 ? 0 : table[(unsigned char)s[i + 2]];
		int d = pad >= 1 ? 0 : table[(unsigned char)s[i + 3]];
		uint32_t v;

		if ((a | b | c | d) < 0)
			goto bad;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		/* a fixed buffer is exactly sized: write only what belongs to the output */
		out[o++] = (uint8_t)(v >> 16);
		if (o < out_len)
			out[o++] = (uint8_t)(v >> 8);
		if (o < out_len)
			out[o++] = (uint8_t)v;
	}
	if (!fixed)
		*ret = out;
	*ret_len = out_len;
	return 0;
bad:
	if (!fixed)
		free(out);
	return m_err(-EBADMSG, "bad base64 character near offset %zu", i);
}
