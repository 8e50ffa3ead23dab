#!/bin/sh
# measured predict with tboot: PCR 17/18/19 of the legacy mapping and PCR
# 17/18 of the Details/Authorities mapping, against hand-computed values.
# Independent pieces: the MLE hash from Intel's lcp2_mlehash, the policy
# written by tb_polgen, everything else computed here in python3 from the
# formulas in docs/predict-formulas.md.  --tpm 1.2 gives the legacy values.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
for t in lcp2_mlehash tb_polgen python3; do
	command -v $t >/dev/null || die "$t is not installed (package tboot)"
done
TB=/boot/tboot.gz
[ -f "$TB" ] || die "no $TB (package tboot)"
TC="logging=serial,memory iommu=true"
head -c 70000 /dev/urandom > "$T/kernel"
head -c 30000 /dev/urandom | gzip -n > "$T/initrd.gz"	# tboot hashes it as loaded: gunzipped
K_CL="/vmlinuz root=/dev/sda1 ro"
I_CL="/initrd"
mle1=$(lcp2_mlehash --create --alg sha1 --cmdline "$TC" "$TB" | tr -d ' \n')
mle256=$(lcp2_mlehash --create --alg sha256 --cmdline "$TC" "$TB" | tr -d ' \n')

# the tboot subcommands' --json output carries the same digests
j=$("$M" tboot mlehash --json --bank sha1 --cmdline "$TC" "$TB")
assert_eq "mlehash --json" "{\"bank\":\"sha1\",\"digest\":\"$mle1\"}" "$j"
j=$("$M" tboot module-hash --json --bank sha256 --cmdline "$K_CL" "$T/kernel" |
	python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["bank"], o["digest"])')
assert_eq "module-hash --json" "sha256 $("$M" tboot module-hash --bank sha256 --cmdline "$K_CL" "$T/kernel")" "$j"

# ---- legacy mapping, a policy with module 1 into PCR 19 ----
tb_polgen --create --type nonfatal --alg sha1 --ctrl 1 "$T/pol" > /dev/null || die "tb_polgen --create"
tb_polgen --add --num 0 --pcr none --hash any "$T/pol" > /dev/null || die "tb_polgen --add 0"
tb_polgen --add --num 1 --pcr 19 --hash image --cmdline "$I_CL" --image "$T/initrd.gz" "$T/pol" >/dev/null ||
	die "tb_polgen --add 1"
cat > "$T/sinit" <<'S'
# SinitMleData of a (made-up) SINIT, legacy PCR 17
sinit_hash=00112233445566778899aabbccddeeff00112233
bios_acm_id=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3
edx_senter_flags=0
mseg_valid=0
stm_hash=0000000000000000000000000000000000000000
lcp_policy_control=0x2
lcp_policy_hash=1111111111111111111111111111111111111111
os_sinit_caps=0x1
S
"$M" predict --bank sha1 --tboot "$TB" --tboot-cmdline "$TC" --tboot-legacy --tboot-policy "$T/pol" \
	--tboot-module "$T/kernel:$K_CL" --tboot-module "$T/initrd.gz:$I_CL" --sinit "$T/sinit" \
	--show > "$T/legacy.txt" || die "predict (legacy) failed"
python3 - "$T" "$mle1" "$K_CL" "$I_CL" > "$T/legacy.want" <<'PY'
import gzip, hashlib, struct, sys
T, mle, kcl, icl = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], sys.argv[4]
H = lambda b: hashlib.sha1(b).digest()
def E(pcr, d): return H(pcr + d)
def mod(cl, img): return H(H(cl.encode()) + H(img))
kernel = open(T + "/kernel", "rb").read()
initrd = gzip.decompress(open(T + "/initrd.gz", "rb").read())
pol = bytearray(open(T + "/pol", "rb").read())
if pol[2] == 0:
    pol[2] = 4                      # tboot hashes hash_alg 0 as 4 (SHA-1)
ctrl = struct.unpack_from("<I", pol, 3)[0]
pcd = H(struct.pack("<I", ctrl) + (H(bytes(pol)) if ctrl & 1 else bytes(20)))
f = dict(l.split("=", 1) for l in open(T + "/sinit").read().split("\n") if l and l[0] != "#")
details = H(bytes.fromhex(f["bios_acm_id"]) + struct.pack("<I", int(f["edx_senter_flags"], 0))
            + struct.pack("<Q", int(f["mseg_valid"], 0)) + bytes.fromhex(f["stm_hash"])
            + struct.pack("<I", int(f["lcp_policy_control"], 0)) + bytes.fromhex(f["lcp_policy_hash"])
            + struct.pack("<I", int(f["os_sinit_caps"], 0)))
