# measured-live: a live boot medium whose root is measured before it is used.
#
# A hybrid ISO (a CD, or written as it is to a USB stick) that boots on BIOS
# through isolinux and on UEFI through GRUB (oe-core's image-live), holding:
#   /rootfs.img                this image's root (MEASURED_ROOTFS_FSTYPE)
#   /${KERNEL_IMAGETYPE}, /initrd   the kernel and measured-initramfs
#   /tboot.gz, /ACM.bin ...    with MEASURED_LIVE_TBOOT = "1" (the default
#                              with MACHINE_FEATURES txt)
# and two boot entries in both loaders: "measured-tboot" (tboot through
# mboot.c32 or GRUB's multiboot2, the kernel and initrd as its modules, the
# SINIT ACMs as the last modules; the default with tboot) and "measured"
# (the kernel alone).  measured-init finds the medium by its ISO 9660 label,
# hashes rootfs.img into PCR ${MEASURED_ROOTFS_PCR}, and mounts it read-only
# under a RAM overlay (measured.root=LABEL=...:/rootfs.img).
#
# The reference manifests are predicted in the same build (measured-image):
#   IMAGE_NAME.measured.json   the root image (and whatever MEASURED_KERNEL,
#                              MEASURED_INITRD, MEASURED_PREDICT_ARGS add)
#   IMAGE_NAME.tboot.json      with tboot: the root image plus PCR 17/18 of
#                              the launch (MLE, modules, policy; with
#                              MEASURED_SINIT_INFO also SINIT's part)
#
# kirkstone and scarthgap: image-live and its variables are the same in both.

inherit image-live measured-image

MEASURED_LIVE_LABEL ??= "MEASURED"
MEASURED_LIVE_CONSOLE ??= "console=tty0 console=ttyS0,115200"
MEASURED_LIVE_TBOOT ??= "${@bb.utils.contains('MACHINE_FEATURES', 'txt', '1', '0', d)}"
MEASURED_TBOOT_CMDLINE ??= "logging=serial,memory,vga"
# The SINIT ACMs on the medium (file names as deployed by sinit-acm).
MEASURED_LIVE_ACMS ??= "${SINIT_ACMS}"
# key=value facts of the SINIT (measured predict --sinit; docs/predict-formulas.md).
MEASURED_SINIT_INFO ??= ""
MEASURED_LIVE_TIMEOUT ??= "5"

BOOTIMG_VOLUME_ID = "${MEASURED_LIVE_LABEL}"
LIVE_ROOTFS_TYPE = "${MEASURED_ROOTFS_FSTYPE}"
IMAGE_FSTYPES:append = " ${MEASURED_ROOTFS_FSTYPE} iso"
INITRD_IMAGE_LIVE = "${MEASURED_INITRAMFS_IMAGE}"
ROOT_LIVE = ""
LABELS_LIVE = "measured-tboot measured"

MEASURED_CMDLINE = "measured.root=LABEL=${MEASURED_LIVE_LABEL}:/rootfs.img measured.pcr=${MEASURED_ROOTFS_PCR} ${MEASURED_LIVE_CONSOLE}"
# Which loader runs on UEFI (GRUB) and what it measures differs from a
# directly started kernel: by default the manifest predicts the root image
# (and tboot's PCRs); add PCR 0-9 with a golden firmware log
# (MEASURED_PREDICT_ARGS = "--firmware-log FILE").
MEASURED_KERNEL ??= ""
MEASURED_INITRD ??= ""

do_bootimg[depends] += "${@'tboot:do_deploy tboot-native:do_populate_sysroot sinit-acm:do_deploy' if d.getVar('MEASURED_LIVE_TBOOT') == '1' else ''}"
do_image_complete[depends] += "${@'tboot:do_deploy' if d.getVar('MEASURED_LIVE_TBOOT') == '1' else ''}"

# measured_live_acm_modules SEP: " SEP /ACM" for each ACM, in order.
measured_live_acm_modules() {
	for a in ${MEASURED_LIVE_ACMS}; do
		printf ' %s /%s' "$1" "$a"
	done
}

