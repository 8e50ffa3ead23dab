// SPDX-License-Identifier: MIT
/*
 * A policy's named manifests, for rollouts (docs/server.md, "Rollouts"),
 * and the manifests each machine matched last.
 *
 * Two tables of their own, so a database made before them keeps working
 * as it is: a policy with no row in policy_manifests has one manifest,
 * the one `policy add` stored in policies.manifest, under the label
 * "default".  The first `manifest add` or `manifest retire` copies it
 * into policy_manifests; from then on the rows are the policy's
 * manifests, and `policy add` (which replaces the whole policy) deletes
 * them again.  Every change writes a new policies.version in the same
 * transaction, so each verifier's cache (server/policy.c) sees it within
 * SRV_POLICY_RECHECK_MS; the UPDATE of the policy's row comes first and
 * takes its row lock, so concurrent changes to one policy take turns
 * (SQLite: the transaction holds the write lock anyway).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "measured/error.h"
#include "store_priv.h"

/* a change here bumps SCHEMA_VERSION (store.c): PostgreSQL databases marked with it skip this step */
static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS policy_manifests ("
	" policy TEXT NOT NULL, label TEXT NOT NULL, manifest TEXT NOT NULL, added_at BIGINT NOT NULL,"
	" seq BIGINT NOT NULL, PRIMARY KEY (policy, label))",
};
static const char *const MACHINE_MATCHES[2] = M_STORE_KEYED(
	"CREATE TABLE IF NOT EXISTS machine_matches ("
	" machine TEXT PRIMARY KEY, matched TEXT NOT NULL, at BIGINT NOT NULL)");

static int q(struct m_store *s, const char *sql, const struct m_sqlp *p, int np, m_row_fn cb, void *arg,
	     int64_t *ch)
{
	return s->ops->query(s, sql, p, np, cb, arg, ch);
}

int m_store_manifests_schema(struct m_store *s)
{
	int r = 0;

	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]) && r == 0; i++)
		r = q(s, schema[i], NULL, 0, NULL, NULL, NULL);
	return r < 0 ? r : m_store_create_keyed(s, MACHINE_MATCHES);
}

