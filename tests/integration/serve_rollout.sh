#!/bin/sh
# A rollout on the verifier, on SQLite and on PostgreSQL: a policy with
# two named manifests (the current boot and the next); a machine (swtpm)
# whose PCR 16 holds either state passes, and the answer, the audit log and
# `admin machine list` name the manifest it matched; a state matching
# neither is refused with the difference of the closest manifest (the one
# whose first difference comes latest); once one manifest is retired, a
# machine matching only it is refused within the recheck time.  The admin
# commands' failures: the last manifest, a duplicate label, an unknown
# policy or label, hostile labels (escaped in the message, refused over
# 127 characters), a manifest the policy does not quote, more than 8.
# Expected manifests are computed here (mkmanifest: hashlib), not by predict.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/lib/pg.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"

tls_make
pg_start
swtpm_start a
tpm_keys "$T/a" ecc
mkmanifest "$T/cur.json" 16 kernel-1 rootfs
mkmanifest "$T/next.json" 16 kernel-2 rootfs
mkmanifest "$T/other.json" 16 kernel-9 rootfs
mkmanifest "$T/pcr23.json" 23 kernel-1

adm() { "$M" admin --db "$DB" "$@"; }

# boot_state TEXT...: PCR 16 reset and extended with TEXT..., logged in $T/m.cel (quote's log)
boot_state() {
	tpm2_pcrreset 16
	rm -f "$T/m.cel"
	for t in "$@"; do
		"$M" extend --pcr 16 --text "$t" --bank sha256 --log "$T/m.cel" >/dev/null
	done
}

# attest_now: a fresh nonce, a quote of the current state, /v1/attest; $code and $T/ans
attest_now() {
	nonce m1
	quote "$NONCE" "$T/ev.json"
	attest_req m1 "$T/ev.json" "$T/req.json"
	code=$(post /v1/attest "$T/req.json")
}

# expect_pass POLICY:LABEL: the answer passed, matching that manifest (answer, machine list, audit)
expect_pass() {
	[ "$code" = 200 ] || { cat "$T/ans" >&2; die "$kind: expected a pass matching $1, got $code"; }
	assert_eq "$kind: the answer names the manifest matched" "$1" \
		"$(python3 -c 'import json,sys; print(",".join(m["policy"]+":"+m["manifest"] for m in json.load(open(sys.argv[1]))["matched"]))' "$T/ans")"
	"$M" admin --db "$DB" machine list > "$T/list"
	grep -qx "m1 approved policy=boot trust=tofu last=pass tpm=2.0 matched=$1" "$T/list" ||
		{ cat "$T/list" >&2; die "$kind: machine list does not say m1 matched $1"; }
	assert_eq "$kind: machine list --json names it" "$1" \
		"$("$M" admin --db "$DB" machine list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["matched"])')"
	assert_eq "$kind: the audit record names it" "pass matched $1" \
		"$("$M" admin --db "$DB" audit --machine m1 --limit 1 --json |
			python3 -c 'import json,sys; a=json.load(sys.stdin)[0]; print(a["result"], a["detail"])')"
}

# expect_mismatch LABEL INDEX: refused, the first difference taken from manifest LABEL at PCR 16's event INDEX
expect_mismatch() {
	[ "$code" = 403 ] || { cat "$T/ans" >&2; die "$kind: expected a refusal, got $code"; }
	assert_eq "$kind: manifest-mismatch, reported against '$1', event $2" "manifest-mismatch boot $1 16 $2 True" \
		"$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); d=a["first_difference"]
print(a["reason"], d["policy"], d["manifest"], d["pcr"], d["index"], a["message"].startswith("policy boot, manifest %s: " % d["manifest"]))' "$T/ans")"
}

