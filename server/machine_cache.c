// SPDX-License-Identifier: MIT
/*
 * Approved machines' rows as this process last read them: /v1/nonce reads
 * the row (the PCRs it names are the current policies') and remembers it,
 * and /v1/attest recalls it instead of reading it again.  On a busy
 * verifier each read was a twentieth of its CPU, and on PostgreSQL one of
 * an attestation's six exchanges.
 *
 * A remembered row is never trusted alone (attest.c): the attestation's
 * record is written only if the row still holds the AK and policy list
 * the checks used, and approved (m_store_machine_attested(): -ESTALE
 * otherwise, and the checks run again on a fresh read); an answer other
 * than a pass is given only after a fresh read found the row unchanged.
 * A revocation, a re-enrolment or another policy list at any verifier of
 * the database therefore counts at once, as without this table.
 *
 * Only what the endpoints use is kept (state, TPM family, policy list,
 * EK and AK), in one allocation per machine, and only for approved
 * machines: at most SRV_MACHINE_CACHE of them (keycache.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

struct mc_entry {
	char tpm[4];
	char ek_trust[16];
	char *policy, *ek_pub, *ak_pub;	/* into text[] */
	char text[];
};

static struct srv_kcache machines = SRV_KCACHE_INIT(SRV_MACHINE_CACHE, free);

/* @m's row in one allocation */
static struct mc_entry *entry_new(const struct m_machine *m)
{
	size_t lp = strlen(m->policy) + 1, le = strlen(m->ek_pub) + 1, la = strlen(m->ak_pub) + 1;
	struct mc_entry *e = malloc(sizeof(*e) + lp + le + la);

	if (!e)
		return NULL;
	memcpy(e->tpm, m->tpm, sizeof(e->tpm));
	memcpy(e->ek_trust, m->ek_trust, sizeof(e->ek_trust));
	e->policy = memcpy(e->text, m->policy, lp);
	e->ek_pub = memcpy(e->policy + lp, m->ek_pub, le);
	e->ak_pub = memcpy(e->ek_pub + le, m->ak_pub, la);
	return e;
}

/* under the table's lock: the row into the request's struct m_machine */
static void entry_copy(const void *val, void *arg)
{
	const struct mc_entry *e = val;
	struct m_machine *m = arg;

	/* every field fits: it came from a struct m_machine of the same sizes */
	snprintf(m->policy, sizeof(m->policy), "%s", e->policy);
	memcpy(m->tpm, e->tpm, sizeof(m->tpm));
	memcpy(m->ek_trust, e->ek_trust, sizeof(m->ek_trust));
	m->ek_pub = strdup(e->ek_pub);
	m->ak_pub = strdup(e->ak_pub);
	m->state = M_MACHINE_APPROVED;
}

bool srv_machine_recall(const char *name, struct m_machine *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (snprintf(ret->name, sizeof(ret->name), "%s", name) >= (int)sizeof(ret->name) ||
	    !srv_kcache_get(&machines, name, entry_copy, ret))
		return false;
	if (!ret->ek_pub || !ret->ak_pub) {
		m_machine_clear(ret);
		return false;	/* out of memory: the caller reads the row */
	}
	return true;
}

void srv_machine_remember(const struct m_machine *m)
{
	struct mc_entry *e;

	if (m->state != M_MACHINE_APPROVED)
		srv_machine_forget(m->name);
	else if ((e = entry_new(m)))
		srv_kcache_put(&machines, m->name, e);
	else
		srv_machine_forget(m->name);	/* never an older row than the one read */
}

void srv_machine_forget(const char *name)
{
	srv_kcache_del(&machines, name);
}

bool srv_machine_same(const struct m_machine *a, const struct m_machine *b)
{
	return a->state == b->state && !strcmp(a->name, b->name) && !strcmp(a->policy, b->policy) &&
	       !strcmp(a->tpm, b->tpm) && !strcmp(a->ek_trust, b->ek_trust) && !strcmp(a->ek_pub, b->ek_pub) &&
	       !strcmp(a->ak_pub, b->ak_pub);
}

void srv_machine_cache_free(void)
{
	srv_kcache_clear(&machines);
}
