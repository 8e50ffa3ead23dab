#!/bin/sh
# The installer end to end, from the live ISO: mkliveiso.sh --installer
# builds the measured live image whose root runs the agent at boot
# (contrib/live-iso/installer-init: DHCP, enrol, attest, install, reboot).
# A q35 machine with OVMF and swtpm has the ISO as a SATA CD and an empty
# virtio disk, the disk first in the boot order (empty, OVMF passes to the
# CD).  The verifier's policy is the manifest written beside the ISO; the
# install package is a GPT disk image whose ESP holds a unified kernel image
# (Debian's kernel and a tiny initramfs that prints a marker and powers
# off); the target is measured.install.target=/dev/vda on the ISO's kernel
# command line.  Three machines at once:
#
# 1. good: the agent writes the package, reads it back against the digest
#    the verifier sent, makes it bootable last and reboots; the firmware
#    then boots the disk into the installed system's marker; the disk equals
#    the package byte for byte;
# 2. the same ISO with one byte changed inside rootfs.img: refused, the
#    first differing event on the console, the disk stays all zeros;
# 3. a machine killed while writing (the target's writes throttled so the
#    cut lands in the middle) leaves a disk whose sector 0 and first MiB
#    are zero and which OVMF, booting it alone, finds nothing to load on;
# then a fourth machine, the same ISO, the payload now a root tree archive
# (its boot/efi/ the same UKI): unpacked, built into a GPT disk (ESP and
# ext4 root), written, rebooted into the marker.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
. "$MEASURED_SRCDIR/tests/lib/liveiso.sh"
. "$MEASURED_SRCDIR/tests/lib/installer.sh"
boot_prereqs
chains_fetch
for tool in python3 curl ldd cpio gzip sfdisk xorriso grub-mkrescue mformat tar debugfs mtype; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
MARKER=$INSTALL_MARKER

# boot_target LOG DISK UNTIL: OVMF with DISK alone (no -kernel), until the
# console shows UNTIL (a grep -E pattern) or 300 s pass; QEMU is then stopped.
boot_target() {
	cp "$OVMF_VARS" "$1.vars"
	qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none -no-reboot \
		-serial file:"$1" -machine q35 -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
		-drive if=pflash,format=raw,file="$1.vars" -drive file="$2",if=none,format=raw,id=disk0 \
		-device virtio-blk-pci,drive=disk0,bootindex=0 -net none >"$1.qemu" 2>&1 &
	qp=$!
	PIDS="$PIDS $qp"
	i=0
	while kill -0 "$qp" 2>/dev/null && [ $i -lt 3000 ]; do
		{ tr -d '\r' < "$1"; } 2>/dev/null | grep -aqE "$3" && break
		sleep 0.1
		i=$((i + 1))
	done
	kill "$qp" 2>/dev/null || true
	wait "$qp" 2>/dev/null || true
	tr -d '\r' < "$1" > "$1.txt"
}

all_zero() {
	cmp -s -n "$(stat -c %s "$1")" "$1" /dev/zero
}

install_package "$T/pkg" "$T/package.img"

# The installer ISO from a busybox tree (make_root's, its init replaced by
# the builder's installer-init), and its copy with one byte changed inside
# /rootfs.img (found where xorriso says the file lies).
# mkliveiso.sh's installer options refused (exit 2, the exact message, no ISO)
mk="sh $MEASURED_SRCDIR/contrib/live-iso/mkliveiso.sh -o $T/x.iso --kernel $KERNEL_IMAGE --initrd $KERNEL_IMAGE"
# shellcheck disable=SC2086
expect_exit 2 $mk --rootfs-dir "$T" --installer http://10.0.2.100 --installer-ca "$T/none"
assert_eq "--installer http://" "mkliveiso.sh: --installer: an https:// URL, not 'http://10.0.2.100'" "$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --rootfs-dir "$T" --installer 'https://10.0.2.100/$(reboot)' --installer-ca "$T/none"
assert_eq "shell syntax in --installer" "mkliveiso.sh: --installer: letters, digits and . : / _ % ~ - only" "$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --rootfs "$KERNEL_IMAGE" --installer https://10.0.2.100 --installer-ca "$T/none"
assert_eq "--installer with --rootfs" "mkliveiso.sh: --installer needs --rootfs-dir (the agent is added to the tree)" \
	"$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --rootfs-dir "$T" --installer https://10.0.2.100
