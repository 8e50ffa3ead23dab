#!/bin/sh
# The Makefile under the variable sets OpenEmbedded passes (see
# contrib/meta-measured/recipes-measured/measured/measured_git.bb):
#  - target: directories exported in the environment as bitbake.conf does,
#    CC with --sysroot and hardening flags, CFLAGS with -fdebug-prefix-map,
#    LDFLAGS with -Wl,-O1 -Wl,--hash-style=gnu -Wl,-z,now;
#  - native: absolute directories under a native sysroot on the command
#    line, LDFLAGS with -rpath into it.
# Each installs into DESTDIR; the installed tree must be exactly what OE
# packages, binaries must carry GNU_HASH and the caller's flags, nothing
# stripped, DESTDIR nowhere in the installed files.  Then the layer's
# metadata passes tests/packaging/check_recipes.py, and the checker itself
# rejects broken recipes.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
SRC=$MEASURED_SRCDIR
unset MAKEFLAGS MFLAGS MAKELEVEL
for t in readelf gcc make python3 sh; do command -v $t > /dev/null || { echo "missing $t"; exit 77; }; done

# has_dyn FILE TAG: readelf -d lists TAG
has_dyn() { readelf -d "$1" | grep -q "($2)"; }
# not_stripped FILE: symbol table and DWARF still there
not_stripped() {
	readelf -S -W "$1" | grep -q ' \.symtab ' || die "$1: no .symtab (stripped)"
	readelf -S -W "$1" | grep -q ' \.debug_info ' || die "$1: no .debug_info (stripped)"
}
# tree DIR: every file and symlink under DIR, relative, sorted
tree() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | LC_ALL=C sort); }

# ---- target ----
DBG=/usr/src/debug/measured/0.1.0-r0
TB=$T/build-target
TD=$T/image-target
(
	export prefix=/usr exec_prefix=/usr bindir=/usr/bin sbindir=/usr/sbin libdir=/usr/lib \
		libexecdir=/usr/libexec includedir=/usr/include datadir=/usr/share \
		mandir=/usr/share/man sysconfdir=/etc localstatedir=/var
	export CC="gcc -m64 -march=x86-64 -fstack-protector-strong -O2 -D_FORTIFY_SOURCE=2 -Wformat -Wformat-security -Werror=format-security --sysroot=/"
	export CFLAGS="-O2 -pipe -g -feliminate-unused-debug-types -fmacro-prefix-map=$SRC=$DBG -fdebug-prefix-map=$SRC=$DBG"
	export LDFLAGS="-Wl,-O1 -Wl,--hash-style=gnu -Wl,--as-needed -fmacro-prefix-map=$SRC=$DBG -Wl,-z,relro,-z,now"
	export AR=ar
	export SVIRT_POLICY=no	# as the recipe's EXTRA_OEMAKE passes it
	make -j2 -C "$SRC" O="$TB" library command "$TB/measured-init" "$TB/svirt-interpose"
	make -C "$SRC" O="$TB" install-lib install-cmd install-man install-init install-svirt DESTDIR="$TD"
) > "$T/target.log" 2>&1 || { tail -30 "$T/target.log"; die "target build/install failed"; }
ok "target: oe_runmake compile and install"

{
	echo /usr/bin/measured
	for h in "$SRC"/include/measured/*.h; do echo "/usr/include/measured/${h##*/}"; done
	echo /usr/lib/libmeasured.a
	echo /usr/lib/libmeasured.so
	echo /usr/lib/libmeasured.so.0
	echo /usr/lib/libmeasured.so.0.1.0
	echo /usr/lib/pkgconfig/measured.pc
	echo /usr/libexec/measured/measured-init
	echo /usr/sbin/svirt-bridge-fwd
	echo /usr/sbin/svirt-interpose
	for m in "$SRC"/man/*.1; do echo "/usr/share/man/man1/${m##*/}"; done
	for m in "$SRC"/man/*.8; do echo "/usr/share/man/man8/${m##*/}"; done
} | LC_ALL=C sort > "$T/want-target"
assert_eq "target: installed files are exactly those OE packages" "$(cat "$T/want-target")" "$(tree "$TD")"
assert_eq "target: libmeasured.so.0 -> libmeasured.so.0.1.0" libmeasured.so.0.1.0 "$(readlink "$TD/usr/lib/libmeasured.so.0")"
assert_eq "target: libmeasured.so -> libmeasured.so.0" libmeasured.so.0 "$(readlink "$TD/usr/lib/libmeasured.so")"
assert_eq "target: soname" "libmeasured.so.0" \
	"$(readelf -d "$TD/usr/lib/libmeasured.so.0.1.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"

