#!/bin/sh
# bench/bench_serve.sh's machinery on a small SQLite run (the figures
# themselves are `make bench`'s): BENCH_RATE holds the load generator to
# the rate asked; the ratio against a base is printed (the base here is
# this tree's own binary); the floor's probe is answered 400 at both
# endpoints without an error and gives the server's CPU per round and an
# ECDSA timing, and the floor's line per back end follows.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

BENCH_SECONDS=3 BENCH_MACHINES=300 BENCH_THREADS=4 BENCH_RATE=200 BENCH_BACKENDS=sqlite BENCH_BASE_BIN="$M" \
	sh "$MEASURED_SRCDIR/bench/bench_serve.sh" > "$T/bench.out" 2>&1 || true	# 200/s misses the 1,700/s target
cat "$T/bench.out"

# both runs at 200/s: 4 threads, one attestation each every 20 ms, 3 s
rates=$(sed -n 's/^sqlite: *attestations [0-9]* in [0-9.]* s: \([0-9]*\)\/s.*errors 0$/\1/p' "$T/bench.out")
assert_eq "two runs without errors" 2 "$(echo "$rates" | grep -c .)"
for r in $rates; do
	[ "$r" -ge 180 ] && [ "$r" -le 215 ] || die "BENCH_RATE=200 gave $r/s"
done
ok "BENCH_RATE holds the generator to the rate asked ($(echo $rates))"

grep -q '^ratio new/base CPU per attestation, sqlite: server [0-9.]* ' "$T/bench.out" || die "no ratio printed"
# the probe: both requests answered 400 (an error otherwise), a CPU figure, a signature check timed
grep '^floor:' "$T/bench.out" | grep -q 'errors 0, server CPU 0\.[0-9]*[1-9][0-9]* ms per round$' ||
	die "the floor's probe: $(grep -A1 '^floor' "$T/bench.out")"
grep -q '^ *ecdsa-p256 verify 0\.[0-9]*[1-9][0-9]* ms CPU each' "$T/bench.out" || die "no ECDSA timing"
grep -q '^floor/base, sqlite: [0-9.]* (floor [0-9.]* ms: exchanges' "$T/bench.out" || die "no floor against the base"
ok "the floor: the probe's exchanges answered without error, timed with the ECDSA check, set against the base"
