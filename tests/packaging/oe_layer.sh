#!/bin/sh
# The OpenEmbedded layer beyond its syntax (sourced by
# tests/integration/install_oe.sh, with tests/lib/common.sh loaded and
# $TB holding the target build, measured-init included):
#  1. every SRC_URI file:// is in the layer, remote sources carry a sha256sum,
#     LIC_FILES_CHKSUM md5 values equal the files' (in the layer or the
#     tree), and every option the kernel fragments set is an option of
#     Debian 12's kernel (its config, from the cached linux-image package);
#     the checker rejects each of these mistakes;
#  2. tboot's tarball checksum is the one Debian's signed source index lists
#     for Debian 12's tboot (the index is fetched once into the cache);
#  3. the image classes' shell functions run as bitbake would run them
#     (check_recipes.py --run expands the variables, any unset one is an
#     error) over artifacts built here: a squashfs root, Debian's kernel, an
#     initramfs from measured mkinitramfs, Debian's tboot.gz; the real
#     `measured predict` writes the manifests, whose values are checked
#     against openssl and tboot's lcp2_mlehash; the boot configurations the
#     live class writes pass grub-script-check and carry the command lines
#     the manifest was predicted for.
. "$MEASURED_SRCDIR/tests/lib/kernel.sh"
LAYER=$SRC/contrib/meta-measured
CHK="python3 $SRC/tests/packaging/check_recipes.py"
for t in mksquashfs grub-script-check lcp2_mlehash openssl apt-get systemd-analyze swtpm; do
	command -v $t > /dev/null || die "missing $t (scripts/deps.sh installs it)"
done
[ -f /boot/tboot.gz ] || die "no /boot/tboot.gz (package tboot)"

# ---- 1. sources, licences, kernel options ----
kernel_fetch || die "no Debian kernel"
KCONFIG=$(dirname "$KERNEL_IMAGE")/config-$KERNEL_VER
[ -f "$KCONFIG" ] || die "no $KCONFIG"
$CHK --kconfig "$KCONFIG" "$SRC" "$LAYER" > "$T/layer.out" || { cat "$T/layer.out"; die "layer check failed"; }
n=$(cat "$LAYER"/recipes-kernel/*/*/*.cfg | grep -c '^CONFIG_')
ok "layer: file:// sources present, sha256sums, licence md5s; $n kernel options exist in $KERNEL_VER"

# must-fail: a copy of the layer with one mistake each
bad_layer() {	# bad_layer WHAT EXPECTED-MESSAGE: $T/bad/meta-measured already broken
	if $CHK --kconfig "$KCONFIG" "$SRC" "$T/bad/meta-measured" > "$T/bad.out"; then
		die "layer check accepted: $1"
	fi
	grep -q "$2" "$T/bad.out" || die "layer check: $1: wrong message: $(cat "$T/bad.out")"
	rm -rf "$T/bad"
}
fresh() { rm -rf "$T/bad"; mkdir -p "$T/bad"; cp -a "$LAYER" "$T/bad/"; }
B=$T/bad/meta-measured
fresh; rm "$B/recipes-measured/measured-installer/files/measured-installer.service"
bad_layer "missing file://" "SRC_URI file://measured-installer.service is in none of"
fresh; sed -i 's/md5=b2dccaa94b3629a08bfb4f983cad6f89/md5=b2dccaa94b3629a08bfb4f983cad6f80/' \
	"$B/recipes-measured/measured-installer/measured-installer_1.0.bb"
bad_layer "wrong licence md5" "LIC_FILES_CHKSUM md5 of measured-installer.sh is b2dccaa94b3629a08bfb4f983cad6f89"
fresh; sed -i '/^SRC_URI\[sha256sum\]/d' "$B/recipes-txt/tboot/tboot_1.10.5.bb"
bad_layer "no sha256sum" "remote SRC_URI without SRC_URI\[sha256sum\]"
fresh; echo 'CONFIG_TCG_TPM_NO_SUCH_DRIVER=y' >> "$B/recipes-kernel/linux/linux-yocto/tpm2.cfg"
bad_layer "unknown kernel option" "CONFIG_TCG_TPM_NO_SUCH_DRIVER is not an option of config-$KERNEL_VER"
ok "layer check rejects a missing file://, a wrong licence md5, a missing sha256sum, an unknown kernel option"

