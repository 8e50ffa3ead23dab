#!/bin/sh
# TPM 1.2 attestation on swtpm (1.2 mode, owned by swtpm_setup): an AIK made
# with TPM_MakeIdentity, its identity binding checked here with python's
# cryptography from the TPM_IDENTITY_CONTENTS layout (TPM Main 1.2 Part 2,
# 12.5); the challenge encrypted to the EK is opened by TPM_ActivateIdentity
# only on the TPM whose EK and AIK it names; a TPM_Quote2 verifies with
# `measured verify` and, independently, with python (TPM_QUOTE_INFO2 and the
# composite PCR digest rebuilt from Part 2, 11.4 and 8.2); the attack cases:
# a stale nonce, an edited PCR value, an edited log, another TPM's AIK, a
# signature by another key, a quote by a signing key of the same TPM that is
# no identity key (TPM_CreateWrapKey), a challenge for another EK or another
# AIK.  A
# TPM with an EK certificate (swtpm_setup's local CA) has it checked against
# the CA and against the EK it names.  Our
# quote verifies with Debian's tpm-quote-tools (tpm_verifyquote, which needs
# no daemon for this).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
python3 -c 'import cryptography' 2>/dev/null || die "python3-cryptography is not installed"
command -v tpm_verifyquote > /dev/null || die "tpm_verifyquote is not installed (package tpm-quote-tools)"

swtpm12_owned b
TB=$MEASURED_TCTI
swtpm12_owned a
TA=$MEASURED_TCTI
S="--owner-secret $WK --srk-secret $WK"

# shellcheck disable=SC2086 # $S is two options
$M aik create -T "$TB" -o "$T/aikB" --request "$T/reqB.json" $S || die "aik create on TPM B"
# shellcheck disable=SC2086
$M aik create -T "$TA" -o "$T/aikA" --request "$T/reqA.json" --label "machine a" $S || die "aik create on TPM A"

python3 - "$T" <<'PY' || die "independent check of the identity binding failed"
import base64, hashlib, json, struct, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
T = sys.argv[1]
req = json.load(open(T + "/reqA.json"))
pub = base64.b64decode(req["aik_public"])
# TPM_PUBKEY: TPM_KEY_PARMS (algorithmID, encScheme, sigScheme, parmSize,
# TPM_RSA_KEY_PARMS: keyLength, numPrimes, exponentSize), TPM_STORE_PUBKEY
alg, enc, sig, psize = struct.unpack_from(">IHHI", pub, 0)
bits, primes, esize = struct.unpack_from(">III", pub, 12)
assert (alg, sig, bits, primes, esize) == (1, 2, 2048, 2, 0), (alg, sig, bits, primes, esize)
(klen,) = struct.unpack_from(">I", pub, 12 + psize)
n = int.from_bytes(pub[16 + psize:16 + psize + klen], "big")
key = rsa.RSAPublicNumbers(65537, n).public_key()
assert base64.b64decode(req["label_digest"]) == hashlib.sha1(b"machine a").digest()
# TPM_IDENTITY_CONTENTS: ver 1.1.0.0, ordinal TPM_ORD_MakeIdentity (0x79),
# labelPrivCADigest, identityPubKey
contents = bytes([1, 1, 0, 0]) + struct.pack(">I", 0x79) + base64.b64decode(req["label_digest"]) + pub
key.verify(base64.b64decode(req["identity_binding"]), contents, padding.PKCS1v15(), hashes.SHA1())
PY
ok "the identity binding verifies independently (python, Part 2 12.5)"

# challenge and activation
$M aik challenge --request "$T/reqA.json" -o "$T/chal" --secret-out "$T/secret" || die "aik challenge"
# shellcheck disable=SC2086
assert_eq "TPM_ActivateIdentity on TPM A gives the challenge's secret" "$(cat "$T/secret")" \
	"$($M aik activate -T "$TA" --aik "$T/aikA" $S "$T/chal")"
# a challenge for another EK (B's) cannot be opened by TPM A
python3 -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.load(open(sys.argv[1]))["ek_public"]))' \
	"$T/reqB.json" "$T/ekB"
