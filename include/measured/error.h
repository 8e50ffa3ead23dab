/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_ERROR_H
#define MEASURED_ERROR_H

/*
 * Error reporting for libmeasured.
 *
 * Library functions return 0 or a negative errno and never exit.  The
 * detail a user needs (which file, which record, which byte offset, which
 * TPM response code) is kept in a per-thread message, like dlerror(): set
 * it where the failure is first seen, read it where it is reported.
 */

#include <stdarg.h>
#include <stddef.h>

/**
 * m_err() - record a message for the calling thread and return @err.
 * @err: a negative errno, returned unchanged so callers can write
 *       `return m_err(-EINVAL, "...", ...)`.
 */
int m_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * m_err_prefix() - put "PREFIX: " in front of the current message, to add
 * context (a file name) as an error travels up.  Returns @err.
 */
int m_err_prefix(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * m_errmsg() - the calling thread's last message if it was recorded for
 * @err, otherwise strerror(-@err): a message belongs to its error code.
 */
const char *m_errmsg(int err);

/** m_err_clear() - forget the calling thread's message. */
void m_err_clear(void);

/**
 * m_snprintf() - snprintf() into a fixed buffer that never truncates
 * silently: the length written, or -ENAMETOOLONG (with a message, @buf
 * emptied) when the result does not fit in @cap bytes.  The one way the
 * tree formats text into fixed buffers whose content matters.
 */
int m_snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
