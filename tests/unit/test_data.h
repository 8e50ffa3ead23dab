/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TEST_DATA_H
#define MEASURED_TEST_DATA_H
/*
 * The tree's test data (tests/data, set by the Makefile as
 * $MEASURED_FIXTURES).  Unset is a failure, never a fallback to a path
 * outside the tree: a clone with nothing beside it must pass.
 */
#include <stdio.h>
#include <stdlib.h>

static inline const char *test_data_dir(void)
{
	const char *d = getenv("MEASURED_FIXTURES");

	if (!d || !*d) {
		fprintf(stderr, "MEASURED_FIXTURES is not set: run the tests through make check\n");
		abort();
	}
	return d;
}
#endif
