#!/bin/sh
# Debian 12 as installed: shim and GRUB on the ESP with grub-install's
# small grub.cfg, which finds the root file system by UUID and runs the
# grub.cfg Debian's grub-mkconfig wrote (tests/data/grub/grub.cfg-efi:
# functions, a submenu, load_env, search --fs-uuid, if/else, the kernel and
# initrd under /boot on ext4).  Two boots under OVMF with Secure Boot: A
# with grub-install's empty grubenv (the first entry), B with grub-reboot's
# next_entry naming the submenu's first entry.  For each, `measured predict
# --shim-grub --grub-fs` from the ESP, the /boot tree and the variable
# store equals the guest's PCR 4, 7, 8, 9 and 14 in every bank, and check
# finds no difference event for event; A's manifest against B's log names
# exactly the grubenv read and the first command that differs.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
boot_prereqs
chains_fetch
BANKS=sha1,sha256,sha384,sha512
DATA=$MEASURED_SRCDIR/tests/data/grub
UUID=3c1b5d2e-8f4a-4b6c-9d7e-1a2b3c4d5e6f	# the one grub.cfg-efi names
KV=6.1.0-57-amd64				# the file names grub.cfg-efi names

make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"

# the ESP as grub-install --uefi-secure-boot leaves it (the removable path)
mkdir -p "$T/esp/EFI/BOOT" "$T/esp/EFI/debian"
cp "$SHIM" "$T/esp/EFI/BOOT/BOOTX64.EFI"
cp "$GRUBX64" "$T/esp/EFI/BOOT/grubx64.efi"
cp "$MM" "$T/esp/EFI/BOOT/mmx64.efi"
cp "$DATA/esp-grub.cfg" "$T/esp/EFI/debian/grub.cfg"
esp_image "$T/esp" "$T/esp.img"
# the system's / as GRUB sees it: /boot with the kernel, the initrd,
# grub-mkconfig's grub.cfg, grub-install's grubenv and font.  B: the same
# with grub-reboot's next_entry naming the advanced entry in the submenu.
sys_tree() {	# sys_tree DIR [GRUB-EDITENV-ARGS]
	mkdir -p "$1/boot/grub/fonts"
	cp "$KERNEL_IMAGE" "$1/boot/vmlinuz-$KV"
	cp "$T/initrd.img" "$1/boot/initrd.img-$KV"
	cp "$DATA/grub.cfg-efi" "$1/boot/grub/grub.cfg"
	"$CH/x/usr/bin/grub-editenv" "$1/boot/grub/grubenv" create || die "grub-editenv"
	[ $# -lt 2 ] || "$CH/x/usr/bin/grub-editenv" "$1/boot/grub/grubenv" set "$2" || die "grub-editenv set"
	cp "$CH/x/usr/share/grub/unicode.pf2" "$1/boot/grub/fonts/unicode.pf2"
	rm -f "$1.img"
	mke2fs -q -t ext4 -U "$UUID" -E root_owner=0:0 -d "$1" "$1.img" 64M || die "mke2fs"
}
sys_tree "$T/sysA"
sys_tree "$T/sysB" "next_entry=gnulinux-advanced-$UUID>gnulinux-$KV-advanced-$UUID"

# disk OUT SYS_IMG: GPT, 1 the ESP, 2 the system, 3 measured's root image;
# fixed GUIDs, so that A and B differ in the system partition's files only
disk() {
	esp_s=$(( ($(stat -c %s "$T/esp.img") + 511) / 512 ))
	sys_s=$(( $(stat -c %s "$2") / 512 ))
	root_s=$(( ($(stat -c %s "$T/root.img") + 511) / 512 ))
	rm -f "$1"
	truncate -s $(( (2048 + esp_s + sys_s + root_s + 2048) * 512 )) "$1"
	sfdisk -q "$1" >/dev/null <<SF || die "sfdisk"
label: gpt
label-id: 5A6B7C8D-1111-2222-3333-444455556666
start=2048, size=$esp_s, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=0F0E0D0C-1111-2222-3333-000000000001
start=$((2048 + esp_s)), size=$sys_s, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=0F0E0D0C-1111-2222-3333-000000000002
start=$((2048 + esp_s + sys_s)), size=$root_s, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=0F0E0D0C-1111-2222-3333-000000000003
SF
	dd if="$T/esp.img" of="$1" bs=1M oflag=seek_bytes seek=$((2048 * 512)) conv=notrunc status=none
	dd if="$2" of="$1" bs=1M oflag=seek_bytes seek=$(((2048 + esp_s) * 512)) conv=notrunc status=none
	dd if="$T/root.img" of="$1" bs=1M oflag=seek_bytes seek=$(((2048 + esp_s + sys_s) * 512)) conv=notrunc status=none
}
disk "$T/diskA.img" "$T/sysA.img"
disk "$T/diskB.img" "$T/sysB.img"
cp "$OVMF_MS_VARS" "$T/varsA.fd"
cp "$OVMF_MS_VARS" "$T/varsB.fd"
cp "$OVMF_MS_VARS" "$T/vars-ms.fd"	# what predict reads: the store before the boot
start=$(date +%s)
boot_disk secboot "$T/a.log" "$T/diskA.img" "$T/varsA.fd" &
pa=$!
boot_disk secboot "$T/b.log" "$T/diskB.img" "$T/varsB.fd" &
pb=$!
wait $pa || die "boot A"
wait $pb || die "boot B"
ok "two boots in $(( $(date +%s) - start )) s"

# from the files alone: PCR 4, 7, 8, 9, 14 in every bank equal the guest's
for v in A:a B:b; do
	"$M" predict --bank $BANKS --shim-grub --esp "$T/esp" --efi-vars "$T/vars-ms.fd" \
		--grub-fs "hd0,gpt2=$UUID=$T/sys${v%%:*}" --show > "$T/pred${v%%:*}.txt" ||
		die "predict --shim-grub --grub-fs (${v%%:*})"
	assert_eq "PCRs x banks predicted (${v%%:*})" 20 "$(wc -l < "$T/pred${v%%:*}.txt")"
	assert_predicted "$T/pred${v%%:*}.txt" "$T/${v#*:}.log" "Debian's grub.cfg, boot ${v%%:*}"
	# event for event: check names no difference
	"$M" predict --bank $BANKS --shim-grub --esp "$T/esp" --efi-vars "$T/vars-ms.fd" \
		--grub-fs "hd0,gpt2=$UUID=$T/sys${v%%:*}" --firmware-log "$T/${v#*:}.log.fw" -o "$T/${v%%:*}.json" ||
		die "predict -o (${v%%:*})"
	"$M" check "$T/${v%%:*}.json" --eventlog "$T/${v#*:}.log.fw" > "$T/check.txt" ||
		{ cat "$T/check.txt"; die "check ${v%%:*}"; }
done
# B booted the submenu's entry: its setparams is GRUB's own in the log
"$M" eventlog show "$T/b.log.fw" | grep -q "grub_cmd: setparams Debian GNU/Linux, with Linux $KV\$" ||
	die "boot B did not run the submenu's entry"
ok "boot B ran the entry grubenv's next_entry names inside the submenu"
# A's manifest names B's first different GRUB command
expect_differs "$T/A.json" "$T/b.log.fw" "PCR 8: event 10" "PCR 9: event 2"
