#!/bin/sh
# Every test of the project: build, unit tests (plain and under ASan and
# UBSan), integration tests against swtpm, boot tests in QEMU, and a bounded
# fuzz run.  Installs what it needs first.  Prints one closing line
# "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh

JOBS=$(nproc 2>/dev/null || echo 2)
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
export MEASURED_RESULTS="$RESULTS"

status=0
step() {
	echo "=== $*"
	"$@" || status=1
}

step make -j"$JOBS"
# -k: a failing test does not stop the others from running and being counted
step make -k -j"$JOBS" check
# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
step make -k -j"$JOBS" O=build-asan CFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined" check-unit check-svirt-unit
step make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-15}"

passed=$(grep -c '^PASS' "$RESULTS" || true)
failed=$(grep -c '^FAIL' "$RESULTS" || true)
if [ "$failed" -gt 0 ]; then
	echo "--- failures:"
	grep '^FAIL' "$RESULTS"
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
	echo "--- a build or test step failed before reporting (see above)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