assert_eq "--installer without a CA" "mkliveiso.sh: --installer needs --installer-ca" "$(cat "$T/err")"
# shellcheck disable=SC2086
expect_exit 2 $mk --rootfs-dir "$T" --installer https://10.0.2.100 --installer-ca "$T/none" --installer-payload 'a b'
assert_eq "a payload name with a blank" \
	"mkliveiso.sh: --installer-payload: letters, digits, . _ - only, not 'a b'" "$(cat "$T/err")"
[ ! -e "$T/x.iso" ] || die "a refused build wrote an ISO"

tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
installer_iso "$T/good.iso" "$T/root"
grep -q "^mkliveiso.sh: installer: verifier https://$AGENT_VERIFIER_IP, payload install\$" "$T/good.iso.build.log" ||
	die "no installer line: $(cat "$T/good.iso.build.log")"
xorriso -osirrox on -indev "$T/good.iso" -extract /rootfs.img "$T/good.rootfs.img" >/dev/null 2>&1 ||
	die "xorriso cannot extract /rootfs.img"
# the root image as the builder made it: the installer's init and the agent in it (e2fsprogs' debugfs reads it)
debugfs -R 'cat /sbin/init' "$T/good.rootfs.img" 2>/dev/null | cmp -s - "$MEASURED_SRCDIR/contrib/live-iso/installer-init" ||
	die "the ISO's root image does not carry installer-init as /sbin/init"
assert_eq "the root's installer.conf" "SERVER=https://$AGENT_VERIFIER_IP PAYLOAD=install" \
	"$(debugfs -R 'cat /etc/measured/installer.conf' "$T/good.rootfs.img" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
rsize=$(stat -c %s "$T/good.rootfs.img")
iso_change_rootfs "$T/good.iso" "$T/bad.iso"
assert_eq "the two ISOs differ in one byte" 1 "$(cmp -l "$T/good.iso" "$T/bad.iso" | wc -l)"
rm -f "$T/bad.rootfs.img"
xorriso -osirrox on -indev "$T/bad.iso" -extract /rootfs.img "$T/bad.rootfs.img" >/dev/null 2>&1 ||
	die "xorriso cannot extract the changed /rootfs.img"
assert_eq "that byte lies in rootfs.img (its last byte)" "$rsize 1" \
	"$(cmp -l "$T/good.rootfs.img" "$T/bad.rootfs.img" | awk '{ print $1, NR }')"

# The verifier: policy "good" from the manifest beside the ISO (the root
# PCR); "install" with its metadata (kind disk-image, the digest computed
# by admin).
DB=sqlite:$T/verifier.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.manifest.json" --pcrs 15 --banks sha256 ||
	die "policy add failed"
"$M" admin --db "$DB" payload add install --file "$T/package.img" --policy good --kind disk-image ||
	die "payload add failed"
python3 - "$T/verifier.db" "$PKG_SHA" <<'PY' || die "the stored metadata"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = dict(db.execute("SELECT name, kind || ' ' || target || ' ' || digest FROM payload_install"))
assert rows == {"install": "disk-image  sha256:" + sys.argv[2]}, rows
PY
ok "payload add --kind disk-image stores the package's sha256 (sha256sum's)"
serve_start "$DB" --tofu --approve good --insecure-tofu-approve

# Two rounds.  Round 1, three machines: the good ISO, the changed ISO,
# and the power cut (the good ISO again, the target's writes throttled to
# 1 MiB/s, QEMU killed two seconds after the installer says it writes).
# Round 2: the cut disk booted alone.
round=$(date +%s)
for m in good bad cut; do
	mkdir -p "$T/$m"
	truncate -s 64M "$T/$m/target.img"
done
agent_net vm-good "$PORT"
boot_installer "$T/good" "$T/good/c.log" "$T/good.iso" "$T/good/target.img" &
pg=$!
agent_net vm-bad "$PORT"
boot_installer "$T/bad" "$T/bad/c.log" "$T/bad.iso" "$T/bad/target.img" &
pb=$!
agent_net vm-cut "$PORT"
boot_installer "$T/cut" "$T/cut/c.log" "$T/good.iso" "$T/cut/target.img,throttling.bps-write=1048576" \
	-pidfile "$T/cut/qemu.pid" &
