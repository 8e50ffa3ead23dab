#!/bin/sh
# Errors of pcrread, extend and eventlog verify: no TPM (exit 4, naming the
# TCTI), bad PCRs and digests (exit 2), TPM error responses (exit 4 with the
# decoded response code), -T over MEASURED_TCTI, a log that cannot be
# written (nothing extended).
. "$MEASURED_SRCDIR/tests/lib/common.sh"

swtpm_start err
GOOD=$MEASURED_TCTI

# --- no TPM: a socket path nobody listens on
NOBODY="swtpm:path=$T/nobody"
expect_exit 4 env MEASURED_TCTI=$NOBODY $M pcrread
grep -q "$T/nobody" "$T/err" || die "no-TPM message does not name the TCTI: $(cat "$T/err")"
expect_exit 4 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --text x
grep -q "$T/nobody" "$T/err" || die "extend: TCTI not named"
$M extend --pcr 16 --log "$T/cel.log" --text x > /dev/null
expect_exit 4 env MEASURED_TCTI=$NOBODY $M eventlog verify "$T/cel.log"
grep -q "$T/nobody" "$T/err" || die "verify: TCTI not named"
expect_exit 4 env MEASURED_TCTI=$NOBODY $M pcrread -T "device:$T/no-such-device"
grep -q "no-such-device" "$T/err" || die "device TCTI not named"
ok "no TPM: exit 4, the TCTI named"

# --- -T overrides MEASURED_TCTI, both ways
expect_exit 0 env MEASURED_TCTI=$NOBODY $M pcrread -T "$GOOD" 0
assert_eq "-T over a dead MEASURED_TCTI reads PCR 0" 4 "$(wc -l < "$T/out")"
expect_exit 4 $M pcrread --tcti "$NOBODY" 0
grep -q "$T/nobody" "$T/err" || die "-T not used over MEASURED_TCTI"
ok "-T overrides MEASURED_TCTI"

# --- bad PCR numbers: exit 2, before any TPM is touched
for p in 24 x -1 1-24 "0,,1" ""; do
	expect_exit 2 env MEASURED_TCTI=$NOBODY $M pcrread "$p"
done
for p in 24 x -1 16x 99999999999999999999 ""; do
	expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr "$p" --text x
done
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --text x
grep -q -- "--pcr" "$T/err" || die "missing --pcr not named"
ok "bad PCR: exit 2"

# --- bad digests and banks: exit 2
H1=$(printf a | openssl dgst -sha1 -r | cut -d' ' -f1)
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --digest "sha1:${H1%?}"	# one digit short
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --digest "sha1:${H1%?}g"	# not hex
grep -q "sha1" "$T/err" || die "bad digest: bank not named"
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --digest "md5:$H1"
grep -q "md5" "$T/err" || die "unknown bank not named"
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --digest "$H1"
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --digest "sha1:$H1" --digest "sha1:$H1"
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --text a "$T/cel.log"
expect_exit 2 env MEASURED_TCTI=$NOBODY $M pcrread --bank md5
expect_exit 2 env MEASURED_TCTI=$NOBODY $M extend --pcr 16 --bank md5 --text a
# digests for fewer banks than the TPM has: refused, nothing extended
before=$($M pcrread 16)
expect_exit 2 $M extend --pcr 16 --digest "sha1:$H1"
grep -q "sha256" "$T/err" || die "missing banks not named: $(cat "$T/err")"
# a bank swtpm has not allocated
expect_exit 2 $M extend --pcr 16 --bank sm3_256 --text a
grep -q "sm3_256" "$T/err" || die "unallocated bank not named"
assert_eq "refused extends changed nothing" "$before" "$($M pcrread 16)"
ok "bad digests and banks: exit 2"

# --- TPM error responses: exit 4 with the decoded response code
# PCR 17 can only be extended from locality 2-4 (PC Client PTP: DRTM PCRs)
expect_exit 4 $M extend --pcr 17 --text a
grep -q "TPM2_PCR_Extend: 0x00000907 tpm:warn(2.0): bad locality" "$T/err" || die "locality error: $(cat "$T/err")"
# swtpm does not implement SM3: TPM_RC_HASH for parameter 1
expect_exit 4 $M pcrread --bank sm3_256 0
grep -q "TPM2_PCR_Read: 0x000001c3 tpm:parameter(1):hash algorithm not supported" "$T/err" || die "hash error: $(cat "$T/err")"
ok "TPM error responses: exit 4, decoded"

# --- a log that cannot be written: nothing is extended
before=$($M pcrread 16)
: > "$T/file"
expect_exit 3 $M extend --pcr 16 --log "$T/file/log" --text a
grep -q "nothing extended" "$T/err" || die "log error: $(cat "$T/err")"
assert_eq "unwritable log: PCR 16 unchanged" "$before" "$($M pcrread 16)"
expect_exit 3 $M extend --pcr 16 "$T/no-such-file"
grep -q "no-such-file" "$T/err" || die "missing input not named"
ok "unwritable log, missing input: exit 3"
