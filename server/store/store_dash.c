// SPDX-License-Identifier: MIT
/*
 * The dashboard's tables and queries (store_dash.h).  Paging is done by
 * the database: machines by (failures first, name) with LIMIT/OFFSET over
 * an index on that very order, the audit log by id (keyset: "below this
 * id"), each filter with its own statement so the planner picks the
 * index for it (a "$1 IS NULL OR ..." statement is planned once for all
 * values, without it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "measured/error.h"
#include "store_priv.h"
#include "store_dash.h"

/* failures first: the same expression in the index and in ORDER BY */
#define FAIL_FIRST "(CASE WHEN last_result = 'fail' THEN 0 ELSE 1 END)"

/* a change here bumps SCHEMA_VERSION (store.c): PostgreSQL databases marked with it skip this step */
static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS dashboard_tokens ("
	" name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role INTEGER NOT NULL, created BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS machine_differences ("
	" machine TEXT PRIMARY KEY, difference TEXT NOT NULL, at BIGINT NOT NULL)",
	"CREATE INDEX IF NOT EXISTS machines_fail_first ON machines (" FAIL_FIRST ", name)",
	"CREATE INDEX IF NOT EXISTS machines_state_result ON machines (state, last_result)",
	"CREATE INDEX IF NOT EXISTS audit_result ON audit (result, id)",
};

static int q(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb, void *arg,
	     int64_t *ch)
{
	return s->ops->query(s, sql, p, np, cb, arg, ch);
}

static int64_t num(const char *v)
{
	return v ? strtoll(v, NULL, 10) : 0;
}

int m_store_dash_schema(struct m_store *s, bool pg)
{
	int r = 0;

	(void)pg;	/* one spelling serves both */
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]) && r == 0; i++)
		r = q(s, schema[i], NULL, 0, NULL, NULL, NULL);
	return r;
}

/* ---- tokens ---- */