for kind in sqlite pg; do
	DB=$(db_for $kind)
	adm policy add boot --manifest "$T/cur.json" --pcrs 16 --banks sha256
	assert_eq "$kind: policy add's manifest is labelled default" "boot pcrs=16 banks=sha256 manifests=default" \
		"$(adm policy list)"
	adm policy manifest add boot next --manifest "$T/next.json"
	assert_eq "$kind: policy list shows both labels, oldest first" \
		"boot pcrs=16 banks=sha256 manifests=default,next" "$(adm policy list)"
	assert_eq "$kind: policy list --json" '["default", "next"]' \
		"$(adm policy list --json | python3 -c 'import json,sys; print(json.dumps([m["label"] for m in json.load(sys.stdin)[0]["manifests"]]))')"
	assert_eq "$kind: manifest list" "default next" "$(adm policy manifest list boot | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"

	serve_start "$DB" --tofu
	enrol "$T/a" m1 || { cat "$T/ans" >&2; die "$kind: enrolment failed"; }
	adm machine approve m1 --policy boot

	boot_state kernel-1 rootfs; attest_now; expect_pass boot:default
	boot_state kernel-2 rootfs; attest_now; expect_pass boot:next

	# neither: the closest manifest's difference (a tie at event 0: the newer, "next")
	boot_state kernel-9 rootfs; attest_now; expect_mismatch next 0
	"$M" admin --db "$DB" machine list > "$T/list"
	grep -qx "m1 approved policy=boot trust=tofu last=fail:manifest-mismatch tpm=2.0 matched=-" "$T/list" ||
		{ cat "$T/list" >&2; die "$kind: machine list after a failure"; }
	ok "$kind: a failure records no matched manifest"
	boot_state kernel-2 rootfs-X; attest_now; expect_mismatch next 1
	boot_state kernel-1 rootfs-X; attest_now; expect_mismatch default 1

	# administration errors, each with its exact message
	expect_exit 3 adm policy manifest add boot next --manifest "$T/other.json"
	assert_eq "$kind: duplicate label" "measured admin: policy manifest add: policy 'boot' has a manifest 'next' already (retire it first)" "$(cat "$T/err")"
	expect_exit 3 adm policy manifest add nosuch x --manifest "$T/other.json"
	assert_eq "$kind: unknown policy (add)" "measured admin: policy: no policy 'nosuch' (see \`admin policy list\`)" "$(cat "$T/err")"
	expect_exit 3 adm policy manifest retire nosuch x
	assert_eq "$kind: unknown policy (retire)" "measured admin: policy manifest retire: no policy 'nosuch' (see \`admin policy list\`)" "$(cat "$T/err")"
	expect_exit 3 adm policy manifest retire boot zz
	assert_eq "$kind: unknown label" "measured admin: policy manifest retire: policy 'boot' has no manifest 'zz'" "$(cat "$T/err")"
	expect_exit 3 adm policy manifest add boot p23 --manifest "$T/pcr23.json"
	grep -q "predicts PCRs 0x00800000 in banks .*policy 'boot' quotes PCRs 0x00010000" "$T/err" ||
		{ cat "$T/err" >&2; die "$kind: a manifest for a PCR the policy does not quote"; }
	ok "$kind: a manifest for a PCR the policy does not quote is refused"
	# the same rule when the policy is made
	expect_exit 3 adm policy add p23 --manifest "$T/pcr23.json" --pcrs 16 --banks sha256
	grep -q "predicts PCRs 0x00800000 in banks .*policy 'p23' quotes PCRs 0x00010000 .*give --pcrs and --banks" "$T/err" ||
		{ cat "$T/err" >&2; die "$kind: policy add with a manifest for a PCR it does not quote"; }
	expect_exit 3 adm policy add p23 --manifest "$T/pcr23.json" --pcrs 23 --banks sha1
	grep -q "policy 'p23' quotes PCRs 0x00800000 in banks 0x1 " "$T/err" ||
		{ cat "$T/err" >&2; die "$kind: policy add with a manifest in no bank it quotes"; }
	adm policy list | grep -q '^p23 ' && die "$kind: a refused policy was stored"
	ok "$kind: policy add refuses a manifest it would never match"
	esc=$(printf 'x\033[2Jy')
	expect_exit 2 adm policy manifest add boot "$esc" --manifest "$T/other.json"
	grep -q "manifest label 'x\\\\x1b\[2Jy': 1 to 127 characters of \[A-Za-z0-9._-\]" "$T/err" ||
		{ cat "$T/err" >&2; die "$kind: an escape sequence in a label"; }
	grep -qF "$esc" "$T/err" && die "$kind: the label's escape byte reached the message"
	ok "$kind: a label with an escape sequence is refused, shown escaped"
	for bad in "a b" "a'b" "a:b" "a,b" "" "x;DROP TABLE policies"; do
		expect_exit 2 adm policy manifest add boot "$bad" --manifest "$T/other.json"
	done
	ok "$kind: labels with a space, quote, colon, comma, nothing, SQL are refused"
	long=$(python3 -c 'print("L"*128)')
	expect_exit 2 adm policy manifest add boot "$long" --manifest "$T/other.json"
	expect_exit 0 adm policy manifest add boot "${long%L}" --manifest "$T/other.json"
	ok "$kind: a 128-character label is refused, 127 accepted"
	for i in 4 5 6 7 8; do adm policy manifest add boot "n$i" --manifest "$T/other.json"; done
	expect_exit 3 adm policy manifest add boot n9 --manifest "$T/other.json"
	assert_eq "$kind: at most 8 manifests" "measured admin: policy manifest add: policy 'boot' has 8 manifests already (at most 8): retire one first" "$(cat "$T/err")"
	for i in 4 5 6 7 8; do adm policy manifest retire boot "n$i"; done
	adm policy manifest retire boot "${long%L}"

	# retiring "default": the machine in that state is refused, by every
	# verifier of the database, once the recheck time (1 s) is past.  A second
	# verifier process has the policy cached before the change.
	URL_A=$URL PID_A=$SERVE_PID
	serve_start "$DB" --tofu; URL_B=$URL PID_B=$SERVE_PID
	boot_state kernel-1 rootfs; attest_now; expect_pass boot:default
	adm policy manifest retire boot default
	sleep 1.2
	for u in "$URL_A" "$URL_B"; do
		URL=$u
		boot_state kernel-1 rootfs; attest_now; expect_mismatch next 0
		boot_state kernel-2 rootfs; attest_now; expect_pass boot:next
	done
	kill "$PID_B"; wait "$PID_B" 2>/dev/null || true
	URL=$URL_A SERVE_PID=$PID_A
	expect_exit 3 adm policy manifest retire boot next
	assert_eq "$kind: the last manifest stays" "measured admin: policy manifest retire: 'next' is the last manifest of policy 'boot': a policy without one would match nothing (add its successor first)" "$(cat "$T/err")"

	"$M" admin --db "$DB" audit --json > "$T/audit.json"
	python3 -c 'import json,sys
