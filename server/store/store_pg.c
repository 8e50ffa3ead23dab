// SPDX-License-Identifier: MIT
/*
 * PostgreSQL back end (libpq): one connection per handle.  Parameters go as
 * text and the server infers their types from the statement; results come
 * back as text, the same as SQLite's.  Every statement runs in its own
 * implicit transaction unless begin() opened one, and the single-use and
 * enrolment races are settled by the statements themselves (INSERT ... ON
 * CONFLICT, DELETE ... RETURNING), so any number of verifier processes may
 * share the database.
 *
 * A lost connection (the server restarted, a failover moved the primary) is
 * established again before the next statement, through the conninfo's host
 * list (target_session_attrs=read-write finds the new primary).  Only a
 * SELECT that finds the connection lost is run again at once on the new
 * one: a write whose answer was lost may have been committed, so it is
 * reported (-EIO: the request is answered 503, retryable), never repeated.
 *
 * BEGIN is not a round trip of its own: begin() only notes it, and it is
 * sent with the transaction's first statement in one pipeline (libpq's
 * pipeline mode, one Sync), so the statement runs inside the transaction
 * as before and an attestation's transaction costs one exchange fewer
 * (PostgreSQL's CPU per attestation is mostly per exchange).  A BEGIN that
 * was never answered (a connection lost since the last statement) began
 * nothing, so the pair is sent again once on a new connection.  Likewise
 * a transaction's last statement may go with its COMMIT
 * (m_store_audit_commit(): pg_query_commit()), and a write inside a
 * transaction whose only answer is success may wait for the next
 * statement or the COMMIT and go in the same pipeline
 * (m_store_query_later(): pg_query_later()).  An error of such a write
 * aborts the transaction as it would have at once: the statement it went
 * with answers that error, and nothing of the transaction is committed.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "measured/error.h"
#include "store_priv.h"

#define PG_MAX_PARAMS 16
#define PG_STMT_CACHE 48	/* distinct statements with parameters in store.c, and room */

/*
 * Statements with parameters are prepared once per connection and executed
 * by name: PostgreSQL then parses and plans each of them once instead of on
 * every call, which is most of its CPU time for these single-row
 * statements.  The cache is keyed by the statement text's address (they
 * are constants in store.c) and forgotten when the connection is
 * re-established, since prepared statements die with it.
 *
 * A statement's name is "m" and a 64-bit FNV-1a hash of its text, so one
 * name means one text in every verifier.  That matters behind a pooler in
 * transaction mode (pgbouncer before 1.21, or later ones without
 * max_prepared_statements), which hands each transaction whichever server
 * connection is free: a name there may have been prepared by another
 * client, and a name by position (m0, m1, ...) would run another
 * statement.  There, a statement is also missing on the next server
 * connection (26000), or already there (42P05): the connection then runs
 * every statement unnamed (parse, bind and execute in one round trip,
 * which any pooling mode passes through) from then on; the statement that
 * found out is run again unnamed if it ran alone, else its transaction
 * fails (-EIO, retryable).  MEASURED_PG_PREPARE=off in the verifier's
 * environment starts so.
 */
#define PG_NAME_LEN 24
#define PG_LATER_MAX 4		/* writes waiting for the transaction's next exchange */

/* a write sent with the transaction's next statement (pg_query_later()) */
struct pg_later {
	const char *sql;
	int np;
	char *val[PG_MAX_PARAMS];	/* copies; NULL for SQL NULL */
};

struct pgc {
	PGconn *c;
	bool no_prepare;	/* statements unnamed (a transaction-mode pooler) */
	bool begin_due;		/* begin() was called: BEGIN goes with the next statement */
	const char *key[PG_STMT_CACHE];
	char name[PG_STMT_CACHE][PG_NAME_LEN];
	size_t n;
	struct pg_later later[PG_LATER_MAX];
	size_t nlater;
};

