/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TEXT_H
#define MEASURED_TEXT_H

/*
 * Text from outside (names, descriptions, messages that quote a request)
 * made safe to store and print: no byte that moves a terminal's cursor,
 * starts an escape sequence, ends a line or is not printable ASCII gets
 * through.  One rule everywhere, so an audit line or a log line can only
 * be forged by text the operator could read in it.
 */

#include <stddef.h>

/* the longest escaped form of one input byte ("\xNN") */
#define M_TEXT_ESCAPE_RATIO 4

/**
 * m_text_escape() - @s (@len bytes, NUL included or not) as printable
 * ASCII: bytes 0x20-0x7e are kept except the backslash, which becomes
 * "\\"; every other byte (controls, DEL, bytes of UTF-8 sequences, NUL)
 * becomes "\xNN" with lowercase hex.  Returns a malloc'd string, or NULL
 * when out of memory (or @len is over SIZE_MAX / 4).
 */
char *m_text_escape(const char *s, size_t len);

/**
 * m_text_printable() - like m_text_escape_str(), but a backslash is kept:
 * for printing text that was stored escaped (its backslashes are already
 * escapes), so it is not escaped twice, while a control byte in text
 * stored before escaping still cannot reach a terminal.
 */
char *m_text_printable(const char *s);

/** m_text_escape_str() - m_text_escape() of a NUL-terminated string (NULL: ""). */
char *m_text_escape_str(const char *s);

/**
 * m_text_is_clean() - true when @s needs no escaping (m_text_escape()
 * would return it unchanged).
 */
int m_text_is_clean(const char *s);

#endif
