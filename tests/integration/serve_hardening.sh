#!/bin/sh
# The verifier's hardening cases, on SQLite and on PostgreSQL: each a way
# a security review attacked `measured serve`, with the exact answer the
# fix gives (docs/server.md, "Threat model and limits").  Connection floods
# and slow clients are in serve_load.sh; what held before stays in
# serve_attacks.sh.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"

tls_make
pg_start
swtpm_start a
"$M" extend --pcr 16 --text kernel --bank sha256 --log "$T/m.cel" >/dev/null
"$M" extend --pcr 16 --text rootfs --bank sha256 --log "$T/m.cel" >/dev/null
mkmanifest "$T/good.json" 16 kernel rootfs
mkmanifest "$T/other.json" 16 kernel rootfs-v2
tpm_keys "$T/a" rsa
echo secret-package > "$T/payload.bin"
ESC=$(printf '\033')

# attempt [PAYLOAD]: attest with $T/ev.json as m1; status in $code; a failure never carries a payload
attempt() {
	attest_req m1 "$T/ev.json" "$T/req.json" "${1:-}"
	code=$(post /v1/attest "$T/req.json")
	if [ "$code" != 200 ] && grep -q '"payload"' "$T/ans"; then die "a payload left with a failure"; fi
}

# alive WHAT: the server process runs and /v1/health answers 200 within a second
alive() {
	kill -0 "$SERVE_PID" 2>/dev/null || { tail -5 "$T/serve.log" >&2; die "$1: the server died"; }
	h=$(curl -s -m 1 --cacert "$T/ca.crt" -o /dev/null -w '%{http_code}' "$URL/v1/health" || true)
	[ "$h" = 200 ] || die "$1: /v1/health answered '$h'"
}

# machine_field NAME FIELD: a field of `admin machine list --json`
machine_field() {
	"$M" admin --db "$DB" machine list --json | python3 -c 'import json,sys
print([m for m in json.load(sys.stdin) if m["name"]==sys.argv[1]][0][sys.argv[2]])' "$1" "$2"
}

# audit_count PYTHON-CONDITION: audit records (variable x) that match
audit_count() {
	"$M" admin --db "$DB" audit --json | python3 -c 'import json,sys
print(sum(1 for x in json.load(sys.stdin) if eval(sys.argv[1])))' "$1"
}

psql_q() {
	runuser -u postgres -- psql -q -h "$PG_DIR" -p "$PG_PORT" -c "$1" >/dev/null
}

for kind in sqlite pg; do
	DB=$(db_for $kind)
	"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256 2>/dev/null
	"$M" admin --db "$DB" policy add other --manifest "$T/other.json" --pcrs 16 --banks sha256 2>/dev/null
	"$M" admin --db "$DB" payload add pkg --file "$T/payload.bin" --policy good
	serve_start "$DB" --tofu --timeout 2 --request-deadline 4
	enrol "$T/a" m1 || { cat "$T/ans" >&2; die "$kind: enrolment"; }
	"$M" admin --db "$DB" machine approve m1 --policy good
	nonce m1; quote "$NONCE" "$T/ev.json"; attempt pkg
	assert_eq "$kind: the baseline passes" 200 "$code"

	# 12. /v1/nonce answers every name alike: an unknown name and a revoked one get what m1 gets
	nonce m1; cp "$T/ans" "$T/n-m1.json"
	printf 'm1-revoked %s %s\n' "$(base64 -w0 "$T/a/ek.pub")" "$(base64 -w0 "$T/a/ak.pub")" > "$T/imp.tsv"
	"$M" admin --db "$DB" machine import "$T/imp.tsv" --policy good
	"$M" admin --db "$DB" machine revoke m1-revoked
	# an import is all or nothing: a bad line after good ones imports none of them
	printf 'imp-a %s %s\n# a comment\nimp-b onlyek\n' "$(base64 -w0 "$T/a/ek.pub")" "$(base64 -w0 "$T/a/ak.pub")" > "$T/imp2.tsv"
	expect_exit 3 "$M" admin --db "$DB" machine import "$T/imp2.tsv" --policy good
	grep -q "imp2.tsv: line 3: NAME EK_PUB AK_PUB" "$T/err" || { cat "$T/err" >&2; die "$kind: the import error names the line"; }
	"$M" admin --db "$DB" machine list | grep -q '^imp-a ' && die "$kind: a failed import left a machine"
	"$M" admin --db "$DB" audit --json | grep 'machine-import' | grep -q '1 machines' ||
		die "$kind: the good import is not audited"
	ok "$kind: a machine import with a bad line imports nothing"
	for who in nosuch m1-revoked; do
		printf '{"machine":"%s"}' "$who" > "$T/n.json"
		code=$(post /v1/nonce "$T/n.json")
		assert_eq "$kind: /v1/nonce for $who" 200 "$code"
		python3 -c 'import json,sys
