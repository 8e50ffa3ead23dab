#!/bin/sh
# Debian 12's real Secure Boot chain, predicted before it boots: shim and
# GRUB (signed), Debian's signed kernel and an initramfs from `measured
# mkinitramfs` on a GPT disk; `measured predict --shim-grub` reads only the
# ESP's files and OVMF's variable store (Microsoft's keys), then QEMU boots
# the disk on OVMF with Secure Boot and swtpm (TCG, about half a minute),
# and the guest's PCR 4, 7, 8, 9 and 14 are compared with the prediction; with
# the guest's firmware log for the platform's PCRs, `measured check` then
# compares every event.  Prints "match" at the end.
# Usage: scripts/demo-chain.sh [BUILDDIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
export MEASURED_BIN=$B/measured MEASURED_SRCDIR=$SRC MEASURED_INIT=$B/measured-init
[ -x "$MEASURED_BIN" ] && [ -x "$MEASURED_INIT" ] || { echo "build first: make" >&2; exit 1; }
. "$SRC/tests/lib/common.sh"
. "$SRC/tests/boot/lib.sh"
. "$SRC/tests/lib/chains.sh"
boot_prereqs
chains_fetch
echo "== ESP: Debian's signed shim and GRUB, kernel $KERNEL_VER, initramfs; root image"
make_root "$T/root"
make_image "$T/root" "$T/root.img" >/dev/null
make_initramfs "$T/initrd.img"
E=$T/esp
mkdir -p "$E/EFI/BOOT" "$E/EFI/debian"
cp "$SHIM" "$E/EFI/BOOT/BOOTX64.EFI"
cp "$GRUBX64" "$E/EFI/BOOT/grubx64.efi"
cp "$MM" "$E/EFI/BOOT/mmx64.efi"
cp "$KERNEL_IMAGE" "$E/vmlinuz"
cp "$T/initrd.img" "$E/initrd.img"
printf 'set timeout=0\nmenuentry Debian {\n\tlinux /vmlinuz console=ttyS0 quiet measured.root=/dev/vda2\n\tinitrd /initrd.img\n}\n' \
	> "$E/EFI/debian/grub.cfg"
(cd "$E" && find . -type f | sort | sed 's/^\./  /')
cp "$OVMF_MS_VARS" "$T/vars.fd"
echo "== predicted before the boot, from the files and the variable store"
"$M" predict --bank sha256 --shim-grub --esp "$E" --efi-vars "$T/vars.fd" --show | tee "$T/pred.txt" | sed 's/^/  /'
esp_image "$E" "$T/esp.img"
gpt_disk "$T/disk.img" "$T/esp.img" "$T/root.img"
echo "== booting the disk on OVMF with Secure Boot and swtpm (TCG, takes a while)"
boot_disk secboot "$T/c.log" "$T/disk.img" "$T/vars.fd"
echo "== the guest's PCRs (sha256)"
bad=0
while read -r bank pcr hex; do
	got=$(guest_pcr "$T/c.log" "$bank" "$pcr")
	if [ "$got" = "$hex" ]; then echo "  PCR $pcr: $got  = predicted"; else echo "  PCR $pcr: $got  != $hex"; bad=1; fi
done < "$T/pred.txt"
echo "== measured check: prediction with the guest's firmware log, event by event"
"$M" predict --bank sha256 --shim-grub --esp "$E" --efi-vars "$OVMF_MS_VARS" --firmware-log "$T/c.log.fw" -o "$T/m.json"
"$M" check "$T/m.json" --eventlog "$T/c.log.fw" | sed 's/^/  /'
"$M" check "$T/m.json" --eventlog "$T/c.log.fw" >/dev/null || bad=1
if [ $bad = 0 ]; then echo "match"; else echo "MISMATCH"; exit 1; fi
