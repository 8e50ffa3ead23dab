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

# a postgresql:// URI goes to libpq as it is (with the store's defaults beside it)
$M admin --db "postgresql://postgres@/postgres?host=$PG_DIR&port=$PG_PORT" machine list >/dev/null ||
	die "a postgresql:// URI was not taken"
expect_exit 3 $M admin --db "mysql://x" machine list
ok "postgresql: a postgresql:// URI connects; another scheme is refused"

# The schema step runs once per database version, not once per connection:
# it locks used_nonces (SHARE), which every attestation's transaction
# waits behind, and each worker's first request, each reconnection and
# every `measured admin` opens a connection.
pg_reset
$M admin --db "$PG_URL" machine list >/dev/null || die "admin on a new database failed"
# a transaction holding used_nonces as an attestation does (ROW EXCLUSIVE), for 30 s
pgq "BEGIN; INSERT INTO used_nonces (expires, nonce, machine) VALUES (1, 'held', 'm'); SELECT pg_sleep(30); ROLLBACK" >/dev/null 2>&1 &
HOLD=$!
until [ "$(pgq "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'used_nonces' AND l.mode = 'RowExclusiveLock' AND l.granted")" -ge 1 ]; do sleep 0.1; done
t0=$(date +%s%N)
timeout 10 $M admin --db "$PG_URL" machine list >/dev/null || die "a connection waited for an attestation's transaction (the schema step ran again)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null || true
ok "postgresql: a new connection to a current database takes no table lock (${ms} ms while an attestation's transaction held used_nonces)"

# a database without the mark (an older verifier's) gets the step, and the mark
pgq "COMMENT ON TABLE machines IS NULL; ALTER TABLE machines DROP COLUMN tpm" >/dev/null
$M admin --db "$PG_URL" machine list >/dev/null || die "admin on an unmarked database failed"
[ "$(pgq "SELECT count(*) FROM information_schema.columns WHERE table_name = 'machines' AND column_name = 'tpm'")" = 1 ] ||
	die "the unmarked database did not get its missing column"
[ -n "$(pgq "SELECT obj_description('machines'::regclass, 'pg_class')")" ] || die "the schema step left no mark"
ok "postgresql: an unmarked database gets the schema step (the missing column added) and is marked"
