// SPDX-License-Identifier: MIT
/* Bounded reader/writer; see include/measured/buf.h for the rules. */
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"

const uint8_t *mbr_ptr(struct mbuf_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	p = r->data + r->off;
	r->off += n;
	return p;
}

bool mbr_copy(struct mbuf_reader *r, void *dst, size_t n)
{
	const uint8_t *p = mbr_ptr(r, n);

	if (!p) {
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, p, n);
	return true;
}

bool mbr_skip(struct mbuf_reader *r, size_t n)
{
	return mbr_ptr(r, n) != NULL;
}

bool mbr_sub(struct mbuf_reader *r, size_t n, struct mbuf_reader *ret_sub)
{
	const uint8_t *p = mbr_ptr(r, n);

	if (!p) {
		mbr_init(ret_sub, NULL, 0);
		ret_sub->err = true;
		return false;
	}
	mbr_init(ret_sub, p, n);
	return true;
}

uint8_t mbr_u8(struct mbuf_reader *r)
{
	const uint8_t *p = mbr_ptr(r, 1);
	return p ? p[0] : 0;
}

uint16_t mbr_le16(struct mbuf_reader *r)
{
	const uint8_t *p = mbr_ptr(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t mbr_le32(struct mbuf_reader *r)
{
	const uint8_t *p = mbr_ptr(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t mbr_le64(struct mbuf_reader *r)
{
	uint64_t lo = mbr_le32(r);
	uint64_t hi = mbr_le32(r);
	return lo | hi << 32;
}

uint16_t mbr_be16(struct mbuf_reader *r)
{
	const uint8_t *p = mbr_ptr(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t mbr_be32(struct mbuf_reader *r)
{
	const uint8_t *p = mbr_ptr(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3] : 0;
}

uint64_t mbr_be64(struct mbuf_reader *r)
{
	uint64_t hi = mbr_be32(r);
	uint64_t lo = mbr_be32(r);
	return hi << 32 | lo;
}

void mbw_init_fixed(struct mbuf_writer *w, void *data, size_t cap)
{
	*w = (struct mbuf_writer){ .data = data, .cap = cap, .max = cap };
}

void mbw_init_heap(struct mbuf_writer *w, size_t max)
{
	*w = (struct mbuf_writer){ .max = max, .heap = true };
}

void mbw_free(struct mbuf_writer *w)
{
	if (w->heap)
		free(w->data);
	w->data = NULL;
	w->len = w->cap = 0;
}

uint8_t *mbw_reserve(struct mbuf_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err)
		return NULL;
	if (n > w->cap - w->len) {
		size_t want, ncap;
		uint8_t *nd;

		if (!w->heap || n > w->max - w->len) {
			w->err = true;
			return NULL;
		}
		want = w->len + n;
		ncap = w->cap ? w->cap : 256;
		while (ncap < want)
			ncap = ncap > w->max / 2 ? w->max : ncap * 2;
		nd = realloc(w->data, ncap);
		if (!nd) {
			w->err = true;
			return NULL;
		}
		w->data = nd;
		w->cap = ncap;
	}
	p = w->data + w->len;
	w->len += n;
	return p;
}

void mbw_bytes(struct mbuf_writer *w, const void *src, size_t n)
{
	uint8_t *p = mbw_reserve(w, n);

	if (p && n)
		memcpy(p, src, n);
}

void mbw_str(struct mbuf_writer *w, const char *s)
{
	mbw_bytes(w, s, strlen(s));
}

void mbw_u8(struct mbuf_writer *w, uint8_t v)
{
	mbw_bytes(w, &v, 1);
}

void mbw_le16(struct mbuf_writer *w, uint16_t v)
{
	uint8_t b[2] = { v, v >> 8 };
	mbw_bytes(w, b, 2);
}

void mbw_le32(struct mbuf_writer *w, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };
	mbw_bytes(w, b, 4);
}

void mbw_le64(struct mbuf_writer *w, uint64_t v)
{
	mbw_le32(w, (uint32_t)v);
	mbw_le32(w, (uint32_t)(v >> 32));
}

void mbw_be16(struct mbuf_writer *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v };
	mbw_bytes(w, b, 2);
}

void mbw_be32(struct mbuf_writer *w, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
	mbw_bytes(w, b, 4);
}

void mbw_be64(struct mbuf_writer *w, uint64_t v)
{
	mbw_be32(w, (uint32_t)(v >> 32));
	mbw_be32(w, (uint32_t)v);
}
