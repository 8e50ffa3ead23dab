# Helpers for the QEMU boot tests (sourced after tests/lib/common.sh).
# Each test: build a busybox root image, an initramfs with
# `measured mkinitramfs`, start swtpm, boot Debian's kernel under TCG
# (KVM does not work on the build machines), read the guest's console.
. "$MEASURED_SRCDIR/tests/lib/kernel.sh"

: "${MEASURED_INIT:?run through make check-boot}"
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
BOOT_MODULES="virtio_pci virtio_blk ext4 crc32c_generic overlay loop"

boot_prereqs() {
	for tool in qemu-system-x86_64 swtpm busybox mke2fs base64 openssl; do
		command -v "$tool" >/dev/null || die "$tool is not installed"
	done
	[ -f "$OVMF_CODE" ] || die "no $OVMF_CODE (package ovmf)"
	kernel_fetch || die "cannot fetch Debian's kernel"
}

# make_root DIR: a busybox-static root whose /sbin/init reports what the
# guest sees between markers on the console, then powers off.
make_root() {
	r=$1
	mkdir -p "$r/bin" "$r/sbin" "$r/dev" "$r/proc" "$r/sys" "$r/run" "$r/tmp" "$r/etc"
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in sh cat echo mount base64 ls tr poweroff sync sleep grep test printf; do
		ln -sf busybox "$r/bin/$a"
	done
	cat > "$r/sbin/init" <<'INIT'
#!/bin/sh
export PATH=/bin
echo "ROOT-INIT-STARTED"
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
for bank in sha1 sha256 sha384 sha512; do
	for n in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		f=/sys/class/tpm/tpm0/pcr-$bank/$n
		[ -r $f ] && echo "GUESTPCR $bank $n $(cat $f | tr A-F a-f)"
	done
done
# a TPM 1.2: the kernel's text list of the SHA-1 PCRs
if [ -r /sys/class/tpm/tpm0/pcrs ]; then
	echo "TPM-VERSION-MAJOR $(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null)"
	echo "-----BEGIN PCRS12-----"
	cat /sys/class/tpm/tpm0/pcrs
	echo "-----END PCRS12-----"
fi
echo "-----BEGIN FWLOG-----"
base64 /sys/kernel/security/tpm0/binary_bios_measurements 2>/dev/null
echo "-----END FWLOG-----"
echo "-----BEGIN CEL-----"
base64 /run/log/measured/measure.log 2>/dev/null
echo "-----END CEL-----"
if echo overlay-data > /overlay-test && [ "$(cat /overlay-test)" = overlay-data ]; then
	echo "OVERLAY-WRITE-OK"
fi
ls /run/measured/ro >/dev/null 2>&1 && echo "LOWER-VISIBLE"
echo "ROOT-INIT-DONE"
sync
poweroff -f
INIT
	chmod 755 "$r/sbin/init"
}

# make_image DIR IMG [SIZE]: ext4 image of DIR (default 16M), no root
# privileges needed.
make_image() {
	rm -f "$2"
	mke2fs -q -t ext4 -L measuredroot -U 6a0c1d4e-1c5b-4b7e-9d9a-3f2e1d0c0b0a \
		-E root_owner=0:0 -d "$1" "$2" "${3:-16M}" || die "mke2fs failed"
}

# make_initramfs OUT
make_initramfs() {
	set -- "$1" $(for m in $BOOT_MODULES; do printf -- '-m %s ' "$m"; done)
	out=$1; shift
	"$M" mkinitramfs -o "$out" -i "$MEASURED_INIT" -k "$KERNEL_MODDIR" "$@" >/dev/null ||
		die "measured mkinitramfs failed"
}

