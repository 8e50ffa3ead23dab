# A throwaway PostgreSQL 15 for tests (sourced after common.sh): initdb and
# pg_ctl as the postgres user, a unix socket in a temporary directory, no
# TCP, fsync off (PG_FSYNC=on and PG_SYNC_COMMIT=on|off for a benchmark).
# pg_start sets PG_URL (a `measured serve --db` value) and
# registers the stop with the test's cleanup.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_stop() {
	if [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# pg_pause / pg_resume: stop the server and start it again on the same data (a database outage)
pg_pause() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
}

pg_resume() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
		-o "-k $PG_DIR -p $PG_PORT -c listen_addresses='' -c fsync=${PG_FSYNC:-off} -c synchronous_commit=${PG_SYNC_COMMIT:-on} -c max_connections=200" \
		start >/dev/null || { cat "$PG_DIR/log" >&2; die "PostgreSQL did not start again"; }
}

pg_start() {
	[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed ($PG_BIN/initdb)"
	PG_DIR=$(mktemp -d /tmp/measured-pg.XXXXXX)
	chown postgres "$PG_DIR"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed"
	PG_PORT=$(( 20000 + $$ % 20000 ))
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
		-o "-k $PG_DIR -p $PG_PORT -c listen_addresses='' -c fsync=${PG_FSYNC:-off} -c synchronous_commit=${PG_SYNC_COMMIT:-on} -c max_connections=200" \
		start >/dev/null || { cat "$PG_DIR/log" >&2; die "PostgreSQL did not start"; }
	PG_URL="postgresql:host=$PG_DIR port=$PG_PORT user=postgres dbname=postgres"
	# stopped before common.sh's cleanup removes the rest
	trap 'pg_stop; rm -rf "$PG_DIR"; cleanup' EXIT INT TERM
}

# psql as the server's superuser on the test PostgreSQL: pgq SQL [HOST PORT]
pgq() {
	runuser -u postgres -- psql -X -qAt -v ON_ERROR_STOP=1 -h "${2:-$PG_DIR}" -p "${3:-$PG_PORT}" \
		-d postgres -c "$1"
}

# pg_reset: an empty database for the next test case
pg_reset() {
	runuser -u postgres -- psql -q -h "$PG_DIR" -p "$PG_PORT" -d postgres \
		-c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null 2>&1
}
