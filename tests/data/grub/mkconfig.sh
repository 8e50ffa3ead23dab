#!/bin/sh
# How grub.cfg-efi and grub.cfg-bios were made (run as root on Debian 12;
# not run by the tests): Debian 12's own grub-mkconfig and /etc/grub.d
# scripts (grub-common, grub2-common 2.06-13+deb12u2, unpacked, not
# installed) in a private mount namespace, over a /boot holding Debian's
# kernel, an initrd and the kernel's config.  Loop devices here have no
# partitions, so grub-probe is replaced by a stand-in that answers for
# the disk the boot test builds (a virtio disk /dev/vda, partition 2 an
# ext4 file system with the UUID below, on a GPT or an MS-DOS label):
# every line of the output comes from Debian's scripts, only the device
# facts (device, file system, UUID, partition map, search hints) from
# the stand-in.
#
# usage: mkconfig.sh UNPACKED_DEBS_DIR KERNEL_VERSION KERNEL_BOOT_DIR OUTDIR
#   UNPACKED_DEBS_DIR: grub-common and grub2-common extracted (dpkg-deb -x)
set -eu
X=$1 KVER=$2 KBOOT=$3 OUT=$4
UUID=3c1b5d2e-8f4a-4b6c-9d7e-1a2b3c4d5e6f
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/sbin" "$W/etc/default" "$W/boot/grub"
cp "$KBOOT/vmlinuz-$KVER" "$KBOOT/config-$KVER" "$W/boot/"
printf 'initrd\n' > "$W/boot/initrd.img-$KVER"
# Debian's default /etc/default/grub (grub2-common), with a serial console
# and the test root's device added to the command line
sed -e 's|^GRUB_CMDLINE_LINUX=""|GRUB_CMDLINE_LINUX="console=ttyS0 measured.root=/dev/vda3"|' \
	"$X/usr/share/grub/default/grub" > "$W/etc/default/grub"

for label in gpt:efi msdos:bios; do
	pm=${label%%:*} name=${label#*:}
	cat > "$W/sbin/grub-probe" <<PROBE
#!/bin/sh
# stand-in for grub-probe: /dev/vda2, ext4 ($UUID) on a $pm label
t= d=
while [ \$# -gt 0 ]; do
	case "\$1" in
	-t|--target) t=\$2; shift;;
	--target=*) t=\${1#--target=};;
	-d|--device) d=1;;
	esac
	shift
done
case "\$t" in
device) echo /dev/vda2;;
fs) echo ext2;;
fs_uuid) echo $UUID;;
fs_label|abstraction|cryptodisk_uuid) echo;;
partuuid) echo 0f0e0d0c-1111-2222-3333-000000000002;;
partmap) echo $pm;;
drive) echo '(hd0,${pm}2)';;
compatibility_hint) echo 'hd0,${pm}2';;
hints_string) echo '--hint-bios=hd0,${pm}2 --hint-efi=hd0,${pm}2 --hint-baremetal=ahci0,${pm}2 ';;
*) echo "grub-probe stand-in: target \$t" >&2; exit 1;;
esac
PROBE
	chmod +x "$W/sbin/grub-probe"
	unshare -m sh -c '
		set -e
		W=$1 X=$2 R=$1/root
		# a root of its own (a tmpfs), so that paths are relative to "/"
		# as on an installed system: /boot and /usr/share/grub are plain
		# directories in it, the rest of /usr comes from the host
		mkdir -p "$R" && mount -t tmpfs none "$R"
		mkdir -p "$R/usr/bin" "$R/usr/sbin" "$R/usr/lib" "$R/usr/lib64" "$R/usr/share" "$R/etc" \
			"$R/dev/disk/by-uuid" "$R/proc" "$R/sys" "$R/tmp"
		for d in bin sbin lib lib64; do ln -s usr/$d "$R/$d"; done
		cp -a "$W/boot" "$R/boot"
		cp -a "$X/usr/share/grub" "$R/usr/share/grub"
		mount -t overlay none -o lowerdir="$W/sbin:$X/usr/sbin:/usr/sbin" "$R/usr/sbin"
		mount -t overlay none -o lowerdir="$X/usr/bin:/usr/bin" "$R/usr/bin"
		mount -t overlay none -o lowerdir="$X/usr/lib:/usr/lib" "$R/usr/lib"
		mount --bind /usr/lib64 "$R/usr/lib64"
		mount -t overlay none -o lowerdir="$W/etc:$X/etc:/etc" "$R/etc"
		mount -t proc none "$R/proc"
		mknod "$R/dev/null" c 1 3 && chmod 666 "$R/dev/null"
		mknod "$R/dev/vda2" b 252 2
		ln -s ../../vda2 "$R/dev/disk/by-uuid/'$UUID'"
		# a UEFI machine whose firmware offers its setup (OVMF does)
		if [ "$3" = efi ]; then
			mkdir -p "$R/sys/firmware/efi/efivars"
			printf "\007\000\000\000\001\000\000\000\000\000\000\000" \
				> "$R/sys/firmware/efi/efivars/OsIndicationsSupported-8be4df61-93ca-11d2-aa0d-00e098032b8c"
		fi
		chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin LC_ALL=C grub-mkconfig -o /tmp/grub.cfg
		cat "$R/tmp/grub.cfg"
	' sh "$W" "$X" "$name" > "$OUT/grub.cfg-$name"
done
