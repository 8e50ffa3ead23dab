#!/bin/sh
# The reference measured image boot: a busybox root image, an initramfs
# from `measured mkinitramfs`, swtpm, Debian's kernel on OVMF under QEMU
# (TCG); prints the rootfs PCR read in the guest, the value computed on the
# host, the event logs replayed, and "match".
# Usage: scripts/demo-boot.sh [BUILDDIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
export MEASURED_BIN=$B/measured MEASURED_SRCDIR=$SRC MEASURED_INIT=$B/measured-init
[ -x "$MEASURED_BIN" ] && [ -x "$MEASURED_INIT" ] || { echo "build first: make" >&2; exit 1; }
. "$SRC/tests/lib/common.sh"
. "$SRC/tests/boot/lib.sh"
boot_prereqs
echo "== root image, initramfs"
make_root "$T/root"
make_image "$T/root" "$T/root.img" >/dev/null
make_initramfs "$T/initrd.img"
ls -l "$T/root.img" "$T/initrd.img" | awk '{print "  " $5, $9}'
echo "== booting Debian $KERNEL_VER on OVMF with swtpm (TCG, takes a while)"
boot ovmf "$T/c.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
grep '^measured-init:' "$T/c.log.txt" | sed 's/^/  /'
grep -q ROOT-INIT-DONE "$T/c.log.txt" || { echo "the boot did not reach the root" >&2; exit 1; }
host=$("$M" hash -b sha256 "$T/root.img" | cut -d' ' -f2)
want=$(host_extend sha256 "$host")
got=$(guest_pcr "$T/c.log" sha256 15)
echo "== PCR 15 (sha256)"
echo "  guest: $got"
echo "  host:  $want   (measured hash + extend from zero)"
between "$T/c.log" FWLOG > "$T/fw.log"
between "$T/c.log" CEL > "$T/cel.json"
echo "== our CEL log"
tr -d '\036' < "$T/cel.json" | sed 's/^/  /'
echo "== firmware log + CEL log replayed (sha256)"
"$M" eventlog replay --bank sha256 "$T/fw.log" "$T/cel.json" | sed 's/^/  /'
replayed=$("$M" eventlog replay --bank sha256 "$T/fw.log" "$T/cel.json" | sed -n 's/^sha256 15 //p')
if [ "$got" = "$want" ] && [ "$replayed" = "$got" ]; then echo "match"; else echo "MISMATCH"; exit 1; fi
