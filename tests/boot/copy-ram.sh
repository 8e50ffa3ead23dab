#!/bin/sh
# measured.copy=ram: the root is read once into a sealed RAM copy, the copy
# is hashed and mounted.  PCR 15 is the host's value for the image in every
# bank; the mounted root's device is a loop device over the memfd (the
# kernel's own backing_file), not the disk; an image file on a medium (a
# live image) gets the copy without being asked.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
sed -i 's|^echo "ROOT-INIT-DONE"$|grep " /run/measured/ro " /proc/mounts \| sed "s/^/LOWER-MOUNT /"\nfor l in /sys/block/loop*/loop/backing_file; do [ -r $l ] \&\& echo "BACKING $l $(cat $l)"; done\n&|' \
	"$T/root/sbin/init"
grep -q BACKING "$T/root/sbin/init" || die "could not add the checks to the root's init"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
"$M" hash -b sha1,sha256,sha384,sha512 "$T/root.img" > "$T/host.txt"
mkdir -p "$T/medium"
cp "$T/root.img" "$T/medium/root.img"
mke2fs -q -t ext4 -L live-medium -d "$T/medium" "$T/medium.img" 40M || die "mke2fs medium"

check() {	# NAME LOG
	grep -q ROOT-INIT-DONE "$2.txt" || { tail -30 "$2.txt"; die "$1: the root's init did not finish"; }
	for bank in sha1 sha256 sha384 sha512; do
		d=$(sed -n "s/^$bank \([0-9a-f]*\) .*/\1/p" "$T/host.txt")
		assert_eq "$1: PCR 15 $bank is the host's value for the image" "$(host_extend $bank "$d")" \
			"$(guest_pcr "$2" $bank 15)"
	done
	grep -q "measured-init: root .* (ext4, 16777216 bytes, copy=ram, " "$2.txt" ||
		{ grep measured-init "$2.txt"; die "$1: not the copy=ram mode"; }
	lower=$(sed -n 's/^LOWER-MOUNT \(\/dev\/loop[0-9]*\) .*/\1/p' "$2.txt")
	[ -n "$lower" ] || { grep LOWER-MOUNT "$2.txt"; die "$1: the root is not mounted from a loop device"; }
	assert_eq "$1: the mounted loop device is backed by the RAM copy" \
		"BACKING /sys/block/${lower#/dev/}/loop/backing_file /memfd:measured-root (deleted)" \
		"$(grep "^BACKING /sys/block/${lower#/dev/}/" "$2.txt")"
	grep -q OVERLAY-WRITE-OK "$2.txt" || die "$1: overlay not writable"
}
boot seabios "$T/dev.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda measured.copy=ram"
check "whole device, measured.copy=ram" "$T/dev.log"
boot seabios "$T/live.log" "$T/medium.img" "$T/initrd.img" "measured.root=LABEL=live-medium:/root.img"
check "live image file, copied by default" "$T/live.log"
