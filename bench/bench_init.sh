#!/bin/sh
# measured-init's footprint and speed.
#
# Footprint: the bytes each approach adds to an initramfs, every file it
# needs (dynamic loader and libraries included) resolved as `measured
# mkinitramfs` resolves them (lib/initramfs/elfdeps.c, via
# $BUILD/bench/bench_initdeps), uncompressed and as a gzip -9 newc cpio:
#   measured-init  the static binary alone;
#   original       meta-measured's: sha1sum + trousers' tcsd (+ libtspi) +
#                  tpm_version standing in for its patched tpm_extendpcr
#                  (same package, same libtspi/libcrypto needs);
#   tpm2-tools     tpm2_pcrextend + sha256sum + the device TCTI that
#                  libtss2-tctildr dlopen()s.
# Target: measured-init <= 1.5 MiB uncompressed.
#
# Speed, as a ratio against Debian's own initramfs (initramfs-tools): boot
# Debian's kernel in QEMU (TCG, SeaBIOS, swtpm) on the same MIB ext4 root
# (/dev/vda), with the same modules, once with measured-init and once with
# an initramfs-tools initramfs (MODULES=list, the same module list, built
# for the same kernel in a private mount namespace: nothing on the host
# changes).  For each, the time from the kernel's "Run /init" to the root's
# own init (the root's /sbin/init reads /proc/uptime and the kernel's
# timestamp of "Run /init" from dmesg).  initramfs-tools measures nothing,
# so measured-init's hash time (its own console line) is subtracted from
# its total.  Target: measured-init's overhead beyond the hash at most 0.5x
# initramfs-tools' whole time.  BENCH_INIT_SMP (default 2) guest CPUs;
# BENCH_INIT_MIB (default 256) image size.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${MEASURED_BIN:=$here/../build/measured}"
: "${MEASURED_BUILDDIR:=$(dirname "$MEASURED_BIN")}"
: "${MEASURED_INIT:=$MEASURED_BUILDDIR/measured-init}"
DEPS=$MEASURED_BUILDDIR/bench/bench_initdeps
SMP=${BENCH_INIT_SMP:-2}
MIB=${BENCH_INIT_MIB:-256}
LIMIT=$((1536 * 1024))
status=0

for f in "$MEASURED_INIT" "$DEPS" "$MEASURED_BIN"; do
	[ -x "$f" ] || { echo "bench_init: $f is not built (make bench)"; exit 1; }
done

# The baselines come from Debian's packages (also in scripts/deps.sh).
need=""
for p in trousers tpm-tools libtspi1 tpm2-tools libtss2-tcti-device0 coreutils cpio gzip initramfs-tools-core; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	echo "bench_init: installing$need"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		{ echo "bench_init: apt-get install$need failed"; exit 1; }
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/measured-bench-init.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# footprint NAME FILE...: "BYTES GZBYTES NFILES" of FILE... and everything they load.
footprint() {
	name=$1; shift
	"$DEPS" "$@" > "$dir/$name.files" || { echo "bench_init: cannot resolve $name"; exit 1; }
	bytes=$(awk '{ s += $1 } END { print s }' "$dir/$name.files")
	gz=$(cut -d' ' -f2 "$dir/$name.files" | cpio --quiet -o -H newc | gzip -9 | wc -c)
	echo "$bytes $gz $(wc -l < "$dir/$name.files")"
}
mib() { echo "$1" | awk '{ printf "%.2f MiB", $1 / 1048576 }'; }

tpm2_tcti=$(ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 2>/dev/null || true)
[ -n "$tpm2_tcti" ] || { echo "bench_init: no libtss2-tcti-device.so.0"; exit 1; }
set -- $(footprint init "$MEASURED_INIT"); m_b=$1 m_gz=$2 m_n=$3
set -- $(footprint orig /usr/bin/sha1sum /usr/sbin/tcsd /usr/sbin/tpm_version); o_b=$1 o_gz=$2 o_n=$3
set -- $(footprint tpm2 /usr/bin/tpm2_pcrextend /usr/bin/sha256sum "$tpm2_tcti"); t_b=$1 t_gz=$2 t_n=$3
cp "$MEASURED_INIT" "$dir/stripped"
strip --strip-all "$dir/stripped"
s_b=$(stat -c %s "$dir/stripped")

echo "footprint: bytes added to an initramfs (gzip: gzip -9 of a newc cpio of those files)"
printf '%-44s %10s %12s %10s %12s\n' approach files bytes "" gzip
printf '%-44s %10s %12s %10s %12s\n' "measured-init (static, as built, -g)" "$m_n" "$m_b" "($(mib "$m_b"))" "$m_gz"
printf '%-44s %10s %12s %10s\n' "  (stripped, for comparison)" 1 "$s_b" "($(mib "$s_b"))"
printf '%-44s %10s %12s %10s %12s\n' "original: sha1sum+tcsd+libtspi+tpm_version" "$o_n" "$o_b" "($(mib "$o_b"))" "$o_gz"
printf '%-44s %10s %12s %10s %12s\n' "tpm2-tools: tpm2_pcrextend+sha256sum+TCTI" "$t_n" "$t_b" "($(mib "$t_b"))" "$t_gz"
awk -v m="$m_b" -v o="$o_b" -v t="$t_b" -v mg="$m_gz" -v og="$o_gz" -v tg="$t_gz" 'BEGIN {
	printf "ratio original / measured-init:   %.1f x (gzip %.1f x)\n", o / m, og / mg
	printf "ratio tpm2-tools / measured-init: %.1f x (gzip %.1f x)\n", t / m, tg / mg }'
