#!/bin/sh
# measured predict against a real OVMF boot: the PCRs predicted from the
# artifacts (4 kernel, 9 command line + initrd, 15 root image) equal what
# the guest's TPM holds in every bank; with the guest firmware's own log as
# the golden log, PCR 0-9 and 15 all match; `measured check` passes on the
# guest's logs, and one changed byte in the kernel, the initramfs, the
# command line or the root image makes it name exactly that event.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
APPEND="measured.root=/dev/vda"
CMDLINE="console=ttyS0 quiet $APPEND"	# what boot() passes to -append
boot ovmf "$T/c.log" "$T/root.img" "$T/initrd.img" "$APPEND"
grep -q ROOT-INIT-DONE "$T/c.log.txt" || { tail -30 "$T/c.log.txt"; die "the root's init did not finish"; }
between "$T/c.log" FWLOG > "$T/fw.log"
between "$T/c.log" CEL > "$T/cel.json"
[ -s "$T/fw.log" ] && [ -s "$T/cel.json" ] || die "no event logs from the guest"

BANKS=sha1,sha256,sha384,sha512
ART="--kernel $KERNEL_IMAGE --initrd $T/initrd.img --qemu-direct-boot 512M --rootfs $T/root.img"

# 1. artifacts only: PCR 4, 9, 15 in every bank
"$M" predict --bank $BANKS $ART --cmdline "$CMDLINE" --show > "$T/pred.txt" || die "predict failed"
n=0
while read -r bank pcr hex; do
	assert_eq "predicted $bank PCR $pcr = guest" "$(guest_pcr "$T/c.log" "$bank" "$pcr")" "$hex"
	n=$((n + 1))
done < "$T/pred.txt"
assert_eq "predicted PCRs x banks" 12 "$n"

# 2. with the golden firmware log: PCR 0-9 and 15
"$M" predict --bank $BANKS $ART --cmdline "$CMDLINE" --firmware-log "$T/fw.log" \
	-o "$T/m.json" || die "predict with the firmware log failed"
"$M" predict --bank $BANKS $ART --cmdline "$CMDLINE" --firmware-log "$T/fw.log" --show > "$T/pred2.txt"
for pcr in 0 1 2 3 4 5 6 7 9 15; do
	for bank in sha1 sha256 sha384 sha512; do
		got=$(awk -v b=$bank -v p=$pcr '$1 == b && $2 == p { print $3 }' "$T/pred2.txt")
		assert_eq "golden+artifacts $bank PCR $pcr = guest" "$(guest_pcr "$T/c.log" $bank $pcr)" "$got"
	done
done
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
src = {p["pcr"]: p["source"] for p in m["pcrs"]}
assert src[4] == "kernel", src
assert src[9] == "cmdline+initrd", src
assert src[15] == "rootfs", src
assert src[0] == "firmware-log", src
' "$T/m.json" || die "manifest sources wrong"
ok "manifest says where each PCR came from"

# 3. measured check on the guest's logs
"$M" check "$T/m.json" --eventlog "$T/fw.log" --eventlog "$T/cel.json" > "$T/check.txt" ||
	{ cat "$T/check.txt"; die "check of the good boot failed"; }
tail -n 1 "$T/check.txt" | grep -qx match || die "check did not say match"

# 4. one byte changed in each artifact: check names exactly that event
flip() {	# flip FILE OFFSET -> FILE.flip
	cp "$1" "$1.flip"
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" |
		dd of="$1.flip" bs=1 seek="$2" conv=notrunc status=none
}
expect_named() {	# expect_named WHAT PCR INDEX DESCRIPTION-PART predict-args...
	what=$1 pcr=$2 idx=$3 part=$4
	shift 4
	"$M" predict --bank $BANKS "$@" --firmware-log "$T/fw.log" -o "$T/bad.json" || die "predict ($what)"
	set +e
	"$M" check "$T/bad.json" --eventlog "$T/fw.log" --eventlog "$T/cel.json" > "$T/bad.txt"
	rc=$?
	set -e
	assert_eq "check exit for changed $what" 1 "$rc"
	n=$(grep -c "differs" "$T/bad.txt")
	assert_eq "exactly one PCR differs for changed $what" 1 "$n"
	grep "PCR $pcr: event $idx differs" "$T/bad.txt" | grep -q "$part" ||
		{ cat "$T/bad.txt"; die "check did not name the $what event"; }
	ok "changed $what named: $(grep differs "$T/bad.txt" | cut -c1-80)"
}
cp "$KERNEL_IMAGE" "$T/vmlinuz"	# never write next to the shared cache
flip "$T/vmlinuz" 4096
flip "$T/initrd.img" 100
flip "$T/root.img" 2048
expect_named kernel 4 0 "EV_EFI_BOOT_SERVICES_APPLICATION" --kernel "$T/vmlinuz.flip" --initrd "$T/initrd.img" \
	--qemu-direct-boot 512M --rootfs "$T/root.img" --cmdline "$CMDLINE"
expect_named initrd 9 1 "Linux initrd" --kernel "$KERNEL_IMAGE" --initrd "$T/initrd.img.flip" \
	--qemu-direct-boot 512M --rootfs "$T/root.img" --cmdline "$CMDLINE"
expect_named "command line" 9 0 "LoadOptions" $ART --cmdline "$CMDLINE "
expect_named "root image" 15 0 "root.img" --kernel "$KERNEL_IMAGE" --initrd "$T/initrd.img" \
	--qemu-direct-boot 512M --rootfs "$T/root.img.flip" --cmdline "$CMDLINE"
