# TPM TIS/CRB and what measured-init needs, for distributions that enable
# the tpm2 feature (as meta-security's meta-tpm does).
FILESEXTRAPATHS:prepend := "${THISDIR}/linux-yocto:"
SRC_URI:append = " ${@bb.utils.contains('DISTRO_FEATURES', 'tpm2', \
    'file://tpm.cfg file://tpm-tis.cfg file://tpm-crb.cfg file://measured-initramfs.cfg', '', d)}"
