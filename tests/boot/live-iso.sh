#!/bin/sh
# The measured live image (contrib/live-iso/mkliveiso.sh): one hybrid ISO
# booted on SeaBIOS and OVMF, as a CD and as a USB stick, through the tboot
# entry (GRUB multiboot / multiboot2 -> tboot, which finds no TXT under
# QEMU and starts the kernel) and the plain entry, chosen by the builder's
# --default.  Each boot: the root image is found on the medium and measured
# from it (a RAM copy), PCR 15 in every bank equals the manifest written
# beside the ISO and the host's own hash of the rootfs.img xorriso extracts
# from the ISO; measured check finds the guest's log equal to the manifest;
# the root is writable through the overlay and the lower root is not; the
# medium (the USB stick writable to QEMU) is byte for byte unchanged after
# the boot, rootfs.img on it too.  A stick booted by SeaBIOS also has PCR 4
# and 5 (its MBR and partition table) equal to the second manifest the
# builder writes (.seabios-usb.manifest.json), and the firmware's log with
# measured-init's matches it.
# The original's parameters (--compat) put SHA1(hex(SHA1(image))) into
# PCR 9's sha1 bank.  Boots run two at a time.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/liveiso.sh"
boot_prereqs
for tool in xorriso grub-mkrescue mformat python3 cmp; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
[ -f /boot/tboot.gz ] || die "no /boot/tboot.gz (package tboot)"

make_root "$T/root"
sed -i 's|^echo "ROOT-INIT-DONE"$|touch /run/measured/ro/x 2>/dev/null \|\| echo "LOWER-READ-ONLY"\ngrep -E "^(overlay /\|/dev/loop[0-9]* /run/measured/ro) " /proc/mounts \| sed "s/^/MOUNT /"\n&|' \
	"$T/root/sbin/init"
grep -q LOWER-READ-ONLY "$T/root/sbin/init" || die "could not add the checks to the root's init"
make_image "$T/root" "$T/root.img"

# refusals, before anything is built (exit 2, the exact message)
mk="sh $MEASURED_SRCDIR/contrib/live-iso/mkliveiso.sh -o $T/x.iso --kernel $KERNEL_IMAGE --rootfs $T/root.img --initrd $T/root.img"
# shellcheck disable=SC2086
expect_exit 2 $mk --no-tboot --default tboot
assert_eq "--default tboot with --no-tboot" "mkliveiso.sh: --default tboot with --no-tboot" "$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --label live-1
assert_eq "a label ISO 9660 cannot hold" "mkliveiso.sh: --label: A-Z, 0-9 and _ only, not 'live-1'" "$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --append 'init=/bin/sh;reboot'
assert_eq "GRUB syntax in --append" \
	"mkliveiso.sh: --append/--tboot-cmdline: no quotes, backslashes, \$, ; or newlines (GRUB would interpret them)" "$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --pcr 17
assert_eq "a PCR measured-init refuses" "mkliveiso.sh: --pcr: 8-15 (measured-init's rule), not '17'" "$(cat "$T/err")"
[ ! -e "$T/x.iso" ] || die "a refused build wrote an ISO"

live_iso "$T/tboot.iso" "$T/root.img" --default tboot
live_iso "$T/linux.iso" "$T/root.img" --default linux
live_iso "$T/compat.iso" "$T/root.img" --default tboot --compat
for n in tboot linux compat; do
	[ -s "$T/$n.manifest.json" ] || die "$n: no manifest beside the ISO"
done
grep -q "^mkliveiso.sh: kernel parameters: measured.root=LABEL=MEASURED_LIVE:/rootfs.img measured.timeout=30 console=ttyS0\$" \
	"$T/tboot.iso.build.log" || die "unexpected kernel parameters: $(cat "$T/tboot.iso.build.log")"

# the independent side: the image as xorriso reads it back from each ISO,
# hashed by openssl
for n in tboot linux compat; do
	rm -f "$T/$n.rootfs.img"
	xorriso -osirrox on -indev "$T/$n.iso" -extract /rootfs.img "$T/$n.rootfs.img" >/dev/null 2>&1 ||
		die "$n: xorriso cannot extract /rootfs.img"
	cmp -s "$T/root.img" "$T/$n.rootfs.img" || die "$n: /rootfs.img on the medium differs from the input"
	xorriso -osirrox on -indev "$T/$n.iso" -extract /boot/grub/grub.cfg "$T/$n.grub.cfg" >/dev/null 2>&1 ||
		die "$n: no grub.cfg"
