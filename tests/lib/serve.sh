# Helpers for the verifier's tests (sourced after common.sh): a TLS
# certificate for 127.0.0.1, a server on a free port, a client made of
# tpm2-tools + curl + python3 (independent of `measured attest`).

# tls_make: a throwaway CA, a server certificate for 127.0.0.1, a client certificate
tls_make() {
	(
	cd "$T"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
		-keyout ca.key -out ca.crt 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > san.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext \
		-out server.crt 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=agent \
		-keyout client.key -out client.csr 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' > client.ext
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext \
		-out client.crt 2>/dev/null
	) || die "cannot make TLS certificates"
}

# serve_start DB ARGS...: start `measured serve`; sets URL, SERVE_PID
serve_start() {
	db=$1; shift
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	${SERVE_WRAP:-} "$M" serve --listen 127.0.0.1:$PORT --tls-cert "$T/server.crt" --tls-key "$T/server.key" --db "$db" \
		"$@" 2>>"${SERVE_LOG:-$T/serve.log}" &
	SERVE_PID=$!
	PIDS="$PIDS $SERVE_PID"
	URL=https://127.0.0.1:$PORT
	i=0
	until curl -s --cacert "$T/ca.crt" "$URL/v1/health" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && { cat "$T/serve.log" >&2; die "the server did not start"; }
		kill -0 $SERVE_PID 2>/dev/null || { cat "$T/serve.log" >&2; die "the server exited"; }
		sleep 0.05
	done
}

serve_stop() {
	kill "$SERVE_PID" 2>/dev/null || true
	wait "$SERVE_PID" 2>/dev/null || true
}

# post PATH FILE: POST FILE, answer in $T/ans, HTTP status on stdout
CURL_EXTRA=""
post() {
	curl -s --cacert "$T/ca.crt" $CURL_EXTRA -o "$T/ans" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$2" "$URL$1"
}

# jget FILE KEY[.KEY...]: a field of a JSON file
jget() {
	python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v=v[k] if not isinstance(v,list) else v[int(k)]
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2"
}

# expect_reason STATUS REASON: the last answer
expect_reason() {
	got=$(jget "$T/ans" reason 2>/dev/null || echo none)
	[ "$code" = "$1" ] && [ "$got" = "$2" ] || { cat "$T/ans" >&2; echo >&2; tail -3 "${SERVE_LOG:-$T/serve.log}" >&2; die "expected $1 $2, got $code $got"; }
	ok "rejected: $2"
}

# tpm_keys DIR ALG: EK and AK in the current TPM, AK persisted at 0x81010002
tpm_keys() {
	d=$1; alg=$2
	mkdir -p "$d"
	echo "$alg" > "$d/alg"
	if [ "$alg" = rsa ]; then s=rsassa; else s=ecdsa; fi
	tpm2_flushcontext -t
	tpm2_createek -c "$d/ek.ctx" -G "$alg" -u "$d/ek.pub" >/dev/null
	tpm2_flushcontext -t
	tpm2_createak -C "$d/ek.ctx" -c "$d/ak.ctx" -G "$alg" -g sha256 -s $s -u "$d/ak.pub" -n "$d/ak.name" >/dev/null
	tpm2_flushcontext -t
	tpm2_evictcontrol -c "$d/ak.ctx" 0x81010002 >/dev/null
	tpm2_flushcontext -t
}

# activate DIR ANSWER OUT: TPM2_ActivateCredential of an answer's credential_blob/encrypted_secret
# (tpm2-tools' file: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET)
activate() {
	d=$1
	python3 -c 'import json,sys,base64
a=json.load(open(sys.argv[1]))
for k in sys.argv[3].split(".") if sys.argv[3] else []: a=a[k]
open(sys.argv[2],"wb").write(bytes.fromhex("badcc0de00000001")+base64.b64decode(a["credential_blob"])+base64.b64decode(a["encrypted_secret"]))' "$2" "$d/cred.bin" "${4:-}"
	# the EK again from its template: a saved transient context does not survive a TPM reset
	tpm2_createek -c "$d/ek.ctx" -G "$(cat "$d/alg")" >/dev/null
	tpm2_flushcontext -t
	tpm2_startauthsession --policy-session -S "$d/session.ctx"
	tpm2_policysecret -S "$d/session.ctx" -c e >/dev/null
	tpm2_activatecredential -c 0x81010002 -C "$d/ek.ctx" -i "$d/cred.bin" -o "$3" -P "session:$d/session.ctx" \
		>/dev/null 2>"$d/act.err"
	st=$?
	tpm2_flushcontext "$d/session.ctx"
	tpm2_flushcontext -t
	return $st
}

