// SPDX-License-Identifier: MIT
/*
 * A bounded table of values keyed by text, shared by a process's request
 * threads (akcache.c, machine_cache.c).  Chained: a direct-mapped table of
 * as many slots as a 100,000-machine fleet lost half of its entries to
 * collisions (with n keys in m slots, a key shares its slot with another
 * with probability 1 - e^(-n/m): 53% at n/m = 0.76), and each loss cost the
 * work the table saves.  At most @max entries; a new key past that
 * replaces the first entry of its own chain (none if the chain is empty),
 * so a fleet larger than the table still finds most of its keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

struct srv_kc_entry {
	struct srv_kc_entry *next;
	void *val;
	char key[];
};

static size_t bucket_of(const struct srv_kcache *c, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return (size_t)(h % c->max);
}

/* with c->lock held: the buckets, allocated on first use */
static bool ready(struct srv_kcache *c)
{
	if (!c->b)
		c->b = calloc(c->max, sizeof(*c->b));
	return c->b != NULL;
}

bool srv_kcache_get(struct srv_kcache *c, const char *key, void (*copy)(const void *val, void *arg), void *arg)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	if (c->b)
		for (struct srv_kc_entry *e = c->b[bucket_of(c, key)]; e; e = e->next)
			if (!strcmp(e->key, key)) {
				copy(e->val, arg);
				found = true;
				break;
			}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* with c->lock held: unlink @key's entry; the caller frees what it returns */
static struct srv_kc_entry *unlink_key(struct srv_kcache *c, size_t b, const char *key)
{
	for (struct srv_kc_entry **p = &c->b[b]; *p; p = &(*p)->next)
		if (!strcmp((*p)->key, key)) {
			struct srv_kc_entry *e = *p;

			*p = e->next;
			c->n--;
			return e;
		}
	return NULL;
}

static void entry_free(const struct srv_kcache *c, struct srv_kc_entry *e)
{
	if (e) {
		c->free_val(e->val);
		free(e);
	}
}

void srv_kcache_put(struct srv_kcache *c, const char *key, void *val)
{
	size_t len = strlen(key) + 1, b;
	struct srv_kc_entry *e = malloc(sizeof(*e) + len), *old = NULL, *evicted = NULL;

	if (!e) {
		c->free_val(val);	/* not kept: the next request does the work again */
		return;
	}
	memcpy(e->key, key, len);
	e->val = val;
	pthread_mutex_lock(&c->lock);
	if (!ready(c)) {
		pthread_mutex_unlock(&c->lock);
		entry_free(c, e);
		return;
	}
	b = bucket_of(c, key);
	old = unlink_key(c, b, key);
	if (c->n == c->max && c->b[b]) {
		evicted = c->b[b];
		c->b[b] = evicted->next;
		c->n--;
	}
	if (c->n < c->max) {
		e->next = c->b[b];
		c->b[b] = e;
		c->n++;
		e = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	entry_free(c, old);
	entry_free(c, evicted);
	entry_free(c, e);
}

void srv_kcache_del(struct srv_kcache *c, const char *key)
{
	struct srv_kc_entry *e = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->b)
		e = unlink_key(c, bucket_of(c, key), key);
	pthread_mutex_unlock(&c->lock);
	entry_free(c, e);
}

void srv_kcache_clear(struct srv_kcache *c)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; c->b && i < c->max; i++)
		while (c->b[i]) {
			struct srv_kc_entry *e = c->b[i];

			c->b[i] = e->next;
			entry_free(c, e);
		}
	free(c->b);
	c->b = NULL;
	c->n = 0;
	pthread_mutex_unlock(&c->lock);
}
