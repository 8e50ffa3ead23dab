#!/bin/sh
# TPM 1.2 (swtpm without --tpm2) on SeaBIOS, which measures into a TPM 1.2
# and leaves a SHA-1 event log: measured-init finds a TPM 1.2, extends the
# root's SHA-1 into PCR 15 with TPM_Extend and reads it back; the guest
# kernel's own text list of the PCRs (/sys/class/tpm/tpm0/pcrs, a reader
# independent of this project) equals H(0 || SHA1(image)) computed here with
# openssl and `measured predict`'s value; SeaBIOS's log replays to PCRs 0-7
# and measured-init's CEL log to PCR 15.  The original's parameters
# `measureroot rootimg= rootimgpcr=9` give its value; a bad measured.pcr
# fails closed on a 1.2 machine as on 2.0.  (PCR 17, which a TPM 1.2 lets
# only localities 2-4 extend, never reaches the TPM: the init refuses
# 16-23 itself; tests/integration/tpm12.sh sees TPM_BAD_LOCALITY from
# `measured extend --pcr 17`.)
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
BOOT_TPM=1.2
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
dg=$(openssl dgst -sha1 -r < "$T/root.img" | cut -d' ' -f1)

boot seabios "$T/a.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
grep -q ROOT-INIT-DONE "$T/a.log.txt" || { tail -30 "$T/a.log.txt"; die "the root's init did not finish"; }
grep -q "measured-init: TPM 1.2 at /dev/tpm0: 24 PCRs, SHA-1" "$T/a.log.txt" || die "measured-init did not report a TPM 1.2"
assert_eq "the guest kernel sees a TPM 1.2" "TPM-VERSION-MAJOR 1" "$(grep '^TPM-VERSION-MAJOR' "$T/a.log.txt")"
want=$(host_extend sha1 "$dg")
assert_eq "PCR 15 (guest kernel's list) = SHA1(0^20 || SHA1(image))" "$want" "$(guest_pcr12 "$T/a.log" 15)"
"$M" predict --rootfs "$T/root.img" --bank sha1 --show > "$T/predict.txt" || die "predict failed"
assert_eq "PCR 15 = measured predict's value" "sha1 15 $want" "$(grep '^sha1 15 ' "$T/predict.txt")"
grep -q "measured-init: PCR 15 sha1 $want" "$T/a.log.txt" || die "measured-init's read-back differs"
ok "measured-init's TPM_PCRRead read-back printed $want"

between "$T/a.log" FWLOG > "$T/fw.log"
between "$T/a.log" CEL > "$T/cel.log"
[ -s "$T/fw.log" ] || die "SeaBIOS left no event log"
"$M" eventlog replay "$T/fw.log" > "$T/fw.replay" || die "replay of SeaBIOS's log failed"
grep -q '^sha256 ' "$T/fw.replay" && die "SeaBIOS's TPM 1.2 log has a sha256 bank"
for p in 0 1 2 3 4 5 6 7; do
	assert_eq "SeaBIOS's SHA-1 log replays PCR $p" "$(guest_pcr12 "$T/a.log" $p)" "$(sed -n "s/^sha1 $p //p" "$T/fw.replay")"
done
assert_eq "measured-init's CEL log replays PCR 15" "sha1 15 $want" "$("$M" eventlog replay "$T/cel.log")"

# the original's parameters: root.img as a file on an ext4 medium, PCR 9
mkdir -p "$T/medium"
cp "$T/root.img" "$T/medium/root.img"
mke2fs -q -t ext4 -d "$T/medium" "$T/medium.img" 48M || die "mke2fs medium"
inner=$(printf '%s' "$dg" | openssl dgst -sha1 -r | cut -d' ' -f1)
boot seabios "$T/m.log" "$T/medium.img" "$T/initrd.img" "measureroot rootimg=root.img rootimgpcr=9"
grep -q ROOT-INIT-DONE "$T/m.log.txt" || { tail -30 "$T/m.log.txt"; die "compat boot did not reach the root"; }
assert_eq "compat on 1.2: PCR 9 = extend(SHA1(hex(SHA1(image))))" "$(host_extend sha1 "$inner")" "$(guest_pcr12 "$T/m.log" 9)"
"$M" predict --rootfs "$T/root.img" --rootfs-compat --rootfs-pcr 9 --bank sha1 --show > "$T/pc.txt" || die "predict --rootfs-compat failed"
assert_eq "compat on 1.2: measured predict agrees" "sha1 9 $(host_extend sha1 "$inner")" "$(grep '^sha1 9 ' "$T/pc.txt")"

# fail closed on a 1.2 machine: a missing root device (after the TPM 1.2
# was found) and a bad measured.pcr
boot seabios "$T/d.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vdz measured.timeout=2"
grep -q "measured-init: TPM 1.2 at /dev/tpm0" "$T/d.log.txt" || die "missing device: no TPM 1.2 found first"
check_fail_closed "missing device" "$T/d.log" "root device /dev/vdz did not appear within 2 s"
boot seabios "$T/p.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda measured.pcr=17"
check_fail_closed "measured.pcr=17" "$T/p.log" "measured.pcr=17 refused"
