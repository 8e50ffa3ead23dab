#!/bin/sh
# The verifier's attack cases that apply to a TPM 1.2, against the real
# server with two swtpm 1.2 (owned by swtpm_setup).  The client is made of
# `measured aik create|activate` and `measured quote --aik` with python
# building the requests (independent of `measured attest`).  Enrolment: a
# forged identity binding, an AIK presented with another TPM's EK (a key not
# bound to the enrolled EK), another TPM's AIK with this TPM's EK, a wrong
# activation secret, another EK under an enrolled name.  Attestation: reused,
# unknown, expired and other machines' nonces, a quote over a stale nonce,
# an edited PCR value, an edited log, another TPM's AIK, quotes by a
# signing key of the same TPM that is no identity key (TPM_CreateWrapKey;
# presented as it is and under the AIK's name), a TPM 2.0 document for a 1.2
# machine, a sha256 policy, a manifest mismatch naming the event.  Each is
# refused with its reason code, nothing released.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
python3 -c 'import cryptography' 2>/dev/null || die "python3-cryptography is not installed"

tls_make
swtpm12_owned b
TB=$MEASURED_TCTI
swtpm12_owned a
TA=$MEASURED_TCTI
S="--owner-secret $WK --srk-secret $WK"
# shellcheck disable=SC2086 # $S is two options
{ $M aik create -T "$TA" -o "$T/aikA" --request "$T/reqA.json" $S &&
  $M aik create -T "$TB" -o "$T/aikB" --request "$T/reqB.json" $S; } || die "aik create"
"$M" extend -T "$TA" --pcr 16 --text kernel --log "$T/m.cel" >/dev/null
"$M" extend -T "$TA" --pcr 16 --text rootfs --log "$T/m.cel" >/dev/null
python3 - "$T" <<'PY'
import hashlib, json, sys
T = sys.argv[1]
def manifest(out, texts, bank="sha1", h=hashlib.sha1):
    v, ev = bytes(h().digest_size), []
    for i, t in enumerate(texts):
        d = h(t.encode()).digest()
        v = h(v + d).digest()
        ev.append({"index": i, "type": 0, "description": t, "source": "test", "digests": {bank: d.hex()}})
    json.dump({"format": "measured-manifest", "version": 1, "generator": "test", "banks": [bank],
               "startup_locality": 0,
               "pcrs": [{"pcr": 16, "source": "test", "values": {bank: v.hex()}, "events": ev}]},
              open(T + "/" + out, "w"))
manifest("good.json", ["kernel", "rootfs"])
manifest("other.json", ["kernel", "rootfs-v2"])
manifest("s256.json", ["kernel", "rootfs"], "sha256", hashlib.sha256)
PY
echo secret-package > "$T/payload.bin"

# enrol12 REQ NAME [EK-OF-REQ]: /v1/enroll from `aik create`'s request (its EK, or another request's)
enrol12() {
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1])); ek=json.load(open(sys.argv[3] or sys.argv[1]))["ek_public"]
print(json.dumps({"machine":sys.argv[2],"tpm":"1.2","ek_pub":ek,"ak_pub":r["aik_public"],
 "label_digest":r["label_digest"],"identity_binding":r["identity_binding"],"ek_cert":None}))' \
		"$1" "$2" "${3:-}" > "$T/enr.json"
	code=$(post /v1/enroll "$T/enr.json")
}
# activate12 TCTI AIK: TPM_ActivateIdentity of the last answer's blob, /v1/activate with the key
activate12() {
	cp "$T/ans" "$T/enr.ans"
	python3 -c 'import json,sys,base64; open(sys.argv[2],"wb").write(base64.b64decode(json.load(open(sys.argv[1]))["activation_blob"]))' \
		"$T/enr.ans" "$T/blob"
	# shellcheck disable=SC2086
	key=$($M aik activate -T "$1" --aik "$2" $S "$T/blob" 2>"$T/act.err") || return 1
	send_key "$key"
}
# send_key HEX: /v1/activate of the last enrolment with that key
send_key() {
	python3 -c 'import json,sys,base64
print(json.dumps({"enrollment":json.load(open(sys.argv[1]))["enrollment"],"secret":base64.b64encode(bytes.fromhex(sys.argv[2])).decode()}))' \
		"$T/enr.ans" "$1" > "$T/act.json"
	code=$(post /v1/activate "$T/act.json")
}
# quote12 TCTI AIK NONCE [ARGS]: a TPM_Quote2 of PCR 16 with the CEL log in $T/ev.json
quote12() {
	tcti=$1; aik=$2; n=$3; shift 3
	"$M" quote -T "$tcti" --nonce "$n" --pcrs "${QPCRS:-16}" --aik "$aik" --srk-secret "$WK" -e "$T/m.cel" \
		-o "$T/ev.json" "$@" || die "measured quote --aik failed"
}
attempt() {
	attest_req "${MACHINE:-m1}" "$T/ev.json" "$T/req.json" "${1:-}"
	code=$(post /v1/attest "$T/req.json")
	if grep -q '"payload"' "$T/ans" && [ "$code" != 200 ]; then die "a payload left with a failure"; fi
}

