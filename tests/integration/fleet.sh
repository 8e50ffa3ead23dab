#!/bin/sh
# Three verifiers (`measured serve`) on one PostgreSQL, each on its own
# port, no load balancer: the load generator (bench/serve_load) spreads the
# requests, fetching each nonce at one verifier and attesting at the next
# (docs/server.md, "Storage" and "Running a fleet").  A nonce from one is
# good at another exactly once; a replaced policy is in force on all within
# SRV_POLICY_RECHECK_MS; a revocation is refused everywhere at once; racing
# enrolments settle as the docs say (one TPM's activation raced at three
# verifiers is taken once; two TPMs racing for one name: one EK wins); and
# kill -9 of one verifier under load loses nothing: the generator's retries
# on the others succeed, every pass it saw is in the audit once, no nonce
# twice, no payload for a failing machine.  Scaled down for `make check`:
# bench/bench_fleet.sh runs the kill at full size (FLEET_MACHINES,
# FLEET_THREADS, FLEET_SECONDS).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/tests/lib/fleet.sh"

tls_make
pg_start
DB=$PG_URL
fleet_policy "$DB" fleet
fleet_policy "$DB" pol
head -c 64 /dev/urandom > "$T/secret"
"$M" admin --db "$DB" payload add secret --file "$T/secret" --policy fleet >/dev/null
fleet_start "$DB" 3	# 8 request threads each (the default): passes grouped (server/group.c)

# -- one nonce, its attestation at all three verifiers at once: one pass, two nonce-reused
SERVE_LOAD_RACE=1 SERVE_LOAD_PASSLOG=$T/race.pass load_start "$DB" race fleet 30 3 2
load_wait race
[ "$LOAD_RC" = 0 ] || die "race: $(cat "$T/race.err")"
rounds=$(load_field race rounds)
assert_eq "race: two nonce-reused answers per round" "$((2 * rounds))" "$(load_field race nonce-reused)"
[ "$rounds" -ge 20 ] || die "race: only $rounds rounds"
check_passes race
assert_eq "race: one nonce use per round" "$rounds" "$(wc -l < "$T/race.used")"
ok "race: $rounds nonces each attested at three verifiers at once, each passed once"

# -- kill -9 one verifier under load: the others answer, retries succeed, nothing is lost or doubled
SERVE_LOAD_PAYLOAD=secret SERVE_LOAD_BAD_EVERY=10 SERVE_LOAD_PASSLOG=$T/kill.pass SERVE_LOAD_DOUBTLOG=$T/kill.doubt \
	load_start "$DB" kill fleet "${FLEET_MACHINES:-600}" "${FLEET_THREADS:-6}" "${FLEET_SECONDS:-7}"
sleep $(( ${FLEET_SECONDS:-7} * 3 / 7 ))
kill -9 "$(vpid 1)"
tk=$(now_ms)
load_wait kill
[ "$LOAD_RC" = 0 ] || die "kill: the generator saw errors: $(cat "$T/kill.err")"
assert_eq "kill: no error" 0 "$(load_field kill errors)"
[ "$(load_field kill retries)" -ge 1 ] || die "kill: no request was retried (was the killed verifier serving?)"
awk -v t="$tk" '$3 < t - 500 && $4 == 0' "$T/kill.pass" | grep -q . || die "kill: verifier 1 passed nothing before"
awk -v t="$tk" '$3 > t + 1000' "$T/kill.pass" | grep -q . || die "kill: no pass after the kill"
[ "$(load_field kill refused)" -ge 10 ] || die "kill: too few failing machines attested"
FLEET_BAD=1 check_passes kill
ok "kill: error window $(load_field kill window) ms, $(load_field kill retries) retries"

