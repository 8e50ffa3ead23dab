// SPDX-License-Identifier: MIT
/*
 * The storage interface over either back end: the schema and every
 * statement, written once (docs/server.md, "Storage").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "measured/base64.h"
#include "measured/error.h"
#include "measured/text.h"
#include "store_priv.h"
#include "store_dash.h"

static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS machines ("
	" name TEXT PRIMARY KEY, ek_pub TEXT NOT NULL, ak_pub TEXT NOT NULL, ek_trust TEXT NOT NULL,"
	" state INTEGER NOT NULL, policy TEXT NOT NULL DEFAULT '', enrolled_at BIGINT NOT NULL,"
	" clock BIGINT, reset_count BIGINT, restart_count BIGINT,"
	" last_result TEXT NOT NULL DEFAULT '', last_reason TEXT NOT NULL DEFAULT '',"
	" last_at BIGINT NOT NULL DEFAULT 0)",
	"CREATE TABLE IF NOT EXISTS enrolments ("
	" id TEXT PRIMARY KEY, machine TEXT NOT NULL, ek_pub TEXT NOT NULL, ak_pub TEXT NOT NULL,"
	" ek_trust TEXT NOT NULL, secret_hash TEXT NOT NULL, expires BIGINT NOT NULL)",
	NULL,	/* used_nonces (below) */
	"CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS policies ("
	" name TEXT PRIMARY KEY, manifest TEXT NOT NULL, pcrs BIGINT NOT NULL, banks BIGINT NOT NULL,"
	" version BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS payloads ("
	" name TEXT PRIMARY KEY, policy TEXT NOT NULL, data TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS payload_install ("
	" name TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, digest TEXT NOT NULL)",
	"",	/* the audit table: its key is spelt differently (below) */
	"CREATE INDEX IF NOT EXISTS audit_machine ON audit (machine, id)",
};

/*
 * One row per nonce used, found by its key (m_store_create_keyed()).  A
 * nonce's expiry is part of the nonce (its MAC covers it), so (expires,
 * nonce) is as unique as the nonce, and keyed so the rows go in near the
 * end of one B-tree, which the purge empties from its start: one page per
 * attestation where a nonce key and an index on expires wrote two, one of
 * them anywhere in the table.  Databases made with the nonce alone as key
 * keep it, with their index on expires (used_nonces_index()).
 */
static const char *const USED_NONCES[2] = M_STORE_KEYED(
	"CREATE TABLE IF NOT EXISTS used_nonces ("
	" expires BIGINT NOT NULL, nonce TEXT NOT NULL, machine TEXT NOT NULL, PRIMARY KEY (expires, nonce))");
/*
 * Without AUTOINCREMENT, a new row's id is the largest id + 1 all the same
 * (no audit row is ever deleted), and no sqlite_sequence row is written
 * with every record: one page fewer per attestation (databases created
 * before keep their table, and work the same).
 */
static const char AUDIT_SQLITE[] =
	"CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at BIGINT NOT NULL,"
	" machine TEXT NOT NULL, event TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL,"
	" detail TEXT NOT NULL)";
static const char AUDIT_PG[] =
	"CREATE TABLE IF NOT EXISTS audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL,"
	" machine TEXT NOT NULL, event TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL,"
	" detail TEXT NOT NULL)";

static int q(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb, void *arg,
	     int64_t *ch)
{
	return s->ops->query(s, sql, p, np, cb, arg, ch);
}

int m_store_query_later(struct m_store *s, const char *sql, const struct m_sqlp *p, int np)
{
	return s->ops->query_later ? s->ops->query_later(s, sql, p, np) : q(s, sql, p, np, NULL, NULL, NULL);
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

/*
 * Columns added after the first schema: added to an existing database
 * when missing (PostgreSQL says IF NOT EXISTS; SQLite is asked its table's
 * columns), so a database made by an older verifier keeps working.  Each
 * statement is a literal: the SQLite back end caches statements by their
 * text's address.
 */
#define TPM_COLUMN " tpm TEXT NOT NULL DEFAULT '2.0'"
static const char *const added_columns[][4] = {
	/* table, column, SQLite, PostgreSQL */
	{ "machines", "tpm", "ALTER TABLE machines ADD COLUMN" TPM_COLUMN,
	  "ALTER TABLE machines ADD COLUMN IF NOT EXISTS" TPM_COLUMN },
	{ "enrolments", "tpm", "ALTER TABLE enrolments ADD COLUMN" TPM_COLUMN,
	  "ALTER TABLE enrolments ADD COLUMN IF NOT EXISTS" TPM_COLUMN },
};

static int count_row(int n, const char *const *v, void *arg)
{
	(void)n, (void)v;
	++*(int *)arg;
	return 0;
}

static int add_columns(struct m_store *s, bool pg)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		const char *const *c = added_columns[i];
		struct m_sqlp p[] = { SQL_TEXT(c[0]), SQL_TEXT(c[1]) };
		int have = 0;

		if (!pg) {
			r = q(s, "SELECT 1 FROM pragma_table_info($1) WHERE name = $2", p, 2, count_row, &have, NULL);
			if (r < 0 || have)
				continue;
		}
		r = q(s, c[pg ? 3 : 2], NULL, 0, NULL, NULL, NULL);
	}
	return r;
}

int m_store_create_keyed(struct m_store *s, const char *const sql[2])
{
	return q(s, sql[!strcmp(s->ops->kind, "sqlite")], NULL, 0, NULL, NULL, NULL);
}

/* the index on expires, for a used_nonces keyed by the nonce alone (older databases) */
static int used_nonces_index(struct m_store *s, bool pg)
{
	int have = 0;
	int r;

	r = q(s, pg ? "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
		      " AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'used_nonces'::regclass"
		      " AND i.indisprimary AND a.attname = 'expires'"
		    : "SELECT 1 FROM pragma_table_info('used_nonces') WHERE name = 'expires' AND pk > 0",
	      NULL, 0, count_row, &have, NULL);
	if (r < 0 || have)
		return r;
	return q(s, "CREATE INDEX IF NOT EXISTS used_nonces_expires ON used_nonces (expires)", NULL, 0, NULL, NULL,
		 NULL);
}