$M aik challenge --request "$T/reqA.json" --ek-public "$T/ekB" -o "$T/chalB" --secret-out "$T/sB" || die "challenge to B's EK"
# shellcheck disable=SC2086
expect_exit 4 $M aik activate -T "$TA" --aik "$T/aikA" $S "$T/chalB"
assert_eq "a challenge for another EK" "measured aik: TPM_ActivateIdentity: TPM 1.2 error 0x021 (TPM_DECRYPT_ERROR: the blob is not for this TPM's EK)" "$(cat "$T/err")"
# a request naming TPM B's AIK (with its valid binding) and A's EK: A's TPM
# refuses to release the secret for its own AIK
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
a, b = json.load(open(T + "/reqA.json")), json.load(open(T + "/reqB.json"))
for k in ("aik_public", "label_digest", "identity_binding"):
    a[k] = b[k]
json.dump(a, open(T + "/req-mixed.json", "w"))
PY
$M aik challenge --request "$T/req-mixed.json" -o "$T/chalM" --secret-out "$T/sM" || die "challenge for B's AIK"
# shellcheck disable=SC2086
expect_exit 4 $M aik activate -T "$TA" --aik "$T/aikA" $S "$T/chalM"
assert_eq "a challenge for another TPM's AIK" "measured aik: TPM_ActivateIdentity: TPM 1.2 error 0x003 (TPM_BAD_PARAMETER)" "$(cat "$T/err")"
# an identity binding that does not verify: no challenge
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
a, b = json.load(open(T + "/reqA.json")), json.load(open(T + "/reqB.json"))
a["identity_binding"] = b["identity_binding"]
json.dump(a, open(T + "/req-bad.json", "w"))
PY
expect_exit 1 $M aik challenge --request "$T/req-bad.json" -o "$T/chalX" --secret-out "$T/sX"
assert_eq "a forged identity binding" "measured aik: identity binding: the signature does not verify with the AIK" "$(cat "$T/err")"
[ ! -s "$T/sX" ] || die "a secret was written for a forged binding"

# quotes
N=00112233445566778899aabbccddeeff00112233
L=$T/cel.log
$M extend -T "$TA" --pcr 16 --log "$L" --text "the root" > /dev/null
$M extend -T "$TA" --pcr 16 --log "$L" --text "more" > /dev/null
$M quote -T "$TA" --nonce $N --pcrs 0,16 --aik "$T/aikA" --srk-secret "$WK" --ak-public "$T/aikA.pem" \
	-e "$L" -o "$T/ev.json" || die "quote on TPM A"
$M quote -T "$TB" --nonce $N --pcrs 0,16 --aik "$T/aikB" --srk-secret "$WK" --ak-public "$T/aikB.pem" \
	-o "$T/evB.json" || die "quote on TPM B"
$M verify --evidence "$T/ev.json" --ak-pub "$T/aikA.pem" --nonce $N --pcrs 0,16 --bank sha1 > "$T/v" ||
	die "verify of a TPM 1.2 quote: $(cat "$T/v")"
grep -q "^verified: quote verified" "$T/v" || die "verify: $(cat "$T/v")"
ok "a TPM_Quote2 with its CEL log verifies"
python3 - "$T/ev.json" "$T/aikA.pem" "$N" <<'PY' || die "independent check of the quote failed"
import base64, hashlib, json, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
ev = json.load(open(sys.argv[1]))
key = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
info = base64.b64decode(ev["quote"]["attest"])
sel = bytes([1, 0, 1])            # PCRs 0 and 16
vals = b"".join(bytes.fromhex(ev["pcrs"]["sha1"][p]) for p in ("0", "16"))
# TPM_PCR_COMPOSITE: TPM_PCR_SELECTION (sizeOfSelect, pcrSelect), valueSize, values
composite = struct.pack(">H", 3) + sel + struct.pack(">I", len(vals)) + vals
# TPM_QUOTE_INFO2: tag 0x0036, "QUT2", externalData, TPM_PCR_INFO_SHORT
# (pcrSelection, localityAtRelease = locality 0's bit, digestAtRelease)
want = struct.pack(">H", 0x36) + b"QUT2" + bytes.fromhex(sys.argv[3]) + struct.pack(">H", 3) + sel + b"\x01" \
    + hashlib.sha1(composite).digest()
