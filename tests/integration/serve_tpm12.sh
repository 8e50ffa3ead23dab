#!/bin/sh
# The verifier and the agent on a TPM 1.2 (swtpm in 1.2 mode, owned by
# swtpm_setup), on SQLite and on PostgreSQL: `measured attest` enrols with
# TPM_MakeIdentity and TPM_ActivateIdentity, waits for approval, quotes with
# TPM_Quote2 against a sha1 reference manifest computed here (hashlib), and
# receives its payload byte for byte; with --ek-ca and no --tofu, a TPM 1.2
# whose EK certificate (swtpm_setup's local CA) chains enrols with trust
# "ca" and one without a certificate is refused; the database records the machine's TPM family; a database made
# before the family column existed keeps working (the column is added).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"

tls_make
pg_start
swtpm12_owned a
TA=$MEASURED_TCTI
S="--owner-secret $WK --srk-secret $WK"
"$M" extend -T "$TA" --pcr 16 --text kernel --log "$T/m.cel" >/dev/null
"$M" extend -T "$TA" --pcr 16 --text rootfs --log "$T/m.cel" >/dev/null
# mkmanifest1 OUT PCR TEXT...: sha1 events, the PCR's value by hand
mkmanifest1() {
	python3 - "$@" <<'PY'
import hashlib, json, sys
out, pcr, texts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
v = bytes(20)
ev = []
for i, t in enumerate(texts):
    d = hashlib.sha1(t.encode()).digest()
    v = hashlib.sha1(v + d).digest()
    ev.append({"index": i, "type": 0, "description": t, "source": "test", "digests": {"sha1": d.hex()}})
json.dump({"format": "measured-manifest", "version": 1, "generator": "test", "banks": ["sha1"],
           "startup_locality": 0,
           "pcrs": [{"pcr": pcr, "source": "test", "values": {"sha1": v.hex()}, "events": ev}]},
          open(out, "w"))
PY
}
mkmanifest1 "$T/good.json" 16 kernel rootfs
head -c 100000 /dev/urandom > "$T/payload.bin"

# agent ARGS...: measured attest on TPM a as m12; exit status in $rc
agent() {
	set +e
	# shellcheck disable=SC2086 # $S is two options
	"$M" attest -T "$TA" --server "$URL" --machine m12 --ca-cert "$T/ca.crt" --state "$T/state-$kind" \
		-e "$T/m.cel" $S "$@" > "$T/agent.out" 2> "$T/agent.err"
	rc=$?
	set -e
}

for kind in sqlite pg; do
	DB=$(db_for $kind)
	"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha1
	"$M" admin --db "$DB" payload add pkg --file "$T/payload.bin" --policy good
	serve_start "$DB" --tofu

	agent
	[ $rc = 1 ] || { cat "$T/agent.out" "$T/agent.err"; die "$kind: first run exited $rc, expected 1"; }
	assert_eq "$kind: enrolled, then refused until approved" "enrolled m12
fail m12 not-approved: machine 'm12' waits for an administrator's approval" "$(cat "$T/agent.out")"
	[ -s "$T/state-$kind/aik12.blob" ] || die "$kind: no AIK blob kept"
	case $kind in
	sqlite) fam=$(sqlite3 "${DB#sqlite:}" "SELECT tpm FROM machines WHERE name='m12'") ;;
	pg) fam=$(runuser -u postgres -- psql -qtA -h "$PG_DIR" -p "$PG_PORT" -c "SELECT tpm FROM machines WHERE name='m12'") ;;
	esac
	assert_eq "$kind: the machine's TPM family is stored" 1.2 "$fam"
	"$M" admin --db "$DB" machine approve m12 --policy good

	agent --payload pkg -o "$T/out-$kind.bin" --json
	[ $rc = 0 ] || { cat "$T/agent.out" "$T/agent.err"; tail -5 "$T/serve.log"; die "$kind: attestation exited $rc"; }
	assert_eq "$kind: pass, no second enrolment" "pass False" \
		"$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a["result"], a["enrolled"])' "$T/agent.out")"
	cmp "$T/payload.bin" "$T/out-$kind.bin" || die "$kind: payload differs"
	ok "$kind: the payload is released to the TPM 1.2, byte for byte"

	# a TPM 1.2 quote has no clock: the result is recorded without one
	"$M" admin --db "$DB" machine list > "$T/list"
	grep -q '^m12 approved policy=good trust=tofu last=pass tpm=1.2 matched=good:default$' "$T/list" || { cat "$T/list"; die "$kind: machine list"; }
	ok "$kind: the pass is recorded, and the family listed"

	# the AIK blob gone: the agent enrols a new AIK under the same EK (a re-enrolment)
	rm "$T/state-$kind/aik12.blob"
	agent
	[ $rc = 0 ] || { cat "$T/agent.out" "$T/agent.err"; die "$kind: re-enrolment exited $rc"; }
	assert_eq "$kind: a new AIK of the same TPM enrols again and passes" "enrolled m12