/* the prepared statement's name for @sql, or NULL: run it unnamed */
static const char *prepared(struct pgc *q, const char *sql, int np)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a, 64 bits */
	PGresult *res;
	const char *state;
	bool ok;
	size_t i;

	if (np == 0 || q->no_prepare)
		return NULL;	/* schema and listing statements: rare, run as they are */
	for (i = 0; i < q->n; i++)
		if (q->key[i] == sql)
			return q->name[i];
	if (q->n == PG_STMT_CACHE)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	snprintf(q->name[q->n], PG_NAME_LEN, "m%016" PRIx64, h);
	res = PQprepare(q->c, q->name[q->n], sql, np, NULL);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	/*
	 * 42P05 duplicate_prepared_statement: a new session never has it, so
	 * this is a pooled server connection another client prepared it on
	 * (the same text): a transaction-mode pooler, found out.
	 */
	if (state && !strcmp(state, "42P05"))
		q->no_prepare = true;
	PQclear(res);
	if (!ok)
		return NULL;	/* the unnamed run reports the error */
	q->key[q->n] = sql;
	return q->name[q->n++];
}

/*
 * Before a statement, and after an error: a broken connection is
 * re-established.  An idle connection the server has closed since its last
 * statement (a restart, a failover, idle_session_timeout) still reads as
 * OK until libpq reads the close: its socket is then readable, and
 * consuming that input (the server's last message, then the end of the
 * stream) marks it bad.  Found so before anything is sent, a
 * write is run on the new connection safely (it cannot have run twice).
 */
static void reset_if_broken(struct pgc *q)
{
	/* a server that ends a session first sends why (FATAL 57P01 ...), then closes: read both */
	for (int i = 0; i < 4 && PQstatus(q->c) == CONNECTION_OK && PQtransactionStatus(q->c) == PQTRANS_IDLE; i++) {
		struct pollfd pfd = { .fd = PQsocket(q->c), .events = POLLIN };

		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0 || !PQconsumeInput(q->c))
			break;
	}
	if (PQstatus(q->c) == CONNECTION_BAD) {
		PQreset(q->c);
		q->n = 0;	/* its prepared statements died with it */
	}
}

/* parameters as text */
static void texts(const struct m_sqlp *p, int np, const char **vals, char ints[][24])
{
	for (int i = 0; i < np; i++) {
		if (p[i].is_int) {
			snprintf(ints[i], 24, "%" PRId64, p[i].i);
			vals[i] = ints[i];
		} else {
			vals[i] = p[i].s;
		}
	}
}

static void later_drop(struct pgc *q)
{
	for (size_t i = 0; i < q->nlater; i++)
		for (int j = 0; j < q->later[i].np; j++)
			free(q->later[i].val[j]);
	q->nlater = 0;
}

/* the waiting writes' statement names (before pipeline mode: preparing is an exchange of its own) */
static void later_prepare(struct pgc *q, const char **names)
{
	for (size_t i = 0; i < q->nlater; i++)
		names[i] = prepared(q, q->later[i].sql, q->later[i].np);
}

/* in pipeline mode: the waiting writes, queued; 0 or -1 */
static int later_send(struct pgc *q, const char *const *names)
{
	for (size_t i = 0; i < q->nlater; i++) {
		const struct pg_later *l = &q->later[i];
		const char *const *v = (const char *const *)l->val;

		if ((names[i] ? PQsendQueryPrepared(q->c, names[i], l->np, v, NULL, NULL, 0)
			      : PQsendQueryParams(q->c, l->sql, l->np, NULL, v, NULL, NULL, 0)) != 1)
			return -1;
	}
	return 0;
}

/*
 * In pipeline mode, after later_send(): the waiting writes' results, read
 * and dropped.  The first that failed is returned (the caller clears it);
 * NULL if none did.  *ret_lost: the connection gave no answer.
 */
static PGresult *later_results(struct pgc *q, bool *ret_lost)
{
	PGresult *res, *failed = NULL;

	*ret_lost = false;
	for (size_t i = 0; i < q->nlater; i++) {
		bool answered = false;

		while ((res = PQgetResult(q->c))) {
			ExecStatusType st = PQresultStatus(res);

			answered = true;
			if (!failed && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED)
				failed = res;
			else
				PQclear(res);
		}
		if (!answered)
			*ret_lost = true;
	}
	later_drop(q);
	return failed;
}