assert info == want, (info.hex(), want.hex())
key.verify(base64.b64decode(ev["quote"]["signature"]), info, padding.PKCS1v15(), hashes.SHA1())
PY
ok "the quote verifies independently (python, Part 2 11.4 and 8.2)"

verify_fails() {	# WHAT REASON EVIDENCE AKPEM NONCE
	expect_exit 1 $M verify --evidence "$3" --ak-pub "$4" --nonce "$5"
	grep -q "^FAILED $2:" "$T/out" || die "$1: expected $2, got: $(cat "$T/out" "$T/err")"
	ok "$1: $2"
}
verify_fails "a stale nonce" nonce-mismatch "$T/ev.json" "$T/aikA.pem" 00112233445566778899aabbccddeeff00112234
verify_fails "another TPM's AIK" ak-mismatch "$T/ev.json" "$T/aikB.pem" $N
python3 - "$T" <<'PY'
import base64, json, sys
T = sys.argv[1]
ev = json.load(open(T + "/ev.json"))
e = json.loads(json.dumps(ev)); e["pcrs"]["sha1"]["16"] = "11" * 20
json.dump(e, open(T + "/ev-pcr.json", "w"))
e = json.loads(json.dumps(ev))
log = base64.b64decode(e["eventlogs"][0]["data"]).decode()
recs = [json.loads(l) for l in log.splitlines() if l.strip()] if not log.lstrip().startswith("[") else json.loads(log)
recs[0]["digests"][0]["digest"] = "22" * 20
text = "\n".join(json.dumps(r) for r in recs) + "\n" if not log.lstrip().startswith("[") else json.dumps(recs)
e["eventlogs"][0]["data"] = base64.b64encode(text.encode()).decode()
json.dump(e, open(T + "/ev-log.json", "w"))
e = json.loads(json.dumps(ev)); b = json.load(open(T + "/evB.json"))
e["quote"]["signature"] = b["quote"]["signature"]
json.dump(e, open(T + "/ev-sig.json", "w"))
PY
verify_fails "an edited PCR value" pcr-digest-mismatch "$T/ev-pcr.json" "$T/aikA.pem" $N
verify_fails "an edited log" eventlog-replay-mismatch "$T/ev-log.json" "$T/aikA.pem" $N
verify_fails "a signature by another key" bad-signature "$T/ev-sig.json" "$T/aikA.pem" $N
# a quote by a signing key of TPM A that is no identity key (TPM_CreateWrapKey,
# TPM_LoadKey2, TPM_Quote2 and TPM_Quote on the real TPM): a sound quote by
# that key (checked with python), refused for A's AIK as it is and with the
# AIK's public key put in its place
t12_signkey "$TA" "$T/signA"
$M quote -T "$TA" --nonce $N --pcrs 0,16 --aik "$T/signA" --srk-secret "$WK" --ak-public "$T/signA.pem" \
	-e "$L" -o "$T/ev-sk.json" || die "TPM_Quote2 with the signing key"
$M quote -T "$TA" --legacy-quote --nonce $N --pcrs 0,16 --aik "$T/signA" --srk-secret "$WK" -e "$L" \
	-o "$T/ev-sk1.json" || die "TPM_Quote with the signing key"
