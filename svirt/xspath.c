/* SPDX-License-Identifier: MIT */
/*
 * XenStore path handling and disk "params" values.
 *
 * Xen's docs/misc/xenstore-paths.pandoc: a frontend's vbd entries live in
 * /local/domain/<domid>/device/vbd/<devid>, whose "backend" key names the
 * backend directory (normally /local/domain/<backend-domid>/backend/vbd/
 * <domid>/<devid>) holding "mode" ("r" or "w") and "params".  Paths are at
 * most XENSTORE_ABS_PATH_MAX (3072) bytes (xen/io/xs_wire.h).
 */
#include "svirt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "measured/error.h"

#define XS_ABS_PATH_MAX 3072

int svirt_xs_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len || n > XS_ABS_PATH_MAX)
		return m_err(-ENAMETOOLONG, "XenStore path too long");
	return 0;
}

bool svirt_xs_valid_devid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool svirt_xs_valid_backend(const char *s)
{
	static const char root[] = "/local/domain/";
	size_t n = strlen(s);
	if (n > XS_ABS_PATH_MAX || strncmp(s, root, sizeof(root) - 1) != 0)
		return false;
	/* Walk components: none empty, none "." or "..", only the
	 * characters XenStore allows (xs_wire.h: [A-Za-z0-9_@/-.]). */
	const char *p = s + 1;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t cl = e ? (size_t)(e - p) : strlen(p);
		if (cl == 0 || (cl == 1 && p[0] == '.') || (cl == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < cl; i++) {
			char ch = p[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
			      ch == '@'))
				return false;
		}
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return false; /* trailing slash */
	}
	return true;
}

/*
 * params may carry toolstack-specific prefixes before the path:
 * "aio:/img", "vhd:/img", "tap2:tapdisk:aio:/img", "file:/img".  A prefix
 * is a run of [a-z0-9_-] ending in ':'.  At most 4 are stripped.
 */
const char *svirt_strip_type_prefix(const char *params)
{
	const char *p = params;
	for (int i = 0; i < 5; i++) {
		if (p[0] == '/')
			return p;
		if (i == 4)
			break;
		const char *q = p;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' ||
		       *q == '-')
			q++;
		if (q == p || *q != ':')
			return NULL;
		p = q + 1;
	}
	return NULL;
}
