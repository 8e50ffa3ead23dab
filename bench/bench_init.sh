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
# Speed: boot Debian's kernel in QEMU (TCG, SeaBIOS, swtpm) on a 256 MiB
# ext4 root and read measured-init's own CLOCK_MONOTONIC marks from the
# console: init start -> exec of the root's init, against the hashing time
# alone.  Target: less than 0.2 s beyond the hash.  BENCH_INIT_SMP (default
# 2: the init hashes the banks in one thread per CPU) guest CPUs;
# BENCH_INIT_MIB (default 256) image size.  The file system modules load
# while the device is hashed (init/modules.c): the breakdown before and
# after the hash is printed beside the totals.
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
for p in trousers tpm-tools libtspi1 tpm2-tools libtss2-tcti-device0 coreutils cpio gzip; do
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

# ---- speed: one boot under TCG ----
MEASURED_SRCDIR=$(cd "$here/.." && pwd)
export MEASURED_SRCDIR MEASURED_BIN MEASURED_INIT
# common.sh gives $T (removed on exit), $PIDS (stopped on exit) and die();
# its trap replaces ours, so $dir goes with it.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
trap 'cleanup; rm -rf "$dir"' EXIT INT TERM
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
make_root "$T/root"
mke2fs -q -t ext4 -E root_owner=0:0 -d "$T/root" "$T/root.img" "${MIB}M" || die "mke2fs failed"
make_initramfs "$T/initrd.img"
tpm_for_qemu bench
log=$T/console.log
s=$(date +%s.%N)
timeout 900 qemu-system-x86_64 -accel tcg -m 768 -smp "$SMP" -display none -monitor none -no-reboot \
	-serial file:"$log" -chardev socket,id=chrtpm,path="$TPM_SOCK" \
	-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
	-kernel "$KERNEL_IMAGE" -initrd "$T/initrd.img" -append "console=ttyS0 quiet measured.root=/dev/vda" \
	-drive file="$T/root.img",if=virtio,format=raw >"$log.qemu" 2>&1 || true
e=$(date +%s.%N)
tr -d '\r' < "$log" > "$log.txt"
grep -q ROOT-INIT-STARTED "$log.txt" || { tail -30 "$log.txt"; die "the bench root did not boot"; }
hash_s=$(sed -n 's/.*measured-init: timing: .*; hash \([0-9.]*\) s.*/\1/p' "$log.txt")
dev_s=$(sed -n 's/.*measured-init: timing: .* device \([0-9.]*\) .*/\1/p' "$log.txt")
mods_s=$(sed -n 's/.*measured-init: timing: modules \([0-9.]*\) .*/\1/p' "$log.txt")
hashed_s=$(sed -n 's/.*measured-init: timing: .* hashed \([0-9.]*\) .*/\1/p' "$log.txt")
total_s=$(sed -n 's/.*measured-init: exec .* \([0-9.]*\) s after init start.*/\1/p' "$log.txt")
[ -n "$hash_s" ] && [ -n "$total_s" ] || { grep measured-init "$log.txt"; die "no timing lines on the console"; }
echo
echo "speed: ${MIB} MiB ext4 root, QEMU TCG -smp $SMP, SeaBIOS, swtpm; guest CLOCK_MONOTONIC"
grep -E 'measured-init: (hashed|timing|digest)' "$log.txt" | sed 's/^/  /'
awk -v h="$hash_s" -v t="$total_s" -v d="$dev_s" -v m="$mods_s" -v e="$hashed_s" -v mib="$MIB" -v w="$(echo "$s $e" | awk '{ print $2 - $1 }')" 'BEGIN {
	printf "init start -> exec of the root init: %8.3f s\n", t
	printf "hashing alone:                       %8.3f s (%.1f MiB/s, every bank)\n", h, mib / h
	printf "difference:                          %8.3f s (target < 0.200)\n", t - h
	printf "  before the hash (drivers, TPM, device): %.3f s; after it (extend, read, log, mount, switch): %.3f s\n", d, t - e
	printf "  all modules in at %.3f s (the file system ones load during the hash)\n", m
	printf "whole QEMU run, host wall clock:     %8.1f s\n", w }'
if echo "$hash_s $total_s" | awk '{ exit !($2 - $1 < 0.2) }'; then
	echo "speed target (< 0.2 s beyond the hash): PASS"
else
	echo "speed target (< 0.2 s beyond the hash): FAIL"
	status=1
fi
exit $status
