#!/bin/sh
# measured predict for the root filesystem, against coreutils:
# - new mode: PCR = H(0 || H(image)) in every bank;
# - the original `measureroot` value: `sha1sum image | tpm_extendpcr`, i.e.
#   SHA-1 extend of SHA1 of the 40 hex characters sha1sum prints;
# - --rootfs-digest gives the same as --rootfs; errors are named.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
head -c 3000000 /dev/urandom > "$T/root.img"

zero() { head -c "$1" /dev/zero | od -An -v -tx1 | tr -d ' \n'; }
ext() {	# ext BANK DIGEST_HEX: extend from zero, with coreutils
	printf '%s%s' "$(zero $(( ${#2} / 2 )))" "$2" | xxd -r -p | ${1}sum | cut -d' ' -f1
}

"$M" predict --bank sha1,sha256,sha384,sha512 --rootfs "$T/root.img" --rootfs-pcr 12 --show > "$T/new.txt"
for b in sha1 sha256 sha384 sha512; do
	d=$(${b}sum "$T/root.img" | cut -d' ' -f1)
	assert_eq "new mode $b" "$b 12 $(ext $b "$d")" "$(grep "^$b " "$T/new.txt")"
done

# the original: sha1sum's hex text (40 characters, no newline) hashed again
text=$(sha1sum "$T/root.img" | cut -c1-40)
measured_text=$(printf '%s' "$text" | sha1sum | cut -d' ' -f1)
"$M" predict --rootfs "$T/root.img" --rootfs-compat --show > "$T/compat.txt"
# the original's default PCR is 9 (its rootimgpcr= fallback), as measured-init's
assert_eq "compat value (default PCR 9, sha1 bank only)" "sha1 9 $(ext sha1 "$measured_text")" "$(cat "$T/compat.txt")"

# a digest on the command line instead of the image
d1=$(sha1sum "$T/root.img" | cut -d' ' -f1)
d256=$(sha256sum "$T/root.img" | cut -d' ' -f1)
"$M" predict --rootfs-digest sha1:$d1 --rootfs-digest sha256:$d256 --show > "$T/dig.txt"
"$M" predict --rootfs "$T/root.img" --show > "$T/file.txt"
assert_eq "--rootfs-digest = --rootfs" "$(cat "$T/file.txt")" "$(cat "$T/dig.txt")"

# a manifest file round-trips through check against a CEL log of the same extend
"$M" predict --bank sha256 --rootfs "$T/root.img" -o "$T/m.json"
printf '\036{"recnum":0,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"%s"}],"content_type":"measured","content":{"description":"root"}}\n' \
	"$d256" > "$T/cel.json"
"$M" check "$T/m.json" --eventlog "$T/cel.json" > "$T/check.txt"
tail -n 1 "$T/check.txt" | grep -qx match || die "check of a matching CEL log failed"
ok "check matches"

# errors
expect_exit 2 "$M" predict --rootfs "$T/root.img"
expect_exit 2 "$M" predict --rootfs-pcr 24 --rootfs "$T/root.img" --show
expect_exit 3 "$M" predict --rootfs "$T/missing.img" --show
grep -q "missing.img" "$T/err" || die "error does not name the file"
expect_exit 2 "$M" predict --rootfs-digest sha256:abcd --show
expect_exit 3 "$M" predict --rootfs-digest sha256:$d256 --rootfs-compat --show
grep -q "SHA-1" "$T/err" || die "compat without a SHA-1 digest not explained"
printf '{"format":"measured-manifest","version":1}' > "$T/bad.json"
expect_exit 3 "$M" check "$T/bad.json" --eventlog "$T/cel.json"
grep -q "bad.json" "$T/err" || die "bad manifest not named"
ok "errors"
