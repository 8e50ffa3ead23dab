// SPDX-License-Identifier: MIT
/*
 * Statements the request threads share (PostgreSQL): a thread with a
 * pass to settle queues it; if no statement of that kind is under way,
 * that thread takes every queued request (up to SRV_GROUP_MAX) and sends
 * them in one statement on its own connection
 * (m_store_pass_settle_many()), then hands each thread its answer.
 * Requests that arrive meanwhile wait for the next statement, which their
 * first thread sends: a group commit.  About half of PostgreSQL's CPU per
 * statement is paid per exchange (reading it, waking, answering:
 * docs/server.md, "Measured here"), so k passes in one statement
 * cost much less than k statements.  Only requests that wait at the same
 * time go together: it takes several request threads (--threads), and a
 * verifier busy enough that their passes meet.  A request waits at most
 * for the statement under way when it came (and for those of
 * SRV_GROUP_MAX requests before it, or of one it may not go with).
 *
 * Nothing changes about what is written or when an answer leaves: a pass
 * is answered after its statement committed.  The error of a statement
 * that failed is each request's answer (settle() in attest.c logs it); a
 * statement that a row refused wrote nothing, and each request settles
 * alone, where the cause is met and named.
 */
#include <string.h>
#include "server.h"

struct srv_group_job {
	void *arg;
	bool done;
	struct srv_group_job *next;
};

/* under the lock: up to SRV_GROUP_MAX queued requests that may go together, out of the queue */
static size_t take(struct srv_group *g, struct srv_group_job **jobs, void **args)
{
	struct srv_group_job **at = &g->queue;
	size_t n = 0;

	while (*at && n < SRV_GROUP_MAX) {
		struct srv_group_job *j = *at;
		bool apart = false;

		for (size_t i = 0; i < n && g->apart && !apart; i++)
			apart = g->apart(args[i], j->arg);
		if (apart) {
			at = &j->next;	/* the next statement's */
			continue;
		}
		*at = j->next;
		jobs[n] = j;
		args[n++] = j->arg;
	}
	return n;
}

void srv_group_run(struct srv_group *g, struct m_store *st, void *arg)
{
	struct srv_group_job self = { .arg = arg }, **end;

	pthread_mutex_lock(&g->lock);
	for (end = &g->queue; *end; end = &(*end)->next)
		;
	*end = &self;
	while (!self.done) {
		struct srv_group_job *jobs[SRV_GROUP_MAX];
		void *args[SRV_GROUP_MAX];
		size_t n;

		if (g->leading) {
			pthread_cond_wait(&g->settled, &g->lock);
			continue;
		}
		g->leading = true;
		n = take(g, jobs, args);
		g->statements++;
		g->requests += n;
		pthread_mutex_unlock(&g->lock);
		g->run(st, args, n);
		pthread_mutex_lock(&g->lock);
		for (size_t i = 0; i < n; i++)
			jobs[i]->done = true;
		g->leading = false;
		pthread_cond_broadcast(&g->settled);
	}
	pthread_mutex_unlock(&g->lock);
}

void srv_group_stats(struct srv_group *g, unsigned long *statements, unsigned long *requests)
{
	pthread_mutex_lock(&g->lock);
	*statements = g->statements;
	*requests = g->requests;
	pthread_mutex_unlock(&g->lock);
}

/* ---- passes ---- */

/* two passes of one machine never share a statement: its clock orders them, and a nonce is one machine's */
static bool same_machine(const void *a, const void *b)
{
	return !strcmp(((const struct m_store_pass *)a)->seen->name, ((const struct m_store_pass *)b)->seen->name);
}

static void run_passes(struct m_store *st, void *const *args, size_t n)
{
	m_store_pass_settle_many(st, (struct m_store_pass *const *)args, n);	/* each one's answer in it */
}

struct srv_group srv_group_passes = SRV_GROUP_INIT(same_machine, run_passes);