if [ "$m_b" -le "$LIMIT" ]; then
	echo "footprint target (measured-init complete <= 1.5 MiB uncompressed): PASS"
else
	echo "footprint target (measured-init complete <= 1.5 MiB uncompressed): FAIL"
	status=1
fi
echo "files: original:"; sed 's/^/  /' "$dir/orig.files"
echo "files: tpm2-tools:"; sed 's/^/  /' "$dir/tpm2.files"

# ---- speed: measured-init against initramfs-tools, under TCG ----
MEASURED_SRCDIR=$(cd "$here/.." && pwd)
export MEASURED_SRCDIR MEASURED_BIN MEASURED_INIT
# common.sh gives $T (removed on exit), $PIDS (stopped on exit) and die();
# its trap replaces ours, so $dir goes with it.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
trap 'cleanup; rm -rf "$dir"' EXIT INT TERM
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
# the root's init reports when it started, in the kernel's clock, first
ln -sf busybox "$T/root/bin/dmesg"
ln -sf busybox "$T/root/bin/head"
sed -i '2a mount -t proc proc /proc 2>/dev/null; echo "ROOT-UPTIME $(cat /proc/uptime)"; dmesg | grep -m1 "Run /init as init process" | sed "s/^/ROOT-RUNINIT /"' \
	"$T/root/sbin/init"
mke2fs -q -t ext4 -E root_owner=0:0 -d "$T/root" "$T/root.img" "${MIB}M" || die "mke2fs failed"
make_initramfs "$T/initrd.img"

# Debian's initramfs for the same kernel and modules: the unpacked kernel's
# modules appear as /lib/modules/VER only inside a private mount namespace
# (an overlay on /usr/lib, a tmpfs on /boot for its config).
mkdir -p "$T/itc/conf" "$T/itc/up" "$T/itc/wk"
printf 'MODULES=list\nBUSYBOX=n\nCOMPRESS=gzip\nRESUME=none\n' > "$T/itc/conf/initramfs.conf"
printf '%s\n' $BOOT_MODULES > "$T/itc/conf/modules"
kroot=${KERNEL_MODDIR%/lib/modules/*}
unshare -m sh -c "mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=$T/itc/up,workdir=$T/itc/wk /usr/lib &&
	mkdir -p /lib/modules/$KERNEL_VER && mount --bind $KERNEL_MODDIR /lib/modules/$KERNEL_VER &&
	mount -t tmpfs none /boot && cp $kroot/boot/config-$KERNEL_VER /boot/ &&
	mkinitramfs -d $T/itc/conf -o $T/itc/initrd.img $KERNEL_VER" > "$T/itc/log" 2>&1 ||
	{ cat "$T/itc/log"; die "initramfs-tools' mkinitramfs failed"; }

# run NAME INITRD APPEND: boot; sets RUN_S (Run /init -> root init, s)
run() {
	tpm_for_qemu "$1"
	log=$T/$1.log
	timeout 900 qemu-system-x86_64 -accel tcg -m 768 -smp "$SMP" -display none -monitor none -no-reboot \
		-serial file:"$log" -chardev socket,id=chrtpm,path="$TPM_SOCK" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		-kernel "$KERNEL_IMAGE" -initrd "$2" -append "console=ttyS0 quiet $3" \
		-drive file="$T/root.img",if=virtio,format=raw >"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	grep -q ROOT-INIT-STARTED "$log.txt" || { tail -30 "$log.txt"; die "$1: the bench root did not boot"; }
	up=$(sed -n 's/^ROOT-UPTIME \([0-9.]*\) .*/\1/p' "$log.txt")
	ri=$(sed -n 's/^ROOT-RUNINIT \[ *\([0-9.]*\)\].*/\1/p' "$log.txt")
	[ -n "$up" ] && [ -n "$ri" ] || { tail -30 "$log.txt"; die "$1: no ROOT-UPTIME/ROOT-RUNINIT lines"; }
	RUN_S=$(awk -v u="$up" -v r="$ri" 'BEGIN { printf "%.3f", u - r }')
}
run measured "$T/initrd.img" "measured.root=/dev/vda"
ours=$RUN_S
grep -E 'measured-init: (hashed|timing)' "$T/measured.log.txt" | sed 's/^/  /'
hash_s=$(sed -n 's/.*measured-init: timing: .*; hash \([0-9.]*\) s.*/\1/p' "$T/measured.log.txt")
[ -n "$hash_s" ] || die "no measured-init timing line on the console"
run initramfs-tools "$T/itc/initrd.img" "root=/dev/vda rootfstype=ext4 ro"
theirs=$RUN_S

echo
echo "speed: ${MIB} MiB ext4 root, QEMU TCG -smp $SMP, SeaBIOS, swtpm; \"Run /init\" -> the root's init, guest clock"
awk -v o="$ours" -v h="$hash_s" -v d="$theirs" -v mib="$MIB" 'BEGIN {
	printf "measured-init, whole:                 %8.3f s\n", o
	printf "  of it hashing (every bank):         %8.3f s (%.1f MiB/s)\n", h, mib / h
	printf "  beyond the hash:                    %8.3f s\n", o - h
	printf "initramfs-tools (measures nothing):   %8.3f s\n", d
	printf "ratio measured-init beyond hash / initramfs-tools: %.2f (target <= 0.50)\n", (o - h) / d }'
if awk -v o="$ours" -v h="$hash_s" -v d="$theirs" 'BEGIN { exit !((o - h) / d <= 0.5) }'; then
	echo "speed target (overhead beyond the hash <= 0.5 x initramfs-tools): PASS"
else
	echo "speed target (overhead beyond the hash <= 0.5 x initramfs-tools): FAIL"
	status=1
fi
exit $status
