# Helpers for integration tests (sourced).  Each test gets its own
# temporary directory, and every process it starts is stopped by PID on exit.
set -eu

: "${MEASURED_BIN:?run through make check}"
: "${MEASURED_SRCDIR:?run through make check}"
M=$MEASURED_BIN
FIX=$MEASURED_SRCDIR/tests/data
T=$(mktemp -d /tmp/measured-test.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1" >&2
		echo "  expected: $2" >&2
		echo "  actual:   $3" >&2
		exit 1
	fi
	ok "$1"
}

# expect_exit CODE CMD...: run CMD, require exit status CODE.
expect_exit() {
	want=$1; shift
	set +e
	"$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "FAIL: '$*' exited $got, expected $want" >&2
		cat "$T/err" >&2
		exit 1
	fi
}

# swtpm_start NAME: a fresh TPM 2.0 on a unix socket; sets MEASURED_TCTI
# and TPM2TOOLS_TCTI for it.  tpm2-tss's swtpm TCTI finds the control
# channel at SOCKET.ctrl, so that is where it goes.
swtpm_start() {
	swtpm_sock "$T/tpm-$1" --tpm2 not-need-init,startup-clear
	TPM2TOOLS_TCTI="$MEASURED_TCTI"
	export TPM2TOOLS_TCTI
}

# swtpm12_start NAME [FLAGS]: a fresh TPM 1.2 (swtpm without --tpm2) on a
# unix socket; sets MEASURED_TCTI.  FLAGS are swtpm's --flags (default
# not-need-init,startup-clear: started as firmware would; "not-need-init"
# alone leaves TPM_Startup to us).
swtpm12_start() {
	swtpm_sock "$T/tpm12-$1" "" "${2:-not-need-init,startup-clear}"
}

# swtpm_sock DIR FAMILY-OPTION FLAGS: swtpm on DIR/sock (control channel
# DIR/sock.ctrl), stopped at exit; MEASURED_TCTI names it.
swtpm_sock() {
	mkdir -p "$1"
	# shellcheck disable=SC2086 # no family option for TPM 1.2
	swtpm socket $2 --tpmstate dir="$1" --flags "$3" \
		--server type=unixio,path="$1/sock" --ctrl type=unixio,path="$1/sock.ctrl" \
		--log file="$1/log" &
	PIDS="$PIDS $!"
	i=0
	while [ ! -S "$1/sock" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && die "swtpm did not start"
		sleep 0.05
	done
	MEASURED_TCTI="swtpm:path=$1/sock"
	export MEASURED_TCTI
}

# swtpm12_owned NAME [SWTPM_SETUP-OPTIONS...]: swtpm12_start on a TPM 1.2
# that swtpm_setup gave an EK and an owner (default --config /dev/null).
# swtpm_setup's --owner-well-known and --srk-well-known secrets are SHA1 of
# 20 zero bytes (not the TSS's 20 zero bytes): WK.
swtpm12_owned() {
	n=$1
	shift
	[ $# -gt 0 ] || set -- --config /dev/null
	mkdir -p "$T/tpm12-$n"
	swtpm_setup --tpmstate "$T/tpm12-$n" --createek --take-ownership --owner-well-known --srk-well-known \
		"$@" > "$T/tpm12-$n.setup" 2>&1 || die "swtpm_setup (1.2) failed: $(cat "$T/tpm12-$n.setup")"
	set -- "$n"
	swtpm12_start "$1"
	WK=$(head -c 20 /dev/zero | openssl dgst -sha1 -r | cut -c1-40)
}

# t12_signkey TCTI OUT: a signing key of that TPM 1.2 that is no identity
# key (TPM_CreateWrapKey under the SRK, secret $WK; tests/tools/t12_signkey.c),
# its TPM_KEY blob in OUT, loadable by `measured quote --aik OUT`.
t12_signkey() {
	tool=${MEASURED_BUILDDIR:-$(dirname "$M")}/tests/tools/t12_signkey
	[ -x "$tool" ] || die "$tool is not built (make check-integration builds it)"
	"$tool" "$1" "$WK" "$2" || die "t12_signkey (TPM_CreateWrapKey) failed on $1"
}
