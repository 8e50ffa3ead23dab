#!/bin/sh
# The installer end to end: the measured image (OVMF + swtpm, the agent in
# its root, as tests/boot/attest_e2e.sh boots it) with an empty second disk
# attests to `measured serve`, receives the install package (a GPT disk
# image whose ESP holds a unified kernel image: Debian's kernel and a tiny
# initramfs that prints a marker and powers off), writes it to /dev/vdb
# (named by measured.install.target=), reads it back against the digest
# the verifier sent, makes it bootable last and reboots.  Then:
#
# 1. the written disk equals the package byte for byte, and OVMF boots it
#    by itself (no -kernel) into the installed system's marker;
# 2. the same image with one byte changed in the root image is refused,
#    the first differing event is on the console, the disk stays all zeros;
# 3. a machine killed while writing (the target's writes throttled so the
#    cut lands in the middle) leaves a disk whose sector 0 and first MiB
#    are zero and which OVMF does not boot ("failed to load ... Not Found").
#
# The boot medium is one function, boot_medium: the live ISO can take the
# measured image's place there.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
boot_prereqs
chains_fetch
for tool in python3 curl ldd cpio gzip sfdisk; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
BOOT_MODULES="$BOOT_MODULES $AGENT_MODULES"
APPEND="measured.root=/dev/vda measured.install.target=/dev/vdb"
CMDLINE="console=ttyS0 quiet $APPEND"	# what boot_disks passes to -append
MARKER=INSTALLED-SYSTEM-MARKER-7f3a

# make_installer_root DIR CA_PEM: make_agent_root's root with an init that
# installs: `measured attest --payload install --install --reboot`, the
# target named by the kernel command line.
make_installer_root() {
	make_agent_root "$1" "$2"
	cat > "$1/sbin/init" <<INIT
#!/bin/sh
export PATH=/bin:/usr/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
echo "ROOT-INIT-STARTED"
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
name=\$(head -n 1 /sys/class/dmi/id/product_serial 2>/dev/null)
echo "MACHINE \${name:=unnamed}"
measured attest --server https://$AGENT_VERIFIER_IP --machine "\$name" --ca-cert /etc/measured/ca.pem \\
	--eventlog /sys/kernel/security/tpm0/binary_bios_measurements --eventlog /run/log/measured/measure.log \\
	-T device:/dev/tpmrm0 --state /run/agent --payload install --install --reboot 2>&1
echo "INSTALL-EXIT \$?"
sync
poweroff -f
INIT
	chmod 755 "$1/sbin/init"
}

