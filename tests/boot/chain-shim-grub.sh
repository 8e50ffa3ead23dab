#!/bin/sh
# UEFI Secure Boot through Debian's signed shim and GRUB, booted from a GPT
# disk under OVMF with Microsoft's keys (no -kernel): `measured predict
# --shim-grub` from the ESP and the variable store alone equals the guest's
# PCR 4, 7, 8, 9 and 14 in every bank; with the guest's log as the golden
# log `measured check` finds no difference; one changed thing at a time
# (a GRUB command, the command line, the initrd, the kernel, a db entry, a
# dbx entry, SbatLevel) is named by check as exactly its events; a kernel
# update predicted from the current boot's log plus the new files matches
# the next boot, which the old manifest refuses; the changed db and
# SbatLevel are booted too and match their predictions.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
boot_prereqs
chains_fetch
chains_kernel_prev
BANKS=sha1,sha256,sha384,sha512

make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd-new.img"
KERNEL_MODDIR=$KPREV_MODDIR make_initramfs "$T/initrd-old.img"

# esp DIR KERNEL INITRD [GRUB_CFG_EXTRA] [CMDLINE] (tests/lib/chains.sh)
esp() { esp_shim_grub "$@"; }
esp "$T/espA" "$KPREV_IMAGE" "$T/initrd-old.img"
esp_image "$T/espA" "$T/espA.img"
gpt_disk "$T/diskA.img" "$T/espA.img" "$T/root.img"
cp "$OVMF_MS_VARS" "$T/varsA.fd"
cp "$OVMF_MS_VARS" "$T/vars-ms.fd"	# what predict reads: the store before the boot

# db and dbx: one more EFI_CERT_SHA256 list each; SbatLevel: a newer one shim keeps
python3 -c '
import struct, sys, uuid
esl = uuid.UUID("c1c41626-504c-4092-aca9-41f936934328").bytes_le + struct.pack("<III", 76, 0, 48)
esl += uuid.UUID("11111111-2222-3333-4444-555555555555").bytes_le + bytes(range(32))
open(sys.argv[1], "wb").write(esl)' "$T/esl.bin"
python3 - "$T/vars-ms.fd" "$T" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
hl = struct.unpack_from('<H', d, 48)[0]
o = hl + 28
while struct.unpack_from('<H', d, o)[0] == 0x55aa:
    ns, ds = struct.unpack_from('<II', d, o + 36)
    nm = d[o + 60:o + 60 + ns - 2].decode('utf-16le')
    if d[o + 2] == 0x3f and nm in ('db', 'dbx'):
        open(sys.argv[2] + '/' + nm + '.bin', 'wb').write(d[o + 60 + ns:o + 60 + ns + ds])
    o = (o + 60 + ns + ds + 3) & ~3
PY
cat "$T/db.bin" "$T/esl.bin" > "$T/db2.bin"
cat "$T/dbx.bin" "$T/esl.bin" > "$T/dbx2.bin"
efivar_set "$T/vars-ms.fd" "$T/vars-db.fd" db d719b2cb-3d3a-4596-a3bc-dad00e67656f 0x27 "$T/db2.bin"
efivar_set "$T/vars-ms.fd" "$T/vars-dbx.fd" dbx d719b2cb-3d3a-4596-a3bc-dad00e67656f 0x27 "$T/dbx2.bin"
printf 'sbat,1,2030010100\nshim,4\ngrub,5\n' > "$T/sbat.bin"
efivar_set "$T/vars-ms.fd" "$T/vars-sbat.fd" SbatLevel 605dab50-e046-4300-abb6-3dd810dd8b23 0x3 "$T/sbat.bin"

# two boots at a time: A, and C with one more db entry (the same disk)
cp "$T/diskA.img" "$T/diskC.img"
cp "$T/vars-db.fd" "$T/varsC.fd"
boot_disk secboot "$T/a.log" "$T/diskA.img" "$T/varsA.fd" &
pa=$!
boot_disk secboot "$T/c.log" "$T/diskC.img" "$T/varsC.fd" &
pc=$!
wait $pa || die "boot A"
wait $pc || die "boot C"

# 1. from the artifacts alone: PCR 4, 7, 8, 9, 14 in every bank
"$M" predict --bank $BANKS --shim-grub --esp "$T/espA" --efi-vars "$T/vars-ms.fd" --show > "$T/predA.txt" ||
	die "predict --shim-grub failed"
assert_eq "PCRs x banks predicted" 20 "$(wc -l < "$T/predA.txt")"
assert_predicted "$T/predA.txt" "$T/a.log" "shim+GRUB from artifacts"

# 2. with the guest's firmware log for PCR 0-3, 5, 6 (and PCR 4's firmware
# actions): every PCR equals the guest's, and check names no difference
"$M" predict --bank $BANKS --shim-grub --esp "$T/espA" --efi-vars "$T/vars-ms.fd" \
	--firmware-log "$T/a.log.fw" --show > "$T/predA2.txt" || die "predict with the golden log failed"
