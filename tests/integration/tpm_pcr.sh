#!/bin/sh
# measured pcrread against tpm2_pcrread: every allocated bank, all 24 PCRs
# (96 values, so several TPM2_PCR_Read commands of at most 8 digests each),
# subsets, --bank, --json; one value also computed from scratch.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

swtpm_start pcr

# tpm2_pcrread's YAML-like output as sorted 'BANK PCR HEX' lines
tpm2_lines() {
	tpm2_pcrread "$1" | python3 -c '
import sys
order = {"sha1": 0, "sha256": 1, "sha384": 2, "sha512": 3, "sm3_256": 4}
bank, out = None, []
for line in sys.stdin:
    s = line.strip()
    if s.endswith(":") and not s[0].isdigit():
        bank = s[:-1]
    elif s:
        pcr, val = s.split(":", 1)
        out.append((order[bank], int(pcr), bank, val.strip()[2:].lower()))
for o in sorted(out):
    print(o[2], o[1], o[3])
'
}

# Give the PCRs distinct values first, through tpm2-tools alone, so that a
# mixed-up PCR or bank cannot go unnoticed (a fresh TPM is mostly zeros).
args=$(python3 -c '
import hashlib
for p in list(range(17)) + [23]:
    print("%d:" % p + ",".join("%s=%s" % (b, hashlib.new(b, b"pcr %d bank %s" % (p, b.encode())).hexdigest())
                               for b in ("sha1", "sha256", "sha384", "sha512")))')
# shellcheck disable=SC2086 # one argument per line
tpm2_pcrextend $args

# allocated banks, as tpm2_getcap reports them
banks=$(tpm2_getcap pcrs | sed -n 's/^ *- \([a-z0-9_]*\): \[.*/\1/p' | tr '\n' ' ')
assert_eq "swtpm allocates four banks" "sha1 sha256 sha384 sha512 " "$banks"

ref=$(tpm2_lines sha1:all+sha256:all+sha384:all+sha512:all)
got=$($M pcrread)
assert_eq "96 values, every bank and PCR, equal tpm2_pcrread" 96 "$(echo "$got" | wc -l)"
assert_eq "pcrread equals tpm2_pcrread" "$ref" "$got"
assert_eq "--bank all is every allocated bank" "$ref" "$($M pcrread --bank all all)"

ref=$(tpm2_lines sha256:0,1,4,5,6,7+sha512:0,1,4,5,6,7)
assert_eq "subset and --bank" "$ref" "$($M pcrread --bank sha512,sha256 0,1,4-7)"
ref=$(tpm2_lines sha384:23)
assert_eq "one PCR" "$ref" "$($M pcrread -b sha384 23)"

# one value from first principles: PCR 16 = H(0..0 || H("pcr 16 bank sha256"))
want=$(python3 -c '
import hashlib
h = hashlib.sha256(b"pcr 16 bank sha256").digest()
print("sha256 16 " + hashlib.sha256(bytes(32) + h).hexdigest())')
assert_eq "PCR 16 computed independently" "$want" "$($M pcrread --bank sha256 16)"

# JSON: the same values
$M pcrread --json > "$T/j"
$M pcrread > "$T/t"
python3 - "$T/j" "$T/t" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
t = [l.split() for l in open(sys.argv[2])]
assert len(t) == 96
for bank, pcr, val in t:
    assert j[bank][pcr] == val, (bank, pcr)
assert sum(len(v) for v in j.values()) == 96
PY
ok "--json parses and equals the text output"
