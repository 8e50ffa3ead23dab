#!/bin/sh
# Build the browser VM: a read-only root image of Debian 12 packages
# (mmdebstrap), the initramfs (measured mkinitramfs) and the reference
# manifest predicted from them (measured predict).  See docs/browser-vm.md.
#
# Usage: build-image.sh [options] OUTDIR
#   --measured BIN      the measured command (default: build/measured)
#   --init BIN          measured-init (default: build/measured-init)
#   --kernel-dir DIR    an unpacked linux-image-*-amd64 tree with modules.dep
#                       (default: tests/lib/kernel.sh fetches Debian's)
#   --config DIR        start page, allowed applications, attestation CA
#                       (default: contrib/browser-vm/config)
#   --with-standin      add the tests' stand-in application "standin" (foot,
#                       one colour, running cat; see docs/browser-vm.md)
#   --attest URL        also predict the manifests for start.sh --attest URL
#   --machine NAME      ... and --machine NAME (with --attest)
#   --mirror URL        Debian mirror (default: the host's apt sources)
#   --deb-cache DIR     keep the downloaded .deb files here between builds
#   --epoch N           SOURCE_DATE_EPOCH for file times (default 1700000000)
# OUTDIR gets root.squashfs, initrd.img, vmlinuz, cmdline, memory (the
# guest RAM the prediction assumes), manifest.json (the default application)
# and manifest-NAME.json (start.sh --app NAME), with --attest also
# manifest-attest.json and manifest-attest-NAME.json,
# packages.txt (name version of every package in the image).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
MEASURED=$SRC/build/measured
INIT=$SRC/build/measured-init
KDIR=""
CONF=$HERE/config
STANDIN=no
MIRROR=""
EPOCH=1700000000
DEBCACHE=""
ATTEST="" AMACHINE=""
while [ $# -gt 1 ]; do
	case "$1" in
	--measured) MEASURED=$2; shift 2;;
	--init) INIT=$2; shift 2;;
	--kernel-dir) KDIR=$2; shift 2;;
	--config) CONF=$2; shift 2;;
	--with-standin) STANDIN=yes; shift;;
	--mirror) MIRROR=$2; shift 2;;
	--epoch) EPOCH=$2; shift 2;;
	--deb-cache) DEBCACHE=$2; shift 2;;
	--attest) ATTEST=$2; shift 2;;
	--machine) AMACHINE=$2; shift 2;;
	*) echo "build-image.sh: unknown option $1" >&2; exit 2;;
	esac
