#!/bin/sh
# TPM 1.2 (swtpm without --tpm2) through the project's own 1.2 commands:
# the family found by the probe; pcrread's reset values against the PC
# Client profile (PCRs 17-22 all ones, the others zero); extend against
# H(old || H(input)) computed here with openssl; the CEL log written by
# extend --log replays to the PCRs and `eventlog verify` agrees with the
# TPM; a TPM never started gets TPM_Startup; the errors for what a 1.2
# cannot do say so in words; a device answering neither protocol is named.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

zero=0000000000000000000000000000000000000000
ones=ffffffffffffffffffffffffffffffffffffffff
# ext OLDHEX DIGESTHEX: SHA1(old || digest)
ext() {
	printf '%s%s' "$1" "$2" | tr 'a-f' 'A-F' | basenc --base16 -d | openssl dgst -sha1 -r | cut -d' ' -f1
}

swtpm12_start a
$M pcrread > "$T/all"
want=$(for p in $(seq 0 23); do
	v=$zero
	[ "$p" -ge 17 ] && [ "$p" -le 22 ] && v=$ones
	echo "sha1 $p $v"
done)
assert_eq "pcrread on a fresh TPM 1.2: 24 SHA-1 PCRs at their reset values" "$want" "$(cat "$T/all")"
$M pcrread --json 15 > "$T/j"
assert_eq "pcrread --json" '{"sha1":{"15":"'$zero'"}}' "$(tr -d ' \n' < "$T/j")"

head -c 5000 /dev/urandom > "$T/file"
dg=$(openssl dgst -sha1 -r "$T/file" | cut -d' ' -f1)
L=$T/measure.log
$M extend --pcr 15 --log "$L" "$T/file" > "$T/out"
assert_eq "extend prints the sha1 digest" "sha1 15 $dg" "$(cat "$T/out")"
v1=$(ext $zero "$dg")
assert_eq "TPM_Extend: PCR 15 = SHA1(0^20 || SHA1(file))" "sha1 15 $v1" "$($M pcrread 15)"
$M extend --pcr 15 --log "$L" --text second > /dev/null
v2=$(ext "$v1" "$(printf second | openssl dgst -sha1 -r | cut -d' ' -f1)")
assert_eq "a second extend chains" "sha1 15 $v2" "$($M pcrread 15)"
assert_eq "the CEL log replays to the TPM's value" "sha1 15 $v2" "$($M eventlog replay "$L")"
$M eventlog verify "$L" > "$T/v" || die "eventlog verify against the TPM 1.2 failed: $(cat "$T/v")"
ok "eventlog verify agrees with the TPM 1.2"
$M extend --pcr 15 --text behind-the-log > /dev/null
expect_exit 1 $M eventlog verify "$L"
ok "eventlog verify notices an extend the log does not have"

# predict --tpm 1.2 and check --tpm agree with the TPM 1.2
$M extend --pcr 14 "$T/file" > /dev/null
$M predict --tpm 1.2 --rootfs "$T/file" --rootfs-pcr 14 -o "$T/manifest.json" || die "predict --tpm 1.2"
$M check "$T/manifest.json" --tpm > "$T/check" || die "check --tpm on a TPM 1.2: $(cat "$T/check")"
assert_eq "check --tpm on a TPM 1.2" "tpm: PCR 14: match" "$(head -1 "$T/check")"

# what a TPM 1.2 cannot do, in words
expect_exit 4 $M pcrread --bank sha256 15
assert_eq "pcrread of a bank 1.2 lacks" "measured pcrread: a TPM 1.2 has only the sha1 bank" "$(cat "$T/err")"
expect_exit 2 $M extend --pcr 15 --bank sha256 --text x
grep -q "bank sha256 is not allocated on this TPM (it has sha1)" "$T/err" || die "extend --bank sha256: $(cat "$T/err")"
ok "extend --bank sha256 is refused: $(head -1 "$T/err")"
expect_exit 2 $M quote --nonce 0011 --pcrs 0
assert_eq "quote on a TPM 1.2 without an AIK" "measured quote: a TPM 1.2 quotes with an AIK: give --aik (made by \`measured aik create\`)" "$(head -1 "$T/err")"
# (--system-ca: the agent now requires a pinned CA or this explicit choice)
# the agent runs the TPM 1.2 exchange (tests/integration/serve_tpm12.sh); a
# TPM without an owner stops it at its first owner-authorized command
expect_exit 4 $M attest --server https://127.0.0.1:9 --machine x --pcrs 0 --state "$T/agent" --system-ca
assert_eq "attest on a TPM 1.2 without an owner" \
	"measured attest: TPM_OwnerReadInternalPub: TPM 1.2 error 0x012 (TPM_NOSRK: the TPM has no owner)" "$(cat "$T/err")"

# never started (no startup-clear flag): TPM_Startup(ST_CLEAR) is sent first
swtpm12_start b not-need-init
assert_eq "a TPM 1.2 never started is started and read" "sha1 16 $zero" "$($M pcrread 16)"

# a device answering neither TPM 2.0 nor TPM 1.2.  The swtpm TCTI also
# talks to SOCKET.ctrl (swtpm's control channel: every request is answered
# with a 4-byte result, 0 = success).
python3 - "$T/junk.sock" > /dev/null 2>&1 <<'PY' &
import select, socket, sys
ctrl, data = [], []
for p, kind in ((sys.argv[1] + ".ctrl", ctrl), (sys.argv[1], data)):
    s = socket.socket(socket.AF_UNIX)
    s.bind(p); s.listen(4); kind.append(s)
conns = {}
while True:
    r, _, _ = select.select(ctrl + data + list(conns), [], [], 30)
    if not r:
        break
    for s in r:
        if s in ctrl or s in data:
            c, _ = s.accept()
            conns[c] = s in data
        elif not s.recv(4096):
            del conns[s]; s.close()
        elif conns[s]:
            s.sendall(bytes([0x12, 0x34, 0, 0, 0, 10, 0, 0, 0, 0]))
        else:
            s.sendall(bytes(4))
PY
PIDS="$PIDS $!"
i=0
while [ ! -S "$T/junk.sock" ]; do i=$((i + 1)); [ $i -gt 100 ] && die "fake device did not start"; sleep 0.05; done
expect_exit 4 $M pcrread -T "swtpm:path=$T/junk.sock" 0
grep -q "neither a TPM 2.0 nor a TPM 1.2 response" "$T/err" || die "junk device: $(cat "$T/err")"
ok "a device answering neither: $(cat "$T/err")"
