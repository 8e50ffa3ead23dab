// SPDX-License-Identifier: MIT
/*
 * SQLite back end: one connection per handle, WAL journal (readers never
 * wait for the writer), a busy timeout instead of SQLITE_BUSY errors, and
 * synchronous=NORMAL: in WAL mode a commit is in the log file before the
 * call returns, so a killed process loses nothing; only a power cut can
 * lose the last commits (docs/server.md).  Prepared statements are cached
 * per connection, keyed by the statement text's address (they are
 * constants).
 *
 * Writers in one process take turns on a mutex: SQLite lets one writer in
 * at a time, and a connection that finds the database locked sleeps in its
 * busy handler (1, 2, 5, 10 ... ms) before it looks again, which made the
 * server's tail latency.  Waiting on the mutex hands the lock over at
 * once; the busy timeout still covers other processes (measured admin).
 * An explicit transaction (BEGIN IMMEDIATE: the write lock from the start,
 * so it cannot fail half-way on a lock) holds the mutex until it ends.
 *
 * Checkpoints (copying the WAL back into the database, with its fsyncs)
 * run after the mutex is released, not inside the commit that crossed the
 * threshold as SQLite's automatic checkpoint does: a passive checkpoint
 * lets the other writers go on, where one inside the commit held every
 * writer of the process for the length of two fsyncs.  A handle can leave
 * them to another thread altogether (m_store_defer_checkpoints(): the
 * server's request threads then never wait on a disk flush).
 *
 * One handle may serve several threads (m_store_shareable()), and for a
 * server that is better than a connection each: a connection's page cache
 * is thrown away whenever another connection has written, so with one
 * writer per thread every read went to the file again.
 */
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "measured/error.h"
#include "store_priv.h"

#define STMT_CACHE 48
#define BUSY_TIMEOUT_MS 10000
#define CHECKPOINT_FRAMES 10000
#define RESTART_WAIT_MS 100	/* run_checkpoint() */

static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool checkpoint_due;	/* the WAL of this process's database passed CHECKPOINT_FRAMES */

/* the handle whose transaction the calling thread has open, if any */
static __thread struct sq *tx_of_thread;

struct sq {
	sqlite3 *db;
	/*
	 * Threads share a handle one statement at a time; a transaction holds
	 * it from begin to commit.  Taken before write_lock, never after.
	 */
	pthread_mutex_t use;
	bool in_tx;	/* between begin and commit/rollback: use and write_lock are held */
	bool tx_failed;	/* a statement failed in it: commit rolls back (as PostgreSQL does) */
	bool defer_checkpoints;
	struct { const char *key; sqlite3_stmt *st; } cache[STMT_CACHE];
};

static sqlite3_stmt *prepare(struct sq *q, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *text;
	size_t i;

	for (i = 0; i < STMT_CACHE && q->cache[i].key; i++)
		if (q->cache[i].key == sql)
			return q->cache[i].st;
	/* $N -> ?N: the statements are written with PostgreSQL's placeholders */
	text = strdup(sql);
	if (!text)
		return NULL;
	for (char *c = text; *c; c++)
		if (*c == '$')
			*c = '?';
	if (sqlite3_prepare_v2(q->db, text, -1, &st, NULL) != SQLITE_OK) {
		m_err(-EIO, "sqlite: %s", sqlite3_errmsg(q->db));
		free(text);
		return NULL;
	}
	free(text);
	if (i < STMT_CACHE) {
		q->cache[i].key = sql;
		q->cache[i].st = st;
	}
	return st;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)arg;
	(void)db;
	(void)name;
	if (frames >= CHECKPOINT_FRAMES)
		atomic_store(&checkpoint_due, true);
	return SQLITE_OK;
}

/*
 * Called with the write mutex released; another checkpoint running (busy)
 * is as good.  The bulk is copied while writers go on (PASSIVE), but under
 * a steady load that alone never lets the WAL start again from its
 * beginning: SQLite restarts it only at a write that finds every frame
 * copied, and commits landed while the copy ran.  The WAL then grew by
 * every commit for good (5 GB in a minute of the benchmark), each write
 * going to new blocks of the file that the file system first zeroes, and
 * every page read searching a WAL index as long.  So the frames added
 * meanwhile (a few hundred) are copied again with this process's writers
 * held at the mutex, in RESTART mode, which also waits (briefly: readers
 * here run one statement) until no reader uses the WAL; the next commit
 * then writes the WAL from its start.  A writer of another process
 * holding SQLite's lock makes it give up (busy) after RESTART_WAIT_MS,
 * and the next checkpoint tries again.
 */
