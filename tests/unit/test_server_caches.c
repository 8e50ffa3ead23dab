// SPDX-License-Identifier: MIT
/*
 * The verifier's in-process tables: keycache.c (bounded, chained: keys
 * that share a chain are all kept; past the bound a new key replaces the
 * first of its own chain; every value is freed once), and machine_cache.c
 * (only approved rows are remembered, a recall is a copy, a forgotten or
 * unapproved machine is read again).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "server.h"

static int freed;

static void count_free(void *v)
{
	freed++;
	free(v);
}

static void copy_int(const void *val, void *arg)
{
	*(int *)arg = *(const int *)val;
}

static int *boxed(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

static void test_keycache(void **state)
{
	struct srv_kcache c = SRV_KCACHE_INIT(64, count_free);
	char k[32];
	int got = -1, kept = 0;

	(void)state;
	freed = 0;
	assert_false(srv_kcache_get(&c, "a", copy_int, &got));	/* empty, nothing allocated yet */
	/* 64 keys in 64 chains: some chains hold several, and every key is kept all the same */
	for (int i = 0; i < 64; i++) {
		snprintf(k, sizeof(k), "machine-%d", i);
		srv_kcache_put(&c, k, boxed(i));
	}
	for (int i = 0; i < 64; i++) {
		snprintf(k, sizeof(k), "machine-%d", i);
		assert_true(srv_kcache_get(&c, k, copy_int, &got));
		assert_int_equal(got, i);
	}
	assert_int_equal(c.n, 64);
	assert_int_equal(freed, 0);
	/* a key again: its value replaced, the old one freed */
	srv_kcache_put(&c, "machine-7", boxed(700));
	assert_true(srv_kcache_get(&c, "machine-7", copy_int, &got));
	assert_int_equal(got, 700);
	assert_int_equal(freed, 1);
	assert_int_equal(c.n, 64);
	/* full: new keys replace others, never grow the table */
	for (int i = 64; i < 128; i++) {
		snprintf(k, sizeof(k), "machine-%d", i);
		srv_kcache_put(&c, k, boxed(i));
		assert_true(c.n <= 64);
	}
	for (int i = 0; i < 128; i++) {
		snprintf(k, sizeof(k), "machine-%d", i);
		if (srv_kcache_get(&c, k, copy_int, &got)) {
			assert_int_equal(got, i == 7 ? 700 : i);
			kept++;
		}
	}
	assert_int_equal(kept, (int)c.n);
	assert_int_equal(freed, 1 + 128 - 64 - (64 - kept));	/* what is not kept was freed */
	srv_kcache_del(&c, "machine-7");
	srv_kcache_del(&c, "machine-7");	/* twice: nothing more */
	assert_false(srv_kcache_get(&c, "machine-7", copy_int, &got));
	srv_kcache_clear(&c);
	assert_int_equal(freed, 1 + 128);	/* every value once */
	assert_int_equal(c.n, 0);
	assert_false(srv_kcache_get(&c, "machine-8", copy_int, &got));
}

static void test_machine_cache(void **state)
{
	struct m_machine m = { .name = "box", .policy = "boot,disk", .tpm = "2.0", .ek_trust = "tofu",
			       .ek_pub = (char *)"RUsx", .ak_pub = (char *)"QUsx", .state = M_MACHINE_APPROVED };
	struct m_machine got;

	(void)state;
	assert_false(srv_machine_recall("box", &got));
	srv_machine_remember(&m);
	assert_true(srv_machine_recall("box", &got));
	assert_true(srv_machine_same(&got, &m));
	assert_ptr_not_equal(got.ak_pub, m.ak_pub);	/* a copy: the table may drop its row meanwhile */
	m_machine_clear(&got);
	/* any field the endpoints use makes another row */
	assert_true(srv_machine_recall("box", &got));
	got.ak_pub[3] = 'y';
	assert_false(srv_machine_same(&got, &m));
	m_machine_clear(&got);
	/* a row read not approved (revoked, pending) is forgotten, never remembered */
	m.state = M_MACHINE_REVOKED;
	srv_machine_remember(&m);
	assert_false(srv_machine_recall("box", &got));
	m.state = M_MACHINE_APPROVED;
	srv_machine_remember(&m);
	srv_machine_forget("box");
	assert_false(srv_machine_recall("box", &got));
	assert_false(srv_machine_recall("nobox", &got));
	srv_machine_remember(&m);
	srv_machine_cache_free();
	assert_false(srv_machine_recall("box", &got));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keycache),
		cmocka_unit_test(test_machine_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
