#!/bin/sh
# `measured mkinitramfs` twice gives identical bytes; the archive holds
# what it should, checked with cpio(1) and zcat, not with our own reader.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
kernel_fetch || die "cannot fetch Debian's kernel"
make_initramfs "$T/a.img"
make_initramfs "$T/b.img"
cmp "$T/a.img" "$T/b.img" || die "two runs differ"
ok "identical bytes"
zcat "$T/a.img" | cpio -it --quiet > "$T/list" 2>/dev/null || die "not a gzip'ed cpio"
for want in init dev/console "lib/modules/$KERNEL_VER/modules.dep" \
	"lib/modules/$KERNEL_VER/kernel/fs/ext4/ext4.ko" "lib/modules/$KERNEL_VER/kernel/fs/jbd2/jbd2.ko" \
	"lib/modules/$KERNEL_VER/kernel/drivers/virtio/virtio_ring.ko"; do
	grep -qx "$want" "$T/list" || die "missing $want"
done
ok "members present"
zcat "$T/a.img" | cpio -itv --quiet 2>/dev/null | grep ' dev/console$' | grep -q '^crw-------.* 5, *1 ' ||
	die "dev/console is not char 5,1 mode 0600"
# Dependencies come first in the carried modules.dep's closure, and nothing
# unrequested is carried.
n=$(grep -c '\.ko$' "$T/list")
assert_eq "module count (6 requested + 7 dependencies)" 13 "$n"
( cd "$T" && zcat a.img | cpio -i --quiet --to-stdout init > init.out 2>/dev/null )
cmp "$T/init.out" "$MEASURED_INIT" || die "/init is not measured-init"
ok "mkinitramfs archive checked"
