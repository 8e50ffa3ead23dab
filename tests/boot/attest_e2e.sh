#!/bin/sh
# End to end with the real verifier: the measured image boots under OVMF +
# swtpm with `measured attest` in its root filesystem and attests to
# `measured serve` (SQLite) over QEMU user networking (restrict=on, one
# guestfwd to the verifier on the host's 127.0.0.1: no packet leaves
# loopback).
#
# The reference manifest is `measured predict` from the artifacts alone
# (kernel, initramfs, the command line exactly as boot() passes it, QEMU's
# direct boot with 512M, the good root image); the policy covers PCR 4
# (kernel), 9 (command line, initramfs) and 15 (root image) in sha256.  The
# server approves new machines with that policy (--approve), so each boot
# enrols, activates and attests in one go.
#
# The good image receives the install package, byte for byte; the same
# image with one byte changed is refused with manifest-mismatch, the answer
# names the root-filesystem event (PCR 15, event 0: the manifest's rootfs
# event, measured-init's CEL record 0), and no file is written in the guest.  Both boots run at the
# same time (two TCG guests, two swtpms, two machine names from SMBIOS).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
boot_prereqs
for tool in python3 curl ldd cpio; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
BOOT_MODULES="$BOOT_MODULES $AGENT_MODULES"
APPEND="measured.root=/dev/vda"
CMDLINE="console=ttyS0 quiet $APPEND"	# what boot() passes to -append

# Artifacts: the root image with the agent, its one-byte-changed copy (the
# last byte, in free space), the initramfs.
tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
make_agent_root "$T/root" "$T/ca.crt"
make_image "$T/root" "$T/good.img" 48M >/dev/null
cp "$T/good.img" "$T/bad.img"
size=$(stat -c %s "$T/bad.img")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$T/bad.img" | tr -d ' ')
printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" |
	dd of="$T/bad.img" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
cmp -s "$T/good.img" "$T/bad.img" && die "the byte did not change"
make_initramfs "$T/initrd.img"

# The verifier: policy "good" from the prediction, the install package.
"$M" predict --bank sha256 --kernel "$KERNEL_IMAGE" --initrd "$T/initrd.img" --cmdline "$CMDLINE" \
	--qemu-direct-boot 512M --rootfs "$T/good.img" -o "$T/good.json" || die "predict failed"
DB=sqlite:$T/verifier.db
"$M" admin --db "$DB" policy add good --manifest "$T/good.json" --pcrs 4,9,15 --banks sha256 ||
	die "policy add failed"
head -c 200000 /dev/urandom > "$T/package.tar"
"$M" admin --db "$DB" payload add install --file "$T/package.tar" --policy good || die "payload add failed"
serve_start "$DB" --tofu --approve good --insecure-tofu-approve

# Both boots at once, each with its own scratch directory and swtpm.
mkdir -p "$T/good" "$T/bad"
agent_net vm-good "$PORT"
boot_apart "$T/good" ovmf "$T/good/c.log" "$T/good.img" "$T/initrd.img" "$APPEND" &
good_pid=$!
PIDS="$PIDS $good_pid"
agent_net vm-bad "$PORT"
boot_apart "$T/bad" ovmf "$T/bad/c.log" "$T/bad.img" "$T/initrd.img" "$APPEND" &
bad_pid=$!
PIDS="$PIDS $bad_pid"
wait "$good_pid" "$bad_pid" || true
good=$T/good/c.log bad=$T/bad/c.log

# 1. The good image: pass, the package arrives intact.
grep -q "^ATTEST-EXIT 0" "$good.txt" ||
	{ tail -40 "$good.txt"; tail -5 "$T/serve.log"; die "good image: attestation did not pass"; }
grep -q "^pass vm-good" "$good.txt" || die "good image: no pass line"
grep -q "^PAYLOAD-FILE present" "$good.txt" || die "good image: no payload file"
between "$good" PAYLOAD > "$T/got.tar"
cmp "$T/package.tar" "$T/got.tar" || die "good image: the package differs"
ok "good image receives the install package ($(stat -c %s "$T/got.tar") bytes, equal)"

# 2. The changed image: refused, the root-filesystem event named, nothing
# released.
grep -q "^ATTEST-EXIT 1" "$bad.txt" || { tail -40 "$bad.txt"; die "changed image: not refused"; }
grep -q "^fail vm-bad manifest-mismatch" "$bad.txt" || die "changed image: no manifest-mismatch"
grep -q "^first difference: pcr 15 bank sha256 event-differs event 0" "$bad.txt" ||
	die "changed image: the root-filesystem event is not named: $(grep -A2 'first difference' "$bad.txt")"
# expected: the manifest's rootfs event, the good image's sha256; found:
# record 0 of measured-init's CEL log, the changed image's sha256 (both
# computed here with sha256sum)
want=$(sha256sum < "$T/good.img" | cut -d' ' -f1)
got=$(sha256sum < "$T/bad.img" | cut -d' ' -f1)
diffl=$(grep -A2 'first difference' "$bad.txt")
grep "expected:" "$bad.txt" | grep -q "\"digest\":\"$want\".*\"source\":\"rootfs\"" ||
	die "changed image: the expected event is not the good image's rootfs event: $diffl"
grep "found:" "$bad.txt" > "$T/found.txt" || die "changed image: no found event: $diffl"
for field in "\"digest\":\"$got\"" '"log":"cel-json"' '"record":0,' '"description":'; do
	grep -qF "$field" "$T/found.txt" ||
		die "changed image: the found event is not the changed image's CEL record ($field): $diffl"
done
grep -q "^PAYLOAD-FILE absent" "$bad.txt" || die "changed image: a payload file was written"
grep -q "BEGIN PAYLOAD" "$bad.txt" && die "changed image: a payload was released"
ok "changed image refused at PCR 15 event 0 (the root filesystem), nothing released"

# 3. The verifier's own records say the same.
serve_stop
"$M" admin --db "$DB" machine list > "$T/list" || die "machine list"
grep -q '^vm-good approved policy=good trust=tofu last=pass' "$T/list" || { cat "$T/list"; die "machine list: vm-good"; }
grep -q '^vm-bad approved policy=good trust=tofu last=fail' "$T/list" || { cat "$T/list"; die "machine list: vm-bad"; }
"$M" admin --db "$DB" audit --json > "$T/audit.json" || die "audit"
python3 -c 'import json,sys
a=json.load(open(sys.argv[1]))
att=[(x["machine"],x["result"]) for x in a if x["event"]=="attest"]
assert ("vm-good","pass") in att, att
bad=[x for x in a if x["event"]=="attest" and x["machine"]=="vm-bad"]
assert bad and all(x["result"]!="pass" for x in bad), bad
assert any("manifest-mismatch" in json.dumps(x) for x in bad), bad' "$T/audit.json" ||
	{ cat "$T/audit.json"; die "audit log"; }
ok "machine list and audit log: vm-good passed, vm-bad failed with manifest-mismatch"
