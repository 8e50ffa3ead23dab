SUMMARY = "Intel SINIT authenticated code modules, from a local directory"
DESCRIPTION = "The SINIT ACM is the Intel-signed module GETSEC[SENTER] runs \
before tboot: it checks the platform and measures tboot into PCR 17/18.  Each \
chipset generation has its own.  Intel distributes them under a licence that \
must be accepted on download, so this recipe fetches nothing: it takes the \
ACMs from SINIT_ACM_DIR on the build host, installs them in /boot and deploys \
them for the live image's boot medium."
SECTION = "bootloaders"

# In local.conf, e.g.:
#   SINIT_ACM_DIR = "/srv/acm"                 the unpacked downloads
#   SINIT_ACMS = "ADL_SINIT_v1_18_16_20230427_REL_NT_O1_1.PW_signed.bin"
#   SINIT_ACM_LICENSE = "license.txt"          the licence text beside them
#   SINIT_ACM_LICENSE_MD5 = "<md5sum of that file>"
#   LICENSE_FLAGS_ACCEPTED += "commercial_sinit-acm"
SINIT_ACM_DIR ??= ""
SINIT_ACMS ??= ""
SINIT_ACM_LICENSE ??= "license.txt"
SINIT_ACM_LICENSE_MD5 ??= ""

LICENSE = "Proprietary"
LICENSE_FLAGS = "commercial"
NO_GENERIC_LICENSE[Proprietary] = "${SINIT_ACM_LICENSE}"
LIC_FILES_CHKSUM = "file://${SINIT_ACM_LICENSE};md5=${SINIT_ACM_LICENSE_MD5}"

FILESEXTRAPATHS:prepend := "${SINIT_ACM_DIR}:"
SRC_URI = "file://${SINIT_ACM_LICENSE} ${@' '.join('file://' + a for a in (d.getVar('SINIT_ACMS') or '').split())}"
S = "${WORKDIR}"

COMPATIBLE_HOST = "(x86_64|i.86).*-linux"
PACKAGE_ARCH = "${MACHINE_ARCH}"
INHIBIT_DEFAULT_DEPS = "1"

inherit deploy

# Without the path the recipe is skipped, and whatever needs it (the live
# image with MACHINE_FEATURES txt) fails with this reason.
python () {
    missing = [v for v in ("SINIT_ACM_DIR", "SINIT_ACMS", "SINIT_ACM_LICENSE_MD5") if not d.getVar(v)]
    if missing:
        raise bb.parse.SkipRecipe("the SINIT ACMs are licensed downloads and are not fetched: "
                                  "set %s in local.conf (SINIT_ACM_DIR the directory holding "
                                  "SINIT_ACMS and SINIT_ACM_LICENSE, SINIT_ACM_LICENSE_MD5 that "
                                  "file's md5sum); see the layer's README" % ", ".join(missing))
    import os
    for name in [d.getVar("SINIT_ACM_LICENSE")] + d.getVar("SINIT_ACMS").split():
        path = os.path.join(d.getVar("SINIT_ACM_DIR"), name)
        if not os.path.isfile(path):
            raise bb.parse.SkipRecipe("SINIT ACM file %s does not exist" % path)
}

do_configure[noexec] = "1"
do_compile[noexec] = "1"

# Refuse a file that is not a chipset ACM: module type 2 at offset 0 and
# Intel's vendor id 0x8086 at offset 16 (the ACM header, TXT Software
# Development Guide, appendix A.1), before it lands on a boot medium.
do_install() {
	install -d ${D}/boot
	for f in ${SINIT_ACMS}; do
		type=$(od -An -tx1 -j0 -N2 "${S}/$f" | tr -d ' \n')
		vendor=$(od -An -tx1 -j16 -N4 "${S}/$f" | tr -d ' \n')
		if [ "$type" != "0200" ] || [ "$vendor" != "86800000" ]; then
			bbfatal "$f is not an Intel chipset ACM (module type $type, vendor $vendor)"
		fi
		install -m 0644 "${S}/$f" ${D}/boot/
	done
}

do_deploy() {
	install -d ${DEPLOYDIR}/sinit-acm
	for f in ${SINIT_ACMS}; do
		install -m 0644 ${D}/boot/$f ${DEPLOYDIR}/sinit-acm/
	done
}
addtask deploy after do_install before do_build

FILES:${PN} = "/boot"
