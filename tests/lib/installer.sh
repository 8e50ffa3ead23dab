# The installer booted from the live ISO (tests/boot/installer.sh,
# scripts/demo-install.sh); sourced after tests/lib/common.sh,
# tests/boot/lib.sh, tests/lib/serve.sh, tests/lib/chains.sh (chains_fetch
# done: make_uki) and tests/lib/liveiso.sh.

INSTALL_MARKER=INSTALLED-SYSTEM-MARKER-7f3a
# the ISO's kernel parameters after mkliveiso.sh's own: the target disk (the
# machine's one virtio disk), and a refused machine powers off instead of halting
INSTALL_APPEND="console=ttyS0 measured.install.target=/dev/vda measured.install.fail=poweroff"

# install_package DIR OUT: the install package: a GPT disk image with one
# ESP holding \EFI\BOOT\BOOTX64.EFI, a UKI of Debian's kernel, a busybox
# initramfs that prints $INSTALL_MARKER and powers off, and "console=ttyS0
# quiet"; DIR is scratch space.  Sets PKG_SIZE and PKG_SHA (sha256sum's).
install_package() {
	d=$1
	mkdir -p "$d/sys/bin" "$d/esp/EFI/BOOT"
	cp "$(command -v busybox)" "$d/sys/bin/busybox"
	cat > "$d/sys/init" <<SYSINIT
#!/bin/busybox sh
/bin/busybox mkdir -p /dev /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec >/dev/ttyS0 2>&1
echo $INSTALL_MARKER
/bin/busybox poweroff -f
SYSINIT
	chmod 755 "$d/sys/init"
	(cd "$d/sys" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -n > "$d/sys.cpio.gz") ||
		die "marker initramfs"
	printf 'ID=installed\n' > "$d/osrel"
	printf 'console=ttyS0 quiet' > "$d/sys.cmdline"
	make_uki "$d/esp/EFI/BOOT/BOOTX64.EFI" "$d/osrel" "$d/sys.cmdline" "$KERNEL_IMAGE" "$d/sys.cpio.gz"
	esp_image "$d/esp" "$d/esp.img"
	esp_s=$(( ($(stat -c %s "$d/esp.img") + 511) / 512 ))
	rm -f "$2"
	truncate -s $(( (2048 + esp_s + 34) * 512 )) "$2"
	sfdisk -q "$2" >/dev/null <<PART || die "sfdisk"
label: gpt
label-id: 5A6B7C8D-1111-2222-3333-444455557777
start=2048, size=$esp_s, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=0F0E0D0C-1111-2222-3333-000000000011
PART
	dd if="$d/esp.img" of="$2" bs=1M oflag=seek_bytes seek=$((2048 * 512)) conv=notrunc status=none
	# shellcheck disable=SC2034 # for the caller
	PKG_SIZE=$(stat -c %s "$2")
	# shellcheck disable=SC2034
	PKG_SHA=$(sha256sum < "$2" | cut -d' ' -f1)
}

# install_archive DIR OUT: a root tree archive (POSIX ustar, GNU tar) whose
# boot/efi/ is install_package's ESP tree (DIR/esp: run install_package
# with the same DIR first) and whose root holds /etc/installed-from
# ("root-archive") and a busybox; sets ARC_SHA (sha256sum's).
install_archive() {
	d=$1
	mkdir -p "$d/tree/etc" "$d/tree/bin" "$d/tree/boot/efi"
	printf 'root-archive\n' > "$d/tree/etc/installed-from"
	cp "$(command -v busybox)" "$d/tree/bin/busybox"
	ln -sf busybox "$d/tree/bin/sh"
	cp -r "$d/esp/." "$d/tree/boot/efi/"
	tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner -C "$d/tree" -cf "$2" . ||
		die "tar --format=ustar"
	# shellcheck disable=SC2034 # for the caller
	ARC_SHA=$(sha256sum < "$2" | cut -d' ' -f1)
}

# installer_iso ISO ROOT_DIR: an installer live ISO (mkliveiso.sh
# --installer, verifier https://$AGENT_VERIFIER_IP, its CA $T/ca.crt from
# tls_server_for) from make_root's busybox tree in ROOT_DIR with the
# applets installer-init needs; the network card's and the virtio disk's
# modules in the initramfs; the plain entry (on UEFI it keeps the firmware
# log), $INSTALL_APPEND.
installer_iso() {
	make_root "$2"
	for a in ip udhcpc head halt; do ln -sf busybox "$2/bin/$a"; done
	# shellcheck disable=SC2046
	live_iso "$1" "$2" --default linux $(for m in virtio_pci virtio_blk $AGENT_MODULES; do
		printf -- '--module %s ' "$m"; done) --installer "https://$AGENT_VERIFIER_IP" --installer-ca "$T/ca.crt" \
		--append "$INSTALL_APPEND"
}

# iso_change_rootfs GOOD_ISO BAD_ISO: BAD_ISO is GOOD_ISO with the last
# byte of /rootfs.img changed in place (where xorriso says the file lies).
iso_change_rootfs() {
	lba=$(xorriso -indev "$1" -find /rootfs.img -exec report_lba -- 2>/dev/null |
		sed -n 's/^File data lba: *0 *, *\([0-9]*\) *, *[0-9]* *, *\([0-9]*\) *,.*rootfs.img.*$/\1 \2/p')
	[ -n "$lba" ] || die "xorriso does not report where rootfs.img lies"
	# shellcheck disable=SC2086
	set -- "$1" "$2" $lba
	off=$(( $3 * 2048 + $4 - 1 ))
	cp "$1" "$2"
	last=$(od -An -tu1 -j "$off" -N1 "$2" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" | dd of="$2" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

# boot_installer DIR LOG ISO TARGET_DRIVE [QEMU_EXTRA...]: q35 + OVMF + a
# fresh swtpm, ISO as a read-only SATA CD (second in the boot order),
# TARGET_DRIVE (a file, and -drive options after a comma) as the virtio
# disk /dev/vda (first in the boot order: empty, the firmware passes to the
# CD); DIR its scratch directory; $BOOT_QEMU_EXTRA (agent_net's network).
# The machine may reboot (into the installed disk); returns when QEMU exits.
boot_installer() {
	(
	T=$1 PIDS="" log=$2 iso=$3 target=$4
	shift 4
	cp "$OVMF_VARS" "$T/vars.fd"
	tpm_for_qemu medium
	# a generous limit: under a loaded machine's TCG the boot, the attestation,
	# the read-back of the package and the second boot take minutes
	# shellcheck disable=SC2086
	timeout 600 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none \
		-serial file:"$log" -machine q35 -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
		-drive if=pflash,format=raw,file="$T/vars.fd" \
		-chardev socket,id=chrtpm,path="$TPM_SOCK" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 $BOOT_QEMU_EXTRA "$@" \
		-drive if=none,id=cd,file="$iso",media=cdrom,readonly=on,format=raw \
		-device ide-cd,drive=cd,bus=ide.1,bootindex=1 \
		-drive if=none,id=disk0,file="$target",format=raw -device virtio-blk-pci,drive=disk0,bootindex=0 \
		>"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	)
}
