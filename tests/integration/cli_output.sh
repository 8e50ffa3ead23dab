#!/bin/sh
# Output that does not reach its destination is an error, never a silent
# success: every command's standard output to /dev/full (ENOSPC) exits 3
# with a message naming standard output.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
[ -w /dev/full ] || die "no /dev/full"
printf 'some bytes' > "$T/f"
check() {	# NAME ARGS...
	name=$1; shift
	set +e
	"$M" "$@" > /dev/full 2> "$T/err"
	rc=$?
	set -e
	assert_eq "$name: exit code" 3 "$rc"
	grep -q "writing standard output: No space left on device" "$T/err" || die "$name: message: $(cat "$T/err")"
}
check "hash" hash --bank sha256 "$T/f"
check "predict --show" predict --rootfs "$T/f" --show
check "predict --show --json" predict --rootfs "$T/f" --show --json
check "eventlog show" eventlog show "$FIX/eventlogs/tpm2-tools/event.bin"
check "eventlog replay --json" eventlog replay --json "$FIX/eventlogs/tpm2-tools/event.bin"
check "tboot mlehash --help" tboot --help
ok "standard output to a full disk: exit 3 with a message, for each command"
# and the same commands succeed on a normal output
"$M" predict --rootfs "$T/f" --show > "$T/out" || die "predict --show failed on a normal output"
[ -s "$T/out" ] || die "predict --show wrote nothing"
ok "the same commands succeed with a writable output"
