SUMMARY = "Measured launch with Intel TXT: tboot, its tools and the SINIT ACMs"
DESCRIPTION = "tboot.gz in /boot, txt-stat and the policy tools, and the \
SINIT ACMs (which must be supplied locally: see the sinit-acm recipe)."
LICENSE = "MIT"

# tboot and the ACMs are x86 and the ACMs machine-specific
PACKAGE_ARCH = "${MACHINE_ARCH}"

inherit packagegroup

RDEPENDS:${PN} = "tboot tboot-utils tboot-polgen tboot-lcptools sinit-acm"
