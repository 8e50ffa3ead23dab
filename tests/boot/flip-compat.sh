#!/bin/sh
# One flipped byte in the image changes the PCR (to the host's value for the
# changed image); the original's parameters `measureroot rootimg=
# rootimgpcr=` give its exact value: SHA-1 of the 40-character hex text of
# SHA1(image), in the SHA-1 bank, with the image as a file on a medium.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
good=$(openssl dgst -sha256 -r < "$T/root.img" | cut -d' ' -f1)
# Byte 0x400 + 200 is in the ext4 superblock's unused padding... use the
# last block instead, which a 16 MiB image with a few files never uses.
cp "$T/root.img" "$T/flip.img"
printf '\001' | dd of="$T/flip.img" bs=1 seek=$((16 * 1024 * 1024 - 100)) conv=notrunc 2>/dev/null
bad=$(openssl dgst -sha256 -r < "$T/flip.img" | cut -d' ' -f1)
[ "$good" != "$bad" ] || die "flipping a byte did not change the image hash"
boot seabios "$T/f.log" "$T/flip.img" "$T/initrd.img" "measured.root=/dev/vda"
grep -q ROOT-INIT-DONE "$T/f.log.txt" || { tail -30 "$T/f.log.txt"; die "flipped image did not boot"; }
got=$(guest_pcr "$T/f.log" sha256 15)
assert_eq "flipped image: PCR 15 is the host's value for it" "$(host_extend sha256 "$bad")" "$got"
[ "$got" != "$(host_extend sha256 "$good")" ] || die "flipped image gave the original PCR"
ok "one flipped byte changes the PCR"

# Compatibility mode: root.img as a file on an ext4 medium.
mkdir -p "$T/medium"
cp "$T/root.img" "$T/medium/root.img"
mke2fs -q -t ext4 -d "$T/medium" "$T/medium.img" 48M || die "mke2fs medium"
hex=$(openssl dgst -sha1 -r < "$T/root.img" | cut -d' ' -f1)
inner=$(printf '%s' "$hex" | openssl dgst -sha1 -r | cut -d' ' -f1)
boot seabios "$T/m.log" "$T/medium.img" "$T/initrd.img" "measureroot rootimg=root.img rootimgpcr=9"
grep -q ROOT-INIT-DONE "$T/m.log.txt" || { tail -30 "$T/m.log.txt"; die "compat boot did not reach the root"; }
assert_eq "compat: PCR 9 sha1 = extend(sha1(hex(sha1(image))))" "$(host_extend sha1 "$inner")" "$(guest_pcr "$T/m.log" sha1 9)"
assert_eq "compat: sha256 bank untouched" "$(head -c 32 /dev/zero | od -An -v -tx1 | tr -d ' \n')" "$(guest_pcr "$T/m.log" sha256 9)"
ok "compat parameters give the original's value"
