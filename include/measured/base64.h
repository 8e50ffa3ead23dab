/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_BASE64_H
#define MEASURED_BASE64_H

/* Base64 (RFC 4648 section 4, with padding, no line breaks): the one codec of the tree. */

#include <stddef.h>
#include <stdint.h>

/** m_b64_encode() - @n bytes as a malloc'd NUL-terminated string; NULL on failure. */
char *m_b64_encode(const uint8_t *d, size_t n);

/**
 * m_b64_decode() - strict decoding of the @n characters at @s: a length that
 * is not a multiple of 4, a character outside the alphabet, padding
 * anywhere but the end, or more than @max decoded bytes is -EBADMSG (or
 * -E2BIG) with a message giving the offset.  The bytes go to @fixed (at
 * least @max bytes) or, if it is NULL, to a malloc'd *@ret.
 */
int m_b64_decode(const char *s, size_t n, size_t max, uint8_t *fixed, uint8_t **ret, size_t *ret_len);

#endif
