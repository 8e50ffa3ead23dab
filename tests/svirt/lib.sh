# Helpers for svirt-interpose integration tests (sourced).  A temporary
# directory per test; every process started is stopped by PID on exit.
set -eu
: "${SVIRT_BIN:?run through make check-svirt}"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/svirt-test.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
assert_eq() {
	[ "$2" = "$3" ] || { printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3" >&2; exit 1; }
	ok "$1"
}
# run_rc VAR CMD...: run CMD (stdout $T/out, stderr $T/err), status into VAR.
run_rc() {
	v=$1; shift
	set +e; "$@" > "$T/out" 2> "$T/err"; eval "$v=\$?"; set -e
}
# A stand-in QEMU: reports its arguments, two environment variables and
# its open descriptors.
make_fake_qemu() {
	cat > "$1" <<'EOS'
#!/bin/sh
echo "args $*"
echo "env XEN_DOMAIN_ID=${XEN_DOMAIN_ID:-} XEN_QEMU_CONSOLE_LIMIT=${XEN_QEMU_CONSOLE_LIMIT:-}"
# descriptors 0-2 and those the test opens (5, 7, 9)
printf 'fds'; for f in 0 1 2 5 7 9; do [ -e /proc/$$/fd/$f ] && printf ' %s' $f; done; echo
EOS
	chmod +x "$1"
}
