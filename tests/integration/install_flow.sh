#!/bin/sh
# `measured attest --install` against `measured serve` on this host (swtpm,
# PCR 16 as the measured state, as attest_agent.sh does it), with regular
# files and loop devices as the target disk: the payload's metadata from
# `measured admin payload add --kind disk-image [--target]`, the target
# from --target or the verifier, the steps in order, the disk equal to the
# package (cmp) and its digest sha256sum's; a refusal, a payload without
# metadata or whose digest is not its own, a target too small, missing, a directory, mounted, or with a
# mounted partition write nothing; usage errors.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
for tool in sfdisk losetup partx mke2fs unshare mount python3 curl; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
grep -q 'measured\.install\.target=' /proc/cmdline && die "this host's kernel command line names an install target"

tls_make
swtpm_start inst
"$M" extend --pcr 16 --text kernel --bank sha256 --log "$T/m.cel" >/dev/null
"$M" extend --pcr 16 --text rootfs --bank sha256 --log "$T/m.cel" >/dev/null
mkmanifest "$T/good.json" 16 kernel rootfs

# the package: an MBR disk of 3 MiB + 5 sectors, one partition, random content
head -c $(( (3 << 20) + 5 * 512 )) /dev/urandom > "$T/pkg.img"
printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$T/pkg.img" >/dev/null || die "sfdisk"
PKG_SIZE=$(stat -c %s "$T/pkg.img")
PKG_SHA=$(sha256sum < "$T/pkg.img" | cut -d' ' -f1)
# disks: 8 MiB of other random bytes (an older system: a boot signature too)
newdisk() {
	head -c $((8 << 20)) /dev/urandom > "$1"
	printf '\125\252' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
}
newdisk "$T/disk"
newdisk "$T/vdisk"
cp "$T/disk" "$T/disk.orig"

DB=sqlite:$T/v.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256 || die "policy add"
"$M" admin --db "$DB" payload add pkg --file "$T/pkg.img" --policy good --kind disk-image --target "$T/vdisk" ||
	die "payload add --kind"
"$M" admin --db "$DB" payload add plain --file "$T/pkg.img" --policy good || die "payload add"
"$M" admin --db "$DB" payload add wrong --file "$T/pkg.img" --policy good --kind disk-image || die "payload add"
# the stored metadata as sqlite3 reads it: the digest is sha256sum's; then
# "wrong" gets a digest that is not its package's
python3 - "$T/v.db" "$PKG_SHA" "$T/vdisk" <<'PY' || die "the stored metadata"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = {r[0]: r[1:] for r in db.execute("SELECT name, kind, target, digest FROM payload_install")}
want = "sha256:" + sys.argv[2]
assert rows == {"pkg": ("disk-image", sys.argv[3], want), "wrong": ("disk-image", "", want)}, rows
db.execute("UPDATE payload_install SET digest = ? WHERE name = 'wrong'", ("sha256:" + "0" * 64,))
db.commit()
PY
expect_exit 2 "$M" admin --db "$DB" payload add x --file "$T/pkg.img" --policy good --kind tarball
expect_exit 2 "$M" admin --db "$DB" payload add x --file "$T/pkg.img" --policy good --target /dev/vdb
expect_exit 2 "$M" admin --db "$DB" payload add x --file "$T/pkg.img" --policy good --kind disk-image --target vdb
ok "admin: --kind disk-image or root-archive, --target absolute and with --kind"
serve_start "$DB" --tofu --approve good --insecure-tofu-approve
inst() {
	"$M" attest --server "$URL" --machine i1 --ca-cert "$T/ca.crt" --state "$T/state" --eventlog "$T/m.cel" "$@"
}

# 1. usage
expect_exit 2 inst --install
expect_exit 2 inst --payload pkg --install -o "$T/x"
expect_exit 2 inst --payload pkg -o "$T/x" --target "$T/disk"
expect_exit 2 inst --payload pkg --install --target disk
ok "usage: --install needs --payload and no -o; --target and --reboot need --install; --target absolute"

