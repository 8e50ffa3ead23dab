#!/bin/sh
# measured attest against a stand-in verifier (attest_fake_verifier.py:
# python3 + ssl on 127.0.0.1, tpm2_makecredential -T none for the
# credentials, tpm2_checkquote for the quotes), then against
# `measured serve` when the tree has one.  Checks: enrolment with credential
# activation, a pass releases the payload byte for byte (mode 0600), a
# changed measurement is refused with the first differing CEL event and
# nothing written, and each must-fail case exits with its documented code.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
for tool in python3 openssl swtpm tpm2_makecredential tpm2_checkquote sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
python3 -c 'import cryptography' 2>/dev/null || die "python3-cryptography is not installed"
FAKE=$MEASURED_SRCDIR/tests/integration/attest_fake_verifier.py

# A throwaway CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca \
	-keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null || die "openssl CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null || die "openssl CSR"
echo "subjectAltName=IP:127.0.0.1" > "$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/srv.pem" 2>/dev/null || die "openssl sign"
# A second CA the server's certificate does not chain to.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other-ca \
	-keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null || die "openssl other CA"

FAKE_PID=
# fake_start ARGS...: (re)start the stand-in verifier; sets URL.
# fake_launch NAME ARGS...: a stand-in verifier with state in $T/NAME,
# started and answering; LAUNCHED_PID, LAUNCHED_URL
fake_launch() {
	name=$1; shift
	rm -f "$T/$name.port"
	mkdir -p "$T/$name"
	python3 "$FAKE" --cert "$T/srv.pem" --key "$T/srv.key" --dir "$T/$name" --port-file "$T/$name.port" \
		"$@" 2> "$T/$name.err" &
	LAUNCHED_PID=$!
	PIDS="$PIDS $LAUNCHED_PID"
	i=0
	while [ ! -s "$T/$name.port" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && { cat "$T/$name.err" >&2; die "stand-in verifier $name did not start"; }
		sleep 0.05
	done
	LAUNCHED_URL="https://127.0.0.1:$(cat "$T/$name.port")"
}

# fake_start ARGS...: the test's stand-in verifier (again), at $URL
fake_start() {
	fake_stop
	fake_launch srv "$@"
	FAKE_PID=$LAUNCHED_PID
	URL=$LAUNCHED_URL
}
fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
}

swtpm_start agent
# The measurement: a "root image" extended into PCR 15 with a CEL record.
head -c 100000 /dev/urandom > "$T/root.img"
"$M" extend -p 15 -b sha256 -l "$T/cel.log" "$T/root.img" > /dev/null || die "measured extend"
d=$(sha256sum "$T/root.img" | cut -d' ' -f1)
pcr15=$(printf '%064d%s' 0 "$d" | xxd -r -p | openssl dgst -sha256 -r | cut -d' ' -f1)
head -c 300000 /dev/urandom > "$T/package.tar"

attest() {
	"$M" attest --server "$URL" --machine m1 --ca-cert "$T/ca.pem" --state "$T/state" \
		--eventlog "$T/cel.log" "$@"
}

# 1. Good state: enrol, activate, attest, payload released.
fake_start --pcrs 15 --banks sha256 --expect "sha256:15:$pcr15" --expect-cel "15:$d" \
	--payload "install=$T/package.tar"
expect_exit 0 attest --payload install -o "$T/out.tar"
grep -q '^enrolled m1$' "$T/out" || die "no enrolment reported: $(cat "$T/out")"
grep -q '^pass m1$' "$T/out" || die "no pass reported"
assert_eq "payload released byte for byte" "$(sha256sum < "$T/package.tar")" "$(sha256sum < "$T/out.tar")"
assert_eq "payload mode" "600" "$(stat -c %a "$T/out.tar")"
[ -f "$T/state/enrollment.json" ] || die "no enrolment state"

# 2. Enrolled already: no second enrolment, a fresh nonce each time.
expect_exit 0 attest --json
grep -q '"enrolled": false' "$T/out" || die "enrolled again: $(cat "$T/out")"
grep -q '"result": "pass"' "$T/out" || die "--json: no pass"

# 3. The output file is never overwritten (nothing is asked of the server).
echo keep > "$T/exists"
expect_exit 3 attest --payload install -o "$T/exists"
assert_eq "existing file untouched" "keep" "$(cat "$T/exists")"
ln -s "$T/elsewhere" "$T/link"
expect_exit 3 attest --payload install -o "$T/link"
[ ! -e "$T/elsewhere" ] || die "payload written through a symlink"

# 4. A changed measurement: refused, the CEL event named, nothing written.
echo x >> "$T/root.img"
"$M" extend -p 15 -b sha256 -l "$T/cel.log" "$T/root.img" > /dev/null || die "measured extend"
fake_start --pcrs 15 --banks sha256 --expect-cel "15:$(sha256sum "$T/root.img" | cut -d' ' -f1)" \
	--payload "install=$T/package.tar"
