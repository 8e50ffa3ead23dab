#!/bin/sh
# End to end on a TPM 1.2: the measured image boots under SeaBIOS with swtpm
# in TPM 1.2 mode (given an EK and an owner by swtpm_setup, each guest its
# own TPM) and `measured attest` in its root filesystem, which finds the
# TPM 1.2 through the kernel (/dev/tpm0, no resource manager), enrols with
# TPM_MakeIdentity / TPM_ActivateIdentity and quotes with TPM_Quote2 to
# `measured serve` (SQLite) over QEMU user networking (restrict=on, one
# guestfwd to the verifier on the host's 127.0.0.1), as attest_e2e.sh does
# on a TPM 2.0.
#
# The policy quotes PCRs 0-7 (SeaBIOS's, explained by its SHA-1 log, which
# the verifier replays) and 15 (the root image) in sha1; its manifest is
# `measured predict --rootfs good.img --bank sha1` (PCR 15).  The server
# approves new machines with it, so each boot enrols and attests in one go.
#
# The good image receives the install package, byte for byte; the same
# image with one byte changed is refused with manifest-mismatch naming the
# root-filesystem event (PCR 15, sha1, event 0; expected the good image's
# SHA-1, found the changed image's in measured-init's CEL record 0, both
# computed here with sha1sum), and no file is written in the guest.  Both
# boots run at the same time.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
BOOT_TPM=1.2
boot_prereqs
for tool in python3 curl ldd cpio swtpm_setup sha1sum; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
BOOT_MODULES="$BOOT_MODULES $AGENT_MODULES"
APPEND="measured.root=/dev/vda"

# Two TPM 1.2 states with an EK and an owner; swtpm_setup's well-known
# owner and SRK secrets are SHA-1 of 20 zero bytes.
for vm in good bad; do
	mkdir -p "$T/tpm12-$vm"
	swtpm_setup --tpmstate "$T/tpm12-$vm" --createek --take-ownership --owner-well-known --srk-well-known \
		--config /dev/null > "$T/setup-$vm.log" 2>&1 || die "swtpm_setup: $(cat "$T/setup-$vm.log")"
done
WK=$(head -c 20 /dev/zero | sha1sum | cut -c1-40)
AGENT_TPM_ARGS="-T device:/dev/tpm0 --owner-secret $WK --srk-secret $WK"

# Artifacts: the root image with the agent, its one-byte-changed copy (the
# last byte, in free space), the initramfs.
tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
make_agent_root "$T/root" "$T/ca.crt"
grep -q -- "-T device:/dev/tpm0 --owner-secret" "$T/root/sbin/init" || die "the agent's TPM options are not in the image"
make_image "$T/root" "$T/good.img" 48M >/dev/null
cp "$T/good.img" "$T/bad.img"
size=$(stat -c %s "$T/bad.img")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$T/bad.img" | tr -d ' ')
printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" |
	dd of="$T/bad.img" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
cmp -s "$T/good.img" "$T/bad.img" && die "the byte did not change"
make_initramfs "$T/initrd.img"

# The verifier: policy "good", the install package.
"$M" predict --bank sha1 --rootfs "$T/good.img" -o "$T/good.json" || die "predict failed"
DB=sqlite:$T/verifier.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 0-7,15 --banks sha1 ||
	die "policy add failed"
head -c 200000 /dev/urandom > "$T/package.tar"
"$M" admin --db "$DB" payload add install --file "$T/package.tar" --policy good || die "payload add failed"
serve_start "$DB" --tofu --approve good --insecure-tofu-approve

# Both boots at once, each with its own scratch directory and TPM.
start=$(date +%s)
mkdir -p "$T/good" "$T/bad"
agent_net vm-good "$PORT"
BOOT_TPM_STATE=$T/tpm12-good boot_apart "$T/good" seabios "$T/good/c.log" "$T/good.img" "$T/initrd.img" "$APPEND" &
good_pid=$!
PIDS="$PIDS $good_pid"
agent_net vm-bad "$PORT"
BOOT_TPM_STATE=$T/tpm12-bad boot_apart "$T/bad" seabios "$T/bad/c.log" "$T/bad.img" "$T/initrd.img" "$APPEND" &
bad_pid=$!
PIDS="$PIDS $bad_pid"
wait "$good_pid" "$bad_pid" || true
echo "both boots: $(( $(date +%s) - start )) s"
good=$T/good/c.log bad=$T/bad/c.log

# 1. The good image: a TPM 1.2 found, pass, the package arrives intact.
grep -q "measured-init: TPM 1.2 at /dev/tpm0" "$good.txt" || { tail -40 "$good.txt"; die "good image: no TPM 1.2"; }
grep -q "^ATTEST-EXIT 0" "$good.txt" ||
	{ tail -40 "$good.txt"; tail -5 "$T/serve.log"; die "good image: attestation did not pass"; }
grep -q "^enrolled vm-good" "$good.txt" || die "good image: no enrolment"
grep -q "^pass vm-good" "$good.txt" || die "good image: no pass line"
grep -q "^PAYLOAD-FILE present" "$good.txt" || die "good image: no payload file"
between "$good" PAYLOAD > "$T/got.tar"
cmp "$T/package.tar" "$T/got.tar" || die "good image: the package differs"
ok "good image on a TPM 1.2 receives the install package ($(stat -c %s "$T/got.tar") bytes, equal)"

# 2. The changed image: refused, the root-filesystem event named, nothing released.
grep -q "^ATTEST-EXIT 1" "$bad.txt" || { tail -40 "$bad.txt"; die "changed image: not refused"; }
grep -q "^fail vm-bad manifest-mismatch" "$bad.txt" || die "changed image: no manifest-mismatch"
grep -q "^first difference: pcr 15 bank sha1 event-differs event 0" "$bad.txt" ||
	die "changed image: the root-filesystem event is not named: $(grep -A2 'first difference' "$bad.txt")"
want=$(sha1sum < "$T/good.img" | cut -d' ' -f1)
got=$(sha1sum < "$T/bad.img" | cut -d' ' -f1)
diffl=$(grep -A2 'first difference' "$bad.txt")
grep "expected:" "$bad.txt" | grep -q "\"digest\":\"$want\".*\"source\":\"rootfs\"" ||
	die "changed image: the expected event is not the good image's rootfs event: $diffl"
grep "found:" "$bad.txt" > "$T/found.txt" || die "changed image: no found event: $diffl"
for field in "\"digest\":\"$got\"" '"log":"cel-json"' '"record":0,'; do
	grep -qF "$field" "$T/found.txt" ||
		die "changed image: the found event is not the changed image's CEL record ($field): $diffl"
done
grep -q "^PAYLOAD-FILE absent" "$bad.txt" || die "changed image: a payload file was written"
grep -q "BEGIN PAYLOAD" "$bad.txt" && die "changed image: a payload was released"
ok "changed image refused at PCR 15 event 0 (the root filesystem, sha1), nothing released"

# 3. The verifier's records: both machines TPM 1.2, one pass, one fail.
serve_stop
"$M" admin --db "$DB" machine list > "$T/list" || die "machine list"
grep -q '^vm-good approved policy=good trust=tofu last=pass' "$T/list" || { cat "$T/list"; die "machine list: vm-good"; }
grep -q '^vm-bad approved policy=good trust=tofu last=fail' "$T/list" || { cat "$T/list"; die "machine list: vm-bad"; }
assert_eq "the verifier stored both as TPM 1.2" "vm-bad|1.2
vm-good|1.2" "$(sqlite3 "${DB#sqlite:}" "SELECT name, tpm FROM machines ORDER BY name")"
