#!/bin/sh
# Boot time against root size, for a dm-verity root and the full-image
# hash: QEMU (TCG, SeaBIOS, swtpm, -smp 2) boots Debian's kernel on an
# ext4 root of each size in BENCH_VERITY_SIZES (MiB, default "64 2048"),
# BENCH_VERITY_RUNS times each (default 5), and reads measured-init's own
# CLOCK_MONOTONIC mark "exec /sbin/init T s after init start": from the
# moment the kernel ran /init to the exec of the root's init.
#
# Target: with verity, the largest root boots in the same time as the
# smallest within noise: the medians differ by less than the larger of
# the two spreads (max - min over the runs) or 5 % of the smaller median.
# The full-hash times are printed beside them (one run each: they grow
# with the size, which is the point).  Also printed: the host's time for
# `veritysetup format` and for `measured predict --rootfs-verity` (its own
# tree code) on each image, and where the last verity boot of each size
# spent its time.  BENCH_VERITY_FULL=0 leaves the full-hash boots out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${MEASURED_BIN:=$here/../build/measured}"
: "${MEASURED_BUILDDIR:=$(dirname "$MEASURED_BIN")}"
: "${MEASURED_INIT:=$MEASURED_BUILDDIR/measured-init}"
SIZES=${BENCH_VERITY_SIZES:-64 2048}
RUNS=${BENCH_VERITY_RUNS:-5}
MEASURED_SRCDIR=$(cd "$here/.." && pwd)
export MEASURED_SRCDIR MEASURED_BIN MEASURED_INIT
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
boot_prereqs
command -v veritysetup >/dev/null || die "veritysetup is not installed (package cryptsetup-bin)"
status=0

make_root "$T/root"
BOOT_MODULES="$BOOT_MODULES dm_verity"
make_initramfs "$T/initrd.img"

# boot_time IMG APPEND: seconds from init start to the exec of the root's init
boot_time() {
	tpm_for_qemu "bench-$$-$(date +%s%N)"
	log=$T/console.log
	rm -f "$log"
	timeout 1800 qemu-system-x86_64 -accel tcg -m 768 -smp 2 -display none -monitor none -no-reboot \
		-serial file:"$log" -chardev socket,id=chrtpm,path="$TPM_SOCK" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		-kernel "$KERNEL_IMAGE" -initrd "$T/initrd.img" -append "console=ttyS0 quiet $2" \
		-drive file="$1",if=virtio,format=raw >"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	grep -q ROOT-INIT-STARTED "$log.txt" || { tail -40 "$log.txt" >&2; die "the bench root did not boot ($2)"; }
	grep 'measured-init: timing:' "$log.txt" > "$T/timing-last.txt" || true
	sed -n 's/.*measured-init: exec .* \([0-9.]*\) s after init start.*/\1/p' "$log.txt"
}
# median and spread of the numbers on stdin: "MEDIAN SPREAD"
stats() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[NR] - v[1] }'; }

echo "boot time (init start -> exec of the root's init), QEMU TCG -smp 2, SeaBIOS, swtpm"
echo "$RUNS verity run(s) per size, the sizes taking turns so that the host's load falls on each alike"
for mib in $SIZES; do
	img=$T/root-$mib.img
	bytes=$((mib * 1048576))
	mke2fs -q -t ext4 -b 4096 -E root_owner=0:0 -d "$T/root" "$img" "${mib}M" || die "mke2fs failed"
	full=0
	[ "${BENCH_VERITY_FULL:-1}" = 0 ] || full=$(boot_time "$img" "measured.root=/dev/vda")
	[ -n "$full" ] || die "no full-hash time for $mib MiB"
	echo "$full" > "$T/full-$mib.txt"
	t0=$(date +%s.%N)
	veritysetup format "$img" "$img" --hash-offset=$bytes > "$T/vs-$mib.txt" || die "veritysetup format failed"
	t1=$(date +%s.%N)
	"$M" predict --rootfs-verity "$img" --verity-hash-offset $bytes --verity-devices 254:0 -b sha256 --show \
		> /dev/null || die "measured predict --rootfs-verity failed"
	t2=$(date +%s.%N)
	echo "$t0 $t1 $t2" | awk '{ printf "%.2f s / %.2f s\n", $2 - $1, $3 - $2 }' > "$T/host-$mib.txt"
	: > "$T/v-$mib.txt"
done
for _ in $(seq "$RUNS"); do
	for mib in $SIZES; do
		root=$(sed -n 's/^Root hash:[[:space:]]*\([0-9a-f]*\)$/\1/p' "$T/vs-$mib.txt")
		t=$(boot_time "$T/root-$mib.img" \
			"measured.root=/dev/vda measured.verity.roothash=$root measured.verity.hashoffset=$((mib * 1048576))")
		[ -n "$t" ] || die "no verity time for $mib MiB"
		echo "$t" >> "$T/v-$mib.txt"
		sed "s/^/${mib} MiB, verity: /" "$T/timing-last.txt" >> "$T/timings.txt"
	done
done
printf '%-10s %-44s %-12s %s\n' "root" "verity: median (spread) / runs" "full hash" "host: veritysetup format / measured predict"
for mib in $SIZES; do
	set -- $(stats < "$T/v-$mib.txt")
	full=$(cat "$T/full-$mib.txt")
	echo "$mib $1 $2 $full" >> "$T/summary.txt"
	printf '%-10s %-44s %-12s %s\n' "${mib} MiB" "$1 s ($2 s) / $(tr '\n' ' ' < "$T/v-$mib.txt")" "$full s" \
		"$(cat "$T/host-$mib.txt")"
done
echo "where a verity boot spends its time (seconds from init start; the last run of each size):"
for mib in $SIZES; do grep "^$mib MiB" "$T/timings.txt" | tail -n 1 | sed 's/^/  /'; done
awk 'NR == 1 { s = $1; sm = $2; ss = $3; sf = $4 } { l = $1; lm = $2; ls = $3; lf = $4 }
END {
	noise = (ss > ls ? ss : ls); if (0.05 * sm > noise) noise = 0.05 * sm
	d = lm - sm; if (d < 0) d = -d
	printf "verity %d MiB / %d MiB: %.3f s / %.3f s = %.2f x (difference %.3f s, noise %.3f s)\n", l, s, lm, sm, lm / sm, d, noise
	if (sf > 0) {
		printf "full hash %d MiB / %d MiB: %.3f s / %.3f s = %.1f x\n", l, s, lf, sf, lf / sf
		printf "at %d MiB: full hash / verity = %.1f x\n", l, lf / lm
	}
	exit !(d <= noise) }' "$T/summary.txt" && res=PASS || res=FAIL
echo "verity target (boot time independent of the root size, within noise): $res"
[ $res = PASS ] || status=1
exit $status
