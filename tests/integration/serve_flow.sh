#!/bin/sh
# The verifier end to end, on SQLite and on PostgreSQL: enrolment with
# credential activation on a real (swtpm) TPM, approval, nonce, quote,
# attestation against a reference manifest, payload release and decryption
# with TPM2_ActivateCredential; mutual TLS; a kill -9 loses nothing
# committed; the admin listing and the audit log.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"

tls_make
pg_start
swtpm_start a
"$M" extend --pcr 16 --text kernel --bank sha256 --log "$T/m.cel" >/dev/null
"$M" extend --pcr 16 --text rootfs --bank sha256 --log "$T/m.cel" >/dev/null
mkmanifest "$T/good.json" 16 kernel rootfs
tpm_keys "$T/a" rsa
head -c 100000 /dev/urandom > "$T/payload.bin"

for kind in sqlite pg; do
	DB=$(db_for $kind)
	"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256
	"$M" admin --db "$DB" payload add pkg --file "$T/payload.bin" --policy good
	serve_start "$DB" --tofu
	# the request threads by default: SQLite's one writer, PostgreSQL's passes grouped (server/group.c)
	assert_eq "$kind: default request threads" "$([ $kind = pg ] && echo 8 || echo 2)" \
		"$(grep '"listening"' "$T/serve.log" | tail -1 | sed -n 's/.*"threads": *\([0-9]*\).*/\1/p')"

	enrol "$T/a" m1 || { cat "$T/ans" >&2; die "$kind: enrolment failed"; }
	assert_eq "$kind: enrolled, pending" enrolled "$(jget "$T/ans" status)"
	nonce m1; quote "$NONCE" "$T/ev.json"
	attest_req m1 "$T/ev.json" "$T/req.json"
	code=$(post /v1/attest "$T/req.json")
	expect_reason 403 not-approved
	"$M" admin --db "$DB" machine approve m1 --policy good
	expect_exit 3 "$M" admin --db "$DB" machine approve m1 --policy goood

	nonce m1
	assert_eq "$kind: nonce is 32 bytes" 64 "${#NONCE}"
	assert_eq "$kind: nonce names the policy PCRs" '[16]' "$(jget "$T/ans" pcrs)"
	quote "$NONCE" "$T/ev.json"
	attest_req m1 "$T/ev.json" "$T/req.json" pkg
	code=$(post /v1/attest "$T/req.json")
	[ "$code" = 200 ] || { cat "$T/ans"; die "$kind: attestation failed"; }
	assert_eq "$kind: pass" pass "$(jget "$T/ans" result)"
	cp "$T/ans" "$T/pass.json"
	activate "$T/a" "$T/pass.json" "$T/k.bin" payload || die "$kind: payload key activation failed"
	python3 -c 'import json,sys,base64
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
p=json.load(open(sys.argv[1]))["payload"]
b=lambda k: base64.b64decode(p[k])
open(sys.argv[3],"wb").write(AESGCM(open(sys.argv[2],"rb").read()).decrypt(b("iv"), b("ciphertext")+b("tag"), None))' \
		"$T/pass.json" "$T/k.bin" "$T/payload.out"
	cmp "$T/payload.bin" "$T/payload.out" || die "$kind: payload differs"
	ok "$kind: payload decrypted with the TPM-activated key"
	grep -q "$(od -An -tx1 "$T/k.bin" | tr -d ' \n' | cut -c1-16)" "$T/pass.json" && die "key in the answer"

	# the same TPM enrolling again is a re-enrolment, not a new first use
	enrol "$T/a" m1 || { cat "$T/ans" >&2; die "$kind: re-enrolment failed"; }
	"$M" admin --db "$DB" audit --json > "$T/audit.json"
	python3 -c 'import json,sys
a=[x for x in json.load(open(sys.argv[1])) if x["event"] in ("enroll","enroll-start")]
assert len(a) == 4, a
assert sum("tofu" in x["detail"] for x in a) == 2, a
assert "re-enrolment" in a[2]["detail"] and "re-enrolment" in a[3]["detail"], a' "$T/audit.json" ||
		die "$kind: re-enrolment audit"
	ok "$kind: the same EK enrolling again is audited as a re-enrolment"

	# a kill -9 right after the answer loses nothing committed
	kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
	"$M" admin --db "$DB" machine list > "$T/list"
	grep -q '^m1 approved policy=good trust=tofu last=pass' "$T/list" || { cat "$T/list"; die "$kind: machine list"; }
	ok "$kind: machine record and last result survive kill -9"
	"$M" admin --db "$DB" audit --json > "$T/audit.json"
	python3 -c 'import json,sys
a=json.load(open(sys.argv[1]))
ev=[(x["event"],x["result"]) for x in a]
assert ("enroll","ok") in ev and ("attest","pass") in ev, ev
assert any("tofu" in x["detail"] for x in a if x["event"]=="enroll")' "$T/audit.json" || die "$kind: audit"
	ok "$kind: audit log records enrolment (tofu) and the pass"

	# mutual TLS: once configured, required on every endpoint but health
	serve_start "$DB" --tofu --client-ca "$T/ca.crt"
	printf '{"machine":"m1"}' > "$T/n.json"
	code=$(post /v1/nonce "$T/n.json")
	expect_reason 403 client-cert-required
	curl -sf --cacert "$T/ca.crt" "$URL/v1/health" >/dev/null || die "health needs no client cert"
	CURL_EXTRA="--cert $T/client.crt --key $T/client.key"
	code=$(post /v1/nonce "$T/n.json")
	assert_eq "$kind: with a client certificate" 200 "$code"
	CURL_EXTRA=""
	serve_stop

	# verifiers of one database share its nonce key: a nonce from one is
	# good at another, after a kill -9 of the first, and used once across them
	serve_start "$DB" --tofu
	nonce m1
	kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
	quote "$NONCE" "$T/ev.json"
	attest_req m1 "$T/ev.json" "$T/req.json"
	serve_start "$DB" --tofu; PID_B=$SERVE_PID; URL_B=$URL
	serve_start "$DB" --tofu
	code=$(post /v1/attest "$T/req.json")
	assert_eq "$kind: a nonce from another verifier process passes" 200 "$code"
	URL_C=$URL; URL=$URL_B
	code=$(post /v1/attest "$T/req.json")
	expect_reason 403 nonce-reused
	URL=$URL_C
	serve_stop
	kill "$PID_B"; wait "$PID_B" 2>/dev/null || true
	# each of the two last verifiers sent one pass's statement: C's pass, B's used nonce (group.c)
	grep '"stopping"' "$T/serve.log" | tail -2 > "$T/stopping"
	assert_eq "$kind: the last two verifiers stopped" 2 "$(wc -l < "$T/stopping")"
	case $kind in
	pg) assert_eq "$kind: the passes' statements at stop" '1 1
1 1' "$(sed -n 's/.*"pass_statements": *\([0-9]*\), *"passes": *\([0-9]*\).*/\1 \2/p' "$T/stopping")" ;;
	sqlite) grep -q pass_statements "$T/stopping" && die "$kind: passes counted where none are grouped" ;;
	esac
done