for f in usr/bin/measured usr/lib/libmeasured.so.0.1.0 usr/sbin/svirt-interpose; do
	has_dyn "$TD/$f" GNU_HASH || die "$f: no GNU_HASH"
	! has_dyn "$TD/$f" HASH || die "$f: a SysV HASH too: --hash-style=gnu not honoured"
	# -Wl,-z,now from LDFLAGS reached this link
	readelf -d "$TD/$f" | grep -q 'FLAGS_1.*NOW' || die "$f: no BIND_NOW: LDFLAGS not honoured"
	not_stripped "$TD/$f"
done
ok "target: GNU_HASH only, LDFLAGS honoured, not stripped (measured, libmeasured.so, svirt-interpose)"
readelf -d "$TD/usr/lib/libmeasured.so.0.1.0" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' > "$T/needed"
! grep -E '^lib(curl|sqlite3|pq|microhttpd|gnutls)' "$T/needed" \
	|| die "libmeasured.so links a verifier or agent library: $(paste -sd' ' "$T/needed")"
! nm -D --defined-only "$TD/usr/lib/libmeasured.so.0.1.0" | grep -E ' (mi_|m_store_|m_http_|m_agent_)' \
	|| die "libmeasured.so exports the init's, the store's or the agent's internals"
ok "target: libmeasured.so needs no verifier or agent library and exports no mi_/store/agent symbols"
# measured-init is static on purpose: no dynamic section, no interpreter
! readelf -l "$TD/usr/libexec/measured/measured-init" | grep -q INTERP || die "measured-init is dynamic"
not_stripped "$TD/usr/libexec/measured/measured-init"
ok "target: measured-init static and not stripped"
# CC's -fstack-protector-strong reached the command's objects
readelf -s -W "$TD/usr/bin/measured" | grep -q '__stack_chk_fail' || die "CC flags not honoured"
# CFLAGS' -fdebug-prefix-map reached every object: no source path in DWARF
for f in usr/bin/measured usr/lib/libmeasured.so.0.1.0 usr/libexec/measured/measured-init usr/sbin/svirt-interpose; do
	readelf --debug-dump=info "$TD/$f" 2>/dev/null | grep 'DW_AT_comp_dir' > "$T/compdir"
	[ -s "$T/compdir" ] || die "$f: no DW_AT_comp_dir"
	! grep -q "$SRC" "$T/compdir" || die "$f: source path in debug info: CFLAGS not honoured"
	grep -q "$DBG" "$T/compdir" || die "$f: debug prefix map missing"
done
ok "target: CC and CFLAGS honoured in every binary"

# nothing installed mentions DESTDIR; the compiled-in paths are the target's
! grep -rl "$TD" "$TD" > "$T/leak" || die "DESTDIR inside installed files: $(cat "$T/leak")"
strings -a "$TD/usr/bin/measured" | grep -qx '/usr/libexec/measured/measured-init' \
	|| die "measured: mkinitramfs default init is not /usr/libexec/measured/measured-init"
strings -a "$TD/usr/sbin/svirt-interpose" | grep -qx '/etc/svirt-interpose.conf' \
	|| die "svirt-interpose: configuration path is not /etc/svirt-interpose.conf"
assert_eq "target: measured.pc has the install paths" \
	"prefix=/usr|exec_prefix=/usr|libdir=/usr/lib|includedir=/usr/include" \
	"$(grep -E '^(prefix|exec_prefix|libdir|includedir)=' "$TD/usr/lib/pkgconfig/measured.pc" | paste -sd'|')"
assert_eq "target: installed measured runs" "measured 0.1.0" "$("$TD/usr/bin/measured" --version)"

make -C "$SRC" O="$TB" prefix=/usr sysconfdir=/etc uninstall DESTDIR="$TD" > "$T/uninstall.log" 2>&1 \
	|| { cat "$T/uninstall.log"; die "uninstall failed"; }
assert_eq "target: uninstall removes every file" "" "$(tree "$TD")"

# ---- native ----
NAT=$T/tmp/work/x86_64-linux/measured-native/0.1.0-r0/recipe-sysroot-native
NB=$T/build-native
ND=$T/image-native
# OE exports the same CC/CFLAGS/LDFLAGS to do_compile and do_install
export CC="gcc -isystem$NAT/usr/include -O2 -pipe" CFLAGS="-isystem$NAT/usr/include -O2 -pipe -g"
export LDFLAGS="-L$NAT/usr/lib -L$NAT/lib -Wl,-rpath-link,$NAT/usr/lib -Wl,-rpath,$NAT/usr/lib -Wl,-O1 -Wl,--hash-style=gnu"
# the recipe's PACKAGECONFIG:class-native = "" turns into these switches
NATIVE_SW="WITH_VERIFIER=no WITH_AGENT=no"
make -j2 -C "$SRC" O="$NB" $NATIVE_SW library command > "$T/native.log" 2>&1 \
	|| { tail -30 "$T/native.log"; die "native build failed"; }
