// SPDX-License-Identifier: MIT
/* MCS label choice: uniform (chi-square), never a label in use, pairs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "svirt.h"

/* splitmix64: a seeded generator so the statistics are reproducible. */
struct sm { uint64_t s; unsigned calls; };
static int rng_sm(void *ctx, void *buf, size_t len)
{
	struct sm *g = ctx;
	uint8_t *p = buf;
	g->calls++;
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0) {
			uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			for (size_t k = 0; k < 8 && i + k < len; k++)
				p[i + k] = (uint8_t)((z ^ (z >> 31)) >> (8 * k));
		}
	}
	return 0;
}

/* A scripted generator: returns the listed 32-bit values in order. */
struct seq { const uint32_t *v; size_t n, i; };
static int rng_seq(void *ctx, void *buf, size_t len)
{
	struct seq *q = ctx;
	assert_int_equal(len, 4);
	assert_true(q->i < q->n);
	uint32_t x = q->v[q->i++];
	uint8_t *p = buf;
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(x >> (8 * k));
	return 0;
}

static double chi2(const unsigned *count, size_t cells, double expected)
{
	double x = 0;
	for (size_t i = 0; i < cells; i++) {
		double d = count[i] - expected;
		x += d * d / expected;
	}
	return x;
}

/* Bound = df + 6 * sqrt(2 df): a correct generator exceeds it with
 * probability far below 1e-6; modulo bias or a stuck cell exceeds it. */
#include <math.h>
static double chi2_bound(size_t cells) { return (cells - 1) + 6 * sqrt(2.0 * (cells - 1)); }