python3 - "$T" "$N" <<'PY' || die "independent check of the signing key's quotes failed"
import base64, json, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
T, N = sys.argv[1], bytes.fromhex(sys.argv[2])
blob = open(T + "/signA", "rb").read()
# TPM_KEY (Part 2, 10.2): ver 1.1.0.0, keyUsage TPM_KEY_SIGNING (0x0010), keyFlags 0
assert blob[:4] == bytes([1, 1, 0, 0]) and struct.unpack_from(">HI", blob, 4) == (0x10, 0), blob[:10].hex()
key = serialization.load_pem_public_key(open(T + "/signA.pem", "rb").read())
aik = serialization.load_pem_public_key(open(T + "/aikA.pem", "rb").read())
assert key.public_numbers() != aik.public_numbers()
# TPM_QUOTE_INFO2 (tag 0x0036, "QUT2", externalData...) and TPM_QUOTE_INFO (1.1.0.0, "QUOT", digest, externalData)
for f, head in (("ev-sk.json", struct.pack(">H", 0x36) + b"QUT2" + N), ("ev-sk1.json", bytes([1, 1, 0, 0]) + b"QUOT")):
    ev = json.load(open(T + "/" + f))
    info = base64.b64decode(ev["quote"]["attest"])
    assert info.startswith(head) and (f != "ev-sk1.json" or info[28:] == N), info.hex()
    key.verify(base64.b64decode(ev["quote"]["signature"]), info, padding.PKCS1v15(), hashes.SHA1())
e = json.load(open(T + "/ev-sk.json"))
e["ak_public"] = json.load(open(T + "/ev.json"))["ak_public"]
json.dump(e, open(T + "/ev-sk-aik.json", "w"))
PY
verify_fails "TPM A's signing key's TPM_Quote2" ak-mismatch "$T/ev-sk.json" "$T/aikA.pem" $N
verify_fails "TPM A's signing key's TPM_Quote" ak-mismatch "$T/ev-sk1.json" "$T/aikA.pem" $N
verify_fails "TPM A's signing key's quote under the AIK's name" bad-signature "$T/ev-sk-aik.json" "$T/aikA.pem" $N
expect_exit 1 $M verify --evidence "$T/ev.json" --ak-pub "$T/aikA.pem" --nonce $N --pcrs 0 --bank sha256
grep -q "^FAILED pcr-missing: .*a TPM 1.2 quotes the sha1 bank only" "$T/out" || die "sha256 policy: $(cat "$T/out")"
ok "a policy asking for sha256 fails on a TPM 1.2 quote: pcr-missing"

# interoperability: tpm-quote-tools' tpm_verifyquote PUBKEY HASH NONCE QUOTE
$M quote -T "$TA" --nonce $N --pcrs 0,16 --aik "$T/aikA" --srk-secret "$WK" --tpm-quote-tools "$T/tqt" \
	-o /dev/null || die "quote --tpm-quote-tools"
tpm_verifyquote "$T/tqt.pub" "$T/tqt.hash" "$T/tqt.nonce" "$T/tqt.quote" > "$T/tqt.out" 2>&1 ||
	die "tpm_verifyquote refuses our quote: $(cat "$T/tqt.out")"
ok "tpm_verifyquote (tpm-quote-tools) verifies our TPM_Quote2"
printf '%s' 00112233445566778899aabbccddeeff00112234 | xxd -r -p > "$T/tqt.nonce"
if tpm_verifyquote "$T/tqt.pub" "$T/tqt.hash" "$T/tqt.nonce" "$T/tqt.quote" > "$T/tqt.out" 2>&1; then
	die "tpm_verifyquote accepted another nonce"
fi
grep -q "verifying signature" "$T/tqt.out" || die "tpm_verifyquote: $(cat "$T/tqt.out")"
ok "tpm_verifyquote refuses our quote with another nonce"

# an EK certificate in NV (swtpm_setup's local CA, private configuration)
export XDG_CONFIG_HOME="$T/xdg"
swtpm_setup --create-config-files root,skip-if-exist > /dev/null 2>&1 || die "swtpm_setup config"
swtpm12_owned c --create-ek-cert --config "$T/xdg/swtpm_setup.conf"
CA=$T/xdg/var/lib/swtpm-localca
# shellcheck disable=SC2086
$M aik create -o "$T/aikC" --request "$T/reqC.json" $S || die "aik create on TPM C"
python3 -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.load(open(sys.argv[1]))["ek_certificate"]))' \
	"$T/reqC.json" "$T/ekC.der" || die "no ek_certificate in the request of a TPM with one"
