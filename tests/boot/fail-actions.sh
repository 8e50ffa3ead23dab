#!/bin/sh
# measured.fail=shell and measured.fail=reboot: the console says why, the
# configured action happens, the root's init never runs.
#  - shell: a root given by a UUID no disk has; the initramfs carries
#    busybox as /bin/sh, whose interactive start-up file ($ENV, passed by
#    the kernel to init and on to the shell) prints a marker and exits;
#    the init then halts.
#  - reboot: the root found by its UUID and measured, then a mount that
#    must fail (measured.fstype=nosuchfs): no handover, a reboot, which
#    -no-reboot turns into QEMU's exit.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"

never_ran() {	# NAME LOG
	if grep -q ROOT-INIT-STARTED "$2.txt"; then die "$1: the root's init ran"; fi
}

# shell
cp "$T/initrd.img" "$T/initrd-sh.img"
mkdir -p "$T/extra/bin" "$T/extra/etc"
cp "$(command -v busybox)" "$T/extra/bin/busybox"
ln -s busybox "$T/extra/bin/sh"
printf 'echo "SHELL-ENV-RAN pid $$"\nexit 0\n' > "$T/extra/etc/failshell"
add_to_initramfs "$T/initrd-sh.img" "$T/extra"
boot seabios "$T/sh.log" "$T/root.img" "$T/initrd-sh.img" \
	"measured.root=UUID=00000000-0000-4000-8000-000000000000 measured.timeout=1 measured.fail=shell ENV=/etc/failshell"
never_ran "fail=shell" "$T/sh.log"
grep -q 'measured-init: FATAL: root device: root device UUID=00000000-0000-4000-8000-000000000000 did not appear' "$T/sh.log.txt" ||
	{ tail -20 "$T/sh.log.txt"; die "fail=shell: no message naming the missing UUID"; }
grep -q 'measured-init: starting /bin/sh' "$T/sh.log.txt" || die "fail=shell: the shell was not announced"
grep -q '^SHELL-ENV-RAN pid [0-9]' "$T/sh.log.txt" || { tail -20 "$T/sh.log.txt"; die "fail=shell: the shell did not run"; }
sed -n '/SHELL-ENV-RAN/,$p' "$T/sh.log.txt" | grep -q 'measured-init: halting' || die "fail=shell: no halt after the shell"
ok "measured.fail=shell runs /bin/sh, then halts"

# reboot
uuid=6a0c1d4e-1c5b-4b7e-9d9a-3f2e1d0c0b0a	# make_image's
s=$(date +%s)
boot seabios "$T/rb.log" "$T/root.img" "$T/initrd.img" \
	"measured.root=UUID=$uuid measured.fstype=nosuchfs measured.fail=reboot"
[ $(( $(date +%s) - s )) -lt 170 ] || die "fail=reboot: QEMU did not exit by itself"
never_ran "fail=reboot" "$T/rb.log"
grep -q 'measured-init: FATAL: mounting the root: mounting /dev/vda (nosuchfs) read-only' "$T/rb.log.txt" ||
	{ tail -20 "$T/rb.log.txt"; die "fail=reboot: no message naming the device found by UUID"; }
grep -q 'measured-init: rebooting' "$T/rb.log.txt" || die "fail=reboot: the init did not reboot"
grep -q 'reboot: Restarting system' "$T/rb.log.txt" || die "fail=reboot: the kernel did not restart"
if grep -q 'reboot: Power down' "$T/rb.log.txt"; then die "fail=reboot: powered off instead"; fi
ok "measured.fail=reboot reboots (QEMU -no-reboot exits), UUID= found the root"
