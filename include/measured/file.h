/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_FILE_H
#define MEASURED_FILE_H

#include <stddef.h>
#include <stdint.h>

/**
 * m_read_file() - read all of @path into a new buffer, at most @max bytes.
 * Opens with O_NOFOLLOW|O_CLOEXEC (paths come from outside); reads until
 * EOF, so files that report size 0 (securityfs, procfs) work.  The buffer
 * gets one extra NUL byte after the data (text parsers may rely on it).
 * Errors name the path; a file over @max is -EFBIG, never truncated.
 */
int m_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);

/**
 * m_pread_full() / m_pwrite_full() - all @len bytes at byte @off of @fd,
 * through short transfers and EINTR.  0, or -errno; -ENODATA when the file
 * ends first (read), -EIO when a write moves nothing.  *@ret_done (if not
 * NULL) is how many bytes were moved, so the caller can name the offset
 * that failed; the message is the caller's (it knows what @fd is).
 */
int m_pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_done);
int m_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, size_t *ret_done);

#endif
