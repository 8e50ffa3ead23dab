#!/bin/sh
# measured eventlog show/replay on the fixture logs: against expected-pcrs.tsv,
# against tpm2_eventlog (tpm2-tools), bad input, JSON output.
. "$MEASURED_SRCDIR/tests/lib/common.sh"

E=$FIX/eventlogs
TSV=$E/expected-pcrs.tsv
command -v tpm2_eventlog > /dev/null || die "tpm2_eventlog (tpm2-tools) not installed"
[ -f "$TSV" ] || die "no $TSV"

TCG_LOGS="tpm2-tools/event.bin tpm2-tools/event-uefi-sha1-log.bin tpm2-tools/event-arch-linux.bin
tpm2-tools/event-bootorder.bin tpm2-tools/event-gce-ubuntu-2104-log.bin tpm2-tools/event-moklisttrusted.bin
tpm2-tools/event-postcode.bin tpm2-tools/event-sd-boot-fedora37.bin
go-attestation/crypto_agile_eventlog go-attestation/ebs_event_missing_eventlog go-attestation/sb_cert_eventlog
go-attestation/ubuntu_2104_shielded_vm_no_secure_boot_eventlog go-attestation/windows_gcp_shielded_vm.eventlog.bin
keylime/binary_bios_measurements keylime/binary_bios_measurements-secureboot"

# 1. every expected-pcrs.tsv row of these logs is a line of our replay
rows=0
for f in $TCG_LOGS; do
	$M eventlog replay "$E/$f" > "$T/ours"
	awk -F'\t' -v f="$f" '$1 == f { print $2, $3, $4 }' "$TSV" > "$T/want"
	[ -s "$T/want" ] || die "$f has no rows in the TSV"
	missing=$(grep -cvxFf "$T/ours" "$T/want" || true)
	assert_eq "$f: rows of expected-pcrs.tsv in replay" 0 "$missing"
	rows=$((rows + $(wc -l < "$T/want")))
done
assert_eq "TSV rows checked" 226 "$rows"

# 2. tpm2_eventlog's 'pcrs:' replay equals ours, whole, where it applies
#    (it ignores StartupLocality: keylime/binary_bios_measurements differs in PCR 0 only)
tpm2_pcrs() {
	tpm2_eventlog "$1" 2>/dev/null | awk '
		/^pcrs:/ { on = 1; next }
		on && /^  [a-z0-9_]+:$/ { bank = $1; sub(":", "", bank); next }
		on && /^    [0-9]+ *: 0x/ { sub("0x", "", $3); print bank, $1, $3 }'
}
for f in $TCG_LOGS; do
	tpm2_pcrs "$E/$f" | sort > "$T/theirs"
	$M eventlog replay "$E/$f" | sort > "$T/ours"
	[ -s "$T/theirs" ] || die "no pcrs from tpm2_eventlog for $f"
	if [ "$f" = keylime/binary_bios_measurements ]; then
		diff "$T/theirs" "$T/ours" | grep '^[<>]' | awk '{ print $3 }' | sort -u > "$T/d"
		assert_eq "$f: differs from tpm2_eventlog in PCR 0 only (StartupLocality 3)" 0 "$(cat "$T/d")"
	else
		diff -u "$T/theirs" "$T/ours" > "$T/diff" || { cat "$T/diff" >&2; die "$f: tpm2_eventlog disagrees"; }
		ok "$f: same PCRs as tpm2_eventlog"
	fi
done

# 3. several logs replay in order onto one PCR set: a log followed by itself
#    extends every PCR twice, which equals replaying the doubled file
f=$E/tpm2-tools/event-uefi-sha1-log.bin
cat "$f" "$f" > "$T/double.bin"
assert_eq "two files = one concatenated SHA-1 log" "$($M eventlog replay "$T/double.bin")" "$($M eventlog replay "$f" "$f")"

# 4. --bank filters; the output format is BANK PCR HEX
out=$($M eventlog replay --bank sha256 "$E/tpm2-tools/event-gce-ubuntu-2104-log.bin" | cut -d' ' -f1 | sort -u)
assert_eq "--bank sha256 prints sha256 only" sha256 "$out"
line=$($M eventlog replay --bank sha256 "$E/tpm2-tools/event-gce-ubuntu-2104-log.bin" | head -1)
echo "$line" | grep -Eq '^sha256 [0-9]+ [0-9a-f]{64}$' || die "bad line format: $line"
ok "replay line format"
expect_exit 3 $M eventlog replay --bank sm3_256 "$E/tpm2-tools/event.bin"
grep -q sm3_256 "$T/err" || die "missing bank not named"
expect_exit 2 $M eventlog replay --bank md5 "$E/tpm2-tools/event.bin"
ok "--bank errors"

# 5. bad input: exit 3, message names file, record and offset
expect_exit 3 $M eventlog replay "$E/go-attestation/short_no_action_eventlog"
grep -q "short_no_action_eventlog: record 0 at offset 0x0" "$T/err" || die "message: $(cat "$T/err")"
head -c 1000 "$E/tpm2-tools/event-arch-linux.bin" > "$T/cut.bin"
expect_exit 3 $M eventlog show "$T/cut.bin"
grep -q "cut.bin: record [0-9]* at offset 0x[0-9a-f]*: " "$T/err" || die "message: $(cat "$T/err")"
[ ! -s "$T/out" ] || die "output printed for a bad log"
expect_exit 3 $M eventlog replay "$E/tpm2-tools/event.bin" "$T/cut.bin"
[ ! -s "$T/out" ] || die "partial replay printed"
expect_exit 3 $M eventlog replay "$T/nonexistent"
grep -q nonexistent "$T/err" || die "missing file not named"
expect_exit 2 $M eventlog show
expect_exit 2 $M eventlog frobnicate
expect_exit 0 $M eventlog show --help
grep -q "Usage: measured eventlog show" "$T/out" || die "show --help"
expect_exit 0 $M eventlog replay --help
grep -q "Usage: measured eventlog replay" "$T/out" || die "replay --help"
ok "bad input and usage"

# 6. show: text and JSON, checked against the file with python
$M eventlog show "$E/keylime/binary_bios_measurements" > "$T/show"
grep -q "^1 @0x[0-9a-f]* PCR 0 EV_NO_ACTION (not extended): StartupLocality 3$" "$T/show" || die "show text"
grep -q "EV_EFI_VARIABLE_DRIVER_CONFIG: SecureBoot" "$T/show" || die "variable name"
ok "show text"
for f in keylime/binary_bios_measurements tpm2-tools/event-uefi-sha1-log.bin tpm2-tools/event-postcode.bin; do
	$M eventlog show --json "$E/$f" > "$T/show.json"
	python3 - "$E/$f" "$T/show.json" <<'PY'
import json, struct, sys, hashlib
raw = open(sys.argv[1], "rb").read()
o = json.load(open(sys.argv[2]))
assert o["file"] == sys.argv[1]
assert o["format"] in ("tcg-crypto-agile", "tcg-sha1")
ev = o["events"]
assert len(ev) > 1
for i, e in enumerate(ev):
    assert e["recnum"] == i
    # the record header at 'offset' holds the PCR and type we report
    pcr, typ = struct.unpack_from("<II", raw, e["offset"])
    assert (pcr, typ) == (e["pcr"], e["type"]), e
    assert e["extends"] == (typ != 3)
    for bank, hexd in e["digests"].items():
        assert len(hexd) == 2 * hashlib.new(bank).digest_size
# SHA-1 digests sit right after pcr+type in the first record (both formats)
assert ev[0]["digests"]["sha1"] == raw[8:28].hex()
PY
	ok "$f: show --json"
done
