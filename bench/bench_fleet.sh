#!/bin/sh
# The fleet's failures at full size (docs/server.md, "Running a fleet"):
# tests/integration/fleet.sh (three verifiers on one PostgreSQL, kill -9 of
# one under load) and fleet_failover.sh (the primary killed and the replica
# promoted, with synchronous then asynchronous replication), with
# BENCH_MACHINES simulated machines (default 100000), BENCH_THREADS client
# connections (16) and BENCH_SECONDS of load each (60; the failure a third
# of the way in, 3/10 for the failover).  Prints each run's figures: the
# error window, the seconds without a pass, what was lost, and the checks
# of the audit against what the load generator saw.
set -eu
: "${MEASURED_BIN:?run through make bench}"
: "${MEASURED_SRCDIR:?run through make bench}"
export FLEET_MACHINES=${BENCH_MACHINES:-100000} FLEET_THREADS=${BENCH_THREADS:-16} FLEET_SECONDS=${BENCH_SECONDS:-60}
status=0
for t in fleet fleet_failover; do
	out=$(sh "$MEASURED_SRCDIR/tests/integration/$t.sh" 2>&1) || { echo "$out" | tail -20; status=1; }
	echo "$out" | grep -E '^(ok - |verifiers |attestations |lost |verifier [0-9]|race rounds|failing machines|[0-9]+ passes seen)' |
		sed "s/^/$t: /"
done
exit $status
