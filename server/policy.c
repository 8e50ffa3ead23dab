// SPDX-License-Identifier: MIT
/*
 * Policies: a name, a reference manifest (docs/manifest.md), the PCRs and
 * banks a quote must cover.  A manifest is parsed once per policy version
 * and kept for the life of the process (replaced versions stay allocated
 * until exit, so a request still using one is never left with freed
 * memory; there are as many as there were `admin policy add` runs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "server.h"

struct srv_cached_policy {
	struct srv_cached_policy *next;
	char name[M_STORE_NAME_MAX];
	int64_t version;
	struct m_manifest *m;
};

static const struct m_manifest *lookup(struct srv *s, const char *name, int64_t version)
{
	const struct m_manifest *m = NULL;

	pthread_mutex_lock(&s->lock);
	for (struct srv_cached_policy *c = s->policies; c; c = c->next)
		if (c->version == version && !strcmp(c->name, name)) {
			m = c->m;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return m;
}

static int load(struct srv *s, struct m_store *st, const char *name, const struct m_manifest **ret)
{
	struct m_policy pol = { 0 };
	struct srv_cached_policy *c;
	struct m_manifest *m;
	int r;

	r = m_store_policy_get(st, name, &pol);
	if (r < 0)
		return r;
	r = m_manifest_parse(pol.manifest, strlen(pol.manifest), name, &m);
	if (r < 0) {
		m_policy_clear(&pol);
		return m_err_prefix(r, "policy '%s'", name);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		m_manifest_free(m);
		m_policy_clear(&pol);
		return -ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->version = pol.version;
	c->m = m;
	pthread_mutex_lock(&s->lock);
	c->next = s->policies;
	s->policies = c;
	pthread_mutex_unlock(&s->lock);
	m_policy_clear(&pol);
	*ret = m;
	return 0;
}

int srv_policies(struct srv *s, struct m_store *st, const char *list, struct srv_policy_set *ret)
{
	char buf[4 * M_STORE_NAME_MAX], *save = NULL, *tok;
	int r;

	memset(ret, 0, sizeof(*ret));
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct m_policy head;
		const struct m_manifest *m;

		if (ret->n == SRV_MAX_POLICIES)
			return m_err(-E2BIG, "more than %u policies", SRV_MAX_POLICIES);
		r = m_store_policy_head(st, tok, &head);
		if (r == -ENOENT)
			return m_err(-ENOENT, "policy '%s' does not exist", tok);
		if (r < 0)
			return r;
		m = lookup(s, tok, head.version);
		if (!m && (r = load(s, st, tok, &m)) < 0)
			return r;
		snprintf(ret->names[ret->n], sizeof(ret->names[0]), "%s", tok);
		ret->m[ret->n++] = m;
		ret->pcrs |= head.pcrs;
		ret->banks |= head.banks;
		for_each_bank(b, head.banks)
			ret->required[b] |= head.pcrs;
	}
	if (ret->n == 0)
		return m_err(-ENOENT, "the machine has no policy");
	return 0;
}

void srv_policies_free(struct srv *s)
{
	struct srv_cached_policy *c = s->policies, *n;

	for (; c; c = n) {
		n = c->next;
		m_manifest_free(c->m);
		free(c);
	}
	s->policies = NULL;
}
