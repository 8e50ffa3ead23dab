/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_STORE_PRIV_H
#define MEASURED_STORE_PRIV_H

/*
 * What a storage back end provides: run one statement with text/integer
 * parameters and hand each row to a callback as text.  Statements are
 * written once, with PostgreSQL's $N placeholders; the SQLite back end
 * reads them as its ?N.  Each statement is one implicit transaction,
 * unless begin() opened an explicit one.
 */

#include <stdbool.h>
#include <stdint.h>
#include "store.h"

struct m_sqlp {
	const char *s;		/* text, or NULL: SQL NULL (when !is_int) */
	int64_t i;
	bool is_int;
};

#define SQL_TEXT(x) { .s = (x) }
#define SQL_INT(x)  { .i = (int64_t)(x), .is_int = true }

/* One row: @val[i] is NULL for SQL NULL.  Return non-zero to stop (returned as is). */
typedef int (*m_row_fn)(int ncol, const char *const *val, void *arg);

struct m_store_ops {
	const char *kind;
	bool shareable;		/* one handle may serve several threads at once */
	/* @ret_changes: rows written (or returned, for RETURNING); may be NULL */
	int (*query)(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb,
		     void *arg, int64_t *ret_changes);
	int (*begin)(struct m_store *s);
	int (*commit)(struct m_store *s);
	/* a write whose only answer is success, then the commit; NULL: query, then commit */
	int (*query_commit)(struct m_store *s, const char *sql, const struct m_sqlp *p, int np);
	/*
	 * inside a transaction, a write whose only answer is success, sent with
	 * the transaction's next statement or its commit, which then fail with
	 * its error; NULL: query at once (m_store_query_later())
	 */
	int (*query_later)(struct m_store *s, const char *sql, const struct m_sqlp *p, int np);
	void (*rollback)(struct m_store *s);
	int (*checkpoint)(struct m_store *s);		/* NULL: nothing to do */
	void (*defer_checkpoints)(struct m_store *s);	/* NULL: nothing to do */
	void (*close)(struct m_store *s);
};

struct m_store {
	const struct m_store_ops *ops;
	void *conn;
};

/*
 * store_manifests.c: its tables; a new policies.version; a policy's named
 * manifests replaced by @manifest under @label (NULL or "default": none, the
 * policy's own manifest is its default)
 */
int m_store_manifests_schema(struct m_store *s);
/*
 * m_store_create_keyed() - run a CREATE TABLE whose rows are found by their
 * PRIMARY KEY only, given as M_STORE_KEYED("CREATE TABLE ..."): on SQLite
 * the table is the key's own B-tree (WITHOUT ROWID), so a write dirties one
 * page fewer than a rowid table beside its key's index; PostgreSQL takes
 * the statement as written.
 */
#define M_STORE_KEYED(sql) { sql, sql " WITHOUT ROWID" }
int m_store_create_keyed(struct m_store *s, const char *const sql[2]);
int64_t m_store_version_new(void);
int m_store_manifests_reset(struct m_store *s, const char *policy, const char *label, const char *manifest);
/*
 * The upsert of a machine's matched manifests, its row given as @rows
 * ("VALUES (...)" or a SELECT of machine, matched, at): the same list again
 * writes nothing.  Its one text for m_store_machine_matched() and
 * m_store_pass_settle_many().
 */
#define M_STORE_MATCHED_UPSERT(rows) "INSERT INTO machine_matches (machine, matched, at) " rows \
	" ON CONFLICT (machine) DO UPDATE SET matched = excluded.matched, at = excluded.at" \
	" WHERE machine_matches.matched <> excluded.matched"

/* store.c: an audit row (id, at, machine, event, result, reason, detail) to c->cb; @arg a struct m_audit_ctx */
struct m_audit_ctx {
	int (*cb)(const struct m_audit *a, void *arg);
	void *arg;
};
int m_store_audit_row(int n, const char *const *v, void *arg);

/**
 * m_store_query_later() - a write whose only answer is success: inside a
 * transaction it may go with the transaction's next statement or commit
 * (PostgreSQL: one exchange fewer), whose error is then its error; nothing
 * of the transaction commits either way.  @sql must be a constant.
 */
int m_store_query_later(struct m_store *s, const char *sql, const struct m_sqlp *p, int np);

int m_store_sqlite_open(const char *path, unsigned flags, struct m_store **ret);
int m_store_pg_open(const char *conninfo, struct m_store **ret);

#endif