/*
 * The waiting writes and one statement in one pipeline: the first failing
 * write's result, else the statement's, NULL when nothing came back.
 */
static PGresult *exec_after_later(struct pgc *q, const char *stmt, const char *sql, int np, const char *const *vals)
{
	const char *names[PG_LATER_MAX];
	PGconn *c = q->c;
	PGresult *res, *out = NULL;
	bool lost;

	later_prepare(q, names);
	if (PQenterPipelineMode(c) != 1)
		return NULL;
	if (later_send(q, names) < 0 ||
	    (stmt ? PQsendQueryPrepared(c, stmt, np, vals, NULL, NULL, 0)
		  : PQsendQueryParams(c, sql, np, NULL, vals, NULL, NULL, 0)) != 1 ||
	    PQpipelineSync(c) != 1) {
		later_drop(q);
		PQexitPipelineMode(c);
		return NULL;
	}
	out = later_results(q, &lost);
	/* the statement's results (skipped, PGRES_PIPELINE_ABORTED, after a failed write), then the Sync's */
	while ((res = PQgetResult(c))) {
		if (!out)
			out = res;
		else
			PQclear(res);
	}
	if ((res = PQgetResult(c)))
		PQclear(res);	/* the Sync */
	PQexitPipelineMode(c);	/* fails only on a lost connection, which PQreset() ends */
	return out;
}

/*
 * BEGIN and one statement in one pipeline: the statement's result (or
 * BEGIN's error), or NULL when nothing came back.  *ret_unanswered: BEGIN
 * got no answer from the server, so nothing began.
 */
