#!/bin/sh
# The operators' dashboard in a real browser: Debian's chromium, headless,
# driven by python3-selenium through chromium-driver
# (dashboard_browser.py), against `measured serve --dashboard-listen` with
# three machines attested through the real flow (`measured attest` on a
# swtpm TPM): two pass, one fails a manifest whose first event differs.
# The script checks that the pages render (screenshots decoded and their
# colours checked where the DOM says the rows are), that the failing
# machine's page shows the expected and found events, that requests
# without a token get 401 and nothing else, that a read-only token cannot
# revoke, that a POST without the CSRF token or from another origin is
# refused, that a revocation made on the page refuses the machine's next
# attestation, and that --dashboard-client-ca asks for an administrator's
# certificate besides the token.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
PY=/usr/bin/python3	# Debian's, with python3-selenium
for tool in chromium chromedriver swtpm curl $PY; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/deps.sh)"
done
$PY -c 'import selenium' 2>/dev/null || die "python3-selenium is not installed (scripts/deps.sh)"
start=$(date +%s)

tls_make
swtpm_start dash
# the machines' measurements: an event description with HTML in it, which must stay text
"$M" extend --pcr 16 --text '<b>kernel</b> 6.1' --bank sha256 --log "$T/m.cel" >/dev/null
"$M" extend --pcr 16 --text rootfs --bank sha256 --log "$T/m.cel" >/dev/null
mkmanifest "$T/good.json" 16 '<b>kernel</b> 6.1' rootfs
mkmanifest "$T/next.json" 16 'kernel 6.2' rootfs

DB=sqlite:$T/v.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 16 --banks sha256
"$M" admin --db "$DB" policy add next --manifest "$T/next.json" --pcrs 16 --banks sha256
READ_TOKEN=$("$M" admin --db "$DB" dashboard-token add reader)
WRITE_TOKEN=$("$M" admin --db "$DB" dashboard-token add operator --role write)
# what is stored is the token's SHA-256 (sha256sum, not the code under test), never the token
h=$(printf %s "$WRITE_TOKEN" | sha256sum | cut -d' ' -f1)
assert_eq "the database holds the token's SHA-256" "operator|$h" \
	"$(sqlite3 "$T/v.db" "SELECT name, hash FROM dashboard_tokens WHERE role = 1")"
sqlite3 "$T/v.db" .dump | grep -q "$WRITE_TOKEN" && die "the token itself is in the database"
expect_exit 3 "$M" admin --db "$DB" dashboard-token add reader
grep -q "a dashboard token named 'reader' exists" "$T/err" || die "$(cat "$T/err")"
expect_exit 2 "$M" admin --db "$DB" dashboard-token add other --role admin
assert_eq "dashboard-token list" "operator write
reader read" "$("$M" admin --db "$DB" dashboard-token list | cut -d' ' -f1,2)"

DPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serve_start "$DB" --tofu --dashboard-listen "127.0.0.1:$DPORT"
DURL=https://127.0.0.1:$DPORT

agent() {
	"$M" attest --server "$URL" --machine "$1" --ca-cert "$T/ca.crt" --state "$T/state-$1" \
		--eventlog "$T/m.cel" --pcrs 16 --bank sha256
}
for m in web-1 web-2 db-1; do
	expect_exit 1 agent $m	# enrolled, waiting for approval
done
"$M" admin --db "$DB" machine approve web-1 --policy good
"$M" admin --db "$DB" machine approve web-2 --policy good
"$M" admin --db "$DB" machine approve db-1 --policy next
expect_exit 0 agent web-1
expect_exit 0 agent web-2
expect_exit 1 agent db-1
grep -q 'manifest-mismatch' "$T/out" || die "db-1: $(cat "$T/out")"
ok "three machines attested through measured attest: two pass, db-1 fails"

# db-1's history made long enough to page: 60 older records (the audit table's own columns)
sqlite3 "$T/v.db" "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 60)
	INSERT INTO audit (at, machine, event, result, reason, detail)
	SELECT 1700000000 + n, 'db-1', 'attest', 'pass', '', 'old record ' || n FROM i"
sqlite3 "$T/v.db" "UPDATE audit SET id = id + 1000000 WHERE detail NOT LIKE 'old record %'"

# no token: 401 and nothing of the fleet
for p in /api/summary /api/machines /api/machine?name=db-1 /api/audit /api/policies /api/session; do
	code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' "$DURL$p")
	assert_eq "no token: $p is 401" 401 "$code"
	grep -q -e db-1 -e web- -e good "$T/ans" && die "$p answered data without a token: $(cat "$T/ans")"
done
code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer mdt_$(printf '%064d' 0)" \
	"$DURL/api/machines")
assert_eq "an unknown token is 401" 401 "$code"
# the API listener does not serve the dashboard
code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer $READ_TOKEN" \
	"$URL/api/machines")