pc=$!
PIDS="$PIDS $pg $pb $pc"
# QEMU itself is not among PIDS (its parent is): stopped by its pid file if the test ends early
trap 'kill -KILL "$(cat "$T/cut/qemu.pid" 2>/dev/null)" 2>/dev/null || true; cleanup' EXIT
i=0
until { tr -d '\r' < "$T/cut/c.log"; } 2>/dev/null | grep -q "^install: writing"; do
	i=$((i + 1))
	[ $i -gt 6000 ] && die "cut: the installer never started writing"
	kill -0 "$pc" 2>/dev/null || { tr -d '\r' < "$T/cut/c.log" | tail -20; die "cut: the machine ended before writing"; }
	sleep 0.1
done
sleep 2
kill -KILL "$(cat "$T/cut/qemu.pid")" || die "cut: cannot kill QEMU"
rm -f "$T/cut/qemu.pid"
wait "$pg" "$pb" "$pc" || true
echo "# round 1 (good, changed, cut): $(( $(date +%s) - round )) s"
good=$T/good/c.log.txt bad=$T/bad/c.log.txt cut=$T/cut/c.log.txt

# 1. booted from the CD, measured, installed, checked, bootable last,
#    rebooted, and the firmware booted the disk into the installed system
grep -q "^measured-init: root /dev/loop[0-9]* from /\{0,1\}rootfs.img (ext4, [0-9]* bytes, copy=ram" "$good" ||
	{ grep measured-init "$good"; die "good ISO: the root was not measured from the medium's rootfs.img"; }
grep -q "^measured-install: machine vm-good, verifier https://$AGENT_VERIFIER_IP, payload install\$" "$good" ||
	{ tail -40 "$good"; die "good ISO: the installer's init did not run"; }
grep -q "^pass vm-good" "$good" || { tail -40 "$good"; tail -5 "$T/serve.log"; die "good ISO: no pass"; }
grep -q "^measured-install: nothing installed" "$good" && { tail -20 "$good"; die "good ISO: the agent returned instead of rebooting"; }
stages=$(sed -n 's/^install: \([a-z-]*\) \/dev\/vda$/\1/p' "$good" | tr '\n' ' ')
assert_eq "the installer's steps, in order" "checked cleared writing written verified head-rest bootable " "$stages"
grep -q "^installed install $PKG_SIZE /dev/vda sha256 $PKG_SHA\$" "$good" ||
	{ grep installed "$good"; die "good ISO: no 'installed' line with the package's size and sha256sum"; }
cmp -n "$PKG_SIZE" "$T/package.img" "$T/good/target.img" || die "the written disk differs from the package"
ok "good ISO: installed ($PKG_SIZE bytes, equal to the package)"
# after the restart: the marker, and the live image's GRUB not again
sed -n '/reboot: Restarting system/,$p' "$good" > "$T/good/after.txt"
[ -s "$T/good/after.txt" ] || die "good ISO: the kernel did not restart"
grep -q "^$MARKER\$" "$T/good/after.txt" ||
	{ tail -20 "$T/good/after.txt"; die "after the reboot: no marker of the installed system"; }
grep -q "Booting \`measured live" "$T/good/after.txt" && die "after the reboot: the live ISO booted again"
ok "rebooted: the firmware boots the installed disk (first in the boot order) into its marker"

# 2. the changed ISO: refused, the first differing event shown, nothing written
grep -q "^fail vm-bad manifest-mismatch" "$bad" || { tail -30 "$bad"; die "changed ISO: not refused"; }
# the event named with both digests in the bank the policy quotes (sha256,
# though the manifest predicts sha1 too): openssl's SHA-256 of each
# rootfs.img as xorriso extracts it
sha_good=$(openssl dgst -sha256 -r < "$T/good.rootfs.img" | cut -d' ' -f1)
sha_bad=$(openssl dgst -sha256 -r < "$T/bad.rootfs.img" | cut -d' ' -f1)
grep -qx "first difference: pcr 15 bank sha256 event-differs event 0" "$bad" &&
	grep -q "^  expected: {\"type\":0,\"digest\":\"$sha_good\",\"description\":\"rootfs.img\"" "$bad" &&
	grep -q "^  found: *{\"type\":0,\"digest\":\"$sha_bad\",\"log\":\"cel-json\",\"description\":\"/rootfs.img\"" "$bad" ||
	{ grep -A3 "^fail" "$bad"; die "changed ISO: the root-filesystem event is not named with both digests"; }
grep -q "^measured-install: nothing installed (measured attest exit status 1)\$" "$bad" ||
	die "changed ISO: the agent did not exit 1"
grep -q "^install: " "$bad" && die "changed ISO: the installer ran"
grep -q "$MARKER" "$bad" && die "changed ISO: the marker"
all_zero "$T/bad/target.img" || die "changed ISO: the disk is not all zeros"
ok "changed ISO refused at PCR 15 event 0 (on the console); the disk stays all zeros"

