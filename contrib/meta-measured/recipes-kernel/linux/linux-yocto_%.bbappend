# Kernel configuration for measured launch, applied to linux-yocto (and to
# any kernel recipe that inherits kernel-yocto and takes .cfg fragments):
#   DISTRO_FEATURES tpm   TPM 1.2 chips          tpm.cfg tpm12.cfg
#   DISTRO_FEATURES tpm2  TPM 2.0 TIS and CRB    tpm.cfg tpm2.cfg
#   MACHINE_FEATURES txt  Intel TXT (tboot)      txt.cfg
# and, with either TPM feature, what measured-init needs built in
# (measured-initramfs.cfg).  The feature names are meta-security's (tpm,
# tpm2) and the original meta-measured's (txt).
FILESEXTRAPATHS:prepend := "${THISDIR}/linux-yocto:"
SRC_URI:append = " \
    ${@bb.utils.contains_any('DISTRO_FEATURES', 'tpm tpm2', 'file://tpm.cfg file://measured-initramfs.cfg', '', d)} \
    ${@bb.utils.contains('DISTRO_FEATURES', 'tpm', 'file://tpm12.cfg', '', d)} \
    ${@bb.utils.contains('DISTRO_FEATURES', 'tpm2', 'file://tpm2.cfg', '', d)} \
    ${@bb.utils.contains('MACHINE_FEATURES', 'txt', 'file://txt.cfg', '', d)} \
"
