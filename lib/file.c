// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "measured/error.h"
#include "measured/file.h"

int m_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	struct stat s;
	uint8_t *buf = NULL;
	size_t len = 0, cap;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return m_err(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &s) < 0) {
		r = m_err(-errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(s.st_mode)) {
		r = m_err(-EISDIR, "%s: is a directory", path);
		goto out;
	}
	if (S_ISREG(s.st_mode) && (uint64_t)s.st_size > max) {
		r = m_err(-EFBIG, "%s: %lld bytes, over the limit of %zu", path, (long long)s.st_size, max);
		goto out;
	}
	cap = S_ISREG(s.st_mode) && s.st_size > 0 ? (size_t)s.st_size : 65536;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *nb;

			if (cap >= max + 1) {
				r = m_err(-EFBIG, "%s: over the limit of %zu bytes", path, max);
				goto out;
			}
			cap = cap > max / 2 ? max + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		} else if (!buf) {
			buf = malloc(cap + 1);
			if (!buf) {
				r = -ENOMEM;
				goto out;
			}
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = m_err(-errno, "%s: read at offset %zu: %s", path, len, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
		if (len > max) {
			r = m_err(-EFBIG, "%s: over the limit of %zu bytes", path, max);
			goto out;
		}
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	buf[len] = '\0';
out:
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* one loop for both directions: pread(2) and pwrite(2) may move fewer bytes than asked, or be interrupted */
static int pio_full(int fd, uint8_t *buf, size_t len, uint64_t off, bool write, size_t *ret_done)
{
	size_t done = 0;
	int r = 0;

	while (done < len) {
		ssize_t n = write ? pwrite(fd, buf + done, len - done, (off_t)(off + done))
				  : pread(fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : write ? -EIO : -ENODATA;
			break;
		}
		done += (size_t)n;
	}
	if (ret_done)
		*ret_done = done;
	return r;
}

int m_pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_done)
{
	return pio_full(fd, buf, len, off, false, ret_done);
}

int m_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, size_t *ret_done)
{
	return pio_full(fd, (uint8_t *)buf, len, off, true, ret_done);
}
