#!/bin/sh
# The installer from the live ISO, for a person to watch: builds the
# installer live image (contrib/live-iso/mkliveiso.sh --installer) and its
# manifest, an install package (a GPT disk image whose ESP holds a unified
# kernel image that prints a marker), starts the verifier (`measured
# serve` on SQLite, TLS on 127.0.0.1) with the manifest as its policy, then
# boots a machine (OVMF + swtpm under QEMU, TCG) from the ISO as a CD with
# an empty disk: the root image on the ISO runs the agent, which attests,
# writes the package to the disk, checks it, makes it bootable and
# reboots; the firmware boots the disk into the installed system.  Then the
# same ISO with one byte changed in rootfs.img boots on a second machine:
# refused, the first differing event on its console, its disk stays empty.
# The guests reach the verifier only through QEMU user networking with
# restrict=on and one forward to 127.0.0.1.  See docs/live-image.md.
# Usage: scripts/demo-install.sh [BUILDDIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
export MEASURED_BIN=$B/measured MEASURED_SRCDIR=$SRC MEASURED_INIT=$B/measured-init
[ -x "$MEASURED_BIN" ] && [ -x "$MEASURED_INIT" ] || { echo "build first: make" >&2; exit 1; }
sh "$SRC/scripts/deps.sh"
# common.sh: a temporary directory $T, removed on exit with every process
# listed in $PIDS stopped by its PID.
. "$SRC/tests/lib/common.sh"
. "$SRC/tests/boot/lib.sh"
. "$SRC/tests/lib/serve.sh"
. "$SRC/tests/lib/chains.sh"
. "$SRC/tests/lib/liveiso.sh"
. "$SRC/tests/lib/installer.sh"
boot_prereqs
chains_fetch

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
indent() { sed 's/^/    /'; }
# console LOG: the lines of the installer and of what it booted (no kernel noise)
console() {
	grep -aE "^(Booting \`|measured-init: root|measured-install:|enrolled|pass |fail |first difference|  expected|  found|install: |installed |reboot: |$INSTALL_MARKER)" \
		"$1" | indent
}

say "the install package: a GPT disk image, its ESP holding a UKI that prints $INSTALL_MARKER"
install_package "$T/pkg" "$T/package.img"
echo "    package.img: $PKG_SIZE bytes, sha256 $PKG_SHA"

say "the installer live ISO (mkliveiso.sh --installer https://$AGENT_VERIFIER_IP) and its manifest"
tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
installer_iso "$T/live.iso" "$T/root"
indent < "$T/live.iso.build.log"
iso_change_rootfs "$T/live.iso" "$T/changed.iso"
echo "    changed.iso: live.iso with the last byte of /rootfs.img changed"

say "the verifier: policy from live.manifest.json, the package released to it"
DB=sqlite:$T/verifier.db
"$M" admin --db "$DB" policy add live --manifest "$T/live.manifest.json" --pcrs 15 --banks sha256 2>&1 | indent
"$M" admin --db "$DB" payload add install --file "$T/package.img" --policy live --kind disk-image
serve_start "$DB" --tofu --approve live --insecure-tofu-approve
echo "    measured serve on $URL (the guests reach it as https://$AGENT_VERIFIER_IP)"

say "machine vm-good: live.iso as a CD, an empty 64 MiB disk (TCG: a few minutes)"
mkdir -p "$T/good" "$T/bad"
truncate -s 64M "$T/good/disk.img" "$T/bad/disk.img"
agent_net vm-good "$PORT"
boot_installer "$T/good" "$T/good/c.log" "$T/live.iso" "$T/good/disk.img"
console "$T/good/c.log.txt"
if grep -q "^$INSTALL_MARKER\$" "$T/good/c.log.txt" && cmp -s -n "$PKG_SIZE" "$T/package.img" "$T/good/disk.img"; then
	echo "    => installed: the disk holds the package byte for byte and booted into the installed system"
else
	tail -30 "$T/good/c.log.txt" | indent
	die "vm-good was not installed"
fi

say "machine vm-bad: changed.iso, an empty disk"
agent_net vm-bad "$PORT"
boot_installer "$T/bad" "$T/bad/c.log" "$T/changed.iso" "$T/bad/disk.img"
console "$T/bad/c.log.txt"
if grep -q "^fail vm-bad manifest-mismatch" "$T/bad/c.log.txt" && cmp -s -n 67108864 "$T/bad/disk.img" /dev/zero; then
	echo "    => refused: nothing installed, the disk is all zeros"
else
	die "vm-bad was not refused"
fi
