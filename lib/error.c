// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "measured/error.h"

static _Thread_local char msg[1024];

int m_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err;
}

int m_err_prefix(int err, const char *fmt, ...)
{
	char old[sizeof(msg)];
	size_t n;
	va_list ap;

	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "%s", strerror(err < 0 ? -err : err));
	memcpy(old, msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	/* "PREFIX: OLD", cut at the buffer's end */
	if (n + 2 < sizeof(msg)) {
		memcpy(msg + n, ": ", 3);
		strncat(msg, old, sizeof(msg) - n - 3);
	}
	return err;
}

const char *m_errmsg(int err)
{
	if (msg[0] == '\0')
		return strerror(err < 0 ? -err : err);
	return msg;
}

void m_err_clear(void)
{
	msg[0] = '\0';
}
