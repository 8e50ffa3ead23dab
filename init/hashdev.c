// SPDX-License-Identifier: MIT
/*
 * Hashing the root device in every bank at once: one thread per online CPU
 * (at most one per bank), the banks dealt out between them, each thread
 * pread()ing the same byte ranges into its own buffer, as lib/digest_fd.c
 * does for `measured hash` (see there for why private buffers beat a
 * shared ring).  The device is still read once: the threads are held
 * within WINDOW bytes of each other, so the slower ones find in the page
 * cache what the fastest brought in, and a root larger than RAM is not
 * pulled in twice.  With one CPU there is one thread and no locking.
 *
 * Pages every thread has hashed are dropped from the page cache as the
 * slowest thread passes them (POSIX_FADV_DONTNEED): a root larger than RAM
 * does not push everything else out, and the mount does not find the
 * whole device in the cache to drop (which it does when it sets its block
 * size, as the last close would: 0.2 s for 256 MiB under TCG, after the
 * hash and before the handover).
 *
 * The device was set read-only (BLKROSET) before this runs, and its size
 * is taken once: every bank covers exactly those bytes, or it is an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "hash.h"
#include "init.h"
#include "measured/error.h"

#define CHUNK (256u << 10)
#define WINDOW (64ull << 20)
#define PUBLISH (1u << 20)
#define DROP (8u << 20)		/* release the cache in steps of this */

struct lockstep {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	uint64_t pos[M_BANK_COUNT];
	unsigned n, finished;
	bool stop;
	int fd;
	uint64_t size;
	uint64_t dropped;	/* worker 0's release point, once it has finished */
};

struct worker {
	struct lockstep *ls;
	unsigned idx;
	unsigned banks;
	int err;
	char msg[200];		/* m_err() messages are per thread */
	struct m_digests d;
};

static uint64_t slowest(const struct lockstep *ls)
{
	uint64_t m = UINT64_MAX;

	for (unsigned i = 0; i < ls->n; i++)
		if (ls->pos[i] < m)
			m = ls->pos[i];
	return m;
}

/* Publish our position; the leader waits for the slowest to come within
 * half a window.  False: another worker failed, stop.  @ret_slowest: the
 * offset every thread has passed. */
