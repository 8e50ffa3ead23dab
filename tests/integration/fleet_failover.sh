#!/bin/sh
# PostgreSQL failover under load (docs/server.md, "Running a fleet"): a
# primary and a streaming replica on loopback, two verifiers whose --db
# names both hosts with target_session_attrs=read-write, the load generator
# on both.  The primary is killed (kill -9, every process), the replica
# promoted; the verifiers reconnect by themselves and the generator's
# retries succeed.  Synchronous replication: every pass the generator saw
# is in the promoted database's audit.  Asynchronous: only passes answered
# in the last second before the crash may be missing (the documented bound;
# on loopback the replica trails by well under that).  Prints the seconds
# without service and what was lost.  Scaled down for `make check`:
# bench/bench_fleet.sh runs it at full size.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/tests/lib/fleet.sh"

MACHINES=${FLEET_MACHINES:-400}
SECONDS_RUN=${FLEET_SECONDS:-10}
BOUND_MS=1000	# asynchronous replication: what may be lost, in ms of passes before the crash

tls_make
for mode in on off; do
	pgha_start
	DB=$PGHA_URL
	fleet_policy "$DB" fleet
	fleet_start "$DB" 2	# 8 request threads each: passes grouped
	SERVE_LOAD_PASSLOG=$T/f$mode.pass SERVE_LOAD_DOUBTLOG=$T/f$mode.doubt \
		load_prepare "$DB" "f$mode" fleet "$MACHINES" "${FLEET_THREADS:-4}" "$SECONDS_RUN"
	# the machines imported before (one commit each: quicker unsynchronised)
	[ $mode = on ] && pgha_sync sync
	load_go
	# the replica's lag under this load, asked aside (psql takes seconds to start on a loaded machine)
	pgq "SELECT coalesce(max(extract(epoch FROM write_lag) * 1000), 0)::int FROM pg_stat_replication" \
		127.0.0.1 "$PGA_PORT" > "$T/lag" 2>/dev/null &
	lagp=$!
	sleep $((SECONDS_RUN * 3 / 10))
	pgha_crash
	tk=$(now_ms)
	pgha_promote
	tp=$(now_ms)
	load_wait "f$mode"
	wait $lagp || true
	lag=$(cat "$T/lag")
	[ "$LOAD_RC" = 0 ] || die "synchronous_commit $mode: the generator saw errors: $(cat "$T/f$mode.err")"
	awk -v t="$tp" '$3 > t + 500' "$T/f$mode.pass" | grep -q . || die "no pass after the promotion"
	[ "$(load_field "f$mode" retries)" -ge 1 ] || die "no request was retried: was the primary serving?"
	# seconds without service: from the last pass answered before the crash to the first after it
	gap=$(awk -v t="$tk" '$3 <= t && $3 > b { b = $3 } $3 > t && (!a || $3 < a) { a = $3 } END { printf "%.2f", (a - b) / 1000 }' \
		"$T/f$mode.pass")
	if [ $mode = on ]; then
		check_passes "f$mode" 127.0.0.1 "$PGB_PORT"
	else
		FLEET_LOSS_AFTER=$((tk - BOUND_MS)) FLEET_CRASH=$tk check_passes "f$mode" 127.0.0.1 "$PGB_PORT"
	fi
	ok "replication $([ $mode = on ] && echo synchronous || echo asynchronous): ${gap} s without a pass (promotion took $((tp - tk)) ms, replica write lag under load ${lag:-?} ms), error window $(load_field "f$mode" window) ms"
	for p in $VPIDS; do kill "$p" 2>/dev/null || true; done
	for p in $VPIDS; do wait "$p" 2>/dev/null || true; done
	pgha_stop
	rm -rf "$PGHA_DIR"
done