z = bytes(20)
p17 = E(E(E(z, bytes.fromhex(f["sinit_hash"])), details), pcd)
p18 = E(E(z, mle), mod(kcl, kernel))
p19 = E(z, mod(icl, initrd))
for n, v in ((17, p17), (18, p18), (19, p19)):
    print("sha1 %d %s" % (n, v.hex()))
PY
assert_eq "legacy PCR 17/18/19" "$(cat "$T/legacy.want")" "$(cat "$T/legacy.txt")"
# --tpm 1.2 means exactly that: the sha1 bank and the legacy mapping
"$M" predict --tpm 1.2 --tboot "$TB" --tboot-cmdline "$TC" --tboot-policy "$T/pol" \
	--tboot-module "$T/kernel:$K_CL" --tboot-module "$T/initrd.gz:$I_CL" --sinit "$T/sinit" \
	--show > "$T/t12.txt" || die "predict --tpm 1.2 failed"
assert_eq "--tpm 1.2: legacy PCR 17/18/19 in sha1" "$(cat "$T/legacy.want")" "$(cat "$T/t12.txt")"
expect_exit 2 "$M" predict --tpm 1.2 --bank sha256 --tboot "$TB" --show
assert_eq "--tpm 1.2 --bank sha256" "measured predict: --tpm 1.2: a TPM 1.2 has only the sha1 bank" "$(head -1 "$T/err")"
expect_exit 2 "$M" predict --tpm 1.2 --initrd "$T/kernel" --show
grep -q "only through TCG2" "$T/err" || die "--tpm 1.2 --initrd: $(cat "$T/err")"
expect_exit 2 "$M" predict --tpm 1.3 --show
ok "--tpm 1.2 usage errors"

# ---- DA mapping (TPM 2.0), tboot's built-in policy, the SINIT's events given ----
s17=$(printf 'sinit 17' | sha256sum | cut -d' ' -f1)
s18=$(printf 'sinit 18' | sha256sum | cut -d' ' -f1)
printf 'pcr17=sha256:%s\npcr18=sha256:%s\n' "$s17" "$s18" > "$T/sinit-da"
"$M" predict --bank sha256 --tboot "$TB" --tboot-cmdline "$TC" \
	--tboot-module "$T/kernel:$K_CL" --tboot-module "$T/initrd.gz:$I_CL" --sinit "$T/sinit-da" \
	--show > "$T/da.txt" || die "predict (DA) failed"
python3 - "$T" "$mle256" "$K_CL" "$I_CL" "$s17" "$s18" > "$T/da.want" <<'PY'
import gzip, hashlib, struct, sys
T, mle, kcl, icl = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], sys.argv[4]
s17, s18 = bytes.fromhex(sys.argv[5]), bytes.fromhex(sys.argv[6])
H = lambda b: hashlib.sha256(b).digest()
def E(pcr, d): return H(pcr + d)
def mod(cl, img): return H(H(cl.encode()) + H(img))
kernel = open(T + "/kernel", "rb").read()
initrd = gzip.decompress(open(T + "/initrd.gz", "rb").read())
# tboot's built-in DA policy (common/policy.c _def_policy_da): version 2,
# continue-non-fatal, SHA-256, EXTEND_PCR17; module 0 -> none, any -> 17,
# NV 0x40000010 raw -> 22
pol = bytes([2, 0, 0x0b]) + struct.pack("<II", 1, 0) + bytes([3])
pol += bytes([0, 255, 0]) + struct.pack("<I", 0) + bytes([0])
pol += bytes([129, 17, 0]) + struct.pack("<I", 0) + bytes([0])
pol += bytes([131, 22, 0]) + struct.pack("<I", 0x40000010) + bytes([0])
pcd = H(struct.pack("<I", 1) + H(pol))
z = bytes(32)
p17 = E(E(E(E(E(z, s17), mle), pcd), mod(kcl, kernel)), mod(icl, initrd))
p18 = E(E(z, s18), pcd)
print("sha256 17 " + p17.hex())
print("sha256 18 " + p18.hex())
PY
assert_eq "DA PCR 17/18" "$(cat "$T/da.want")" "$(cat "$T/da.txt")"

# without the SINIT part, the DA mapping has nothing it can predict
expect_exit 3 "$M" predict --bank sha256 --tboot "$TB" --tboot-cmdline "$TC" --show
# bad SINIT description, bad module argument
printf 'sinit_hash=zz\n' > "$T/bad"
expect_exit 3 "$M" predict --bank sha1 --tboot "$TB" --tboot-legacy --sinit "$T/bad" --show
grep -q "bad:1: sinit_hash" "$T/err" || die "error does not name file:line and key"
expect_exit 3 "$M" predict --bank sha1 --tboot "$TB" --tboot-legacy --tboot-module "$T/kernel" --show
grep -q "FILE:CMDLINE" "$T/err" || die "error does not explain --tboot-module"
expect_exit 3 "$M" predict --bank sha256 --tboot-policy "$T/pol" --show
ok "tboot errors"
