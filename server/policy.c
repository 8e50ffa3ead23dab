// SPDX-License-Identifier: MIT
/*
 * Policies: a name, its named reference manifests (docs/manifest.md; one,
 * "default", unless a rollout added more), the PCRs and banks a quote must
 * cover.  The manifests are parsed once per policy version and kept for
 * the life of the process (replaced versions stay allocated until exit,
 * so a request still using one is never left with freed memory; there are
 * as many as there were `admin policy add` and `policy manifest` runs).
 *
 * Which version is current (the policy's head row) is read again at most
 * every SRV_POLICY_RECHECK_MS per process, not on every request: two
 * database statements fewer per attestation, and a replaced policy is in
 * force within that time (docs/server.md).  A policy found missing is not
 * remembered, so one added later counts at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "measured/error.h"
#include "server.h"

struct srv_policy_head {
	struct srv_policy_head *next;
	struct m_policy head;	/* without its manifest */
	int64_t checked_ms;	/* CLOCK_MONOTONIC */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* with s->lock held */
static struct srv_policy_head *head_find(struct srv *s, const char *name)
{
	struct srv_policy_head *h;

	for (h = s->heads; h; h = h->next)
		if (!strcmp(h->head.name, name))
			break;
	return h;
}

/* @name's head: from this process's copy when it is recent enough, else from @st */
static int head_get(struct srv *s, struct m_store *st, const char *name, struct m_policy *ret)
{
	struct srv_policy_head *h;
	int64_t t = mono_ms();
	int r;

	pthread_mutex_lock(&s->lock);
	h = head_find(s, name);
	if (h && t - h->checked_ms < SRV_POLICY_RECHECK_MS) {
		*ret = h->head;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);
	r = m_store_policy_head(st, name, ret);
	if (r < 0)
		return r;
	pthread_mutex_lock(&s->lock);
	h = head_find(s, name);
	if (!h && (h = calloc(1, sizeof(*h)))) {
		h->next = s->heads;
		s->heads = h;
	}
	if (h) {
		h->head = *ret;
		h->checked_ms = t;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

struct srv_cached_policy {
	struct srv_cached_policy *next;
	char name[M_STORE_NAME_MAX];
	int64_t version;
	size_t n;
	struct m_manifest *m[M_STORE_MANIFESTS_MAX];
	char label[M_STORE_MANIFESTS_MAX][M_STORE_NAME_MAX];
};

static const struct srv_cached_policy *lookup(struct srv *s, const char *name, int64_t version)
{
	const struct srv_cached_policy *found = NULL;

	pthread_mutex_lock(&s->lock);
	for (struct srv_cached_policy *c = s->policies; c; c = c->next)
		if (c->version == version && !strcmp(c->name, name)) {
			found = c;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return found;
}

static void cached_free(struct srv_cached_policy *c)
{
	for (size_t i = 0; i < c->n; i++)
		m_manifest_free(c->m[i]);
	free(c);
}

static int load_row(const struct m_policy_manifest *pm, void *arg)
{
	struct srv_cached_policy *c = arg;
	int r;

	/* the store never holds more; a database edited by hand is refused, not cut */
	if (c->n == M_STORE_MANIFESTS_MAX)
		return m_err(-E2BIG, "policy '%s': more than %u manifests", c->name, M_STORE_MANIFESTS_MAX);
	r = m_manifest_parse(pm->manifest, strlen(pm->manifest), pm->label, &c->m[c->n]);
	if (r < 0)
		return m_err_prefix(r, "policy '%s', manifest '%s'", c->name, pm->label);
	memcpy(c->label[c->n++], pm->label, sizeof(pm->label));
	return 0;
}

/* @version: the head's; the rows read after it are as new or newer, and a newer head reloads them */
static int load(struct srv *s, struct m_store *st, const char *name, int64_t version,
		const struct srv_cached_policy **ret)
{
	struct srv_cached_policy *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->version = version;
	r = m_store_policy_manifests(st, name, true, load_row, c);
	if (r == 0 && c->n == 0)
		r = m_err(-ENOENT, "policy '%s' does not exist", name);
	if (r < 0) {
		cached_free(c);
		return r;
	}
	pthread_mutex_lock(&s->lock);
	c->next = s->policies;
	s->policies = c;
	pthread_mutex_unlock(&s->lock);
	*ret = c;
	return 0;
}

int srv_policies(struct srv *s, struct m_store *st, const char *list, struct srv_policy_set *ret)
{
	char buf[M_STORE_POLICY_LIST_MAX], *save = NULL, *tok;
	size_t len = strlen(list);
	int r;

	memset(ret, 0, sizeof(*ret));
	/* never cut: a list cut short would leave its last policies unchecked */
	if (len >= sizeof(buf))
		return m_err(-EOVERFLOW, "a policy list of %zu characters (at most %zu)", len, sizeof(buf) - 1);
	memcpy(buf, list, len + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct m_policy head;
		const struct srv_cached_policy *c;

		if (ret->n == SRV_MAX_POLICIES)
			return m_err(-E2BIG, "more than %u policies", SRV_MAX_POLICIES);
		if (strlen(tok) >= sizeof(ret->names[0]))
			return m_err(-EOVERFLOW, "a policy name of %zu characters", strlen(tok));
		r = head_get(s, st, tok, &head);
		if (r == -ENOENT)
			return m_err(-ENOENT, "policy '%s' does not exist", tok);
		if (r < 0)
			return r;
		c = lookup(s, tok, head.version);
		if (!c && (r = load(s, st, tok, head.version, &c)) < 0)
			return r;
		for (size_t i = 0; i < c->n; i++) {
			ret->m[ret->nm] = c->m[i];
			ret->label[ret->nm] = c->label[i];
			ret->group[ret->nm++] = (unsigned)ret->n;
		}
		memcpy(ret->names[ret->n++], tok, strlen(tok) + 1);
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
	struct srv_policy_head *h = s->heads, *hn;

	for (; c; c = n) {
		n = c->next;
		cached_free(c);
	}
	s->policies = NULL;
	for (; h; h = hn) {
		hn = h->next;
		free(h);
	}
	s->heads = NULL;
}

struct decoy_ctx {
	uint32_t pcrs;
	unsigned banks;
};

static int decoy_row(const struct m_policy *p, void *arg)
{
	struct decoy_ctx *d = arg;

	d->pcrs |= p->pcrs;
	d->banks |= p->banks;
	return 0;
}

int srv_decoy_selection(struct srv *s, struct m_store *st, uint32_t *ret_pcrs, unsigned *ret_banks)
{
	struct decoy_ctx d = { 0 };
	int64_t t = mono_ms();
	bool fresh;
	int r;

	pthread_mutex_lock(&s->lock);
	fresh = s->decoy_ms && t - s->decoy_ms < SRV_POLICY_RECHECK_MS;
	d.pcrs = s->decoy_pcrs;
	d.banks = s->decoy_banks;
	pthread_mutex_unlock(&s->lock);
	if (!fresh) {
		d = (struct decoy_ctx){ 0 };
		r = m_store_policy_list(st, decoy_row, &d);
		if (r < 0)
			return r;
		if (!d.pcrs || !d.banks)
			d = (struct decoy_ctx){ SRV_DECOY_PCRS, M_BANK_BIT(M_SHA256) };
		pthread_mutex_lock(&s->lock);
		s->decoy_pcrs = d.pcrs;
		s->decoy_banks = d.banks;
		s->decoy_ms = t;
		pthread_mutex_unlock(&s->lock);
	}
	*ret_pcrs = d.pcrs;
	*ret_banks = d.banks;
	return 0;
}
