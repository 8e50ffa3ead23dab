#!/bin/sh
# Predicting whole boot chains from their files, with Debian 12's packages:
# `measured predict --shim-grub` (shim, GRUB, a kernel, a 32 MiB initrd,
# OVMF's variables; every bank) and `measured predict --systemd-boot` on a
# UKI of the same kernel and initrd, against `systemd-measure calculate`
# for the same UKI's PCR 11 in the same banks, and against sha256sum +
# sha1sum + sha384sum + sha512sum of the same files (reading and hashing
# them once per bank: a floor).  BENCH_RUNS (default 5) runs; the median
# counts.  No target: the figures are for the record (docs/predict-formulas.md).
set -eu
MEASURED_SRCDIR=${MEASURED_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
: "${MEASURED_BIN:=$MEASURED_SRCDIR/build/measured}"
export MEASURED_SRCDIR MEASURED_BIN
RUNS=${BENCH_RUNS:-5}
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/kernel.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
kernel_fetch || die "cannot fetch Debian's kernel"
chains_fetch
SDMEASURE=/usr/lib/systemd/systemd-measure
[ -x "$SDMEASURE" ] || die "no $SDMEASURE"

median() {
	for i in $(seq "$RUNS"); do
		s=$(date +%s.%N)
		"$@" > /dev/null 2>&1 || { echo "bench_chain: '$*' failed" >&2; exit 1; }
		e=$(date +%s.%N)
		echo "$s $e" | awk '{ printf "%.4f\n", $2 - $1 }'
	done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

E=$T/esp
mkdir -p "$E/EFI/BOOT" "$E/EFI/debian" "$E/EFI/Linux" "$E/loader"
cp "$SHIM" "$E/EFI/BOOT/BOOTX64.EFI"
cp "$GRUBX64" "$E/EFI/BOOT/grubx64.efi"
cp "$KERNEL_IMAGE" "$E/vmlinuz"
head -c $((32 << 20)) /dev/urandom > "$E/initrd.img"
printf 'set timeout=0\nmenuentry Debian {\n\tlinux /vmlinuz console=ttyS0 quiet\n\tinitrd /initrd.img\n}\n' \
	> "$E/EFI/debian/grub.cfg"
printf 'ID=debian\nVERSION_ID=12\n' > "$T/osrel"
printf 'console=ttyS0 quiet' > "$T/cmdline"
make_uki "$E/EFI/Linux/debian.efi" "$T/osrel" "$T/cmdline" "$KERNEL_IMAGE" "$E/initrd.img"
cat "$E/EFI/BOOT/BOOTX64.EFI" "$E/EFI/BOOT/grubx64.efi" "$E/vmlinuz" "$E/initrd.img" > /dev/null

ALL=sha1,sha256,sha384,sha512
t_shim=$(median "$M" predict --bank $ALL --shim-grub --esp "$E" --efi-vars "$OVMF_MS_VARS" --show)
t_uki=$(median "$M" predict --bank $ALL --systemd-boot '\EFI\Linux\debian.efi' --esp "$E" --show)
t_sdm=$(median "$SDMEASURE" calculate --linux="$KERNEL_IMAGE" --osrel="$T/osrel" --cmdline="$T/cmdline" \
	--initrd="$E/initrd.img" --bank=sha1 --bank=sha256 --bank=sha384 --bank=sha512 --phase='')
t_sum=$(median sh -c "for a in sha1 sha256 sha384 sha512; do \${a}sum '$E/EFI/BOOT/BOOTX64.EFI' \
	'$E/EFI/BOOT/grubx64.efi' '$E/vmlinuz' '$E/initrd.img'; done")

echo "chain files: shim $(stat -c %s "$SHIM") B, GRUB $(stat -c %s "$GRUBX64") B, kernel $(stat -c %s "$KERNEL_IMAGE") B, initrd 32 MiB; 4 banks; median of $RUNS runs, $(nproc) cores"
printf '%-58s %8.4f s\n' "measured predict --shim-grub (PCR 4 7 8 9 14)" "$t_shim"
printf '%-58s %8.4f s\n' "measured predict --systemd-boot (PCR 4 9 11 12)" "$t_uki"
printf '%-58s %8.4f s\n' "systemd-measure calculate (PCR 11 only)" "$t_sdm"
printf '%-58s %8.4f s\n' "sha1sum+sha256sum+sha384sum+sha512sum of the shim chain's files" "$t_sum"
echo "ratio predict --systemd-boot / systemd-measure: $(echo "$t_uki $t_sdm" | awk '{ printf "%.2f", $1 / $2 }')"
echo "ratio predict --shim-grub / hashing its files:  $(echo "$t_shim $t_sum" | awk '{ printf "%.2f", $1 / $2 }')"
