#!/bin/sh
# `measured attest --install` of a root tree archive against `measured
# serve` on this host (swtpm, PCR 16 as the measured state, as
# install_flow.sh does it): `measured admin payload add --kind
# root-archive` stores sha256sum's digest and refuses archives the agent
# would refuse; the agent installs tests/data/ustar/good.tar (GNU tar's) on
# regular files; what the disk holds is read with
# other tools than the installer's: sfdisk --json (the GPT), fsck.fat and
# mtools (the ESP), e2fsck and debugfs (the root), compared with GNU tar's
# own extraction of the archive; an archive without a boot loader and too
# small a disk are refused by the agent, nothing written.  (Regular files
# only: loop devices on the build machine come up read-only, even for a
# writable file and losetup without -r.)
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
for tool in sfdisk losetup mke2fs e2fsck debugfs fsck.fat mtype mdir mkfs.vfat mcopy tar python3 curl; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
grep -q 'measured\.install\.target=' /proc/cmdline && die "this host's kernel command line names an install target"
U=$MEASURED_SRCDIR/tests/data/ustar

tls_make
swtpm_start arch
"$M" extend --pcr 16 --text kernel --bank sha256 --log "$T/m.cel" >/dev/null
"$M" extend --pcr 16 --text rootfs --bank sha256 --log "$T/m.cel" >/dev/null
mkmanifest "$T/good.json" 16 kernel rootfs
SHA=$(sha256sum < "$U/good.tar" | cut -d' ' -f1)

DB=sqlite:$T/v.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256 || die "policy add"
"$M" admin --db "$DB" payload add root --file "$U/good.tar" --policy good --kind root-archive || die "payload add"
"$M" admin --db "$DB" payload add noloader --file "$U/noloader.tar" --policy good --kind root-archive ||
	die "payload add noloader"
python3 - "$T/v.db" "$SHA" <<'PY' || die "the stored metadata"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT kind, target, digest FROM payload_install WHERE name = 'root'").fetchone()
assert row == ("root-archive", "", "sha256:" + sys.argv[2]), row
PY
ok "payload add --kind root-archive stores sha256sum's digest"
for a in escape:"ustar entry at offset 0 ('a/b/link'): a symbolic link whose target climbs above the archive's root" \
	abs:"ustar entry at offset 0 ('/etc/passwd'): an absolute path" \
	gnu:"ustar header at offset 0: not a POSIX ustar header"; do
	expect_exit 3 "$M" admin --db "$DB" payload add x --file "$U/${a%%:*}.tar" --policy good --kind root-archive
	grep -qF "${a#*:}" "$T/err" || die "admin ${a%%:*}: $(cat "$T/err")"
done
python3 -c 'import sqlite3, sys; assert sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM payloads WHERE name = '"'x'"'").fetchone()[0] == 0' \
	"$T/v.db" || die "a refused archive was stored"
ok "payload add refuses an escaping link, an absolute path, a GNU archive (exact messages), stores nothing"

serve_start "$DB" --tofu --approve good --insecure-tofu-approve
# the staging directories go to $TMPDIR
mkdir -p "$T/work"
inst() {
	TMPDIR=$T/work "$M" attest --server "$URL" --machine a1 --ca-cert "$T/ca.crt" --state "$T/state" --eventlog "$T/m.cel" "$@"
}

# GNU tar's extraction: the independent view of what the archive holds
mkdir -p "$T/x"
tar -xpf "$U/good.tar" -C "$T/x" || die "tar -x"

