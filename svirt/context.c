/* SPDX-License-Identifier: MIT */
/*
 * SELinux context strings: user:role:type[:range].  The range itself may
 * contain ':' (s0:c1,c2 or s0-s0:c0.c1023), so only the first three colons
 * separate fields.  Plain string handling keeps this testable on a host
 * without SELinux.
 */
#include "svirt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "measured/error.h"

static bool field_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= ' ' || ch >= 0x7f)
			return false;
	}
	return true;
}

int svirt_ctx_set_range(const char *ctx, const char *range, char *out, size_t outlen)
{
	size_t len = strnlen(ctx, SVIRT_CTX_MAX);
	if (len >= SVIRT_CTX_MAX)
		return m_err(-ENAMETOOLONG, "context longer than %d bytes", SVIRT_CTX_MAX - 1);
	const char *p = ctx, *c;
	for (int f = 0; f < 3; f++) {
		c = memchr(p, ':', len - (size_t)(p - ctx));
		if (f < 2 && !c)
			return m_err(-EINVAL, "context '%s' has no user:role:type", ctx);
		if (f == 2 && !c)
			c = ctx + len;
		if (!field_ok(p, (size_t)(c - p)))
			return m_err(-EINVAL, "context '%s' has an empty or bad field", ctx);
		p = c + 1;
	}
	size_t keep = (size_t)(c - ctx);
	size_t rlen = strlen(range);
	if (!field_ok(range, rlen))
		return m_err(-EINVAL, "bad range '%s'", range);
	if (keep + 1 + rlen + 1 > outlen || keep + 1 + rlen + 1 > SVIRT_CTX_MAX)
		return m_err(-ENAMETOOLONG, "context '%s' with range '%s' is too long", ctx, range);
	memcpy(out, ctx, keep);
	out[keep] = ':';
	memcpy(out + keep + 1, range, rlen + 1);
	return 0;
}

int svirt_ctx_first_line(const char *text, size_t len, char *out, size_t outlen)
{
	size_t i = 0;
	while (i < len) {
		size_t s = i;
		while (i < len && text[i] != '\n')
			i++;
		size_t e = i++;
		while (s < e && (text[s] == ' ' || text[s] == '\t'))
			s++;
		while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
			e--;
		if (s == e || text[s] == '#')
			continue;
		if (e - s + 1 > outlen || e - s + 1 > SVIRT_CTX_MAX)
			return m_err(-ENAMETOOLONG, "context line longer than %d bytes",
				     SVIRT_CTX_MAX - 1);
		if (memchr(text + s, '\0', e - s))
			return m_err(-EINVAL, "NUL byte in context file");
		memcpy(out, text + s, e - s);
		out[e - s] = '\0';
		return 0;
	}
	return m_err(-ENODATA, "no context in file");
}