# ---- 2. tboot's tarball: the checksum Debian's archive signed ----
APT=$MEASURED_CACHE/apt-src
mkdir -p "$APT/lists/partial" "$APT/cache"
cat > "$APT/src.sources" <<EOF
Types: deb-src
URIs: $(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | head -n 1)
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
AO="-o Dir::Etc::SourceList=$APT/src.sources -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$APT/lists -o Dir::Cache=$APT/cache"
if ! ls "$APT"/lists/*_Sources* > /dev/null 2>&1; then
	apt-get $AO -o DPkg::Lock::Timeout=900 update > "$T/apt.log" 2>&1 || { tail "$T/apt.log"; die "apt-get update of the source index failed"; }
fi
TBV=$(sed -n 's/^tboot_\(.*\)\.bb$/\1/p' <<EOF
$(ls "$LAYER/recipes-txt/tboot/")
EOF
)
deb=$(apt-get $AO source --print-uris "tboot" 2>/dev/null | sed -n "s/.* tboot_${TBV}\.orig\.tar\.gz [0-9]* SHA256:\([0-9a-f]*\)$/\1/p")
[ -n "$deb" ] || die "Debian's source index has no tboot_${TBV}.orig.tar.gz"
rec=$(sed -n 's/^SRC_URI\[sha256sum\] = "\(.*\)"$/\1/p' "$LAYER/recipes-txt/tboot/tboot_$TBV.bb")
assert_eq "tboot $TBV: the recipe's sha256sum is Debian's orig tarball's" "$deb" "$rec"
[ "$(dpkg-query -W -f '${Version}' tboot | sed 's/-[^-]*$//')" = "$TBV" ] \
	|| die "the recipe's tboot $TBV is not Debian 12's ($(dpkg-query -W -f '${Version}' tboot))"

# ---- 3. the classes' functions over real artifacts ----
D=$T/deploy
I=$T/imgdeploy
mkdir -p "$D" "$I" "$T/root/etc" "$T/work"
echo "measured OE test root" > "$T/root/etc/issue"
mksquashfs "$T/root" "$I/img-qemux86-64.rootfs.squashfs" -noappend -all-root -quiet > /dev/null \
	|| die "mksquashfs failed"
cp "$KERNEL_IMAGE" "$D/bzImage"
"$M" mkinitramfs -o "$D/measured-initramfs-qemux86-64.cpio.gz" --init "$TB/measured-init" > /dev/null \
	|| die "mkinitramfs failed"
cp /boot/tboot.gz "$D/tboot.gz"
mkdir -p "$T/bin"
ln -s "$M" "$T/bin/measured"	# what measured-native puts on PATH
ROOTFS=$I/img-qemux86-64.rootfs.squashfs
CLASSES=$LAYER/classes/measured-image.bbclass,$LAYER/classes/measured-live.bbclass
VARS="IMAGE_NAME=img-qemux86-64.rootfs IMAGE_NAME_SUFFIX= IMAGE_LINK_NAME=img-link
IMGDEPLOYDIR=$I DEPLOY_DIR_IMAGE=$D KERNEL_IMAGETYPE=bzImage MACHINE=qemux86-64
MACHINE_FEATURES=txt SINIT_ACMS= INITRD_LIVE=$D/measured-initramfs-qemux86-64.cpio.gz
SYSLINUX_CFG=$T/work/syslinux.cfg GRUB_CFG=$T/work/grub.cfg"
# bbrun FUNC [VAR=VALUE...]: the function from both classes, as bitbake runs it
bbrun() {
	f=$1
	shift
	# shellcheck disable=SC2086 # VARS is one assignment per word
	(PATH=$T/bin:$PATH; $CHK --run "$CLASSES" "$f" $VARS "$@")
}

# the manifest of the image (measured-image.bbclass), with the kernel
bbrun measured_predict_image "MEASURED_KERNEL=$D/bzImage" "MEASURED_INITRD=$D/measured-initramfs-qemux86-64.cpio.gz" \
	> "$T/run1.out" 2>&1 || { cat "$T/run1.out"; die "measured_predict_image failed"; }
MF=$I/img-qemux86-64.rootfs.measured.json
[ -f "$MF" ] || die "no $MF: $(cat "$T/run1.out")"
assert_eq "measured-image: the link beside it" "img-qemux86-64.rootfs.measured.json" "$(readlink "$I/img-link.measured.json")"
# mval FILE PCR BANK: the manifest's value
mval() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]));
print([p for p in m["pcrs"] if p["pcr"]==int(sys.argv[2])][0]["values"][sys.argv[3]])' "$@"; }
# extend BANK ZEROLEN-HEX DIGEST-HEX: H(0...0 || digest), by openssl
extend() { { head -c "$2" /dev/zero; printf '%s' "$3" | xxd -r -p; } | openssl dgst -"$1" -r | cut -d' ' -f1; }
for b in sha1 sha256; do
	dig=$(openssl dgst -$b -r "$ROOTFS" | cut -d' ' -f1)
	len=$([ $b = sha1 ] && echo 20 || echo 32)
	assert_eq "measured-image: PCR 15 $b is H(0 || H(rootfs)) (openssl)" "$(extend $b $len "$dig")" "$(mval "$MF" 15 $b)"
done
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); s={p["pcr"] for p in m["pcrs"]}; sys.exit(0 if {4,9,15} <= s else 1)' "$MF" \
	|| die "measured-image: the manifest lacks PCR 4 or 9 although MEASURED_KERNEL/INITRD were given"
ok "measured-image: measured predict from the class over a squashfs, Debian's kernel, an initramfs"

# the live class: boot configurations and the tboot entry's manifest
bbrun build_syslinux_cfg > "$T/run2.out" 2>&1 || { cat "$T/run2.out"; die "build_syslinux_cfg failed"; }
bbrun build_efi_cfg > "$T/run3.out" 2>&1 || { cat "$T/run3.out"; die "build_efi_cfg failed"; }
grub-script-check "$T/work/grub.cfg" || die "grub.cfg does not parse: $(cat "$T/work/grub.cfg")"
grep -q '^DEFAULT measured-tboot$' "$T/work/syslinux.cfg" || die "syslinux.cfg: tboot is not the default"
grep -q '^  KERNEL mboot.c32$' "$T/work/syslinux.cfg" || die "syslinux.cfg: no mboot.c32 entry"
KCL=$(sed -n 's|^  module2 /bzImage ||p' "$T/work/grub.cfg")
# with ACMs: the last modules of the tboot entry, in order, in both loaders
mkdir -p "$T/work2"
bbrun build_syslinux_cfg "SINIT_ACMS=A.bin B.bin" SYSLINUX_CFG=$T/work2/syslinux.cfg > "$T/run2.out" 2>&1 \
	|| { cat "$T/run2.out"; die "build_syslinux_cfg (ACMs) failed"; }
bbrun build_efi_cfg "SINIT_ACMS=A.bin B.bin" GRUB_CFG=$T/work2/grub.cfg > "$T/run3.out" 2>&1 \
	|| { cat "$T/run3.out"; die "build_efi_cfg (ACMs) failed"; }
grep -q -- '--- /initrd --- /A.bin --- /B.bin$' "$T/work2/syslinux.cfg" \
	|| die "syslinux.cfg: the ACMs are not the last modules: $(cat "$T/work2/syslinux.cfg")"
assert_eq "live: GRUB's tboot entry ends with the ACMs" "  module2 /initrd|  module2 /A.bin|  module2 /B.bin|}" \
	"$(sed -n '/module2 \/initrd/,/^}/p' "$T/work2/grub.cfg" | paste -sd'|')"
grub-script-check "$T/work2/grub.cfg" || die "grub.cfg (ACMs) does not parse"
TCL=$(sed -n 's|^  multiboot2 /tboot.gz ||p' "$T/work/grub.cfg")
assert_eq "live: the kernel's command line finds rootfs.img on the medium" \
	"measured.root=LABEL=MEASURED:/rootfs.img measured.pcr=15 console=tty0 console=ttyS0,115200" "$KCL"
grep -qF "APPEND /tboot.gz $TCL --- /bzImage $KCL --- /initrd" "$T/work/syslinux.cfg" \
	|| die "syslinux.cfg's tboot entry differs from GRUB's: $(cat "$T/work/syslinux.cfg")"
grep -qF "  APPEND initrd=/initrd $KCL" "$T/work/syslinux.cfg" || die "syslinux.cfg: no plain entry"
ok "live: isolinux and GRUB configurations (grub-script-check), both entries, the same command lines"

# SINIT's own PCR 17/18 extends, as a golden TXT log would give them
printf 'pcr17=sha256:%s\npcr18=sha256:%s\n' "$(printf 'sinit 17' | openssl dgst -sha256 -r | cut -d' ' -f1)" \
	"$(printf 'sinit 18' | openssl dgst -sha256 -r | cut -d' ' -f1)" > "$T/sinit"
bbrun measured_predict_tboot MEASURED_BANKS=sha256 "MEASURED_SINIT_INFO=$T/sinit" > "$T/run4.out" 2>&1 || { cat "$T/run4.out"; die "measured_predict_tboot failed"; }
TF=$I/img-qemux86-64.rootfs.tboot.json
[ -f "$TF" ] || die "no $TF: $(cat "$T/run4.out")"
# the MLE event: lcp2_mlehash over tboot.gz with GRUB's tboot command line
mle=$(lcp2_mlehash --create --alg sha256 --cmdline "$TCL" "$D/tboot.gz" | tr -d ' \n')
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]));
ds=[e["digests"].get("sha256") for p in m["pcrs"] for e in p["events"]]; sys.exit(0 if sys.argv[2] in ds else 1)' "$TF" "$mle" \
	|| die "tboot manifest: no event with lcp2_mlehash's MLE hash $mle"
# the kernel module event: H(H(cmdline) || H(kernel)) (tboot policy.c)
kh=$( { printf '%s' "$KCL" | openssl dgst -sha256 -binary; openssl dgst -sha256 -binary "$D/bzImage"; } | openssl dgst -sha256 -r | cut -d' ' -f1)
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]));
ds=[e["digests"].get("sha256") for p in m["pcrs"] for e in p["events"]]; sys.exit(0 if sys.argv[2] in ds else 1)' "$TF" "$kh" \
	|| die "tboot manifest: no event for the kernel module with GRUB's command line ($kh)"
dig=$(openssl dgst -sha256 -r "$ROOTFS" | cut -d' ' -f1)
assert_eq "live: the tboot manifest's PCR 15 is the root image's" "$(extend sha256 32 "$dig")" "$(mval "$TF" 15 sha256)"
ok "live: tboot manifest: the MLE (lcp2_mlehash), the kernel module (openssl) with GRUB's command lines, PCR 15"

# a variable the class uses but nobody set is an error, as in bitbake's expansion
if $CHK --run "$CLASSES" measured_predict_tboot MACHINE_FEATURES=txt > "$T/run5.out" 2>&1; then
	die "--run accepted unset variables"
fi
grep -q "variable .* is not set" "$T/run5.out" || die "--run: wrong message: $(cat "$T/run5.out")"
ok "class runner refuses an unset variable"

# ---- the installer's boot job: the recipe's do_install, then the program ----
R=$LAYER/recipes-measured/measured-installer
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
	-out "$T/ca.pem" -subj /CN=verifier -days 1 2> /dev/null || die "no test CA"
mkdir -p "$T/src" "$T/inst"
cp "$R"/files/* "$T/ca.pem" "$T/src/"
# a port nothing listens on: free now, connection refused later
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$CHK --run "$R/measured-installer_1.0.bb" do_install D=$T/inst S=$T/src sbindir=/usr/sbin sysconfdir=/etc \
	systemd_system_unitdir=/lib/systemd/system "MEASURED_VERIFIER_URL=https://127.0.0.1:$port" \
	"MEASURED_VERIFIER_CA=$T/ca.pem" > "$T/inst.out" 2>&1 || { cat "$T/inst.out"; die "installer do_install failed"; }
assert_eq "installer: installed files" \
	"/etc/init.d/measured-installer|/etc/measured/installer.conf|/etc/measured/verifier-ca.pem|/lib/systemd/system/measured-installer.service|/usr/sbin/measured-installer" \
	"$(tree "$T/inst" | paste -sd'|')"
cmp -s "$T/ca.pem" "$T/inst/etc/measured/verifier-ca.pem" || die "installer: the CA is not the one given"
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$T/inst" --man=no --recursive-errors=no \
	/lib/systemd/system/measured-installer.service > "$T/sa.out" 2>&1 || { cat "$T/sa.out"; die "systemd-analyze verify failed"; }
! grep -i 'measured-installer' "$T/sa.out" || die "systemd-analyze verify complains about the installer's unit"
# the program, with the real `measured attest` behind a wrapper that keeps
# its exit status: options it does not know would be exit 2 (usage); an
# unreachable verifier is 3
mkdir -p "$T/wrap"
cat > "$T/wrap/measured" <<EOF
#!/bin/sh
echo "\$*" > "$T/attest.args"
"$M" "\$@"
rc=\$?
echo \$rc > "$T/attest.rc"
exit \$rc
EOF
chmod 755 "$T/wrap/measured"
grep -qx "MODE='install'" "$T/inst/etc/measured/installer.conf" || die "installer: install mode is not the default"
echo "quiet measured.machine=m-1" > "$T/cmdline"
swtpm_start installer	# the agent's TPM (MEASURED_TCTI)
# run_installer MODE TARGET: the installed program, installer.conf's MODE and TARGET set so
run_installer() {
	sed "s|^CA_CERT=.*|CA_CERT='$T/inst/etc/measured/verifier-ca.pem'|; s|^OUTPUT=.*|OUTPUT='$T/pl/payload'|;
	     s|^MODE=.*|MODE='$1'|; s|^TARGET=.*|TARGET='$2'|" "$T/inst/etc/measured/installer.conf" > "$T/installer.conf"
	rm -f "$T/attest.rc" "$T/attest.args"
	(
		PATH=$T/wrap:$PATH
		MEASURED_INSTALLER_CONF=$T/installer.conf MEASURED_INSTALLER_CMDLINE=$T/cmdline
		export PATH MEASURED_INSTALLER_CONF MEASURED_INSTALLER_CMDLINE MEASURED_TCTI
		expect_exit 1 sh "$T/inst/usr/sbin/measured-installer" start
	)
	cat "$T/out" "$T/err" > "$T/installer.out"
	assert_eq "installer ($1): measured attest took every option and failed on the network (3)" 3 \
		"$(cat "$T/attest.rc")"
	grep -q "attesting as m-1 to https://127.0.0.1:$port" "$T/installer.out" || die "installer: $(cat "$T/installer.out")"
}
# install mode (the default): measured attest installs and reboots by
# itself; a test disk (a file) passes its local check before the network
truncate -s 2M "$T/disk.img"
run_installer install "$T/disk.img"
assert_eq "installer (install): measured attest's options" \
	"attest --server https://127.0.0.1:$port --ca-cert $T/inst/etc/measured/verifier-ca.pem --machine m-1 --payload install --install --target $T/disk.img --reboot" \
	"$(cat "$T/attest.args")"
grep -q "'install' was not installed" "$T/installer.out" || die "installer: $(cat "$T/installer.out")"
[ -z "$(tr -d '\0' < "$T/disk.img" | head -c 1)" ] || die "installer: the disk was written after a refusal"
# file mode: the payload to a file, then the configured step
run_installer file ""
grep -q "did not release 'install'; nothing installed" "$T/installer.out" || die "installer: $(cat "$T/installer.out")"
[ ! -e "$T/pl/payload" ] || die "installer: a payload file after a refusal"
sed "s|^MODE=.*|MODE='copy'|" "$T/inst/etc/measured/installer.conf" > "$T/installer.conf"
(
	MEASURED_INSTALLER_CONF=$T/installer.conf MEASURED_INSTALLER_CMDLINE=$T/cmdline
	export MEASURED_INSTALLER_CONF MEASURED_INSTALLER_CMDLINE
	expect_exit 3 sh "$T/inst/usr/sbin/measured-installer" start
)
grep -q "MODE must be install or file, not 'copy'" "$T/err" || die "installer: $(cat "$T/err")"
ok "installer: the recipe installs the job; it runs measured attest with the built-in verifier (install and file modes) and refuses cleanly"
