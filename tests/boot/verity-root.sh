#!/bin/sh
# A dm-verity root (veritysetup format, the hash tree after the data on
# one disk): PCR 15 equals `measured predict --rootfs-verity` and the host's
# own hash of the table line built from veritysetup's output; one changed
# byte in a file's data block makes reading that file fail (eio) or
# restarts the machine (restart, with the tree on a second disk) while
# PCR 15 still equals the good prediction; a wrong root hash fails closed
# before the root's init runs.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
command -v veritysetup >/dev/null || die "veritysetup is not installed (package cryptsetup-bin)"

# the root: make_root's, with a file the root's init reads in full
make_root "$T/root"
{ echo MEASURED-VERITY-MARKER; head -c 65536 /dev/urandom | base64; } > "$T/root/data.txt"
sed -i 's|^echo "ROOT-INIT-DONE"$|if cat /data.txt >/dev/null; then echo DATA-READ-OK; else echo DATA-READ-FAILED; fi\n&|' \
	"$T/root/sbin/init"
grep -q DATA-READ-OK "$T/root/sbin/init" || die "could not add the read to the root's init"
# 4 KiB file system blocks: the verity device's logical block size is its
# data block size, and ext4 refuses blocks smaller than the device's
mke2fs -q -t ext4 -b 4096 -E root_owner=0:0 -d "$T/root" "$T/root.img" 16M || die "mke2fs failed"
DATA=16777216
veritysetup format "$T/root.img" "$T/root.img" --hash-offset=$DATA > "$T/vs.txt" || die "veritysetup format failed"
root=$(sed -n 's/^Root hash:[[:space:]]*\([0-9a-f]*\)$/\1/p' "$T/vs.txt")
salt=$(sed -n 's/^Salt:[[:space:]]*\([0-9a-f]*\)$/\1/p' "$T/vs.txt")
[ ${#root} = 64 ] && [ ${#salt} = 64 ] || die "no root hash or salt in veritysetup's output"

BOOT_MODULES="$BOOT_MODULES dm_verity"
make_initramfs "$T/initrd.img"

# The first virtio disk is 254:0: virtio_blk registers its major before
# dm-mod (measured-init loads drivers first).  Both sides of the check
# below use that number; the boot's console shows the kernel's own table.
"$M" predict --rootfs-verity "$T/root.img" --verity-hash-offset $DATA --verity-devices 254:0 \
	-b sha1,sha256,sha384,sha512 --show > "$T/pred.txt" || die "measured predict --rootfs-verity failed"
table="1 254:0 254:0 4096 4096 4096 $((DATA / 4096 + 1)) sha256 $root $salt"
for bank in sha1 sha256 sha384 sha512; do
	want=$(host_extend $bank "$(printf '%s' "$table" | openssl dgst -$bank -r | cut -d' ' -f1)")
	assert_eq "prediction equals the host's hash of the table line ($bank)" "$want" \
		"$(sed -n "s/^$bank 15 //p" "$T/pred.txt")"
done

# predict refuses what it cannot stand behind: no device numbers, and an
# image whose stored tree is not its data's (one changed data byte)
expect_exit 3 "$M" predict --rootfs-verity "$T/root.img" --verity-hash-offset $DATA --show
assert_eq "predict without --verity-devices" "measured predict: --rootfs-verity needs --verity-devices (the kernel's MAJOR:MINOR of the data device, e.g. 254:0 for the first virtio disk)" "$(cat "$T/err")"
cp "$T/root.img" "$T/tampered.img"
printf 'Z' | dd of="$T/tampered.img" bs=1 seek=4096 conv=notrunc status=none
expect_exit 3 "$M" predict --rootfs-verity "$T/tampered.img" --verity-hash-offset $DATA --verity-devices 254:0 --show
assert_eq "predict on a changed data block" \
	"measured predict: $T/tampered.img: the stored verity tree differs from the data's at hash block $((DATA / 4096 + 1))" \
	"$(cat "$T/err")"
rm -f "$T/tampered.img"

append="measured.root=/dev/vda measured.verity.roothash=$root measured.verity.hashoffset=$DATA"
boot seabios "$T/good.log" "$T/root.img" "$T/initrd.img" "$append"
grep -q ROOT-INIT-DONE "$T/good.log.txt" || { tail -30 "$T/good.log.txt"; die "good image: root's init did not finish"; }
grep -q DATA-READ-OK "$T/good.log.txt" || die "good image: the file did not read"
grep -q "measured-init: dm-verity $table\$" "$T/good.log.txt" || die "good image: the kernel's table is not '$table'"
grep -q "measured-init: root /dev/vda (ext4, 0 bytes, verity," "$T/good.log.txt" || die "good image: not the verity mode"
for bank in sha1 sha256 sha384 sha512; do
	assert_eq "good image: PCR 15 $bank equals the prediction" "$(sed -n "s/^$bank 15 //p" "$T/pred.txt")" \
		"$(guest_pcr "$T/good.log" $bank 15)"
done

# One byte of the file's data changed (the marker line is the file's
# first block): the file system still mounts, the file does not read.
off=$(grep -obUa MEASURED-VERITY-MARKER "$T/root.img" | head -n 1 | cut -d: -f1)
[ -n "$off" ] && [ "$off" -lt $DATA ] || die "marker not found in the image"
cp "$T/root.img" "$T/bad.img"
printf 'X' | dd of="$T/bad.img" bs=1 seek=$((off + 3)) conv=notrunc status=none
boot seabios "$T/bad.log" "$T/bad.img" "$T/initrd.img" "$append"
grep -q ROOT-INIT-DONE "$T/bad.log.txt" || { tail -30 "$T/bad.log.txt"; die "changed byte: root's init did not finish"; }
grep -q DATA-READ-FAILED "$T/bad.log.txt" || die "changed byte: the changed file read without an error"
grep -q "device-mapper: verity: 254:0: data block [0-9]* is corrupted" "$T/bad.log.txt" ||
	die "changed byte: no corruption report from the kernel"
for bank in sha1 sha256 sha384 sha512; do
	assert_eq "changed byte: PCR 15 $bank still equals the good prediction" \
		"$(sed -n "s/^$bank 15 //p" "$T/pred.txt")" "$(guest_pcr "$T/bad.log" $bank 15)"
done

# measured.verity.error=restart, with the tree on a second disk (/dev/vdb,
# 254:16, superblock at byte 0 so the tree starts at hash block 1): the
# kernel's table names both devices as predicted, and the read of the
# changed block restarts the machine (QEMU runs with -no-reboot, so it
# exits) before the file's read can report anything.
head -c $DATA "$T/root.img" > "$T/data.img"
veritysetup format "$T/data.img" "$T/hash.img" > "$T/vs2.txt" || die "veritysetup format (two files) failed"
root2=$(sed -n 's/^Root hash:[[:space:]]*\([0-9a-f]*\)$/\1/p' "$T/vs2.txt")
"$M" predict --rootfs-verity "$T/data.img" --verity-hash "$T/hash.img" --verity-devices 254:0,254:16 \
	--verity-error restart --show --json > "$T/pred2.json" || die "measured predict (two files) failed"
table2=$(sed -n 's/.*"description": "dm-verity \(.*\)",$/\1/p' "$T/pred2.json")
salt2=$(sed -n 's/^Salt:[[:space:]]*\([0-9a-f]*\)$/\1/p' "$T/vs2.txt")
assert_eq "two files: the predicted table" \
	"1 254:0 254:16 4096 4096 4096 1 sha256 $root2 $salt2 1 restart_on_corruption" "$table2"
head -c $DATA "$T/bad.img" > "$T/bad-data.img"
boot_disks seabios "$T/restart.log" "$T/initrd.img" \
	"measured.root=/dev/vda measured.verity.roothash=$root2 measured.verity.hash=/dev/vdb measured.verity.error=restart" \
	tpm "$T/bad-data.img" "$T/hash.img"
grep -q "measured-init: dm-verity $table2\$" "$T/restart.log.txt" ||
	{ grep measured-init "$T/restart.log.txt"; die "restart: the kernel's table is not the predicted '$table2'"; }
grep -q ROOT-INIT-STARTED "$T/restart.log.txt" || { tail -30 "$T/restart.log.txt"; die "restart: root's init did not start"; }
if grep -q -e DATA-READ -e ROOT-INIT-DONE "$T/restart.log.txt"; then die "restart: the machine went on after the bad block"; fi
grep -q "device-mapper: verity: 254:0: data block [0-9]* is corrupted" "$T/restart.log.txt" ||
	die "restart: no corruption report from the kernel"
ok "restart: the machine restarted at the bad block"

# A wrong root hash (last digit changed): fails closed before the handover.
last=$(printf '%s' "$root" | cut -c64)
[ "$last" = 0 ] && new=1 || new=0
wrong=$(printf '%s' "$root" | cut -c1-63)$new
boot seabios "$T/wrong.log" "$T/root.img" "$T/initrd.img" \
	"measured.root=/dev/vda measured.verity.roothash=$wrong measured.verity.hashoffset=$DATA"
if grep -q ROOT-INIT-STARTED "$T/wrong.log.txt"; then die "wrong root hash: the root's init ran"; fi
grep -q "measured-init: FATAL: the root device: /dev/dm-0: the first block fails verification" "$T/wrong.log.txt" ||
	{ tail -20 "$T/wrong.log.txt"; die "wrong root hash: not the expected failure"; }
grep -q "measured-init: halting" "$T/wrong.log.txt" || die "wrong root hash: did not halt"
ok "wrong root hash fails closed"