static PGresult *exec_with_begin(PGconn *c, const char *stmt, const char *sql, int np, const char *const *vals,
				 bool *ret_unanswered)
{
	PGresult *res, *out = NULL;
	int step = 0;	/* 0: BEGIN's results, 1: the statement's, 2: past them */

	*ret_unanswered = false;
	if (PQenterPipelineMode(c) != 1)
		return NULL;
	if (PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1 ||
	    (stmt ? PQsendQueryPrepared(c, stmt, np, vals, NULL, NULL, 0)
		  : PQsendQueryParams(c, sql, np, NULL, vals, NULL, NULL, 0)) != 1 ||
	    PQpipelineSync(c) != 1) {
		*ret_unanswered = true;
		PQexitPipelineMode(c);
		return NULL;
	}
	/* each query's results end with a NULL; the Sync's result ends the pipeline */
	while (step < 3) {
		res = PQgetResult(c);
		if (!res) {
			if (PQstatus(c) == CONNECTION_BAD && step < 2)
				break;
			step++;
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (step == 0 && PQresultStatus(res) != PGRES_COMMAND_OK && !out) {
			*ret_unanswered = !PQresultErrorField(res, PG_DIAG_SQLSTATE);
			out = res;	/* BEGIN failed: its error is the answer */
		} else if (step == 1 && !out) {
			out = res;
		} else {
			PQclear(res);
		}
	}
	if (!out)
		*ret_unanswered = true;
	PQexitPipelineMode(c);	/* fails only on a lost connection, which PQreset() ends */
	return out;
}

static int pg_query(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb,
		    void *arg, int64_t *ret_changes)
{
	struct pgc *q = s->conn;
	PGconn *c = q->c;
	const char *vals[PG_MAX_PARAMS], *stmt;
	char ints[PG_MAX_PARAMS][24];
	const char *row[32];
	PGresult *res;
	ExecStatusType st;
	bool alone, with_begin, reads = !strncmp(sql, "SELECT ", 7);
	int r = 0, nrow, ncol;

	if (np > PG_MAX_PARAMS)
		return m_err(-EINVAL, "postgresql: %d parameters", np);
	/* a connection lost earlier is tried again first: the server is served again once it is back */
	reset_if_broken(q);
	texts(p, np, vals, ints);
	/* a read outside a transaction that finds the connection lost is run once more on a new one */
	with_begin = q->begin_due;
	q->begin_due = false;
	alone = !with_begin && PQtransactionStatus(c) == PQTRANS_IDLE;
	for (int attempt = 0;; attempt++) {
		bool unanswered = false;

		stmt = prepared(q, sql, np);
		if (with_begin)
			res = exec_with_begin(c, stmt, sql, np, vals, &unanswered);
		else if (q->nlater)
			res = exec_after_later(q, stmt, sql, np, vals);
		else
			res = stmt ? PQexecPrepared(c, stmt, np, vals, NULL, NULL, 0)
				   : PQexecParams(c, sql, np, NULL, vals, NULL, NULL, 0);
		st = PQresultStatus(res);
		if (with_begin && unanswered && attempt == 0) {
			/* nothing began: begin on a new connection (as a BEGIN of its own did) */
			PQclear(res);
			PQreset(c);
			q->n = 0;	/* its prepared statements died with it */
			if (PQstatus(c) == CONNECTION_OK)
				continue;
			res = NULL;
			st = PGRES_FATAL_ERROR;
		}
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			break;
		/* 26000 invalid_sql_statement_name: a transaction-mode pooler (above); nothing ran */
		if (stmt && PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
		    !strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "26000")) {
			q->no_prepare = true;
			if (alone && attempt == 0) {
				PQclear(res);
				continue;
			}
		}
		/*
		 * No SQLSTATE: the server never answered (libpq may still call the
		 * connection OK after "server closed the connection unexpectedly").
		 */
		if (alone && reads && attempt == 0 &&
		    (PQstatus(c) == CONNECTION_BAD || !PQresultErrorField(res, PG_DIAG_SQLSTATE))) {
			PQclear(res);
			PQreset(c);
			q->n = 0;	/* its prepared statements died with it */
			if (PQstatus(c) == CONNECTION_OK)
				continue;
			res = NULL;
		}
		{
			const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
			const char *msg = res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
									     : PQerrorMessage(c);

			/* 23505 unique_violation; 22012 division_by_zero, m_store_pass_settle_many()'s "not settled" */
			r = m_err(state && !strcmp(state, "23505")   ? -EEXIST
				  : state && !strcmp(state, "22012") ? -EDOM
								     : -EIO,
				  "postgresql: %s", msg);
		}
		reset_if_broken(q);
		goto out;
	}
	nrow = PQntuples(res);
	ncol = PQnfields(res);
	if (ncol > (int)(sizeof(row) / sizeof(row[0]))) {
		r = m_err(-EOVERFLOW, "postgresql: %d columns (at most %zu)", ncol, sizeof(row) / sizeof(row[0]));
		goto out;
	}
	for (int i = 0; i < nrow && cb; i++) {
		for (int j = 0; j < ncol; j++)
			row[j] = PQgetisnull(res, i, j) ? NULL : PQgetvalue(res, i, j);
		r = cb(ncol, row, arg);
		if (r)
			goto out;
	}
	if (ret_changes) {
		const char *t = PQcmdTuples(res);

		*ret_changes = nrow ? nrow : (t && *t ? strtoll(t, NULL, 10) : 0);
	}
out:
	PQclear(res);
	return r;
}

static int pg_exec(struct m_store *s, const char *sql)
{
	struct pgc *q = s->conn;
	PGresult *res = PQexec(q->c, sql);
	int r = 0;

	/* a COMMIT of a transaction that failed answers ROLLBACK: not a commit */
	if (PQresultStatus(res) != PGRES_COMMAND_OK || !strcmp(PQcmdStatus(res), "ROLLBACK"))
		r = m_err(-EIO, "postgresql: %s: %s", sql,
			  PQresultStatus(res) == PGRES_COMMAND_OK ? "the transaction was rolled back"
								  : PQresultErrorMessage(res));
	PQclear(res);
	if (r < 0)
		reset_if_broken(q);
	return r;
}