static int run_checkpoint(struct sq *q)
{
	int rc;

	if (!atomic_exchange(&checkpoint_due, false))
		return 0;
	rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc == SQLITE_OK) {
		pthread_mutex_lock(&write_lock);
		sqlite3_busy_timeout(q->db, RESTART_WAIT_MS);
		rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
		pthread_mutex_unlock(&write_lock);
	}
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return m_err(-EIO, "sqlite: checkpoint: %s", sqlite3_errmsg(q->db));
	return 0;
}

static int locked_checkpoint(struct sq *q)
{
	int r;

	pthread_mutex_lock(&q->use);
	r = run_checkpoint(q);
	pthread_mutex_unlock(&q->use);
	return r;
}

/* after a commit, with the handle released */
static void checkpoint(struct sq *q)
{
	if (!q->defer_checkpoints && atomic_load(&checkpoint_due))
		locked_checkpoint(q);
}

static int sq_checkpoint(struct m_store *s)
{
	return locked_checkpoint(s->conn);
}

static void sq_defer_checkpoints(struct m_store *s)
{
	((struct sq *)s->conn)->defer_checkpoints = true;
}

static bool cached(struct sq *q, sqlite3_stmt *st)
{
	for (size_t i = 0; i < STMT_CACHE && q->cache[i].key; i++)
		if (q->cache[i].st == st)
			return true;
	return false;
}

