#!/bin/sh
# BIOS: SeaBIOS boots Debian's GRUB i386-pc (boot.img in the MBR, a core.img
# made by Debian's grub-mkimage after it) from an MBR disk, GRUB boots the
# kernel.  Debian 12's grub-pc-bin has no tpm.mod, so only the firmware
# measures: `measured predict --bios-disk` gives PCR 4 (the MBR's boot code)
# and PCR 5 (its partition table) equal to the guest's in every bank, PCR 8
# and 9 stay zero, check finds no difference, and a changed partition table
# is named as exactly its event while a changed grub.cfg changes nothing.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
boot_prereqs
chains_fetch
BANKS=sha1,sha256,sha384,sha512
[ -z "$(ls "$GRUB_PC" | grep -i tpm)" ] || die "grub-pc-bin now ships a TPM module: predict PCR 8/9 for it"
ok "grub-pc-bin has no TPM module ($(ls "$GRUB_PC" | grep -c '\.mod$') modules)"

make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
mkdir -p "$T/boot/boot/grub"
cp "$KERNEL_IMAGE" "$T/boot/vmlinuz"
cp "$T/initrd.img" "$T/boot/initrd.img"
cat > "$T/boot/boot/grub/grub.cfg" <<'CFG'
set timeout=0
linux /vmlinuz console=ttyS0 quiet measured.root=/dev/vda2
initrd /initrd.img
boot
CFG
mke2fs -q -t ext2 -E root_owner=0:0 -d "$T/boot" "$T/boot.img" 48M || die "mke2fs"
"$GRUB_MKIMAGE" -O i386-pc -d "$GRUB_PC" -p '(hd0,msdos1)/boot/grub' -o "$T/core.img" \
	biosdisk part_msdos ext2 normal linux boot test echo || die "grub-mkimage"
[ "$(stat -c %s "$T/core.img")" -lt $((2047 * 512)) ] || die "core.img does not fit before the first partition"

# mbr_disk OUT [DISK_ID]: partition 1 /boot, 2 the root; boot.img's code
# (440 bytes) and core.img after it
mbr_disk() {
	boot_s=$(( $(stat -c %s "$T/boot.img") / 512 ))
	root_s=$(( $(stat -c %s "$T/root.img") / 512 ))
	rm -f "$1"
	truncate -s $(( (2048 + boot_s + root_s + 8) * 512 )) "$1"
	sfdisk -q "$1" >/dev/null <<SF || die "sfdisk"
label: dos
label-id: ${2:-0x4d656173}
start=2048, size=$boot_s, type=83, bootable
start=$((2048 + boot_s)), size=$root_s, type=83
SF
	dd if="$GRUB_PC/boot.img" of="$1" bs=440 count=1 conv=notrunc status=none
	dd if="$T/core.img" of="$1" bs=512 seek=1 conv=notrunc status=none
	dd if="$T/boot.img" of="$1" bs=1M oflag=seek_bytes seek=$((2048 * 512)) conv=notrunc status=none
	dd if="$T/root.img" of="$1" bs=1M oflag=seek_bytes seek=$(((2048 + boot_s) * 512)) conv=notrunc status=none
}
mbr_disk "$T/disk.img"
boot_disk seabios "$T/c.log" "$T/disk.img"

"$M" predict --bank $BANKS --bios-disk "$T/disk.img" --show > "$T/pred.txt" || die "predict --bios-disk"
assert_eq "PCRs x banks predicted" 8 "$(wc -l < "$T/pred.txt")"
assert_predicted "$T/pred.txt" "$T/c.log" "SeaBIOS + GRUB i386-pc from the disk alone"
for b in sha1 sha256 sha384 sha512; do
	for p in 8 9; do
		v=$(guest_pcr "$T/c.log" $b $p)
		[ -n "$v" ] && [ -z "$(printf %s "$v" | tr -d 0)" ] || die "$b PCR $p is $v: something measured GRUB"
	done
done
ok "PCR 8 and 9 are zero in every bank: GRUB i386-pc measures nothing"

"$M" predict --bank $BANKS --bios-disk "$T/disk.img" --firmware-log "$T/c.log.fw" -o "$T/m.json" || die "predict -o"
"$M" check "$T/m.json" --eventlog "$T/c.log.fw" > "$T/check.txt" || { cat "$T/check.txt"; die "check"; }
tail -n 1 "$T/check.txt" | grep -qx match || die "check did not say match"

# another disk identifier (bytes 440-443, part of the partition-table bytes):
# PCR 5's partition-table event, nothing else
mbr_disk "$T/disk2.img" 0x12345678
"$M" predict --bank $BANKS --bios-disk "$T/disk2.img" --firmware-log "$T/c.log.fw" -o "$T/m2.json"
expect_differs "$T/m2.json" "$T/c.log.fw" "PCR 5: event 1"
# another grub.cfg: the prediction does not change (GRUB measures nothing)
echo "set extra=1" >> "$T/boot/boot/grub/grub.cfg"
rm -f "$T/boot.img"
mke2fs -q -t ext2 -E root_owner=0:0 -d "$T/boot" "$T/boot.img" 48M
mbr_disk "$T/disk3.img"
"$M" predict --bank $BANKS --bios-disk "$T/disk3.img" --show > "$T/pred3.txt"
assert_eq "a changed grub.cfg leaves the BIOS prediction alone" "$(cat "$T/pred.txt")" "$(cat "$T/pred3.txt")"