static int pg_begin(struct m_store *s)
{
	struct pgc *q = s->conn;

	reset_if_broken(q);
	if (q->begin_due || PQtransactionStatus(q->c) != PQTRANS_IDLE)
		return m_err(-EBUSY, "postgresql: a transaction is already open");
	q->begin_due = true;	/* sent with the first statement (above) */
	return 0;
}

static void pg_rollback(struct m_store *s)
{
	struct pgc *q = s->conn;

	/* quietly: the error that led here is the one to report */
	q->begin_due = false;
	later_drop(q);
	if (PQtransactionStatus(q->c) != PQTRANS_IDLE)
		PQclear(PQexec(q->c, "ROLLBACK"));
}

static int pg_query_commit(struct m_store *s, const char *sql, const struct m_sqlp *p, int np);

static int pg_commit(struct m_store *s)
{
	struct pgc *q = s->conn;
	int r;

	if (q->begin_due) {
		q->begin_due = false;	/* no statement ran: nothing to commit */
		return 0;
	}
	if (PQtransactionStatus(q->c) == PQTRANS_IDLE)
		return m_err(-EINVAL, "postgresql: no transaction to commit");
	if (q->nlater)
		return pg_query_commit(s, NULL, NULL, 0);	/* the waiting writes, then COMMIT */
	r = pg_exec(s, "COMMIT");
	if (r < 0)
		pg_rollback(s);
	return r;
}

/*
 * The transaction's last statement (a write whose only answer is success;
 * none if @sql is NULL), after the writes waiting for it, and COMMIT in
 * one pipeline: one exchange.  A statement failing aborts the transaction,
 * and the COMMIT then answers ROLLBACK: nothing of it is committed either
 * way.
 */
static int pg_query_commit(struct m_store *s, const char *sql, const struct m_sqlp *p, int np)
{
	struct pgc *q = s->conn;
	PGconn *c = q->c;
	const char *vals[PG_MAX_PARAMS], *stmt = NULL, *names[PG_LATER_MAX];
	char ints[PG_MAX_PARAMS][24];
	PGresult *res;
	bool lost;
	int r = 0;

	if (np > PG_MAX_PARAMS)
		return m_err(-EINVAL, "postgresql: %d parameters", np);
	if (q->begin_due) {
		/* nothing ran yet (so nothing waits): the statement takes BEGIN along (pg_query()), COMMIT follows */
		r = sql ? pg_query(s, sql, p, np, NULL, NULL, NULL) : 0;
		return r < 0 ? r : pg_commit(s);
	}
	if (PQtransactionStatus(c) == PQTRANS_IDLE)
		return m_err(-EINVAL, "postgresql: no transaction to commit");
	if (sql) {
		texts(p, np, vals, ints);
		stmt = prepared(q, sql, np);
	}
	later_prepare(q, names);
	if (PQenterPipelineMode(c) != 1 || later_send(q, names) < 0 ||
	    (sql && (stmt ? PQsendQueryPrepared(c, stmt, np, vals, NULL, NULL, 0)
			  : PQsendQueryParams(c, sql, np, NULL, vals, NULL, NULL, 0)) != 1) ||
	    PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1 || PQpipelineSync(c) != 1) {
		later_drop(q);
		r = m_err(-EIO, "postgresql: %s", PQerrorMessage(c));
		goto out;
	}
	/* the waiting writes' results; the first error is the answer */
	if ((res = later_results(q, &lost))) {
		r = m_err(-EIO, "postgresql: %s", *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
									  : PQerrorMessage(c));
		PQclear(res);
	} else if (lost) {
		r = m_err(-EIO, "postgresql: no answer: %s", PQerrorMessage(c));
	}
	/* the statement's results, a NULL, COMMIT's, a NULL, then the Sync's */
	for (int k = sql ? 0 : 1; k < 2; k++) {
		bool answered = false;

		while ((res = PQgetResult(c))) {
			ExecStatusType st = PQresultStatus(res);

			answered = true;
			/* 26000: a transaction-mode pooler (above); unnamed from now on */
			if (k == 0 && PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
			    !strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "26000"))
				q->no_prepare = true;
			if (r == 0 && st != PGRES_COMMAND_OK)
				r = m_err(-EIO, "postgresql: %s", *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
											  : PQerrorMessage(c));
			else if (r == 0 && k == 1 && !strcmp(PQcmdStatus(res), "ROLLBACK"))
				r = m_err(-EIO, "postgresql: COMMIT: the transaction was rolled back");
			PQclear(res);
		}
		if (!answered && r == 0)
			r = m_err(-EIO, "postgresql: no answer: %s", PQerrorMessage(c));
	}
	if ((res = PQgetResult(c)))
		PQclear(res);	/* the Sync */
