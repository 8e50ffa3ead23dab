#!/bin/sh
# Offline quote verification rate: full verifications per second on one
# core (RSA-2048 AK, a ~100-event firmware log replayed: by default
# keylime's binary_bios_measurements-secureboot, 98 extending events, any
# other with BENCH_VERIFY_LOG; every check, the comparison with a reference
# manifest event by event)
# against, in the same run, `openssl speed rsa2048`'s verify rate (target:
# ratio >= 0.25 counting the evidence JSON's parsing, as `measured verify`
# does it; both rates in CPU time) and `tpm2_checkquote` run once per
# evidence.
# BENCH_VERIFY_SECONDS (default 3) per measurement, BENCH_VERIFY_ROUNDS
# (default 3) rounds of both, the best of each kept; BENCH_CHECKQUOTE_RUNS
# (default 200) tpm2_checkquote processes; BENCH_VERIFY_BANKS the banks
# quoted (default: those the log extends).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${MEASURED_BIN:=$here/../build/measured}"
: "${MEASURED_BUILDDIR:=$(dirname "$MEASURED_BIN")}"
FIX=$here/../tests/data
DRV=$MEASURED_BUILDDIR/bench/bench_verify
SECS=${BENCH_VERIFY_SECONDS:-3}
RUNS=${BENCH_CHECKQUOTE_RUNS:-200}
ROUNDS=${BENCH_VERIFY_ROUNDS:-3}
LOG=${BENCH_VERIFY_LOG:-$FIX/eventlogs/keylime/binary_bios_measurements-secureboot}
N=0badc0ffee0ddf00d0badc0ffee0ddf0

dir=$(mktemp -d "${TMPDIR:-/tmp}/measured-bench.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
swtpm socket --tpm2 --tpmstate dir="$dir" --flags not-need-init,startup-clear \
	--server type=unixio,path="$dir/sock" --ctrl type=unixio,path="$dir/sock.ctrl" --log file="$dir/swtpm.log" &
pid=$!
i=0
while [ ! -S "$dir/sock" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "swtpm did not start"; exit 1; }
	sleep 0.05
done
TCTI="swtpm:path=$dir/sock"

# the TPM goes through the log's events, then quotes what the log touched
set -- $("$DRV" extend "$TCTI" "$LOG")
banks=${BENCH_VERIFY_BANKS:-$1} pcrs=$2 events=$3
MEASURED_TCTI=$TCTI "$MEASURED_BIN" quote --nonce $N --pcrs "$pcrs" --bank "$banks" --ak rsa \
	-e "$LOG" -o "$dir/ev.json" --ak-public "$dir/ak.pub" --tpm2-tools "$dir/tt"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

echo "evidence: RSA-2048 AK, banks $banks, PCRs $pcrs, log $(basename "$LOG") ($events extending events)"
# Rounds alternate ours and openssl's, and each rate is its best round: on a
# shared machine a neighbour's burst otherwise lands on one side only.
ours=0 ours_json=0 ossl=0
for round in $(seq "$ROUNDS"); do
	out=$("$DRV" run "$dir/ev.json" "$dir/ak.pub" $N "$SECS")
	echo "$out" | sed "s/^/  round $round: /"
	o=$(openssl speed -seconds "$SECS" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $NF }')
	echo "  round $round: openssl speed rsa2048 verify/s $o"
	ours=$(echo "$out" | awk -v m="$ours" '$1 == "verify/s" { print ($2 > m ? $2 : m) }')
	ours_json=$(echo "$out" | awk -v m="$ours_json" '$1 == "verify+json/s" { print ($2 > m ? $2 : m) }')
	ossl=$(echo "$o $ossl" | awk '{ print ($1 > $2 ? $1 : $2) }')
done
echo "  best: verify/s $ours, verify+json/s $ours_json, openssl rsa2048 verify/s $ossl"

# tpm2_checkquote: one process per evidence, with the same log replayed (-e)
s=$(date +%s.%N)
for i in $(seq "$RUNS"); do
	tpm2_checkquote -u "$dir/tt.pub" -m "$dir/tt.msg" -s "$dir/tt.sig" -f "$dir/tt.pcrs" \
		-g sha256 -q $N -e "$LOG" > /dev/null
done
e=$(date +%s.%N)
cq=$(echo "$s $e $RUNS" | awk '{ printf "%.1f", $3 / ($2 - $1) }')
echo "  tpm2_checkquote -e, one process per evidence: verify/s $cq"

r1=$(echo "$ours $ossl" | awk '{ printf "%.2f", $1 / $2 }')
r2=$(echo "$ours_json $ossl" | awk '{ printf "%.2f", $1 / $2 }')
r3=$(echo "$ours $cq" | awk '{ printf "%.0f", $1 / $2 }')
echo "ratio measured / openssl rsa2048 verify: $r2 with the evidence JSON parsed (target >= 0.25), $r1 without"
echo "ratio measured / tpm2_checkquote:        ${r3}x"
echo "$r2" | awk '{ exit !($1 >= 0.25) }' || { echo "verify benchmark: target missed"; exit 1; }
