// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "measured/error.h"

/* The calling thread's last message and the code it was recorded with:
 * m_errmsg() gives the message only for that code, so a later error that
 * set no message of its own never prints an earlier, unrelated one. */
static _Thread_local char msg[1024];
static _Thread_local int msg_err;

int m_err(int err, const char *fmt, ...)
{
	char tmp[sizeof(msg)];
	va_list ap;

	/* through a copy: the arguments may include m_errmsg(), this buffer */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(msg, tmp, sizeof(msg));
	msg_err = err;
	return err;
}

int m_err_prefix(int err, const char *fmt, ...)
{
	char old[sizeof(msg)];
	size_t n;
	va_list ap;

	/* the message to prefix is this error's, or its strerror() */
	if (msg[0] == '\0' || msg_err != err)
		snprintf(msg, sizeof(msg), "%s", strerror(err < 0 ? -err : err));
	memcpy(old, msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* the arguments never point into msg: it is saved in old */
	va_end(ap);
	n = strlen(msg);
	/* "PREFIX: OLD", cut at the buffer's end */
	if (n + 2 < sizeof(msg)) {
		memcpy(msg + n, ": ", 3);
		strncat(msg, old, sizeof(msg) - n - 3);
	}
	msg_err = err;
	return err;
}

const char *m_errmsg(int err)
{
	if (msg[0] == '\0' || msg_err != err)
		return strerror(err < 0 ? -err : err);
	return msg;
}

void m_err_clear(void)
{
	msg[0] = '\0';
	msg_err = 0;
}

int m_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cap == 0)
		return m_err(-ENAMETOOLONG, "no room to format into");
	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0)
		return m_err(-EINVAL, "cannot format '%s'", fmt);
	if ((size_t)n >= cap) {
		m_err(-ENAMETOOLONG, "%d characters do not fit in %zu: \"%.40s...\"", n, cap - 1, buf);
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return n;
}
