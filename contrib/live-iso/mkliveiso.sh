#!/bin/sh
# Build the measured live image: a hybrid ISO 9660 image (GRUB's
# grub-mkrescue over xorriso) that boots from a CD and from a USB disk, on
# BIOS and on UEFI, with the kernel, an initramfs of measured-init, tboot,
# the root image as /rootfs.img, and the reference manifest `measured
# predict` makes from that root image, written beside the ISO.
# See docs/live-image.md.
#
# Usage: mkliveiso.sh [options] -o ISO --kernel VMLINUZ --rootfs IMAGE|--rootfs-dir DIR
#   -o, --output ISO        the image to write
#   --kernel FILE           the kernel (bzImage)
#   --rootfs FILE           the root file system image (ext2/3/4, squashfs),
#                           copied to the medium as /rootfs.img
#   --rootfs-dir DIR        instead: an ext4 image of DIR's tree made here
#   --installer URL         an installer image: the root (--rootfs-dir) gets
#                           measured, its libraries and an /sbin/init that
#                           attests to the verifier at URL (https://) and
#                           installs the released payload, then reboots
#                           (sfdisk, mkfs.vfat, mcopy, mke2fs too: a root
#                           tree archive is made into a disk image)
#                           (installer-init, docs/live-image.md)
#   --installer-ca FILE     the verifier's CA certificate (PEM; required
#                           with --installer)
#   --installer-payload NAME  the payload asked for (default install)
#   --initrd FILE           an initramfs made by `measured mkinitramfs`;
#                           without it one is built here (--kernel-modules)
#   --kernel-modules DIR    lib/modules/VERSION of the kernel, with modules.dep
#                           (`depmod -b`): the initramfs gets the live modules
#                           (CD, SATA/IDE, USB storage, ISO 9660, loop,
#                           overlay, ext4, squashfs) and every --module
#   --module NAME           one more module for the built initramfs (repeatable)
#   --init FILE             measured-init for the built initramfs (default:
#                           mkinitramfs's own default)
#   --tboot FILE            tboot (default /boot/tboot.gz, Debian's package)
#   --tboot-cmdline STRING  tboot's own command line
#                           (default "logging=serial,memory,vga")
#   --sinit FILE            an Intel SINIT ACM for tboot (repeatable; tboot
#                           picks the one matching the platform), a module
#                           after the initramfs, as /boot/sinit/NAME
#   --no-tboot              no tboot entry (and no tboot on the medium)
#   --default tboot|linux   the menu entry booted when the timeout runs out
#                           (default tboot; linux without --tboot)
#   --timeout SECONDS       the boot menu's timeout (default 5; 0: no menu)
#   --append STRING         more kernel parameters, after the generated ones
#                           (console=ttyS0, the installer's parameters, ...)
#   --compat                the original meta-measured parameters
#                           (measureroot rootimg=rootfs.img rootimgpcr=N):
#                           SHA-1 of the hex text into PCR 9 by default
#   --pcr N                 the root PCR (measured.pcr= or rootimgpcr=;
#                           default measured-init's: 15, or 9 with --compat)
#   --label VOLID           the ISO 9660 volume label measured-init finds the
#                           medium by (default MEASURED_LIVE)
#   --bank LIST             banks to predict (default sha1,sha256,sha384,sha512;
#                           --compat: sha1)
#   --manifest FILE         where the manifest goes (default: ISO with .iso
#                           replaced by .manifest.json)
#   --bios-usb-manifest FILE  where the manifest of a stick booted by
#                           SeaBIOS goes (the root PCR and PCR 4 and 5 from the
#                           image's MBR; default: ISO with .iso replaced by
#                           .seabios-usb.manifest.json)
#   --measured BIN          the measured command (default: measured in PATH,
#                           else build/measured of this tree)
#   --epoch N               SOURCE_DATE_EPOCH for the ISO's times
#                           (default 1700000000)
# Exit status: 0 built, 2 usage, 3 a tool failed or an input is missing.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
ME=mkliveiso.sh

usage() {	# EXIT_CODE: 0 for --help (on stdout), 2 for a usage error
	if [ "$1" = 0 ]; then sed -n '9,66s/^# \{0,1\}//p' "$0"; else sed -n '9,66s/^# \{0,1\}//p' "$0" >&2; fi
	exit "$1"
}
die() { echo "$ME: $*" >&2; exit 3; }

