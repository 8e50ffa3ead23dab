#!/bin/sh
# Forged and tampered evidence against `measured verify`, each refused for
# its own reason code (docs/evidence.md).  The forgeries are made with a
# real TPM (swtpm): TPM2_Sign with an unrestricted key, which is how a
# quote is faked when the verifier forgets the checks.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
cd "$T"
swtpm_start a
flush() { tpm2_flushcontext -t >/dev/null; tpm2_flushcontext -s >/dev/null; }
N=5eed5eed5eed5eed

# reason CODE CMD...: CMD must exit 1 and print "FAILED CODE: ..."
reason() {
	rwant=$1; shift
	expect_exit 1 "$@"
	grep -q "^FAILED $rwant:" "$T/out" || die "expected $rwant, got: $(cat "$T/out")"
}

"$M" quote --nonce $N --pcrs 0-7 --bank sha256 -o ev.json --ak-public ak.pub --tpm2-tools g
expect_exit 0 "$M" verify --evidence ev.json --ak-pub ak.pub --nonce $N
ok "the genuine evidence verifies"

reason nonce-mismatch "$M" verify --evidence ev.json --ak-pub ak.pub --nonce 5eed5eed5eed5eee
ok "wrong nonce: nonce-mismatch"
reason nonce-mismatch "$M" verify --evidence ev.json --ak-pub ak.pub --nonce ''
ok "no nonce: nonce-mismatch"

reason pcr-missing "$M" verify --evidence ev.json --ak-pub ak.pub --nonce $N --pcrs 0-8
ok "policy PCR 8 not quoted: pcr-missing"

# one reported PCR value changed (sha256 PCR 3: 32 zero bytes -> ...01)
python3 - ev.json ev-pcr.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["pcrs"]["sha256"]["3"] = "00" * 31 + "01"
json.dump(d, open(sys.argv[2], "w"))
PY
reason pcr-digest-mismatch "$M" verify --evidence ev-pcr.json --ak-pub ak.pub --nonce $N
ok "PCR value edited: pcr-digest-mismatch"

# another TPM's AK (a fresh swtpm has another endorsement seed)
swtpm_start b
"$M" quote --nonce $N --pcrs 0-7 --bank sha256 -o ev-b.json --ak-public ak-b.pub
reason ak-mismatch "$M" verify --evidence ev-b.json --ak-pub ak.pub --nonce $N
ok "evidence from another TPM's AK: ak-mismatch"

# --- TPM2_Sign forgeries: an unrestricted signing key signs anything
tpm2_createprimary -C o -c prim.ctx >/dev/null; flush
tpm2_create -C prim.ctx -G rsa2048:rsassa-sha256 -u k.pub -r k.priv \
	-a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" >/dev/null; flush
tpm2_load -C prim.ctx -u k.pub -r k.priv -c k.ctx >/dev/null; flush
# (1) the genuine attest with TPM_GENERATED magic, re-signed: restricted is missing
tpm2_sign -c k.ctx -g sha256 -o forged1.sig g.msg >/dev/null; flush
reason ak-attributes "$M" verify -u k.pub -m g.msg -s forged1.sig -f g.pcrs -q $N
ok "TPM2_Sign with an unrestricted key: ak-attributes"
# (2) a made-up attest without the magic (what TPM2_Sign with any key produces)
{ printf '\000\124\103\107'; tail -c +5 g.msg; } > forged2.msg
tpm2_sign -c k.ctx -g sha256 -o forged2.sig forged2.msg >/dev/null; flush
reason not-tpm-generated "$M" verify -u k.pub -m forged2.msg -s forged2.sig -f g.pcrs -q $N
ok "TPM2_Sign over an attest without TPM_GENERATED: not-tpm-generated"
# (3) a restricted AK refuses to sign data that starts with the magic
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null; flush
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u rak.pub >/dev/null; flush
expect_exit 1 tpm2_sign -c ak.ctx -g sha256 -o forged3.sig g.msg
flush
ok "the TPM refuses TPM2_Sign of a TPM_GENERATED message with a restricted AK"
# (4) the genuine signature over an attest with one byte changed
"$M" quote --nonce $N --pcrs 0-7 --bank sha256 --ak-public ak-b2.pub --tpm2-tools gb -o /dev/null
cp gb.msg badb.msg
printf '\377' | dd of=badb.msg bs=1 seek=$(( $(wc -c < gb.msg) - 1 )) conv=notrunc 2>/dev/null
reason bad-signature "$M" verify -u ak-b2.pub -m badb.msg -s gb.sig -f gb.pcrs -q $N
ok "attest changed after signing: bad-signature"

# --- event logs
E=$FIX/eventlogs/tpm2-tools/event-sd-boot-fedora37.bin
"$M" quote --nonce $N --pcrs 15 --bank sha256 -e "$E" -o ev-log.json --ak-public ak-l.pub
reason eventlog-untouched-pcr "$M" verify --evidence ev-log.json --ak-pub ak-l.pub --nonce $N
ok "a log that extends none of the quoted PCRs: eventlog-untouched-pcr"
"$M" quote --nonce $N --pcrs 0-7 --bank sha256 -e "$E" -o ev-log2.json --ak-public ak-l.pub
reason eventlog-replay-mismatch "$M" verify --evidence ev-log2.json --ak-pub ak-l.pub --nonce $N
ok "a log this TPM never saw: eventlog-replay-mismatch"

# --- malformed documents: exit 3 and the field named
python3 - ev.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = dict(d); e["quote"] = dict(d["quote"]); e["quote"]["attest"] = "!!!!" + d["quote"]["attest"][4:]
json.dump(e, open("m-b64.json", "w"))
e = dict(d); del e["ak_public"]
json.dump(e, open("m-missing.json", "w"))
e = dict(d); e["pcrs"] = {"sha256": {"3": "zz"}}
json.dump(e, open("m-hex.json", "w"))
open("m-trunc.json", "w").write(json.dumps(d)[:-7])
PY
expect_exit 3 "$M" verify --evidence m-b64.json --ak-pub ak.pub --nonce $N
grep -q "quote.attest: bad base64" "$T/err" || die "base64: $(cat "$T/err")"
ok "bad base64: exit 3 naming quote.attest"
expect_exit 3 "$M" verify --evidence m-missing.json --ak-pub ak.pub --nonce $N
grep -q "ak_public: missing" "$T/err" || die "missing: $(cat "$T/err")"
ok "missing field: exit 3 naming ak_public"
expect_exit 3 "$M" verify --evidence m-hex.json --ak-pub ak.pub --nonce $N
grep -q "pcrs.sha256.3" "$T/err" || die "hex: $(cat "$T/err")"
ok "bad PCR hex: exit 3 naming pcrs.sha256.3"
expect_exit 3 "$M" verify --evidence m-trunc.json --ak-pub ak.pub --nonce $N
grep -q "bad JSON" "$T/err" || die "json: $(cat "$T/err")"
ok "truncated JSON: exit 3"
expect_exit 2 "$M" verify --evidence ev.json --ak-pub ak.pub
ok "no nonce given: usage error"
