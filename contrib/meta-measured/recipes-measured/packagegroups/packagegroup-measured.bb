SUMMARY = "Measured launch: the programs in a measured image"
DESCRIPTION = "packagegroup-measured-base: what a measured root needs to \
prove its state (the measured command, its library).  \
packagegroup-measured-agent: plus tpm2-tss's device TCTI for the agent.  \
tboot and the ACMs are packagegroup-measured-txt, a recipe of its own: the \
ACMs must be supplied locally, and a group without them must still build."
LICENSE = "MIT"

inherit packagegroup

PACKAGES = "${PN}-base ${PN}-agent"

RDEPENDS:${PN}-base = "measured libmeasured"
RDEPENDS:${PN}-agent = "${PN}-base libtss2-tcti-device"
