// SPDX-License-Identifier: MIT
/*
 * Hash a file or block device in several banks at once: seekable input
 * goes through the lock-step hasher shared with measured-init
 * (lib/measure/lockstep.c: the input read once, one thread per bank);
 * pipes are hashed sequentially in one thread.  Every bank must cover the
 * same bytes, so a file whose size, mtime or ctime changes while it is
 * hashed is an error, not a digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/measure.h"

#define CHUNK_SIZE (64u << 10)

static int digest_sequential(int fd, struct m_hash *h, m_progress_fn progress, void *arg,
			     uint64_t total, uint64_t *ret_size)
{
	uint8_t *buf = malloc(CHUNK_SIZE);
	uint64_t done = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = m_err(-errno, "read at offset %llu: %s", (unsigned long long)done, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		r = m_hash_update(h, buf, n);
		if (r < 0)
			break;
		done += n;
		if (progress)
			progress(done, total, arg);
	}
	free(buf);
	if (r == 0)
		*ret_size = done;
	return r;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int m_digest_fd(int fd, unsigned bmask, m_progress_fn progress, void *arg,
		struct m_digests *ret, uint64_t *ret_size)
{
	struct m_digests d;
	struct stat before, after;
	uint64_t total = 0, size = 0;
	bool seekable;
	int r;

	if (!bmask)
		return m_err(-EINVAL, "no bank selected");
	if (fstat(fd, &before) < 0)
		return m_err(-errno, "fstat: %s", strerror(errno));
	if (S_ISBLK(before.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &total) < 0)
			return m_err(-errno, "BLKGETSIZE64: %s", strerror(errno));
	} else if (S_ISREG(before.st_mode)) {
		total = (uint64_t)before.st_size;
	}
	seekable = (S_ISREG(before.st_mode) || S_ISBLK(before.st_mode)) && lseek(fd, 0, SEEK_CUR) == 0;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (seekable) {
		/* the one lock-step hasher measured-init uses too, one
		 * thread per bank here: exactly the size taken above */
		struct m_lockstep_opts o = { .banks = bmask, .size = total, .chunk = CHUNK_SIZE,
					     .progress = progress, .arg = arg };

		r = m_lockstep_hash(fd, m_hash_backend_evp(), &o, &d, NULL);
		size = total;
	} else {
		struct m_hash *h;

		r = m_hash_new(bmask, &h);
		if (r < 0)
			return r;
		r = digest_sequential(fd, h, progress, arg, total, &size);
		if (r == 0)
			r = m_hash_final(h, &d);
		m_hash_free(h);
	}
	if (r == 0 && S_ISREG(before.st_mode) &&
	    (fstat(fd, &after) < 0 || !same_file_state(&before, &after)))
		r = m_err(-EIO, "file changed while it was hashed");
	if (r < 0)
		return r;
	*ret = d;
	if (ret_size)
		*ret_size = size;
	return 0;
}

int m_digest_path(const char *path, unsigned bmask, m_progress_fn progress, void *arg,
		  struct m_digests *ret, uint64_t *ret_size)
{
	struct stat s;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return m_err(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &s) < 0 || (!S_ISREG(s.st_mode) && !S_ISBLK(s.st_mode))) {
		close(fd);
		return m_err(-EINVAL, "%s: not a regular file or block device", path);
	}
	r = m_digest_fd(fd, bmask, progress, arg, ret, ret_size);
	close(fd);
	if (r < 0)
		return m_err_prefix(r, "%s", path);
	return 0;
}
