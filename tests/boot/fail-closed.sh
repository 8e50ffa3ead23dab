#!/bin/sh
# Fail closed: no such device, no TPM, a bad measured.pcr: the root's init
# never runs, and the console says why.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"

check() {	# NAME LOG EXPECTED-TEXT
	if grep -q ROOT-INIT-STARTED "$2.txt"; then die "$1: the root's init ran"; fi
	grep -q "measured-init: FATAL: .*$3" "$2.txt" || { tail -20 "$2.txt"; die "$1: no '$3' on the console"; }
	grep -q "measured-init: halting" "$2.txt" || die "$1: did not halt"
	ok "$1 fails closed"
}
boot seabios "$T/nodev.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vdz measured.timeout=2"
check "missing device" "$T/nodev.log" "root device /dev/vdz did not appear within 2 s"
boot seabios "$T/notpm.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda" notpm
check "no TPM" "$T/notpm.log" "no TPM"
boot seabios "$T/pcr.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda measured.pcr=99"
check "bad measured.pcr" "$T/pcr.log" "measured.pcr=99"