a,b=json.load(open(sys.argv[1])),json.load(open(sys.argv[2]))
assert sorted(a)==sorted(b) and a["pcrs"]==b["pcrs"] and a["banks"]==b["banks"] and len(a["nonce"])==len(b["nonce"]), (a,b)' \
			"$T/n-m1.json" "$T/ans" || die "$kind: /v1/nonce tells $who from m1"
	done
	ok "$kind: /v1/nonce answers an unknown and a revoked name as it answers an approved one"

	# 4. Unauthenticated writes: a bogus nonce does not touch the machine's row, and a flood of
	# unproven requests (attest with a bogus nonce, enrolment replaying m1's public EK and AK)
	# writes at most the audit bucket: 60 records, then 10 a second.
	quote "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$T/ev.json"; attempt
	expect_reason 403 nonce-unknown
	assert_eq "$kind: a bogus nonce leaves last_result" "pass" "$(machine_field m1 last_result)"
	before=$(audit_count 'x["event"] in ("attest","enroll-start")')
	cp "$T/req.json" "$T/bogus.json"
	elapsed=$(python3 - "$PORT" "$T/ca.crt" "$T/bogus.json" "$T/a/enroll.json" <<'PY'
import http.client, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx)
bodies = [open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()]
t = time.time()
for i in range(400):
    c.request("POST", ["/v1/attest", "/v1/enroll"][i % 2], bodies[i % 2], {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status in (200, 403), r.status
print("%.1f" % (time.time() - t))
PY
)
	after=$(audit_count 'x["event"] in ("attest","enroll-start")')
	added=$((after - before))
	bound=$(python3 -c "import math,sys; print(60 + math.ceil(10 * float(sys.argv[1])) + 1)" "$elapsed")
	[ "$added" -le "$bound" ] || die "$kind: 400 unproven requests in ${elapsed}s wrote $added audit records (bound $bound)"
	ok "$kind: 400 unproven requests in ${elapsed}s wrote $added audit records (at most $bound)"

	# 5. Injection: a declared log format is never echoed, a CEL description with a newline and
	# an escape sequence is stored escaped, `admin audit` prints one line per record and no
	# control byte, and admin takes only the names the server takes.
	nonce m1; quote "$NONCE" "$T/ev.json"
	edit "$T/ev.json" 'e["eventlogs"][0]["format"]="x\n1 forged\033[2J"'
	attempt
	expect_reason 403 eventlog-malformed
	grep -q forged "$T/ans" && die "$kind: the declared format was echoed: $(cat "$T/ans")"
	"$M" admin --db "$DB" machine approve m1 --policy other
	nonce m1; quote "$NONCE" "$T/ev.json"
	edit "$T/ev.json" 'l=[x for x in unb(e["eventlogs"][0]["data"]).decode().split("\n") if x]; r=json.loads(l[1].lstrip("\036")); r["content"]["description"]="rootfs\n2 2026 m1 attest pass - forged\033[2J"; l[1]=("\036" if l[1][0]=="\036" else "")+json.dumps(r); e["eventlogs"][0]["data"]=b64(("\n".join(l)+"\n").encode())'
	attempt
	expect_reason 403 manifest-mismatch
	"$M" admin --db "$DB" machine approve m1 --policy good
	"$M" admin --db "$DB" audit > "$T/audit.txt"
	grep -q "$ESC" "$T/audit.txt" && die "$kind: an escape byte reached the audit listing"
	assert_eq "$kind: one audit line per record" "$(audit_count True)" "$(wc -l < "$T/audit.txt")"
	grep -q 'forged\\x1b\[2J' "$T/audit.txt" || die "$kind: the CEL description is not in the audit, escaped"
	expect_exit 2 "$M" admin --db "$DB" machine approve "$(printf 'm1\nx')" --policy good
	grep -q "machine 'm1\\\\x0ax': 1 to 127 characters" "$T/err" || die "$kind: admin name check: $(cat "$T/err")"
	expect_exit 2 "$M" admin --db "$DB" policy add "$(printf 'p\033')" --manifest "$T/good.json" --pcrs 16
	ok "$kind: outside text is escaped where stored and printed"

	# 7. A long policy list is checked whole: five 120-character names (604 characters), the
	# last one mismatching, fail the attestation; over 8 names is refused when written; an
	# over-long list found in the database is an error, never cut.
	L=""
	for i in 1 2 3 4 5; do
		LASTPOL=$(printf 'p%0119d' $i)
		mf=$T/good.json; [ $i = 5 ] && mf=$T/other.json
		"$M" admin --db "$DB" policy add "$LASTPOL" --manifest "$mf" --pcrs 16 --banks sha256 2>/dev/null
		L=$L${L:+,}$LASTPOL
	done
	"$M" admin --db "$DB" machine approve m1 --policy "$L"
	assert_eq "$kind: the long list is stored whole" "$L" "$(machine_field m1 policy)"
	nonce m1; quote "$NONCE" "$T/ev.json"; attempt
	expect_reason 403 manifest-mismatch
	assert_eq "$kind: the fifth policy is the one that failed" "$LASTPOL" "$(jget "$T/ans" first_difference.policy)"
	expect_exit 3 "$M" admin --db "$DB" machine approve m1 --policy "good,good,good,good,good,good,good,good,good"
	grep -q "9 policies in one list (at most 8)" "$T/err" || die "$kind: 9 policies: $(cat "$T/err")"
	long=$(python3 -c 'print(",".join(["good"]*250))')
	nonce m1; quote "$NONCE" "$T/ev.json"
	case $kind in
	sqlite) sqlite3 "${DB#sqlite:}" "UPDATE machines SET policy='$long' WHERE name='m1'" ;;
	pg) psql_q "UPDATE machines SET policy='$long' WHERE name='m1'" ;;
	esac
	# the verifier remembered the row as its nonce request read it: the attestation reads it again, and it does not fit
	attempt
	expect_reason 503 internal-error
	printf '{"machine":"m1"}' > "$T/n.json"
	code=$(post /v1/nonce "$T/n.json")
	expect_reason 503 internal-error
	alive "$kind: an over-long stored list"
	"$M" admin --db "$DB" machine list > /dev/null 2> "$T/err" && die "$kind: admin listed a cut policy list"
	grep -q "does not fit its 1023-byte field" "$T/err" || die "$kind: admin list: $(cat "$T/err")"
	"$M" admin --db "$DB" machine approve m1 --policy good

	# 1. Database failures answer 503 internal-error, release nothing, keep the server up.
	# Invalid UTF-8 in the declared format (PostgreSQL rejected it in the audit insert):
	nonce m1; quote "$NONCE" "$T/ev.json"
	edit "$T/ev.json" 'e["eventlogs"][0]["format"]="INVALIDUTF8"'
	attest_req m1 "$T/ev.json" "$T/req.json" pkg
	python3 -c 'import sys; p=sys.argv[1]; d=open(p,"rb").read(); open(p,"wb").write(d.replace(b"INVALIDUTF8", b"cel\xff\xfe\xc3"))' "$T/req.json"
	code=$(post /v1/attest "$T/req.json")
	expect_reason 403 eventlog-malformed
	alive "$kind: invalid UTF-8 in the declared format"
	[ "$(audit_count 'x["reason"]=="eventlog-malformed"')" -ge 1 ] || die "$kind: the rejection is not audited"
	case $kind in
	sqlite)
		# locked by another process past the busy timeout (10 s)
		nonce m1; quote "$NONCE" "$T/ev.json"
		python3 -c 'import sqlite3,sys,time
