// SPDX-License-Identifier: MIT
/*
 * Hash a file or block device in several banks at once.
 *
 * One thread per bank, each pread()ing the same byte ranges into its own
 * small buffer.  Measured on this kind of machine (2 vCPUs, AMD EPYC): a
 * shared ring filled by one reader and hashed by the other threads spends
 * most of its time moving cache lines between cores (read() into the ring
 * ran at a third of its single-threaded speed), while private 64 KiB
 * buffers stay in each core's L2 and two banks cost what one does.
 *
 * The input is still read from the device once: the threads are held
 * within WINDOW bytes of each other, so the slower bank finds in the page
 * cache what the faster one brought in.  Every bank must cover the same
 * bytes, so a file whose size, mtime or ctime changes while it is hashed is
 * an error, not a digest.  Inputs that cannot be pread() (pipes) are hashed
 * sequentially in one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include "measured/digest.h"
#include "measured/error.h"

#define CHUNK_SIZE (64u << 10)
#define WINDOW (64ull << 20)

struct lockstep {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	uint64_t pos[M_BANK_COUNT];
	unsigned n;
	bool stop;
	int fd;
	struct m_hash *h;
	m_progress_fn progress;
	void *arg;
	uint64_t total;
};

struct worker {
	struct lockstep *ls;
	unsigned idx;
	enum m_bank bank;
	uint64_t done;
	int err;
};

static uint64_t slowest(const struct lockstep *ls)
{
	uint64_t m = UINT64_MAX;

	for (unsigned i = 0; i < ls->n; i++)
		if (ls->pos[i] < m)
			m = ls->pos[i];
	return m;
}

static ssize_t pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += n;
	}
	return (ssize_t)got;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lockstep *ls = w->ls;
	uint8_t *buf = malloc(CHUNK_SIZE);
	uint64_t off = 0, published = 0;

	if (!buf) {
		w->err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (off - published >= (1u << 20) || off == 0) {
			pthread_mutex_lock(&ls->lock);
			ls->pos[w->idx] = off;
			published = off;
			pthread_cond_broadcast(&ls->moved);
			/* the leader waits for the slowest to come within half a window */
			if (off - slowest(ls) >= WINDOW)
				while (!ls->stop && off - slowest(ls) > WINDOW / 2)
					pthread_cond_wait(&ls->moved, &ls->lock);
			if (ls->stop) {
				pthread_mutex_unlock(&ls->lock);
				break;
			}
			pthread_mutex_unlock(&ls->lock);
		}
		n = pread_full(ls->fd, buf, CHUNK_SIZE, off);
		if (n < 0) {
			w->err = m_err((int)n, "read at offset %llu: %s", (unsigned long long)off,
				       strerror((int)-n));
			break;
		}
		if (n == 0)
			break;
		w->err = m_hash_update_bank(ls->h, w->bank, buf, n);
		if (w->err)
			break;
		off += n;
		if (w->idx == 0 && ls->progress)
			ls->progress(off, ls->total, ls->arg);
	}
out:
	free(buf);
	w->done = off;
	pthread_mutex_lock(&ls->lock);
	/* finished or failed: never hold the others back */
	ls->pos[w->idx] = UINT64_MAX;
	if (w->err)
		ls->stop = true;
	pthread_cond_broadcast(&ls->moved);
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

static int digest_parallel(int fd, struct m_hash *h, unsigned bmask, m_progress_fn progress,
			   void *arg, uint64_t total, uint64_t *ret_size)
{
	struct lockstep ls = { .fd = fd, .h = h, .progress = progress, .arg = arg, .total = total };
	struct worker w[M_BANK_COUNT];
	pthread_t tid[M_BANK_COUNT];
	unsigned started = 1;
	int r = 0;

	pthread_mutex_init(&ls.lock, NULL);
	pthread_cond_init(&ls.moved, NULL);
	for_each_bank(b, bmask) {
		w[ls.n] = (struct worker){ .ls = &ls, .idx = ls.n, .bank = b };
		ls.n++;
	}
	/* worker 0 runs in the calling thread */
	for (; started < ls.n; started++)
		if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
			pthread_mutex_lock(&ls.lock);
			ls.stop = true;
			pthread_mutex_unlock(&ls.lock);
			r = m_err(-EAGAIN, "cannot start a hashing thread");
			break;
		}
	if (r == 0)
		worker_main(&w[0]);
	for (unsigned i = 1; i < started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; r == 0 && i < ls.n; i++)
		if (w[i].err)
			r = w[i].err;
	for (unsigned i = 1; r == 0 && i < ls.n; i++)
		if (w[i].done != w[0].done)
			r = m_err(-EIO, "input changed length while it was hashed");
	pthread_cond_destroy(&ls.moved);
	pthread_mutex_destroy(&ls.lock);
	if (r == 0)
		*ret_size = w[0].done;
	return r;
}

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
	struct m_hash *h = NULL;
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
			total = 0;
	} else if (S_ISREG(before.st_mode)) {
		total = (uint64_t)before.st_size;
	}
	seekable = (S_ISREG(before.st_mode) || S_ISBLK(before.st_mode)) && lseek(fd, 0, SEEK_CUR) == 0;
	r = m_hash_new(bmask, &h);
	if (r < 0)
		return r;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (seekable && __builtin_popcount(bmask) > 1)
		r = digest_parallel(fd, h, bmask, progress, arg, total, &size);
	else
		r = digest_sequential(fd, h, progress, arg, total, &size);
	if (r == 0 && S_ISREG(before.st_mode) &&
	    (fstat(fd, &after) < 0 || !same_file_state(&before, &after)))
		r = m_err(-EIO, "file changed while it was hashed");
	if (r == 0)
		r = m_hash_final(h, ret);
	m_hash_free(h);
	if (r == 0 && ret_size)
		*ret_size = size;
	return r;
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