done
[ $# -eq 1 ] || { sed -n '2,26s/^# \{0,1\}//p' "$0" >&2; exit 2; }
OUT=$1
[ -z "$AMACHINE" ] || [ -n "$ATTEST" ] || { echo "build-image.sh: --machine needs --attest" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-image.sh: run as root (mmdebstrap keeps file owners)" >&2; exit 1; }
for t in mmdebstrap mksquashfs; do
	command -v $t >/dev/null || { echo "build-image.sh: $t is not installed" >&2; exit 1; }
done
[ -x "$MEASURED" ] && [ -x "$INIT" ] || { echo "build-image.sh: build measured first (make)" >&2; exit 1; }
if [ -z "$KDIR" ]; then
	. "$SRC/tests/lib/kernel.sh"
	kernel_fetch
	KDIR=$(dirname "$(dirname "$KERNEL_MODDIR")")/..
fi
KDIR=$(cd "$KDIR" && pwd)
KVER=$(ls "$KDIR/lib/modules" | head -n 1)
[ -f "$KDIR/lib/modules/$KVER/modules.dep" ] || { echo "build-image.sh: no modules.dep in $KDIR (depmod -b)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The packages.  `measured` (for attestation before the browser starts) is
# copied from the build; the Debian packages that hold its libraries come
# with it.  No apt: --variant=essential installs with the host's apt.
PKGS="chromium cage xwayland seatd udev iproute2 fonts-dejavu-core"
[ $STANDIN = yes ] && PKGS="$PKGS foot"
tcti=$(ldconfig -p | sed -n 's/.*libtss2-tcti-device.so.0 .*=> \(.*\)/\1/p' | head -n 1)
LIBPKGS=$( (ldd "$MEASURED"; echo "x => $tcti (0)") | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' |
	while read -r lib; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"; done |
	cut -d: -f1 | sort -u | tr '\n' ' ')
PKGS="$PKGS $LIBPKGS"

set -- --variant=essential --include="$(echo $PKGS | tr ' ' ,)" \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/lib/chromium/locales/*' \
	--dpkgopt='path-include=/usr/lib/chromium/locales/en-US.pak' \
	--customize-hook="'$HERE/customize.sh' \"\$1\" '$CONF' '$MEASURED' $STANDIN"
if [ -n "$DEBCACHE" ]; then
	mkdir -p "$DEBCACHE"
	DEBCACHE=$(cd "$DEBCACHE" && pwd)
	set -- --skip=download/empty --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
		--setup-hook="sync-in '$DEBCACHE' /var/cache/apt/archives" \
		--customize-hook="sync-out /var/cache/apt/archives '$DEBCACHE'" "$@"
fi
set -- "$@" bookworm "$WORK/root"
[ -n "$MIRROR" ] && set -- "$@" "$MIRROR"
export SOURCE_DATE_EPOCH=$EPOCH
mmdebstrap --quiet --mode=root "$@"
# name version of every package, then forget dpkg's database (no package
# manager at run time)
cp "$WORK/root/var/lib/browser-vm/packages.txt" "$OUT/packages.txt"

rm -f "$OUT/root.squashfs"
mksquashfs "$WORK/root" "$OUT/root.squashfs" -quiet -no-progress -comp zstd -Xcompression-level 6 -b 1M \
	-noappend -xattrs >/dev/null

MODS="virtio_pci virtio_blk squashfs overlay virtio_gpu evdev virtio_input failover net_failover virtio_net"
set --
for m in $MODS; do set -- "$@" -m "$m"; done
"$MEASURED" mkinitramfs -o "$OUT/initrd.img" -i "$INIT" -k "$KDIR/lib/modules/$KVER" "$@" >/dev/null
cp "$KDIR/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
# The command line the start script passes (docs/browser-vm.md); the
# kernel's console on the first serial port, the root by its file system type.
echo 1536M > "$OUT/memory"
echo "console=ttyS0 quiet panic=1 measured.root=/dev/vda measured.fstype=squashfs" > "$OUT/cmdline"
# The manifest of the default application, and one per allowed application
# (start.sh --app NAME adds browser.app=NAME to the command line, which the
# firmware measures into PCR 9 with the rest of it).
# The image is hashed once: its digests are given to every prediction.
RDIG=$("$MEASURED" hash -b sha1,sha256,sha384,sha512 "$OUT/root.squashfs" |
	while read -r bank hex _; do printf ' --rootfs-digest %s:%s' "$bank" "$hex"; done)
predict() {	# predict OUT EXTRA-CMDLINE
	# shellcheck disable=SC2086
	"$MEASURED" predict --bank sha1,sha256,sha384,sha512 --kernel "$OUT/vmlinuz" \
		--initrd "$OUT/initrd.img" --qemu-direct-boot "$(cat "$OUT/memory")" \
		--cmdline "$(cat "$OUT/cmdline")$2" $RDIG -o "$1"
}
predict "$OUT/manifest.json" ""
rm -f "$OUT"/manifest-*.json
# With attestation the command line has browser.attest= and
# browser.machine= too, after browser.app= (the order start.sh gives them).
attest=""
[ -n "$ATTEST" ] && attest=" browser.attest=$ATTEST"
[ -n "$AMACHINE" ] && attest="$attest browser.machine=$AMACHINE"
if [ -n "$attest" ]; then predict "$OUT/manifest-attest.json" "$attest"; fi
for app in $(grep -v '^[[:space:]]*\(#\|$\)' "$CONF/apps" | cut -d' ' -f1) $([ $STANDIN = yes ] && echo standin); do
	predict "$OUT/manifest-$app.json" " browser.app=$app"
	if [ -n "$attest" ]; then predict "$OUT/manifest-attest-$app.json" " browser.app=$app$attest"; fi
done
echo "browser VM in $OUT: $(du -h "$OUT/root.squashfs" | cut -f1) root image, $(wc -l < "$OUT/packages.txt") packages"