openssl x509 -inform DER -in "$T/ekC.der" -out "$T/ekC.pem" || die "the EK certificate is not DER"
openssl verify -CAfile "$CA/swtpm-localca-rootca-cert.pem" -untrusted "$CA/issuercert.pem" "$T/ekC.pem" > /dev/null ||
	die "openssl does not verify the EK certificate read from NV"
ok "the EK certificate read with TPM_NV_ReadValue verifies with openssl"
$M aik challenge --request "$T/reqC.json" --ek-ca "$CA/swtpm-localca-rootca-cert.pem" --ek-ca "$CA/issuercert.pem" \
	-o "$T/chalC" --secret-out "$T/sC" || die "challenge with --ek-ca"
# shellcheck disable=SC2086
assert_eq "activation with a certified EK" "$(cat "$T/sC")" "$($M aik activate --aik "$T/aikC" $S "$T/chalC")"
# the certificate of C with the EK of A: refused
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
a, c = json.load(open(T + "/reqA.json")), json.load(open(T + "/reqC.json"))
a["ek_certificate"] = c["ek_certificate"]
json.dump(a, open(T + "/req-certC.json", "w"))
PY
expect_exit 1 $M aik challenge --request "$T/req-certC.json" --ek-ca "$CA/swtpm-localca-rootca-cert.pem" \
	--ek-ca "$CA/issuercert.pem" -o "$T/chalX" --secret-out "$T/sX"
assert_eq "another TPM's EK certificate" "measured aik: the EK certificate is for another key than the EK presented" "$(cat "$T/err")"
# without the issuing intermediate: the chain does not verify
expect_exit 1 $M aik challenge --request "$T/reqC.json" --ek-ca "$CA/swtpm-localca-rootca-cert.pem" -o "$T/chalX" \
	--secret-out "$T/sX"
grep -q "the EK certificate does not chain to a trusted CA" "$T/err" || die "chain: $(cat "$T/err")"
ok "an EK certificate that does not chain: $(cat "$T/err")"
# no certificate where one is required (TPM A has none): refused
expect_exit 1 $M aik challenge --request "$T/reqA.json" --ek-ca "$CA/swtpm-localca-rootca-cert.pem" -o "$T/chalX" \
	--secret-out "$T/sX"
assert_eq "no EK certificate" "measured aik: --ek-ca: the request has no EK certificate" "$(cat "$T/err")"

# TPM_Quote (the 1.1 quote, TPM_QUOTE_INFO): verified by us and by tpm_verifyquote;
# its structure names no PCRs, so a value left out of the evidence fails the digest
MEASURED_TCTI=$TA
$M quote --legacy-quote --nonce $N --pcrs 0,16 --aik "$T/aikA" --srk-secret "$WK" -e "$L" \
	--tpm-quote-tools "$T/tq1" -o "$T/ev1.json" || die "quote --legacy-quote"
python3 -c 'import base64,json,sys; a=base64.b64decode(json.load(open(sys.argv[1]))["quote"]["attest"]); assert a[:8] == bytes([1,1,0,0])+b"QUOT" and len(a) == 48, a.hex()' \
	"$T/ev1.json" || die "not a TPM_QUOTE_INFO"
$M verify --evidence "$T/ev1.json" --ak-pub "$T/aikA.pem" --nonce $N --pcrs 0,16 --bank sha1 > "$T/v" ||
	die "verify of a TPM_Quote: $(cat "$T/v")"
ok "a TPM_Quote (TPM_QUOTE_INFO) with its CEL log verifies"
tpm_verifyquote "$T/tq1.pub" "$T/tq1.hash" "$T/tq1.nonce" "$T/tq1.quote" > "$T/tqt.out" 2>&1 ||
	die "tpm_verifyquote refuses our TPM_Quote: $(cat "$T/tqt.out")"
ok "tpm_verifyquote verifies our TPM_Quote"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); del e["pcrs"]["sha1"]["0"]; json.dump(e,open(sys.argv[2],"w"))' \
	"$T/ev1.json" "$T/ev1-less.json"
verify_fails "a TPM_Quote with a quoted value left out" pcr-digest-mismatch "$T/ev1-less.json" "$T/aikA.pem" $N
