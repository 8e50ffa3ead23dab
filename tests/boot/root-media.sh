#!/bin/sh
# What is measured with the defaults alone, in both modes, checked against
# `measured predict` with its defaults and against openssl:
#  - measured.root=/dev/vda, no measured.pcr=: PCR 15 in every bank;
#  - the original's parameters with no rootimgpcr=: PCR 9, sha1 bank, on
#    every medium the original found its image on: ext2, ext3, ext4,
#    ISO 9660 and FAT (its USB "hddimg" images), `measureroot rootimg=` and
#    `rootimg=` alone (which the original booted unmeasured; measured-init
#    measures it, with the same value).
# Boots run two at a time (each QEMU under TCG uses one CPU).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
for tool in xorriso mkfs.vfat mcopy; do command -v $tool >/dev/null || die "$tool is not installed"; done
BOOT_MODULES="$BOOT_MODULES isofs vfat nls_cp437 nls_ascii"
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"

# the media, each holding root.img
mkdir -p "$T/m"
cp "$T/root.img" "$T/m/root.img"
for fs in ext2 ext3 ext4; do
	mke2fs -q -t $fs -d "$T/m" "$T/$fs.img" 48M || die "mke2fs $fs"
done
xorriso -as mkisofs -quiet -R -V MEASURED -o "$T/iso9660.img" "$T/m" 2>/dev/null || die "xorriso"
mkfs.vfat -C -n MEASURED "$T/vfat.img" 49152 >/dev/null || die "mkfs.vfat"
mcopy -i "$T/vfat.img" "$T/root.img" ::root.img || die "mcopy"

# expectations: predict with its defaults, and openssl
"$M" predict --rootfs "$T/root.img" --bank sha1,sha256,sha384,sha512 --show > "$T/new.pred" ||
	die "predict (current mode) failed"
"$M" predict --rootfs "$T/root.img" --rootfs-compat --bank sha1 --show > "$T/compat.pred" ||
	die "predict --rootfs-compat failed"
assert_eq "predict's default PCR, current mode" "15" "$(cut -d' ' -f2 "$T/new.pred" | sort -u)"
assert_eq "predict's default PCR, compatibility mode" "9" "$(cut -d' ' -f2 "$T/compat.pred" | sort -u)"
hex=$(openssl dgst -sha1 -r < "$T/root.img" | cut -d' ' -f1)
compat=$(host_extend sha1 "$(printf '%s' "$hex" | openssl dgst -sha1 -r | cut -d' ' -f1)")
assert_eq "compat prediction = extend(sha1(hex(sha1(image))))" "sha1 9 $compat" "$(cat "$T/compat.pred")"

boot2() {	# NAME1 IMG1 APPEND1 NAME2 IMG2 APPEND2
	mkdir -p "$T/$1" "$T/$4"
	boot_apart "$T/$1" seabios "$T/$1/c.log" "$2" "$T/initrd.img" "$3" &
	a=$!
	boot_apart "$T/$4" seabios "$T/$4/c.log" "$5" "$T/initrd.img" "$6" &
	b=$!
	wait $a
	wait $b
}
boot2 new "$T/root.img" "measured.root=/dev/vda" \
	ext2 "$T/ext2.img" "measureroot rootimg=root.img"
boot2 ext3 "$T/ext3.img" "measureroot rootimg=root.img" \
	ext4 "$T/ext4.img" "ro measureroot rootimg=root.img"
boot2 iso9660 "$T/iso9660.img" "measureroot rootimg=root.img" \
	vfat "$T/vfat.img" "rootimg=root.img"

reached() {
	grep -q ROOT-INIT-DONE "$T/$1/c.log.txt" || { tail -30 "$T/$1/c.log.txt"; die "$1: the boot did not reach the root"; }
}
reached new
while read -r bank pcr value; do
	assert_eq "defaults: PCR $pcr $bank = predict's" "$value" "$(guest_pcr "$T/new/c.log" "$bank" "$pcr")"
done < "$T/new.pred"
assert_eq "defaults: PCR 9 untouched" "$(head -c 20 /dev/zero | od -An -v -tx1 | tr -d ' \n')" \
	"$(guest_pcr "$T/new/c.log" sha1 9)"
ok "measured.root= with no PCR: PCR 15 in all four banks equals predict's defaults"

for fs in ext2 ext3 ext4 iso9660 vfat; do
	reached $fs
	grep -q "root /dev/loop0 from root.img" "$T/$fs/c.log.txt" || die "$fs: the image was not looped from the medium"
	assert_eq "$fs: PCR 9 sha1 = predict --rootfs-compat's default" "$compat" "$(guest_pcr "$T/$fs/c.log" sha1 9)"
	assert_eq "$fs: PCR 15 untouched" "$(head -c 20 /dev/zero | od -An -v -tx1 | tr -d ' \n')" \
		"$(guest_pcr "$T/$fs/c.log" sha1 15)"
	grep -q OVERLAY-WRITE-OK "$T/$fs/c.log.txt" || die "$fs: the overlay is not writable"
done
ok "the original's parameters find root.img on ext2, ext3, ext4, ISO 9660 and FAT; PCR 9 = prediction"