done
ok "each ISO holds the root image as /rootfs.img, byte for byte"
assert_eq "the tboot ISO boots the tboot entry" "set default=measured-tboot" "$(grep '^set default=' "$T/tboot.grub.cfg")"
assert_eq "the linux ISO boots the plain entry" "set default=measured-linux" "$(grep '^set default=' "$T/linux.grub.cfg")"
for b in sha1 sha256 sha384 sha512; do
	d=$(openssl dgst -$b -r < "$T/root.img" | cut -d' ' -f1)
	eval "want_$b=$(host_extend $b "$d")"
	assert_eq "manifest PCR 15 $b = openssl's extend of the image" "$(eval echo "\$want_$b")" \
		"$(manifest_pcr "$T/tboot.manifest.json" $b 15)"
done
assert_eq "the manifest holds PCR 15 in four banks, nothing else" \
	"sha1 15 sha256 15 sha384 15 sha512 15" "$(manifest_list "$T/tboot.manifest.json" | tr '\n' ' ' | sed 's/ $//')"
hex=$(openssl dgst -sha1 -r < "$T/root.img" | cut -d' ' -f1)
want_compat=$(host_extend sha1 "$(printf '%s' "$hex" | openssl dgst -sha1 -r | cut -d' ' -f1)")
assert_eq "compat manifest: PCR 9 sha1 = extend(sha1(hex(sha1(image))))" "$want_compat" \
	"$(manifest_pcr "$T/compat.manifest.json" sha1 9)"
assert_eq "compat manifest holds PCR 9 sha1 alone" "sha1 9" "$(manifest_list "$T/compat.manifest.json")"
assert_eq "the SeaBIOS stick's manifest holds PCR 4, 5 and 15 in four banks" \
	"$(for p in 4 5 15; do for b in sha1 sha256 sha384 sha512; do printf '%s %s ' $b $p; done; done | sed 's/ $//')" \
	"$(manifest_list "$T/linux.seabios-usb.manifest.json" | tr '\n' ' ' | sed 's/ $//')"

# the boots: NAME FIRMWARE MEDIUM ISO
pair() {
	for b in "$1" "$2"; do
		set -- $b
		mkdir -p "$T/$1"
		# a medium of its own per boot: a writable stick is locked by its QEMU
		cp "$T/$4.iso" "$T/$1/medium.iso"
		boot_iso "$T/$1" "$2" "$3" "$T/$1/c.log" "$T/$1/medium.iso" &
		running="$running $!"
	done
	for p in $running; do wait "$p"; done
	running=""
}
running=""
start=$(date +%s)
# every firmware with every medium, each entry on each firmware, the
# original's parameters once
pair "bios-cd-compat seabios cd compat" "uefi-usb-tboot ovmf usb tboot"
pair "bios-usb-linux seabios usb linux" "uefi-cd-linux ovmf cd linux"
echo "# four boots in $(( $(date +%s) - start )) s"

