# Real boot chains from Debian 12's packages, booted from a disk image
# (sourced after tests/lib/common.sh and tests/boot/lib.sh).
#
# chains_fetch: Debian's shim-signed, shim-helpers-amd64-signed,
# grub-efi-amd64-signed, grub-pc-bin, grub-common and systemd-boot-efi,
# downloaded once into $MEASURED_CACHE/chains-VERSIONS and unpacked there
# (not installed: their maintainer scripts would set up the host's own boot).
# Sets CH (the unpacked tree).  Built disk images are kept beside it, keyed
# by the digests of what went in, so that the chain tests of one run build
# each image once.

CHAIN_PKGS="shim-signed shim-helpers-amd64-signed grub-efi-amd64-signed grub-pc-bin grub-common systemd-boot-efi"
OVMF_SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_MS_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd

chains_fetch() {
	for tool in mkfs.vfat mcopy mmd sfdisk objcopy; do
		command -v "$tool" >/dev/null || die "$tool is not installed"
	done
	[ -f "$OVMF_SB_CODE" ] && [ -f "$OVMF_MS_VARS" ] || die "no Secure Boot OVMF (package ovmf)"
	# shellcheck disable=SC2086
	vers=$(apt-cache policy $CHAIN_PKGS 2>/dev/null | sed -n 's/^\([^ ].*\):$/\1/p;s/^  Candidate: //p' | tr '\n' '_')
	case "$vers" in *'(none)'*|*:_|'') vers=$(ls -d "$MEASURED_CACHE"/chains-*/ 2>/dev/null |
		sort | tail -n 1 | sed 's,.*/chains-\(.*\)/$,\1,');; esac
	[ -n "$vers" ] || die "chains_fetch: cannot name the package versions"
	CH=$MEASURED_CACHE/chains-$(printf %s "$vers" | sha256sum | cut -c1-16)
	if [ ! -f "$CH/done" ]; then
		mkdir -p "$MEASURED_CACHE"
		tmp=$(mktemp -d "$MEASURED_CACHE/.chains.XXXXXX")
		# shellcheck disable=SC2086
		( cd "$tmp" && apt-get download $CHAIN_PKGS >/dev/null 2>&1 ) ||
			{ rm -rf "$tmp"; die "apt-get download $CHAIN_PKGS failed"; }
		for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$tmp/x" || { rm -rf "$tmp"; die "dpkg-deb -x $d"; }; done
		rm -f "$tmp"/*.deb
		touch "$tmp/done"
		mv -T "$tmp" "$CH" 2>/dev/null || rm -rf "$tmp"
	fi
	SHIM=$CH/x/usr/lib/shim/shimx64.efi.signed
	MM=$CH/x/usr/lib/shim/mmx64.efi.signed
	GRUBX64=$CH/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
	SDBOOT=$CH/x/usr/lib/systemd/boot/efi/systemd-bootx64.efi
	SDSTUB=$CH/x/usr/lib/systemd/boot/efi/linuxx64.efi.stub
	GRUB_PC=$CH/x/usr/lib/grub/i386-pc
	GRUB_MKIMAGE=$CH/x/usr/bin/grub-mkimage
	for f in "$SHIM" "$MM" "$GRUBX64" "$SDBOOT" "$SDSTUB" "$GRUB_PC/boot.img" "$GRUB_MKIMAGE"; do
		[ -f "$f" ] || die "chains_fetch: $f missing"
	done
}

# esp_shim_grub DIR KERNEL INITRD [GRUB_CFG_EXTRA] [CMDLINE]: an ESP tree
# for the Secure Boot chain: Debian's signed shim as the removable-media
# loader with GRUB and MokManager beside it, grub.cfg where Debian's signed
# GRUB looks (prefix /EFI/debian), the kernel and its initrd (root: the
# disk's second partition)
esp_shim_grub() {
	mkdir -p "$1/EFI/BOOT" "$1/EFI/debian"
	cp "$SHIM" "$1/EFI/BOOT/BOOTX64.EFI"
	cp "$GRUBX64" "$1/EFI/BOOT/grubx64.efi"
	cp "$MM" "$1/EFI/BOOT/mmx64.efi"
	cp "$2" "$1/vmlinuz"
	cp "$3" "$1/initrd.img"
	cat > "$1/EFI/debian/grub.cfg" <<CFG
set timeout=0
set default=0
${4:-}
menuentry 'Debian' {
	linux /vmlinuz ${5:-console=ttyS0 quiet measured.root=/dev/vda2}
	initrd /initrd.img
}
CFG
}

# esp_image DIR IMG [KB]: a FAT ESP holding DIR's tree (size from its contents, or KB).
esp_image() {
	kb=$(du -sk "$1" | cut -f1)
	rm -f "$2"
	mkfs.vfat -C -n ESP -i 12345678 "$2" "${3:-$(( kb + kb / 4 + 2048 ))}" >/dev/null || die "mkfs.vfat"
	(cd "$1" && find . -mindepth 1 -type d | sort) | while read -r d; do
		mmd -i "$2" "::${d#.}" || die "mmd $d"
	done
	(cd "$1" && find . -type f | sort) | while read -r f; do
		mcopy -i "$2" -m "$1/$f" "::${f#.}" || die "mcopy $f"
	done
}

# gpt_disk OUT ESP_IMG ROOT_IMG: a GPT disk, partition 1 the ESP, 2 the root,
# with fixed GUIDs so the same inputs make the same disk.
gpt_disk() {
	esp_s=$(( ($(stat -c %s "$2") + 511) / 512 ))
	root_s=$(( ($(stat -c %s "$3") + 511) / 512 ))
	total=$(( 2048 + esp_s + root_s + 2048 ))
	rm -f "$1"
	truncate -s $(( total * 512 )) "$1"
	sfdisk -q "$1" >/dev/null <<EOF || die "sfdisk"
label: gpt
label-id: 5A6B7C8D-1111-2222-3333-444455556666
start=2048, size=$esp_s, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=0F0E0D0C-1111-2222-3333-000000000001
start=$(( 2048 + esp_s )), size=$root_s, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=0F0E0D0C-1111-2222-3333-000000000002
EOF
	dd if="$2" of="$1" bs=1M oflag=seek_bytes seek=$(( 2048 * 512 )) conv=notrunc status=none
	dd if="$3" of="$1" bs=1M oflag=seek_bytes seek=$(( (2048 + esp_s) * 512 )) conv=notrunc status=none
}

# boot_disk FW LOG DISK [VARS]: boot DISK (virtio) with no -kernel, no network
# (several may run at once, in the background, each with its own LOG name)
# card, and the disk the first boot option (bootindex): OVMF would otherwise
# try the network and q35's empty CD-ROM first and log each attempt
# ("Calling"/"Returning from EFI Application") into PCR 4.
# FW: secboot (OVMF with Secure Boot, VARS the variables, default a copy of
# the Microsoft-keys file), uefi (OVMF without Secure Boot), seabios.
boot_disk() {
	fw=$1 log=$2 disk=$3 vars=${4:-}
	set --
	case "$fw" in
	secboot)
		[ -n "$vars" ] || { vars=$T/vars-$(basename "$log" .log).fd; cp "$OVMF_MS_VARS" "$vars"; }
		set -- -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
			-drive if=pflash,format=raw,readonly=on,file="$OVMF_SB_CODE" \
			-drive if=pflash,format=raw,file="$vars";;
	uefi)
		[ -n "$vars" ] || { vars=$T/vars-$(basename "$log" .log).fd; cp "$OVMF_VARS" "$vars"; }
		set -- -machine q35 -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
			-drive if=pflash,format=raw,file="$vars";;
	seabios) ;;
	*) die "boot_disk: firmware $fw";;
	esac
	tpm_for_qemu "$(basename "$log" .log)"
	timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none \
		-no-reboot -serial file:"$log" "$@" \
		-chardev socket,id=chrtpm,path="$TPM_SOCK" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 -drive file="$disk",if=none,format=raw,id=disk0 \
		-device virtio-blk-pci,drive=disk0,bootindex=0 -net none \
		>"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	grep -q ROOT-INIT-DONE "$log.txt" || { tail -40 "$log.txt"; die "$fw boot of $disk did not finish"; }
	between "$log" FWLOG > "$log.fw"
	between "$log" CEL > "$log.cel"
	[ -s "$log.fw" ] || die "no firmware log from the guest"
}

# guest_pcrs LOG: the guest's PCRs as 'BANK PCR HEX' lines.
guest_pcrs() {
	sed -n 's/^GUESTPCR \([a-z0-9]*\) \([0-9]*\) \([0-9a-f]*\)$/\1 \2 \3/p' "$1.txt"
}

# assert_predicted PRED_TXT LOG WHAT: every 'BANK PCR HEX' of PRED_TXT equals
# the guest's; prints how many.
assert_predicted() {
	n=0
	while read -r bank pcr hex; do
		got=$(guest_pcr "$2" "$bank" "$pcr")
		[ "$got" = "$hex" ] || { echo "  $bank PCR $pcr: predicted $hex, guest $got" >&2; die "$3: $bank PCR $pcr"; }
		n=$((n + 1))
	done < "$1"
	[ "$n" -gt 0 ] || die "$3: nothing predicted"
	ok "$3: $n predicted PCR values equal the guest's"
}

# chains_kernel_prev: Debian's kernel one ABI before KERNEL_VER (the "old"
# kernel of an update test), cached like kernel_fetch's; sets KPREV_VER,
# KPREV_IMAGE, KPREV_MODDIR.
chains_kernel_prev() {
	abi=$(printf %s "$KERNEL_VER" | sed -n 's/^6\.1\.0-\([0-9]*\)-amd64$/\1/p')
	[ -n "$abi" ] || die "chains_kernel_prev: cannot read the ABI of $KERNEL_VER"
	KPREV_VER=6.1.0-$((abi - 1))-amd64
	kdir=$MEASURED_CACHE/kernel-$KPREV_VER
	if [ ! -f "$kdir/root/lib/modules/$KPREV_VER/modules.dep" ]; then
		tmp=$(mktemp -d "$MEASURED_CACHE/.kernel.XXXXXX")
		( cd "$tmp" && apt-get download "linux-image-$KPREV_VER" >/dev/null 2>&1 ) ||
			{ rm -rf "$tmp"; die "apt-get download linux-image-$KPREV_VER failed"; }
		dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/root" && rm -f "$tmp"/*.deb &&
			depmod -b "$tmp/root" "$KPREV_VER" || { rm -rf "$tmp"; die "unpacking $KPREV_VER failed"; }
		mv -T "$tmp" "$kdir" 2>/dev/null || rm -rf "$tmp"
	fi
	KPREV_IMAGE=$kdir/root/boot/vmlinuz-$KPREV_VER
	KPREV_MODDIR=$kdir/root/lib/modules/$KPREV_VER
}

# efivar_set IN OUT NAME GUID ATTRS DATAFILE: a copy of the OVMF variable
# store IN with variable NAME replaced (the old record marked deleted, a
# new one appended), written by the edk2 layout independently of measured.
efivar_set() {
	python3 - "$@" <<'PY' || die "efivar_set $3 failed"
import struct, sys, uuid
src, dst, name, guid, attrs, datafile = sys.argv[1:7]
d = bytearray(open(src, 'rb').read())
data = open(datafile, 'rb').read()
g = uuid.UUID(guid).bytes_le
hl = struct.unpack_from('<H', d, 48)[0]
o = hl + 28
while struct.unpack_from('<H', d, o)[0] == 0x55aa:
    ns, ds = struct.unpack_from('<II', d, o + 36)
    nm = d[o + 60:o + 60 + ns - 2].decode('utf-16le')
    if nm == name and bytes(d[o + 44:o + 60]) == g and d[o + 2] in (0x3f, 0x3e):
        d[o + 2] &= 0xfd
    o = (o + 60 + ns + ds + 3) & ~3
n = (name + '\0').encode('utf-16le')
rec = struct.pack('<HBBIQ16sIII16s', 0x55aa, 0x3f, 0, int(attrs, 0), 0, bytes(16), 0, len(n), len(data), g) + n + data
d[o:o + len(rec)] = rec
open(dst, 'wb').write(d)
PY
}

# expect_differs MANIFEST LOG "PCR a: event i" ...: measured check names
# exactly these first differences, nothing else.
expect_differs() {
	man=$1 log=$2
	shift 2
	set +e
	"$M" check "$man" --eventlog "$log" > "$T/differs.txt"
	rc=$?
	set -e
	[ $rc = 1 ] || { cat "$T/differs.txt"; die "check of $man exited $rc, not 1"; }
	got=$(grep -v ': match$' "$T/differs.txt" | grep -v '^MISMATCH$' |
		sed -n 's/^eventlog: \(PCR [0-9]*: \)[a-z ]*event \([0-9]*\).*/\1event \2/p' | sort | tr '\n' ';')
	want=$(for w in "$@"; do echo "$w"; done | sort | tr '\n' ';')
	[ "$got" = "$want" ] || { cat "$T/differs.txt"; die "check named '$got', expected '$want'"; }
	ok "check names exactly: $want"
}