static int sq_query(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb,
		    void *arg, int64_t *ret_changes)
{
	struct sq *q = s->conn;
	bool own_tx = tx_of_thread == q;
	sqlite3_stmt *st;
	const char *vals[32];
	int64_t rows = 0;
	int r = 0, rc;
	bool writes = false;

	if (!own_tx)
		pthread_mutex_lock(&q->use);
	st = prepare(q, sql);
	if (!st) {
		r = -EIO;
		goto unlock;
	}
	writes = !sqlite3_stmt_readonly(st) && !own_tx;
	if (writes)
		pthread_mutex_lock(&write_lock);
	for (int i = 0; i < np; i++) {
		if (p[i].is_int)
			rc = sqlite3_bind_int64(st, i + 1, p[i].i);
		else if (p[i].s)
			rc = sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_STATIC);
		else
			rc = sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK) {
			r = m_err(-EIO, "sqlite: binding parameter %d: %s", i + 1, sqlite3_errmsg(q->db));
			goto out;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);

		if (n > (int)(sizeof(vals) / sizeof(vals[0]))) {
			r = m_err(-EOVERFLOW, "sqlite: %d columns (at most %zu)", n, sizeof(vals) / sizeof(vals[0]));
			goto out;
		}
		for (int i = 0; i < n; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		rows++;
		if (cb && (r = cb(n, vals, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = m_err(rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO, "sqlite: %s", sqlite3_errmsg(q->db));
		goto out;
	}
	if (ret_changes)
		*ret_changes = rows || sqlite3_stmt_readonly(st) ? rows : sqlite3_changes64(q->db);
out:
	if (r < 0 && own_tx)
		q->tx_failed = true;
	sqlite3_reset(st);	/* ends the statement's implicit transaction */
	if (writes)
		pthread_mutex_unlock(&write_lock);
	sqlite3_clear_bindings(st);
	if (!cached(q, st))
		sqlite3_finalize(st);
unlock:
	if (!own_tx) {
		pthread_mutex_unlock(&q->use);
		if (writes)
			checkpoint(q);
	}
	return r;
}

/* BEGIN and COMMIT: prepared once (prepare()), not parsed again by sqlite3_exec() with every transaction */
static int sq_exec(struct sq *q, const char *sql)
{
	sqlite3_stmt *st = prepare(q, sql);
	int r = 0;

	if (!st)
		return -EIO;
	if (sqlite3_step(st) != SQLITE_DONE)
		r = m_err(-EIO, "sqlite: %s: %s", sql, sqlite3_errmsg(q->db));
	sqlite3_reset(st);
	if (!cached(q, st))
		sqlite3_finalize(st);
	return r;
}

static int sq_begin(struct m_store *s)
{
	struct sq *q = s->conn;
	int r;

	if (tx_of_thread == q)
		return m_err(-EBUSY, "sqlite: a transaction is already open");
	pthread_mutex_lock(&q->use);	/* another thread's transaction on this handle ends first */
	pthread_mutex_lock(&write_lock);
	r = sq_exec(q, "BEGIN IMMEDIATE");
	if (r < 0) {
		pthread_mutex_unlock(&write_lock);
		pthread_mutex_unlock(&q->use);
		return r;
	}
	q->in_tx = true;
	q->tx_failed = false;
	tx_of_thread = q;
	return 0;
}

static void sq_end(struct sq *q)
{
	q->in_tx = false;
	tx_of_thread = NULL;
	pthread_mutex_unlock(&write_lock);
	pthread_mutex_unlock(&q->use);
	checkpoint(q);
}

static void sq_rollback(struct m_store *s)
{
	struct sq *q = s->conn;

	if (tx_of_thread != q)
		return;
	if (!sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	sq_end(q);
}

static int sq_commit(struct m_store *s)
{
	struct sq *q = s->conn;
	int r;

	if (tx_of_thread != q)
		return m_err(-EINVAL, "sqlite: no transaction to commit");
	if (q->tx_failed) {
		sq_rollback(s);
		return m_err(-EIO, "sqlite: a statement of the transaction failed: rolled back");
	}
	r = sq_exec(q, "COMMIT");
	if (r < 0) {
		sq_rollback(s);
		return r;
	}
	sq_end(q);
	return 0;
}

static void sq_close(struct m_store *s)
{
	struct sq *q = s->conn;

	if (!q)
		return;
	sq_rollback(s);
	for (size_t i = 0; i < STMT_CACHE && q->cache[i].key; i++)
		sqlite3_finalize(q->cache[i].st);
	sqlite3_close(q->db);
	pthread_mutex_destroy(&q->use);
	free(q);
}

static const struct m_store_ops sqlite_ops = {
	.kind = "sqlite",
	.shareable = true,
	.query = sq_query,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.checkpoint = sq_checkpoint,
	.defer_checkpoints = sq_defer_checkpoints,
	.close = sq_close,
};

/*
 * The database holds the nonce key and the payloads: created 0600 whatever
 * the umask (SQLite gives its -wal and -shm files the database's mode), and
 * a file that others may read or write is refused unless @allow_shared.
 */
static int file_private(const char *path, bool allow_shared)
{
	struct stat st;
	int fd;

	/*
	 * Never open() and close() a database this process may hold open: a
	 * close drops every POSIX lock the process has on the file, SQLite's
	 * included.  Created here only when it does not exist yet.
	 */
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			return m_err(-errno, "sqlite: %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (lstat(path, &st) < 0)
		return m_err(-errno, "sqlite: %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return m_err(-EINVAL, "sqlite: %s: not a regular file", path);
	if ((st.st_mode & 077) && !allow_shared)
		return m_err(-EACCES, "sqlite: %s: mode %04o lets others read the nonce key and payloads"
			     " (chmod 600 it, or allow it explicitly)", path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int m_store_sqlite_open(const char *path, unsigned flags, struct m_store **ret)
{
	struct m_store *s;
	struct sq *q;
	char *msg = NULL;
	int r;

	if ((r = file_private(path, flags & M_STORE_OPEN_SHARED_FILE)) < 0)
		return r;
	s = calloc(1, sizeof(*s));
	q = calloc(1, sizeof(*q));
	if (!s || !q) {
		free(s);
		free(q);
		return -ENOMEM;
	}
	pthread_mutex_init(&q->use, NULL);
	s->ops = &sqlite_ops;
	s->conn = q;
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		m_err(-EIO, "sqlite: %s: %s", path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	sqlite3_wal_hook(q->db, wal_hook, q);	/* replaces the automatic checkpoint */
	if (sqlite3_exec(q->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		m_err(-EIO, "sqlite: %s: %s", path, msg ? msg : "PRAGMA failed");
		sqlite3_free(msg);
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	sq_close(s);
	free(s);
	return -EIO;
}
