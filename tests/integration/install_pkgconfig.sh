#!/bin/sh
# libmeasured for other programs: `make install-lib` into a DESTDIR, then a
# small program (tests/packaging/consumer.c, including every public header)
# is built only from what was installed, through `pkg-config --cflags --libs
# measured` with PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR into that tree:
# once against libmeasured.so (it must load the installed
# libmeasured.so.0), once against libmeasured.a with the private
# dependencies measured.pc names.  Both
# print digests equal to openssl's; an unknown bank fails with the library's
# message.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
SRC=$MEASURED_SRCDIR
unset MAKEFLAGS MFLAGS MAKELEVEL
command -v pkg-config > /dev/null || { echo "missing pkg-config"; exit 77; }

ROOT=$T/root
make -j2 -C "$SRC" O="$T/build" library > "$T/build.log" 2>&1 \
	|| { tail -30 "$T/build.log"; die "build failed"; }
make -C "$SRC" O="$T/build" install-lib DESTDIR="$ROOT" prefix=/usr libdir=/usr/lib > "$T/install.log" 2>&1 \
	|| { tail -30 "$T/install.log"; die "install-lib failed"; }

export PKG_CONFIG_PATH="$ROOT/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT"
assert_eq "pkg-config knows measured 0.1.0" "0.1.0" "$(pkg-config --modversion measured)"
cflags=$(pkg-config --cflags measured)
libs=$(pkg-config --libs measured)
case " $cflags " in *" -I$ROOT/usr/include "*) ;; *) die "cflags lack the installed include dir: $cflags" ;; esac
case " $libs " in *" -L$ROOT/usr/lib -lmeasured "*) ;; *) die "libs lack -L/-lmeasured: $libs" ;; esac
ok "pkg-config --cflags --libs measured point into the installed tree"

# Only the installed headers: no -I into the source tree, copied away from it.
cp "$SRC/tests/packaging/consumer.c" "$T/consumer.c"
# shellcheck disable=SC2086 # word splitting wanted
gcc -std=gnu11 -Wall -Wextra -Werror -o "$T/consumer" "$T/consumer.c" $cflags $libs \
	|| die "consumer does not build against the installed files"
readelf -d "$T/consumer" | grep -q 'NEEDED.*\[libmeasured.so.0\]' || die "consumer does not need libmeasured.so.0"
LD_LIBRARY_PATH="$ROOT/usr/lib" ldd "$T/consumer" > "$T/ldd"
grep -q "libmeasured.so.0 => $ROOT/usr/lib/libmeasured.so.0 " "$T/ldd" || die "libmeasured.so.0 not from the DESTDIR: $(cat "$T/ldd")"
! grep -q 'not found' "$T/ldd" || die "unresolved libraries: $(cat "$T/ldd")"

want() {
	for b in sha1 sha256 sha384 sha512; do
		echo "$b $(printf '%s' "$1" | openssl dgst -"$b" -r | cut -d' ' -f1)"
	done
}
msg='measured launch, consumed'
assert_eq "shared: digests equal openssl's" "$(want "$msg")" \
	"$(LD_LIBRARY_PATH="$ROOT/usr/lib" "$T/consumer" sha1,sha256,sha384,sha512 "$msg")"
expect_exit 1 env LD_LIBRARY_PATH="$ROOT/usr/lib" "$T/consumer" sha999 x
grep -q 'sha999' "$T/err" || die "the library's message does not name the bank: $(cat "$T/err")"
ok "shared: an unknown bank fails with the library's message"

# Static: the archive plus every private dependency measured.pc names
# (Requires.private, Libs.private), those linked as shared libraries:
# Debian's libcurl.pc lists static dependencies that have no .a here.
priv=$(pkg-config --print-requires-private measured | awk '{ print $1 }')
[ -n "$priv" ] || die "measured.pc has no Requires.private"
# shellcheck disable=SC2086
slibs="$(pkg-config --libs measured | sed 's/ -lmeasured / -Wl,-Bstatic -lmeasured -Wl,-Bdynamic /') $(pkg-config --libs $priv) $(sed -n 's/^Libs.private: //p' "$ROOT/usr/lib/pkgconfig/measured.pc")"
# shellcheck disable=SC2086
gcc -std=gnu11 -Wall -Wextra -Werror -o "$T/consumer-static" "$T/consumer.c" $cflags $slibs \
	|| die "consumer does not link statically with pkg-config --static"
! readelf -d "$T/consumer-static" | grep -q 'libmeasured' || die "static consumer still needs libmeasured.so"
assert_eq "static: digests equal openssl's" "$(want "$msg")" "$("$T/consumer-static" sha1,sha256,sha384,sha512 "$msg")"
