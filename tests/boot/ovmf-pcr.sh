#!/bin/sh
# OVMF boot: the rootfs PCR read in the guest equals the value computed on
# the host from the image in every bank; the root's init ran over the
# overlay; the CEL log came out of the guest.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
sum_before=$(sha256sum < "$T/root.img")
boot ovmf "$T/c.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
grep -q ROOT-INIT-DONE "$T/c.log.txt" || { tail -30 "$T/c.log.txt"; die "the root's init did not finish"; }
"$M" hash -b sha1,sha256,sha384,sha512 "$T/root.img" > "$T/host.txt"
for bank in sha1 sha256 sha384 sha512; do
	d=$(sed -n "s/^$bank \([0-9a-f]*\) .*/\1/p" "$T/host.txt")
	assert_eq "PCR 15 $bank (guest vs host)" "$(host_extend $bank "$d")" "$(guest_pcr "$T/c.log" $bank 15)"
done
grep -q OVERLAY-WRITE-OK "$T/c.log.txt" || die "overlay not writable"
assert_eq "image bytes unchanged by the boot" "$sum_before" "$(sha256sum < "$T/root.img")"
between "$T/c.log" CEL > "$T/cel.json"
grep -q '"pcr" *: *15' "$T/cel.json" || { cat "$T/cel.json"; die "no PCR 15 record in the CEL log"; }
d=$(sed -n "s/^sha256 \([0-9a-f]*\) .*/\1/p" "$T/host.txt")
grep -q "$d" "$T/cel.json" || die "CEL log lacks the image's sha256"
# The firmware's log and ours, replayed, give every PCR the guest read.
between "$T/c.log" FWLOG > "$T/fw.log"
[ -s "$T/fw.log" ] || die "no firmware event log from the guest"
"$M" eventlog replay "$T/fw.log" "$T/cel.json" > "$T/replay.txt" || die "eventlog replay failed"
n=0
while read -r bank pcr hex; do
	g=$(guest_pcr "$T/c.log" "$bank" "$pcr")
	[ -n "$g" ] || continue
	assert_eq "replay $bank PCR $pcr" "$g" "$hex"
	n=$((n + 1))
done < "$T/replay.txt"
[ "$n" -ge 16 ] || die "only $n replayed PCRs could be compared"
grep -q "^sha256 15 " "$T/replay.txt" || die "replay has no PCR 15"
ok "OVMF boot measured the root"
