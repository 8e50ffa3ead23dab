// SPDX-License-Identifier: MIT
/* modules.dep limits (lib/initcore/moddep.c): duplicate lines, chains
 * deeper than MI_MODDEP_MAX_DEPTH, more than MI_MODDEP_MAX_MODULES lines,
 * and lookups in a file whose lines are not sorted. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "initcore.h"

static void test_duplicate(void **state)
{
	(void)state;
	static const char dup[] = "a.ko:\nb.ko: a.ko\na.ko:\n";
	struct mi_moddep *m = NULL;

	/* loaded twice otherwise: the second finit_module would be EEXIST at best */
	assert_int_equal(mi_moddep_parse(dup, strlen(dup), &m), -EINVAL);
}

/* "mN.ko: m(N+1).ko" for N < @depth, then the last module alone. */
static char *chain(unsigned depth, size_t *ret_len)
{
	size_t cap = (size_t)(depth + 1) * 40, len = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	for (unsigned i = 0; i < depth; i++)
		len += (size_t)snprintf(t + len, cap - len, "m%u.ko: m%u.ko\n", i, i + 1);
	len += (size_t)snprintf(t + len, cap - len, "m%u.ko:\n", depth);
	*ret_len = len;
	return t;
}

static void test_depth(void **state)
{
	(void)state;
	struct mi_moddep *m;
	const char **order;
	size_t len, n;
	char *t = chain(MI_MODDEP_MAX_DEPTH - 1, &len);	/* MAX_DEPTH modules deep: fine */

	assert_int_equal(mi_moddep_parse(t, len, &m), 0);
	assert_int_equal(mi_moddep_closure(m, NULL, 0, &order, &n), 0);
	assert_int_equal(n, MI_MODDEP_MAX_DEPTH);
	/* dependencies first: the end of the chain loads first, m0 last */
	char last[32];
	snprintf(last, sizeof(last), "m%u.ko", MI_MODDEP_MAX_DEPTH - 1);
	assert_string_equal(order[0], last);
	assert_string_equal(order[n - 1], "m0.ko");
	free(order);
	mi_moddep_free(m);
	free(t);

	t = chain(MI_MODDEP_MAX_DEPTH, &len);		/* one deeper: refused */
	assert_int_equal(mi_moddep_parse(t, len, &m), 0);
	assert_int_equal(mi_moddep_closure(m, NULL, 0, &order, &n), -ELOOP);
	mi_moddep_free(m);
	free(t);
}

static void test_too_many(void **state)
{
	(void)state;
	size_t cap = (size_t)(MI_MODDEP_MAX_MODULES + 1) * 16, len = 0;
	char *t = malloc(cap);
	struct mi_moddep *m;

	assert_non_null(t);
	for (unsigned i = 0; i < MI_MODDEP_MAX_MODULES; i++)
		len += (size_t)snprintf(t + len, cap - len, "x%u.ko:\n", i);
	assert_int_equal(mi_moddep_parse(t, len, &m), 0);
	assert_int_equal(mi_moddep_count(m), MI_MODDEP_MAX_MODULES);
	mi_moddep_free(m);
	len += (size_t)snprintf(t + len, cap - len, "y.ko:\n");
	assert_int_equal(mi_moddep_parse(t, len, &m), -E2BIG);
	free(t);
}

static void test_unsorted_lookup(void **state)
{
	(void)state;
	/* dependencies named before and after their own lines, in no order */
	static const char dep[] = "z.ko: c.ko a.ko\nc.ko: a.ko\nb.ko:\na.ko:\ny.ko: b.ko z.ko c.ko a.ko\n";
	const char *want[] = { "y" };
	struct mi_moddep *m;
	const char **order;
	size_t n;

	assert_int_equal(mi_moddep_parse(dep, strlen(dep), &m), 0);
	assert_int_equal(mi_moddep_closure(m, want, 1, &order, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(order[0], "b.ko");
	assert_string_equal(order[1], "a.ko");
	assert_string_equal(order[2], "c.ko");
	assert_string_equal(order[3], "z.ko");
	assert_string_equal(order[4], "y.ko");
	free(order);
	mi_moddep_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_unsorted_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
