#!/bin/sh
# measured hash against coreutils and openssl, every bank, files of odd sizes.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

for size in 0 1 65535 65536 65537 5000000; do
	head -c "$size" /dev/urandom > "$T/f$size"
	out=$($M hash --bank sha1,sha256,sha384,sha512 "$T/f$size")
	for b in sha1 sha256 sha384 sha512; do
		ref=$(${b}sum "$T/f$size" | cut -d' ' -f1)
		got=$(echo "$out" | awk -v b=$b '$1 == b { print $2 }')
		assert_eq "$b of $size bytes" "$ref" "$got"
	done
	ref=$(openssl dgst -sm3 -r "$T/f$size" | cut -d' ' -f1)
	got=$($M hash --bank sm3_256 "$T/f$size" | cut -d' ' -f2)
	assert_eq "sm3_256 of $size bytes" "$ref" "$got"
done

# output format: BANK HEX PATH, banks in order
out=$($M hash --bank sha256,sha1 "$T/f1" | cut -d' ' -f1 | tr '\n' ' ')
assert_eq "banks sorted" "sha1 sha256 " "$out"

# JSON
$M hash --json --bank sha256 "$T/f1" | python3 -c '
import json, sys, hashlib
o = json.loads(sys.stdin.read())
assert o["digests"]["sha256"] == hashlib.sha256(open(o["path"], "rb").read()).hexdigest()
assert o["size"] == 1
'
ok "json output"

# errors: missing file, directory, symlink, bad bank; other paths still hashed
expect_exit 3 $M hash "$T/nonexistent"
grep -q "nonexistent" "$T/err" || die "error does not name the file"
expect_exit 3 $M hash "$T"
ln -s "$T/f1" "$T/link"
expect_exit 3 $M hash "$T/link"
expect_exit 2 $M hash --bank md5 "$T/f1"
grep -q "md5" "$T/err" || die "error does not name the bank"
expect_exit 3 $M hash "$T/nonexistent" "$T/f1"
grep -q "$T/f1" "$T/out" || die "good path not hashed after a bad one"
expect_exit 2 $M hash
ok "errors"
