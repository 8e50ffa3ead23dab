SUMMARY = "Measured installer: a live image that attests before it receives the install package"
DESCRIPTION = "The measured live image (measured-live.bbclass) whose root \
runs measured-installer at boot: it proves the machine's state to the \
verifier named by MEASURED_VERIFIER_URL (TLS pinned to MEASURED_VERIFIER_CA) \
and receives the payload MEASURED_INSTALLER_PAYLOAD only on a match."
LICENSE = "MIT"

IMAGE_INSTALL = "packagegroup-core-boot packagegroup-measured-agent measured-installer"
IMAGE_FEATURES += "read-only-rootfs"
IMAGE_LINGUAS = ""

inherit core-image measured-live