# enrol DIR NAME: enrolment + activation; the last answer in $T/ans
enrol() {
	d=$1
	python3 -c 'import json,sys,base64
print(json.dumps({"machine":sys.argv[1],"ek_pub":base64.b64encode(open(sys.argv[2],"rb").read()).decode(),
 "ek_cert":None,"ak_pub":base64.b64encode(open(sys.argv[3],"rb").read()).decode()}))' \
		"$2" "$d/ek.pub" "$d/ak.pub" > "$d/enroll.json"
	code=$(post /v1/enroll "$d/enroll.json")
	[ "$code" = 200 ] || return 1
	cp "$T/ans" "$d/enroll.ans"
	activate "$d" "$d/enroll.ans" "$d/secret.bin" || return 1
	python3 -c 'import json,sys,base64
print(json.dumps({"enrollment":json.load(open(sys.argv[1]))["enrollment"],
 "secret":base64.b64encode(open(sys.argv[2],"rb").read()).decode()}))' "$d/enroll.ans" "$d/secret.bin" > "$d/act.json"
	code=$(post /v1/activate "$d/act.json")
	[ "$code" = 200 ]
}

# nonce NAME: a fresh nonce for NAME in $NONCE
nonce() {
	printf '{"machine":"%s"}' "$1" > "$T/nreq.json"
	code=$(post /v1/nonce "$T/nreq.json")
	[ "$code" = 200 ] || { cat "$T/ans" >&2; tail -3 "${SERVE_LOG:-$T/serve.log}" >&2; die "no nonce ($code)"; }
	NONCE=$(jget "$T/ans" nonce)
}

# attest_req NAME EVIDENCE OUT [PAYLOAD]: the /v1/attest request
# edit EVIDENCE PYTHON: rewrite the evidence (variable e) in place
edit() {
	python3 -c 'import json,sys,base64
e=json.load(open(sys.argv[1]))
b64=lambda b: base64.b64encode(b).decode()
unb=lambda s: base64.b64decode(s)
exec(sys.argv[2])
json.dump(e,open(sys.argv[1],"w"))' "$1" "$2"
}

attest_req() {
	python3 -c 'import json,sys
r={"machine":sys.argv[1],"evidence":json.load(open(sys.argv[2])),"payload":sys.argv[4] or None}
open(sys.argv[3],"w").write(json.dumps(r))' "$1" "$2" "$3" "${4:-}"
}

# quote NONCE OUT [ARGS]: evidence from the TPM with the persisted AK, PCR 16, the CEL log
quote() {
	n=$1; out=$2; shift 2
	"$M" quote --ak-handle 0x81010002 --nonce "$n" --pcrs "${QPCRS:-16}" --bank sha256 \
		--eventlog "$T/m.cel" -o "$out" "$@" || die "measured quote failed"
}

# mkmanifest OUT PCR TEXT...: a reference manifest of sha256(TEXT) events on PCR,
# computed here (hashlib), independently of the code under test
mkmanifest() {
	python3 - "$@" <<'PY'
import hashlib, json, sys
out, pcr, texts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
v = bytes(32)
ev = []
for i, t in enumerate(texts):
    d = hashlib.sha256(t.encode()).digest()
    v = hashlib.sha256(v + d).digest()
    ev.append({"index": i, "type": 0, "description": t, "source": "test", "digests": {"sha256": d.hex()}})
json.dump({"format": "measured-manifest", "version": 1, "generator": "test", "banks": ["sha256"],
           "startup_locality": 0,
           "pcrs": [{"pcr": pcr, "source": "test", "values": {"sha256": v.hex()}, "events": ev}]},
          open(out, "w"))
PY
}

# db_for KIND: a fresh database URL of that kind (sqlite file or the test PostgreSQL)
db_for() {
	case $1 in
	sqlite) echo "sqlite:$T/v-$(date +%s%N).db" ;;
	pg) pg_reset; echo "$PG_URL" ;;
	esac
}

# tls_server_for IP...: like tls_make's CA and server certificate (same
# files: ca.crt, server.crt, server.key), the server's naming every IP
# (e.g. 127.0.0.1 and the address a guest reaches it by); no client certificate.
tls_server_for() {
	san=$(printf 'IP:%s,' "$@")
	san=${san%,}
	(
	cd "$T"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
		-keyout ca.key -out ca.crt 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=%s\n' "$san" > san.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext \
		-out server.crt 2>/dev/null
	) || die "cannot make TLS certificates"
}