DB=sqlite:$T/v.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha1 2>/dev/null
"$M" admin --db "$DB" policy add other --manifest "$T/other.json" --pcrs 16 --banks sha1 2>/dev/null
"$M" admin --db "$DB" policy add s256 --manifest "$T/s256.json" --pcrs 16 --banks sha256 2>/dev/null
"$M" admin --db "$DB" payload add pkg --file "$T/payload.bin" --policy good
# a 12 s nonce: long enough for a quote on a loaded machine, short enough to wait out once
serve_start "$DB" --tofu --approve good --insecure-tofu-approve --nonce-ttl 12

# ---- enrolment ----
# a forged identity binding (B's, over B's AIK) for A's AIK: no challenge at all
python3 -c 'import json,sys
a,b=json.load(open(sys.argv[1])),json.load(open(sys.argv[2])); a["identity_binding"]=b["identity_binding"]
json.dump(a,open(sys.argv[3],"w"))' "$T/reqA.json" "$T/reqB.json" "$T/forged.json"
enrol12 "$T/forged.json" m9
expect_reason 403 ak-attributes
# A's AIK with B's EK (a key not bound to the EK it is enrolled with): A's TPM cannot open the blob
enrol12 "$T/reqA.json" m8 "$T/reqB.json"
assert_eq "an enrolment with another TPM's EK starts" 200 "$code"
activate12 "$TA" "$T/aikA" && die "TPM a activated a blob made for TPM b's EK"
assert_eq "TPM a refuses a blob for TPM b's EK" \
	"measured aik: TPM_ActivateIdentity: TPM 1.2 error 0x021 (TPM_DECRYPT_ERROR: the blob is not for this TPM's EK)" \
	"$(cat "$T/act.err")"
send_key "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
expect_reason 403 activation-failed
send_key "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
expect_reason 403 activation-failed
# B's AIK (with its valid binding) and A's EK: A's TPM does not release the key for its own AIK
enrol12 "$T/reqB.json" m7 "$T/reqA.json"
assert_eq "an enrolment of another TPM's AIK starts" 200 "$code"
activate12 "$TA" "$T/aikA" && die "TPM a activated a blob naming TPM b's AIK"
assert_eq "TPM a refuses a blob naming another AIK" \
	"measured aik: TPM_ActivateIdentity: TPM 1.2 error 0x003 (TPM_BAD_PARAMETER)" "$(cat "$T/act.err")"
send_key 00000000000000000000000000000000
expect_reason 403 activation-failed
# the real enrolments
enrol12 "$T/reqA.json" m1
activate12 "$TA" "$T/aikA" || die "activation on TPM a: $(cat "$T/act.err")"
assert_eq "TPM a enrols as m1" "200 approved" "$code $(jget "$T/ans" status)"
enrol12 "$T/reqB.json" m2
activate12 "$TB" "$T/aikB" || die "activation on TPM b"
# another TPM under m1's name
enrol12 "$T/reqB.json" m1
expect_reason 403 ek-mismatch
sqlite3 "${DB#sqlite:}" "SELECT name, tpm FROM machines ORDER BY name" > "$T/fam"
assert_eq "both machines are stored as TPM 1.2" "m1|1.2
m2|1.2" "$(cat "$T/fam")"

