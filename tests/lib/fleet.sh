# Helpers for the fleet tests and bench (sourced after common.sh, pg.sh and
# serve.sh): several `measured serve` on one PostgreSQL, driven by the load
# generator (bench/serve_load), and the checks of what the database holds
# against what the generator saw.

LOAD=${MEASURED_BUILDDIR:-$(dirname "$M")}/bench/serve_load
[ -x "$LOAD" ] || die "$LOAD is not built (make check builds it)"

# fleet_policy DB NAME: the bench's one-event CEL log ($T/b.cel, PCR 16 in
# $PCR, both computed here with hashlib) and a policy NAME matching it
fleet_policy() {
	if [ ! -f "$T/b.cel" ]; then
		D=$(printf bench | sha256sum | cut -c1-64)
		printf '\036{"recnum":0,"pcr":16,"digests":[{"hashAlg":"sha256","digest":"%s"}],"content_type":"measured","content":{"description":"bench"}}\n' \
			"$D" > "$T/b.cel"
		PCR=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(bytes(32)+bytes.fromhex(sys.argv[1])).hexdigest())' "$D")
		mkmanifest "$T/m.json" 16 bench
	fi
	"$M" admin --db "$1" policy add "$2" --manifest "$T/m.json" --pcrs 16 --banks sha256 >/dev/null
}

# fleet_start DB N ARGS...: N verifiers on DB; URLS (comma-separated), VPIDS
fleet_start() {
	db=$1; n=$2; shift 2
	URLS=""; VPIDS=""
	for _i in $(seq "$n"); do
		serve_start "$db" --quiet "$@"
		URLS="${URLS:+$URLS,}$URL"
		VPIDS="$VPIDS $SERVE_PID"
	done
}

# vpid I: the Ith verifier's PID (from 1)
vpid() { echo $VPIDS | cut -d' ' -f"$1"; }

# load_start DB NAME POLICY MACHINES THREADS SECONDS: the generator on
# $URLS, its machines (NAME000000, ...) imported under POLICY, started;
# LOAD_PID, output in $T/NAME.out.  SERVE_LOAD_* pass through.
# load_prepare (the same arguments) and load_go: the same in two steps.
load_start() {
	load_prepare "$@"
	load_go
}

load_go() {
	echo go >&3
	exec 3>&-
}

load_prepare() {
	rm -f "$T/$2.fifo"
	mkfifo "$T/$2.fifo"
	SERVE_LOAD_PREFIX=$2 "$LOAD" "$URLS" "$T/ca.crt" "$T/b.cel" "$PCR" "$4" "$5" "$6" "$T/$2.tsv" \
		< "$T/$2.fifo" > "$T/$2.out" 2> "$T/$2.err" &
	LOAD_PID=$!
	PIDS="$PIDS $LOAD_PID"
	exec 3>"$T/$2.fifo"
	until grep -q ready "$T/$2.out" 2>/dev/null; do
		kill -0 $LOAD_PID 2>/dev/null || die "the load generator exited: $(cat "$T/$2.err")"
		sleep 0.05
	done
	"$M" admin --db "$1" machine import "$T/$2.tsv" --policy "$3" >/dev/null
}

# load_wait NAME: wait for the generator; LOAD_RC its exit status
load_wait() {
	LOAD_RC=0
	wait $LOAD_PID || LOAD_RC=$?
	cat "$T/$1.out"
}

# load_field NAME WORD: the number after WORD in the generator's output
load_field() {
	awk -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == w) { v = $(i + 1); gsub(/[^0-9]/, "", v); print v; exit } }' \
		"$T/$1.out"
}

now_ms() { date +%s%3N; }

