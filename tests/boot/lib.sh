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

# make_image DIR IMG: ext4 image of DIR, no root privileges needed.
make_image() {
	rm -f "$2"
	mke2fs -q -t ext4 -L measuredroot -U 6a0c1d4e-1c5b-4b7e-9d9a-3f2e1d0c0b0a \
		-E root_owner=0:0 -d "$1" "$2" 16M || die "mke2fs failed"
}

# make_initramfs OUT
make_initramfs() {
	set -- "$1" $(for m in $BOOT_MODULES; do printf -- '-m %s ' "$m"; done)
	out=$1; shift
	"$M" mkinitramfs -o "$out" -i "$MEASURED_INIT" -k "$KERNEL_MODDIR" "$@" >/dev/null ||
		die "measured mkinitramfs failed"
}

# tpm_for_qemu NAME: a fresh swtpm for QEMU's emulator backend; sets TPM_SOCK.
tpm_for_qemu() {
	d="$T/qtpm-$1"
	mkdir -p "$d"
	swtpm socket --tpm2 --tpmstate dir="$d" --ctrl type=unixio,path="$d/ctrl" \
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

# boot FIRMWARE(ovmf|seabios) CONSOLE_LOG IMG INITRD APPEND [notpm]
boot() {
	fw=$1 log=$2 img=$3 initrd=$4 append=$5 tpm=${6:-tpm}
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
	timeout 180 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none \
		-no-reboot -serial file:"$log" "$@" \
		-kernel "$KERNEL_IMAGE" -initrd "$initrd" -append "console=ttyS0 quiet $append" \
		-drive file="$img",if=virtio,format=raw >"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
}

# guest_pcr LOG BANK N
guest_pcr() {
	sed -n "s/^GUESTPCR $2 $3 \([0-9a-f]*\)\$/\1/p" "$1.txt" | head -n 1
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
