# The measured live image in boot tests (sourced after tests/lib/common.sh
# and tests/boot/lib.sh).
#
# live_iso OUT_ISO ROOT_IMG|ROOT_DIR [mkliveiso.sh options...]: build the live image
# with contrib/live-iso/mkliveiso.sh from Debian's kernel (kernel_fetch),
# this tree's measured and measured-init, a serial console and no menu
# timeout (a directory: --rootfs-dir, the image made by the builder);
# the manifests land beside it (OUT without .iso, .manifest.json
# and .seabios-usb.manifest.json).  Options given here come later and win:
# an --append of the caller's replaces "console=ttyS0" (repeat it there).
# More initramfs modules (a network card for the agent): --module NAME;
# --initrd cannot be combined with the --kernel-modules given here.
live_iso() {
	iso=$1 img=$2 rootopt=--rootfs
	shift 2
	[ -d "$img" ] && rootopt=--rootfs-dir
	sh "$MEASURED_SRCDIR/contrib/live-iso/mkliveiso.sh" -o "$iso" $rootopt "$img" \
		--kernel "$KERNEL_IMAGE" --kernel-modules "$KERNEL_MODDIR" --init "$MEASURED_INIT" \
		--measured "$M" --timeout 0 --append "console=ttyS0" "$@" > "$iso.build.log" 2>&1 ||
		{ cat "$iso.build.log"; die "mkliveiso.sh failed"; }
}

# boot_iso DIR FIRMWARE(seabios|ovmf) MEDIUM(cd|usb) LOG ISO: boot the ISO
# alone, as a CD (an IDE CD on SeaBIOS's i440fx, a SATA CD on q35) or as a
# writable USB stick (usb-storage on an xHCI controller, the stick first in
# the boot order), with a fresh swtpm; DIR is the boot's scratch directory,
# so boots can run at the same time.  $BOOT_QEMU_EXTRA: more QEMU options.
boot_iso() {
	(
	T=$1 PIDS="" fw=$2 medium=$3 log=$4 iso=$5
	# shellcheck disable=SC2154 # p: the trap's own loop variable
	trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT
	set --
	if [ "$fw" = ovmf ]; then
		cp "$OVMF_VARS" "$T/vars.fd"
		set -- -machine q35 -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
			-drive if=pflash,format=raw,file="$T/vars.fd"
	fi
	case "$medium" in
	cd) set -- "$@" -drive file="$iso",media=cdrom,readonly=on,format=raw -boot d;;
	usb) set -- "$@" -device qemu-xhci,id=xhci -drive if=none,id=stick,file="$iso",format=raw \
		-device usb-storage,bus=xhci.0,drive=stick,bootindex=1;;
	*) die "boot_iso: cd or usb, not $medium";;
	esac
	tpm_for_qemu "$(basename "$log" .log)"
	# shellcheck disable=SC2086
	timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none \
		-no-reboot -serial file:"$log" "$@" ${BOOT_QEMU_EXTRA:-} \
		-chardev socket,id=chrtpm,path="$TPM_SOCK" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 >"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	)
}

# manifest_pcr MANIFEST BANK N: the value the manifest expects, empty if none.
manifest_pcr() {
	python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
for p in m["pcrs"]:
    if p["pcr"] == int(sys.argv[3]) and sys.argv[2] in p["values"]:
        print(p["values"][sys.argv[2]])' "$1" "$2" "$3"
}

# manifest_list MANIFEST: "BANK PCR" of every value the manifest holds.
manifest_list() {
	python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
for p in sorted(m["pcrs"], key=lambda p: p["pcr"]):
    for b in sorted(p["values"]):
        print(b, p["pcr"])' "$1"
}
