SUMMARY = "Measured launch: TPM 2.0 PCR prediction, a measuring initramfs, remote attestation"
DESCRIPTION = "measured predicts at build time the TPM PCR values a good boot \
produces, measures the root filesystem from a small static initramfs init, \
and verifies TPM quotes and event logs against the prediction before \
releasing a payload.  svirt-interpose separates QEMU instances with SELinux \
MCS categories."
SECTION = "security"
LICENSE = "MIT"
# No separate license file yet: every source file carries the SPDX line.
LIC_FILES_CHKSUM = "file://LICENSE;md5=15f55a4c0216327552143c05e2ee80e1"

# Point MEASURED_GIT at your clone (or use externalsrc, see the layer's README).
MEASURED_GIT ??= "git:///srv/git/measured.git;protocol=file;branch=main"
SRC_URI = "${MEASURED_GIT}"
SRCREV ??= "${AUTOREV}"
PV = "0.1.0+git${SRCPV}"
S = "${WORKDIR}/git"
B = "${WORKDIR}/build"

inherit pkgconfig systemd useradd

# libmeasured needs only OpenSSL, tpm2-tss, json-c and zlib; the agent in
# the command adds libcurl, the verifier libmicrohttpd, SQLite and libpq;
# measured-init links libcrypto statically; svirt-interpose needs
# libselinux and libxenstore.
DEPENDS = "openssl tpm2-tss json-c zlib"
PACKAGECONFIG ??= "agent verifier ${@bb.utils.filter('DISTRO_FEATURES', 'selinux', d)}"
PACKAGECONFIG[agent] = "WITH_AGENT=yes,WITH_AGENT=no,curl"
PACKAGECONFIG[verifier] = "WITH_VERIFIER=yes,WITH_VERIFIER=no,sqlite3 libmicrohttpd gnutls postgresql"
PACKAGECONFIG[selinux] = ",,libselinux xen-tools"
# The native tool only runs `measured predict` in image builds: the library
# and the command without the agent and the verifier, so an image build
# needs none of their libraries.
PACKAGECONFIG:class-native = ""

# Objects go to ${B}; every directory comes from the environment OE exports
# (prefix, bindir, libdir, ... are absolute, and under ${STAGING_DIR_NATIVE}
# for -native): the Makefile installs to $(DESTDIR)$(bindir) and needs no
# BINDIR-style overrides.
# SVIRT_POLICY=no: the SELinux module is built against the target's policy by
# the distribution's own policy recipe, never against the build host's files.
EXTRA_OEMAKE = "-C ${S} O=${B} SVIRT_POLICY=no ${PACKAGECONFIG_CONFARGS}"

MEASURED_TARGETS = "library command ${B}/measured-init \
    ${@bb.utils.contains('PACKAGECONFIG', 'selinux', '${B}/svirt-interpose', '', d)}"
MEASURED_TARGETS:class-native = "library command"
MEASURED_INSTALL = "install-lib install-cmd install-man install-init \
    ${@bb.utils.contains('PACKAGECONFIG', 'selinux', 'install-svirt', '', d)}"
MEASURED_INSTALL:class-native = "install-lib install-cmd"

do_compile() {
	oe_runmake ${MEASURED_TARGETS}
}

do_install() {
	oe_runmake ${MEASURED_INSTALL} DESTDIR=${D}
}

do_install:append:class-target() {
	install -d ${D}${systemd_system_unitdir} ${D}${sysconfdir}/measured
	install -m 0644 ${S}/contrib/systemd/measured-serve.service ${D}${systemd_system_unitdir}/
	install -m 0640 ${S}/contrib/systemd/serve.conf ${D}${sysconfdir}/measured/serve.conf
	if ! ${@bb.utils.contains('PACKAGECONFIG', 'selinux', 'true', 'false', d)}; then
		rm -f ${D}${mandir}/man8/svirt-interpose.8 ${D}${mandir}/man8/svirt-bridge-fwd.8
	fi
}

PACKAGES =+ "libmeasured measured-init svirt-interpose measured-server"

FILES:libmeasured = "${libdir}/libmeasured${SOLIBS}"
FILES:measured-init = "${libexecdir}/measured/measured-init ${mandir}/man8/measured-init.8"
FILES:svirt-interpose = "${sbindir}/svirt-interpose ${sbindir}/svirt-bridge-fwd ${mandir}/man8/svirt-interpose.8 \
    ${mandir}/man8/svirt-bridge-fwd.8"
FILES:measured-server = "${systemd_system_unitdir}/measured-serve.service ${sysconfdir}/measured"
CONFFILES:measured-server = "${sysconfdir}/measured/serve.conf"

RDEPENDS:${PN} = "libmeasured"
RDEPENDS:measured-server = "${PN}"

SYSTEMD_PACKAGES = "measured-server"
SYSTEMD_SERVICE:measured-server = "measured-serve.service"
SYSTEMD_AUTO_ENABLE:measured-server = "disable"

USERADD_PACKAGES = "measured-server"
USERADD_PARAM:measured-server = "--system --home-dir ${localstatedir}/lib/measured \
    --no-create-home --shell /sbin/nologin --user-group measured"

BBCLASSEXTEND = "native"