/*
 * PostgreSQL: the schema step's mark, a comment on the machines table.
 * The step locks tables every verifier's attestations wait behind (below),
 * and each new connection would run it: a worker's first request, each
 * reconnection after a failover, every `measured admin`.  A database
 * marked with this version or a later one (a newer verifier's: its schema
 * only adds to this one) is taken as it is.  Bump SCHEMA_VERSION with any
 * change to the DDL here, in store_manifests.c or in store_dash.c.  SQLite
 * runs the step on every open: there it takes no lock when nothing is
 * missing.
 */
#define SCHEMA_VERSION 1
#define SCHEMA_MARK_TEXT "measured schema "
#define STR_(x) #x
#define STR(x) STR_(x)

static int mark_row(int n, const char *const *v, void *arg)
{
	unsigned long ver = 0;

	if (n == 1 && v[0] && !strncmp(v[0], SCHEMA_MARK_TEXT, strlen(SCHEMA_MARK_TEXT)))
		ver = strtoul(v[0] + strlen(SCHEMA_MARK_TEXT), NULL, 10);
	*(bool *)arg = ver >= SCHEMA_VERSION;
	return 0;
}

/* whether the database is marked with SCHEMA_VERSION or a later one (false if it has no machines table) */
static int schema_marked(struct m_store *s, bool *ret)
{
	*ret = false;
	return q(s, "SELECT obj_description(to_regclass('machines'), 'pg_class')", NULL, 0, mark_row, ret, NULL);
}

static int create_schema(struct m_store *s)
{
	bool pg = !strcmp(s->ops->kind, "postgresql");
	bool marked = false;
	int r = 0;

	if (pg && ((r = schema_marked(s, &marked)) < 0 || marked))
		return r;
	/*
	 * Several verifiers may start at once on one database: DDL is
	 * serialised by a lock held to the end of one transaction (a session
	 * lock would outlive it on a pooler's server connection); the one
	 * that waited finds the mark of the one before.
	 */
	if (pg && (r = m_store_begin(s)) < 0)
		return r;
	if (pg)
		r = q(s, "SELECT pg_advisory_xact_lock(7275)", NULL, 0, NULL, NULL, NULL);
	if (pg && r == 0 && (r = schema_marked(s, &marked)) == 0 && marked)
		return m_store_commit(s);
	for (size_t i = 0; r == 0 && i < sizeof(schema) / sizeof(schema[0]); i++) {
		r = !schema[i] ? m_store_create_keyed(s, USED_NONCES)
				: q(s, *schema[i] ? schema[i] : pg ? AUDIT_PG : AUDIT_SQLITE, NULL, 0, NULL, NULL, NULL);
		/*
		 * The DDL below locks tables an attestation's transaction writes
		 * (CREATE INDEX, even of an index there is, takes a SHARE lock;
		 * ALTER TABLE an ACCESS EXCLUSIVE one), and this runs while other
		 * verifiers, or this one's other threads, attest.  Taken in
		 * another order than theirs, that deadlocks: an attestation
		 * that updated machines waits for audit, which the DDL holds,
		 * while the DDL waits for machines.  used_nonces is the first
		 * table an attestation writes: holding it first, the DDL waits
		 * for the attestations already past it and holds back the
		 * others before they lock anything.
		 */
		if (r == 0 && pg && !schema[i])
			r = q(s, "LOCK TABLE used_nonces IN SHARE MODE", NULL, 0, NULL, NULL, NULL);
	}
	if (r == 0)
		r = used_nonces_index(s, pg);
	if (r == 0)
		r = add_columns(s, pg);
	if (r == 0)
		r = m_store_manifests_schema(s);
	if (r == 0)
		r = m_store_dash_schema(s, pg);
	if (pg && r == 0)
		r = q(s, "COMMENT ON TABLE machines IS '" SCHEMA_MARK_TEXT STR(SCHEMA_VERSION) "'", NULL, 0, NULL, NULL,
		      NULL);
	if (pg && r == 0)
		r = m_store_commit(s);
	else if (pg)
		m_store_rollback(s);
	return r;
}

int m_store_open(const char *url, struct m_store **ret)
{
	return m_store_open_flags(url, 0, ret);
}

const char *m_store_url_kind(const char *url)
{
	if (!strncmp(url, "sqlite:", 7))
		return "sqlite";
	if (!strncmp(url, "postgresql:", 11) || !strncmp(url, "postgres://", 11))
		return "postgresql";
	return NULL;
}

int m_store_open_flags(const char *url, unsigned flags, struct m_store **ret)
{
	const char *kind = m_store_url_kind(url);
	struct m_store *s = NULL;
	int r;

	if (!kind)
		return m_err(-EINVAL, "database '%s': expected sqlite:PATH, postgresql:CONNINFO or a postgresql:// URI", url);
	if (!strcmp(kind, "sqlite"))
		r = m_store_sqlite_open(url + 7, flags, &s);
	else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
		r = m_store_pg_open(url, &s);	/* a postgres:// or postgresql:// URI, as it is */
	else
		r = m_store_pg_open(url + 11, &s);	/* the conninfo after "postgresql:" */
	if (r < 0)
		return r;
	r = create_schema(s);
	if (r < 0) {
		m_store_close(s);
		return m_err_prefix(r, "creating the schema");
	}
	*ret = s;
	return 0;
}

void m_store_close(struct m_store *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}

const char *m_store_kind(const struct m_store *s)
{
	return s->ops->kind;
}

bool m_store_shareable(const struct m_store *s)
{
	return s->ops->shareable;
}

int m_store_begin(struct m_store *s)
{
	return s->ops->begin(s);
}