static bool keep_step(struct lockstep *ls, unsigned idx, uint64_t off, uint64_t *ret_slowest)
{
	bool go;

	pthread_mutex_lock(&ls->lock);
	ls->pos[idx] = off;
	pthread_cond_broadcast(&ls->moved);
	if (off - slowest(ls) >= WINDOW)
		while (!ls->stop && off - slowest(ls) > WINDOW / 2)
			pthread_cond_wait(&ls->moved, &ls->lock);
	go = !ls->stop;
	*ret_slowest = slowest(ls);
	pthread_mutex_unlock(&ls->lock);
	return go;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lockstep *ls = w->ls;
	uint8_t *buf = malloc(CHUNK);
	struct ih_ctx *h = ih_new(w->banks);
	uint64_t off = 0, published = 0, passed = 0, dropped = 0;

	if (!buf || !h) {
		w->err = -ENOMEM;
		snprintf(w->msg, sizeof(w->msg), "out of memory");
		goto out;
	}
	while (off < ls->size) {
		size_t want = ls->size - off < CHUNK ? (size_t)(ls->size - off) : CHUNK;
		ssize_t n;

		if (off == 0 || off - published >= PUBLISH) {
			published = off;
			if (ls->n == 1)
				passed = off;
			else if (!keep_step(ls, w->idx, off, &passed))
				break;
			/* worker 0 releases what every thread has hashed (a
			 * finished one counts as UINT64_MAX) */
			if (w->idx == 0 && passed > off)
				passed = off;
			if (w->idx == 0 && passed - dropped >= DROP) {
				posix_fadvise(ls->fd, (off_t)dropped, (off_t)(passed - dropped), POSIX_FADV_DONTNEED);
				dropped = passed;
			}
		}
		n = pread(ls->fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			snprintf(w->msg, sizeof(w->msg), "read at byte %llu of %llu: %s", (unsigned long long)off,
				 (unsigned long long)ls->size, n < 0 ? strerror(errno) : "unexpected end");
			break;
		}
		ih_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
out:
	if (h)
		ih_final(h, &w->d);
	free(buf);
	pthread_mutex_lock(&ls->lock);
	ls->pos[w->idx] = UINT64_MAX;	/* finished or failed: hold nobody back */
	if (w->err || off != ls->size)
		ls->stop = true;
	if (w->idx == 0)
		ls->dropped = dropped;
	/* the last one out releases the tail that every thread has now hashed */
	if (++ls->finished == ls->n && ls->size > ls->dropped)
		posix_fadvise(ls->fd, (off_t)ls->dropped, (off_t)(ls->size - ls->dropped), POSIX_FADV_DONTNEED);
	pthread_cond_broadcast(&ls->moved);
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

/* The CPUs this process may run on (what the threads can use). */
static long cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set);
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

int hash_device(const char *dev, unsigned banks, struct m_digests *ret, uint64_t *ret_size, double *ret_secs,
		unsigned *ret_threads)
{
	struct lockstep ls = { .lock = PTHREAD_MUTEX_INITIALIZER, .moved = PTHREAD_COND_INITIALIZER };
	struct worker w[M_BANK_COUNT];
	pthread_t tid[M_BANK_COUNT];
	struct timespec t0, t1;
	struct m_digests out = { 0 };
	unsigned started = 1, nb = 0;
	long ncpu;
	int err = 0;

	ls.fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (ls.fd < 0)
		return m_err(-errno, "%s: %m", dev);
	if (ioctl(ls.fd, BLKGETSIZE64, &ls.size) < 0) {
		err = m_err(-errno, "%s: BLKGETSIZE64: %m", dev);
		goto out;
	}
	if (ls.size == 0) {
		err = m_err(-ENODATA, "%s: empty device; refusing to measure nothing", dev);
		goto out;
	}
	if (!(banks & IH_BANKS)) {
		err = m_err(-EINVAL, "no bank to hash");
		goto out;
	}
	ncpu = cpus();
	for_each_bank(b, banks & IH_BANKS) {
		if (ls.n == 0 || (ls.n < M_BANK_COUNT && (long)ls.n < ncpu)) {
			w[ls.n] = (struct worker){ .ls = &ls, .idx = ls.n };
			ls.n++;
		}
		w[nb++ % ls.n].banks |= M_BANK_BIT(b);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* worker 0 runs here; a thread that cannot start is an error, not a
	 * silently missing bank */
	for (; started < ls.n; started++)
		if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
			pthread_mutex_lock(&ls.lock);
			ls.stop = true;
			pthread_mutex_unlock(&ls.lock);
			err = m_err(-EAGAIN, "%s: cannot start a hashing thread", dev);
			break;
		}
	if (err == 0)
		worker_main(&w[0]);
	for (unsigned i = 1; i < started; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (unsigned i = 0; err == 0 && i < ls.n; i++)
		if (w[i].err)
			err = m_err(w[i].err, "%s: %s", dev, w[i].msg);
	if (err == 0 && ls.stop)
		err = m_err(-EIO, "%s: a hashing thread stopped early", dev);
	if (err < 0)
		goto out;
	out.banks = banks & IH_BANKS;
	for (unsigned i = 0; i < ls.n; i++)
		for_each_bank(b, w[i].banks)
			memcpy(out.d[b], w[i].d.d[b], mi_bank_size(b));
	*ret = out;
	*ret_size = ls.size;
	*ret_secs = elapsed(&t0, &t1);
	*ret_threads = ls.n;
out:
	close(ls.fd);
	return err;
}
