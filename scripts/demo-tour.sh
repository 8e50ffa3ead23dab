#!/bin/sh
# A short tour of `measured` against a software TPM: hash a file in two
# banks, extend a PCR with it (logging a CEL record), read the PCR back,
# replay the log and verify it against the TPM.
set -eu
cd "$(dirname "$0")/.."
M=${MEASURED_BIN:-$PWD/build/measured}
T=$(mktemp -d /tmp/measured-demo.XXXXXX)
SWTPM_PID=""
cleanup() {
	[ -n "$SWTPM_PID" ] && kill "$SWTPM_PID" 2>/dev/null && wait "$SWTPM_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ $*"; "$@"; }

say "start a software TPM (swtpm) on a unix socket"
swtpm socket --tpm2 --tpmstate dir="$T" --flags not-need-init,startup-clear \
	--server type=unixio,path="$T/sock" --ctrl type=unixio,path="$T/sock.ctrl" &
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
