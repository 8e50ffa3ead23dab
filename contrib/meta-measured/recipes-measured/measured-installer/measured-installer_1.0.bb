SUMMARY = "The installer image's boot job: attest to the verifier, install the released package"
DESCRIPTION = "Runs measured attest at boot against the verifier named at \
build time (MEASURED_VERIFIER_URL, its CA certificate MEASURED_VERIFIER_CA) \
for the payload MEASURED_INSTALLER_PAYLOAD: installs it on the disk and \
reboots (MEASURED_INSTALLER_MODE = install, the default), or writes it to \
MEASURED_INSTALLER_OUTPUT and runs MEASURED_INSTALLER_THEN with its path \
(MEASURED_INSTALLER_MODE = file)."
SECTION = "security"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://measured-installer.sh;beginline=2;endline=2;md5=b2dccaa94b3629a08bfb4f983cad6f89"

# In local.conf (or the image's configuration):
#   MEASURED_VERIFIER_URL = "https://verifier.example:8443"
#   MEASURED_VERIFIER_CA = "/path/on/the/build/host/verifier-ca.pem"
MEASURED_VERIFIER_URL ??= ""
MEASURED_VERIFIER_CA ??= ""
MEASURED_INSTALLER_PAYLOAD ??= "install"
# install: measured attest --install --reboot (a disk-image or root-archive
# package); file: the payload to OUTPUT, then THEN with its path
MEASURED_INSTALLER_MODE ??= "install"
# the disk; empty: measured.install.target= on the kernel command line, else the verifier's
MEASURED_INSTALLER_TARGET ??= ""
MEASURED_INSTALLER_OUTPUT ??= "/run/measured/install.payload"
MEASURED_INSTALLER_THEN ??= ""

FILESEXTRAPATHS:prepend := "${@os.path.dirname(d.getVar('MEASURED_VERIFIER_CA') or '/nonexistent')}:"
SRC_URI = "file://measured-installer.sh file://measured-installer.service \
    ${@'file://' + os.path.basename(d.getVar('MEASURED_VERIFIER_CA')) if d.getVar('MEASURED_VERIFIER_CA') else ''}"
S = "${WORKDIR}"

python () {
    import os
    url = d.getVar("MEASURED_VERIFIER_URL")
    ca = d.getVar("MEASURED_VERIFIER_CA")
    if not url or not ca:
        raise bb.parse.SkipRecipe("the installer needs its verifier: set MEASURED_VERIFIER_URL "
                                  "(https://HOST:PORT) and MEASURED_VERIFIER_CA (the PEM CA "
                                  "certificate the verifier's certificate chains to, a path "
                                  "on the build host) in local.conf")
    if not url.startswith("https://"):
        raise bb.parse.SkipRecipe("MEASURED_VERIFIER_URL must be https:// (measured attest refuses plain HTTP): %s" % url)
    if not os.path.isfile(ca):
        raise bb.parse.SkipRecipe("MEASURED_VERIFIER_CA %s does not exist" % ca)
    if d.getVar("MEASURED_INSTALLER_MODE") not in ("install", "file"):
        raise bb.parse.SkipRecipe("MEASURED_INSTALLER_MODE must be install or file: %s" % d.getVar("MEASURED_INSTALLER_MODE"))
    for v in ("MEASURED_VERIFIER_URL", "MEASURED_INSTALLER_PAYLOAD", "MEASURED_INSTALLER_OUTPUT", "MEASURED_INSTALLER_THEN",
              "MEASURED_INSTALLER_TARGET"):
        if "'" in (d.getVar(v) or ""):
            raise bb.parse.SkipRecipe("%s must not contain a single quote" % v)
}

inherit systemd update-rc.d

do_configure[noexec] = "1"
do_compile[noexec] = "1"

MEASURED_CA_NAME = "${@os.path.basename(d.getVar('MEASURED_VERIFIER_CA') or '')}"

do_install() {
	install -d ${D}${sbindir} ${D}${sysconfdir}/measured ${D}${sysconfdir}/init.d \
		${D}${systemd_system_unitdir}
	install -m 0755 ${S}/measured-installer.sh ${D}${sbindir}/measured-installer
	install -m 0644 ${S}/${MEASURED_CA_NAME} ${D}${sysconfdir}/measured/verifier-ca.pem
	cat > ${D}${sysconfdir}/measured/installer.conf <<-END
	VERIFIER_URL='${MEASURED_VERIFIER_URL}'
	CA_CERT='${sysconfdir}/measured/verifier-ca.pem'
	PAYLOAD='${MEASURED_INSTALLER_PAYLOAD}'
	MODE='${MEASURED_INSTALLER_MODE}'
	TARGET='${MEASURED_INSTALLER_TARGET}'
	OUTPUT='${MEASURED_INSTALLER_OUTPUT}'
	THEN='${MEASURED_INSTALLER_THEN}'
	END
	chmod 0644 ${D}${sysconfdir}/measured/installer.conf
	# the same program serves as the System V init script
	ln -s ${sbindir}/measured-installer ${D}${sysconfdir}/init.d/measured-installer
	install -m 0644 ${S}/measured-installer.service ${D}${systemd_system_unitdir}/
}

SYSTEMD_SERVICE:${PN} = "measured-installer.service"
INITSCRIPT_NAME = "measured-installer"
INITSCRIPT_PARAMS = "start 99 2 3 4 5 ."

FILES:${PN} += "${systemd_system_unitdir}"
RDEPENDS:${PN} = "measured"
