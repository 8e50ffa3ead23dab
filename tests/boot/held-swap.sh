#!/bin/sh
# Full-image mode, held from hash to mount: measured-init's held device
# (init/held.c, through tests/boot/held_swap.c) on a real loop device of
# this kernel.  The same device, unchanged, passes the check before the
# mount; the same name and device number pointed at another medium
# (LOOP_CHANGE_FD, as a changed CD or a re-plugged stick looks to the
# init) is refused, naming both disk sequence numbers.  Needs root (loop
# devices), as the other boot tests need QEMU.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
HELD_SWAP=$(dirname "$MEASURED_INIT")/tests/held-swap
[ -x "$HELD_SWAP" ] || die "no $HELD_SWAP (make check-boot builds it)"
command -v losetup >/dev/null || die "losetup is not installed"
head -c 1048576 /dev/zero > "$T/a.img"
head -c 1048576 /dev/urandom > "$T/b.img"
loopdev=$(losetup -r -f --show "$T/a.img") || die "cannot attach a loop device (not root?)"
trap 'losetup -d "$loopdev" 2>/dev/null; cleanup' EXIT INT TERM
seq=$(cat "/sys/class/block/$(basename "$loopdev")/diskseq")
"$HELD_SWAP" "$loopdev" "$T/b.img" > "$T/out.txt" || { cat "$T/out.txt"; die "held-swap failed"; }
cat "$T/out.txt"
assert_eq "the unchanged device passes" "before: same disk" "$(sed -n 's/^before: //p' "$T/out.txt" | sed 's/^/before: /')"
after=$(sed -n 's/^after: //p' "$T/out.txt")
case "$after" in
"$loopdev before the mount is another disk than the one hashed (disk sequence "*", hashed $seq): refusing it") ;;
*) die "the swapped device was not refused as expected: '$after'";;
esac
now=$(cat "/sys/class/block/$(basename "$loopdev")/diskseq")
[ "$now" -gt "$seq" ] || die "the kernel's disk sequence did not change ($seq, $now)"
assert_eq "the refusal names the kernel's new sequence number" \
	"$loopdev before the mount is another disk than the one hashed (disk sequence $now, hashed $seq): refusing it" "$after"
