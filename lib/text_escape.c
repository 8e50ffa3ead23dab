// SPDX-License-Identifier: MIT
/* Outside text made printable (include/measured/text.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "measured/text.h"

static int keep(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '\\';
}

static char *escape(const char *s, size_t len, int keep_backslash)
{
	static const char hx[] = "0123456789abcdef";
	char *out, *o;

	if (len > (SIZE_MAX - 1) / M_TEXT_ESCAPE_RATIO)
		return NULL;
	out = malloc(len * M_TEXT_ESCAPE_RATIO + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (keep(c) || (keep_backslash && c == '\\')) {
			*o++ = (char)c;
		} else if (c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hx[c >> 4];
			*o++ = hx[c & 15];
		}
	}
	*o = 0;
	return out;
}

char *m_text_escape(const char *s, size_t len)
{
	return escape(s, len, 0);
}

char *m_text_printable(const char *s)
{
	return escape(s ? s : "", s ? strlen(s) : 0, 1);
}

char *m_text_escape_str(const char *s)
{
	return m_text_escape(s ? s : "", s ? strlen(s) : 0);
}

int m_text_is_clean(const char *s)
{
	for (; *s; s++)
		if (!keep((unsigned char)*s))
			return 0;
	return 1;
}
