#!/bin/sh
# The dashboard's queries at fleet size (docs/server.md, "Dashboard"):
# BENCH_MACHINES machines (default 100000, a tenth failing) and
# BENCH_AUDIT audit records (default 1000000) in a database, a
# verifier with --dashboard-listen, and each JSON endpoint the pages poll
# asked BENCH_REPEAT times (21) over one kept-alive TLS connection, on
# SQLite and on PostgreSQL (BENCH_DB=sqlite or pg for one).  Prints each
# endpoint's median milliseconds with the dashboard's indexes, then again
# with those indexes dropped from the same database while the server runs
# (the baseline, same run), and the ratio.
set -eu
: "${MEASURED_BIN:?run through make bench}"
: "${MEASURED_SRCDIR:?run through make bench}"
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
N=${BENCH_MACHINES:-100000}
A=${BENCH_AUDIT:-1000000}
R=${BENCH_REPEAT:-21}

tls_make

# fill KIND: the machines and audit records, by the database itself; on
# PostgreSQL vacuumed, as autovacuum would have by then (the visibility map
# lets counts read the indexes alone)
fill() {
	if [ "$1" = sqlite ]; then
		sqlite3 "$T/dash.db" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < $N)
INSERT INTO machines (name, ek_pub, ak_pub, ek_trust, state, policy, enrolled_at, last_result, last_reason, last_at)
SELECT printf('m-%07d', n), 'ek' || n, 'ak' || n, 'tofu', 1, 'good', 1700000000,
       CASE WHEN n % 10 = 3 THEN 'fail' ELSE 'pass' END,
       CASE WHEN n % 10 = 3 THEN 'manifest-mismatch' ELSE '' END, 1700000000 + n FROM i;
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < $A)
INSERT INTO audit (at, machine, event, result, reason, detail)
SELECT 1700000000 + n, printf('m-%07d', n % $N), 'attest', CASE WHEN n % 10 = 3 THEN 'fail' ELSE 'pass' END,
       CASE WHEN n % 10 = 3 THEN 'manifest-mismatch' ELSE '' END, 'matched good:default' FROM i;
COMMIT;
ANALYZE;
SQL
	else
		"$PG_BIN/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
BEGIN;
INSERT INTO machines (name, ek_pub, ak_pub, ek_trust, state, policy, enrolled_at, last_result, last_reason, last_at)
SELECT 'm-' || lpad(n::text, 7, '0'), 'ek' || n, 'ak' || n, 'tofu', 1, 'good', 1700000000,
       CASE WHEN n % 10 = 3 THEN 'fail' ELSE 'pass' END,
       CASE WHEN n % 10 = 3 THEN 'manifest-mismatch' ELSE '' END, 1700000000 + n FROM generate_series(0, $N - 1) n;
INSERT INTO audit (at, machine, event, result, reason, detail)
SELECT 1700000000 + n, 'm-' || lpad((n % $N)::text, 7, '0'), 'attest', CASE WHEN n % 10 = 3 THEN 'fail' ELSE 'pass' END,
       CASE WHEN n % 10 = 3 THEN 'manifest-mismatch' ELSE '' END, 'matched good:default' FROM generate_series(0, $A - 1) n;
COMMIT;
VACUUM ANALYZE;
SQL
	fi
}

# unindex KIND: the dashboard's indexes dropped
unindex() {
	q="DROP INDEX machines_fail_first; DROP INDEX machines_state_result; DROP INDEX audit_result;"
	if [ "$1" = sqlite ]; then
		sqlite3 "$T/dash.db" "$q"
	else
		"$PG_BIN/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$q"
	fi
}

# indexes KIND: how many of the dashboard's indexes the database has
indexes() {
	n="'machines_fail_first', 'machines_state_result', 'audit_result'"
	if [ "$1" = sqlite ]; then
		sqlite3 "$T/dash.db" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ($n)"
	else
		"$PG_BIN/psql" -qtA -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
			-c "SELECT COUNT(*) FROM pg_indexes WHERE indexname IN ($n)"
	fi
}

run() {	# KIND
kind=$1
case $kind in
sqlite) DB=sqlite:$T/dash.db ;;
pg) pg_start; DB=$PG_URL ;;
esac
"$M" admin --db "$DB" dashboard-token list >/dev/null	# the schema
TOKEN=$("$M" admin --db "$DB" dashboard-token add bench)
t0=$(date +%s.%N)
fill "$kind"
echo "$kind: filled with $N machines, $A audit records in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"

DPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serve_start "$DB" --quiet --dashboard-listen "127.0.0.1:$DPORT"
last=$((N - 50))
PATHS="/api/summary /api/machines?limit=50&count=no /api/machines?offset=$last&limit=50&count=no /api/machines?filter=m-00999
/api/machine?name=m-0000003 /api/audit?limit=50 /api/audit?machine=m-0000003&limit=50
/api/audit?result=fail&limit=50 /api/audit?before=$((A / 2))&limit=50"

measure() {	# OUT: "PATH MEDIAN_MS" lines
	python3 - "$DPORT" "$TOKEN" "$R" $PATHS > "$1" <<'PY'
import http.client, ssl, statistics, sys, time
port, token, rep, paths = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
ctx = ssl._create_unverified_context()
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
for p in paths:
    ts = []
    for _ in range(rep):
        t = time.perf_counter()
        c.request("GET", p, headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        body = r.read()
        ts.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            sys.exit("%s: %d %s" % (p, r.status, body[:200]))
    print(p, "%.2f" % statistics.median(ts))
PY
}
measure "$T/with"
# The baseline: every dashboard thread's database connection opened first
# (opening one makes the schema, indexes included), then the indexes
# dropped, and checked to be still gone after the measurement.
python3 - "$DPORT" "$TOKEN" <<'PY'
import http.client, ssl, sys
for _ in range(16):
    c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ssl._create_unverified_context())
    c.request("GET", "/api/summary", headers={"Authorization": "Bearer " + sys.argv[2]})
    c.getresponse().read()
PY
unindex "$kind"
measure "$T/without"
serve_stop
left=$(indexes "$kind")
[ "$left" = 0 ] || die "$kind: the dropped indexes came back during the baseline ($left)"
echo "$kind: median ms per request, $N machines, $A audit records (baseline: the same database without the dashboard's indexes)"
printf '%-42s %10s %10s %8s\n' endpoint indexed baseline ratio
paste -d' ' "$T/with" "$T/without" | while read -r p a _ b; do
	printf '%-42s %10s %10s %8s\n' "$p" "$a" "$b" "$(echo "scale=3; $a / $b" | bc)"
done
}

for k in ${BENCH_DB:-sqlite pg}; do
	run "$k"
done
