// SPDX-License-Identifier: MIT
/*
 * Audit records, bounded.  A request that proved nothing (no verified
 * quote, no activated credential) can be sent by anyone, thousands a
 * second: its record is written only while a token bucket allows
 * (SRV_AUDIT_UNAUTH_RATE a second, bursts of SRV_AUDIT_UNAUTH_BURST), and
 * the rest are counted and summed up in one record per
 * SRV_AUDIT_FLUSH_S seconds (srv_audit_flush(), from the main thread).
 * Records of proven requests are always written.
 */
#include <stdio.h>
#include <time.h>
#include "server.h"

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* one token, or false (and the miss counted) */
static bool take(struct srv *s)
{
	double t = mono();
	bool ok;

	pthread_mutex_lock(&s->lock);
	if (s->audit_t == 0)
		s->audit_tokens = SRV_AUDIT_UNAUTH_BURST;
	else
		s->audit_tokens += (t - s->audit_t) * SRV_AUDIT_UNAUTH_RATE;
	if (s->audit_tokens > SRV_AUDIT_UNAUTH_BURST)
		s->audit_tokens = SRV_AUDIT_UNAUTH_BURST;
	s->audit_t = t;
	ok = s->audit_tokens >= 1;
	if (ok)
		s->audit_tokens -= 1;
	else
		s->audit_dropped++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void srv_audit(struct srv *s, struct m_store *st, bool proven, const char *machine, const char *event,
	       const char *result, const char *reason, const char *detail)
{
	int r;

	if (!proven && !take(s))
		return;
	r = m_store_audit(st, machine, event, result, reason, detail);
	if (r < 0)
		slog_error("audit", r);
}

void srv_audit_flush(struct srv *s, struct m_store *st)
{
	unsigned long n;
	char d[96];
	int r;

	pthread_mutex_lock(&s->lock);
	n = s->audit_dropped;
	s->audit_dropped = 0;
	pthread_mutex_unlock(&s->lock);
	if (!n)
		return;
	snprintf(d, sizeof(d), "%lu records of unproven requests over the rate limit, not written", n);
	r = m_store_audit(st, "", "audit-suppressed", "fail", "rate-limited", d);
	if (r < 0) {
		/* the database is away: the count waits for the next flush instead of being lost */
		pthread_mutex_lock(&s->lock);
		s->audit_dropped += n;
		pthread_mutex_unlock(&s->lock);
		slog_error("audit", r);
		return;
	}
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "suppressed", json_object_new_int64((int64_t)n));
		slog("warning", "audit-suppressed", f);
	}
}
