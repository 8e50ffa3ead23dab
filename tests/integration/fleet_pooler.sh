#!/bin/sh
# Two verifiers through pgbouncer in transaction mode (docs/server.md,
# "Running a fleet"): a pool of 2 server connections shared by the
# verifiers' 4, so consecutive transactions of one verifier connection land
# on different server connections.  With MEASURED_PG_PREPARE=off the store
# runs every statement unnamed and the fleet's checks hold (racing
# attestations: one pass each; a load run: every pass in the audit once).
# With named prepared statements (the default) through the same pool, the store
# finds the pool out (a statement missing on the next server connection)
# and runs unnamed from then on; statement names are hashes of their text,
# so none ever runs another's statement.  The audit table is partitioned
# by time beforehand, as docs/server.md advises for a large fleet.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/tests/lib/fleet.sh"

command -v pgbouncer >/dev/null || die "pgbouncer is not installed (scripts/deps.sh)"
tls_make
pg_start
B=$PG_DIR/bouncer
mkdir "$B"
BPORT=$(pgha_port)
cat > "$B/pgbouncer.ini" <<INI
[databases]
postgres = host=$PG_DIR port=$PG_PORT user=postgres dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
pidfile = $B/pgbouncer.pid
logfile = $B/pgbouncer.log
INI
chown -R postgres "$B"
runuser -u postgres -- pgbouncer -d "$B/pgbouncer.ini" || die "pgbouncer did not start"
trap 'kill "$(cat "$B/pgbouncer.pid" 2>/dev/null)" 2>/dev/null; pg_stop; rm -rf "$PG_DIR"; cleanup' EXIT INT TERM
DB="postgresql:host=127.0.0.1 port=$BPORT user=postgres dbname=postgres"
i=0
until pgq "SELECT 1" 127.0.0.1 "$BPORT" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -le 50 ] || die "pgbouncer does not answer: $(tail -3 "$B/pgbouncer.log")"
	sleep 0.1
done

# the audit table partitioned by time (docs/server.md), made before the
# verifiers start: the store's CREATE TABLE IF NOT EXISTS leaves it so
now=$(date +%s)
pgq "CREATE TABLE audit (id BIGSERIAL, at BIGINT NOT NULL, machine TEXT NOT NULL, event TEXT NOT NULL,
	result TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
	CREATE TABLE audit_old PARTITION OF audit FOR VALUES FROM (0) TO ($((now - 86400)));
	CREATE TABLE audit_now PARTITION OF audit FOR VALUES FROM ($((now - 86400))) TO ($((now + 86400)));
	CREATE TABLE audit_later PARTITION OF audit DEFAULT" >/dev/null

export MEASURED_PG_PREPARE=off
fleet_policy "$DB" fleet
fleet_start "$DB" 2 --threads 2
SERVE_LOAD_RACE=1 load_start "$DB" race fleet 20 2 2
load_wait race
[ "$LOAD_RC" = 0 ] || die "race through the pooler: $(cat "$T/race.err")"
rounds=$(load_field race rounds)
assert_eq "pooler: one nonce-reused answer per round" "$rounds" "$(load_field race nonce-reused)"
SERVE_LOAD_PASSLOG=$T/pool.pass SERVE_LOAD_DOUBTLOG=$T/pool.doubt load_start "$DB" pool fleet 200 4 3
load_wait pool
[ "$LOAD_RC" = 0 ] || die "load through the pooler: $(cat "$T/pool.err")"
check_passes pool
ok "pooler (transaction mode), statements unnamed: $rounds races settled, $(load_field pool attestations) attestations"

# the store's default, named prepared statements, through the same pool:
# a statement missing on the next server connection turns the connection
# to unnamed statements, and no statement is ever run under another's name
for p in $VPIDS; do kill "$p"; wait "$p" 2>/dev/null || true; done
unset MEASURED_PG_PREPARE
: > "$T/serve.log"
fleet_start "$DB" 2 --threads 2
SERVE_LOAD_PASSLOG=$T/prep.pass SERVE_LOAD_DOUBTLOG=$T/prep.doubt load_start "$DB" prep fleet 200 4 3
load_wait prep
[ "$LOAD_RC" = 0 ] || die "named statements through the pooler: $(cat "$T/prep.err")"
check_passes prep
if grep -Eq 'bind message supplies|already exists' "$T/serve.log"; then
	grep -o '"error":"[^"]*' "$T/serve.log" | sort | uniq -c >&2
	die "a statement ran under another's name"
fi
ok "pooler (transaction mode), named statements: $(grep -c '"event":"request"' "$T/serve.log" || true) failed requests while the connections found out, then $(load_field prep attestations) attestations"

assert_eq "audit partitioned: every record in this day's partition" \
	"$(pgq "SELECT count(*) FROM audit")" "$(pgq "SELECT count(*) FROM ONLY audit_now")"
assert_eq "audit partitioned: the old partition detached (archived) while serving" "" \
	"$(pgq "ALTER TABLE audit DETACH PARTITION audit_old; DROP TABLE audit_old")"
