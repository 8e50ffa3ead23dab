// SPDX-License-Identifier: MIT
/*
 * Passes the request threads settle together (PostgreSQL): a thread with
 * a pass to settle queues it; if no statement is under way, that thread
 * takes every queued pass (up to SRV_GROUP_MAX, one per machine) and
 * sends them in one statement on its own connection
 * (m_store_pass_settle_many()), then hands each thread its answer.
 * Passes that arrive meanwhile wait for the next statement, which their
 * first thread sends: a group commit.  About half of PostgreSQL's CPU per
 * statement is paid per exchange (reading it, waking, answering:
 * docs/server.md, "Measured here"), so k passes in one statement
 * cost much less than k statements.  Only passes that wait at the same
 * time go together: it takes several request threads (--threads), and a
 * verifier busy enough that their passes meet.  A pass waits at most
 * for the statement under way when it came (and for those of
 * SRV_GROUP_MAX passes before it, or of its machine's).
 *
 * Nothing changes about what is written or when an answer leaves: a pass
 * is answered after its statement committed.  The error of a statement
 * that failed is each pass's answer (settle() in attest.c logs it); a
 * statement that a row refused wrote nothing, and each pass settles
 * alone, where the cause is met and named.
 */
#include <pthread.h>
#include <string.h>
#include "server.h"

struct job {
	struct m_store_pass *p;
	bool done;
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t settled = PTHREAD_COND_INITIALIZER;
static struct job *queue;	/* oldest first */
static bool leading;		/* a statement is under way */
static unsigned long statements, passes;

/* two passes of one machine never share a statement: its clock orders them, and a nonce is one machine's */
static bool same_machine(struct m_store_pass *const *b, size_t n, const struct m_store_pass *p)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i]->seen->name, p->seen->name))
			return true;
	return false;
}

/* under the lock: up to SRV_GROUP_MAX queued passes of distinct machines, out of the queue */
static size_t take(struct job **jobs, struct m_store_pass **b)
{
	struct job **at = &queue;
	size_t n = 0;

	while (*at && n < SRV_GROUP_MAX) {
		struct job *j = *at;

		if (same_machine(b, n, j->p)) {
			at = &j->next;	/* the next statement's */
			continue;
		}
		*at = j->next;
		jobs[n] = j;
		b[n++] = j->p;
	}
	return n;
}

int srv_pass_group(struct m_store *st, struct m_store_pass *p)
{
	struct job self = { .p = p }, **end;

	pthread_mutex_lock(&lock);
	for (end = &queue; *end; end = &(*end)->next)
		;
	*end = &self;
	while (!self.done) {
		struct job *jobs[SRV_GROUP_MAX];
		struct m_store_pass *b[SRV_GROUP_MAX];
		size_t n;

		if (leading) {
			pthread_cond_wait(&settled, &lock);
			continue;
		}
		leading = true;
		n = take(jobs, b);
		statements++;
		passes += n;
		pthread_mutex_unlock(&lock);
		m_store_pass_settle_many(st, b, n);	/* each one's answer in it */
		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < n; i++)
			jobs[i]->done = true;
		leading = false;
		pthread_cond_broadcast(&settled);
	}
	pthread_mutex_unlock(&lock);
	return p->result;
}

void srv_pass_group_stats(unsigned long *nstatements, unsigned long *npasses)
{
	pthread_mutex_lock(&lock);
	*nstatements = statements;
	*npasses = passes;
	pthread_mutex_unlock(&lock);
}