ISO="" KERNEL="" ROOTFS="" INITRD="" KMODS="" MODULES="" INIT="" SINITS=""
TBOOT=/boot/tboot.gz TBOOT_CMDLINE="logging=serial,memory,vga" WITH_TBOOT=yes
DEFAULT="" TIMEOUT=5 APPEND="" COMPAT=no PCR="" LABEL=MEASURED_LIVE
BANKS="" MANIFEST="" USBMANIFEST="" MEASURED="" EPOCH=1700000000
ROOTDIR="" INSTALLER="" INSTALLER_CA="" INSTALLER_PAYLOAD=install
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage 0;;
	--no-tboot) WITH_TBOOT=no; shift; continue;;
	--compat) COMPAT=yes; shift; continue;;
	esac
	[ $# -ge 2 ] || { echo "$ME: $1 needs a value" >&2; exit 2; }
	case "$1" in
	-o|--output) ISO=$2;;
	--kernel) KERNEL=$2;;
	--rootfs) ROOTFS=$2;;
	--rootfs-dir) ROOTDIR=$2;;
	--installer) INSTALLER=$2;;
	--installer-ca) INSTALLER_CA=$2;;
	--installer-payload) INSTALLER_PAYLOAD=$2;;
	--initrd) INITRD=$2;;
	--kernel-modules) KMODS=$2;;
	--module) MODULES="$MODULES $2";;
	--init) INIT=$2;;
	--tboot) TBOOT=$2;;
	--tboot-cmdline) TBOOT_CMDLINE=$2;;
	--sinit) case "$2" in *[!A-Za-z0-9._/+-]*) echo "$ME: --sinit: a plain path (letters, digits, . _ / + -), not '$2'" >&2; exit 2;; esac
		SINITS="$SINITS $2";;
	--default) DEFAULT=$2;;
	--timeout) TIMEOUT=$2;;
	--append) APPEND=$2;;
	--pcr) PCR=$2;;
	--label) LABEL=$2;;
	--bank) BANKS=$2;;
	--manifest) MANIFEST=$2;;
	--bios-usb-manifest) USBMANIFEST=$2;;
	--measured) MEASURED=$2;;
	--epoch) EPOCH=$2;;
	*) echo "$ME: unknown option $1" >&2; exit 2;;
	esac
	shift 2
done
[ -n "$ISO" ] && [ -n "$KERNEL" ] && [ -n "$ROOTFS$ROOTDIR" ] || usage 2
[ -z "$ROOTFS" ] || [ -z "$ROOTDIR" ] || { echo "$ME: --rootfs or --rootfs-dir, not both" >&2; exit 2; }
if [ -n "$INSTALLER" ]; then
	[ -n "$ROOTDIR" ] || { echo "$ME: --installer needs --rootfs-dir (the agent is added to the tree)" >&2; exit 2; }
	[ -n "$INSTALLER_CA" ] || { echo "$ME: --installer needs --installer-ca" >&2; exit 2; }
	# written into a shell file the image's init sources: no character the shell interprets
	case "$INSTALLER" in https://*) ;; *) echo "$ME: --installer: an https:// URL, not '$INSTALLER'" >&2; exit 2;; esac
	case "$INSTALLER" in *[!A-Za-z0-9.:/_%~-]*) echo "$ME: --installer: letters, digits and . : / _ % ~ - only" >&2; exit 2;; esac
	case "$INSTALLER_PAYLOAD" in ''|*[!A-Za-z0-9._-]*) echo "$ME: --installer-payload: letters, digits, . _ - only, not '$INSTALLER_PAYLOAD'" >&2; exit 2;; esac
elif [ -n "$INSTALLER_CA" ]; then
	echo "$ME: --installer-ca goes with --installer" >&2; exit 2