out:
	PQexitPipelineMode(c);
	if (r < 0) {
		reset_if_broken(q);
		pg_rollback(s);
	}
	return r;
}

/*
 * Inside a transaction that began (a statement ran): @sql waits, copied,
 * for the transaction's next exchange.  Otherwise, or with PG_LATER_MAX
 * waiting, it runs now.
 */
static int pg_query_later(struct m_store *s, const char *sql, const struct m_sqlp *p, int np)
{
	struct pgc *q = s->conn;
	struct pg_later *l;
	const char *vals[PG_MAX_PARAMS];
	char ints[PG_MAX_PARAMS][24];

	if (np > PG_MAX_PARAMS)
		return m_err(-EINVAL, "postgresql: %d parameters", np);
	if (q->begin_due || PQtransactionStatus(q->c) != PQTRANS_INTRANS || q->nlater == PG_LATER_MAX)
		return pg_query(s, sql, p, np, NULL, NULL, NULL);
	texts(p, np, vals, ints);
	l = &q->later[q->nlater];
	l->sql = sql;
	l->np = np;
	for (int i = 0; i < np; i++)
		if (vals[i] && !(l->val[i] = strdup(vals[i]))) {
			while (i--)
				free(l->val[i]);
			return -ENOMEM;
		} else if (!vals[i]) {
			l->val[i] = NULL;
		}
	q->nlater++;
	return 0;
}

static void pg_close(struct m_store *s)
{
	struct pgc *q = s->conn;

	later_drop(q);
	PQfinish(q->c);
	free(q);
}

static const struct m_store_ops pg_ops = {
	.kind = "postgresql",
	.query = pg_query,
	.begin = pg_begin,
	.commit = pg_commit,
	.query_commit = pg_query_commit,
	.query_later = pg_query_later,
	.rollback = pg_rollback,
	.close = pg_close,
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* NOTICEs ("relation already exists, skipping") are not errors */
}

int m_store_pg_open(const char *conninfo, struct m_store **ret)
{
	/*
	 * Defaults the conninfo (expanded from "dbname", after them) may
	 * override: a connection attempt to a host that does not answer gives
	 * up after 5 s and tries the next host, and a connection whose peer
	 * vanished without a reset (a host down, a cable pulled) is found dead
	 * within ~20 s instead of the kernel's two hours, so no worker waits on
	 * it forever.
	 */
	static const char *const keys[] = { "connect_timeout", "keepalives_idle", "keepalives_interval",
					    "keepalives_count", "tcp_user_timeout", "dbname", NULL };
	const char *vals[] = { "5", "10", "3", "3", "20000", conninfo, NULL };
	struct m_store *s = calloc(1, sizeof(*s));
	struct pgc *q = calloc(1, sizeof(*q));
	const char *e;
	PGconn *c;

	if (!s || !q) {
		free(s);
		free(q);
		return -ENOMEM;
	}
	c = PQconnectdbParams(keys, vals, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		m_err(-EIO, "postgresql: %s", c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		free(s);
		free(q);
		return -EIO;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	q->no_prepare = (e = getenv("MEASURED_PG_PREPARE")) && !strcmp(e, "off");
	s->ops = &pg_ops;
	q->c = c;
	s->conn = q;
	*ret = s;
	return 0;
}