static void test_uniform_rejects_biased_values(void **state)
{
	(void)state;
	/* bound = 2^31 + 1: 2^32 mod bound = 2^31 - 1, so draws below that are
	 * rejected; `x % bound` would have returned 0x10. */
	uint32_t bound = 0x80000001u, out;
	uint32_t reject_below = (uint32_t)((1ULL << 32) % bound);
	assert_int_equal(reject_below, 0x7fffffffu);
	const uint32_t vals[] = { 0x10, reject_below - 1, reject_below };
	struct seq q = { vals, 3, 0 };
	assert_int_equal(svirt_uniform(rng_seq, &q, bound, &out), 0);
	assert_int_equal(q.i, 3);
	assert_int_equal(out, reject_below % bound);

	/* bound = 1023: 2^32 mod 1023 = 4 (4294967296 = 4198404 * 1023 + 4). */
	const uint32_t v2[] = { 3, 4 };
	struct seq q2 = { v2, 2, 0 };
	assert_int_equal(svirt_uniform(rng_seq, &q2, 1023, &out), 0);
	assert_int_equal(q2.i, 2);
	assert_int_equal(out, 4);
	/* bound = 1 always 0, bound = 0 refused */
	struct sm g = { 1, 0 };
	assert_int_equal(svirt_uniform(rng_sm, &g, 1, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(svirt_uniform(rng_sm, &g, 0, &out), -EINVAL);
}

static void test_single_uniform_chi2(void **state)
{
	(void)state;
	struct svirt_mcs m;
	assert_int_equal(svirt_mcs_init(&m, 1, 1023, false), 0);
	assert_int_equal(m.size, 1023);
	unsigned *count = calloc(1023, sizeof(*count));
	struct sm g = { 42, 0 };
	const unsigned draws = 1023 * 200;
	for (unsigned i = 0; i < draws; i++) {
		uint32_t idx;
		assert_int_equal(svirt_mcs_choose(&m, rng_sm, &g, &idx), 0);
		assert_true(idx < 1023);
		count[idx]++;
	}
	double x = chi2(count, 1023, 200.0);
	print_message("chi2 single = %.1f (bound %.1f)\n", x, chi2_bound(1023));
	assert_true(x < chi2_bound(1023));
	/* c1 and c1023 (the ends) are reachable */
	assert_true(count[0] > 0 && count[1022] > 0);
	free(count);
	svirt_mcs_free(&m);
}

static void test_never_in_use_and_uniform_over_free(void **state)
{
	(void)state;
	struct svirt_mcs m;
	char r[32];
	assert_int_equal(svirt_mcs_init(&m, 1, 1023, false), 0);
	for (unsigned c = 1; c <= 1023; c += 2) {
		snprintf(r, sizeof(r), "s0:c%u", c);
		assert_int_equal(svirt_mcs_mark_range(&m, r), 0);
	}
	assert_int_equal(m.used, 512);
	unsigned count[1024] = { 0 };
	struct sm g = { 7, 0 };
	for (unsigned i = 0; i < 511 * 200; i++) {
		uint32_t idx;
		unsigned a, b;
		assert_int_equal(svirt_mcs_choose(&m, rng_sm, &g, &idx), 0);
		svirt_mcs_label(&m, idx, &a, &b);
		assert_int_equal(a % 2, 0); /* only even categories are free */
		assert_false(svirt_mcs_in_use(&m, idx));
		count[a / 2 - 1]++;
	}
	double x = chi2(count, 511, 200.0);
	assert_true(x < chi2_bound(511));
	svirt_mcs_free(&m);
}

static void test_exhaustion(void **state)
{
	(void)state;
	struct svirt_mcs m;
	char r[32];
	unsigned seen = 0;
	struct sm g = { 3, 0 };
	assert_int_equal(svirt_mcs_init(&m, 10, 14, false), 0);
	for (int i = 0; i < 5; i++) {
		uint32_t idx;
		unsigned a, b;
		assert_int_equal(svirt_mcs_choose(&m, rng_sm, &g, &idx), 0);
		assert_int_equal(svirt_mcs_range_str(&m, idx, r, sizeof(r)), 0);
		svirt_mcs_label(&m, idx, &a, &b);
		assert_true(a >= 10 && a <= 14);
		assert_false(seen & (1u << (a - 10)));
		seen |= 1u << (a - 10);
		assert_int_equal(svirt_mcs_mark_range(&m, r), 0);
	}
	assert_int_equal(seen, 0x1f);
	uint32_t idx;
	assert_int_equal(svirt_mcs_choose(&m, rng_sm, &g, &idx), -ENOSPC);
	/* labels outside the space do not count */
	assert_int_equal(svirt_mcs_mark_range(&m, "s0:c500"), 0);
	assert_int_equal(m.used, 5);
	svirt_mcs_free(&m);
	assert_int_equal(svirt_mcs_init(&m, 0, 10, false), -EINVAL);
	assert_int_equal(svirt_mcs_init(&m, 5, 5, false), -EINVAL);
	assert_int_equal(svirt_mcs_init(&m, 1, 1024, false), -EINVAL);
}

static void test_pairs(void **state)
{
	(void)state;
	struct svirt_mcs m;
	char r[32];
	assert_int_equal(svirt_mcs_init(&m, 1, 10, true), 0);
	assert_int_equal(m.size, 45);
	/* index <-> pair is a bijection onto all a < b */
	unsigned n = 0;
	for (unsigned a = 1; a <= 10; a++)
		for (unsigned b = a + 1; b <= 10; b++) {
			int64_t i = svirt_mcs_index(&m, a, b);
			unsigned x, y;
			assert_int_equal(i, n);
			svirt_mcs_label(&m, (uint32_t)i, &x, &y);
			assert_int_equal(x, a);
			assert_int_equal(y, b);
			n++;
		}
	assert_int_equal(svirt_mcs_index(&m, 3, 3), -ERANGE);
	assert_int_equal(svirt_mcs_index(&m, 4, 3), -ERANGE);
	assert_int_equal(svirt_mcs_range_str(&m, 0, r, sizeof(r)), 0);
	assert_string_equal(r, "s0:c1,c2");
	assert_int_equal(svirt_mcs_range_str(&m, 44, r, sizeof(r)), 0);
	assert_string_equal(r, "s0:c9,c10");

	unsigned count[45] = { 0 };
	struct sm g = { 99, 0 };
	for (unsigned i = 0; i < 45 * 1000; i++) {
		uint32_t idx;
		assert_int_equal(svirt_mcs_choose(&m, rng_sm, &g, &idx), 0);
		count[idx]++;
	}
	assert_true(chi2(count, 45, 1000.0) < chi2_bound(45));

	/* A single c3 held elsewhere blocks every pair with 3 (9 of them);
	 * a held pair blocks itself only. */
	assert_int_equal(svirt_mcs_mark_range(&m, "s0:c3"), 0);
	assert_int_equal(m.used, 9);
	assert_int_equal(svirt_mcs_mark_range(&m, "s0:c1,c2"), 0);
	assert_int_equal(m.used, 10);
	for (unsigned i = 0; i < 2000; i++) {
		uint32_t idx;
		unsigned a, b;
		assert_int_equal(svirt_mcs_choose(&m, rng_sm, &g, &idx), 0);
		svirt_mcs_label(&m, idx, &a, &b);
		assert_true(a < b);
		assert_true(a != 3 && b != 3);
		assert_false(a == 1 && b == 2);
	}
	svirt_mcs_free(&m);

	/* Full range of pairs: 1023 * 1022 / 2 labels. */
	assert_int_equal(svirt_mcs_init(&m, 1, 1023, true), 0);
	assert_int_equal(m.size, 522753);
	assert_int_equal(svirt_mcs_index(&m, 1022, 1023), 522752);
	svirt_mcs_free(&m);

	/* A pair held elsewhere blocks both categories for single labels. */
	assert_int_equal(svirt_mcs_init(&m, 1, 10, false), 0);
	assert_int_equal(svirt_mcs_mark_range(&m, "s0:c4,c7"), 0);
	assert_true(svirt_mcs_in_use(&m, 3) && svirt_mcs_in_use(&m, 6));
	assert_int_equal(m.used, 2);
	svirt_mcs_free(&m);
}

static void test_range_parse(void **state)
{
	(void)state;
	unsigned a, b;
	bool pair;
	assert_int_equal(svirt_range_parse("s0:c5", &a, &b, &pair), 0);
	assert_true(a == 5 && b == 5 && !pair);
	assert_int_equal(svirt_range_parse("s0:c5,c1023", &a, &b, &pair), 0);
	assert_true(a == 5 && b == 1023 && pair);
	const char *bad[] = { "s0:c05", "s0:c5,c5", "s0:c9,c5", "s0:c1024", "s1:c5", "s0:", "s0:c",
			      "s0:c5,", "s0:c5,5", "s0:c5,c6,c7", "s0:c-1", "s0:c5 ", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(svirt_range_parse(bad[i], &a, &b, &pair), -EINVAL);
	struct svirt_mcs m;
	assert_int_equal(svirt_mcs_init(&m, 1, 10, false), 0);
	assert_int_equal(svirt_mcs_mark_range(&m, "junk"), -EINVAL);
	svirt_mcs_free(&m);
}

/* XenStore values in the original interposer's form (a bare number) and
 * in the range form both read as a range. */
static void test_label_value(void **state)
{
	(void)state;
	char r[SVIRT_RANGE_MAX];
	assert_int_equal(svirt_label_value_parse("5", r, sizeof(r)), 0);
	assert_string_equal(r, "s0:c5");
	assert_int_equal(svirt_label_value_parse("1023", r, sizeof(r)), 0);
	assert_string_equal(r, "s0:c1023");
	assert_int_equal(svirt_label_value_parse("s0:c7", r, sizeof(r)), 0);
	assert_string_equal(r, "s0:c7");
	assert_int_equal(svirt_label_value_parse("s0:c7,c9", r, sizeof(r)), 0);
	assert_string_equal(r, "s0:c7,c9");
	const char *bad[] = { "1024", "05", "5 ", "5\n", "-5", "+5", "5,6", "c5", "", "s0:c5,c5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(svirt_label_value_parse(bad[i], r, sizeof(r)), -EINVAL);
	char small[5];
	assert_int_equal(svirt_label_value_parse("5", small, sizeof(small)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_rejects_biased_values),
		cmocka_unit_test(test_single_uniform_chi2),
		cmocka_unit_test(test_never_in_use_and_uniform_over_free),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_range_parse),
		cmocka_unit_test(test_label_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
