SUMMARY = "Measured launch: the programs in a measured image"
DESCRIPTION = "packagegroup-measured-base: what a measured root needs to \
prove its state (the measured command, its library).  \
packagegroup-measured-agent: plus the agent's TPM access for attestation.  \
packagegroup-measured-txt: tboot and its tools, and the SINIT ACMs (which \
must be supplied locally: see the sinit-acm recipe)."
LICENSE = "MIT"

# tboot and the ACMs are x86 and the ACMs machine-specific
PACKAGE_ARCH = "${MACHINE_ARCH}"

inherit packagegroup

PACKAGES = "${PN}-base ${PN}-agent ${PN}-txt"

RDEPENDS:${PN}-base = "measured libmeasured"
RDEPENDS:${PN}-agent = "${PN}-base libtss2-tcti-device"
RDEPENDS:${PN}-txt = "tboot tboot-utils tboot-polgen tboot-lcptools sinit-acm"
