#!/bin/sh
# Run every tests/integration/*.sh (each a standalone script that exits 0
# on success, 77 when a prerequisite is missing: counted as a failure,
# never as a pass).  One PASS/FAIL line per script in $MEASURED_RESULTS.
dir=$1
failed=0
for t in "$dir"/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp)
	start=$(date +%s)
	if sh "$t" > "$log" 2>&1; then
		res=PASS
	else
		res=FAIL
		failed=1
	fi
	echo "$res integration $name ($(( $(date +%s) - start ))s)"
	if [ $res = FAIL ]; then tail -40 "$log"; fi
	[ -n "${MEASURED_RESULTS:-}" ] && echo "$res integration $name" >> "$MEASURED_RESULTS"
	rm -f "$log"
done
exit $failed
