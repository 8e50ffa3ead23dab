#!/bin/sh
# Debian's OVMF with a TPM 1.2 (swtpm without --tpm2): the firmware
# measures into it (EDK2's TCG 1.2 driver) and hands Linux a SHA-1 log
# through the ACPI TCPA table; that log replays to the PCRs 0-7 the guest
# kernel lists, and measured-init's PCR 15 equals the prediction.  Linux's
# EFI stub measures the initrd only through the TCG2 protocol, so PCR 9
# stays at zero on a TPM 1.2.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
BOOT_TPM=1.2
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
boot ovmf "$T/o.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
grep -q ROOT-INIT-DONE "$T/o.log.txt" || { tail -30 "$T/o.log.txt"; die "the root's init did not finish"; }
grep -q "measured-init: TPM 1.2 at /dev/tpm0: 24 PCRs, SHA-1" "$T/o.log.txt" || die "measured-init did not report a TPM 1.2"
between "$T/o.log" FWLOG > "$T/fw.log"
[ -s "$T/fw.log" ] || die "OVMF left no TPM 1.2 event log"
"$M" eventlog replay "$T/fw.log" > "$T/fw.replay" || die "replay of OVMF's log failed"
zero=0000000000000000000000000000000000000000
for p in 0 1 2 3 4 5 6 7; do
	v=$(guest_pcr12 "$T/o.log" $p)
	[ "$v" != "$zero" ] || die "OVMF left PCR $p at zero"
	assert_eq "OVMF's SHA-1 log replays PCR $p" "$v" "$(sed -n "s/^sha1 $p //p" "$T/fw.replay")"
done
assert_eq "PCR 9: no initrd measurement without TCG2" "$zero" "$(guest_pcr12 "$T/o.log" 9)"
"$M" predict --rootfs "$T/root.img" --bank sha1 --show > "$T/predict.txt" || die "predict failed"
assert_eq "PCR 15 = measured predict's value" "$(grep '^sha1 15 ' "$T/predict.txt")" "sha1 15 $(guest_pcr12 "$T/o.log" 15)"
