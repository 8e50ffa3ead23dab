#!/bin/sh
# The store's contract (tests/unit/test_store.c: single-use nonces,
# transactions, enrolment races, clock order, ...) on PostgreSQL: the unit
# test binary run against a throwaway local server, so both back ends pass
# the same cases; and the dashboard's queries (tests/unit/test_dashboard.c).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"

BIN=${MEASURED_BUILDDIR:-$(dirname "$M")}/tests/test_store
[ -x "$BIN" ] || die "$BIN is not built (make check builds it)"
pg_start
MEASURED_TEST_DB=$PG_URL "$BIN" > "$T/out" 2>&1 || { cat "$T/out" >&2; die "the store's tests fail on PostgreSQL"; }
n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$T/out")
[ "${n:-0}" -ge 6 ] || { cat "$T/out" >&2; die "expected at least 6 store tests to pass, got '${n:-0}'"; }
ok "postgresql: $n store tests pass"

DBIN=$(dirname "$BIN")/test_dashboard
[ -x "$DBIN" ] || die "$DBIN is not built (make check builds it)"
MEASURED_TEST_DB=$PG_URL "$DBIN" > "$T/out" 2>&1 || { cat "$T/out" >&2; die "the dashboard's store tests fail on PostgreSQL"; }
grep -q '^\[  PASSED  \] 8 test' "$T/out" || { cat "$T/out" >&2; die "expected the 8 dashboard tests to pass"; }
ok "postgresql: the dashboard's 8 tests pass"
