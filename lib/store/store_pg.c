// SPDX-License-Identifier: MIT
/*
 * PostgreSQL back end (libpq): one connection per handle.  Parameters go as
 * text and the server infers their types from the statement; results come
 * back as text, the same as SQLite's.  Every statement runs in its own
 * implicit transaction, and the single-use and enrolment races are settled
 * by the statements themselves (UPDATE ... WHERE used = 0 RETURNING,
 * INSERT ... ON CONFLICT), so any number of verifier processes may share
 * the database.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "measured/error.h"
#include "store_priv.h"

#define PG_MAX_PARAMS 16

static int pg_query(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb,
		    void *arg, int64_t *ret_changes)
{
	PGconn *c = s->conn;
	const char *vals[PG_MAX_PARAMS];
	char ints[PG_MAX_PARAMS][24];
	const char *row[32];
	PGresult *res;
	ExecStatusType st;
	int r = 0, nrow, ncol;

	if (np > PG_MAX_PARAMS)
		return m_err(-EINVAL, "postgresql: %d parameters", np);
	for (int i = 0; i < np; i++) {
		if (p[i].is_int) {
			snprintf(ints[i], sizeof(ints[i]), "%" PRId64, p[i].i);
			vals[i] = ints[i];
		} else {
			vals[i] = p[i].s;
		}
	}
	res = PQexecParams(c, sql, np, NULL, vals, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* 23505 unique_violation */
		r = m_err(state && !strcmp(state, "23505") ? -EEXIST : -EIO, "postgresql: %s",
			  PQresultErrorMessage(res));
		/* a broken connection is re-established for the next statement */
		if (PQstatus(c) == CONNECTION_BAD)
			PQreset(c);
		goto out;
	}
	nrow = PQntuples(res);
	ncol = PQnfields(res);
	if (ncol > 32)
		ncol = 32;
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

static void pg_close(struct m_store *s)
{
	PQfinish(s->conn);
}

static const struct m_store_ops pg_ops = {
	.kind = "postgresql",
	.query = pg_query,
	.close = pg_close,
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* NOTICEs ("relation already exists, skipping") are not errors */
}

int m_store_pg_open(const char *conninfo, struct m_store **ret)
{
	struct m_store *s = calloc(1, sizeof(*s));
	PGconn *c;

	if (!s)
		return -ENOMEM;
	c = PQconnectdb(conninfo);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		m_err(-EIO, "postgresql: %s", c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		free(s);
		return -EIO;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	s->ops = &pg_ops;
	s->conn = c;
	*ret = s;
	return 0;
}
