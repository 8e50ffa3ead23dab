#!/bin/sh
# End to end: the measured image boots under OVMF + swtpm with `measured
# attest` in its root filesystem and attests over QEMU user networking
# (restrict=on, one guestfwd to the verifier on the host's 127.0.0.1: no
# packet leaves loopback).  The good image receives the install package;
# the same image with one byte changed is refused, the answer names the
# root-filesystem event, and nothing is released.
#
# The verifier is tests/integration/attest_fake_verifier.py (tpm2-tools
# for the TPM arithmetic), its reference the image's own sha256 computed
# here on the host.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
for tool in python3 tpm2_makecredential tpm2_checkquote ldd; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
python3 -c 'import cryptography' 2>/dev/null || die "python3-cryptography is not installed"
FAKE=$MEASURED_SRCDIR/tests/integration/attest_fake_verifier.py
VERIFIER_IP=10.0.2.100	# the guestfwd address inside the guest

# the guest needs its network card's driver before the root is mounted
BOOT_MODULES="$BOOT_MODULES failover net_failover virtio_net"

# TLS: a throwaway CA; the server certificate names the guestfwd address.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca \
	-keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null || die "openssl CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=verifier \
	-keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null || die "openssl CSR"
echo "subjectAltName=IP:$VERIFIER_IP,IP:127.0.0.1" > "$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/srv.pem" 2>/dev/null || die "openssl sign"

# The root: lib.sh's busybox root, the agent with every library it loads
# (tctildr opens the device TCTI by name, so that one is added by hand), and
# an init that brings up the network and attests.
make_root "$T/root"
r=$T/root
ln -sf busybox "$r/bin/ip"
ln -sf busybox "$r/bin/mkdir"
mkdir -p "$r/usr/bin" "$r/etc/measured"
cp "$MEASURED_BIN" "$r/usr/bin/measured"
cp "$T/ca.pem" "$r/etc/measured/ca.pem"
tcti=$(ldconfig -p | sed -n 's/.*libtss2-tcti-device.so.0 .*=> \(.*\)/\1/p' | head -n 1)
[ -n "$tcti" ] || die "libtss2-tcti-device.so.0 not found"
for lib in $( (ldd "$MEASURED_BIN"; ldd "$tcti"; echo "x => $tcti (0)") | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p;s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' | sort -u); do
	mkdir -p "$r$(dirname "$lib")"
	cp -L "$lib" "$r$lib"
done
cat > "$r/sbin/init" <<INIT
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
measured attest --server https://$VERIFIER_IP --machine vm1 --ca-cert /etc/measured/ca.pem \\
	-T device:/dev/tpmrm0 --state /run/agent --payload install -o /run/install.pkg
echo "ATTEST-EXIT \$?"
if [ -e /run/install.pkg ]; then
	echo "-----BEGIN PAYLOAD-----"
	base64 /run/install.pkg
	echo "-----END PAYLOAD-----"
fi
sync
poweroff -f
INIT
chmod 755 "$r/sbin/init"
rm -f "$T/root.img"
mke2fs -q -t ext4 -L measuredroot -U 6a0c1d4e-1c5b-4b7e-9d9a-3f2e1d0c0b0a \
	-E root_owner=0:0 -d "$r" "$T/root.img" 64M || die "mke2fs failed"
make_initramfs "$T/initrd.img"

# The reference: the measured-init CEL record of the root image in PCR 15.
digest=$(sha256sum < "$T/root.img" | cut -d' ' -f1)
head -c 200000 /dev/urandom > "$T/package.tar"
rm -f "$T/port"
mkdir -p "$T/srv"
python3 "$FAKE" --cert "$T/srv.pem" --key "$T/srv.key" --dir "$T/srv" --port-file "$T/port" \
	--pcrs 15 --banks sha256 --expect-cel "15:$digest" --payload "install=$T/package.tar" \
	2> "$T/fake.err" &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/port" ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { cat "$T/fake.err"; die "verifier did not start"; }
	sleep 0.05
done
port=$(cat "$T/port")

# boot() (lib.sh) takes no extra QEMU options: a wrapper first in PATH adds
# the network card, with every guest packet kept on the host's loopback.
mkdir -p "$T/bin"
real_qemu=$(command -v qemu-system-x86_64)
cat > "$T/bin/qemu-system-x86_64" <<WRAP
#!/bin/sh
exec "$real_qemu" "\$@" -netdev user,id=n0,restrict=on,guestfwd=tcp:$VERIFIER_IP:443-tcp:127.0.0.1:$port \\
	-device virtio-net-pci,netdev=n0
WRAP
chmod 755 "$T/bin/qemu-system-x86_64"
PATH=$T/bin:$PATH

# 1. The good image: pass, the package arrives intact.
boot ovmf "$T/good.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
grep -q "ATTEST-EXIT 0" "$T/good.log.txt" || { tail -40 "$T/good.log.txt"; cat "$T/fake.err"; die "good image: attestation did not pass"; }
grep -q "^pass vm1" "$T/good.log.txt" || die "good image: no pass line"
between "$T/good.log" PAYLOAD > "$T/got.tar"
assert_eq "good image receives the install package" "$(sha256sum < "$T/package.tar")" "$(sha256sum < "$T/got.tar")"

# 2. One byte changed in the root image (its last byte, in free space):
# refused, the root-filesystem event named, nothing released.
size=$(stat -c %s "$T/root.img")
last=$(dd if="$T/root.img" bs=1 skip=$((size - 1)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" |
	dd of="$T/root.img" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
[ "$(sha256sum < "$T/root.img" | cut -d' ' -f1)" != "$digest" ] || die "the byte did not change"
boot ovmf "$T/bad.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
grep -q "ATTEST-EXIT 1" "$T/bad.log.txt" || { tail -40 "$T/bad.log.txt"; die "changed image: not refused"; }
grep -q "^fail vm1 manifest-mismatch" "$T/bad.log.txt" || die "changed image: no manifest-mismatch"
grep -q "^first difference: pcr 15 bank sha256 event-differs event 0" "$T/bad.log.txt" ||
	die "changed image: the root-filesystem event is not named"
grep "found:" "$T/bad.log.txt" | grep -q '"log":"cel"' || die "changed image: the CEL record is not named"
grep "found:" "$T/bad.log.txt" | grep -qi 'root' || die "changed image: the event is not the root filesystem's"
grep -q "BEGIN PAYLOAD" "$T/bad.log.txt" && die "changed image: a payload was released"
ok "good image attested and got the package; changed image refused at the root-filesystem event"
