#!/bin/sh
# The whole chain, for a person to watch: a root image with the agent, an
# initramfs with measured-init, the reference manifest predicted on this
# host, the verifier (`measured serve` on SQLite, TLS on 127.0.0.1), then
# the machine "host1" (Debian's kernel on OVMF + swtpm under QEMU, TCG)
# boots its good image and receives its install package; one byte of its
# disk is changed, it boots again and is refused at the root-filesystem
# event.  The guest reaches the verifier only through QEMU user networking
# with restrict=on and one forward to 127.0.0.1.
# DEMO_TPM=1.2: the same on a TPM 1.2 (swtpm in 1.2 mode, given an EK and an
# owner by swtpm_setup) under SeaBIOS, which measures into a TPM 1.2; the
# policy is SHA-1: PCRs 0-7 (SeaBIOS's, explained by its log) and 15.
# Usage: scripts/demo-attest.sh [BUILDDIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
export MEASURED_BIN=$B/measured MEASURED_SRCDIR=$SRC MEASURED_INIT=$B/measured-init
[ -x "$MEASURED_BIN" ] && [ -x "$MEASURED_INIT" ] || { echo "build first: make" >&2; exit 1; }
# common.sh: a temporary directory $T, removed on exit with every process
# listed in $PIDS stopped by its PID.
. "$SRC/tests/lib/common.sh"
. "$SRC/tests/boot/lib.sh"
. "$SRC/tests/lib/serve.sh"
boot_prereqs
for tool in python3 curl ldd cpio; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { echo "\$ $*" | sed "s|$T/||g;s|$B/measured|measured|;s|$KERNEL_MODDIR|/lib/modules/$KERNEL_VER|"; }
indent() { sed 's/^/    /'; }
# agent_out LOG: what the agent printed in the guest (kernel lines left out)
agent_out() {
	sed -n '/^AGENT-BEGIN$/,/^ATTEST-EXIT/p' "$1.txt" | sed '1d;$d' | grep -v '^\[ *[0-9.]*\]' | indent
}
APPEND="measured.root=/dev/vda"
CMDLINE="console=ttyS0 quiet $APPEND"
BOOT_MODULES="$BOOT_MODULES $AGENT_MODULES"
FW=ovmf BANK=sha256
if [ "${DEMO_TPM:-2.0}" = 1.2 ]; then
	FW=seabios BANK=sha1 BOOT_TPM=1.2
	command -v swtpm_setup >/dev/null || die "swtpm_setup is not installed"
	say "a TPM 1.2 for host1: swtpm_setup gives it an EK and an owner"
	mkdir -p "$T/tpm12"
	show swtpm_setup --tpmstate tpm12 --createek --take-ownership --owner-well-known --srk-well-known
	swtpm_setup --tpmstate "$T/tpm12" --createek --take-ownership --owner-well-known --srk-well-known \
		--config /dev/null > "$T/setup.log" 2>&1 || die "swtpm_setup: $(cat "$T/setup.log")"
	BOOT_TPM_STATE=$T/tpm12
	# swtpm_setup's well-known owner and SRK secrets: SHA-1 of 20 zero bytes
	WK=$(head -c 20 /dev/zero | sha1sum | cut -c1-40)
	AGENT_TPM_ARGS="-T device:/dev/tpm0 --owner-secret $WK --srk-secret $WK"
	echo "    (the agent finds the TPM 1.2 at /dev/tpm0: it has no resource manager)"
fi

say "the root image: busybox, measured attest and its libraries, an init that attests"
tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
make_agent_root "$T/root" "$T/ca.crt"
make_image "$T/root" "$T/root.img" 48M >/dev/null
echo "    root.img  $(stat -c %s "$T/root.img") bytes, ext4"

say "the initramfs: measured-init and the modules for the disk, ext4, overlay, the network card"
show "$M" mkinitramfs -o "$T/initrd.img" -k "$KERNEL_MODDIR" ...
make_initramfs "$T/initrd.img"
echo "    initrd.img  $(stat -c %s "$T/initrd.img") bytes"

say "predict the reference manifest on this host, without a TPM"
if [ "$FW" = ovmf ]; then
	set -- --bank sha256 --kernel "$KERNEL_IMAGE" --initrd "$T/initrd.img" --cmdline "$CMDLINE" \
		--qemu-direct-boot 512M --rootfs "$T/root.img"
	echo "\$ measured predict --bank sha256 --kernel vmlinuz --initrd initrd.img --cmdline '$CMDLINE' \\"
	echo "      --qemu-direct-boot 512M --rootfs root.img --show"
	PCRS=4,9,15
else
	set -- --bank sha1 --rootfs "$T/root.img"
	echo "\$ measured predict --bank sha1 --rootfs root.img --show"
	PCRS=0-7,15
