#!/bin/sh
# Debian packages end to end (sourced by tests/integration/install_debian.sh,
# with tests/lib/common.sh loaded).
#  1. dpkg-buildpackage -us -uc -b on a copy of the tree; the .debs and the
#     lintian report are cached in $DEB_CACHE keyed by the SHA-256 of the
#     source files, so an unchanged tree is not rebuilt (a build takes
#     1-2 minutes on 2 cores);
#  2. every lintian tag left is explained in debian/README.source;
#  3. the packages are unpacked (dpkg-deb -x) into a clean root, plus the
#     host's shared libraries they need, and run there with chroot:
#     measured --version, PCR extend/read and a quote verified offline
#     against swtpm, all from the installed files;
#  4. systemd-analyze verify --root on the installed unit.
DEB_CACHE=${MEASURED_DEB_CACHE:-/var/cache/measured-test/debian}
SRC=$MEASURED_SRCDIR
for t in dpkg-buildpackage dh lintian dpkg-deb chroot systemd-analyze swtpm openssl ldd; do
	command -v $t > /dev/null || { echo "missing $t (scripts/deps.sh installs it)"; exit 77; }
done

# ---- 1. build, or reuse a build of the same source ----
# The source: every file but build output and VCS data.
src_files() {
	(cd "$SRC" && find . \( -path './build*' -o -path './.git' -o -path './debian/build' \
		-o -path './debian/.debhelper' -o -path './debian/tmp' \) -prune -o -type f -print | LC_ALL=C sort)
}
key=$(cd "$SRC" && src_files | tr '\n' '\0' | xargs -0 sha256sum | sha256sum | cut -c1-16)
C=$DEB_CACHE/$key
if [ ! -e "$C/done" ]; then
	mkdir -p "$T/deb/measured-0.1.0"
	(cd "$SRC" && src_files | tar -cf - -T -) | tar -C "$T/deb/measured-0.1.0" -xf -
	echo "building the Debian packages (cache $C)"
	(cd "$T/deb/measured-0.1.0" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) \
		> "$T/deb/build.log" 2>&1 || { tail -40 "$T/deb/build.log"; die "dpkg-buildpackage failed"; }
	lintian -I --pedantic "$T"/deb/measured_0.1.0_*.changes > "$T/deb/lintian.txt" 2>&1 || true
	rm -rf "$DEB_CACHE"
	mkdir -p "$C"
	cp "$T"/deb/*.deb "$T/deb/lintian.txt" "$T/deb/build.log" "$C/"
	touch "$C/done"
else
	echo "reusing the packages built from this source in $C"
fi
for p in libmeasured0 libmeasured-dev measured measured-initramfs measured-server svirt-interpose; do
	ls "$C/${p}_0.1.0_"*.deb > /dev/null 2>&1 || die "package $p was not built"
done
ok "dpkg-buildpackage built the six packages"

# ---- 2. lintian ----
grep -v '^running with root privileges' "$C/lintian.txt" | grep -E '^[EWIPX]: ' > "$T/tags" || true
while read -r lvl pkg tag rest; do
	grep -q -- "- ${pkg%:}: $tag " "$SRC/debian/README.source" \
		|| die "lintian tag not explained in debian/README.source: $lvl $pkg $tag $rest"
done < "$T/tags"
! grep -q '^E: ' "$T/tags" || grep '^E: ' "$T/tags" | while read -r _ pkg tag _; do
	grep -q "^${pkg%:}: $tag" "$SRC/debian/${pkg%:}.lintian-overrides" 2>/dev/null \
		|| die "lintian error not overridden: $pkg $tag"
done
ok "lintian: $(wc -l < "$T/tags") remaining tags, each explained in debian/README.source"

# ---- 3. a clean root from the packages ----
R=$T/root
mkdir -p "$R/tmp" "$R/dev"
for d in "$C"/*.deb; do
	case $d in *-dbgsym_*) continue ;; esac
	dpkg-deb -x "$d" "$R"
done
assert_eq "measured.pc in the -dev package names /usr" \
	"libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" \
	"$(grep '^libdir=' "$R/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/pkgconfig/measured.pc")"
dpkg-deb -I "$C"/measured-server_0.1.0_all.deb conffiles | grep -qx /etc/measured/serve.conf \
	|| die "serve.conf is not a conffile"
grep -q '^MEASURED_DB=sqlite:/var/lib/measured/' "$R/etc/measured/serve.conf" || die "default store is not SQLite under /var/lib/measured"
# the host's libraries each installed ELF file needs, and the TCTI modules
# tpm2-tss loads at run time
copy_libs() {
	ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]* \(/ { print $1 }' | while read -r l; do
		[ -e "$R$l" ] || { mkdir -p "$R${l%/*}"; cp -L "$l" "$R$l"; }
	done
}
for f in "$R"/usr/bin/measured "$R"/usr/sbin/svirt-interpose "$R"/usr/lib/*/libmeasured.so.0; do
	copy_libs "$f"
