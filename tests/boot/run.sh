#!/bin/sh
# Run every tests/boot/*.sh test (lib.sh excepted): one PASS/FAIL line per
# script in $MEASURED_RESULTS, like tests/run-integration.sh.  A missing
# prerequisite (QEMU, swtpm, OVMF, the kernel download) is a failure.
dir=$1
failed=0
for t in "$dir"/*.sh; do
	name=$(basename "$t" .sh)
	case "$name" in lib|run) continue;; esac
	log=$(mktemp)
	start=$(date +%s)
	if sh "$t" > "$log" 2>&1; then res=PASS; else res=FAIL; failed=1; fi
	echo "$res boot $name ($(( $(date +%s) - start ))s)"
	if [ $res = FAIL ]; then tail -40 "$log"; fi
	[ -n "${MEASURED_RESULTS:-}" ] && echo "$res boot $name" >> "$MEASURED_RESULTS"
	rm -f "$log"
done
exit $failed
