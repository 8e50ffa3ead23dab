# measured-image: predict the PCR values an image boots into.
#
# At the end of the image build (IMAGE_POSTPROCESS_COMMAND runs inside
# do_image_complete, before its output is deployed) `measured predict`, built
# natively, computes the reference manifest from the artifacts themselves:
# the root image measured-init hashes, the kernel the firmware measures
# into PCR 4, the initrd and command line the EFI stub measures into PCR 9.
# The manifest lands beside the image as
# ${IMAGE_NAME}.measured.json (and ${IMAGE_LINK_NAME}.measured.json).

# The root image that measured-init measures: one of IMAGE_FSTYPES.
MEASURED_ROOTFS_FSTYPE ??= "squashfs"
# PCR measured-init extends (measured.pcr=, 8-15).
MEASURED_ROOTFS_PCR ??= "15"
MEASURED_BANKS ??= "sha1,sha256"
# The kernel's EFI stub measures these; leave MEASURED_KERNEL empty for a
# manifest of the root filesystem alone.
MEASURED_KERNEL ??= "${DEPLOY_DIR_IMAGE}/${KERNEL_IMAGETYPE}"
MEASURED_INITRAMFS_IMAGE ??= "measured-initramfs"
MEASURED_INITRD ??= "${DEPLOY_DIR_IMAGE}/${MEASURED_INITRAMFS_IMAGE}-${MACHINE}.cpio.gz"
MEASURED_CMDLINE ??= "measured.root=/dev/vda measured.pcr=${MEASURED_ROOTFS_PCR} console=ttyS0"
# Extra `measured predict` arguments, e.g. --firmware-log FILE of a golden log.
MEASURED_PREDICT_ARGS ??= ""

DEPENDS:append = " measured-native"
do_image_complete[depends] += "${@'virtual/kernel:do_deploy' if d.getVar('MEASURED_KERNEL') else ''} \
    ${@'${MEASURED_INITRAMFS_IMAGE}:do_image_complete' if d.getVar('MEASURED_INITRD') else ''}"

# measured_rootfs: print the path of this image's root image in IMGDEPLOYDIR.
# kirkstone names images ${IMAGE_NAME}${IMAGE_NAME_SUFFIX}.TYPE;
# scarthgap already has the suffix inside IMAGE_NAME.
measured_rootfs() {
	for n in "${IMAGE_NAME}${IMAGE_NAME_SUFFIX}" "${IMAGE_NAME}"; do
		if [ -e "${IMGDEPLOYDIR}/$n.${MEASURED_ROOTFS_FSTYPE}" ]; then
			echo "${IMGDEPLOYDIR}/$n.${MEASURED_ROOTFS_FSTYPE}"
			return 0
		fi
	done
	bbfatal "measured-image: no ${IMAGE_NAME}*.${MEASURED_ROOTFS_FSTYPE} in ${IMGDEPLOYDIR} (is ${MEASURED_ROOTFS_FSTYPE} in IMAGE_FSTYPES?)"
}

# measured_predict NAME ARGS...: run `measured predict` over the root image
# and ARGS, write ${rootfs%.TYPE}.NAME.json and its IMAGE_LINK_NAME link.
measured_predict() {
	name=$1
	shift
	rootfs=$(measured_rootfs)
	out="${rootfs%.${MEASURED_ROOTFS_FSTYPE}}.$name.json"
	measured predict --rootfs "$rootfs" --rootfs-pcr ${MEASURED_ROOTFS_PCR} \
		--bank ${MEASURED_BANKS} "$@" ${MEASURED_PREDICT_ARGS} -o "$out"
	if [ -n "${IMAGE_LINK_NAME}" ]; then
		ln -sf "$(basename "$out")" "${IMGDEPLOYDIR}/${IMAGE_LINK_NAME}.$name.json"
	fi
	bbnote "measured-image: reference manifest $out"
}

measured_predict_image() {
	set --
	if [ -n "${MEASURED_KERNEL}" ]; then
		set -- "$@" --kernel "${MEASURED_KERNEL}" --cmdline "${MEASURED_CMDLINE}"
	fi
	if [ -n "${MEASURED_INITRD}" ]; then
		set -- "$@" --initrd "${MEASURED_INITRD}"
	fi
	measured_predict measured "$@"
}
IMAGE_POSTPROCESS_COMMAND += "measured_predict_image;"
