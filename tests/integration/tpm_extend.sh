#!/bin/sh
# measured extend with a file, --text and --digest: afterwards every bank's
# PCR equals H(old || H(input)), computed here with openssl and python's
# hashlib from values read with tpm2_pcrread; several extends in a row;
# --bank narrows; the CEL log written with --log replays to the TPM's values.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

BANKS="sha1 sha256 sha384 sha512"

swtpm_start ext

# pcr BANK N: the value tpm2_pcrread reports, lowercase hex
pcr() {
	tpm2_pcrread "$1:$2" | sed -n 's/^ *[0-9]* *: 0x//p' | tr 'A-F' 'a-f'
}
# ext BANK OLDHEX DIGESTHEX: H(old || digest), with coreutils and openssl
ext() {
	printf '%s%s' "$2" "$3" | tr 'a-f' 'A-F' | basenc --base16 -d | openssl dgst -"$1" -r | cut -d' ' -f1
}
# check_extended N DIGEST-FILE WHAT: every bank of PCR N moved from the
# values saved in $T/old.BANK by the digest in DIGEST-FILE (BANK HEX lines)
save_old() {
	for b in $BANKS; do pcr "$b" "$1" > "$T/old.$b"; done
}
check_extended() {
	for b in $BANKS; do
		dg=$(awk -v b="$b" '$1 == b { print $2 }' "$2")
		[ -n "$dg" ] || die "no $b digest for $3"
		assert_eq "$3: $b PCR $1 = H(old || H(input))" "$(ext "$b" "$(cat "$T/old.$b")" "$dg")" "$(pcr "$b" "$1")"
	done
}

# a file
head -c 100000 /dev/urandom > "$T/file"
: > "$T/dg"
for b in $BANKS; do echo "$b $(openssl dgst -"$b" -r "$T/file" | cut -d' ' -f1)" >> "$T/dg"; done
save_old 16
$M extend --pcr 16 "$T/file" > "$T/out"
check_extended 16 "$T/dg" "file"
# the output: BANK PCR DIGEST for each bank
assert_eq "file: output names the digests" "$(awk '{ print $1, 16, $2 }' "$T/dg")" "$(cat "$T/out")"

# --text: the string's bytes, no newline
: > "$T/dg"
for b in $BANKS; do echo "$b $(printf '%s' 'hello world' | openssl dgst -"$b" -r | cut -d' ' -f1)" >> "$T/dg"; done
save_old 16
$M extend --pcr 16 --text 'hello world' > /dev/null
check_extended 16 "$T/dg" "text"

# --digest: given as is, every allocated bank
: > "$T/dg"
args=""
for b in $BANKS; do
	h=$(head -c 64 /dev/urandom | openssl dgst -"$b" -r | cut -d' ' -f1)
	echo "$b $h" >> "$T/dg"
	args="$args --digest $b:$h"
done
save_old 8
# shellcheck disable=SC2086 # word splitting wanted
$M extend -p 8 $args > /dev/null
check_extended 8 "$T/dg" "digest"

# several extends in a row on PCR 12: the chain computed here step by step
for b in $BANKS; do pcr "$b" 12 > "$T/chain.$b"; done
for i in 1 2 3 4 5; do
	$M extend --pcr 12 --text "step $i" > /dev/null
	for b in $BANKS; do
		ext "$b" "$(cat "$T/chain.$b")" "$(printf 'step %s' "$i" | openssl dgst -"$b" -r | cut -d' ' -f1)" > "$T/chain.$b.new"
		mv "$T/chain.$b.new" "$T/chain.$b"
	done
done
for b in $BANKS; do
	assert_eq "five extends in a row: $b PCR 12" "$(cat "$T/chain.$b")" "$(pcr "$b" 12)"
done

# --bank narrows: only sha256 moves
save_old 13
$M extend --pcr 13 --bank sha256 --text narrow > /dev/null
assert_eq "--bank sha256: sha256 moved" \
	"$(ext sha256 "$(cat "$T/old.sha256")" "$(printf narrow | openssl dgst -sha256 -r | cut -d' ' -f1)")" \
	"$(pcr sha256 13)"
for b in sha1 sha384 sha512; do
	assert_eq "--bank sha256: $b untouched" "$(cat "$T/old.$b")" "$(pcr "$b" 13)"
done
h=$(printf x | openssl dgst -sha384 -r | cut -d' ' -f1)
$M extend --pcr 13 --bank sha384 --digest "sha384:$h" > /dev/null
assert_eq "--bank sha384 --digest" "$(ext sha384 "$(cat "$T/old.sha384")" "$h")" "$(pcr sha384 13)"

# --json
$M extend --pcr 14 --text json --json | python3 -c '
import json, sys, hashlib
o = json.load(sys.stdin)
assert o["pcr"] == 14
assert sorted(o["digests"]) == ["sha1", "sha256", "sha384", "sha512"]
for b, h in o["digests"].items():
    assert h == hashlib.new(b, b"json").hexdigest(), b
'
ok "--json"

# --log: a fresh TPM, every extend logged; the log replays to the TPM's values
swtpm_start log
L=$T/measure.log
$M extend --pcr 9 --log "$L" "$T/file" > /dev/null
$M extend --pcr 9 --log "$L" --text second --description "the second" > /dev/null
$M extend --pcr 15 --log "$L" --text other > /dev/null
$M extend --pcr 9 --log "$L" $args > /dev/null
[ -s "$L" ] || die "no log written"
$M eventlog replay "$L" > "$T/replay" || die "the log written by extend --log does not replay: $(cat "$T/replay")"
want=""
for b in $BANKS; do
	want="$want$b 9 $(pcr "$b" 9)
$b 15 $(pcr "$b" 15)
"
done
assert_eq "CEL log from --log replays to the TPM's PCRs" "$(printf '%s' "$want")" "$(cat "$T/replay")"