c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN EXCLUSIVE"); c.execute("INSERT INTO secrets VALUES (\"lock\",\"x\")")
open(sys.argv[2],"w").write("locked"); time.sleep(11); c.execute("ROLLBACK")' "${DB#sqlite:}" "$T/locked" &
		LOCKER=$!
		until [ -s "$T/locked" ]; do sleep 0.05; done
		attempt pkg
		expect_reason 503 internal-error
		alive "$kind: the database locked"
		wait $LOCKER
		;;
	pg)
		# PostgreSQL stopped, then back: 503 while it is down (an attestation whose nonce came
		# before, and a nonce), served again once it is up
		nonce m1; quote "$NONCE" "$T/ev.json"
		pg_pause
		attempt pkg
		expect_reason 503 internal-error
		code=$(post /v1/nonce "$T/n.json")
		expect_reason 503 internal-error
		alive "$kind: PostgreSQL stopped"
		pg_resume
		code=$(post /v1/nonce "$T/n.json")
		[ "$code" = 200 ] || code=$(post /v1/nonce "$T/n.json")
		[ "$code" = 200 ] || { cat "$T/ans"; tail -5 "$T/serve.log"; }
		assert_eq "$kind: served again after PostgreSQL restarted" 200 "$code"
		;;
	esac
	grep -q '"event":"attest","error"\|"event":"policy","error"\|"event":"machine","error"' "$T/serve.log" ||
		die "$kind: the database failure is not logged"

	# 13. One name for a log that does not parse
	nonce m1; quote "$NONCE" "$T/ev.json"
	edit "$T/ev.json" 'e["eventlogs"][0]["data"]=b64(b"not an event log")'
	attempt
	expect_reason 403 eventlog-malformed
	serve_stop
	# the flood's dropped records are summed up in one record (written at the latest on stop)
	n=$(audit_count 'x["event"]=="audit-suppressed"')
	[ "$n" -ge 1 ] || die "$kind: no audit-suppressed record"
	ok "$kind: the records over the limit are counted in an audit-suppressed record"
