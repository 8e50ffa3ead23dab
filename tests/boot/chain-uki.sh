#!/bin/sh
# UEFI: systemd-boot 252 starting a unified kernel image built from
# Debian's systemd-boot-efi stub, the kernel, an initramfs and a command
# line, booted from a GPT disk under OVMF.  `measured predict
# --systemd-boot` gives PCR 4, 9, 11 and 12 from the files alone equal to
# the guest's in every bank, PCR
# 11 equal to systemd-measure's in every bank, check finds no difference;
# a changed command line, initrd or kernel is named as exactly its events;
# and the changed command line's prediction matches its own boot.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
boot_prereqs
chains_fetch
SDMEASURE=/usr/lib/systemd/systemd-measure
[ -x "$SDMEASURE" ] || die "no $SDMEASURE (package systemd)"
BANKS=sha1,sha256,sha384,sha512
UKI='\EFI\Linux\debian.efi'

make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
printf 'ID=debian\nVERSION_ID=12\n' > "$T/osrel"
printf 'console=ttyS0 quiet measured.root=/dev/vda2' > "$T/cmdline"

# esp DIR CMDLINE_FILE KERNEL INITRD
esp() {
	mkdir -p "$1/EFI/BOOT" "$1/EFI/Linux" "$1/loader"
	cp "$SDBOOT" "$1/EFI/BOOT/BOOTX64.EFI"
	printf 'timeout 0\n' > "$1/loader/loader.conf"
	make_uki "$1/EFI/Linux/debian.efi" "$T/osrel" "$2" "$3" "$4"
}
esp "$T/espA" "$T/cmdline" "$KERNEL_IMAGE" "$T/initrd.img"
esp "$T/espA2" "$T/cmdline" "$KERNEL_IMAGE" "$T/initrd.img"
cmp -s "$T/espA/EFI/Linux/debian.efi" "$T/espA2/EFI/Linux/debian.efi" || die "two builds of the UKI differ"
ok "the UKI builds reproducibly (timestamp and checksum zeroed)"
esp_image "$T/espA" "$T/espA.img"
gpt_disk "$T/diskA.img" "$T/espA.img" "$T/root.img"
# two boots at a time: A, and Cl with one more word on the command line
printf 'console=ttyS0 quiet measured.root=/dev/vda2 x=1' > "$T/cmdline2"
esp "$T/espCl" "$T/cmdline2" "$KERNEL_IMAGE" "$T/initrd.img"
esp_image "$T/espCl" "$T/espCl.img"
gpt_disk "$T/diskCl.img" "$T/espCl.img" "$T/root.img"
boot_disk uefi "$T/a.log" "$T/diskA.img" &
pa=$!
boot_disk uefi "$T/cl.log" "$T/diskCl.img" &
pc=$!
wait $pa || die "boot A"
wait $pc || die "boot Cl"

"$M" predict --bank $BANKS --systemd-boot "$UKI" --esp "$T/espA" --show > "$T/predA.txt" || die "predict --systemd-boot"
assert_eq "PCRs x banks predicted" 16 "$(wc -l < "$T/predA.txt")"
assert_predicted "$T/predA.txt" "$T/a.log" "systemd-boot + UKI from artifacts"
for b in sha1 sha256 sha384 sha512; do
	sm=$("$SDMEASURE" calculate --linux="$KERNEL_IMAGE" --osrel="$T/osrel" --cmdline="$T/cmdline" \
		--initrd="$T/initrd.img" --bank=$b --phase='' | sed -n "s/^11:$b=//p")
	assert_eq "$b PCR 11 = systemd-measure's" "$sm" "$(awk -v b=$b '$1 == b && $2 == 11 { print $3 }' "$T/predA.txt")"
done
"$M" predict --bank $BANKS --systemd-boot "$UKI" --esp "$T/espA" --firmware-log "$T/a.log.fw" --show > "$T/predA2.txt"
assert_predicted "$T/predA2.txt" "$T/a.log" "systemd-boot + UKI with the golden log"
"$M" predict --bank $BANKS --systemd-boot "$UKI" --esp "$T/espA" --firmware-log "$T/a.log.fw" -o "$T/A.json"
"$M" check "$T/A.json" --eventlog "$T/a.log.fw" > "$T/checkA.txt" || { cat "$T/checkA.txt"; die "check A"; }
tail -n 1 "$T/checkA.txt" | grep -qx match || die "check of boot A did not say match"

# one thing at a time; PCR 4: the firmware's action and separator, systemd-boot, the UKI (3), the kernel
"$M" predict --bank $BANKS --systemd-boot "$UKI" --esp "$T/espCl" --firmware-log "$T/a.log.fw" -o "$T/cl.json"
expect_differs "$T/cl.json" "$T/a.log.fw" "PCR 4: event 3" "PCR 9: event 0" "PCR 11: event 5" "PCR 12: event 0"
cp "$T/initrd.img" "$T/initrd2.img"
printf 'x' >> "$T/initrd2.img"
esp "$T/espInitrd" "$T/cmdline" "$KERNEL_IMAGE" "$T/initrd2.img"
"$M" predict --bank sha256 --systemd-boot "$UKI" --esp "$T/espInitrd" --firmware-log "$T/a.log.fw" -o "$T/ir.json"
expect_differs "$T/ir.json" "$T/a.log.fw" "PCR 4: event 3" "PCR 9: event 1" "PCR 11: event 7"
cp "$KERNEL_IMAGE" "$T/vmlinuz2"
printf 'x' | dd of="$T/vmlinuz2" bs=1 seek=4096 conv=notrunc status=none
esp "$T/espKernel" "$T/cmdline" "$T/vmlinuz2" "$T/initrd.img"
"$M" predict --bank sha256 --systemd-boot "$UKI" --esp "$T/espKernel" --firmware-log "$T/a.log.fw" -o "$T/k.json"
expect_differs "$T/k.json" "$T/a.log.fw" "PCR 4: event 3" "PCR 11: event 1"

# the changed command line, booted
"$M" check "$T/cl.json" --eventlog "$T/cl.log.fw" > "$T/checkCl.txt" || { cat "$T/checkCl.txt"; die "the changed boot does not match its prediction"; }
ok "the boot with the changed command line matches its prediction"
expect_differs "$T/A.json" "$T/cl.log.fw" "PCR 4: event 3" "PCR 9: event 0" "PCR 11: event 5" "PCR 12: event 0"