pass m12
matched good:default" "$(cat "$T/agent.out")"
	serve_stop
done

# EK certificates: a TPM 1.2 with one (in NV, swtpm_setup's local CA) and the verifier's --ek-ca
export XDG_CONFIG_HOME="$T/xdg"
swtpm_setup --create-config-files root,skip-if-exist > /dev/null 2>&1 || die "swtpm_setup config"
swtpm12_owned c --create-ek-cert --config "$T/xdg/swtpm_setup.conf"
TC=$MEASURED_TCTI
CA=$T/xdg/var/lib/swtpm-localca
kind=ca
DB=sqlite:$T/ca.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha1 2>/dev/null
serve_start "$DB" --ek-ca "$CA/swtpm-localca-rootca-cert.pem" --ek-ca "$CA/issuercert.pem"
agent
assert_eq "no EK certificate and no --tofu: refused" "1 fail m12 ek-cert-invalid: no EK certificate, and trust on first use is not enabled" \
	"$rc $(cat "$T/agent.out")"
TA=$TC
agent
assert_eq "a TPM 1.2 with a certified EK enrols" "1 enrolled m12
fail m12 not-approved: machine 'm12' waits for an administrator's approval" "$rc $(cat "$T/agent.out")"
"$M" admin --db "$DB" machine list > "$T/list"
grep -q '^m12 pending .*trust=ca' "$T/list" || { cat "$T/list"; die "the certified EK's trust is not ca"; }
ok "the EK certificate read from NV chains to --ek-ca: trust=ca"
serve_stop

# a database of the schema before the TPM family: the column is added, rows read as TPM 2.0
OLDSQL="CREATE TABLE machines (name TEXT PRIMARY KEY, ek_pub TEXT NOT NULL, ak_pub TEXT NOT NULL,
 ek_trust TEXT NOT NULL, state INTEGER NOT NULL, policy TEXT NOT NULL DEFAULT '', enrolled_at BIGINT NOT NULL,
 clock BIGINT, reset_count BIGINT, restart_count BIGINT, last_result TEXT NOT NULL DEFAULT '',
 last_reason TEXT NOT NULL DEFAULT '', last_at BIGINT NOT NULL DEFAULT 0);
 CREATE TABLE enrolments (id TEXT PRIMARY KEY, machine TEXT NOT NULL, ek_pub TEXT NOT NULL, ak_pub TEXT NOT NULL,
 ek_trust TEXT NOT NULL, secret_hash TEXT NOT NULL, expires BIGINT NOT NULL);
 INSERT INTO machines (name, ek_pub, ak_pub, ek_trust, state, enrolled_at) VALUES ('old', 'RUs=', 'QUs=', 'tofu', 1, 1);"
OLD=$T/old.db
sqlite3 "$OLD" "$OLDSQL"
chmod 600 "$OLD"
"$M" admin --db "sqlite:$OLD" machine list > "$T/list"
grep -q '^old approved policy=- trust=tofu last=- tpm=2.0 matched=-$' "$T/list" || { cat "$T/list"; die "old database: machine list"; }
assert_eq "an old SQLite database gains the family column, its machines TPM 2.0" "2.0|2.0" \
	"$(sqlite3 "$OLD" "SELECT tpm FROM machines WHERE name='old'")|$(sqlite3 "$OLD" "SELECT dflt_value FROM pragma_table_info('enrolments') WHERE name='tpm'" | tr -d "'")"
pg_reset
psql_q() { runuser -u postgres -- psql -qtA -h "$PG_DIR" -p "$PG_PORT" -c "$1"; }
psql_q "$OLDSQL" > /dev/null
"$M" admin --db "$PG_URL" machine list > "$T/list"
grep -q '^old approved policy=- trust=tofu last=- tpm=2.0 matched=-$' "$T/list" || { cat "$T/list"; die "old PostgreSQL database: machine list"; }
"$M" admin --db "$PG_URL" machine list > /dev/null	# a second open: the column is there already
assert_eq "an old PostgreSQL database gains the family columns" "enrolments|'2.0'::text
machines|'2.0'::text" \
	"$(psql_q "SELECT table_name, column_default FROM information_schema.columns WHERE column_name = 'tpm' ORDER BY table_name")"