static bool hash_ok(const char *h)
{
	size_t n = h ? strlen(h) : 0;

	if (n != M_DASH_HASH_HEX - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

int m_store_dash_token_add(struct m_store *s, const char *name, const char *hash_hex, int role)
{
	struct m_sqlp p[] = { SQL_TEXT(name), SQL_TEXT(hash_hex), SQL_INT(role), SQL_INT(time(NULL)) };
	int64_t n = 0;
	int r;

	if (!m_store_name_ok(name, strlen(name)) || !hash_ok(hash_hex) || (role != M_DASH_READ && role != M_DASH_WRITE))
		return m_err(-EINVAL, "a token needs a name of [A-Za-z0-9._-], a SHA-256 and a role");
	r = q(s, "INSERT INTO dashboard_tokens (name, hash, role, created) VALUES ($1, $2, $3, $4)"
		 " ON CONFLICT DO NOTHING RETURNING name", p, 4, NULL, NULL, &n);
	if (r < 0)
		return r;
	return n ? 0 : m_err(-EEXIST, "a dashboard token named '%s' exists", name);
}

int m_store_dash_token_remove(struct m_store *s, const char *name)
{
	struct m_sqlp p[] = { SQL_TEXT(name) };
	int64_t n = 0;
	int r = q(s, "DELETE FROM dashboard_tokens WHERE name = $1", p, 1, NULL, NULL, &n);

	if (r < 0)
		return r;
	return n ? 0 : m_err(-ENOENT, "no dashboard token '%s'", name);
}

struct tok_ctx {
	char *name;
	size_t len;
	int role;
	int err;
};

static int tok_row(int n, const char *const *v, void *arg)
{
	struct tok_ctx *c = arg;
	size_t l;

	if (n < 2 || !v[0])
		return -EIO;
	l = strlen(v[0]);
	if (l >= c->len) {
		c->err = -EOVERFLOW;
		return 0;
	}
	memcpy(c->name, v[0], l + 1);
	c->role = (int)num(v[1]);
	return 0;
}

int m_store_dash_token_find(struct m_store *s, const char *hash_hex, char *ret_name, size_t name_len,
			    int *ret_role)
{
	struct m_sqlp p[] = { SQL_TEXT(hash_hex) };
	char name[M_STORE_NAME_MAX];
	struct tok_ctx c = { name, sizeof(name), 0, 0 };
	int64_t n = 0;
	int r;

	if (!hash_ok(hash_hex))
		return -ENOENT;
	r = q(s, "SELECT name, role FROM dashboard_tokens WHERE hash = $1", p, 1, tok_row, &c, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;
	if (c.err || strlen(name) >= name_len)
		return m_err(-EOVERFLOW, "a dashboard token's name does not fit");
	memcpy(ret_name, name, strlen(name) + 1);
	*ret_role = c.role;
	return 0;
}

struct toklist_ctx {
	int (*cb)(const char *name, int role, int64_t created, void *arg);
	void *arg;
};

static int toklist_row(int n, const char *const *v, void *arg)
{
	struct toklist_ctx *c = arg;

	if (n < 3)
		return -EIO;
	return c->cb(v[0] ? v[0] : "", (int)num(v[1]), num(v[2]), c->arg);
}

int m_store_dash_token_list(struct m_store *s,
			    int (*cb)(const char *name, int role, int64_t created, void *arg), void *arg)
{
	struct toklist_ctx c = { cb, arg };

	return q(s, "SELECT name, role, created FROM dashboard_tokens ORDER BY name", NULL, 0, toklist_row, &c, NULL);
}

/* ---- machines ---- */

struct count_ctx {
	int (*cb)(int state, const char *result, int64_t n, void *arg);
	void *arg;
};

static int count_row(int n, const char *const *v, void *arg)
{
	struct count_ctx *c = arg;

	if (n < 3)
		return -EIO;
	return c->cb((int)num(v[0]), v[1] ? v[1] : "", num(v[2]), c->arg);
}

int m_store_dash_counts(struct m_store *s, int (*cb)(int state, const char *result, int64_t n, void *arg),
			void *arg)
{
	struct count_ctx c = { cb, arg };

	return q(s, "SELECT state, last_result, COUNT(*) FROM machines GROUP BY state, last_result ORDER BY state,"
		    " last_result", NULL, 0, count_row, &c, NULL);
}

struct mach_ctx {
	int (*cb)(const struct m_dash_machine *m, void *arg);
	void *arg;
};

static int mach_row(int n, const char *const *v, void *arg)
{
	struct mach_ctx *c = arg;
	struct m_dash_machine m;

	if (n < 8)
		return -EIO;
	m.name = v[0] ? v[0] : "";
	m.state = (int)num(v[1]);
	m.policy = v[2] ? v[2] : "";
	m.tpm = v[3] ? v[3] : "";
	m.last_result = v[4] ? v[4] : "";
	m.last_reason = v[5] ? v[5] : "";
	m.last_at = num(v[6]);
	m.enrolled_at = num(v[7]);
	return c->cb(&m, c->arg);
}

static int total_row(int n, const char *const *v, void *arg)
{
	*(int64_t *)arg = n >= 1 ? num(v[0]) : 0;
	return 0;
}

#define DASH_MACHINE_COLS "name, state, policy, tpm, last_result, last_reason, last_at, enrolled_at"

int m_store_dash_machines(struct m_store *s, const char *filter, int64_t offset, int64_t limit,
			  int (*cb)(const struct m_dash_machine *m, void *arg), void *arg, int64_t *ret_total)
{
	struct mach_ctx c = { cb, arg };
	int64_t total = 0;
	int r;

	if (limit < 1 || limit > M_DASH_PAGE_MAX || offset < 0)
		return m_err(-EINVAL, "a page is 1 to %u rows from an offset of 0 or more", M_DASH_PAGE_MAX);
	if (filter && filter[0]) {
		struct m_sqlp p[] = { SQL_TEXT(filter), SQL_INT(limit), SQL_INT(offset) };

		if (!m_store_name_ok(filter, strlen(filter)))
			return m_err(-EINVAL, "a name filter is 1 to %u characters of [A-Za-z0-9._-]",
				     M_STORE_NAME_MAX - 1);
		/*
		 * A substring, in the names' own case (they are case-sensitive):
		 * SQLite's instr(), PostgreSQL's strpos().  A scan either way;
		 * ILIKE or lower() would cost PostgreSQL 3 times as much at
		 * 100,000 machines (bench/bench_dashboard.sh).
		 */
		if (!strcmp(m_store_kind(s), "postgresql")) {
			r = q(s, "SELECT COUNT(*) FROM machines WHERE strpos(name, $1) > 0", p, 1, total_row, &total, NULL);
			if (r == 0)
				r = q(s, "SELECT " DASH_MACHINE_COLS " FROM machines WHERE strpos(name, $1) > 0"
					 " ORDER BY " FAIL_FIRST ", name LIMIT $2 OFFSET $3", p, 3, mach_row, &c, NULL);
		} else {
			r = q(s, "SELECT COUNT(*) FROM machines WHERE instr(name, $1) > 0", p, 1, total_row, &total, NULL);
			if (r == 0)
				r = q(s, "SELECT " DASH_MACHINE_COLS " FROM machines WHERE instr(name, $1) > 0"
					 " ORDER BY " FAIL_FIRST ", name LIMIT $2 OFFSET $3", p, 3, mach_row, &c, NULL);
		}
	} else {
		struct m_sqlp p[] = { SQL_INT(limit), SQL_INT(offset) };

		/*
		 * The count is most of this call's cost on PostgreSQL (it visits
		 * every row; bench/bench_dashboard.sh): skipped for a caller that
		 * has it from m_store_dash_counts()
		 */
		r = ret_total ? q(s, "SELECT COUNT(*) FROM machines", NULL, 0, total_row, &total, NULL) : 0;
		if (r == 0)
			r = q(s, "SELECT " DASH_MACHINE_COLS " FROM machines ORDER BY " FAIL_FIRST ", name"
				 " LIMIT $1 OFFSET $2", p, 2, mach_row, &c, NULL);
	}
	if (r < 0)
		return r;
	if (ret_total)
		*ret_total = total;
	return 0;
}

/* ---- audit ---- */

#define AUDIT_COLS "SELECT id, at, machine, event, result, reason, detail FROM audit WHERE id < $1"

int m_store_dash_audit(struct m_store *s, const char *machine, const char *result, int64_t before, int64_t limit,
		       int (*cb)(const struct m_audit *a, void *arg), void *arg)
{
	struct m_sqlp p[] = { SQL_INT(before > 0 ? before : INT64_MAX), SQL_INT(limit), SQL_TEXT(machine),
			      SQL_TEXT(result) };
	struct m_audit_ctx c = { cb, arg };

	if (limit < 1 || limit > M_DASH_PAGE_MAX)
		return m_err(-EINVAL, "a page is 1 to %u rows", M_DASH_PAGE_MAX);
	if (machine && !m_store_name_ok(machine, strlen(machine)))
		return m_err(-EINVAL, "a machine name is 1 to %u characters of [A-Za-z0-9._-]", M_STORE_NAME_MAX - 1);
	if (result && strcmp(result, "pass") && strcmp(result, "fail"))
		return m_err(-EINVAL, "a result is pass or fail");
	/* one statement per filter: each is served by its index (audit_machine, audit_result, the key) */
	if (machine && result)
		return q(s, AUDIT_COLS " AND machine = $3 AND result = $4 ORDER BY id DESC LIMIT $2", p, 4,
			 m_store_audit_row, &c, NULL);
	if (machine)
		return q(s, AUDIT_COLS " AND machine = $3 ORDER BY id DESC LIMIT $2", p, 3, m_store_audit_row, &c, NULL);
	if (result) {
		struct m_sqlp pr[] = { p[0], p[1], p[3] };

		return q(s, AUDIT_COLS " AND result = $3 ORDER BY id DESC LIMIT $2", pr, 3, m_store_audit_row, &c, NULL);
	}
	return q(s, AUDIT_COLS " ORDER BY id DESC LIMIT $2", p, 2, m_store_audit_row, &c, NULL);
}

/* ---- first differences ---- */

int m_store_dash_difference_put(struct m_store *s, const char *machine, const char *json, int64_t at)
{
	struct m_sqlp p[] = { SQL_TEXT(machine), SQL_TEXT(json), SQL_INT(at) };

	if (strlen(json) > M_DASH_DIFF_MAX)
		return m_err(-E2BIG, "a first difference of %zu bytes (at most %u)", strlen(json), M_DASH_DIFF_MAX);
	return q(s, "INSERT INTO machine_differences (machine, difference, at) VALUES ($1, $2, $3)"
		    " ON CONFLICT (machine) DO UPDATE SET difference = excluded.difference, at = excluded.at",
		 p, 3, NULL, NULL, NULL);
}

struct diff_ctx {
	char *json;
	int64_t at;
};

static int diff_row(int n, const char *const *v, void *arg)
{
	struct diff_ctx *c = arg;

	if (n < 2)
		return -EIO;
	c->json = strdup(v[0] ? v[0] : "");
	c->at = num(v[1]);
	return c->json ? 0 : -ENOMEM;
}

int m_store_dash_difference_get(struct m_store *s, const char *machine, char **ret_json, int64_t *ret_at)
{
	struct m_sqlp p[] = { SQL_TEXT(machine) };
	struct diff_ctx c = { 0 };
	int64_t n = 0;
	int r = q(s, "SELECT difference, at FROM machine_differences WHERE machine = $1", p, 1, diff_row, &c, &n);

	if (r < 0) {
		free(c.json);
		return r;
	}
	if (n == 0 || !c.json)
		return -ENOENT;
	*ret_json = c.json;
	*ret_at = c.at;
	return 0;
}
