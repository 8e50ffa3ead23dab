#!/bin/sh
# SeaBIOS boots: the rootfs PCR equals the host's value in every bank; a
# file written in the guest lives in the RAM overlay only: the image's
# bytes are unchanged, and a second boot measures the same value and does
# not see the file.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
make_image "$T/root" "$T/root.img"
make_initramfs "$T/initrd.img"
sum=$(sha256sum < "$T/root.img")
"$M" hash -b sha1,sha256,sha384,sha512 "$T/root.img" > "$T/host.txt"
for run in 1 2; do
	boot seabios "$T/c$run.log" "$T/root.img" "$T/initrd.img" "measured.root=/dev/vda"
	grep -q ROOT-INIT-DONE "$T/c$run.log.txt" || { tail -30 "$T/c$run.log.txt"; die "boot $run: root's init did not finish"; }
	for bank in sha1 sha256 sha384 sha512; do
		d=$(sed -n "s/^$bank \([0-9a-f]*\) .*/\1/p" "$T/host.txt")
		assert_eq "boot $run: PCR 15 $bank" "$(host_extend $bank "$d")" "$(guest_pcr "$T/c$run.log" $bank 15)"
	done
	grep -q OVERLAY-WRITE-OK "$T/c$run.log.txt" || die "boot $run: overlay not writable"
	assert_eq "boot $run: image bytes unchanged" "$sum" "$(sha256sum < "$T/root.img")"
done
# The root's init writes /overlay-test on every boot; if the first boot's
# file had reached the image, its bytes would have changed (checked above).
between "$T/c1.log" FWLOG > "$T/fw.log"
[ -s "$T/fw.log" ] || die "SeaBIOS left no event log"
"$M" eventlog replay "$T/fw.log" > "$T/replay.txt" || die "replay of SeaBIOS's log failed"
assert_eq "SeaBIOS log replays PCR 0" "$(guest_pcr "$T/c1.log" sha256 0)" "$(sed -n 's/^sha256 0 //p' "$T/replay.txt")"
ok "SeaBIOS boots measured the same root twice"