int64_t m_store_version_new(void)
{
	struct timespec ts;

	/* changes on every write of a policy (microseconds), for the servers' manifest caches */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int m_store_manifests_reset(struct m_store *s, const char *policy, const char *label, const char *manifest)
{
	int64_t t = m_store_version_new();
	struct m_sqlp p[] = { SQL_TEXT(policy), SQL_TEXT(label), SQL_TEXT(manifest), SQL_INT(t / 1000000) };
	int r;

	if (label && !m_store_name_ok(label, strlen(label)))
		return m_err(-EINVAL, "a manifest label is 1 to %u characters of [A-Za-z0-9._-]", M_STORE_NAME_MAX - 1);
	r = q(s, "DELETE FROM policy_manifests WHERE policy = $1", p, 1, NULL, NULL, NULL);
	if (r == 0 && label && strcmp(label, M_STORE_DEFAULT_LABEL) != 0)
		r = q(s, "INSERT INTO policy_manifests (policy, label, manifest, added_at, seq) VALUES ($1, $2, $3, $4, 0)",
		      p, 4, NULL, NULL, NULL);
	return r;
}

static int count_row(int n, const char *const *v, void *arg)
{
	*(int64_t *)arg = n >= 1 && v[0] ? strtoll(v[0], NULL, 10) : 0;
	return 0;
}

/*
 * The start of a change to @policy's manifests, inside a transaction: a
 * new version (which locks the row, or -ENOENT), the stored default
 * copied into the table if it is not there yet; @ret_count: the manifests now.
 */
static int change_begin(struct m_store *s, const char *policy, int64_t *ret_count)
{
	int64_t t = m_store_version_new(), n = 0;
	struct m_sqlp p[] = { SQL_TEXT(policy), SQL_INT(t) };
	/* PostgreSQL prepares a statement only when it uses every parameter it is given */
	struct m_sqlp pd[] = { SQL_TEXT(policy), SQL_TEXT(M_STORE_DEFAULT_LABEL), SQL_INT(t / 1000000) };
	int r;

	r = q(s, "UPDATE policies SET version = $2 WHERE name = $1", p, 2, NULL, NULL, &n);
	if (r == 0 && n == 0)
		return m_err(-ENOENT, "no policy '%s' (see `admin policy list`)", policy);
	if (r == 0)
		r = q(s, "INSERT INTO policy_manifests (policy, label, manifest, added_at, seq)"
			 " SELECT name, CAST($2 AS TEXT), manifest, CAST($3 AS BIGINT), 0 FROM policies WHERE name = $1"
			 " AND NOT EXISTS (SELECT 1 FROM policy_manifests WHERE policy = $1)", pd, 3, NULL, NULL, NULL);
	if (r == 0)
		r = q(s, "SELECT COUNT(*) FROM policy_manifests WHERE policy = $1", p, 1, count_row, ret_count, NULL);
	return r;
}

static int change_end(struct m_store *s, int r)
{
	if (r == 0)
		return m_store_commit(s);
	m_store_rollback(s);
	return r;
}

int m_store_policy_manifest_add(struct m_store *s, const char *policy, const char *label, const char *manifest)
{
	int64_t t = m_store_version_new(), count = 0, n = 0;
	struct m_sqlp p[] = { SQL_TEXT(policy), SQL_TEXT(label), SQL_TEXT(manifest), SQL_INT(t / 1000000), SQL_INT(t) };
	int r;

	if (!m_store_name_ok(label, strlen(label)))
		return m_err(-EINVAL, "a manifest label is 1 to %u characters of [A-Za-z0-9._-]", M_STORE_NAME_MAX - 1);
	if (strlen(manifest) > M_STORE_MANIFEST_MAX)
		return m_err(-E2BIG, "a manifest of %zu bytes (at most %u)", strlen(manifest), M_STORE_MANIFEST_MAX);
	if ((r = m_store_begin(s)) < 0)
		return r;
	r = change_begin(s, policy, &count);
	if (r == 0 && count >= M_STORE_MANIFESTS_MAX)
		r = m_err(-E2BIG, "policy '%s' has %u manifests already (at most %u): retire one first", policy,
			  (unsigned)count, M_STORE_MANIFESTS_MAX);
	if (r == 0)
		r = q(s, "INSERT INTO policy_manifests (policy, label, manifest, added_at, seq)"
			 " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (policy, label) DO NOTHING", p, 5, NULL, NULL, &n);
	if (r == 0 && n == 0)
		r = m_err(-EEXIST, "policy '%s' has a manifest '%s' already (retire it first)", policy, label);
	return change_end(s, r);
}

int m_store_policy_manifest_retire(struct m_store *s, const char *policy, const char *label)
{
	struct m_sqlp p[] = { SQL_TEXT(policy), SQL_TEXT(label) };
	int64_t count = 0, n = 0;
	int r;

	if (!m_store_name_ok(label, strlen(label)))
		return m_err(-EINVAL, "a manifest label is 1 to %u characters of [A-Za-z0-9._-]", M_STORE_NAME_MAX - 1);
	if ((r = m_store_begin(s)) < 0)
		return r;
	r = change_begin(s, policy, &count);
	if (r == 0)
		r = q(s, "SELECT COUNT(*) FROM policy_manifests WHERE policy = $1 AND label = $2", p, 2, count_row, &n,
		      NULL);
	if (r == 0 && n == 0)
		r = m_err(-ENOENT, "policy '%s' has no manifest '%s'", policy, label);
	else if (r == 0 && count <= 1)
		r = m_err(-EBUSY, "'%s' is the last manifest of policy '%s': a policy without one would match"
			  " nothing (add its successor first)", label, policy);
	if (r == 0)
		r = q(s, "DELETE FROM policy_manifests WHERE policy = $1 AND label = $2", p, 2, NULL, NULL, NULL);
	return change_end(s, r);
}

struct pm_ctx {
	int (*cb)(const struct m_policy_manifest *pm, void *arg);
	void *arg;
};

static int pm_row(int n, const char *const *v, void *arg)
{
	struct pm_ctx *c = arg;
	struct m_policy_manifest pm = { 0 };
	size_t l;

	if (n < 3 || !v[0])
		return -EIO;
	l = strlen(v[0]);
	if (l >= sizeof(pm.label))
		return m_err(-EOVERFLOW, "a stored manifest label of %zu bytes", l);
	memcpy(pm.label, v[0], l + 1);
	pm.manifest = (char *)(v[1] ? v[1] : "");
	pm.added_at = v[2] ? strtoll(v[2], NULL, 10) : 0;
	return c->cb(&pm, c->arg);
}

int m_store_policy_manifests(struct m_store *s, const char *policy, bool with_text,
			     int (*cb)(const struct m_policy_manifest *pm, void *arg), void *arg)
{
	struct m_sqlp p[] = { SQL_TEXT(policy), SQL_TEXT(M_STORE_DEFAULT_LABEL) };
	struct pm_ctx c = { cb, arg };

	/* oldest first: the order a machine's evidence is tried in */
	if (with_text)
		return q(s, "SELECT label, manifest, added_at, seq FROM policy_manifests WHERE policy = $1"
			    " UNION ALL SELECT CAST($2 AS TEXT), manifest, 0, 0 FROM policies WHERE name = $1"
			    " AND NOT EXISTS (SELECT 1 FROM policy_manifests WHERE policy = $1)"
			    " ORDER BY 4, 1", p, 2, pm_row, &c, NULL);
	return q(s, "SELECT label, '', added_at, seq FROM policy_manifests WHERE policy = $1"
		    " UNION ALL SELECT CAST($2 AS TEXT), '', 0, 0 FROM policies WHERE name = $1"
		    " AND NOT EXISTS (SELECT 1 FROM policy_manifests WHERE policy = $1)"
		    " ORDER BY 4, 1", p, 2, pm_row, &c, NULL);
}

int m_store_machine_matched(struct m_store *s, const char *machine, const char *matched, int64_t at)
{
	struct m_sqlp p[] = { SQL_TEXT(machine), SQL_TEXT(matched), SQL_INT(at) };

	if (strlen(matched) >= M_STORE_MATCHED_MAX)
		return m_err(-E2BIG, "a list of matched manifests of %zu characters", strlen(matched));
	/* the same list again (every pass of a machine that did not change) writes nothing */
	return m_store_query_later(s, M_STORE_MATCHED_UPSERT("VALUES ($1, $2, $3)"), p, 3);
}

struct mm_ctx {
	int (*cb)(const char *machine, const char *matched, void *arg);
	void *arg;
};

static int mm_row(int n, const char *const *v, void *arg)
{
	struct mm_ctx *c = arg;

	if (n < 2)
		return -EIO;
	return c->cb(v[0] ? v[0] : "", v[1] ? v[1] : "", c->arg);
}

int m_store_machine_matched_list(struct m_store *s, int (*cb)(const char *machine, const char *matched, void *arg),
				 void *arg)
{
	struct mm_ctx c = { cb, arg };

	return q(s, "SELECT machine, matched FROM machine_matches ORDER BY machine", NULL, 0, mm_row, &c, NULL);
}