# make_uki OUT OSREL CMDLINE_FILE KERNEL INITRD: a unified kernel image from
# systemd-boot-efi's stub with objcopy, each section 4 KiB aligned after the
# stub's last one, and the COFF timestamp and optional-header checksum set
# to zero (objcopy stamps the build time, which would change PCR 4).
make_uki() {
	end=$(objdump -h "$SDSTUB" | awk '$1 ~ /^[0-9]+$/ { e = strtonum("0x" $4) + strtonum("0x" $3); if (e > m) m = e } END { print m }')
	vma=$(( (end + 4095) / 4096 * 4096 ))
	set -- "$1" "$2" "$3" "$4" "$5"
	args=""
	for s in "osrel:$2" "cmdline:$3" "linux:$4" "initrd:$5"; do
		name=${s%%:*} file=${s#*:}
		args="$args --add-section .$name=$file --change-section-vma .$name=$(printf 0x%x $vma)"
		vma=$(( (vma + $(stat -c %s "$file") + 4095) / 4096 * 4096 ))
	done
	# shellcheck disable=SC2086
	objcopy $args "$SDSTUB" "$1" || die "objcopy (UKI)"
	python3 - "$1" <<'PY' || die "zeroing the UKI's timestamp"
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
pe = struct.unpack_from('<I', d, 0x3c)[0]
struct.pack_into('<I', d, pe + 8, 0)          # COFF TimeDateStamp
struct.pack_into('<I', d, pe + 24 + 64, 0)    # optional header CheckSum
open(sys.argv[1], 'wb').write(d)
PY
}