check_boot() {	# NAME ENTRY(tboot|linux) MANIFEST
	log=$T/$1/c.log
	grep -q ROOT-INIT-DONE "$log.txt" || { tail -40 "$log.txt"; die "$1: the root's init did not finish"; }
	case $2 in
	tboot)
		grep -q "Booting \`measured live, tboot'" "$log.txt" || die "$1: GRUB did not boot the tboot entry"
		grep -q "^TBOOT: transfering control to kernel" "$log.txt" || die "$1: tboot did not start the kernel"
		;;
	linux)
		grep -q "Booting \`measured live, no tboot'" "$log.txt" || die "$1: GRUB did not boot the plain entry"
		if grep -q "^TBOOT:" "$log.txt"; then die "$1: tboot ran in the plain entry"; fi
		;;
	esac
	grep -q "^measured-init: root /dev/loop[0-9]* from /\{0,1\}rootfs.img (ext4, 16777216 bytes, copy=ram, read-only under a tmpfs overlay)\$" \
		"$log.txt" || { grep measured-init "$log.txt"; die "$1: the root was not measured from the medium's rootfs.img"; }
	grep -q "^MOUNT /dev/loop[0-9]* /run/measured/ro ext4 ro" "$log.txt" || { grep MOUNT "$log.txt"; die "$1: the lower root is not the read-only loop device"; }
	grep -q "^MOUNT overlay / overlay" "$log.txt" || die "$1: / is not the overlay"
	grep -q OVERLAY-WRITE-OK "$log.txt" || die "$1: the root is not writable through the overlay"
	grep -q LOWER-READ-ONLY "$log.txt" || die "$1: the lower root is writable"
	manifest_list "$3" | while read -r bank pcr; do
		assert_eq "$1: PCR $pcr $bank = the manifest beside the ISO" "$(manifest_pcr "$3" "$bank" "$pcr")" \
			"$(guest_pcr "$log" "$bank" "$pcr")"
	done
	between "$log" CEL > "$T/$1/cel.json"
	between "$log" FWLOG > "$T/$1/fw.log"
	# Linux gets UEFI's log from its EFI stub; tboot starts the kernel past
	# the stub, so after tboot on UEFI the kernel has no firmware log
	fw=--eventlog
	case "$1 $(stat -c %s "$T/$1/fw.log")" in
	uefi-*-tboot\ 0) fw=""; ok "$1: no firmware log after tboot on UEFI";;
	*\ 0) die "$1: no firmware log";;
	uefi-*-tboot\ *) die "$1: a firmware log after tboot on UEFI: update docs/live-image.md";;
	esac
	"$M" check "$3" ${fw:+"$fw" "$T/$1/fw.log"} --eventlog "$T/$1/cel.json" > "$T/$1/check.txt" ||
		{ cat "$T/$1/check.txt"; die "$1: measured check"; }
	tail -n 1 "$T/$1/check.txt" | grep -qx match || die "$1: check did not say match"
	cmp -s "$T/$4.iso" "$T/$1/medium.iso" || die "$1: the medium changed"
	rm -f "$T/$1/after.img"
	xorriso -osirrox on -indev "$T/$1/medium.iso" -extract /rootfs.img "$T/$1/after.img" >/dev/null 2>&1 ||
		die "$1: cannot extract rootfs.img after the boot"
	cmp -s "$T/root.img" "$T/$1/after.img" || die "$1: rootfs.img changed"
}
for b in "uefi-usb-tboot tboot tboot" "bios-usb-linux linux linux seabios-usb." "uefi-cd-linux linux linux"; do
	set -- $b
	check_boot "$1" "$2" "$T/$3.${4:-}manifest.json" "$3"
	for bank in sha1 sha256 sha384 sha512; do
		assert_eq "$1: PCR 15 $bank = openssl's" "$(eval echo "\$want_$bank")" "$(guest_pcr "$T/$1/c.log" $bank 15)"
	done
	ok "$1: booted, measured from the medium, PCRs = manifest, overlay writable, medium unchanged"
done
zero=$(head -c 32 /dev/zero | od -An -v -tx1 | tr -d ' \n')
for p in 8 9; do
	assert_eq "uefi-cd-linux: PCR $p sha256 is zero (GRUB measures nothing, the stub not the initrd)" "$zero" \
		"$(guest_pcr "$T/uefi-cd-linux/c.log" sha256 $p)"
done
check_boot bios-cd-compat tboot "$T/compat.manifest.json" compat
assert_eq "compat: PCR 9 sha1 = openssl's" "$want_compat" "$(guest_pcr "$T/bios-cd-compat/c.log" sha1 9)"
assert_eq "compat: PCR 15 untouched" "$(head -c 20 /dev/zero | od -An -v -tx1 | tr -d ' \n')" \
	"$(guest_pcr "$T/bios-cd-compat/c.log" sha1 15)"
ok "bios-cd-compat: the original's parameters, PCR 9 = manifest"
# CPU time of the test and everything it ran (QEMU's TCG the bulk of it)
# (times in this shell, not in a pipeline's subshell, which has no children)
times > "$T/times"
sed -n '2s/^/# CPU of the builds and boots (user, system): /p' "$T/times"
