// SPDX-License-Identifier: MIT
/*
 * Base64, RFC 4648 section 4.  Encoding is OpenSSL's; decoding is strict,
 * table driven, and on x86 with SSSE3 sixteen characters a step (an
 * evidence document's log is tens of kilobytes of base64, decoded on every
 * attestation).
 */
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

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <tmmintrin.h>
#define B64_SSSE3 1

/*
 * Sixteen characters to twelve bytes while [*i, *i + 16) holds only
 * alphabet characters; stops at a block with anything else (the scalar loop
 * then names the offset) or where fewer than 24 characters are left (the
 * last group, with its padding, is the scalar loop's; and the 16-byte store
 * of 12 bytes must stay inside the output).
 *
 * Validity: a character is outside the alphabet exactly when the bit
 * classes of its low and of its high nibble meet (lo_class & hi_class): the
 * high nibble picks which low nibbles its row allows ('+' and '/' in row 2,
 * 0-9 in row 3, A-O and a-o in rows 4 and 6, P-Z and p-z in rows 5 and 7,
 * nothing in the others).  Value: the character plus a shift picked by its
 * high nibble ('/' moved to slot 1 to part it from '+').  Packing: pairs of
 * 6-bit values to 12 bits, pairs of those to 24 bits, then the three bytes
 * of each 32-bit lane in big-endian order.
 */
__attribute__((target("ssse3")))
static void decode_ssse3(const char *s, size_t n, uint8_t *out, size_t *i, size_t *o)
{
	const __m128i lo_class = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
					       0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m128i hi_class = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
					       0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m128i shift = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i nibble = _mm_set1_epi8(0x0f), slash = _mm_set1_epi8('/');
	const __m128i pack = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	size_t a = *i, b = *o;

	for (; a + 24 <= n; a += 16, b += 12) {
		__m128i c = _mm_loadu_si128((const __m128i *)(s + a));
		__m128i hi = _mm_and_si128(_mm_srli_epi32(c, 4), nibble);
		__m128i lo = _mm_and_si128(c, nibble);
		__m128i bad = _mm_and_si128(_mm_shuffle_epi8(lo_class, lo), _mm_shuffle_epi8(hi_class, hi));

		if (_mm_movemask_epi8(_mm_cmpgt_epi8(bad, _mm_setzero_si128())))
			break;
		__m128i v = _mm_add_epi8(c, _mm_shuffle_epi8(shift, _mm_add_epi8(hi, _mm_cmpeq_epi8(c, slash))));
		v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
		v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
		_mm_storeu_si128((__m128i *)(out + b), _mm_shuffle_epi8(v, pack));
	}
	*i = a;
	*o = b;
}
#endif

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

#ifdef B64_SSSE3
	if (__builtin_cpu_supports("ssse3"))
		decode_ssse3(s, n, out, &i, &o);
#endif
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