# tpm_for_qemu NAME: a fresh swtpm for QEMU's emulator backend; sets TPM_SOCK.
# BOOT_TPM=1.2 makes it a TPM 1.2 (swtpm without --tpm2).
tpm_for_qemu() {
	d="$T/qtpm-$1"
	mkdir -p "$d"
	family=--tpm2
	[ "${BOOT_TPM:-2.0}" = 1.2 ] && family=
	# BOOT_TPM_STATE=DIR: start from a copy of a prepared state (swtpm_setup's)
	[ -n "${BOOT_TPM_STATE:-}" ] && cp -r "$BOOT_TPM_STATE"/. "$d"/
	# shellcheck disable=SC2086 # no word when 1.2
	swtpm socket $family --tpmstate dir="$d" --ctrl type=unixio,path="$d/ctrl" \
		--log file="$d/log" --terminate &
	PIDS="$PIDS $!"
	i=0
	while [ ! -S "$d/ctrl" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && die "swtpm did not start"
		sleep 0.05
	done
	TPM_SOCK=$d/ctrl
}

# boot FIRMWARE(ovmf|seabios) CONSOLE_LOG IMG INITRD APPEND [notpm]: one disk (boot_disks)
# $BOOT_QEMU_EXTRA: more QEMU options (split at spaces), e.g. a network.
boot() {
	boot_disks "$1" "$2" "$4" "$5" "${6:-tpm}" "$3"
}

# guest_pcr LOG BANK N
guest_pcr() {
	sed -n "s/^GUESTPCR $2 $3 \([0-9a-f]*\)\$/\1/p" "$1.txt" | head -n 1
}

# check_fail_closed NAME LOG EXPECTED-TEXT: the root's init never ran, the
# console has measured-init's FATAL line with the text, and it halted.
check_fail_closed() {
	if grep -q ROOT-INIT-STARTED "$2.txt"; then die "$1: the root's init ran"; fi
	grep -q "measured-init: FATAL: .*$3" "$2.txt" || { tail -20 "$2.txt"; die "$1: no '$3' on the console"; }
	grep -q "measured-init: halting" "$2.txt" || die "$1: did not halt"
	ok "$1 fails closed"
}

# guest_pcr12 LOG N: PCR N of a TPM 1.2 as the guest kernel lists it
# (/sys/class/tpm/tpm0/pcrs: "PCR-15: 3A 3F ..."), lowercase hex.
guest_pcr12() {
	sed -n "/^-----BEGIN PCRS12-----\$/,/^-----END PCRS12-----\$/p" "$1.txt" |
		sed -n "s/^PCR-$(printf %02d "$2"):[[:space:]]*//p" | head -n 1 | tr -d ' ' | tr 'A-F' 'a-f'
}

# between LOG NAME: base64 block NAME decoded.
between() {
	sed -n "/^-----BEGIN $2-----\$/,/^-----END $2-----\$/p" "$1.txt" | sed '1d;$d' | base64 -d
}

# host_extend BANK DIGEST_HEX [START_HEX]: software PCR extend with openssl.
host_extend() {
	size=$(( ${#2} / 2 ))
	start=${3:-$(head -c "$size" /dev/zero | od -An -v -tx1 | tr -d ' \n')}
	printf '%s%s' "$start" "$2" | xxd -r -p | openssl dgst -"$1" -r | cut -d' ' -f1
}

# boot_disks FIRMWARE(ovmf|seabios) CONSOLE_LOG INITRD APPEND tpm|notpm IMG...:
# like boot, with every IMG as a virtio disk, in order (/dev/vda, /dev/vdb, ...),
# and BOOT_SMP (default 1) CPUs.
boot_disks() {
	fw=$1 log=$2 initrd=$3 append=$4 tpm=$5
	shift 5
	disks=""
	for img in "$@"; do
		disks="$disks -drive file=$img,if=virtio,format=raw"
	done
	set --
	if [ "$fw" = ovmf ]; then
		cp "$OVMF_VARS" "$T/vars.fd"
		set -- -machine q35 -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
			-drive if=pflash,format=raw,file="$T/vars.fd"
	fi
	if [ "$tpm" = tpm ]; then
		tpm_for_qemu "$(basename "$log" .log)"
		set -- "$@" -chardev socket,id=chrtpm,path="$TPM_SOCK" \
			-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0
	fi
	# shellcheck disable=SC2086
	timeout 180 qemu-system-x86_64 -accel tcg -m 512 -smp "${BOOT_SMP:-1}" -display none -monitor none \
		-no-reboot -serial file:"$log" "$@" ${BOOT_QEMU_EXTRA:-} \
		-kernel "$KERNEL_IMAGE" -initrd "$initrd" -append "console=ttyS0 quiet $append" \
		$disks >"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
}

# add_to_initramfs INITRD DIR: append DIR's files as a second gzip'ed newc
# archive (the kernel unpacks concatenated archives in order).
add_to_initramfs() {
	(cd "$2" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n >> "$1" ||
		die "cannot extend the initramfs"
}

# The attestation guest (tests/boot/attest_e2e.sh, scripts/demo-attest.sh).
# Inside the guest the verifier is https://$AGENT_VERIFIER_IP (port 443),
# reached through QEMU user networking: see agent_net.
AGENT_VERIFIER_IP=10.0.2.100
# the guest needs its network card's driver before the root is mounted
AGENT_MODULES="failover net_failover virtio_net"

# make_agent_root DIR CA_PEM [BODY]: make_root's busybox root with `measured
# attest` and every library it loads (tctildr dlopens the device TCTI by
# name, so that one is added by hand), and an /sbin/init that brings up the
# network and attests with the payload "install" (or, given the file BODY,
# runs BODY's lines instead, with $name set).  The machine name is the
# SMBIOS system serial number (QEMU -smbios type=1,serial=NAME): firmware
# measures SMBIOS into PCR 1, which attestation policies here leave out, so
# one image can boot as several machines.  Console markers: "AGENT-BEGIN",
# the agent's own output, "ATTEST-EXIT N", "PAYLOAD-FILE present|absent",
# the payload base64 between -----BEGIN/END PAYLOAD-----.  The agent sends
# the firmware log and measured-init's CEL log only: its default would add
# the IMA list, which extends PCR 10 alone, and the verifier refuses a log
# that extends none of the quoted PCRs (eventlog-untouched-pcr).
# AGENT_TPM_ARGS: the agent's TPM options (default -T device:/dev/tpmrm0;
# a TPM 1.2 has no resource manager: -T device:/dev/tpm0 and its secrets).
make_agent_root() {
	make_root "$1"
	r=$1
	for a in ip mkdir cut head; do ln -sf busybox "$r/bin/$a"; done
	mkdir -p "$r/usr/bin" "$r/etc/measured"
	cp "$MEASURED_BIN" "$r/usr/bin/measured"
	cp "$2" "$r/etc/measured/ca.pem"
	tcti=$(ldconfig -p | sed -n 's/.*libtss2-tcti-device.so.0 .*=> \(.*\)/\1/p' | head -n 1)
	[ -n "$tcti" ] || die "libtss2-tcti-device.so.0 not found"
	for lib in $( (ldd "$MEASURED_BIN"; ldd "$tcti"; echo "x => $tcti (0)") |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p;s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' | sort -u); do
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
name=\$(head -n 1 /sys/class/dmi/id/product_serial 2>/dev/null)
echo "MACHINE \${name:=unnamed}"
INIT
	if [ -n "${3:-}" ]; then
		cat "$3" >> "$r/sbin/init"
	else
		cat >> "$r/sbin/init" <<INIT
echo "AGENT-BEGIN"
measured attest --server https://$AGENT_VERIFIER_IP --machine "\$name" --ca-cert /etc/measured/ca.pem \\
	--eventlog /sys/kernel/security/tpm0/binary_bios_measurements --eventlog /run/log/measured/measure.log \\
	${AGENT_TPM_ARGS:--T device:/dev/tpmrm0} --state /run/agent --payload install -o /run/install.pkg 2>&1
echo "ATTEST-EXIT \$?"
if [ -e /run/install.pkg ]; then
	echo "PAYLOAD-FILE present"
	echo "-----BEGIN PAYLOAD-----"
	base64 /run/install.pkg
	echo "-----END PAYLOAD-----"
else
	echo "PAYLOAD-FILE absent"
fi
sync
poweroff -f
INIT
	fi
	chmod 755 "$r/sbin/init"
}

# agent_net MACHINE PORT: BOOT_QEMU_EXTRA for one agent boot: a network
# card on QEMU user networking with restrict=on (no packet leaves the
# host's loopback) and a guestfwd from $AGENT_VERIFIER_IP:443 to the
# verifier on 127.0.0.1:PORT, and the SMBIOS serial MACHINE.  A tcp:
# guestfwd target is one chardev connection for QEMU's lifetime; cmd:
# spawns a relay per guest connection, so each HTTPS request gets one.
# romfile= (none): no iPXE option ROM to load, so no PXE boot option.
agent_net() {
	cat > "$T/relay-$2" <<RELAY
#!/bin/sh
exec $(command -v busybox) nc 127.0.0.1 $2
RELAY
	chmod 755 "$T/relay-$2"
	BOOT_QEMU_EXTRA="-netdev user,id=n0,restrict=on,guestfwd=tcp:$AGENT_VERIFIER_IP:443-cmd:$T/relay-$2"
	BOOT_QEMU_EXTRA="$BOOT_QEMU_EXTRA -device virtio-net-pci,netdev=n0,romfile= -smbios type=1,serial=$1"
}

# boot_apart DIR FIRMWARE LOG IMG INITRD APPEND: boot() with DIR as its
# scratch directory (OVMF variables, swtpm state), so that boots can run at
# the same time (each in the background); its swtpm is stopped after it.
boot_apart() {
	(
	T=$1 PIDS=""
	shift
	boot "$@"
	for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	)
}
