// SPDX-License-Identifier: MIT
/*
 * The lock-step multi-bank hasher (include/measured/measure.h): the one
 * implementation behind `measured hash` / `predict` (lib/digest_fd.c, EVP
 * backend) and measured-init (init/hashdev.c, low-level SHA backend).
 *
 * Each thread owns some banks, a backend context and a private buffer,
 * and pread()s the same ranges as the others.  Positions are published
 * every PUBLISH bytes; the leader waits while it is more than WINDOW ahead
 * of the slowest until the gap is down to half a window.  With
 * drop_cache, thread 0 releases what every thread has passed, and the
 * last thread out releases the tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "measured/error.h"
#include "measured/measure.h"

#define DEFAULT_CHUNK (256u << 10)
#define WINDOW (64ull << 20)
#define PUBLISH (1u << 20)
#define DROP (8u << 20)

struct lockstep {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	uint64_t pos[M_BANK_COUNT];
	unsigned n, finished;
	bool stop;
	int fd;
	const struct m_hash_backend *be;
	const struct m_lockstep_opts *o;
	size_t chunk;
	uint64_t dropped;	/* thread 0's release point, once it has finished */
};

struct worker {
	struct lockstep *ls;
	unsigned idx;
	unsigned banks;
	int err;
	char msg[256];		/* m_err() messages are per thread: carried back here */
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

/* Publish @off; false when another thread failed.  @ret_passed: the
 * offset every thread has passed (a finished one counts as UINT64_MAX). */
static bool keep_step(struct lockstep *ls, unsigned idx, uint64_t off, uint64_t *ret_passed)
{
	bool go;

	if (ls->n == 1) {
		*ret_passed = off;
		return true;
	}
	pthread_mutex_lock(&ls->lock);
	ls->pos[idx] = off;
	pthread_cond_broadcast(&ls->moved);
	if (off - slowest(ls) >= WINDOW)
		while (!ls->stop && off - slowest(ls) > WINDOW / 2)
			pthread_cond_wait(&ls->moved, &ls->lock);
	go = !ls->stop;
	*ret_passed = slowest(ls);
	pthread_mutex_unlock(&ls->lock);
	return go;
}

static void fail(struct worker *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct worker *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	w->err = err;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lockstep *ls = w->ls;
	const struct m_lockstep_opts *o = ls->o;
	uint8_t *buf = malloc(ls->chunk);
	void *h = ls->be->new(w->banks);
	uint64_t off = 0, published = 0, passed = 0, dropped = 0;

	if (!buf || !h) {
		fail(w, -ENOMEM, "out of memory for a hashing thread");
		goto out;
	}
	while (off < o->size) {
		size_t want = o->size - off < ls->chunk ? (size_t)(o->size - off) : ls->chunk;
		ssize_t n;
		int r;

		if (off == 0 || off - published >= PUBLISH) {
			published = off;
			if (!keep_step(ls, w->idx, off, &passed))
				break;
			if (w->idx == 0 && o->drop_cache) {
				if (passed > off)
					passed = off;
				if (passed - dropped >= DROP) {
					posix_fadvise(ls->fd, (off_t)dropped, (off_t)(passed - dropped),
						      POSIX_FADV_DONTNEED);
					dropped = passed;
				}
			}
		}
		n = pread(ls->fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(w, n < 0 ? -errno : -EIO, "read at byte %llu of %llu: %s", (unsigned long long)off,
			     (unsigned long long)o->size, n < 0 ? strerror(errno) : "unexpected end (input shrank?)");
			break;
		}
		r = ls->be->update(h, buf, (size_t)n);
		if (r < 0) {
			fail(w, r, "hashing: %s", m_errmsg(r));
			break;
		}
		off += (uint64_t)n;
		if (w->idx == 0 && o->progress)
			o->progress(off, o->size, o->arg);
	}
	if (h) {
		int r = 0;

		if (!w->err && off == o->size)
			r = ls->be->final(h, &w->d);
		else
			ls->be->release(h);
		if (r < 0)
			fail(w, r, "hashing: %s", m_errmsg(r));
	}
out:
	free(buf);
	pthread_mutex_lock(&ls->lock);
	ls->pos[w->idx] = UINT64_MAX;	/* finished or failed: hold nobody back */
	if (w->err || off != o->size)
		ls->stop = true;
	if (w->idx == 0)
		ls->dropped = dropped;
	if (++ls->finished == ls->n && o->drop_cache && o->size > ls->dropped)
		posix_fadvise(ls->fd, (off_t)ls->dropped, (off_t)(o->size - ls->dropped), POSIX_FADV_DONTNEED);
	pthread_cond_broadcast(&ls->moved);
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

int m_lockstep_hash(int fd, const struct m_hash_backend *be, const struct m_lockstep_opts *o,
		    struct m_digests *ret, unsigned *ret_threads)
{
	struct lockstep ls = { .fd = fd, .be = be, .o = o };
	struct worker w[M_BANK_COUNT];
	pthread_t tid[M_BANK_COUNT];
	struct m_digests out = { 0 };
	unsigned started = 1, nb = 0, max = o->max_threads ? o->max_threads : M_BANK_COUNT;
	int err = 0;

	if (!o->banks)
		return m_err(-EINVAL, "no bank to hash");
	if (o->banks & ~be->banks) {
		char list[64];

		m_bank_list_format(o->banks & ~be->banks, list, sizeof(list));
		return m_err(-EOPNOTSUPP, "cannot hash bank(s) %s here", list);
	}
	ls.chunk = o->chunk ? o->chunk : DEFAULT_CHUNK;
	pthread_mutex_init(&ls.lock, NULL);
	pthread_cond_init(&ls.moved, NULL);
	/* deal the banks round-robin over min(banks, max) threads */
	for_each_bank(b, o->banks) {
		if (ls.n == 0 || ls.n < max) {
			w[ls.n] = (struct worker){ .ls = &ls, .idx = ls.n };
			ls.n++;
		}
		w[nb++ % ls.n].banks |= M_BANK_BIT(b);
	}
	/* thread 0 runs in the caller; a thread that cannot start is an
	 * error, never a silently missing bank */
	for (; started < ls.n; started++)
		if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
			pthread_mutex_lock(&ls.lock);
			ls.stop = true;
			pthread_mutex_unlock(&ls.lock);
			err = m_err(-EAGAIN, "cannot start a hashing thread");
			break;
		}
	if (err == 0)
		worker_main(&w[0]);
	for (unsigned i = 1; i < started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; err == 0 && i < ls.n; i++)
		if (w[i].err)
			err = m_err(w[i].err, "%s", w[i].msg);
	if (err == 0 && ls.stop)
		err = m_err(-EIO, "a hashing thread stopped early");
	pthread_cond_destroy(&ls.moved);
	pthread_mutex_destroy(&ls.lock);
	if (err < 0)
		return err;
	out.banks = o->banks;
	for (unsigned i = 0; i < ls.n; i++)
		for_each_bank(b, w[i].banks)
			memcpy(out.d[b], w[i].d.d[b], m_bank_info(b)->size);
	*ret = out;
	if (ret_threads)
		*ret_threads = ls.n;
	return 0;
}