# -- a policy replaced through the database: in force on every verifier within 1 s (SRV_POLICY_RECHECK_MS)
kill "$(vpid 2)" "$(vpid 3)"
fleet_start "$DB" 3 --tofu
SERVE_LOAD_RACE=1 SERVE_LOAD_ANSWERLOG=$T/pol.ans load_start "$DB" pol pol 3 3 6
sleep 2
mkmanifest "$T/other.json" 16 other
"$M" admin --db "$DB" policy add pol --manifest "$T/other.json" --pcrs 16 --banks sha256 >/dev/null
tp=$(now_ms)
load_wait pol
python3 - "$T/pol.ans" "$tp" <<'PY' || die "policy: not in force everywhere within 1 s"
import sys
tp = int(sys.argv[2])
rows = [l.split() for l in open(sys.argv[1])]
for v in "012":
    mine = [(float(r[0]), r[4]) for r in rows if r[2] == v]
    before = [t for t, why in mine if why == "pass" and t < tp - 200]
    late = [t for t, why in mine if why == "pass" and t > tp + 1000]
    after = [t for t, why in mine if why.startswith('manifest-mismatch"') and t > tp + 1000]
    if not before or late or not after:
        print("verifier %s: %d passes before, %d passes more than 1 s after, %d mismatches after; after: %s"
              % (v, len(before), len(late), len(after), sorted({why for t, why in mine if t > tp})),
              file=sys.stderr)
        sys.exit(1)
    last = max([t for t, why in mine if why == "pass"])
    print("verifier %s: last pass sent %.0f ms after the replacement" % (v, last - tp))
PY
ok "policy: replaced through the database, refused by all three verifiers within 1 s"

# -- a revocation: every attestation sent after `admin machine revoke` returned is refused by all three
SERVE_LOAD_RACE=1 SERVE_LOAD_ANSWERLOG=$T/rev.ans load_start "$DB" rev fleet 3 3 6
sleep 2
"$M" admin --db "$DB" machine revoke rev000000 >/dev/null
tr=$(now_ms)
load_wait rev
python3 - "$T/rev.ans" "$tr" <<'PY' || die "revoke: not refused everywhere at once"
import sys
tr = int(sys.argv[2])
rows = [l.split() for l in open(sys.argv[1]) if l.split()[1] == "rev000000"]
before = [r for r in rows if float(r[0]) < tr and r[4] == "pass"]
after = [r for r in rows if float(r[0]) > tr]
bad = [r for r in after if not (r[3] == "403" and r[4].startswith('unknown-machine"'))]
if not before or bad or {r[2] for r in after} != {"0", "1", "2"}:
    print("%d passes before, %d answers after (verifiers %s), not refused: %s"
          % (len(before), len(after), sorted({r[2] for r in after}), bad[:3]), file=sys.stderr)
    sys.exit(1)
PY
# and none passed on record after it: a pass's row update and a revocation's are ordered by the row lock
rid=$(pgq "SELECT max(id) FROM audit WHERE machine = 'rev000000' AND event = 'revoke'")
late=$(pgq "SELECT count(*) FROM audit WHERE machine = 'rev000000' AND event = 'attest' AND result = 'pass' AND id > $rid")
assert_eq "revoke: no pass recorded after the revocation" 0 "$late"
ok "revoke: refused by all three verifiers from the moment it returned"

# -- what a verifier remembers of a machine (server/machine_cache.c) never outlives its row: another
#    policy list for one machine, another AK for a second, both set through the database while all
#    three verifiers have judged them from memory, count at every verifier at once (each round's
#    attestation at one verifier, in turn: a raced nonce's losers would read the row again)
SERVE_LOAD_RACE=turns SERVE_LOAD_ANSWERLOG=$T/chg.ans load_start "$DB" chg fleet 3 3 6
sleep 2
"$M" admin --db "$DB" machine approve chg000000 --policy pol >/dev/null
# chg000001 re-enrolled with its EK and chg000002's AK: its own key's quotes are not its AK's any more
awk '$1 == "chg000001" { a = $2 } $1 == "chg000002" { k = $3 } END { print "chg000001", a, k }' \
	"$T/chg.tsv" > "$T/chg.new"
"$M" admin --db "$DB" machine import "$T/chg.new" --policy fleet >/dev/null
tc=$(now_ms)
load_wait chg
python3 - "$T/chg.ans" "$tc" <<'PY' || die "machine changes: not in force everywhere at once"
import sys
tc = int(sys.argv[2])
rows = [l.split() for l in open(sys.argv[1])]
err = []
for m, want in (("chg000000", 'manifest-mismatch"'), ("chg000001", None), ("chg000002", "pass")):
    mine = [r for r in rows if r[1] == m]
    for v in "012":
        before = [r for r in mine if r[2] == v and float(r[0]) < tc - 200 and r[4] == "pass"]
        after = [r for r in mine if r[2] == v and float(r[0]) > tc]
        if not before:
            err.append("%s: no pass at verifier %s before the change" % (m, v))
        if not after:
            err.append("%s: verifier %s judged nothing after the change" % (m, v))
        if want == "pass":
            bad = [r for r in after if r[4] != "pass"]
        elif want:
            bad = [r for r in after if r[3] != "403" or not r[4].startswith(want)]
        else:
            bad = [r for r in after if r[3] != "403"]
        if bad:
            err.append("%s at verifier %s after the change: %s" % (m, v, bad[:3]))
    print("%s: after the change %s" % (m, sorted({r[4] for r in mine if float(r[0]) > tc})))