rm -rf "$T/state"
expect_exit 1 attest --payload install -o "$T/bad.tar"
grep -q '^fail m1 manifest-mismatch' "$T/out" || die "no manifest-mismatch: $(cat "$T/out")"
grep -q '^first difference: pcr 15 bank sha256 event-differs event 0' "$T/out" ||
	die "first difference not named: $(cat "$T/out")"
grep -q '"log":"cel","record":0' "$T/out" || die "the CEL record is not named: $(cat "$T/out")"
[ ! -e "$T/bad.tar" ] || die "payload written on a refusal"
ok "refusal names the CEL record"

# 5. Must-fail cases, each with its exit code.
fake_start --pcrs 15 --banks sha256 --payload "install=$T/package.tar" --mode wrong-name
rm -rf "$T/state"
expect_exit 4 attest
grep -q ActivateCredential "$T/err" || die "wrong-name: $(cat "$T/err")"
ok "credential bound to another AK name: the TPM refuses (exit 4)"

fake_start --pcrs 15 --banks sha256 --payload "install=$T/package.tar" --mode bad-tag
rm -rf "$T/state"
expect_exit 3 attest --payload install -o "$T/tag.tar"
grep -q "authentication tag" "$T/err" || die "bad tag: $(cat "$T/err")"
[ ! -e "$T/tag.tar" ] || die "payload written with a bad tag"
ok "payload with a bad GCM tag: nothing written (exit 3)"

fake_start --pcrs 15 --banks sha256 --payload "install=$T/package.tar" --mode payload-wrong-name
rm -rf "$T/state"
expect_exit 4 attest --payload install -o "$T/wn.tar"
[ ! -e "$T/wn.tar" ] || die "payload written when its key is for another AK"
ok "payload key bound to another AK: nothing written (exit 4)"

fake_start --pcrs 15 --banks sha256
rm -rf "$T/state"
expect_exit 1 attest --payload nosuch -o "$T/ns.tar"
grep -q "unknown-policy" "$T/out" || die "unknown payload: $(cat "$T/out")"
[ ! -e "$T/ns.tar" ] || die "payload written for an unknown name"

# A list of verifiers: past one that cannot be reached and one whose database
# is down (503) to one that answers; each move said on stderr.  A verifier
# that answers 403 is an answer: never retried elsewhere.
fake_launch srv503 --mode unavailable
U503=$LAUNCHED_URL
rm -rf "$T/state"
expect_exit 0 "$M" attest --server "https://127.0.0.1:9,$U503,$URL" --machine m1 --ca-cert "$T/ca.pem" \
	--state "$T/state" --eventlog "$T/cel.log"
grep -q '^pass m1$' "$T/out" || die "fleet list: no pass: $(cat "$T/out" "$T/err")"
grep -q "^measured attest: https://127.0.0.1:9/v1/enroll: .*; trying $U503\$" "$T/err" ||
	die "fleet list: the unreachable verifier not said: $(cat "$T/err")"
grep -q "^measured attest: $U503: HTTP 503 (its database is unavailable); trying $URL\$" "$T/err" ||
	die "fleet list: the 503 not said: $(cat "$T/err")"
# the verifier that answered keeps the rest of the run: one move each, at the first request
assert_eq "fleet list: moves" 2 "$(grep -c '^measured attest: .*; trying' "$T/err")"
# a verifier that gives a nonce, then answers the attestation 503: the
# exchange starts again at the next verifier from a nonce of its own (the
# one that answers refuses a nonce it did not issue)
fake_launch srvatt503 --mode attest-unavailable
UA503=$LAUNCHED_URL
expect_exit 0 "$M" attest --server "$UA503,$URL" --machine m1 --ca-cert "$T/ca.pem" \
	--state "$T/state" --eventlog "$T/cel.log"
grep -q '^pass m1$' "$T/out" || die "503 after a nonce: no pass: $(cat "$T/out" "$T/err")"
[ "$(wc -l < "$T/srvatt503/attest503")" = 1 ] || die "503 after a nonce: the attestation was not sent to the 503 verifier once"
grep -q "^measured attest: $UA503: HTTP 503 (its database is unavailable); trying $URL\$" "$T/err" ||
	die "503 after a nonce: the move not said: $(cat "$T/err")"
assert_eq "503 after a nonce: moves" 1 "$(grep -c '^measured attest: .*; trying' "$T/err")"
# every verifier 503: each tried once, then the error
rm -rf "$T/state503"
expect_exit 3 "$M" attest --server "$U503,$U503/" --machine m1 --ca-cert "$T/ca.pem" --state "$T/state503" \
	--eventlog "$T/cel.log"
