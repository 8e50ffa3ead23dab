#!/bin/sh
# The measured live image: contrib/live-iso/mkliveiso.sh builds a hybrid
# ISO (a busybox root image as /rootfs.img, Debian's kernel, measured-init,
# tboot) and its manifests; QEMU (TCG) boots it as a USB stick on SeaBIOS
# with swtpm through the tboot entry (no TXT under QEMU: tboot says so and
# starts the kernel); prints what tboot and measured-init did, the guest's
# PCRs against the manifest written beside the ISO, and measured check's
# verdict on the guest's logs.  See docs/live-image.md.
# Usage: scripts/demo-live.sh [BUILDDIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
export MEASURED_BIN=$B/measured MEASURED_SRCDIR=$SRC MEASURED_INIT=$B/measured-init
[ -x "$MEASURED_BIN" ] && [ -x "$MEASURED_INIT" ] || { echo "build first: make" >&2; exit 1; }
sh "$SRC/scripts/deps.sh"
. "$SRC/tests/lib/common.sh"
. "$SRC/tests/boot/lib.sh"
. "$SRC/tests/lib/liveiso.sh"
boot_prereqs
echo "== root image, live ISO"
make_root "$T/root"
make_image "$T/root" "$T/root.img" >/dev/null
live_iso "$T/live.iso" "$T/root.img" --default tboot
sed 's/^/  /' "$T/live.iso.build.log"
echo "== booting the ISO as a USB stick on SeaBIOS with swtpm (TCG, takes a while)"
mkdir -p "$T/boot"
boot_iso "$T/boot" seabios usb "$T/c.log" "$T/live.iso"
grep -a -o "Booting \`[^']*'" "$T/c.log.txt" | head -n 1 | sed 's/^/  GRUB: /'
grep -E '^(TBOOT: (command line|TXT|SINIT|transfering)|measured-init:)' "$T/c.log.txt" | sed 's/^/  /'
grep -q ROOT-INIT-DONE "$T/c.log.txt" || { echo "the boot did not reach the root" >&2; exit 1; }
echo "== the guest's PCRs against $(basename "$T/live.seabios-usb.manifest.json")"
manifest_list "$T/live.seabios-usb.manifest.json" | grep ^sha256 | while read -r bank pcr; do
	want=$(manifest_pcr "$T/live.seabios-usb.manifest.json" "$bank" "$pcr")
	got=$(guest_pcr "$T/c.log" "$bank" "$pcr")
	[ "$want" = "$got" ] && r=equal || r=DIFFERENT
	echo "  $bank PCR $pcr: $r  $got"
done
between "$T/c.log" FWLOG > "$T/fw.log"
between "$T/c.log" CEL > "$T/cel.json"
echo "== measured check (firmware log + measured-init's CEL log)"
rc=0
"$M" check "$T/live.seabios-usb.manifest.json" --eventlog "$T/fw.log" --eventlog "$T/cel.json" > "$T/check.txt" || rc=$?
sed 's/^/  /' "$T/check.txt"
if [ $rc = 0 ]; then echo "match"; else echo "MISMATCH"; exit 1; fi