make -C "$SRC" O="$NB" $NATIVE_SW install-lib install-cmd DESTDIR="$ND" \
	prefix="$NAT/usr" exec_prefix="$NAT/usr" bindir="$NAT/usr/bin" sbindir="$NAT/usr/sbin" \
	libdir="$NAT/usr/lib" libexecdir="$NAT/usr/libexec" includedir="$NAT/usr/include" \
	datadir="$NAT/usr/share" mandir="$NAT/usr/share/man" sysconfdir="$NAT/etc" localstatedir="$NAT/var" \
	>> "$T/native.log" 2>&1 || { tail -30 "$T/native.log"; die "native install failed"; }
{
	echo "$NAT/usr/bin/measured"
	for h in "$SRC"/include/measured/*.h; do echo "$NAT/usr/include/measured/${h##*/}"; done
	for l in libmeasured.a libmeasured.so libmeasured.so.0 libmeasured.so.0.1.0 pkgconfig/measured.pc; do
		echo "$NAT/usr/lib/$l"
	done
} | LC_ALL=C sort > "$T/want-native"
assert_eq "native: files land in \${D}\${bindir} etc. with absolute dirs" "$(cat "$T/want-native")" "$(tree "$ND")"
for f in usr/bin/measured usr/lib/libmeasured.so.0.1.0; do
	has_dyn "$ND$NAT/$f" GNU_HASH || die "native $f: no GNU_HASH"
	readelf -d "$ND$NAT/$f" | grep -q "R.*PATH.*$NAT/usr/lib" || die "native $f: no rpath: LDFLAGS not honoured"
	not_stripped "$ND$NAT/$f"
done
! grep -rl "$ND" "$ND" > "$T/leak" || die "DESTDIR inside installed native files: $(cat "$T/leak")"
# predict at image build time needs none of the verifier's or agent's
# libraries: neither the library nor the native command links them
for f in usr/bin/measured usr/lib/libmeasured.so.0.1.0; do
	readelf -d "$ND$NAT/$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' > "$T/needed"
	! grep -E '^lib(curl|sqlite3|pq|microhttpd|gnutls)' "$T/needed" \
		|| die "native $f links a verifier or agent library: $(paste -sd' ' "$T/needed")"
done
"$ND$NAT/usr/bin/measured" --help > "$T/native-help"
! grep -qE '^  (serve|admin|attest) ' "$T/native-help" || die "native command still has serve/admin/attest"
grep -q '^  predict ' "$T/native-help" || die "native command lacks predict"
ok "native: library and command link no libcurl, SQLite, libpq, libmicrohttpd; no serve/admin/attest"
assert_eq "native: measured.pc names the sysroot, not DESTDIR" "libdir=$NAT/usr/lib" \
	"$(grep '^libdir=' "$ND$NAT/usr/lib/pkgconfig/measured.pc")"
# what populate_sysroot does: the image is copied into the sysroot; the
# native tool then runs from there (as measured-image.bbclass runs it)
mkdir -p "$NAT"
cp -a "$ND$NAT/." "$NAT/"
printf 'measured native' > "$T/f"
assert_eq "native: measured hash from the sysroot" \
	"sha256 $(openssl dgst -sha256 -r "$T/f" | cut -d' ' -f1) $T/f" \
	"$("$NAT/usr/bin/measured" hash --bank sha256 "$T/f")"

# ---- the layer's metadata ----
python3 "$SRC/tests/packaging/check_recipes.py" "$SRC" "$SRC/contrib/meta-measured" \
	|| die "layer metadata check failed"
ok "layer metadata passes the recipe check"
# must-fail cases: the checker finds each mistake
bad() {
	printf '%s\n' "$2" > "$T/bad.bb"
	if python3 "$SRC/tests/packaging/check_recipes.py" --file "$T/bad.bb" > "$T/bad.out"; then
		die "recipe check accepted: $1"
	fi
	grep -q "$3" "$T/bad.out" || die "recipe check: $1: wrong message: $(cat "$T/bad.out")"
}
bad "unbalanced quote" 'SUMMARY = "oops' "quoted"
bad "unknown operator" 'DEPENDS ~= "zlib"' "not a BitBake statement"
bad "BINDIR=\${D}\${bindir}" 'do_install() {
	oe_runmake install BINDIR=${D}${bindir}
}' "BINDIR="
bad "unknown task" 'addtask measured after do_nothing' "unknown task do_nothing"
bad "bad inline python" 'X = "${@bb.utils.contains("A", "b", "c" d)}"' "inline python"
bad "shell syntax" 'do_compile() {
	if true; then
}' "shell function do_compile"
bad "unknown class" 'inherit nosuchclass' "unknown class"
bad "unbalanced \${" 'X = "${bindir"' "unbalanced"
ok "recipe check rejects 8 kinds of broken metadata"

# ---- sources, licences, kernel options, the image classes at work ----
. "$SRC/tests/packaging/oe_layer.sh"