a=[(x["event"],x["detail"]) for x in json.load(open(sys.argv[1])) if x["event"].startswith("policy-manifest")]
assert a[0]==("policy-manifest-add","boot:next"), a
assert ("policy-manifest-retire","boot:default") in a, a
assert len(a)==14, a' "$T/audit.json" || die "$kind: audit of manifest changes"
	ok "$kind: every manifest add and retire is in the audit log"

	# policy add replaces the whole policy: one manifest again, "default"
	adm policy add boot --manifest "$T/cur.json" --pcrs 16 --banks sha256
	assert_eq "$kind: policy add resets the labels" "boot pcrs=16 banks=sha256 manifests=default" "$(adm policy list)"
	sleep 1.2
	boot_state kernel-2 rootfs; attest_now; expect_mismatch default 0
	boot_state kernel-1 rootfs; attest_now; expect_pass boot:default
	serve_stop
done

# A database made before named manifests (no policy_manifests or
# machine_matches table) keeps its policies, each under "default".
DB="sqlite:$T/old.db"
"$M" admin --db "$DB" policy add boot --manifest "$T/cur.json" --pcrs 16 --banks sha256
sqlite3 "$T/old.db" "DROP TABLE policy_manifests; DROP TABLE machine_matches;"
assert_eq "older database: its policy is 'default'" "boot pcrs=16 banks=sha256 manifests=default" \
	"$("$M" admin --db "$DB" policy list)"
"$M" admin --db "$DB" policy manifest add boot next --manifest "$T/next.json"
assert_eq "older database: a manifest is added beside it" "default next" \
	"$("$M" admin --db "$DB" policy manifest list boot | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
"$M" admin --db "$DB" policy add boot --manifest "$T/next.json" --pcrs 16 --banks sha256 --label v2
assert_eq "policy add --label names its manifest" "boot pcrs=16 banks=sha256 manifests=v2" \
	"$("$M" admin --db "$DB" policy list)"