fi
"$M" predict "$@" --show | indent
"$M" predict "$@" -o "$T/host1.manifest"
if [ "$FW" = ovmf ]; then
	echo "    (PCR 4: the kernel as the firmware measures it; 9: its command line and"
	echo "     the initramfs; 15: the root image, as measured-init will measure it)"
else
	echo "    (PCR 15: the root image's SHA-1, as measured-init will measure it into"
	echo "     the TPM 1.2; PCRs 0-7 are quoted too, checked by replaying SeaBIOS's log)"
fi

say "the verifier: a policy (the manifest, PCRs $PCRS, $BANK) and an install package"
DB=sqlite:$T/verifier.db
head -c 300000 /dev/urandom > "$T/install.pkg"
show "$M" admin --db "$DB" policy add host-image --manifest "$T/host1.manifest" --pcrs $PCRS --banks $BANK
"$M" admin --db "$DB" policy add host-image --manifest "$T/host1.manifest" --pcrs $PCRS --banks $BANK
show "$M" admin --db "$DB" payload add install --file "$T/install.pkg" --policy host-image
"$M" admin --db "$DB" payload add install --file "$T/install.pkg" --policy host-image
serve_start "$DB" --tofu --approve host-image --insecure-tofu-approve
show "$M" serve --listen 127.0.0.1:$PORT --tls-cert server.crt --tls-key server.key --db "$DB" \
	--tofu --approve host-image --insecure-tofu-approve
echo "    (swtpm has no EK certificate here, so enrolment trusts the first key it"
echo "     sees; approving such machines must be asked for by name, since nothing"
echo "     proves a real TPM: production verifiers use --ek-ca, docs/server.md)"
echo "    listening on $URL (pid $SERVE_PID); the guest reaches it as https://$AGENT_VERIFIER_IP"

# host1 keeps its TPM across both boots: boot() names the swtpm state
# directory after the console log's name (host1), in boot_apart's directory
mkdir -p "$T/host1" "$T/good" "$T/bad"
agent_net host1 "$PORT"

say "boot host1 with its good image (Debian $KERNEL_VER, $FW, swtpm ${DEMO_TPM:-2.0}, TCG: ~20-40 s)"
boot_apart "$T/host1" $FW "$T/good/host1.log" "$T/root.img" "$T/initrd.img" "$APPEND"
grep "^measured-init: \(TPM 1.2\|digest $BANK\|PCR 15 $BANK\|hashed\)" "$T/good/host1.log.txt" | indent
echo "  the agent in the guest:"
agent_out "$T/good/host1.log"
grep -q '^ATTEST-EXIT 0' "$T/good/host1.log.txt" || { tail -30 "$T/good/host1.log.txt"; die "the good image was not attested"; }
between "$T/good/host1.log" PAYLOAD > "$T/released.pkg"
cmp -s "$T/install.pkg" "$T/released.pkg" || die "the released payload differs from the package"
echo "payload released: $(stat -c %s "$T/released.pkg") bytes, sha256 $(sha256sum < "$T/released.pkg" | cut -d' ' -f1)"
echo "    (the same bytes as the package given to the verifier; only this TPM could decrypt them)"

say "change one byte of host1's disk (the last byte of root.img, in free space) and boot again"
size=$(stat -c %s "$T/root.img")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$T/root.img" | tr -d ' ')
printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" |
	dd of="$T/root.img" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
echo "    byte $((size - 1)): $last -> $(( (last + 1) % 256 ))"
rm -f "$T/host1/qtpm-host1/ctrl"	# the stopped swtpm's socket
boot_apart "$T/host1" $FW "$T/bad/host1.log" "$T/root.img" "$T/initrd.img" "$APPEND"
echo "  the agent in the guest:"
agent_out "$T/bad/host1.log"
grep -q '^ATTEST-EXIT 1' "$T/bad/host1.log.txt" || { tail -30 "$T/bad/host1.log.txt"; die "the changed image was not refused"; }
grep -q "^first difference: pcr 15 bank $BANK event-differs event 0" "$T/bad/host1.log.txt" ||
	die "the refusal does not name the root-filesystem event"
grep -q '^PAYLOAD-FILE absent' "$T/bad/host1.log.txt" || die "a payload file was written"
echo "refused: the verifier names PCR 15 event 0, the root filesystem; nothing released"
echo "    (expected the manifest's digest of the good image, found measured-init's CEL record 0)"

serve_stop
say "the verifier's records"
show "$M" admin --db "$DB" machine list
"$M" admin --db "$DB" machine list | indent
show "$M" admin --db "$DB" audit
"$M" admin --db "$DB" audit | indent
