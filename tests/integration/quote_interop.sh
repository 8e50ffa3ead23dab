#!/bin/sh
# TPM quotes between measured and tpm2-tools 5.4, both ways, on swtpm:
# tpm2_checkquote accepts `measured quote --tpm2-tools`, and `measured
# verify` accepts tpm2_createek/createak/quote output.  No resource manager
# sits in front of swtpm, so transient objects are flushed after each tool.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
cd "$T"
swtpm_start q
flush() { tpm2_flushcontext -t >/dev/null; tpm2_flushcontext -s >/dev/null; }

# non-zero PCRs, so the digests cover real values
tpm2_pcrextend 7:sha256=$(printf 'x%.0s' $(seq 64) | tr x a) >/dev/null
tpm2_pcrextend 0:sha1=$(printf 'x%.0s' $(seq 40) | tr x b) >/dev/null

# --- measured quote -> tpm2_checkquote, RSA and ECC AKs
for alg in rsa ecc; do
	"$M" quote --nonce 00112233445566778899aabbccddeeff --pcrs 0-7 --bank sha1,sha256 \
		--ak $alg -o ev-$alg.json --ak-public ak-$alg.pub --tpm2-tools tt-$alg
	tpm2_checkquote -u tt-$alg.pub -m tt-$alg.msg -s tt-$alg.sig -f tt-$alg.pcrs -g sha256 \
		-q 00112233445566778899aabbccddeeff > cq-$alg.out
	ok "tpm2_checkquote accepts measured quote ($alg AK)"
	# a changed nonce is refused by tpm2_checkquote too
	expect_exit 1 tpm2_checkquote -u tt-$alg.pub -m tt-$alg.msg -s tt-$alg.sig -f tt-$alg.pcrs \
		-g sha256 -q 00112233445566778899aabbccddeefe
	ok "tpm2_checkquote refuses our quote with another nonce ($alg)"
	expect_exit 0 "$M" verify --evidence ev-$alg.json --ak-pub ak-$alg.pub \
		--nonce 00112233445566778899aabbccddeeff --pcrs 0-7 --bank sha1,sha256
	ok "measured verify accepts its own evidence ($alg)"
done

# the PCR values in the evidence are the TPM's, as tpm2_pcrread reports them
tpm2_pcrread sha256:7 -o pcr7.bin >/dev/null
want=$(od -An -tx1 pcr7.bin | tr -d ' \n')
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcrs"]["sha256"]["7"])' ev-rsa.json)
assert_eq "evidence sha256 PCR 7 equals tpm2_pcrread" "$want" "$got"
# and the AK name from --ak-public matches tpm2_readpublic's name of the same key
# (same TPM, same template: the primary AK is deterministic)
"$M" quote --nonce 01 --pcrs 0 --bank sha256 -o ev2.json --ak-public ak2.pub
cmp ak-rsa.pub ak2.pub
ok "the primary AK is the same key on every run"

# --- tpm2-tools quote -> measured verify
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null; flush
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -f pem -n ak.name >/dev/null; flush
tpm2_readpublic -c ak.ctx -o ak.tpm2b >/dev/null; flush
tpm2_quote -c ak.ctx -l sha256:0,1,7+sha1:0 -q cafe01 -m q.msg -s q.sig -o q.pcrs -g sha256 >/dev/null; flush
expect_exit 0 "$M" verify -u ak.pub -m q.msg -s q.sig -f q.pcrs -g sha256 -q cafe01
grep -q "AK attributes not checked" "$T/out" || die "PEM AK: attribute note missing"
ok "measured verify accepts tpm2_quote output (PEM AK)"
expect_exit 0 "$M" verify -u ak.tpm2b -m q.msg -s q.sig -f q.pcrs -q cafe01 --pcrs 0,1,7 --json
grep -q '"ak_attributes_checked":true' "$T/out" || die "TPM2B AK: attributes not checked"
ok "measured verify accepts tpm2_quote output (TPM2B_PUBLIC AK, attributes checked)"
expect_exit 1 "$M" verify -u ak.tpm2b -m q.msg -s q.sig -f q.pcrs -q cafe02
grep -q "^FAILED nonce-mismatch" "$T/out" || die "wrong nonce: $(cat "$T/out")"
ok "measured verify refuses tpm2_quote output with another nonce"
expect_exit 1 "$M" verify -u ak.tpm2b -m q.msg -s q.sig -f q.pcrs -q cafe01 --pcrs 0,1,7,8
grep -q "^FAILED pcr-missing" "$T/out" || die "required PCR: $(cat "$T/out")"
ok "measured verify: a required PCR absent from tpm2_quote's selection"

# --- ECC AK made by tpm2-tools
tpm2_createek -c eke.ctx -G ecc -u eke.pub >/dev/null; flush
tpm2_createak -C eke.ctx -c ake.ctx -G ecc -g sha256 -s ecdsa -u ake.pub -f pem -n ake.name >/dev/null; flush
tpm2_quote -c ake.ctx -l sha256:0,7 -q beef -m qe.msg -s qe.sig -o qe.pcrs -g sha256 >/dev/null; flush
expect_exit 0 "$M" verify -u ake.pub -m qe.msg -s qe.sig -f qe.pcrs -q beef
ok "measured verify accepts tpm2_quote output (ECC P-256 AK)"
