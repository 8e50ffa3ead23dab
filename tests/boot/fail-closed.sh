#!/bin/sh
# Fail closed: no such device, no TPM, a bad measured.pcr: the root's init
# never runs, and the console says why.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"

boot seabios "$T/nodev.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vdz measured.timeout=2"
check_fail_closed "missing device" "$T/nodev.log" "root device /dev/vdz did not appear within 2 s"
boot seabios "$T/notpm.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda" notpm
check_fail_closed "no TPM" "$T/notpm.log" "no TPM"
boot seabios "$T/pcr.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda measured.pcr=99"
check_fail_closed "bad measured.pcr" "$T/pcr.log" "measured.pcr=99"
