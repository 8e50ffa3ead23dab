#!/bin/sh
# A short tour of `measured` against a software TPM: hash a file in two
# banks, extend a PCR with it (logging a CEL record), read the PCR back,
# replay the log and verify it against the TPM.  DEMO_TPM=1.2: the
# software TPM is a TPM 1.2 (one bank, SHA-1), found by the probe.
# swtpm's own messages (in 1.2 mode a line per client connection) go to a
# file, shown if a step fails.
set -eu
cd "$(dirname "$0")/.."
M=${MEASURED_BIN:-$PWD/build/measured}
T=$(mktemp -d /tmp/measured-demo.XXXXXX)
SWTPM_PID=""
cleanup() {
	rc=$?
	[ $rc != 0 ] && [ -s "$T/swtpm.err" ] && cat "$T/swtpm.err" >&2
	[ -n "$SWTPM_PID" ] && kill "$SWTPM_PID" 2>/dev/null && wait "$SWTPM_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ $*"; "$@"; }

family=--tpm2
[ "${DEMO_TPM:-2.0}" = 1.2 ] && family=
say "start a software TPM ${DEMO_TPM:-2.0} (swtpm) on a unix socket"
# shellcheck disable=SC2086 # no family option for a TPM 1.2
swtpm socket $family --tpmstate dir="$T" --flags not-need-init,startup-clear \
	--server type=unixio,path="$T/sock" --ctrl type=unixio,path="$T/sock.ctrl" 2>"$T/swtpm.err" &
SWTPM_PID=$!
while [ ! -S "$T/sock" ]; do sleep 0.05; done
export MEASURED_TCTI="swtpm:path=$T/sock"
echo "MEASURED_TCTI=$MEASURED_TCTI"

say "hash a file in two banks at once"
head -c 16777216 /dev/urandom > "$T/rootfs.img"
run "$M" hash --bank sha1,sha256 "$T/rootfs.img"

say "extend PCR 15 with it in every allocated bank, logging a CEL record"
run "$M" extend --pcr 15 --log "$T/measure.log" --description "demo root image" "$T/rootfs.img"

say "read PCR 15 back"
run "$M" pcrread 15

say "replay the log (computed in software, no TPM)"
run "$M" eventlog replay "$T/measure.log"

say "verify the log against the TPM's live PCRs"
run "$M" eventlog verify "$T/measure.log"

say "extend once more without logging: the log no longer explains the PCR"
run "$M" extend --pcr 15 --text "unlogged"
set +e
run "$M" eventlog verify "$T/measure.log"
rc=$?
set -e
echo "exit status $rc (1 = mismatch, as expected)"
[ "$rc" = 1 ]
