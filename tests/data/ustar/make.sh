#!/bin/sh
# Regenerate the ustar test archives (tests/unit/test_ustar.c,
# tests/fuzz/fuzz_ustar.c's seeds): good.tar by GNU tar from a tree made
# here; the refused ones by python3's tarfile (an independent writer),
# or by GNU tar in its other formats, or cut or changed by dd.
# good.expect: good.tar's entries as python3's tarfile reads them.
# Written for this project (MIT, as the rest of the tree).
set -eu
cd "$(dirname "$0")"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
r=$W/tree
mkdir -p "$r/bin" "$r/etc/conf.d" "$r/boot/efi/EFI/BOOT"
long=$r/usr/share/a-directory-name-of-forty-characters-xxxx/another-directory-name-of-forty-chars-yy
mkdir -p "$long"
printf '#!/bin/sh\necho hello\n' > "$r/bin/hello"
chmod 755 "$r/bin/hello"
printf 'name=test\n' > "$r/etc/conf.d/test.conf"
chmod 600 "$r/etc/conf.d/test.conf"
: > "$r/etc/empty"
head -c 1500 /dev/zero | tr '\0' 'x' > "$r/boot/efi/EFI/BOOT/BOOTX64.EFI"
printf 'a file whose path needs the prefix field\n' > "$long/a-file-name-of-thirty-characters.txt"
ln -s hello "$r/bin/hi"
ln -s ../etc/conf.d "$r/bin/conf"
ln -s /etc/conf.d/test.conf "$r/etc/abs-link"
find "$r" -exec touch -h -d @1700000000 {} +
chmod 755 "$r" "$r"/bin "$r"/etc "$r"/etc/conf.d
tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner -C "$r" -cf good.tar .
tar --format=gnu --sort=name --owner=0 --group=0 --numeric-owner -C "$r" -cf gnu.tar ./bin
python3 - <<'PY'
import hashlib, io, tarfile

with tarfile.open("good.tar") as t, open("good.expect", "w") as out:
    for m in t.getmembers():
        if m.name in (".", "./"):
            continue
        kind = "file" if m.isreg() else "dir" if m.isdir() else "symlink"
        extra = hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isreg() else m.linkname if m.issym() else "-"
        print(kind, m.name.removeprefix("./").rstrip("/"), "%04o" % m.mode, m.size, m.mtime, extra, file=out)

def one(path, members, fmt=tarfile.USTAR_FORMAT, **kw):
    with tarfile.open(path, "w", format=fmt, **kw) as t:
        for m, data in members:
            m.mtime = 1700000000
            t.addfile(m, io.BytesIO(data) if data is not None else None)

def reg(name, data=b"x\n"):
    m = tarfile.TarInfo(name); m.size = len(data); return (m, data)

def typed(name, typ, link=""):
    m = tarfile.TarInfo(name); m.type = typ; m.linkname = link; return (m, None)

one("abs.tar", [reg("/etc/passwd")])
one("dotdot.tar", [reg("etc/../../passwd")])
one("escape.tar", [typed("a/b/link", tarfile.SYMTYPE, "../" * 3 + "etc")])
one("hardlink.tar", [reg("a"), typed("b", tarfile.LNKTYPE, "a")])
one("device.tar", [typed("dev/null", tarfile.CHRTYPE)])
one("pax.tar", [reg("x" * 300)], fmt=tarfile.PAX_FORMAT)
# valid ustar, refused by the installer (agent/install_archive.c)
loader = lambda: reg("boot/efi/EFI/BOOT/BOOTX64.EFI", b"MZ")
one("noloader.tar", [reg("etc/x")])
one("esplink.tar", [loader(), typed("boot/efi/l", tarfile.SYMTYPE, "EFI")])
one("dup.tar", [loader(), reg("etc/x"), reg("etc/x")])
one("through.tar", [loader(), typed("l", tarfile.SYMTYPE, "etc"), reg("l/x")])
PY
# a header byte changed (its checksum then wrong), the data cut short, no end marker
cp good.tar badsum.tar
printf 'X' | dd of=badsum.tar bs=1 seek=600 conv=notrunc status=none
head -c 2058 good.tar > truncated.tar	# in bin/hello's data
n=$(python3 -c 'import tarfile; t = tarfile.open("good.tar"); t.getmembers(); print(t.offset)')
head -c "$n" good.tar > noend.tar