# check_passes NAME HOST PORT: what the database at HOST:PORT holds against
# what the generator with SERVE_LOAD_PASSLOG=$T/NAME.pass and
# SERVE_LOAD_DOUBTLOG=$T/NAME.doubt saw: every nonce it saw pass used once,
# no nonce twice, each machine's passes in the audit exactly once (answers
# lost in flight may add one each: they may have been committed), one
# audit record per nonce use (a nonce-reused answer's record uses none),
# and with FLEET_BAD=1 no pass for a failing machine (names ending in 9:
# SERVE_LOAD_BAD_EVERY=10).
check_passes() {
	pgq "SELECT nonce FROM used_nonces WHERE machine LIKE '$1%'" "${2:-$PG_DIR}" "${3:-$PG_PORT}" | sort > "$T/$1.used"
	pgq "SELECT machine, count(*) FILTER (WHERE result = 'pass'),
		count(*) FILTER (WHERE reason <> 'nonce-reused') FROM audit
		WHERE event = 'attest' AND machine LIKE '$1%' GROUP BY machine" "${2:-$PG_DIR}" "${3:-$PG_PORT}" > "$T/$1.audit"
	touch "$T/$1.doubt"
	python3 - "$T/$1.pass" "$T/$1.used" "$T/$1.audit" "$T/$1.doubt" <<'PY'
import collections, os, sys
passes = [l.split() for l in open(sys.argv[1])]
used = [l.strip() for l in open(sys.argv[2]) if l.strip()]
audit = {}
for l in open(sys.argv[3]):
    m, p, n = l.strip().split("|")
    audit[m] = (int(p), int(n))
doubt = collections.Counter(l.strip() for l in open(sys.argv[4]) if l.strip())
seen = collections.Counter(p[1] for p in passes)
nonces = [p[0] for p in passes]
err = []
if len(set(nonces)) != len(nonces):
    err.append("a nonce passed twice")
if len(set(used)) != len(used):
    err.append("a nonce is recorded twice")
missing = set(nonces) - set(used)
# FLEET_LOSS_AFTER (wall ms): passes answered from then on may be missing (asynchronous replication)
loss_after = float(os.environ.get("FLEET_LOSS_AFTER", "inf"))
lost = {p[0] for p in passes if p[0] in missing and float(p[2]) >= loss_after}
lost_at = [float(p[2]) for p in passes if p[0] in lost]
lost_by = collections.Counter(p[1] for p in passes if p[0] in lost)
missing -= lost
if missing:
    err.append("%d passes' nonces are not in used_nonces, e.g. %s" % (len(missing), sorted(missing)[0]))
for m, k in seen.items():
    p = audit.get(m, (0, 0))[0]
    if not (k - lost_by[m] <= p <= k + doubt[m]):
        err.append("%s: %d passes seen, %d answers lost, %d pass records" % (m, k, doubt[m], p))
for m, (p, n) in audit.items():
    if os.environ.get("FLEET_BAD") == "1" and m.endswith("9") and p:
        err.append("%s (failing) has %d pass records" % (m, p))
    if p > seen[m] + doubt[m]:
        err.append("%s: %d pass records, only %d seen and %d lost" % (m, p, seen[m], doubt[m]))
if sum(n for p, n in audit.values()) != len(used):
    err.append("%d attest records for %d nonce uses" % (sum(n for p, n in audit.values()), len(used)))
if err:
    print("\n".join(err[:10]), file=sys.stderr)
    sys.exit(1)
print("%d passes seen, %d in the audit (%d answers lost or 503 in flight), %d nonce uses, %d attest records"
      % (len(passes), sum(p for p, n in audit.values()), sum(doubt.values()), len(used),
         sum(n for p, n in audit.values())))
if "FLEET_LOSS_AFTER" in os.environ:
    crash = float(os.environ["FLEET_CRASH"])
    print("lost %d passes%s" % (len(lost), ", answered from %.0f ms before the crash" % (crash - min(lost_at))
                                if lost else ""))
PY
}

