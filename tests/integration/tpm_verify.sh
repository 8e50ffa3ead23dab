#!/bin/sh
# measured eventlog verify: logs written by extend --log (CEL-JSON) and a
# crypto-agile TCG log built here with python (its PCRs extended with
# tpm2_pcrextend alone) verify against the TPM; an unlogged extend, a log
# with a record the TPM never saw, and tampered logs are mismatches that
# name the PCR; bad logs and logs that extend nothing are errors.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

BANKS="sha1 sha256 sha384 sha512"

swtpm_start ver

# mklog OUT PCR:TEXT...: a TCG PC Client crypto-agile log (PFP spec 10.4:
# Spec ID Event03 header as a TCG_PCR_EVENT, then TCG_PCR_EVENT2 records of
# type EV_IPL), four banks, digests of TEXT.  Prints the pcrextend args.
mklog() {
	python3 - "$@" <<'PY'
import hashlib, struct, sys
algs = [(0x0004, "sha1"), (0x000b, "sha256"), (0x000c, "sha384"), (0x000d, "sha512")]
spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(algs))
for a, n in algs:
    spec += struct.pack("<HH", a, hashlib.new(n).digest_size)
spec += b"\0"
out = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
for arg in sys.argv[2:]:
    pcr, text = arg.split(":", 1)
    data = text.encode()
    out += struct.pack("<III", int(pcr), 0xd, len(algs))
    for a, n in algs:
        out += struct.pack("<H", a) + hashlib.new(n, data).digest()
    out += struct.pack("<I", len(data)) + data
    print("%s:%s" % (pcr, ",".join("%s=%s" % (n, hashlib.new(n, data).hexdigest()) for a, n in algs)))
open(sys.argv[1], "wb").write(out)
PY
}

# --- CEL log written by extend --log: PCR 16 three times, PCR 23 once
L=$T/cel.log
for i in 1 2 3; do $M extend --pcr 16 --log "$L" --text "boot $i" > /dev/null; done
$M extend --pcr 23 --log "$L" --text "app" > /dev/null
expect_exit 0 $M eventlog verify "$L"
assert_eq "CEL log: 4 banks x 2 PCRs match" "8" "$(grep -c ' match$' "$T/out")"

# --- TCG log, extended through tpm2-tools only
# shellcheck disable=SC2086 # one argument per record
tpm2_pcrextend $(mklog "$T/tcg.log" 14:kernel 14:initrd 15:cmdline)
expect_exit 0 $M eventlog verify "$T/tcg.log"
assert_eq "TCG log: 4 banks x 2 PCRs match" "8" "$(grep -c ' match$' "$T/out")"
expect_exit 0 $M eventlog verify "$T/tcg.log" "$L"
assert_eq "both logs together" "16" "$(grep -c ' match$' "$T/out")"
$M eventlog verify --json "$T/tcg.log" "$L" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["result"] == "match" and o["compared"] == 16 and o["mismatches"] == 0, o
assert {(p["bank"], p["pcr"]) for p in o["pcrs"]} == {(b, n) for b in ("sha1", "sha256", "sha384", "sha512") for n in (14, 15, 16, 23)}
assert all(p["status"] == "match" and p["tpm"] == p["log"] for p in o["pcrs"])
'
ok "--json, all match"

# --- a log with one record more than the TPM saw: the TPM matches a prefix
mklog "$T/more.log" 14:kernel 14:initrd 14:never-extended 15:cmdline > /dev/null
expect_exit 1 $M eventlog verify "$T/more.log"
for b in $BANKS; do
	grep -q "^$b 14 MISMATCH" "$T/out" || die "$b PCR 14 not reported: $(cat "$T/out")"
	grep -q "^$b 15 match" "$T/out" || die "$b PCR 15 should match"
done
grep -q "PCR 14 (sha256): the TPM matches the log up to record 2 (.*more.log, offset [0-9]*) (2 of its 3 records" "$T/out" ||
	die "prefix not named: $(cat "$T/out")"