# boot_medium DIR LOG ROOT_IMG TARGET_DRIVE [QEMU_EXTRA...]: the machine
# booted from the measured image (QEMU direct boot of the kernel and the
# initramfs, the root image on /dev/vda) with TARGET_DRIVE (a file, and
# -drive options after a comma) as /dev/vdb; DIR its scratch directory
# (swtpm, OVMF variables).  Returns when QEMU exits (-no-reboot: the
# installer's reboot ends it).  A live ISO in its place brings its own
# manifest (built beside it): the policy then comes from there, not from
# the `measured predict` below.
boot_medium() {
	(
	T=$1 PIDS="" log=$2 root=$3 target=$4
	shift 4
	cp "$OVMF_VARS" "$T/vars.fd"
	tpm_for_qemu medium
	# a generous limit: under a loaded machine's TCG the boot, the attestation
	# and the read-back of the package take minutes
	# shellcheck disable=SC2086
	timeout 600 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none -no-reboot \
		-serial file:"$log" -machine q35 -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
		-drive if=pflash,format=raw,file="$T/vars.fd" \
		-chardev socket,id=chrtpm,path="$TPM_SOCK" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 $BOOT_QEMU_EXTRA "$@" \
		-kernel "$KERNEL_IMAGE" -initrd "$INITRD" -append "console=ttyS0 quiet $APPEND" \
		-drive file="$root",if=virtio,format=raw -drive file="$target",if=virtio,format=raw \
		>"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	)
}

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

# The install package: GPT, one ESP with \EFI\BOOT\BOOTX64.EFI, a UKI of
# the kernel, a marker initramfs (busybox) and "console=ttyS0 quiet".
mkdir -p "$T/sys/bin" "$T/esp/EFI/BOOT"
cp "$(command -v busybox)" "$T/sys/bin/busybox"
cat > "$T/sys/init" <<SYSINIT
#!/bin/busybox sh
/bin/busybox mkdir -p /dev /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec >/dev/ttyS0 2>&1
echo $MARKER
/bin/busybox poweroff -f
SYSINIT
chmod 755 "$T/sys/init"
(cd "$T/sys" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -n > "$T/sys.cpio.gz") ||
	die "marker initramfs"
printf 'ID=installed\n' > "$T/osrel"
printf 'console=ttyS0 quiet' > "$T/sys.cmdline"
make_uki "$T/esp/EFI/BOOT/BOOTX64.EFI" "$T/osrel" "$T/sys.cmdline" "$KERNEL_IMAGE" "$T/sys.cpio.gz"
esp_image "$T/esp" "$T/esp.img"
esp_s=$(( ($(stat -c %s "$T/esp.img") + 511) / 512 ))
truncate -s $(( (2048 + esp_s + 34) * 512 )) "$T/package.img"
sfdisk -q "$T/package.img" >/dev/null <<EOF || die "sfdisk"
label: gpt
label-id: 5A6B7C8D-1111-2222-3333-444455557777
start=2048, size=$esp_s, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=0F0E0D0C-1111-2222-3333-000000000011
EOF
dd if="$T/esp.img" of="$T/package.img" bs=1M oflag=seek_bytes seek=$((2048 * 512)) conv=notrunc status=none
PKG_SIZE=$(stat -c %s "$T/package.img")
PKG_SHA=$(sha256sum < "$T/package.img" | cut -d' ' -f1)

# The measured image with the installer, its one-byte-changed copy, the initramfs.
tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
make_installer_root "$T/root" "$T/ca.crt"
make_image "$T/root" "$T/good.img" 48M >/dev/null
cp "$T/good.img" "$T/bad.img"
size=$(stat -c %s "$T/bad.img")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$T/bad.img" | tr -d ' ')
printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" |
	dd of="$T/bad.img" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
cmp -s "$T/good.img" "$T/bad.img" && die "the byte did not change"
INITRD=$T/initrd.img
make_initramfs "$INITRD"

# The verifier: policy "good" from the prediction; "install" with its
# metadata (kind disk-image, the digest computed by admin).
"$M" predict --bank sha256 --kernel "$KERNEL_IMAGE" --initrd "$INITRD" --cmdline "$CMDLINE" \
	--qemu-direct-boot 512M --rootfs "$T/good.img" -o "$T/good.json" || die "predict failed"
DB=sqlite:$T/verifier.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 4,9,15 --banks sha256 ||
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

# Two rounds.  Round 1, three guests: the good image, the changed image,
# and the power cut (the good image again, the target's writes throttled to
# 1 MiB/s, QEMU killed two seconds after the installer says it writes).
# Round 2: the installed disk and the cut disk, each booted alone.
round=$(date +%s)
for m in good bad cut; do
	mkdir -p "$T/$m"
	truncate -s 64M "$T/$m/target.img"
done
cp "$T/good.img" "$T/cut/root.img"	# QEMU locks an image it writes to
agent_net vm-good "$PORT"
boot_medium "$T/good" "$T/good/c.log" "$T/good.img" "$T/good/target.img" &
pg=$!
agent_net vm-bad "$PORT"
boot_medium "$T/bad" "$T/bad/c.log" "$T/bad.img" "$T/bad/target.img" &
pb=$!
agent_net vm-cut "$PORT"
boot_medium "$T/cut" "$T/cut/c.log" "$T/cut/root.img" "$T/cut/target.img,throttling.bps-write=1048576" \
	-pidfile "$T/cut/qemu.pid" &
pc=$!
PIDS="$PIDS $pg $pb $pc"
# QEMU itself is not among PIDS (its parent is): stopped by its pid file if the test ends early
trap 'kill -KILL "$(cat "$T/cut/qemu.pid" 2>/dev/null)" 2>/dev/null; cleanup' EXIT
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

# 1. installed, checked, bootable last, rebooted
grep -q "^pass vm-good" "$good" || { tail -40 "$good"; tail -5 "$T/serve.log"; die "good image: no pass"; }
grep -q "INSTALL-EXIT" "$good" && { tail -20 "$good"; die "good image: the agent returned instead of rebooting"; }
stages=$(sed -n 's/^install: \([a-z-]*\) \/dev\/vdb$/\1/p' "$good" | tr '\n' ' ')
assert_eq "the installer's steps, in order" "checked cleared writing written verified head-rest bootable " "$stages"
grep -q "^installed install $PKG_SIZE /dev/vdb sha256 $PKG_SHA\$" "$good" ||
	{ grep installed "$good"; die "good image: no 'installed' line with the package's size and sha256sum"; }
grep -q "reboot: Restarting system" "$good" || die "good image: the kernel did not restart"
cmp -n "$PKG_SIZE" "$T/package.img" "$T/good/target.img" || die "the written disk differs from the package"
ok "good image: installed ($PKG_SIZE bytes, equal to the package), rebooted"

# 2. the changed image: refused, the first differing event shown, nothing written
grep -q "^fail vm-bad manifest-mismatch" "$bad" || { tail -30 "$bad"; die "changed image: not refused"; }
grep -q "^first difference: pcr 15 bank sha256 event-differs event 0" "$bad" ||
	die "changed image: the root-filesystem event is not named"
grep -q "^INSTALL-EXIT 1\$" "$bad" || die "changed image: the agent did not exit 1"
grep -q "^install: " "$bad" && die "changed image: the installer ran"
all_zero "$T/bad/target.img" || die "changed image: the disk is not all zeros"
ok "changed image refused at PCR 15 event 0; the disk stays all zeros"

# 3. the cut: part of the package written, sector 0 and the first MiB zero
grep -q "^install: bootable" "$cut" && die "cut: the install finished before the cut"
cmp -s -n 1048576 "$T/cut/target.img" /dev/zero ||
	{ grep "^install:" "$cut"; od -A d -t x1 -N 64 "$T/cut/target.img"; die "cut: the first MiB is not zero"; }
cmp -s -i 1048576:1048576 -n 65536 "$T/package.img" "$T/cut/target.img" ||
	die "cut: nothing after the first MiB was written (the cut did not land mid-write)"
cmp -s -n "$PKG_SIZE" "$T/package.img" "$T/cut/target.img" && die "cut: the whole package was written"
ok "cut mid-write: part of the package on the disk, its first MiB zero"

# Round 2
round=$(date +%s)
boot_target "$T/good/disk.log" "$T/good/target.img" "$MARKER|Shell>" &
pd=$!
boot_target "$T/cut/disk.log" "$T/cut/target.img" 'failed to load Boot0001 "UEFI Misc Device".*Not Found|Shell>|Linux version' &
pcd=$!
PIDS="$PIDS $pd $pcd"
wait "$pd" "$pcd" || true
echo "# round 2 (the two disks alone): $(( $(date +%s) - round )) s"

# 4. the installed disk boots by itself; the cut one does not
grep -q "^$MARKER\$" "$T/good/disk.log.txt" ||
	{ tail -20 "$T/good/disk.log.txt"; die "the installed disk did not boot to the marker"; }
ok "the installed disk boots by itself (OVMF, no -kernel) into the installed system"
grep -q 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot.*: Not Found' "$T/cut/disk.log.txt" ||
	{ tail -c 2000 "$T/cut/disk.log.txt"; die "cut: OVMF did not find the disk unbootable"; }
grep -q "$MARKER" "$T/cut/disk.log.txt" && die "cut: the cut disk booted"
ok "the cut disk does not boot: OVMF finds nothing to load on it"