# pgha_start: a primary and a streaming replica (pg_basebackup -R:
# standby.signal and primary_conninfo) on loopback TCP, fsync off (a kill
# -9 keeps the page cache, as a process crash does), replication
# asynchronous (pgha_sync sync makes it synchronous).  Sets PGA_PORT,
# PGB_PORT, PGHA_URL (both hosts, target_session_attrs=read-write), PGA_PID
# (the primary's postmaster).
pgha_stop() {
	for d in a b; do
		[ -f "${PGHA_DIR:-/nonexistent}/$d/postmaster.pid" ] || continue
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGHA_DIR/$d" -m immediate -w stop >/dev/null 2>&1 || true
	done
}

pgha_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pgha_pg_start() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGHA_DIR/$1" -w -l "$PGHA_DIR/$1.log" \
		-o "-p $2 -k $PGHA_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 $3" \
		start >/dev/null || { cat "$PGHA_DIR/$1.log" >&2; die "PostgreSQL ($1) did not start"; }
}

pgha_start() {
	[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed ($PG_BIN/initdb)"
	PGHA_DIR=$(mktemp -d /tmp/measured-pgha.XXXXXX)
	chown postgres "$PGHA_DIR"
	trap 'pgha_stop; rm -rf "$PGHA_DIR"; cleanup' EXIT INT TERM
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PGHA_DIR/a" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$PGHA_DIR/initdb.log" 2>&1 || die "initdb failed"
	PGA_PORT=$(pgha_port)
	PGB_PORT=$(pgha_port)
	pgha_pg_start a "$PGA_PORT" "-c synchronous_commit=on"
	runuser -u postgres -- "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PGA_PORT" -U postgres -D "$PGHA_DIR/b" \
		-R -X stream --no-sync >"$PGHA_DIR/basebackup.log" 2>&1 || { cat "$PGHA_DIR/basebackup.log" >&2; die "pg_basebackup failed"; }
	[ -f "$PGHA_DIR/b/standby.signal" ] && grep -q primary_conninfo "$PGHA_DIR/b/postgresql.auto.conf" ||
		die "pg_basebackup -R wrote no standby.signal / primary_conninfo"
	# the replica, once promoted, has no standby of its own: it must not wait for one
	pgha_pg_start b "$PGB_PORT" "-c synchronous_commit=on"
	pgha_sync async
	PGA_PID=$(head -1 "$PGHA_DIR/a/postmaster.pid")
	PGHA_URL="postgresql:host=127.0.0.1,127.0.0.1 port=$PGA_PORT,$PGB_PORT user=postgres dbname=postgres target_session_attrs=read-write"
}

# pgha_sync sync|async: the primary's replication made synchronous (every
# commit waits for the replica's flush: synchronous_standby_names) or left
# asynchronous, and the replica seen streaming so
pgha_sync() {
	want=$1
	if [ $want = sync ]; then
		pgq "ALTER SYSTEM SET synchronous_standby_names = '*'" 127.0.0.1 "$PGA_PORT" >/dev/null
		pgq "SELECT pg_reload_conf()" 127.0.0.1 "$PGA_PORT" >/dev/null
	fi
	i=0
	until [ "$(pgq "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'" 127.0.0.1 "$PGA_PORT")" = $want ]; do
		i=$((i + 1)); [ $i -le 100 ] || die "the replica is not streaming ($want)"
		sleep 0.1
	done
}

# pgha_crash: the primary stopped hard, every one of its processes at once (kill -9)
pgha_crash() {
	kill -9 "$PGA_PID" $(pgrep -P "$PGA_PID") 2>/dev/null || true
	# gone, or a zombie its adopting parent has yet to reap
	while st=$(sed 's/^.*) //' "/proc/$PGA_PID/stat" 2>/dev/null) && [ "${st%% *}" != Z ]; do sleep 0.01; done
}

# pgha_promote: the replica becomes the primary (pg_ctl promote, waiting for it)
pgha_promote() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGHA_DIR/b" -w promote >/dev/null || die "promote failed"
}