int m_store_commit(struct m_store *s)
{
	return s->ops->commit(s);
}

void m_store_rollback(struct m_store *s)
{
	s->ops->rollback(s);
}

void m_store_defer_checkpoints(struct m_store *s)
{
	if (s->ops->defer_checkpoints)
		s->ops->defer_checkpoints(s);
}

int m_store_checkpoint(struct m_store *s)
{
	return s->ops->checkpoint ? s->ops->checkpoint(s) : 0;
}

/*
 * A value from the database into a fixed field: whole, or -EOVERFLOW.  A
 * cut value would be a different value (a policy list losing its last
 * entries), so a row that does not fit is an error, never shortened.
 */
static int copy(char *dst, size_t n, const char *src)
{
	size_t l = src ? strlen(src) : 0;

	if (l >= n)
		return m_err(-EOVERFLOW, "a stored value of %zu bytes does not fit its %zu-byte field", l, n - 1);
	memcpy(dst, src ? src : "", l + 1);
	return 0;
}

bool m_store_name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= M_STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

bool m_store_policy_weak(uint32_t pcrs)
{
	return (pcrs & ~M_STORE_SOFTWARE_PCRS) == 0;
}

int m_store_policy_list_check(const char *list)
{
	size_t n = 1, len;

	if (!list)
		return 0;
	len = strlen(list);
	if (len >= M_STORE_POLICY_LIST_MAX)
		return m_err(-E2BIG, "a policy list of %zu characters (at most %u)", len,
			     M_STORE_POLICY_LIST_MAX - 1);
	for (const char *c = list; *c; c++)
		n += *c == ',';
	if (len && n > M_STORE_POLICIES_MAX)
		return m_err(-E2BIG, "%zu policies in one list (at most %u)", n, M_STORE_POLICIES_MAX);
	return 0;
}

static int64_t num(const char *v)
{
	return v ? strtoll(v, NULL, 10) : 0;
}

/* ---- enrolments ---- */

void m_enrolment_clear(struct m_enrolment *e)
{
	free(e->ek_pub);
	free(e->ak_pub);
	memset(e, 0, sizeof(*e));
}