grep -q "from record 3 (.*more.log, offset [0-9]*) on are not reflected" "$T/out" || die "first missing record not named"
ok "unextended record: named as the first not reflected"

# --- extend PCR 16 once more without logging: mismatch naming PCR 16 only
$M extend --pcr 16 --text unlogged > /dev/null
expect_exit 1 $M eventlog verify "$L"
for b in $BANKS; do
	grep -q "^$b 16 MISMATCH" "$T/out" || die "$b PCR 16 not reported: $(cat "$T/out")"
	grep -q "^$b 23 match" "$T/out" || die "$b PCR 23 should still match"
done
grep -q "PCR 16 (sha1): no prefix of the log matches" "$T/out" || die "no explanation: $(cat "$T/out")"
grep -q "PCR" "$T/err" || die "no summary on stderr"
tpm_val=$(tpm2_pcrread sha256:16 | sed -n 's/^ *16 *: 0x//p' | tr 'A-F' 'a-f')
grep -q "tpm $tpm_val" "$T/out" || die "the TPM's value (from tpm2_pcrread) is not shown"
ok "unlogged extend: mismatch on PCR 16"
expect_exit 1 $M eventlog verify --json "$L"
cp "$T/out" "$T/j"
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["result"] == "mismatch" and o["mismatches"] == 4, o
bad = [p for p in o["pcrs"] if p["status"] == "mismatch"]
assert {p["pcr"] for p in bad} == {16} and all(p["reflected"] is None and p["records"] == 3 for p in bad), bad
' "$T/j"
ok "--json mismatch"

# --- tampered logs: one digest changed (CEL: a hex digit; TCG: a byte)
cp "$T/tcg.log" "$T/tampered.log"
# first sha256 digest of the second record (initrd): flip one byte
python3 - "$T/tampered.log" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"initrd") - 4 - 64 - 2 - 48 - 2 - 2   # back over sha512, sha384 to the sha256 digest's last byte
b[i] ^= 1
open(sys.argv[1], "wb").write(b)
PY
cmp -s "$T/tcg.log" "$T/tampered.log" && die "tampering did nothing"
expect_exit 1 $M eventlog verify "$T/tampered.log"
grep -q "^sha256 14 MISMATCH" "$T/out" || die "tampered TCG digest not found: $(cat "$T/out")"
grep -q "^sha1 14 match" "$T/out" || die "untampered bank should match"
ok "tampered TCG log: mismatch"

swtpm_start ver2
L2=$T/cel2.log
$M extend --pcr 10 --log "$L2" --text one > /dev/null
$M extend --pcr 10 --log "$L2" --text two > /dev/null
expect_exit 0 $M eventlog verify "$L2"
h=$(printf two | openssl dgst -sha256 -r | cut -d' ' -f1)
grep -q "$h" "$L2" || die "the sha256 digest of 'two' is not in the CEL log"
h2=$(printf tw0 | openssl dgst -sha256 -r | cut -d' ' -f1)
sed "s/$h/$h2/" "$L2" > "$T/cel-tampered.log"
expect_exit 1 $M eventlog verify "$T/cel-tampered.log"
grep -q "^sha256 10 MISMATCH" "$T/out" || die "tampered CEL digest not found"
ok "tampered CEL log: mismatch"

# --- bad logs: exit 3, nothing verified is not a pass
head -c 300 /dev/urandom > "$T/garbage"
expect_exit 3 $M eventlog verify "$T/garbage"
expect_exit 3 $M eventlog verify "$T/missing.log"
grep -q "missing.log" "$T/err" || die "missing log not named"
mklog "$T/empty.log" > /dev/null	# the header alone: extends nothing
expect_exit 3 $M eventlog verify "$T/empty.log"
grep -q "no record extends a PCR" "$T/err" || die "empty log not explained: $(cat "$T/err")"
expect_exit 3 $M eventlog verify "$L2" "$T/garbage"
expect_exit 2 $M eventlog verify
ok "bad logs"