# ---- attestation ----
nonce m1; quote12 "$TA" "$T/aikA" "$NONCE"; attempt pkg
[ "$code" = 200 ] || { cat "$T/ans"; die "the baseline fails"; }
ok "the baseline passes, with the payload"
cp "$T/req.json" "$T/replay.json"
code=$(post /v1/attest "$T/replay.json")
expect_reason 403 nonce-reused
nonce m1; quote12 "$TA" "$T/aikA" "$NONCE" --legacy-quote; attempt
assert_eq "a TPM_Quote (1.1) passes too" 200 "$code"
quote12 "$TA" "$T/aikA" "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; attempt
expect_reason 403 nonce-unknown
nonce m2; quote12 "$TA" "$T/aikA" "$NONCE"; attempt
expect_reason 403 nonce-unknown
nonce m1; N1=$NONCE; sleep 13; quote12 "$TA" "$T/aikA" "$N1"; attempt
expect_reason 403 nonce-expired
# a quote over a stale nonce presented with a fresh one
nonce m1; OLD=$NONCE; quote12 "$TA" "$T/aikA" "$OLD"; attempt
nonce m1; quote12 "$TA" "$T/aikA" "$OLD"
edit "$T/ev.json" "e['nonce']='$NONCE'"
attempt
expect_reason 403 nonce-mismatch
nonce m1; quote12 "$TA" "$T/aikA" "$NONCE"
edit "$T/ev.json" 'e["pcrs"]["sha1"]["16"]="00"*20'
attempt
expect_reason 403 pcr-digest-mismatch
nonce m1; quote12 "$TA" "$T/aikA" "$NONCE"
edit "$T/ev.json" 'l=[x for x in unb(e["eventlogs"][0]["data"]).decode().split("\n") if x]; e["eventlogs"][0]["data"]=b64(("\n".join(l[1:])+"\n").encode())'
attempt
expect_reason 403 eventlog-replay-mismatch
# TPM b's AIK quoting for m1 (its own quote, m1's nonce)
nonce m1; quote12 "$TB" "$T/aikB" "$NONCE"; attempt
expect_reason 403 ak-mismatch
# a quote by a signing key of TPM a that is no identity key: TPM_CreateWrapKey
# under a's SRK, then TPM_LoadKey2 and TPM_Quote2 (and TPM_Quote) on TPM a over
# a fresh nonce of m1.  As the TPM made it the evidence names the signing key;
# with the enrolled AIK named instead, the signature does not verify.  Asking
# for the payload each time, nothing is released.
t12_signkey "$TA" "$T/signA"
last_audit() {	# the reason and message of the newest attest record
	"$M" admin --db "$DB" audit --json > "$T/audit.json"
	python3 -c 'import json,sys
a=[x for x in json.load(open(sys.argv[1])) if x["event"]=="attest"]
print(a[-1]["machine"], a[-1]["reason"])' "$T/audit.json"
}
nonce m1; quote12 "$TA" "$T/signA" "$NONCE"; attempt pkg
expect_reason 403 ak-mismatch
assert_eq "the signing key's TPM_Quote2: the message" "the evidence's AIK is not the trusted key" "$(jget "$T/ans" message)"
assert_eq "the signing key's TPM_Quote2: the audit record" "m1 ak-mismatch" "$(last_audit)"
nonce m1; quote12 "$TA" "$T/signA" "$NONCE" --legacy-quote; attempt pkg
expect_reason 403 ak-mismatch
assert_eq "the signing key's TPM_Quote: the audit record" "m1 ak-mismatch" "$(last_audit)"
nonce m1; quote12 "$TA" "$T/signA" "$NONCE"
edit "$T/ev.json" "e['ak_public']=json.load(open('$T/reqA.json'))['aik_public']"
attempt pkg
expect_reason 403 bad-signature
assert_eq "the signing key's TPM_Quote2 under the AIK's name: the message" \
	"TPM_Quote2: the signature does not verify with the AIK" "$(jget "$T/ans" message)"
assert_eq "the signing key's quote under the AIK's name: the audit record" "m1 bad-signature" "$(last_audit)"
# a TPM 2.0 document for a TPM 1.2 machine
nonce m1; quote12 "$TA" "$T/aikA" "$NONCE"
edit "$T/ev.json" 'del e["tpm"]'
attempt
expect_reason 403 ak-mismatch
assert_eq "the message names the families" "machine 'm1' enrolled a TPM 1.2; the evidence is a TPM 2.0 quote" \
	"$(jget "$T/ans" message)"
# policies: a sha256 bank a TPM 1.2 cannot quote; another manifest
"$M" admin --db "$DB" machine approve m1 --policy s256
nonce m1
assert_eq "the nonce names the policy's bank" '["sha256"]' "$(jget "$T/ans" banks)"
quote12 "$TA" "$T/aikA" "$NONCE"; attempt
expect_reason 403 pcr-missing
"$M" admin --db "$DB" machine approve m1 --policy other
nonce m1; quote12 "$TA" "$T/aikA" "$NONCE"; attempt
expect_reason 403 manifest-mismatch
assert_eq "first difference" "16 sha1 event-differs 1 rootfs-v2 rootfs 1 cel-json" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["first_difference"]; f=d["found"]
print(d["pcr"], d["bank"], d["status"], d["index"], d["expected"]["description"], f["description"], f["record"], f["log"])' "$T/ans")"

"$M" admin --db "$DB" audit --json > "$T/audit.json"
python3 -c 'import json,sys
a=json.load(open(sys.argv[1]))
r={x["reason"] for x in a if x["event"]=="attest"}
need={"nonce-reused","nonce-unknown","nonce-expired","nonce-mismatch","pcr-digest-mismatch",
 "eventlog-replay-mismatch","ak-mismatch","bad-signature","pcr-missing","manifest-mismatch"}
assert need<=r, need-r
e={x["reason"] for x in a if x["event"] in ("enroll","enroll-start")}
assert {"ak-attributes","activation-failed","ek-mismatch"}<=e, e' "$T/audit.json" || die "audit reasons"
ok "every rejection is in the audit log with its reason"
serve_stop
