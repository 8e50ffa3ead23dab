#!/bin/sh
# Enrolment with a certified EK: swtpm_setup makes the TPM's RSA EK
# certificate (in NV 0x01c00002) under a local CA; the agent (`measured
# attest`) sends it; the verifier accepts it against that CA (--ek-ca), and
# refuses it (ek-cert-invalid) against another CA, without --tofu.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
command -v swtpm_setup >/dev/null || die "swtpm_setup is not installed (swtpm-tools)"

# a private swtpm_setup configuration: nothing under /etc changes
export XDG_CONFIG_HOME="$T/xdg"
swtpm_setup --create-config-files root,skip-if-exist >/dev/null 2>&1 || die "swtpm_setup config"
CA=$T/xdg/var/lib/swtpm-localca
mkdir -p "$T/tpm-ek"
swtpm_setup --tpm2 --tpmstate "$T/tpm-ek" --create-ek-cert --create-platform-cert --lock-nvram \
	--config "$T/xdg/swtpm_setup.conf" > "$T/setup.log" 2>&1 || { cat "$T/setup.log"; die "swtpm_setup"; }
[ -f "$CA/swtpm-localca-rootca-cert.pem" ] && [ -f "$CA/issuercert.pem" ] || die "no local CA"

swtpm socket --tpm2 --tpmstate dir="$T/tpm-ek" --flags not-need-init,startup-clear \
	--server type=unixio,path="$T/tpm-ek/sock" --ctrl type=unixio,path="$T/tpm-ek/sock.ctrl" &
PIDS="$PIDS $!"
while [ ! -S "$T/tpm-ek/sock" ]; do sleep 0.05; done
export MEASURED_TCTI="swtpm:path=$T/tpm-ek/sock" TPM2TOOLS_TCTI="swtpm:path=$T/tpm-ek/sock"

# independent check: the certificate in NV chains to the local CA
tpm2_nvread 0x01c00002 -o "$T/ek.der" >/dev/null 2>&1 || die "no EK certificate in NV"
openssl x509 -inform der -in "$T/ek.der" -out "$T/ek.pem" 2>/dev/null || die "EK certificate is not DER"
openssl verify -CAfile "$CA/swtpm-localca-rootca-cert.pem" -untrusted "$CA/issuercert.pem" "$T/ek.pem" \
	>/dev/null || die "openssl does not verify the EK certificate"
ok "swtpm's EK certificate chains to its local CA (openssl)"

tls_make
# 1. a verifier trusting another CA refuses the certificate
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout "$T/o.key" \
	-out "$T/other.pem" 2>/dev/null
serve_start "sqlite:$T/db1" --ek-ca "$T/other.pem"
set +e
"$M" attest --server "$URL" --machine m1 --ca-cert "$T/ca.crt" --state "$T/st1" --eventlog none \
	--json > "$T/a1.json" 2> "$T/a1.err"
rc=$?
set -e
assert_eq "attest refused with another CA" 1 "$rc"
grep -q "ek-cert-invalid" "$T/a1.json" "$T/a1.err" || { cat "$T/a1.json" "$T/a1.err"; die "reason is not ek-cert-invalid"; }
ok "rejected: ek-cert-invalid"
serve_stop

# 2. the swtpm CA: enrolment and activation pass; the machine waits for approval
serve_start "sqlite:$T/db2" --ek-ca "$CA/swtpm-localca-rootca-cert.pem" --ek-ca "$CA/issuercert.pem"
set +e
"$M" attest --server "$URL" --machine m2 --ca-cert "$T/ca.crt" --state "$T/st2" --eventlog none \
	--json > "$T/a2.json" 2> "$T/a2.err"
rc=$?
set -e
grep -q "not-approved" "$T/a2.json" "$T/a2.err" ||
	{ cat "$T/a2.json" "$T/a2.err"; die "a certified EK did not enrol (exit $rc)"; }
ok "certified EK enrolled (waiting for approval)"
"$M" admin --db "sqlite:$T/db2" audit --json > "$T/audit.json" || die "admin audit"
python3 - "$T/audit.json" <<'PY' || die "the audit log does not record how the EK was trusted"
import json, sys
a = json.load(open(sys.argv[1]))
e = [r for r in a if r["machine"] == "m2" and r["event"] == "enroll"]
assert e and e[-1]["result"] == "ok", a
assert "certificate chain verified" in e[-1]["detail"], e[-1]
assert not any("tofu" in (r.get("detail") or "").lower() for r in a), a
PY
ok "audit records the certificate chain, not TOFU"