# check_disk DISK: the GPT, the ESP and the root as other tools read them
check_disk() {
	# (sfdisk warns that the backup GPT is at the image's end, not the disk's: docs/agent.md)
	sfdisk --json "$1" > "$T/gpt.json" 2>"$T/sfdisk.err" || die "sfdisk --json $1: $(cat "$T/sfdisk.err")"
	python3 - "$T/gpt.json" <<'PY' || die "the partition table: $(cat "$T/gpt.json")"
import json, sys
t = json.load(open(sys.argv[1]))["partitiontable"]
assert t["label"] == "gpt", t
p = [(x["start"], x["size"], x["type"], x.get("name")) for x in t["partitions"]]
assert p == [(2048, 33 * 2048, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "ESP"),
             (34 * 2048, 24 * 2048, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "root")], p
PY
	dd if="$1" of="$T/esp.img" bs=1M skip=1 count=33 status=none
	dd if="$1" of="$T/root.img" bs=1M skip=34 count=24 status=none
	fsck.fat -n "$T/esp.img" > "$T/fsck.fat" 2>&1 || die "fsck.fat: $(cat "$T/fsck.fat")"
	MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.img" ::/EFI/BOOT/BOOTX64.EFI > "$T/loader" || die "mtype"
	cmp "$T/loader" "$T/x/boot/efi/EFI/BOOT/BOOTX64.EFI" || die "the ESP's loader differs from the archive's"
	e2fsck -fn "$T/root.img" > "$T/e2fsck" 2>&1 || die "e2fsck: $(cat "$T/e2fsck")"
	for f in bin/hello etc/conf.d/test.conf etc/empty \
		usr/share/a-directory-name-of-forty-characters-xxxx/another-directory-name-of-forty-chars-yy/a-file-name-of-thirty-characters.txt; do
		debugfs -R "cat /$f" "$T/root.img" 2>/dev/null | cmp -s - "$T/x/$f" || die "root: /$f differs from tar's"
	done
	for f in bin/hello etc/conf.d/test.conf bin etc; do
		want=$(stat -c '%a %u %g' "$T/x/$f")
		got=$(debugfs -R "stat /$f" "$T/root.img" 2>/dev/null |
			sed -n 's/^Inode: .*Mode: *0*\([0-7]*\).*/\1/p;s/^User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1 \2/p' | tr '\n' ' ')
		assert_eq "root: /$f mode, owner, group as tar extracts them" "$want" "${got% }"
	done
	for l in bin/hi bin/conf etc/abs-link; do
		assert_eq "root: /$l -> tar's target" "$(readlink "$T/x/$l")" \
			"$(debugfs -R "stat /$l" "$T/root.img" 2>/dev/null | sed -n 's/^Fast link dest: "\(.*\)"$/\1/p')"
	done
	debugfs -R "ls -l /boot/efi" "$T/root.img" 2>/dev/null | grep -q ' \.\.$' || die "root: no /boot/efi mount point"
	debugfs -R "ls /boot/efi/EFI" "$T/root.img" 2>&1 | grep -q "File not found" ||
		die "root: the ESP's files are in the root too"
}

# 1. a regular file as the disk
truncate -s 64M "$T/disk"
expect_exit 0 inst --payload root --install --target "$T/disk"
steps=$(sed -n "s|^install: \([a-z-]*\) $T/disk\$|\1|p" "$T/out" | tr '\n' ' ')
assert_eq "steps" "unpacked built checked cleared writing written verified head-rest bootable " "$steps"
grep -q "^installed root $(stat -c %s "$U/good.tar") $T/disk sha256 $SHA\$" "$T/out" ||
	die "installed line: $(cat "$T/out")"
check_disk "$T/disk"
ok "installed on a file: GPT (sfdisk), ESP with the loader (fsck.fat, mtools), ext4 root equal to tar's extraction (e2fsck, debugfs)"

# 2. a disk holding random bytes before (an older system's), the target from the kernel
#    parameter's place being --target here too: what was there is gone where the image lies
head -c $((64 << 20)) /dev/urandom > "$T/old"
printf '\125\252' | dd of="$T/old" bs=1 seek=510 conv=notrunc status=none
cp "$T/old" "$T/old.orig"
expect_exit 0 inst --payload root --install --target "$T/old"
check_disk "$T/old"
cmp -s -i $((59 << 20)):$((59 << 20)) "$T/old" "$T/old.orig" || die "bytes past the image changed"
ok "installed over an older disk's bytes; past the image, untouched"

# 3. an archive without the ESP's loader: refused by the agent, nothing written
head -c $((64 << 20)) /dev/urandom > "$T/d2"
cp "$T/d2" "$T/d2.orig"
expect_exit 3 inst --payload noloader --install --target "$T/d2"
grep -q "root archive without boot/efi/EFI/BOOT/BOOTX64.EFI (the removable-media loader an EFI System Partition boots): nothing would boot; nothing written" "$T/err" ||
	die "noloader: $(cat "$T/err")"
grep -q "^install:" "$T/out" && die "noloader: the installer ran"
cmp -s "$T/d2" "$T/d2.orig" || die "noloader: the disk changed"
# 4. too small a disk: refused after the image is built, before it is written
truncate -s 32M "$T/small"
expect_exit 3 inst --payload root --install --target "$T/small"
grep -q "target $T/small: 33554432 bytes, the package needs 61865984" "$T/err" || die "small: $(cat "$T/err")"
cmp -s -n 33554432 "$T/small" /dev/zero || die "small: written"
[ -z "$(ls -A "$T/work")" ] || die "a staging directory was left in \$TMPDIR: $(ls "$T/work")"
serve_stop
ok "no loader, too small a disk: refused, nothing written, no staging directory left"
