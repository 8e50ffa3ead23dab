#!/bin/sh
# measured.root=LABEL=...:/path: the root is an image file on a medium
# found by its label among two disks (the first is a decoy with another
# label), attached read-only through a loop device; the PCR is the host's
# value for the image file in every bank, the console names the file, and
# the root's init runs.  Two vCPUs: the init hashes the banks in two
# threads (init/hashdev.c) while the module thread runs, so this is the
# boot that checks the threaded digests against the host's.  (UUID= is resolved by the same superblock probe:
# tests/unit/test_init_probe.c, and tests/boot/fail-actions.sh boots with it.)
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
mkdir -p "$T/medium/images"
cp "$T/root.img" "$T/medium/images/root.img"
mke2fs -q -t ext4 -L measured-media -d "$T/medium" "$T/medium.img" 40M || die "mke2fs medium"
mke2fs -q -t ext4 -L decoy "$T/decoy.img" 8M || die "mke2fs decoy"
"$M" hash -b sha1,sha256,sha384,sha512 "$T/root.img" > "$T/host.txt"

BOOT_SMP=2 boot_disks seabios "$T/l.log" "$T/initrd.img" "measured.root=LABEL=measured-media:/images/root.img" tpm \
	"$T/decoy.img" "$T/medium.img"
grep -q ROOT-INIT-DONE "$T/l.log.txt" || { tail -30 "$T/l.log.txt"; die "LABEL=:/path: the root's init did not finish"; }
for bank in sha1 sha256 sha384 sha512; do
	d=$(sed -n "s/^$bank \([0-9a-f]*\) .*/\1/p" "$T/host.txt")
	assert_eq "LABEL=:/path: PCR 15 $bank is the host's value for the image file" \
		"$(host_extend $bank "$d")" "$(guest_pcr "$T/l.log" $bank 15)"
done
grep -q 'measured-init: root /dev/loop[0-9]* from /images/root.img (ext4, 16777216 bytes' "$T/l.log.txt" ||
	{ grep measured-init "$T/l.log.txt"; die "LABEL=:/path: the summary does not name the image file"; }
grep -q OVERLAY-WRITE-OK "$T/l.log.txt" || die "LABEL=:/path: overlay not writable"
grep -q 'measured-init: hashed 16777216 bytes in [0-9.]* s (2 thread(s))' "$T/l.log.txt" ||
	{ grep measured-init "$T/l.log.txt"; die "LABEL=:/path: the banks were not hashed in two threads"; }
grep -q 'measured-init: exec /sbin/init [0-9.]* s after init start' "$T/l.log.txt" ||
	die "LABEL=:/path: no exec mark from the switch"
ok "measured.root=LABEL=...:/images/root.img boots the measured image file"
