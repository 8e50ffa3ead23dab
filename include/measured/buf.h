/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_BUF_H
#define MEASURED_BUF_H

/*
 * Bounded byte reader and writer: the only way bytes from the outside are
 * read or wire formats written in this project.
 *
 * The error is sticky (as in the Linux kernel's tpm_buf): after the first
 * short read or full buffer every further call is a no-op that yields
 * zeros, so a parser can read a whole structure and check once.  Bounds are
 * checked as `n > len - off`, which cannot overflow because off <= len is
 * an invariant.  Endianness is always explicit: TCG event logs are little
 * endian, TPM structures big endian.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mbuf_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
	bool err;
};

static inline void mbr_init(struct mbuf_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->off = 0;
	r->err = false;
}

static inline size_t mbr_remaining(const struct mbuf_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

/** mbr_ok() - true while no read has run past the end. */
static inline bool mbr_ok(const struct mbuf_reader *r) { return !r->err; }

uint8_t mbr_u8(struct mbuf_reader *r);
uint16_t mbr_le16(struct mbuf_reader *r);
uint32_t mbr_le32(struct mbuf_reader *r);
uint64_t mbr_le64(struct mbuf_reader *r);
uint16_t mbr_be16(struct mbuf_reader *r);
uint32_t mbr_be32(struct mbuf_reader *r);
uint64_t mbr_be64(struct mbuf_reader *r);
/** mbr_copy() - copy @n bytes to @dst (zero-filled on error). */
bool mbr_copy(struct mbuf_reader *r, void *dst, size_t n);
/** mbr_ptr() - borrow @n bytes in place; NULL (and sticky error) if short. */
const uint8_t *mbr_ptr(struct mbuf_reader *r, size_t n);
bool mbr_skip(struct mbuf_reader *r, size_t n);
/**
 * mbr_sub() - carve a sub-reader of @n bytes (a length-prefixed field).
 * The parent advances past it; the child has its own error flag.
 */
bool mbr_sub(struct mbuf_reader *r, size_t n, struct mbuf_reader *ret_sub);

/*
 * Writer over a caller's fixed buffer, or a growing heap buffer capped at
 * @max (curl's dynbuf idea: every buffer has a maximum).
 */
struct mbuf_writer {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
	bool heap;
	bool err;
};

void mbw_init_fixed(struct mbuf_writer *w, void *data, size_t cap);
void mbw_init_heap(struct mbuf_writer *w, size_t max);
void mbw_free(struct mbuf_writer *w);
static inline bool mbw_ok(const struct mbuf_writer *w) { return !w->err; }
void mbw_u8(struct mbuf_writer *w, uint8_t v);
void mbw_le16(struct mbuf_writer *w, uint16_t v);
void mbw_le32(struct mbuf_writer *w, uint32_t v);
void mbw_le64(struct mbuf_writer *w, uint64_t v);
void mbw_be16(struct mbuf_writer *w, uint16_t v);
void mbw_be32(struct mbuf_writer *w, uint32_t v);
void mbw_be64(struct mbuf_writer *w, uint64_t v);
void mbw_bytes(struct mbuf_writer *w, const void *src, size_t n);
void mbw_str(struct mbuf_writer *w, const char *s);
/** mbw_reserve() - append @n bytes and return where they are, for length fields patched later. */
uint8_t *mbw_reserve(struct mbuf_writer *w, size_t n);

#endif
