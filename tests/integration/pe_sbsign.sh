#!/bin/sh
# Authenticode digest of PE images (lib/predict/pe.c) against independent
# implementations: pesign -h (package pesign), osslsigncode verify's
# "Calculated message digest" (package osslsigncode), and sbsign / sbattach
# (package sbsigntool) to sign and unsign.  Images: Debian's EFI-stub
# kernel (tests/lib/kernel.sh), the same kernel unsigned, re-signed with a
# throwaway key, and with trailing data appended.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/kernel.sh"

for t in pesign osslsigncode sbsign sbattach cc openssl; do
	command -v $t > /dev/null || die "$t not installed"
done
kernel_fetch || die "cannot fetch Debian's kernel"

# The library has no subcommand for this yet: a tiny driver links it.
cat > "$T/pehash.c" <<'C'
#include <stdio.h>
#include "measured/pe.h"
#include "measured/error.h"
int main(int argc, char **argv)
{
	struct m_digests d;
	char hex[2 * M_DIGEST_MAX + 1];
	int e;

	if (argc != 2)
		return 2;
	e = m_pe_authenticode_path(argv[1], M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256), &d);
	if (e < 0) {
		fprintf(stderr, "%s\n", m_errmsg(e));
		return 3;
	}
	for_each_bank(b, d.banks) {
		m_hex(d.d[b], m_bank_info(b)->size, hex);
		printf("%s %s\n", m_bank_info(b)->name, hex);
	}
	return 0;
}
C
cc -I"$MEASURED_SRCDIR/include" -o "$T/pehash" "$T/pehash.c" "$MEASURED_BUILDDIR/libmeasured.a" \
	$(pkg-config --libs libcrypto) -lpthread || die "cannot build the driver"
H=$T/pehash

ours() { "$H" "$2" | awk -v b="$1" '$1 == b { print $2 }'; }
pesign_hash() { pesign -h -i "$1" | sed -n 's/^hash: //p'; }
# osslsigncode prints the digest in the algorithm the signature uses.
ossl_hash() { osslsigncode verify -in "$1" 2>&1 | sed -n 's/^Calculated message digest *: *\([0-9A-Fa-f]*\).*/\1/p' | tr A-F a-f; }

cp "$KERNEL_IMAGE" "$T/signed.efi"
ref=$(pesign_hash "$T/signed.efi")
[ ${#ref} = 64 ] || die "pesign printed no digest"
assert_eq "Debian kernel (Debian-signed) vs pesign" "$ref" "$(ours sha256 "$T/signed.efi")"
assert_eq "Debian kernel vs osslsigncode" "$(ossl_hash "$T/signed.efi")" "$(ours sha256 "$T/signed.efi")"

cp "$T/signed.efi" "$T/unsigned.efi"
sbattach --remove "$T/unsigned.efi" || die "sbattach --remove failed"
cmp -s "$T/signed.efi" "$T/unsigned.efi" && die "sbattach left the image unchanged"
assert_eq "unsigned kernel vs pesign" "$(pesign_hash "$T/unsigned.efi")" "$(ours sha256 "$T/unsigned.efi")"
assert_eq "signature removal keeps the digest" "$ref" "$(ours sha256 "$T/unsigned.efi")"

# A throwaway key: signing appends a certificate table, which is excluded.
openssl req -new -x509 -newkey rsa:2048 -nodes -subj /CN=measured-test -days 1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2> /dev/null || die "openssl req failed"
sbsign --key "$T/key.pem" --cert "$T/cert.pem" --output "$T/resigned.efi" "$T/unsigned.efi" 2> /dev/null ||
	die "sbsign failed"
assert_eq "re-signed with sbsign keeps the digest" "$ref" "$(ours sha256 "$T/resigned.efi")"
assert_eq "re-signed vs osslsigncode" "$(ossl_hash "$T/resigned.efi")" "$(ours sha256 "$T/resigned.efi")"

# SHA-1 bank: osslsigncode signs with -h sha1 and recomputes the digest.
osslsigncode sign -h sha1 -certs "$T/cert.pem" -key "$T/key.pem" -in "$T/unsigned.efi" \
	-out "$T/sha1.efi" > /dev/null 2>&1 || die "osslsigncode sign -h sha1 failed"
r1=$(ossl_hash "$T/sha1.efi")
[ ${#r1} = 40 ] || die "osslsigncode printed no SHA-1 digest"
assert_eq "sha1 digest vs osslsigncode" "$r1" "$(ours sha1 "$T/sha1.efi")"
assert_eq "sha1 digest unchanged by signing" "$r1" "$(ours sha1 "$T/unsigned.efi")"

# Trailing data after the last section (unsigned image) is hashed.
cp "$T/unsigned.efi" "$T/trail.efi"
printf 'measured' >> "$T/trail.efi"
t=$(ours sha256 "$T/trail.efi")
[ "$t" != "$ref" ] || die "trailing data did not change the digest"
assert_eq "trailing data vs pesign" "$(pesign_hash "$T/trail.efi")" "$t"

# Bad input: clear errors, exit 3.
head -c 1000 "$T/unsigned.efi" > "$T/short.efi"
expect_exit 3 "$H" "$T/short.efi"
grep -q "beyond the end\|truncated\|outside the file" "$T/err" || die "truncated image: $(cat "$T/err")"
printf 'not a PE file at all, just text to fill sixty-four bytes of header..' > "$T/text.efi"
expect_exit 3 "$H" "$T/text.efi"
grep -q "MZ" "$T/err" || die "non-PE: $(cat "$T/err")"
cp "$T/resigned.efi" "$T/extra.efi"
printf 'x' >> "$T/extra.efi"
expect_exit 3 "$H" "$T/extra.efi"
grep -q "not at the end" "$T/err" || die "data after certificates: $(cat "$T/err")"
ok "bad images rejected"