# 2. a payload without install metadata: released, not installed
expect_exit 3 inst --payload plain --install --target "$T/disk"
grep -q "payload 'plain' carries no install metadata" "$T/err" || die "no metadata: $(cat "$T/err")"
cmp -s "$T/disk" "$T/disk.orig" || die "no metadata: the disk changed"
ok "a payload without install metadata is not installed"

# 3. installed on --target: the steps in order, the bytes, the digest
expect_exit 0 inst --payload pkg --install --target "$T/disk"
steps=$(sed -n "s|^install: \([a-z-]*\) $T/disk\$|\1|p" "$T/out" | tr '\n' ' ')
assert_eq "steps on the console" "checked cleared writing written verified head-rest bootable " "$steps"
grep -q "^installed pkg $PKG_SIZE $T/disk sha256 $PKG_SHA\$" "$T/out" || die "installed line: $(cat "$T/out")"
grep -q "^matched good:default\$" "$T/out" || die "no matched line: $(cat "$T/out")"
cmp -n "$PKG_SIZE" "$T/pkg.img" "$T/disk" || die "the disk differs from the package"
cmp -s -i "$PKG_SIZE:$PKG_SIZE" "$T/disk" "$T/disk.orig" || die "bytes past the package changed"
cmp -s "$T/vdisk" "$T/disk" && die "the verifier's target was written too"
ok "installed on --target: the package byte for byte, sha256sum's digest"

# 4. the verifier's target when the machine names none; JSON
expect_exit 0 inst --payload pkg --install --json
python3 - "$T/out" "$T/vdisk" "$PKG_SIZE" "$PKG_SHA" <<'PY' || die "JSON: $(cat "$T/out")"
import json, sys
o = json.load(open(sys.argv[1]))
i = o["install"]
assert o["result"] == "pass", o
assert o["matched"] == [{"policy": "good", "manifest": "default"}], o
assert (i["payload"], i["kind"], i["target"], i["target_from"], i["size"], i["sha256"]) == \
    ("pkg", "disk-image", sys.argv[2], "verifier", int(sys.argv[3]), sys.argv[4]), i
PY
grep -q "^install:" "$T/out" && die "JSON: progress lines in the JSON output"
cmp -n "$PKG_SIZE" "$T/pkg.img" "$T/vdisk" || die "the verifier's target differs from the package"
ok "installed on the verifier's target (--json)"

# a digest that is not the package's: nothing written
expect_exit 3 inst --payload wrong --install --target "$T/disk"
grep -q "package digest mismatch: sha256 $PKG_SHA, the verifier says 0\{64\}; nothing written" "$T/err" ||
	die "wrong digest: $(cat "$T/err")"
grep -q "^install:" "$T/out" && die "wrong digest: the installer wrote"
cmp -n "$PKG_SIZE" "$T/pkg.img" "$T/disk" || die "wrong digest: the disk changed"
ok "a package whose digest at the verifier is not its own is not written"

# 5. target errors: before anything is sent (missing, a directory), after the release (too small)
expect_exit 3 inst --payload pkg --install --target "$T/none"
grep -q "target $T/none: no such disk" "$T/err" || die "missing: $(cat "$T/err")"
expect_exit 3 inst --payload pkg --install --target "$T"
grep -q "not a block device" "$T/err" || die "directory: $(cat "$T/err")"
truncate -s $((PKG_SIZE - 1)) "$T/small"
expect_exit 3 inst --payload pkg --install --target "$T/small"
grep -q "target $T/small: $((PKG_SIZE - 1)) bytes, the package needs $PKG_SIZE" "$T/err" || die "small: $(cat "$T/err")"
cmp -s -n $((PKG_SIZE - 1)) "$T/small" /dev/zero || die "small: written"
ok "missing, directory, too small: refused, nothing written"

