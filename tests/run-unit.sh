#!/bin/sh
# Run cmocka unit test binaries; record one PASS/FAIL line per binary in
# $MEASURED_RESULTS (if set) and exit non-zero if any failed.
failed=0
for t in "$@"; do
	name=$(basename "$t")
	case "$t" in *build-asan*) name="$name(asan)";; esac
	if "$t" > "$t.log" 2>&1; then
		echo "PASS unit $name"
		[ -n "${MEASURED_RESULTS:-}" ] && echo "PASS unit $name" >> "$MEASURED_RESULTS"
	else
		echo "FAIL unit $name (log: $t.log)"
		tail -30 "$t.log"
		[ -n "${MEASURED_RESULTS:-}" ] && echo "FAIL unit $name" >> "$MEASURED_RESULTS"
		failed=1
	fi
done
exit $failed
