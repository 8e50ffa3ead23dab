SUMMARY = "Trusted Boot: a multiboot pre-kernel module that performs an Intel TXT measured launch"
DESCRIPTION = "tboot runs before the kernel, starts the Intel TXT dynamic \
launch (GETSEC[SENTER]) with the platform's SINIT ACM, which measures tboot \
into PCR 17/18; tboot then measures the kernel and its modules and starts the \
kernel.  Without TXT it starts the kernel without a measured launch.  The \
tools (lcp2_*, tb_polgen, txt-stat, txt-acminfo, txt-parse_err) build and \
inspect launch control and verified launch policies."
HOMEPAGE = "https://sourceforge.net/projects/tboot/"
SECTION = "bootloaders"
# tboot and its tools are BSD-3-Clause; safestringlib, linked into the
# tools, is MIT.  Both files are the same from 1.10.2 to 1.11.2 (COPYING last
# changed in 2020).
LICENSE = "BSD-3-Clause & MIT"
LIC_FILES_CHKSUM = "file://COPYING;md5=b86c2f3e88dffdbc026c71e2a818c70c \
    file://safestringlib/LICENSE&COPYING.txt;md5=edd6f8c4c1072d72645ae28cb04bdbce"

# The release Debian 12 ships (tboot 1.10.5-4); the checksum is the one
# Debian's signed source index lists for tboot_1.10.5.orig.tar.gz, which is
# the upstream tarball unmodified (its upstream signature is beside it).
SRC_URI = "${SOURCEFORGE_MIRROR}/${BPN}/${BP}.tar.gz"
SRC_URI[sha256sum] = "3b4be16c03cbc25071ef1d4bda0b4fd550eed86dac6c7f7efdf02423c551b393"

DEPENDS = "openssl zlib"

# tboot.gz is 32-bit freestanding x86 code; the tools are ordinary programs.
COMPATIBLE_HOST = "(x86_64|i.86).*-linux"

inherit deploy

# tboot's Makefiles choose their own flags where they must: the tboot module
# sets CFLAGS from TBOOT_CFLAGS only and gives ld its own LDFLAGS, so the
# CFLAGS and LDFLAGS OE exports reach only the tools, on top of tboot's
# warnings.  CC, LD, AR come from OE's environment (Config.mk uses ?=).
# TARGET_ARCH is tboot's name for the tools' word size (x86_64 or x86_32);
# INSTALL_STRIP= leaves the stripping and the -dbg split to OE.
# CFLAGS_WARN: tboot's warnings without -Werror, which newer compilers than
# the release knew turn into build failures (1.10.2's lcptools-v2 stops on
# GCC 12's -Wuse-after-free, for one).
TBOOT_ARCH = "${@'x86_64' if d.getVar('TARGET_ARCH') == 'x86_64' else 'x86_32'}"
TBOOT_SUBDIRS = "tboot safestringlib lcptools-v2 tb_polgen utils docs"
TBOOT_SUBDIRS:class-native = "safestringlib lcptools-v2 tb_polgen"
TBOOT_WARN = "-Wall -Wextra -Wformat-security -Wno-missing-field-initializers -Wno-address-of-packed-member"
EXTRA_OEMAKE = "TARGET_ARCH=${TBOOT_ARCH} INSTALL_STRIP= debug=n SUBDIRS='${TBOOT_SUBDIRS}' CFLAGS_WARN='${TBOOT_WARN}'"

do_configure[noexec] = "1"

do_compile() {
	oe_runmake build
}

# Everything installs under DISTDIR: /boot/tboot.gz, /etc/grub.d,
# /usr/sbin and /usr/share/man (fixed paths in tboot's Makefiles, the same
# as OE's sbindir and mandir; under the native sysroot for -native).
do_install() {
	oe_runmake install DISTDIR=${D}${base_prefix}
}

do_deploy() {
	install -m 0644 ${D}/boot/tboot.gz ${DEPLOYDIR}/tboot.gz
	install -m 0644 ${D}/boot/tboot-syms ${DEPLOYDIR}/tboot-syms
}
do_deploy:class-native() {
	:
}
addtask deploy after do_install before do_build

PACKAGES =+ "${PN}-grub ${PN}-lcptools ${PN}-polgen ${PN}-utils"
FILES:${PN} = "/boot/tboot.gz"
FILES:${PN}-dbg += "/boot/tboot-syms"
FILES:${PN}-grub = "${sysconfdir}/grub.d"
FILES:${PN}-lcptools = "${sbindir}/lcp2_*"
FILES:${PN}-polgen = "${sbindir}/tb_polgen"
FILES:${PN}-utils = "${sbindir}/txt-*"
RDEPENDS:${PN}-grub = "bash"

# tboot-native: lcp2_mlehash and tb_polgen on the build host.
BBCLASSEXTEND = "native"
