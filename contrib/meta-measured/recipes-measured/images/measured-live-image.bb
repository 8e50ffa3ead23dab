SUMMARY = "Measured live image: a hybrid ISO whose rootfs.img is measured at boot"
DESCRIPTION = "Boots from CD or USB stick, BIOS or UEFI, with or without \
tboot; measured-init hashes rootfs.img on the medium into PCR 15 before \
mounting it read-only under a RAM overlay.  The reference manifests are \
deployed beside the ISO (measured-live.bbclass)."
LICENSE = "MIT"

IMAGE_INSTALL = "packagegroup-core-boot packagegroup-measured-base"
IMAGE_FEATURES += "read-only-rootfs"
IMAGE_LINGUAS = ""

inherit core-image measured-live
