// SPDX-License-Identifier: MIT
/*
 * Install metadata of payloads: one row per payload that is an install
 * package (table payload_install, docs/server.md), beside the payload's
 * own row, so the payload table and its statements stay as they are.
 */
#include <errno.h>
#include <string.h>
#include "measured/error.h"
#include "store_priv.h"

int m_store_payload_meta_put(struct m_store *s, const char *name, const struct m_payload_meta *m)
{
	if (!m) {
		struct m_sqlp p[] = { SQL_TEXT(name) };

		return s->ops->query(s, "DELETE FROM payload_install WHERE name = $1", p, 1, NULL, NULL, NULL);
	}
	struct m_sqlp p[] = { SQL_TEXT(name), SQL_TEXT(m->kind), SQL_TEXT(m->target), SQL_TEXT(m->digest) };

	return s->ops->query(s, "INSERT INTO payload_install (name, kind, target, digest) VALUES ($1, $2, $3, $4)"
			     " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, target = excluded.target,"
			     " digest = excluded.digest", p, 4, NULL, NULL, NULL);
}

static int field(char *dst, size_t n, const char *v)
{
	if (!v || strlen(v) >= n)
		return -EOVERFLOW;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int meta_row(int n, const char *const *v, void *arg)
{
	struct m_payload_meta *m = arg;

	if (n < 3)
		return -EIO;
	if (field(m->kind, sizeof(m->kind), v[0]) < 0 || field(m->target, sizeof(m->target), v[1]) < 0 ||
	    field(m->digest, sizeof(m->digest), v[2]) < 0)
		return m_err(-EOVERFLOW, "payload_install: a stored field is over its size");
	return 0;
}

int m_store_payload_meta_get(struct m_store *s, const char *name, struct m_payload_meta *ret)
{
	struct m_sqlp p[] = { SQL_TEXT(name) };
	struct m_payload_meta m;
	int64_t n = 0;
	int r;

	memset(&m, 0, sizeof(m));
	r = s->ops->query(s, "SELECT kind, target, digest FROM payload_install WHERE name = $1", p, 1, meta_row, &m,
			  &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;
	*ret = m;
	return 0;
}
