#!/bin/sh
# Run svirt-interpose tests: `run.sh unit BIN...` (cmocka binaries) or
# `run.sh integration SCRIPT...`.  One PASS/FAIL line per test on stdout
# and in $MEASURED_RESULTS (if set); non-zero exit if any failed.
kind=$1; shift
failed=0
for t in "$@"; do
	name=$(basename "$t" .sh)
	log=${TMPDIR:-/tmp}/svirt-$kind-$name.$$.log
	case "$t" in *build-asan*) name="$name(asan)";; esac
	if [ "$kind" = unit ]; then
		"$t" > "$log" 2>&1; rc=$?
	else
		sh "$t" > "$log" 2>&1; rc=$?
	fi
	if [ $rc = 0 ]; then
		echo "PASS svirt $name"
		[ -n "${MEASURED_RESULTS:-}" ] && echo "PASS svirt $name" >> "$MEASURED_RESULTS"
		rm -f "$log"
	else
		echo "FAIL svirt $name (log: $log)"
		tail -30 "$log"
		[ -n "${MEASURED_RESULTS:-}" ] && echo "FAIL svirt $name" >> "$MEASURED_RESULTS"
		failed=1
	fi
done
exit $failed