assert_eq "the API listener has no dashboard" 404 "$code"
curl -s --cacert "$T/ca.crt" -D "$T/hdr" -o /dev/null "$DURL/"
grep -qi "^content-security-policy: default-src 'self'" "$T/hdr" || die "no CSP: $(cat "$T/hdr")"
grep -qi '^x-frame-options: DENY' "$T/hdr" || die "no X-Frame-Options"
ok "the page is served with a strict CSP and no framing"

DASH_URL=$DURL READ_TOKEN=$READ_TOKEN WRITE_TOKEN=$WRITE_TOKEN OUT=$T \
	$PY "$MEASURED_SRCDIR/tests/integration/dashboard_browser.py" || die "the browser checks failed"
# MEASURED_KEEP_SCREENSHOTS=DIR keeps the screenshots for a person to look at
[ -z "${MEASURED_KEEP_SCREENSHOTS:-}" ] || cp "$T"/*.png "$MEASURED_KEEP_SCREENSHOTS/"

# the revocation made on the page: the next attestation is refused
expect_exit 1 agent web-2
grep -q 'unknown-machine' "$T/out" || die "web-2 after revocation: $(cat "$T/out")"
ok "web-2, revoked on the page, is refused at its next attestation"
expect_exit 0 agent web-1
ok "web-1 still passes"
# approved again through the API (a script with the write token: bearer, CSRF token, no browser headers)
csrf=$(curl -s --cacert "$T/ca.crt" -H "Authorization: Bearer $WRITE_TOKEN" "$DURL/api/session" | jget /dev/stdin csrf)
code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer $WRITE_TOKEN" \
	-H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' --data '{"machine":"web-2","policy":"nosuch"}' \
	"$DURL/api/machine/approve")
assert_eq "approve with an unknown policy: 400" 400 "$code"
code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer $WRITE_TOKEN" \
	-H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' --data '{"machine":"web-2","policy":"canary"}' \
	"$DURL/api/machine/approve")
assert_eq "approve web-2 with policy canary: 200" 200 "$code"
expect_exit 1 agent web-2	# canary is next.json: the kernel differs
grep -q 'manifest-mismatch' "$T/out" || die "web-2 under canary: $(cat "$T/out")"
code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer $WRITE_TOKEN" \
	-H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' --data '{"machine":"web-2","policy":"good"}' \
	"$DURL/api/machine/approve")
assert_eq "approve web-2 with policy good: 200" 200 "$code"
expect_exit 0 agent web-2
ok "web-2 approved again through the dashboard's API: fails under canary, passes under good"
"$M" admin --db "$DB" audit --json > "$T/audit.json"
$PY -c 'import json,sys
a=json.load(open(sys.argv[1]))
ev=[(x["machine"],x["event"],x["result"]) for x in a]
assert ("web-2","dashboard-revoke","ok") in ev, ev
assert ("","dashboard-login","ok") in ev, ev
assert ("","dashboard-login","fail") in ev, ev
assert not any(x["event"]=="dashboard-revoke" and x["machine"]=="web-1" for x in a), ev
assert any(x["event"]=="policy-add" and x["detail"]=="canary by dashboard token operator" for x in a), a
assert [x for x in a if x["event"]=="dashboard-revoke"][0]["detail"] == "by dashboard token operator", a' "$T/audit.json" ||
	die "audit: $(cat "$T/audit.json")"
ok "the audit log holds the revocation and the policy added (by operator) and the failed login"
# a removed token is refused at once
"$M" admin --db "$DB" dashboard-token remove reader
code=$(curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer $READ_TOKEN" "$DURL/api/summary")
assert_eq "a removed token: 401" 401 "$code"
serve_stop

# --dashboard-client-ca: a certificate for TLS client authentication under that CA, then the token
DPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serve_start "$DB" --tofu --dashboard-listen "127.0.0.1:$DPORT" --dashboard-client-ca "$T/ca.crt"
DURL=https://127.0.0.1:$DPORT
dget() {	# PATH CURL-ARGS...: the status of a GET on the dashboard, the answer in $T/ans
	p=$1; shift
	curl -s --cacert "$T/ca.crt" -o "$T/ans" -w '%{http_code}' -H "Authorization: Bearer $WRITE_TOKEN" "$@" "$DURL$p"
}
assert_eq "no client certificate: 403" 403 "$(dget /api/summary)"
grep -q client-cert-required "$T/ans" || die "$(cat "$T/ans")"
assert_eq "no client certificate: not even the page" 403 "$(dget /)"
assert_eq "a certificate without clientAuth (the server's): 403" 403 \
	"$(dget /api/summary --cert "$T/server.crt" --key "$T/server.key")"
assert_eq "an administrator's certificate and a token: 200" 200 \
	"$(dget /api/summary --cert "$T/client.crt" --key "$T/client.key")"
assert_eq "an administrator's certificate without a token: 401" 401 \
	"$(curl -s --cacert "$T/ca.crt" -o /dev/null -w '%{http_code}' --cert "$T/client.crt" --key "$T/client.key" \
		"$DURL/api/summary")"
serve_stop
echo "dashboard_browser: $(( $(date +%s) - start )) s"