done
for l in /usr/lib/*/libtss2-tcti-swtpm.so.0 /usr/lib/*/libtss2-tcti-device.so.0; do
	mkdir -p "$R${l%/*}"; cp -L "$l" "$R$l"; copy_libs "$l"
done
[ -e "$R/usr/lib64/ld-linux-x86-64.so.2" ] || [ -e "$R/lib64/ld-linux-x86-64.so.2" ] || die "no loader copied"
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 666 "$R/dev/urandom" c 1 9
assert_eq "installed measured --version" "measured 0.1.0" "$(chroot "$R" /usr/bin/measured --version)"
chroot "$R" /usr/sbin/svirt-interpose --help > /dev/null 2>&1 || die "installed svirt-interpose --help fails"
[ -x "$R/usr/libexec/measured/measured-init" ] || die "measured-init not installed"
! readelf -l "$R/usr/libexec/measured/measured-init" | grep -q INTERP || die "measured-init not static"
ok "installed command, svirt-interpose and measured-init run in the clean root"

# swtpm on a socket inside the root; the installed measured talks to it
d="$R/tmp/tpm"
mkdir -p "$d"
swtpm socket --tpm2 --tpmstate dir="$d" --flags not-need-init,startup-clear \
	--server type=unixio,path="$d/sock" --ctrl type=unixio,path="$d/sock.ctrl" --log file="$T/swtpm.log" &
PIDS="$PIDS $!"
i=0
while [ ! -S "$d/sock" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && die "swtpm did not start"; sleep 0.05
done
export MEASURED_TCTI="swtpm:path=/tmp/tpm/sock"
printf 'installed from packages' > "$R/tmp/file"
dg=$(openssl dgst -sha256 -r "$R/tmp/file" | cut -d' ' -f1)
want=$(printf '%064d%s' 0 "$dg" | tr 'a-f' 'A-F' | basenc --base16 -d | openssl dgst -sha256 -r | cut -d' ' -f1)
chroot "$R" /usr/bin/measured extend --pcr 16 --bank sha256 /tmp/file > /dev/null || die "installed extend failed"
assert_eq "installed pcrread: PCR 16 = H(0 || H(file))" "sha256 16 $want" \
	"$(chroot "$R" /usr/bin/measured pcrread --bank sha256 16)"
N=$(openssl rand -hex 16)
chroot "$R" /usr/bin/measured quote --nonce "$N" --pcrs 16 --bank sha256 -o /tmp/ev.json --ak-public /tmp/ak.pub \
	> /dev/null 2>&1 || die "installed quote failed"
expect_exit 0 chroot "$R" /usr/bin/measured verify --evidence /tmp/ev.json --ak-pub /tmp/ak.pub --nonce "$N" --pcrs 16
expect_exit 1 chroot "$R" /usr/bin/measured verify --evidence /tmp/ev.json --ak-pub /tmp/ak.pub --nonce "$(openssl rand -hex 16)" --pcrs 16
ok "installed quote verifies with its nonce and fails with another"

# ---- 4. the verifier's unit ----
unit=$R/lib/systemd/system/measured-serve.service
[ -f "$unit" ] || die "no measured-serve.service"
[ -f "$R/usr/lib/sysusers.d/measured.conf" ] || die "no sysusers.d entry"
grep -q '^u measured ' "$R/usr/lib/sysusers.d/measured.conf" || die "sysusers.d entry does not create user measured"
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$R" --man=no --recursive-errors=no \
	/lib/systemd/system/measured-serve.service > "$T/verify.out" 2>&1 \
	|| { cat "$T/verify.out"; die "systemd-analyze verify failed"; }
! grep -i 'measured-serve' "$T/verify.out" || die "systemd-analyze verify complains about the unit"
# and it does look inside the root: the same unit with a missing program fails
sed 's|/usr/bin/measured |/usr/bin/measured-missing |' "$unit" > "$R/lib/systemd/system/measured-bad.service"
! systemd-analyze verify --root="$R" --man=no --recursive-errors=no /lib/systemd/system/measured-bad.service \
	> "$T/verify-bad.out" 2>&1 || die "systemd-analyze verify accepted a unit whose program is missing"
grep -q 'measured-missing' "$T/verify-bad.out" || die "systemd-analyze verify: unexpected complaint: $(cat "$T/verify-bad.out")"
[ -f "$R/usr/share/man/man1/measured.1.gz" ] || die "the man page the unit documents is not installed"
ok "systemd-analyze verify accepts measured-serve.service"
