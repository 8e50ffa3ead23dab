SUMMARY = "Initramfs whose PID 1 is measured-init"
DESCRIPTION = "measured-init hashes the root filesystem image, extends a TPM \
PCR with it, logs the event in CEL-JSON, mounts the root read-only under a \
RAM overlay and hands over.  Nothing else is in this image."
LICENSE = "MIT"

INITRAMFS_FSTYPES ??= "cpio.gz"
IMAGE_FSTYPES = "${INITRAMFS_FSTYPES}"
IMAGE_NAME_SUFFIX ?= ""

# Only the static init: no shell, no libc, no package manager.
PACKAGE_INSTALL = "measured-init"
IMAGE_FEATURES = ""
IMAGE_LINGUAS = ""
NO_RECOMMENDATIONS = "1"
IMAGE_ROOTFS_SIZE = "4096"
IMAGE_ROOTFS_EXTRA_SPACE = "0"

inherit core-image

# The kernel runs /init; it also needs /dev/console before devtmpfs is up,
# or the init's messages go nowhere.
measured_initramfs_layout() {
	ln -sf ${libexecdir}/measured/measured-init ${IMAGE_ROOTFS}/init
	install -d ${IMAGE_ROOTFS}/dev ${IMAGE_ROOTFS}/proc ${IMAGE_ROOTFS}/sys \
	    ${IMAGE_ROOTFS}/run ${IMAGE_ROOTFS}/newroot
	mknod -m 0600 ${IMAGE_ROOTFS}/dev/console c 5 1
}
ROOTFS_POSTPROCESS_COMMAND += "measured_initramfs_layout;"

COMPATIBLE_HOST = "(x86_64|i.86|aarch64|arm).*-linux"