done

# 1. A full disk (SQLite on a 1 MiB tmpfs in a mount namespace of its own)
mkdir -p "$T/full"
DB=sqlite:$T/full/v.db
printf '#!/bin/sh\nmount -t tmpfs -o size=1m tmpfs "%s" && exec "$@"\n' "$T/full" > "$T/fullwrap.sh"
SERVE_WRAP="unshare -m --propagation private sh $T/fullwrap.sh"
serve_start "$DB" --tofu
unset SERVE_WRAP
ns() { nsenter -t "$SERVE_PID" -m "$@"; }
ns "$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256 2>/dev/null
enrol "$T/a" m1 || { cat "$T/ans" >&2; die "full disk: enrolment"; }
ns "$M" admin --db "$DB" machine approve m1 --policy good
nonce m1; quote "$NONCE" "$T/ev.json"
ns sh -c "cat /dev/zero > $T/full/fill" 2>/dev/null || true
attempt
expect_reason 503 internal-error
alive "a full disk"
ns rm -f "$T/full/fill"
nonce m1; quote "$NONCE" "$T/ev.json"; attempt
assert_eq "full disk: with space again, a pass" 200 "$code"
serve_stop

# 10. The SQLite file: created 0600 under umask 022; one others can read is refused unless allowed.
DB=sqlite:$T/mode.db
(umask 022; "$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 2>/dev/null)
assert_eq "sqlite: the database is created 0600" 600 "$(stat -c %a "$T/mode.db")"
chmod 644 "$T/mode.db"
expect_exit 3 "$M" serve --listen 127.0.0.1:1 --tls-cert "$T/server.crt" --tls-key "$T/server.key" --db "$DB"
grep -q "mode 0644 lets others read the nonce key and payloads" "$T/err" || die "readable db: $(cat "$T/err")"
serve_start "$DB" --allow-readable-db
ok "sqlite: a readable database opens with --allow-readable-db"
serve_stop

# 6. --tofu with --approve: refused without the override; a weak policy is warned about.
expect_exit 2 "$M" serve --listen 127.0.0.1:1 --tls-cert "$T/server.crt" --tls-key "$T/server.key" \
	--db "$DB" --tofu --approve good
grep -q "give --insecure-tofu-approve to accept that" "$T/err" || die "tofu+approve: $(cat "$T/err")"
chmod 600 "$T/mode.db"
serve_start "$DB" --tofu --approve good --insecure-tofu-approve
grep -q '"event":"policy-weak","policy":"good"' "$T/serve.log" || die "no policy-weak warning"
ok "--tofu --approve needs --insecure-tofu-approve; a PCR-16-only policy is warned about"
serve_stop

# 8. TLS: 1.0 and 1.1, CBC-SHA1 suites and static RSA key exchange are refused; 1.2 AEAD and 1.3 work.
tls() {
	echo Q | openssl s_client -connect 127.0.0.1:$PORT -CAfile "$T/ca.crt" "$@" > "$T/tls.out" 2>&1
}
serve_start "$DB"
tls -tls1 -cipher 'DEFAULT@SECLEVEL=0' && die "TLS 1.0 accepted"
tls -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' && die "TLS 1.1 accepted"
tls -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' && die "ECDHE-ECDSA-AES128-SHA (CBC, SHA-1) accepted"
tls -tls1_2 -cipher 'ECDHE-ECDSA-AES256-SHA384' && die "ECDHE-ECDSA-AES256-SHA384 (CBC) accepted"
tls -tls1_2 -cipher 'ECDHE-ECDSA-AES128-GCM-SHA256' || { cat "$T/tls.out" >&2; die "TLS 1.2 AEAD refused"; }
tls -tls1_3 || { cat "$T/tls.out" >&2; die "TLS 1.3 refused"; }
serve_stop
(
cd "$T"
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout rsa.key -out rsa.csr 2>/dev/null
openssl x509 -req -in rsa.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out rsa.crt 2>/dev/null
)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$M" serve --listen 127.0.0.1:$PORT --tls-cert "$T/rsa.crt" --tls-key "$T/rsa.key" --db "$DB" 2>>"$T/serve.log" &
SERVE_PID=$!; PIDS="$PIDS $SERVE_PID"
i=0; until tls -tls1_3; do i=$((i + 1)); [ $i -lt 100 ] || die "RSA server"; sleep 0.05; done
tls -tls1_2 -cipher 'AES128-GCM-SHA256' && die "static RSA key exchange accepted"
tls -tls1_2 -cipher 'AES256-GCM-SHA384' && die "static RSA key exchange accepted"
tls -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256' || { cat "$T/tls.out" >&2; die "ECDHE-RSA refused"; }
serve_stop
ok "TLS: 1.0, 1.1, CBC and static RSA refused; 1.2 (EC)DHE AEAD and 1.3 accepted"

# 9. mTLS: a certificate under --client-ca that is not for client authentication (the
# server's own) is refused; the client certificate (clientAuth) is accepted.
serve_start "$DB" --client-ca "$T/ca.crt"
printf '{"machine":"m1"}' > "$T/n.json"
CURL_EXTRA="--cert $T/server.crt --key $T/server.key"
code=$(post /v1/nonce "$T/n.json")
expect_reason 403 client-cert-required
CURL_EXTRA="--cert $T/client.crt --key $T/client.key"
code=$(post /v1/nonce "$T/n.json")
[ "$code" != 403 ] || [ "$(jget "$T/ans" reason)" != client-cert-required ] || die "the client certificate was refused"
ok "mTLS: the client certificate is accepted"
serve_stop
# bound: the certificate's CN must be the request's machine (client.crt's CN is "agent")
(
cd "$T"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=m1 -keyout m1.key -out m1.csr 2>/dev/null
openssl x509 -req -in m1.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out m1.crt 2>/dev/null
)
serve_start "$DB" --client-ca "$T/ca.crt" --client-cert-binds-machine
code=$(post /v1/nonce "$T/n.json")
expect_reason 403 client-cert-required
grep -q "the client certificate is not for this machine" "$T/ans" || die "binding: $(cat "$T/ans")"
CURL_EXTRA="--cert $T/m1.crt --key $T/m1.key"
code=$(post /v1/nonce "$T/n.json")
assert_eq "mTLS: a certificate for m1 asks for m1's nonce" 200 "$code"
printf '{"machine":"m2"}' > "$T/n2.json"
code=$(post /v1/nonce "$T/n2.json")
expect_reason 403 client-cert-required
CURL_EXTRA=""
serve_stop

# 13. docs/api.md lists exactly the reason codes the server can send
python3 - "$MEASURED_SRCDIR" <<'PY' || die "reason codes differ between the server and docs/api.md"
import re, sys, glob
src = sys.argv[1]
code = set()
for f in glob.glob(src + "/server/*.c"):
    code |= set(re.findall(r'srv_fail\([^,]+,\s*\d+,\s*"([a-z-]+)"', open(f).read()))
    code |= set(re.findall(r'send_error\([^,]+,\s*\d+,\s*"([a-z-]+)"', open(f).read()))
code |= set(re.findall(r'\[M_V_[A-Z_]+\] = "([a-z-]+)"', open(src + "/lib/attest/verify_quote.c").read()))
code.discard("ok")
rows = re.findall(r'^\| `([a-z-]+)` \|', open(src + "/docs/api.md").read(), re.M)
doc = set(rows)
assert len(rows) == len(doc), ("listed twice", sorted(x for x in doc if rows.count(x) > 1))
assert code == doc, ("not documented", sorted(code - doc), "documented, never sent", sorted(doc - code))
PY
ok "docs/api.md names every reason code the server sends, and no other"