assert_eq "fleet list: all 503, moves" 1 "$(grep -c '^measured attest: .*; trying' "$T/err")"
grep -q "HTTP 503: internal-error: the database is unavailable" "$T/err" || die "fleet list: all 503: $(cat "$T/err")"
expect_exit 1 "$M" attest --server "$URL,$U503" --machine m1 --ca-cert "$T/ca.pem" --state "$T/state" \
	--eventlog "$T/cel.log" --payload nosuch -o "$T/ns.tar"
grep -q "unknown-policy" "$T/out" || die "fleet list: the refusal not reported: $(cat "$T/out")"
grep -q "trying" "$T/err" && die "fleet list: a refusal was retried elsewhere: $(cat "$T/err")"
expect_exit 2 "$M" attest --server "$URL,http://127.0.0.1:9" --machine m1 --ca-cert "$T/ca.pem" --state "$T/state"
grep -q "server 'http://127.0.0.1:9': only https:// URLs" "$T/err" || die "fleet list: http accepted: $(cat "$T/err")"
ok "a list of verifiers: unreachable and 503 ones passed over, each move said"

# TLS: another CA, the system CAs, plain http: all refused, no way around.
expect_exit 3 "$M" attest --server "$URL" --machine m1 --ca-cert "$T/other.pem" --state "$T/state" --eventlog none
expect_exit 3 "$M" attest --server "$URL" --machine m1 --system-ca --state "$T/state" --eventlog none
# the verifier's CA is pinned by default: no --ca-cert is a usage error, not the system CAs
expect_exit 2 "$M" attest --server "$URL" --machine m1 --state "$T/state" --eventlog none
grep -q -- "--ca-cert FILE (the verifier's CA) is required" "$T/err" || die "no --ca-cert: $(cat "$T/err")"
expect_exit 2 "$M" attest --server "http://127.0.0.1:$(cat "$T/srv.port")" --machine m1 --state "$T/state"
expect_exit 2 "$M" attest --server "$URL" --machine m1 --payload x
expect_exit 2 "$M" attest --machine m1
ok "TLS verification always on; usage errors exit 2"

# No server listening: a network error.
fake_stop
expect_exit 3 attest
ok "no verifier: exit 3"

# 6. ECC keys (EK template L-2, P-256 AK) through the whole exchange.
fake_start --pcrs 15 --banks sha256 --payload "install=$T/package.tar"
rm -rf "$T/state"
expect_exit 0 attest --ak-alg ecc --payload install -o "$T/ecc.tar"
assert_eq "ECC: payload released" "$(sha256sum < "$T/package.tar")" "$(sha256sum < "$T/ecc.tar")"
fake_stop
ok "agent against the stand-in verifier"

# 7. The real verifier (`measured serve`, tests/lib/serve.sh's helpers):
# waiting for approval is a refusal, approval gives the payload, a changed
# PCR 16 is a manifest mismatch that releases nothing.
[ -f "$MEASURED_SRCDIR/cmd/cmd_serve.c" ] || die "no measured serve in this tree"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
tls_make
swtpm_start real
"$M" extend --pcr 16 --text kernel --bank sha256 --log "$T/m.cel" >/dev/null
"$M" extend --pcr 16 --text rootfs --bank sha256 --log "$T/m.cel" >/dev/null
mkmanifest "$T/good.json" 16 kernel rootfs
DB=sqlite:$T/real.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256 || die "policy add"
"$M" admin --db "$DB" payload add pkg --file "$T/package.tar" --policy good || die "payload add"
serve_start "$DB" --tofu
real() {
	"$M" attest --server "$URL" --machine r1 --ca-cert "$T/ca.crt" --state "$T/rstate" \
		--eventlog "$T/m.cel" "$@"
}
expect_exit 1 real
grep -q '^enrolled r1$' "$T/out" || die "serve: not enrolled: $(cat "$T/out")"
grep -q '^fail r1 not-approved' "$T/out" || die "serve: not waiting for approval: $(cat "$T/out")"
"$M" admin --db "$DB" machine approve r1 --policy good || die "approve"
expect_exit 0 real --payload pkg -o "$T/real.tar"
assert_eq "serve: payload released to the agent" "$(sha256sum < "$T/package.tar")" "$(sha256sum < "$T/real.tar")"
"$M" extend --pcr 16 --text evil --bank sha256 --log "$T/m.cel" >/dev/null
expect_exit 1 real --payload pkg -o "$T/real2.tar"
grep -q '^fail r1 manifest-mismatch' "$T/out" || die "serve: changed PCR 16 not refused: $(cat "$T/out")"
grep -q '^first difference: pcr 16' "$T/out" || die "serve: no first difference: $(cat "$T/out")"
[ ! -e "$T/real2.tar" ] || die "serve: payload written on a refusal"
serve_stop
ok "agent against measured serve"
