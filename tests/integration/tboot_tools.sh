#!/bin/sh
# measured tboot against Intel's own calculators from Debian's tboot package:
# lcp2_mlehash (MLE hash) and tb_polgen (module hashes in policy files, read
# back here with od, not with measured).  The policy-control digest is
# recomputed with python3 hashlib from the formula in docs/predict-formulas.md.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

for t in lcp2_mlehash tb_polgen python3 od; do
	command -v $t > /dev/null || die "$t not installed (package tboot)"
done
TB=/boot/tboot.gz
[ -f "$TB" ] || die "$TB missing (package tboot)"

# lcp2_mlehash prints "aa bb cc ..."; join it.
lcp() { lcp2_mlehash --create "$@" "$TB" | tr -d ' \n'; }

for alg in sha1 sha256; do
	for cl in "" "logging=serial,memory,vga" "loglvl=all serial=115200,8n1,0x3f8 min_ram=0x2000000" \
		"extpol=sha256 vga_delay=1 x"; do
		ref=$(lcp --alg $alg --cmdline "$cl")
		got=$($M tboot mlehash --bank $alg --cmdline "$cl" "$TB")
		assert_eq "mlehash $alg '$cl'" "$ref" "$got"
	done
	assert_eq "mlehash $alg, no command line" "$(lcp --alg $alg)" "$($M tboot mlehash --bank $alg "$TB")"
done
# The command line changes the MLE hash, so the test can tell them apart.
a=$($M tboot mlehash --cmdline "a" "$TB")
b=$($M tboot mlehash --cmdline "b" "$TB")
[ "$a" != "$b" ] || die "command line does not change the MLE hash"
# plain ELF (decompressed) gives the same
zcat "$TB" > "$T/tboot.elf"
assert_eq "mlehash of the ELF" "$(lcp --alg sha256 --cmdline x)" "$($M tboot mlehash --cmdline x "$T/tboot.elf")"

# Module hashes as tb_polgen stores them.  Modules: a gzip file (tb_polgen and
# GRUB hash it decompressed), a plain file, an empty file.
head -c 300000 /dev/urandom > "$T/mod.bin"
gzip -c "$T/mod.bin" > "$T/mod.gz"
: > "$T/empty"
# hashes_of FILE ALGSIZE: the digests in a policy file, one per line
# (header 12 bytes; entries: 8 bytes + num_hashes digests).
hashes_of() {
	od -An -v -tx1 "$1" | tr -s ' \n' ' ' | python3 -c '
import sys
b = bytes.fromhex(sys.stdin.read().replace(" ", ""))
hs = int(sys.argv[1])
n = b[11]; o = 12
for i in range(n):
    k = b[o + 7]; o += 8
    for j in range(k):
        print(b[o:o + hs].hex()); o += hs
assert o == len(b), "policy size"
' "$2"
}
for alg in sha1 sha256; do
	hs=20; [ $alg = sha256 ] && hs=32
	P=$T/pol-$alg
	tb_polgen --create --type halt --alg $alg --ctrl 1 "$P" > /dev/null || die "tb_polgen --create"
	i=0
	for spec in "mod.gz|console=ttyS0 root=/dev/sda1 ro" "mod.bin|/boot/vmlinuz quiet" "empty|" \
		"mod.bin|  spaced   out  "; do
		f=${spec%%|*}; cl=${spec#*|}
		tb_polgen --add --num $i --pcr 19 --hash image --cmdline "$cl" --image "$T/$f" "$P" > /dev/null ||
			die "tb_polgen --add $f"
		want=$(hashes_of "$P" $hs | tail -n 1)
		got=$($M tboot module-hash --bank $alg --cmdline "$cl" "$T/$f")
		assert_eq "module hash $alg $f '$cl'" "$want" "$got"
		i=$((i + 1))
	done
done
# --no-gunzip hashes the file as it is; --strip-filename drops the first word.
raw=$($M tboot module-hash --no-gunzip --cmdline "" "$T/mod.gz")
ref=$(python3 -c '
import hashlib, sys
h = hashlib.sha256
print(h(h(b"").digest() + h(open(sys.argv[1], "rb").read()).digest()).hexdigest())' "$T/mod.gz")
assert_eq "module hash without gunzip" "$ref" "$raw"
assert_eq "strip-filename" "$($M tboot module-hash --cmdline "ro quiet" "$T/mod.bin")" \
	"$($M tboot module-hash --strip-filename --cmdline "  /boot/vmlinuz   ro quiet" "$T/mod.bin")"

# Policy-control digest: H(policy_control LE32 || H(policy file)), extpol bank.
pcd() {
	python3 -c '
import hashlib, sys, struct
alg, path = sys.argv[1], sys.argv[2]
b = bytearray(open(path, "rb").read())
if b[2] == 0: b[2] = 4
pc = struct.unpack_from("<I", b, 3)[0]
h = hashlib.new(alg)
inner = hashlib.new(alg, bytes(b)).digest() if pc & 1 else bytes(h.digest_size)
print(hashlib.new(alg, struct.pack("<I", pc) + inner).hexdigest())' "$1" "$2"
}
for alg in sha1 sha256; do
	for P in "$T/pol-sha1" "$T/pol-sha256"; do
		got=$($M tboot policy-show --extpol $alg "$P" | awk '$1 == "policy_control_digest" { print $3 }')
		assert_eq "policy-control digest $alg $(basename "$P")" "$(pcd $alg "$P")" "$got"
	done
done
tb_polgen --create --type continue --alg sha256 --ctrl 0 "$T/pol-noext" > /dev/null
got=$($M tboot policy-show "$T/pol-noext" | awk '$1 == "policy_control_digest" { print $3 }')
assert_eq "policy-control digest without EXTEND_PCR17" "$(pcd sha256 "$T/pol-noext")" "$got"
$M tboot policy-show "$T/pol-sha256" > "$T/show"
grep -q "^policy_type halt$" "$T/show" || die "policy-show: type"
grep -q "^entry 1 mod_num 1 pcr 19 hash_type image" "$T/show" || die "policy-show: entry"
$M tboot policy-show --json "$T/pol-sha256" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["hash_alg"] == "sha256" and len(o["entries"]) == 4 and o["policy_control"] == 1'
ok "policy-show text and json"

# Bad input: exit 3 with a message naming the problem.
head -c 20 "$T/pol-sha256" > "$T/short"
expect_exit 3 $M tboot policy-show "$T/short"
grep -q "offset" "$T/err" || die "truncated policy: $(cat "$T/err")"
cp "$T/pol-sha256" "$T/long"; printf 'x' >> "$T/long"
expect_exit 3 $M tboot policy-show "$T/long"
grep -q "left over" "$T/err" || die "policy with extra bytes: $(cat "$T/err")"
head -c 100000 "$TB" > "$T/cut.gz"
expect_exit 3 $M tboot mlehash "$T/cut.gz"
grep -q "truncated\|corrupt" "$T/err" || die "truncated tboot.gz: $(cat "$T/err")"
expect_exit 3 $M tboot mlehash "$T/mod.bin"
grep -q "ELF" "$T/err" || die "non-ELF tboot: $(cat "$T/err")"
long=$(head -c 600 /dev/zero | tr '\0' a)
expect_exit 3 $M tboot mlehash --cmdline "$long" "$TB"
expect_exit 2 $M tboot module-hash "$T/mod.bin"
expect_exit 2 $M tboot mlehash --bank md5 "$TB"
expect_exit 2 $M tboot frobnicate
expect_exit 0 $M tboot --help
for s in mlehash module-hash policy-show; do expect_exit 0 $M tboot $s --help; done
ok "bad input"