fi
[ -n "$INITRD" ] || [ -n "$KMODS" ] || { echo "$ME: --initrd or --kernel-modules is required" >&2; exit 2; }
[ -z "$INITRD" ] || [ -z "$KMODS$MODULES" ] || { echo "$ME: --initrd and --kernel-modules/--module exclude each other" >&2; exit 2; }
[ -n "$DEFAULT" ] || { DEFAULT=tboot; [ $WITH_TBOOT = yes ] || DEFAULT=linux; }
case "$DEFAULT" in
linux) ;;
tboot) [ $WITH_TBOOT = yes ] || { echo "$ME: --default tboot with --no-tboot" >&2; exit 2; };;
*) echo "$ME: --default: tboot or linux, not '$DEFAULT'" >&2; exit 2;;
esac
case "$TIMEOUT" in ''|*[!0-9]*) echo "$ME: --timeout: seconds, not '$TIMEOUT'" >&2; exit 2;; esac
case "$PCR" in ''|8|9|1[0-5]) ;; *) echo "$ME: --pcr: 8-15 (measured-init's rule), not '$PCR'" >&2; exit 2;; esac
# ISO 9660 d-characters, at most 32: what the volume descriptor holds and
# measured-init's LABEL= compares byte for byte
case "$LABEL" in ''|*[!A-Z0-9_]*) echo "$ME: --label: A-Z, 0-9 and _ only, not '$LABEL'" >&2; exit 2;; esac
[ ${#LABEL} -le 32 ] || { echo "$ME: --label: at most 32 characters" >&2; exit 2; }
case "$APPEND$TBOOT_CMDLINE" in *[\"\'\\\$\;\`]*|*'
'*) echo "$ME: --append/--tboot-cmdline: no quotes, backslashes, \$, ; or newlines (GRUB would interpret them)" >&2; exit 2;; esac
[ -n "$MANIFEST" ] || MANIFEST=${ISO%.iso}.manifest.json
[ -n "$USBMANIFEST" ] || USBMANIFEST=${ISO%.iso}.seabios-usb.manifest.json
if [ -z "$MEASURED" ]; then
	MEASURED=$(command -v measured 2>/dev/null || echo "$SRC/build/measured")
fi
for f in "$KERNEL" ${ROOTFS:+"$ROOTFS"} ${INITRD:+"$INITRD"} ${INSTALLER_CA:+"$INSTALLER_CA"}; do
	[ -f "$f" ] || [ -b "$f" ] || die "$f: no such file"
done
[ -z "$ROOTDIR" ] || [ -d "$ROOTDIR" ] || die "$ROOTDIR: no such directory"
[ $WITH_TBOOT = no ] || [ -f "$TBOOT" ] || die "$TBOOT: no such file (package tboot, or --no-tboot)"
[ $WITH_TBOOT = yes ] || [ -z "$SINITS" ] || { echo "$ME: --sinit with --no-tboot" >&2; exit 2; }
for f in $SINITS; do [ -f "$f" ] || die "$f: no such file"; done
[ -x "$MEASURED" ] || die "$MEASURED: not executable (build measured, or --measured)"
[ -d "$(dirname "$ISO")" ] || die "$(dirname "$ISO"): no such directory"
ISO=$(cd "$(dirname "$ISO")" && pwd)/$(basename "$ISO")
case "$BANKS" in *[!a-z0-9,_]*) echo "$ME: --bank: a comma-separated list, not '$BANKS'" >&2; exit 2;; esac
case "$MEASURED" in /*) ;; */*) MEASURED=$(cd "$(dirname "$MEASURED")" && pwd)/$(basename "$MEASURED");; esac
for t in grub-mkrescue xorriso mformat; do
	command -v $t >/dev/null || die "$t is not installed (packages grub-common, xorriso, mtools)"
done
for p in i386-pc x86_64-efi; do
	[ -d /usr/lib/grub/$p ] || die "/usr/lib/grub/$p is missing (packages grub-pc-bin, grub-efi-amd64-bin)"
done

# add_installer ROOT: measured and every library it loads (tctildr opens
# the device TCTI by name at run time, so that one is named here), the
# verifier's CA, installer-init as /sbin/init and its configuration
add_installer() {
	r=$1
	command -v ldd >/dev/null && command -v ldconfig >/dev/null || die "ldd and ldconfig are needed (package libc-bin)"
	mkdir -p "$r/usr/bin" "$r/sbin" "$r/etc/measured" "$r/dev" "$r/proc" "$r/sys" "$r/run" "$r/tmp"
	cp "$MEASURED" "$r/usr/bin/measured"
	tcti=$(ldconfig -p | sed -n 's/.*libtss2-tcti-device.so.0 .*=> \(.*\)/\1/p' | head -n 1)
	[ -n "$tcti" ] || die "libtss2-tcti-device.so.0 not found (package libtss2-tcti-device0)"
	# the tools a root tree archive's install runs (agent/install_archive.c)
	tools=""
	for t in sfdisk mkfs.vfat mcopy mke2fs; do
		p=$(command -v $t) || die "$t is not installed (packages fdisk, dosfstools, mtools, e2fsprogs)"
		tools="$tools $p"
	done
	libs=$( (ldd "$MEASURED" && ldd "$tcti" && echo "x => $tcti (0)" && for t in $tools; do ldd "$t"; done) |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p;s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' | sort -u) ||
		die "ldd $MEASURED failed"
	for lib in $libs; do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	for t in $tools; do cp -L "$t" "$r/usr/bin/"; done
	# mtools converts names through iconv to code page 850: glibc's gconv
	# configuration and that one module, where the C library looks for them
	# (its real path: /lib may be a link to /usr/lib here, not in the root)
	gconv=$(readlink -f "$(dirname "$(ldconfig -p | sed -n 's/.*libc\.so\.6 .*=> \(.*\)/\1/p' | head -n 1)")/gconv")
	[ -f "$gconv/IBM850.so" ] || die "$gconv/IBM850.so missing (package libc6)"
	mkdir -p "$r$gconv"
	cp -r "$gconv/gconv-modules" "$gconv/IBM850.so" "$r$gconv/"
	[ ! -d "$gconv/gconv-modules.d" ] || cp -r "$gconv/gconv-modules.d" "$r$gconv/"
	[ ! -f "$gconv/gconv-modules.cache" ] || cp "$gconv/gconv-modules.cache" "$r$gconv/"
	[ ! -f /etc/mke2fs.conf ] || [ -e "$r/etc/mke2fs.conf" ] || cp /etc/mke2fs.conf "$r/etc/mke2fs.conf"
	cp "$INSTALLER_CA" "$r/etc/measured/ca.pem"
	rm -f "$r/sbin/init"
	cp "$HERE/installer-init" "$r/sbin/init"
	cp "$HERE/udhcpc.script" "$r/etc/measured/udhcpc.script"
	chmod 755 "$r/sbin/init" "$r/etc/measured/udhcpc.script"
	printf 'SERVER=%s\nPAYLOAD=%s\n' "$INSTALLER" "$INSTALLER_PAYLOAD" > "$r/etc/measured/installer.conf"
}

W=$(mktemp -d "${TMPDIR:-/tmp}/mkliveiso.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
mkdir -p "$W/iso/boot/grub"

# the initramfs: measured-init and the drivers that find the medium
if [ -z "$INITRD" ]; then
	LIVE_MODULES="isofs sr_mod cdrom ata_piix ahci sd_mod usb-storage uas xhci-pci ehci-pci uhci-hcd
		loop overlay ext4 crc32c_generic squashfs vfat nls_cp437 nls_ascii"
	set --
	for m in $LIVE_MODULES $MODULES; do set -- "$@" -m "$m"; done
	"$MEASURED" mkinitramfs -o "$W/iso/boot/initrd.img" -k "$KMODS" ${INIT:+-i "$INIT"} "$@" >/dev/null ||
		die "measured mkinitramfs failed"
else
	cp "$INITRD" "$W/iso/boot/initrd.img"
fi
cp "$KERNEL" "$W/iso/boot/vmlinuz"
[ $WITH_TBOOT = no ] || cp "$TBOOT" "$W/iso/boot/tboot.gz"
SINIT_MODS=""
for f in $SINITS; do
	mkdir -p "$W/iso/boot/sinit"
	n=$(basename "$f")
	[ ! -e "$W/iso/boot/sinit/$n" ] || die "--sinit: two files named $n"
	cp "$f" "$W/iso/boot/sinit/$n"
	SINIT_MODS="$SINIT_MODS /boot/sinit/$n"
done
if [ -n "$ROOTDIR" ]; then
	command -v mke2fs >/dev/null || die "mke2fs is not installed (package e2fsprogs)"
	cp -a "$ROOTDIR" "$W/root" || die "cannot copy $ROOTDIR"
	[ -z "$INSTALLER" ] || add_installer "$W/root"
	# the tree plus a quarter and 8 MiB for the file system's own structures
	kib=$(du -sk "$W/root" | cut -f1)
	mke2fs -q -t ext4 -L measuredroot -E root_owner=0:0 -d "$W/root" "$W/iso/rootfs.img" >/dev/null \
		"$(( kib + kib / 4 + 8192 ))k" || die "mke2fs -d $ROOTDIR failed"
	rm -rf "$W/root"
else
	cp "$ROOTFS" "$W/iso/rootfs.img"
fi

# the kernel's parameters and the prediction of what measured-init extends
if [ $COMPAT = yes ]; then
	ROOTARGS="measureroot rootimg=rootfs.img${PCR:+ rootimgpcr=$PCR}"
	set -- --rootfs-compat --bank "${BANKS:-sha1}"
else
	ROOTARGS="measured.root=LABEL=$LABEL:/rootfs.img${PCR:+ measured.pcr=$PCR}"
	set -- --bank "${BANKS:-sha1,sha256,sha384,sha512}"
fi
# USB sticks can take seconds to appear: more than the default 10 s
CMDLINE="$ROOTARGS measured.timeout=30${APPEND:+ $APPEND}"
# (from the medium's directory: the event names the file as on the medium)
predict() {	# OUT [more predict options]
	out=$1
	shift
	(cd "$W/iso" && "$MEASURED" predict --rootfs rootfs.img ${PCR:+--rootfs-pcr "$PCR"} $PREDICT "$@" -o "$out") ||
		die "measured predict failed"
}
PREDICT="$*"
predict "$W/manifest.json"

# One menu for both firmware kinds.  tboot is a multiboot kernel: GRUB's
# multiboot (BIOS) or multiboot2 (UEFI, which tboot 1.10 needs there)
# loads it with the kernel and the initramfs as modules; a module's
# command line is what follows its path (tboot 1.10 no longer drops a
# first word, Debian's 20_linux_tboot writes none).
default_id=measured-$DEFAULT
cat > "$W/iso/boot/grub/grub.cfg" <<CFG
# measured live image (contrib/live-iso/mkliveiso.sh)
if serial --unit=0 --speed=115200; then
	terminal_input --append serial
	terminal_output --append serial
fi
set default=$default_id
set timeout=$TIMEOUT
CFG
if [ $WITH_TBOOT = yes ]; then
	cat >> "$W/iso/boot/grub/grub.cfg" <<CFG

menuentry 'measured live, tboot' --id measured-tboot {
	if [ "\$grub_platform" = efi ]; then
		multiboot2 /boot/tboot.gz $TBOOT_CMDLINE
		module2 /boot/vmlinuz $CMDLINE
		module2 /boot/initrd.img
$(for m in $SINIT_MODS; do printf '\t\tmodule2 %s\n' "$m"; done)
	else
		multiboot /boot/tboot.gz $TBOOT_CMDLINE
		module /boot/vmlinuz $CMDLINE
		module /boot/initrd.img
$(for m in $SINIT_MODS; do printf '\t\tmodule %s\n' "$m"; done)
	fi
}
CFG
fi
cat >> "$W/iso/boot/grub/grub.cfg" <<CFG

menuentry 'measured live, no tboot' --id measured-linux {
	if [ "\$grub_platform" = efi ]; then
		linuxefi /boot/vmlinuz $CMDLINE
		initrdefi /boot/initrd.img
	else
		linux /boot/vmlinuz $CMDLINE
		initrd /boot/initrd.img
	fi
}
CFG

# grub-mkrescue: El Torito for BIOS (i386-pc) and UEFI (an EFI System
# Partition image), an MBR and a GPT for booting the same bytes as a disk
export SOURCE_DATE_EPOCH=$EPOCH
rm -f "$ISO"
grub-mkrescue -o "$ISO" --locales= --themes= --fonts= "$W/iso" -- -volid "$LABEL" \
	> "$W/mkrescue.log" 2>&1 || { cat "$W/mkrescue.log" >&2; die "grub-mkrescue failed"; }
# SeaBIOS booting the image as a disk measures its MBR (PCR 4) and
# partition table (PCR 5): those follow from the ISO's first sector
predict "$W/usb.json" --bios-disk "$ISO"
cp "$W/manifest.json" "$MANIFEST"
cp "$W/usb.json" "$USBMANIFEST"
echo "$ME: $ISO ($(stat -c %s "$ISO") bytes), default entry $default_id"
[ -z "$INSTALLER" ] || echo "$ME: installer: verifier $INSTALLER, payload $INSTALLER_PAYLOAD"
echo "$ME: kernel parameters: $CMDLINE"
echo "$ME: manifest $MANIFEST (every boot path), $USBMANIFEST (a stick on SeaBIOS)"