# 3. the cut: part of the package written, sector 0 and the first MiB zero
grep -q "^install: bootable" "$cut" && die "cut: the install finished before the cut"
cmp -s -n 1048576 "$T/cut/target.img" /dev/zero ||
	{ grep "^install:" "$cut"; od -A d -t x1 -N 64 "$T/cut/target.img"; die "cut: the first MiB is not zero"; }
cmp -s -i 1048576:1048576 -n 65536 "$T/package.img" "$T/cut/target.img" ||
	die "cut: nothing after the first MiB was written (the cut did not land mid-write)"
cmp -s -n "$PKG_SIZE" "$T/package.img" "$T/cut/target.img" && die "cut: the whole package was written"
ok "cut mid-write: part of the package on the disk, its first MiB zero"

# Round 2: the cut disk alone does not boot; and the administrator's other
# choice: "install" is now a root tree archive (its boot/efi/ the package's
# ESP tree), which a fourth machine booting the same ISO installs
install_archive "$T/pkg" "$T/root.tar"
"$M" admin --db "$DB" payload add install --file "$T/root.tar" --policy good --kind root-archive ||
	die "payload add --kind root-archive"
round=$(date +%s)
mkdir -p "$T/arch"
truncate -s 128M "$T/arch/target.img"
agent_net vm-arch "$PORT"
boot_installer "$T/arch" "$T/arch/c.log" "$T/good.iso" "$T/arch/target.img" &
pa=$!
PIDS="$PIDS $pa"
boot_target "$T/cut/disk.log" "$T/cut/target.img" 'failed to load Boot0001 "UEFI Misc Device".*Not Found|Shell>|Linux version'
grep -q 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot.*: Not Found' "$T/cut/disk.log.txt" ||
	{ tail -c 2000 "$T/cut/disk.log.txt"; die "cut: OVMF did not find the disk unbootable"; }
grep -q "$MARKER" "$T/cut/disk.log.txt" && die "cut: the cut disk booted"
ok "the cut disk does not boot: OVMF finds nothing to load on it"
wait "$pa" || true
echo "# round 2 (the cut disk alone; the root archive machine): $(( $(date +%s) - round )) s"

# 4. the root archive: unpacked, built into a GPT image, written, rebooted into
arch=$T/arch/c.log.txt
grep -q "^pass vm-arch" "$arch" || { tail -40 "$arch"; die "archive: no pass"; }
stages=$(sed -n 's/^install: \([a-z-]*\) \/dev\/vda$/\1/p' "$arch" | tr '\n' ' ')
assert_eq "archive: the installer's steps, in order" \
	"unpacked built checked cleared writing written verified head-rest bootable " "$stages"
grep -q "^installed install $(stat -c %s "$T/root.tar") /dev/vda sha256 $ARC_SHA\$" "$arch" ||
	{ grep installed "$arch"; die "archive: no 'installed' line with the archive's size and sha256sum"; }
sed -n '/reboot: Restarting system/,$p' "$arch" | grep -q "^$MARKER\$" ||
	{ tail -20 "$arch"; die "archive: no marker after the reboot"; }
# the disk as other tools read it: the GPT, the ESP's loader, the root's file
sfdisk --json "$T/arch/target.img" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"]
assert [(x["start"], x["type"], x.get("name")) for x in p] == [(2048, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "ESP"),
    (2048 + p[0]["size"], "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "root")], p
print(p[1]["start"], p[1]["size"])' > "$T/arch/root.part" || die "archive: the partition table"
read -r rstart rsize < "$T/arch/root.part"
dd if="$T/arch/target.img" of="$T/arch/root.img" bs=512 skip="$rstart" count="$rsize" status=none
assert_eq "archive: /etc/installed-from on the installed root (debugfs)" "root-archive" \
	"$(debugfs -R 'cat /etc/installed-from' "$T/arch/root.img" 2>/dev/null)"
MTOOLS_SKIP_CHECK=1 mtype -i "$T/arch/target.img@@1048576" ::/EFI/BOOT/BOOTX64.EFI > "$T/arch/loader" ||
	die "archive: no loader on the ESP"
cmp -s "$T/arch/loader" "$T/pkg/esp/EFI/BOOT/BOOTX64.EFI" || die "archive: the ESP's loader differs"
ok "root archive: installed (GPT, ESP with the archive's UKI, ext4 root with its files), rebooted into its marker"
