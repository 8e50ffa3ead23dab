SUMMARY = "Example measured image: read-only squashfs root measured at boot"
DESCRIPTION = "A small image whose root filesystem is a read-only squashfs. \
The measured-initramfs init hashes it into PCR 15 before mounting it under a \
tmpfs overlay; measured-image predicts the PCR values and deploys the \
reference manifest beside the image for the verifier."
LICENSE = "MIT"

IMAGE_INSTALL = "packagegroup-core-boot measured"
IMAGE_FEATURES += "read-only-rootfs"
IMAGE_FSTYPES = "squashfs"
IMAGE_LINGUAS = ""

INITRAMFS_IMAGE = "measured-initramfs"
INITRAMFS_IMAGE_BUNDLE = "0"

MEASURED_ROOTFS_FSTYPE = "squashfs"
MEASURED_ROOTFS_PCR = "15"
MEASURED_CMDLINE = "measured.root=/dev/vda measured.fstype=squashfs measured.pcr=15 console=ttyS0"

inherit core-image measured-image