# isolinux: mboot.c32 loads tboot with the kernel, initrd and ACMs as
# modules, each "---"-separated.
build_syslinux_cfg() {
	{
		echo "SERIAL 0 115200"
		echo "PROMPT 1"
		echo "TIMEOUT $(expr ${MEASURED_LIVE_TIMEOUT} \* 10)"
		if [ "${MEASURED_LIVE_TBOOT}" = "1" ]; then
			echo "DEFAULT measured-tboot"
			echo "LABEL measured-tboot"
			echo "  KERNEL mboot.c32"
			echo "  APPEND /tboot.gz ${MEASURED_TBOOT_CMDLINE} --- /${KERNEL_IMAGETYPE} ${MEASURED_CMDLINE} --- /initrd$(measured_live_acm_modules ---)"
		else
			echo "DEFAULT measured"
		fi
		echo "LABEL measured"
		echo "  KERNEL /${KERNEL_IMAGETYPE}"
		echo "  APPEND initrd=/initrd ${MEASURED_CMDLINE}"
	} > ${SYSLINUX_CFG}
}

# GRUB (UEFI): multiboot2 tboot, module2 for the rest.
build_efi_cfg() {
	{
		echo "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"
		echo "terminal_input console serial"
		echo "terminal_output console serial"
		echo "timeout=${MEASURED_LIVE_TIMEOUT}"
		if [ "${MEASURED_LIVE_TBOOT}" = "1" ]; then
			echo "default=measured-tboot"
			echo "menuentry 'measured (tboot)' --id measured-tboot {"
			echo "  multiboot2 /tboot.gz ${MEASURED_TBOOT_CMDLINE}"
			echo "  module2 /${KERNEL_IMAGETYPE} ${MEASURED_CMDLINE}"
			echo "  module2 /initrd"
			for a in ${MEASURED_LIVE_ACMS}; do
				echo "  module2 /$a"
			done
			echo "}"
		else
			echo "default=measured"
		fi
		echo "menuentry 'measured' --id measured {"
		echo "  linux /${KERNEL_IMAGETYPE} ${MEASURED_CMDLINE}"
		echo "  initrd /initrd"
		echo "}"
	} > ${GRUB_CFG}
}

# tboot and the ACMs beside the kernel: on the medium, and in the EFI
# system partition image the ISO carries for UEFI.
measured_live_populate() {
	if [ "${MEASURED_LIVE_TBOOT}" = "1" ]; then
		install -m 0644 ${DEPLOY_DIR_IMAGE}/tboot.gz $1/tboot.gz
		for a in ${MEASURED_LIVE_ACMS}; do
			install -m 0644 ${DEPLOY_DIR_IMAGE}/sinit-acm/$a $1/$a
		done
	fi
}
populate_live:append() {
	measured_live_populate $1
}
efi_iso_populate:append() {
	measured_live_populate ${EFIIMGDIR}
}
syslinux_iso_populate:append() {
	install -m 0444 ${STAGING_DATADIR}/syslinux/mboot.c32 ${ISODIR}${ISOLINUXDIR}/
	install -m 0444 ${STAGING_DATADIR}/syslinux/libcom32.c32 ${ISODIR}${ISOLINUXDIR}/
}

# The tboot entry's manifest: the same module command lines as the GRUB
# entry above.
measured_predict_tboot() {
	if [ "${MEASURED_LIVE_TBOOT}" != "1" ]; then
		return 0
	fi
	set -- --tboot ${DEPLOY_DIR_IMAGE}/tboot.gz --tboot-cmdline "${MEASURED_TBOOT_CMDLINE}" \
		--tboot-module "${DEPLOY_DIR_IMAGE}/${KERNEL_IMAGETYPE}:${MEASURED_CMDLINE}" \
		--tboot-module "${INITRD_LIVE}:"
	if [ -n "${MEASURED_SINIT_INFO}" ]; then
		set -- "$@" --sinit "${MEASURED_SINIT_INFO}"
	fi
	measured_predict tboot "$@"
}
IMAGE_POSTPROCESS_COMMAND += "measured_predict_tboot;"