assert_eq "PCRs x banks predicted with the golden log" 44 "$(wc -l < "$T/predA2.txt")"
assert_predicted "$T/predA2.txt" "$T/a.log" "shim+GRUB with the golden log"
"$M" predict --bank $BANKS --shim-grub --esp "$T/espA" --efi-vars "$T/vars-ms.fd" \
	--firmware-log "$T/a.log.fw" -o "$T/A.json" || die "predict with the golden log failed"
"$M" check "$T/A.json" --eventlog "$T/a.log.fw" > "$T/checkA.txt" || { cat "$T/checkA.txt"; die "check A"; }
tail -n 1 "$T/checkA.txt" | grep -qx match || die "check of boot A did not say match"
assert_eq "PCRs checked" 11 "$(grep -c ': match$' "$T/checkA.txt")"

# 3. one thing at a time, against boot A's log (sha256: every bank was
# checked above; db and SbatLevel, booted below, in every bank)
variant() {	# variant NAME ESP VARS [BANKS]: predict into $T/NAME.json
	"$M" predict --bank "${4:-sha256}" --shim-grub --esp "$2" --efi-vars "$3" --firmware-log "$T/a.log.fw" \
		-o "$T/$1.json" || die "predict ($1)"
}
esp "$T/espCmd" "$KPREV_IMAGE" "$T/initrd-old.img" "set gfxpayload=keep"
variant cmd "$T/espCmd" "$T/vars-ms.fd"
expect_differs "$T/cmd.json" "$T/a.log.fw" "PCR 8: event 6" "PCR 9: event 0"
esp "$T/espCl" "$KPREV_IMAGE" "$T/initrd-old.img" "" "console=ttyS0 quiet measured.root=/dev/vda2 x=1"
variant cmdline "$T/espCl" "$T/vars-ms.fd"
expect_differs "$T/cmdline.json" "$T/a.log.fw" "PCR 8: event 6" "PCR 9: event 0"
esp "$T/espInitrd" "$KPREV_IMAGE" "$T/initrd-new.img"
variant initrd "$T/espInitrd" "$T/vars-ms.fd"
expect_differs "$T/initrd.json" "$T/a.log.fw" "PCR 9: event 2"
esp "$T/espKernel" "$KERNEL_IMAGE" "$T/initrd-old.img"
variant kernel "$T/espKernel" "$T/vars-ms.fd"
# PCR 4: the firmware's action and separator, shim, GRUB, then the kernel
expect_differs "$T/kernel.json" "$T/a.log.fw" "PCR 4: event 4" "PCR 9: event 1"
variant db "$T/espA" "$T/vars-db.fd" $BANKS
expect_differs "$T/db.json" "$T/a.log.fw" "PCR 7: event 3"
variant dbx "$T/espA" "$T/vars-dbx.fd"
expect_differs "$T/dbx.json" "$T/a.log.fw" "PCR 7: event 4"
variant sbat "$T/espA" "$T/vars-sbat.fd" $BANKS
expect_differs "$T/sbat.json" "$T/a.log.fw" "PCR 7: event 7"

# 4. the update: the new kernel and its initrd, predicted from boot A's log
# before the machine reboots (B); beside it D, with a newer SbatLevel.  B,
# C and D each match the manifest predicted for them, and A's names exactly
# the changed events
esp "$T/espB" "$KERNEL_IMAGE" "$T/initrd-new.img"
"$M" predict --bank $BANKS --shim-grub --esp "$T/espB" --efi-vars "$T/vars-ms.fd" \
	--firmware-log "$T/a.log.fw" -o "$T/B.json" || die "predict of the update failed"
expect_differs "$T/B.json" "$T/a.log.fw" "PCR 4: event 4" "PCR 9: event 1"
esp_image "$T/espB" "$T/espB.img"
gpt_disk "$T/diskB.img" "$T/espB.img" "$T/root.img"
cp "$T/vars-sbat.fd" "$T/varsD.fd"
boot_disk secboot "$T/b.log" "$T/diskB.img" "$T/varsA.fd" &	# the same machine, rebooted
pb=$!
boot_disk secboot "$T/d.log" "$T/diskC.img" "$T/varsD.fd" &
pd=$!
wait $pb || die "boot B"
wait $pd || die "boot D"
for v in B:b db:c sbat:d; do	# manifest:boot
	"$M" check "$T/${v%%:*}.json" --eventlog "$T/${v#*:}.log.fw" > "$T/check.txt" ||
		{ cat "$T/check.txt"; die "boot ${v#*:} does not match its prediction ${v%%:*}.json"; }
done
ok "the updated boot, the changed db and the newer SbatLevel each match the manifest predicted before"
expect_differs "$T/A.json" "$T/b.log.fw" "PCR 4: event 4" "PCR 9: event 1"
expect_differs "$T/A.json" "$T/c.log.fw" "PCR 7: event 3"
expect_differs "$T/A.json" "$T/d.log.fw" "PCR 7: event 7"
"$M" predict --bank $BANKS --shim-grub --esp "$T/espB" --efi-vars "$T/vars-ms.fd" --firmware-log "$T/a.log.fw" \
	--show > "$T/predB.txt"
assert_predicted "$T/predB.txt" "$T/b.log" "updated boot, predicted from the old boot's log"
