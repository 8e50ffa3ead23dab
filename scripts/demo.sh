#!/bin/sh
# The main job: build measured and run the demo of the whole chain on the
# embedded defaults (swtpm, SQLite): the short tour of the commands against
# a software TPM, then prediction, measured boot and attestation of a QEMU
# guest to `measured serve` (scripts/demo-attest.sh, about a minute under
# TCG).  Installs what it needs first; exits non-zero if any step fails.
# scripts/demo-boot.sh (the measured boot alone, PCR 15 compared with the
# host's value and the logs replayed) runs on its own.
# Usage: scripts/demo.sh [--tpm 2.0|1.2]   (default 2.0; 1.2: swtpm in TPM
# 1.2 mode, and the guest boots SeaBIOS, which measures into a TPM 1.2)
set -eu
cd "$(dirname "$0")/.."
DEMO_TPM=2.0
case "${1:-}" in
"") ;;
--tpm)
	DEMO_TPM=${2:-}
	case "$DEMO_TPM" in 2.0|1.2) ;; *) echo "usage: $0 [--tpm 2.0|1.2]" >&2; exit 2;; esac ;;
*) echo "usage: $0 [--tpm 2.0|1.2]" >&2; exit 2 ;;
esac
export DEMO_TPM
sh scripts/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
sh scripts/demo-tour.sh
sh scripts/demo-attest.sh build
printf '\n\033[1m== demo finished: every step passed\033[0m\n'