int m_store_enrolment_add(struct m_store *s, const struct m_enrolment *e)
{
	struct m_sqlp p[] = { SQL_TEXT(e->id), SQL_TEXT(e->machine), SQL_TEXT(e->ek_pub), SQL_TEXT(e->ak_pub),
			      SQL_TEXT(e->ek_trust), SQL_TEXT(e->secret_hash), SQL_INT(e->expires),
			      SQL_TEXT(e->tpm[0] ? e->tpm : "2.0") };

	return q(s, "INSERT INTO enrolments (id, machine, ek_pub, ak_pub, ek_trust, secret_hash, expires, tpm)"
		    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", p, 8, NULL, NULL, NULL);
}

static int enrolment_row(int n, const char *const *v, void *arg)
{
	struct m_enrolment *e = arg;

	if (n < 7)
		return -EIO;
	if (copy(e->machine, sizeof(e->machine), v[0]) < 0 || copy(e->ek_trust, sizeof(e->ek_trust), v[3]) < 0 ||
	    copy(e->secret_hash, sizeof(e->secret_hash), v[4]) < 0 || copy(e->tpm, sizeof(e->tpm), v[6]) < 0)
		return -EOVERFLOW;
	e->ek_pub = strdup(v[1] ? v[1] : "");
	e->ak_pub = strdup(v[2] ? v[2] : "");
	e->expires = num(v[5]);
	return e->ek_pub && e->ak_pub ? 0 : -ENOMEM;
}

int m_store_enrolment_take(struct m_store *s, const char *id, struct m_enrolment *ret)
{
	struct m_sqlp p[] = { SQL_TEXT(id) };
	struct m_enrolment e = { 0 };
	int64_t n = 0;
	int r;

	r = q(s, "DELETE FROM enrolments WHERE id = $1"
		 " RETURNING machine, ek_pub, ak_pub, ek_trust, secret_hash, expires, tpm", p, 1, enrolment_row, &e, &n);
	if (r < 0 || n == 0) {
		m_enrolment_clear(&e);
		return r < 0 ? r : -ENOENT;
	}
	if ((r = copy(e.id, sizeof(e.id), id)) < 0) {
		m_enrolment_clear(&e);
		return r;
	}
	*ret = e;
	return 0;
}

/* ---- machines ---- */

#define MACHINE_COLS "name, ek_pub, ak_pub, ek_trust, state, policy, enrolled_at, clock, reset_count," \
		     " restart_count, last_result, last_reason, last_at, tpm"

void m_machine_clear(struct m_machine *m)
{
	free(m->ek_pub);
	free(m->ak_pub);
	memset(m, 0, sizeof(*m));
}

static int machine_fill(int n, const char *const *v, struct m_machine *m)
{
	if (n < 14)
		return -EIO;
	memset(m, 0, sizeof(*m));
	if (copy(m->name, sizeof(m->name), v[0]) < 0 || copy(m->ek_trust, sizeof(m->ek_trust), v[3]) < 0 ||
	    copy(m->tpm, sizeof(m->tpm), v[13]) < 0 ||
	    copy(m->policy, sizeof(m->policy), v[5]) < 0 || copy(m->last_result, sizeof(m->last_result), v[10]) < 0 ||
	    copy(m->last_reason, sizeof(m->last_reason), v[11]) < 0)
		return m_err_prefix(-EOVERFLOW, "machine '%.*s'", (int)M_STORE_NAME_MAX, v[0] ? v[0] : "");
	m->ek_pub = strdup(v[1] ? v[1] : "");
	m->ak_pub = strdup(v[2] ? v[2] : "");
	m->state = (int)num(v[4]);
	m->enrolled_at = num(v[6]);
	m->have_clock = v[7] != NULL;
	m->clock = (uint64_t)num(v[7]);
	m->reset_count = (uint32_t)num(v[8]);
	m->restart_count = (uint32_t)num(v[9]);
	m->last_at = num(v[12]);
	if (!m->ek_pub || !m->ak_pub) {
		m_machine_clear(m);
		return -ENOMEM;
	}
	return 0;
}

static int machine_row(int n, const char *const *v, void *arg)
{
	return machine_fill(n, v, arg);
}

int m_store_machine_get(struct m_store *s, const char *name, struct m_machine *ret)
{
	struct m_sqlp p[] = { SQL_TEXT(name) };
	struct m_machine m = { 0 };
	int64_t n = 0;
	int r;

	r = q(s, "SELECT " MACHINE_COLS " FROM machines WHERE name = $1", p, 1, machine_row, &m, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;
	*ret = m;
	return 0;
}

int m_store_machine_enrol(struct m_store *s, const struct m_machine *m)
{
	struct m_sqlp p[] = { SQL_TEXT(m->name), SQL_TEXT(m->ek_pub), SQL_TEXT(m->ak_pub), SQL_TEXT(m->ek_trust),
			      SQL_INT(m->state), SQL_TEXT(m->policy), SQL_INT(now()),
			      SQL_TEXT(m->tpm[0] ? m->tpm : "2.0") };
	int64_t n = 0;
	int r;

	if ((r = m_store_policy_list_check(m->policy)) < 0)
		return r;
	/*
	 * One statement decides: a new name is inserted; an existing name with
	 * the same EK takes the new AK; another EK changes nothing and returns
	 * no row.  The primary key makes racing enrolments of one name serialise.
	 */
	r = q(s, "INSERT INTO machines (name, ek_pub, ak_pub, ek_trust, state, policy, enrolled_at, tpm)"
		 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		 " ON CONFLICT (name) DO UPDATE SET ak_pub = excluded.ak_pub"
		 " WHERE machines.ek_pub = excluded.ek_pub AND machines.tpm = excluded.tpm RETURNING name",
	      p, 8, NULL, NULL, &n);
	if (r < 0)
		return r;
	return n ? 0 : m_err(-EEXIST, "machine '%s' is enrolled with another EK", m->name);
}

int m_store_machine_set(struct m_store *s, const char *name, int state, const char *policy)
{
	struct m_sqlp p[] = { SQL_TEXT(name), SQL_INT(state), SQL_TEXT(policy) };
	int64_t n = 0;
	int r;

	if ((r = m_store_policy_list_check(policy)) < 0)
		return r;
	r = q(s, "UPDATE machines SET state = CASE WHEN $2 < 0 THEN state ELSE $2 END,"
		 " policy = COALESCE($3, policy) WHERE name = $1", p, 3, NULL, NULL, &n);
	if (r < 0)
		return r;
	return n ? 0 : m_err(-ENOENT, "no machine '%s'", name);
}

/*
 * A machine's last result, where it differs, after an UPDATE of the rest of
 * its row that left it out (SQLite).  SQLite rewrites the entries of every
 * index on a column an UPDATE sets, changed or not: with last_result in
 * that UPDATE, each attestation wrote two more pages (the dashboard's
 * indexes, store_dash.c), where the result is the same as last time nearly
 * always.  PostgreSQL compares the values itself, and a second statement
 * would be another exchange: there the one UPDATE sets it.
 */
static int set_last_result(struct m_store *s, const char *name, const char *result)
{
	struct m_sqlp p[] = { SQL_TEXT(name), SQL_TEXT(result) };

	return q(s, "UPDATE machines SET last_result = $2 WHERE name = $1 AND last_result <> $2", p, 2, NULL, NULL,
		 NULL);
}

/*
 * Why a guarded UPDATE of @seen's row matched nothing: rare, so asked only
 * now.  -ERANGE (@clock_order: the row is the one seen, its clock newer),
 * -ESTALE (approved, but its AK or policy list is not the one seen),
 * -EPERM (no longer approved), -ENOENT (no such machine).
 */
static int why_unchanged(struct m_store *s, const struct m_machine *seen, bool clock_order)
{
	struct m_sqlp p[] = { SQL_TEXT(seen->name), SQL_TEXT(seen->ak_pub), SQL_TEXT(seen->policy) };
	int64_t n = 0;
	int r;

	if (clock_order) {
		r = q(s, "SELECT state FROM machines WHERE name = $1 AND state = 1 AND ak_pub = $2 AND policy = $3",
		      p, 3, NULL, NULL, &n);
		if (r < 0 || n)
			return r < 0 ? r : -ERANGE;
	}
	r = q(s, "SELECT state FROM machines WHERE name = $1 AND state = 1", p, 1, NULL, NULL, &n);
	if (r < 0)
		return r;
	if (n)
		return m_err(-ESTALE, "machine '%s': its AK or policy list changed while it attested", seen->name);
	r = q(s, "SELECT state FROM machines WHERE name = $1", p, 1, NULL, NULL, &n);
	if (r < 0)
		return r;
	return n ? m_err(-EPERM, "machine '%s' is no longer approved", seen->name)
		 : m_err(-ENOENT, "no machine '%s'", seen->name);
}

/*
 * The attested UPDATE: $1 name, $2 clock, $3 resetCount, $4 restartCount,
 * $5 result, $6 reason, $7 when, $8 the AK and $9 the policy list seen.
 */
#define ATTESTED_SET_OF(c, rc, rs) "UPDATE machines SET clock = " c ", reset_count = " rc ", restart_count = " rs ","
/* the row takes a result only while approved as seen, and from a clock not older than its own */
#define ATTESTED_GUARD(m, ak, pol, c, rc, rs) \
	" name = " m " AND state = 1 AND ak_pub = " ak " AND policy = " pol " AND (clock IS NULL OR reset_count < " rc \
	" OR (reset_count = " rc " AND (restart_count < " rs " OR (restart_count = " rs " AND clock <= " c "))))"
#define ATTESTED_SET ATTESTED_SET_OF("$2", "$3", "$4")
#define ATTESTED_WHERE " last_reason = $6, last_at = $7 WHERE" ATTESTED_GUARD("$1", "$8", "$9", "$2", "$3", "$4")

int m_store_machine_attested(struct m_store *s, const struct m_machine *seen, uint64_t clock, uint32_t reset,
			     uint32_t restart, const char *result, const char *reason, int64_t at)
{
	struct m_sqlp p[] = { SQL_TEXT(seen->name), SQL_INT(clock), SQL_INT(reset), SQL_INT(restart), SQL_TEXT(result),
			      SQL_TEXT(reason), SQL_INT(at), SQL_TEXT(seen->ak_pub), SQL_TEXT(seen->policy) };
	bool sqlite = !strcmp(s->ops->kind, "sqlite");
	int64_t n = 0;
	int r;

	if (clock > INT64_MAX)
		return m_err(-ERANGE, "clock %" PRIu64 " out of range", clock);
	/*
	 * Only while approved with the AK and policy list the checks used (the
	 * row's lock orders this against a revocation or a re-enrolment: none
	 * commits a result after it), and only if (reset_count, restart_count,
	 * clock) is not older than ($3, $4, $2).  On SQLite the result follows
	 * apart (set_last_result()).
	 */
	r = q(s, sqlite ? ATTESTED_SET ATTESTED_WHERE : ATTESTED_SET " last_result = $5," ATTESTED_WHERE,
	      p, 9, NULL, NULL, &n);
	if (r == 0 && n && sqlite)
		r = set_last_result(s, seen->name, result);
	if (r < 0 || n)
		return r;
	return why_unchanged(s, seen, true);
}

int m_store_machine_result(struct m_store *s, const struct m_machine *seen, const char *result, const char *reason,
			   int64_t at)
{
	struct m_sqlp p[] = { SQL_TEXT(seen->name), SQL_TEXT(result), SQL_TEXT(reason), SQL_INT(at),
			      SQL_TEXT(seen->ak_pub), SQL_TEXT(seen->policy) };
	bool sqlite = !strcmp(s->ops->kind, "sqlite");
	int64_t n = 0;
	int r;

	/* only while approved as seen, as m_store_machine_attested(), and the result as there */
#define RESULT_WHERE " WHERE name = $1 AND state = 1 AND ak_pub = $5 AND policy = $6"
	r = q(s, sqlite
		 ? "UPDATE machines SET last_reason = $3, last_at = $4" RESULT_WHERE
		 : "UPDATE machines SET last_result = $2, last_reason = $3, last_at = $4" RESULT_WHERE,
	      p, 6, NULL, NULL, &n);
#undef RESULT_WHERE
	if (r == 0 && n && sqlite)
		r = set_last_result(s, seen->name, result);
	if (r < 0 || n)
		return r;
	return why_unchanged(s, seen, false);
}

struct list_ctx {
	int (*cb)(const struct m_machine *m, void *arg);
	void *arg;
};

static int machine_list_row(int n, const char *const *v, void *arg)
{
	struct list_ctx *c = arg;
	struct m_machine m;
	int r = machine_fill(n, v, &m);

	if (r < 0)
		return r;
	r = c->cb(&m, c->arg);
	m_machine_clear(&m);
	return r;
}

int m_store_machine_list(struct m_store *s, int (*cb)(const struct m_machine *m, void *arg), void *arg)
{
	struct list_ctx c = { cb, arg };

	return q(s, "SELECT " MACHINE_COLS " FROM machines ORDER BY name", NULL, 0, machine_list_row, &c, NULL);
}

/* ---- nonces ---- */

/* a nonce's single use, its parameters named: nonce, machine, expiry */
#define NONCE_USE_ROWS(rows) "INSERT INTO used_nonces (nonce, machine, expires) " rows " ON CONFLICT DO NOTHING"
#define NONCE_USE(n, m, e) NONCE_USE_ROWS("VALUES (" n ", " m ", " e ")")

int m_store_nonce_use(struct m_store *s, const char *nonce_hex, const char *machine, int64_t expires)
{
	struct m_sqlp p[] = { SQL_TEXT(nonce_hex), SQL_TEXT(machine), SQL_INT(expires) };
	int64_t n = 0;
	int r;

	/*
	 * The single use is this one INSERT: of two racing requests, one adds
	 * the row.  Whichever the key (the nonce, or expires and nonce: the
	 * same nonce always comes with the same expiry), a nonce conflicts
	 * with itself only.
	 */
	r = q(s, NONCE_USE("$1", "$2", "$3"), p, 3, NULL, NULL, &n);
	if (r < 0)
		return r;
	return n ? 0 : -EALREADY;
}

static int two_counts(int n, const char *const *v, void *arg)
{
	int64_t *c = arg;

	if (n < 2 || !v[0] || !v[1])
		return -EIO;
	c[0] = strtoll(v[0], NULL, 10);
	c[1] = strtoll(v[1], NULL, 10);
	return 0;
}

int m_store_nonce_use_attested(struct m_store *s, const char *nonce_hex, int64_t expires, const struct m_machine *seen,
			       uint64_t clock, uint32_t reset, uint32_t restart, const char *result, const char *reason,
			       int64_t at)
{
	struct m_sqlp p[] = { SQL_TEXT(seen->name), SQL_INT(clock), SQL_INT(reset), SQL_INT(restart), SQL_TEXT(result),
			      SQL_TEXT(reason), SQL_INT(at), SQL_TEXT(seen->ak_pub), SQL_TEXT(seen->policy),
			      SQL_TEXT(nonce_hex), SQL_INT(expires) };
	int64_t c[2] = { -1, -1 };
	int r;

	if (!strcmp(s->ops->kind, "sqlite")) {
		r = m_store_nonce_use(s, nonce_hex, seen->name, expires);
		return r < 0 ? r : m_store_machine_attested(s, seen, clock, reset, restart, result, reason, at);
	}
	if (clock > INT64_MAX)
		return m_err(-ERANGE, "clock %" PRIu64 " out of range", clock);
	/*
	 * PostgreSQL: one statement, the UPDATE only if the INSERT added the
	 * nonce's row (a data-modifying WITH: both see one snapshot, and the
	 * UPDATE reads the INSERT's RETURNING), then how many rows each wrote.
	 */
	r = q(s, "WITH n AS (" NONCE_USE("$10", "$1", "$11") " RETURNING 1),"
		 " u AS (" ATTESTED_SET " last_result = $5," ATTESTED_WHERE
		 " AND EXISTS (SELECT 1 FROM n) RETURNING 1) SELECT (SELECT count(*) FROM n), (SELECT count(*) FROM u)",
	      p, 11, two_counts, c, NULL);
	if (r < 0)
		return r;
	if (c[0] < 0)
		return m_err(-EIO, "postgresql: no counts from the nonce's use");
	if (c[0] == 0)
		return -EALREADY;
	return c[1] ? 0 : why_unchanged(s, seen, true);
}

int m_store_expire(struct m_store *s, int64_t before)
{
	struct m_sqlp p[] = { SQL_INT(before) };
	int r;

	r = q(s, "DELETE FROM used_nonces WHERE expires < $1", p, 1, NULL, NULL, NULL);
	if (r < 0)
		return r;
	return q(s, "DELETE FROM enrolments WHERE expires < $1", p, 1, NULL, NULL, NULL);
}

static int text_row(int n, const char *const *v, void *arg)
{
	if (n < 1 || !v[0])
		return -EIO;
	*(char **)arg = strdup(v[0]);
	return *(char **)arg ? 0 : -ENOMEM;
}

int m_store_secret(struct m_store *s, const char *name, const char *candidate, char **ret)
{
	struct m_sqlp p[] = { SQL_TEXT(name), SQL_TEXT(candidate) };
	char *v = NULL;
	int64_t n = 0;
	int r;

	r = q(s, "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", p, 2, NULL,
	      NULL, NULL);
	if (r == 0)
		r = q(s, "SELECT value FROM secrets WHERE name = $1", p, 1, text_row, &v, &n);
	if (r == 0 && !n)
		r = m_err(-EIO, "secret '%s' vanished", name);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	return 0;
}

/* ---- policies and payloads ---- */

void m_policy_clear(struct m_policy *p)
{
	free(p->manifest);
	memset(p, 0, sizeof(*p));
}

int m_store_policy_put(struct m_store *s, const struct m_policy *pol)
{
	struct m_sqlp p[] = { SQL_TEXT(pol->name), SQL_TEXT(pol->manifest), SQL_INT(pol->pcrs), SQL_INT(pol->banks),
			      SQL_INT(m_store_version_new()) };
	int r;

	/* the whole policy replaced: its named manifests too (store_manifests.c), in one transaction */
	if ((r = m_store_begin(s)) < 0)
		return r;
	r = q(s, "INSERT INTO policies (name, manifest, pcrs, banks, version) VALUES ($1, $2, $3, $4, $5)"
		 " ON CONFLICT (name) DO UPDATE SET manifest = excluded.manifest, pcrs = excluded.pcrs,"
		 " banks = excluded.banks, version = excluded.version", p, 5, NULL, NULL, NULL);
	if (r == 0)
		r = m_store_manifests_reset(s, pol->name, pol->label, pol->manifest);
	if (r == 0)
		return m_store_commit(s);
	m_store_rollback(s);
	return r;
}

static int policy_fill(int n, const char *const *v, struct m_policy *pol, bool with_manifest)
{
	if (n < 5)
		return -EIO;
	memset(pol, 0, sizeof(*pol));
	if (copy(pol->name, sizeof(pol->name), v[0]) < 0)
		return -EOVERFLOW;
	pol->pcrs = (uint32_t)num(v[2]);
	pol->banks = (unsigned)num(v[3]);
	pol->version = num(v[4]);
	if (with_manifest && !(pol->manifest = strdup(v[1] ? v[1] : "")))
		return -ENOMEM;
	return 0;
}

static int policy_row(int n, const char *const *v, void *arg)
{
	return policy_fill(n, v, arg, true);
}

int m_store_policy_get(struct m_store *s, const char *name, struct m_policy *ret)
{
	struct m_sqlp p[] = { SQL_TEXT(name) };
	struct m_policy pol = { 0 };
	int64_t n = 0;
	int r;

	r = q(s, "SELECT name, manifest, pcrs, banks, version FROM policies WHERE name = $1", p, 1, policy_row,
	      &pol, &n);
	if (r < 0) {
		m_policy_clear(&pol);
		return r;
	}
	if (n == 0)
		return -ENOENT;
	*ret = pol;
	return 0;
}

static int policy_head_row(int n, const char *const *v, void *arg)
{
	return policy_fill(n, v, arg, false);
}

int m_store_policy_head(struct m_store *s, const char *name, struct m_policy *ret)
{
	struct m_sqlp p[] = { SQL_TEXT(name) };
	struct m_policy pol = { 0 };
	int64_t n = 0;
	int r;

	r = q(s, "SELECT name, '', pcrs, banks, version FROM policies WHERE name = $1", p, 1, policy_head_row,
	      &pol, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;
	*ret = pol;
	return 0;
}

struct plist_ctx {
	int (*cb)(const struct m_policy *p, void *arg);
	void *arg;
};

static int policy_list_row(int n, const char *const *v, void *arg)
{
	struct plist_ctx *c = arg;
	struct m_policy pol;
	int r = policy_fill(n, v, &pol, false);

	return r < 0 ? r : c->cb(&pol, c->arg);
}

int m_store_policy_list(struct m_store *s, int (*cb)(const struct m_policy *p, void *arg), void *arg)
{
	struct plist_ctx c = { cb, arg };

	return q(s, "SELECT name, '', pcrs, banks, version FROM policies ORDER BY name", NULL, 0, policy_list_row,
		 &c, NULL);
}

int m_store_payload_put(struct m_store *s, const char *name, const char *policy, const uint8_t *data,
			size_t len)
{
	char *b64;
	int r;

	if (len > M_STORE_PAYLOAD_MAX)
		return m_err(-E2BIG, "payload of %zu bytes (at most %u)", len, M_STORE_PAYLOAD_MAX);
	b64 = m_b64_encode(data, len);
	if (!b64)
		return -ENOMEM;
	struct m_sqlp p[] = { SQL_TEXT(name), SQL_TEXT(policy), SQL_TEXT(b64) };

	r = q(s, "INSERT INTO payloads (name, policy, data) VALUES ($1, $2, $3)"
		 " ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, data = excluded.data",
	      p, 3, NULL, NULL, NULL);
	free(b64);
	return r;
}

struct payload_ctx {
	char *policy;
	size_t policy_len;
	uint8_t *data;
	size_t len;
};

static int payload_row(int n, const char *const *v, void *arg)
{
	struct payload_ctx *c = arg;

	if (n < 2 || !v[1])
		return -EIO;
	if (copy(c->policy, c->policy_len, v[0]) < 0)
		return -EOVERFLOW;
	return m_b64_decode(v[1], strlen(v[1]), M_STORE_PAYLOAD_MAX, NULL, &c->data, &c->len);
}

int m_store_payload_get(struct m_store *s, const char *name, char *ret_policy, size_t policy_len,
			uint8_t **ret_data, size_t *ret_len)
{
	struct m_sqlp p[] = { SQL_TEXT(name) };
	struct payload_ctx c = { ret_policy, policy_len, NULL, 0 };
	int64_t n = 0;
	int r;

	r = q(s, "SELECT policy, data FROM payloads WHERE name = $1", p, 1, payload_row, &c, &n);
	if (r < 0) {
		free(c.data);
		return r;
	}
	if (n == 0)
		return -ENOENT;
	*ret_data = c.data;
	*ret_len = c.len;
	return 0;
}

/* ---- audit ---- */

#define AUDIT_INSERT "INSERT INTO audit (at, machine, event, result, reason, detail)"

/*
 * A record's texts (machine, event, result, reason, detail), each escaped:
 * a record is one line of printable ASCII, whatever a request held.  0, or
 * -ENOMEM with nothing to free.
 */
static int audit_texts(char *t[5], const char *machine, const char *event, const char *result, const char *reason,
		       const char *detail)
{
	const char *in[5] = { machine, event, result, reason, detail };
	size_t i;

	for (i = 0; i < 5; i++)
		if (!(t[i] = m_text_escape_str(in[i])))
			break;
	if (i == 5)
		return 0;
	while (i--)
		free(t[i]);
	return -ENOMEM;
}

/* the record, then (@commit) the open transaction's commit */
static int audit(struct m_store *s, bool commit, const char *machine, const char *event, const char *result,
		 const char *reason, const char *detail)
{
	static const char sql[] = AUDIT_INSERT " VALUES ($1, $2, $3, $4, $5, $6)";
	char *t[5];
	bool have = audit_texts(t, machine, event, result, reason, detail) == 0;
	int r = -ENOMEM;

	if (have) {
		struct m_sqlp p[] = { SQL_INT(now()), SQL_TEXT(t[0]), SQL_TEXT(t[1]), SQL_TEXT(t[2]), SQL_TEXT(t[3]),
				      SQL_TEXT(t[4]) };

		if (commit && s->ops->query_commit) {
			r = s->ops->query_commit(s, sql, p, 6);
		} else {
			r = q(s, sql, p, 6, NULL, NULL, NULL);
			if (commit && r == 0)
				r = m_store_commit(s);
		}
	}
	if (commit && r < 0)
		m_store_rollback(s);
	for (size_t i = 0; have && i < 5; i++)
		free(t[i]);
	return r;
}

int m_store_audit(struct m_store *s, const char *machine, const char *event, const char *result,
		  const char *reason, const char *detail)
{
	return audit(s, false, machine, event, result, reason, detail);
}

int m_store_audit_commit(struct m_store *s, const char *machine, const char *event, const char *result,
			 const char *reason, const char *detail)
{
	return audit(s, true, machine, event, result, reason, detail);
}

/*
 * PostgreSQL: passing TPM 2.0 attestations' writes in one statement, its
 * own transaction: one exchange, however many requests' passes it settles
 * (a group commit: server/group.c).  The passes come as a JSON array
 * ($1), one row each.  Each part waits on the one before (a data-modifying
 * WITH: one snapshot, each reading the RETURNING before it): the nonces'
 * use (n; f the rows whose nonce it used); then the attested UPDATE (the
 * guard of m_store_nonce_use_attested(): u the rows it updated); then the
 * matched manifests and the audit records.  A used nonce writes nothing.
 * A fresh nonce whose UPDATE matched nothing (a revocation, a re-enrolment,
 * an older clock) must not stay used without its record: the last SELECT
 * then divides by zero (computed from the counts, so the planner cannot
 * fold it), which aborts the statement, and nothing of it is written: each
 * of its requests settles alone.  The rows name distinct machines, so
 * distinct nonces (a nonce is bound to its machine): the caller's part.
 * The nonces go in in their key's order: two verifiers' statements that
 * share nonces (one attestation sent to both) then wait for each other at
 * the first they share, where in any order each could hold one the other
 * waits for (a deadlock: PostgreSQL ends one after deadlock_timeout).
 */
#define PASS_ROWS "json_to_recordset(CAST($1 AS json)) AS x(i INT, m TEXT, c BIGINT, rc BIGINT, rs BIGINT," \
		  " at BIGINT, ak TEXT, pol TEXT, nonce TEXT, expires BIGINT, matched TEXT, am TEXT, detail TEXT)"
#define PASS_SETTLE_MANY \
	"WITH j AS (SELECT * FROM " PASS_ROWS ")," \
	" n AS (" NONCE_USE_ROWS("SELECT nonce, m, expires FROM j ORDER BY expires, nonce") " RETURNING nonce, expires)," \
	" f AS (SELECT j.* FROM j JOIN n ON n.nonce = j.nonce AND n.expires = j.expires)," \
	" u AS (" ATTESTED_SET_OF("f.c", "f.rc", "f.rs") " last_result = 'pass', last_reason = '', last_at = f.at" \
	" FROM f WHERE" ATTESTED_GUARD("f.m", "f.ak", "f.pol", "f.c", "f.rc", "f.rs") " RETURNING f.i)," \
	" mm AS (" M_STORE_MATCHED_UPSERT("SELECT f.m, f.matched, f.at FROM f WHERE f.i IN (SELECT i FROM u)") ")," \
	" a AS (" AUDIT_INSERT " SELECT f.at, f.am, 'attest', 'pass', '', f.detail FROM f" \
	" WHERE f.i IN (SELECT i FROM u) ORDER BY f.i)" \
	" SELECT j.i, (SELECT count(*) FROM f WHERE f.i = j.i)," \
	" 1 / (1 + (SELECT count(*) FROM u) - (SELECT count(*) FROM f)) FROM j"

struct pass_ctx {
	struct m_store_pass *const *p;
	size_t n;
};

/* a row of PASS_SETTLE_MANY's answer: the request's index, whether its nonce was fresh */
static int pass_row(int n, const char *const *v, void *arg)
{
	struct pass_ctx *c = arg;
	long i;

	if (n < 2 || !v[0] || !v[1] || (i = strtol(v[0], NULL, 10)) < 0 || (size_t)i >= c->n)
		return -EIO;
	c->p[i]->result = strtol(v[1], NULL, 10) ? 0 : -EALREADY;
	return 0;
}

static json_object *pass_json(const struct m_store_pass *p, size_t i, char *const t[5])
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "i", json_object_new_int64((int64_t)i));
	json_object_object_add(o, "m", json_object_new_string(p->seen->name));
	json_object_object_add(o, "c", json_object_new_int64((int64_t)p->clock));
	json_object_object_add(o, "rc", json_object_new_int64(p->reset));
	json_object_object_add(o, "rs", json_object_new_int64(p->restart));
	json_object_object_add(o, "at", json_object_new_int64(p->at));
	json_object_object_add(o, "ak", json_object_new_string(p->seen->ak_pub));
	json_object_object_add(o, "pol", json_object_new_string(p->seen->policy));
	json_object_object_add(o, "nonce", json_object_new_string(p->nonce_hex));
	json_object_object_add(o, "expires", json_object_new_int64(p->expires));
	json_object_object_add(o, "matched", json_object_new_string(p->matched));
	json_object_object_add(o, "am", json_object_new_string(t[0]));
	json_object_object_add(o, "detail", json_object_new_string(t[4]));
	return o;
}

int m_store_pass_settle_many(struct m_store *s, struct m_store_pass *const *p, size_t n)
{
	json_object *rows;
	struct pass_ctx c = { p, n };
	int r = 0;

	for (size_t i = 0; i < n; i++)
		p[i]->result = -EAGAIN;
	/* SQLite: statements cost no exchange; the long way is as fast */
	if (strcmp(s->ops->kind, "postgresql"))
		return 0;
	if (!(rows = json_object_new_array()))
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		char *t[5];

		/* a value out of range: the long way names it */
		if (p[i]->clock > INT64_MAX || strlen(p[i]->matched) >= M_STORE_MATCHED_MAX)
			continue;
		r = audit_texts(t, p[i]->seen->name, "attest", "pass", "", p[i]->detail);
		if (r < 0)
			break;
		json_object_array_add(rows, pass_json(p[i], i, t));
		for (size_t k = 0; k < 5; k++)
			free(t[k]);
		p[i]->result = 1;	/* sent: its row of the answer says */
	}
	if (r == 0 && json_object_array_length(rows)) {
		struct m_sqlp sp[] = { SQL_TEXT(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN)) };

		r = q(s, PASS_SETTLE_MANY, sp, 1, pass_row, &c, NULL);
		for (size_t i = 0; i < n && r == 0; i++)
			if (p[i]->result == 1)
				r = m_err(-EIO, "postgresql: no answer for the pass of '%s'", p[i]->seen->name);
	}
	json_object_put(rows);
	if (r == 0)
		return 0;
	/* the division: nothing written, each settles alone */
	if (r == -EDOM)
		r = 0;
	for (size_t i = 0; i < n; i++)
		p[i]->result = r < 0 ? r : -EAGAIN;
	return r;
}

int m_store_audit_row(int n, const char *const *v, void *arg)
{
	struct m_audit_ctx *c = arg;
	struct m_audit a;

	if (n < 7)
		return -EIO;
	a.id = num(v[0]);
	a.at = num(v[1]);
	a.machine = v[2] ? v[2] : "";
	a.event = v[3] ? v[3] : "";
	a.result = v[4] ? v[4] : "";
	a.reason = v[5] ? v[5] : "";
	a.detail = v[6] ? v[6] : "";
	return c->cb(&a, c->arg);
}

int m_store_audit_list(struct m_store *s, const char *machine, size_t limit,
		       int (*cb)(const struct m_audit *a, void *arg), void *arg)
{
	struct m_sqlp p[] = { SQL_TEXT(machine), SQL_INT(limit ? (int64_t)limit : INT64_MAX) };
	struct m_audit_ctx c = { cb, arg };

	/* the newest @limit, oldest first */
	return q(s, "SELECT id, at, machine, event, result, reason, detail FROM"
		    " (SELECT * FROM audit WHERE (CAST($1 AS TEXT) IS NULL OR machine = $1) ORDER BY id DESC LIMIT $2) AS t"
		    " ORDER BY id", p, 2, m_store_audit_row, &c, NULL);
}