# 6. block devices: mounted, or a partition of it mounted (in a mount
# namespace of this test's own), is in use.  Mounted read-only: a
# read-write mount of ext4 writes its superblock (the mount count and
# time), and the image is compared byte for byte afterwards.
newdisk "$T/loop.img"
mke2fs -q -t ext4 -F "$T/loop.img" >/dev/null || die "mke2fs"
LOOP=$(losetup -f --show "$T/loop.img") || die "losetup"
trap 'for l in "$LOOP" "${LOOP2:-}" "${LOOP3:-}"; do [ -n "$l" ] && losetup -d "$l" 2>/dev/null; done; cleanup' EXIT
mkdir -p "$T/mnt"
cp "$T/loop.img" "$T/loop.orig"
unshare -m sh -c 'mount -o ro "$1" "$2" && shift 2 && exec "$@"' sh "$LOOP" "$T/mnt" \
	"$M" attest --server "$URL" --machine i1 --ca-cert "$T/ca.crt" --state "$T/state" --eventlog "$T/m.cel" \
	--payload pkg --install --target "$LOOP" > "$T/out" 2> "$T/err" && die "mounted: installed"
grep -q "target $LOOP: in use (mounted, a partition of it mounted, or held)" "$T/err" || die "mounted: $(cat "$T/err")"
head -c $((8 << 20)) /dev/zero > "$T/parts.img"
printf 'label: gpt\nstart=2048, size=8192\n' | sfdisk -q "$T/parts.img" >/dev/null || die "sfdisk parts"
LOOP2=$(losetup -f --show -P "$T/parts.img") || die "losetup -P"
# the kernel's scan can come before the table is readable: ask again
[ -b "${LOOP2}p1" ] || partx -a "$LOOP2" 2>/dev/null || true
i=0
while [ ! -b "${LOOP2}p1" ]; do i=$((i + 1)); [ $i -gt 50 ] && die "no ${LOOP2}p1"; sleep 0.1; done
mke2fs -q -t ext4 -F "${LOOP2}p1" >/dev/null || die "mke2fs p1"
unshare -m sh -c 'mount "$1" "$2" && shift 2 && exec "$@"' sh "${LOOP2}p1" "$T/mnt" \
	"$M" attest --server "$URL" --machine i1 --ca-cert "$T/ca.crt" --state "$T/state" --eventlog "$T/m.cel" \
	--payload pkg --install --target "$LOOP2" > "$T/out" 2> "$T/err" && die "partition mounted: installed"
grep -q "target $LOOP2: in use" "$T/err" || die "partition mounted: $(cat "$T/err")"
# a read-only device (losetup -r)
LOOP3=$(losetup -f --show -r "$T/loop.img") || die "losetup -r"
expect_exit 3 inst --payload pkg --install --target "$LOOP3"
grep -q "target $LOOP3: a read-only device" "$T/err" || die "read-only: $(cat "$T/err")"
cmp -s "$T/loop.img" "$T/loop.orig" || die "a refused block device changed"
ok "block devices: mounted, with a mounted partition, read-only: refused, nothing written"

# 7. a refusal: nothing written
newdisk "$T/rdisk"
cp "$T/rdisk" "$T/rdisk.orig"
"$M" extend --pcr 16 --text evil --bank sha256 --log "$T/m.cel" >/dev/null
expect_exit 1 inst --payload pkg --install --target "$T/rdisk"
grep -q '^fail i1 manifest-mismatch' "$T/out" || die "refusal: $(cat "$T/out")"
grep -q '^first difference: pcr 16' "$T/out" || die "refusal: no first difference"
grep -q '^install:' "$T/out" && die "refusal: the installer ran"
cmp -s "$T/rdisk" "$T/rdisk.orig" || die "refusal: the disk changed"
serve_stop
ok "refused: the first difference shown, the disk untouched"