if err:
    print("\n".join(err), file=sys.stderr)
    sys.exit(1)
PY
ok "machine changes: another policy list and another AK, set through the database, judged at once by all three"

# -- racing enrolments, each TPM a real one (swtpm, tpm2-tools)
swtpm_start a; TA=$TPM2TOOLS_TCTI; tpm_keys "$T/ka" ecc
swtpm_start b; TB=$TPM2TOOLS_TCTI; tpm_keys "$T/kb" ecc
u() { echo "$URLS" | cut -d, -f"$1"; }
# enrol_begin DIR NAME URL TCTI: /v1/enroll at URL, its credential activated by that TPM: DIR/act.json
enrol_begin() {
	URL=$3; TPM2TOOLS_TCTI=$4; export TPM2TOOLS_TCTI
	python3 -c 'import json,sys,base64
print(json.dumps({"machine":sys.argv[1],"ek_pub":base64.b64encode(open(sys.argv[2],"rb").read()).decode(),
 "ek_cert":None,"ak_pub":base64.b64encode(open(sys.argv[3],"rb").read()).decode()}))' \
		"$2" "$1/ek.pub" "$1/ak.pub" > "$1/enroll.json"
	code=$(post /v1/enroll "$1/enroll.json")
	[ "$code" = 200 ] || { cat "$T/ans" >&2; die "enroll $2 at $3: $code"; }
	cp "$T/ans" "$1/enroll.ans"
	activate "$1" "$1/enroll.ans" "$1/secret.bin" || die "the TPM did not activate the credential"
	python3 -c 'import json,sys,base64
print(json.dumps({"enrollment":json.load(open(sys.argv[1]))["enrollment"],
 "secret":base64.b64encode(open(sys.argv[2],"rb").read()).decode()}))' "$1/enroll.ans" "$1/secret.bin" > "$1/act.json"
}
# race_activate FILE:URL...: each activation POSTed at once; "STATUS REASON" lines, sorted, in $T/race.res
race_activate() {
	n=0; rp=""
	for fu in "$@"; do
		n=$((n + 1))
		curl -s --cacert "$T/ca.crt" -o "$T/race.$n" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary @"${fu%%:*}" "${fu#*:}/v1/activate" > "$T/race.$n.code" &
		rp="$rp $!"
	done
	for p in $rp; do wait "$p"; done
	for i in $(seq "$n"); do
		echo "$(cat "$T/race.$i.code") $(jget "$T/race.$i" reason 2>/dev/null || echo ok)"
	done | sort > "$T/race.res"
}
# one enrolment's activation at all three verifiers at once: taken once (DELETE ... RETURNING)
enrol_begin "$T/ka" twin "$(u 1)" "$TA"
race_activate "$T/ka/act.json:$(u 1)" "$T/ka/act.json:$(u 2)" "$T/ka/act.json:$(u 3)"
assert_eq "one activation raced at three verifiers: one wins" "200 ok
403 activation-failed
403 activation-failed" "$(cat "$T/race.res")"
# two TPMs enrolling one new name at two verifiers at once: the primary key lets one EK in
enrol_begin "$T/ka" duo "$(u 1)" "$TA"
enrol_begin "$T/kb" duo "$(u 2)" "$TB"
race_activate "$T/ka/act.json:$(u 1)" "$T/kb/act.json:$(u 2)"
assert_eq "two EKs racing for one name: one wins, the other ek-mismatch" "200 ok
403 ek-mismatch" "$(cat "$T/race.res")"
if [ "$(cat "$T/race.1.code")" = 200 ]; then win=ka; else win=kb; fi
assert_eq "the winner's EK holds the name" "$(base64 -w0 "$T/$win/ek.pub")" \
	"$(pgq "SELECT ek_pub FROM machines WHERE name = 'duo'")"
