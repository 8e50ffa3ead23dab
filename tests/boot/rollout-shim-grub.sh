#!/bin/sh
# A kernel update rolled out under the verifier: a Secure Boot guest
# (Debian's signed shim and GRUB under OVMF with Microsoft's keys, booted
# from a GPT disk, as chain-shim-grub.sh builds it) with `measured attest`
# in its root image attests to `measured serve` and passes against the
# manifest "current" of policy "rollout", predicted with --shim-grub from
# the artifacts alone.  The next boot's manifest is predicted from that
# boot's firmware log plus the ESP with the updated kernel and initrd, and
# added to the policy as "next"; the ESP's kernel is updated on the same
# disk and the same machine (same swtpm state, so the same EK, and the
# same variable store) reboots and passes, matched "next".  In that boot
# the same TPM also attests as a second machine name whose policy
# "frozen" holds only "current": refused, and the first difference named
# is PCR 4's kernel event, whose expected and found digests are those
# the firmware logged for the old and the new kernel (read with
# tpm2_eventlog, not by measured).  Two TCG boots.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/chains.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
boot_prereqs
chains_fetch
chains_kernel_prev
for tool in python3 curl ldd cpio tpm2_eventlog; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
start=$(date +%s)
BOOT_MODULES="$BOOT_MODULES $AGENT_MODULES"
POLICY_PCRS=0,1,2,3,4,5,6,7,8,9,14,15

# The root: the agent, and an init that prints the firmware log, then
# attests as "vm" and as "vm-old" (the same TPM under two names).
tls_server_for 127.0.0.1 "$AGENT_VERIFIER_IP"
cat > "$T/body" <<INIT
echo "-----BEGIN FWLOG-----"
base64 /sys/kernel/security/tpm0/binary_bios_measurements
echo "-----END FWLOG-----"
for name in vm vm-old; do
	echo "AGENT-BEGIN \$name"
	measured attest --server https://$AGENT_VERIFIER_IP --machine \$name --ca-cert /etc/measured/ca.pem \\
		--eventlog /sys/kernel/security/tpm0/binary_bios_measurements \\
		--eventlog /run/log/measured/measure.log -T device:/dev/tpmrm0 --state /run/agent-\$name 2>&1
	echo "ATTEST-EXIT \$name \$?"
done
echo "ROOT-INIT-DONE"
sync
poweroff -f
INIT
make_agent_root "$T/root" "$T/ca.crt" "$T/body"
make_image "$T/root" "$T/root.img" 48M >/dev/null
KERNEL_MODDIR=$KPREV_MODDIR make_initramfs "$T/initrd-old.img"
make_initramfs "$T/initrd-new.img"

esp_shim_grub "$T/espA" "$KPREV_IMAGE" "$T/initrd-old.img"
esp_shim_grub "$T/espB" "$KERNEL_IMAGE" "$T/initrd-new.img"
# one partition size for both (the update rewrites the partition in place)
kb=$(du -sk "$T/espA" "$T/espB" | cut -f1 | sort -n | tail -n 1)
esp_image "$T/espA" "$T/espA.img" $(( kb + kb / 4 + 2048 ))
esp_image "$T/espB" "$T/espB.img" $(( kb + kb / 4 + 2048 ))
gpt_disk "$T/disk.img" "$T/espA.img" "$T/root.img"
cp "$OVMF_MS_VARS" "$T/vars-ms.fd"	# what predict reads: the store before the first boot
cp "$OVMF_MS_VARS" "$T/vars.fd"		# the machine's own, kept across its boots

# rollout_boot LOG: the machine boots its disk, its network reaching the
# verifier; its swtpm state (EK and all) is kept in $T/qtpm-machine
rollout_boot() {
	log=$1
	rm -f "$T/qtpm-machine/ctrl"
	tpm_for_qemu machine
	agent_net vm "$PORT"
	# shellcheck disable=SC2086
	timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none -no-reboot \
		-serial file:"$log" -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-drive if=pflash,format=raw,readonly=on,file="$OVMF_SB_CODE" \
		-drive if=pflash,format=raw,file="$T/vars.fd" \
		-chardev socket,id=chrtpm,path="$TPM_SOCK" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 -drive file="$T/disk.img",if=none,format=raw,id=disk0 \
		-device virtio-blk-pci,drive=disk0,bootindex=0 $BOOT_QEMU_EXTRA >"$log.qemu" 2>&1 || true
	tr -d '\r' < "$log" > "$log.txt"
	grep -q ROOT-INIT-DONE "$log.txt" || { tail -40 "$log.txt"; tail -5 "$T/serve.log"; die "the boot of $log did not finish"; }
	between "$log" FWLOG > "$log.fw"
	[ -s "$log.fw" ] || die "no firmware log from the guest"
}

# machine_matched NAME: what `admin machine list --json` says NAME matched last
machine_matched() {
	"$M" admin --db "$DB" machine list --json |
		python3 -c 'import json,sys; print([m["last_result"]+" "+m["matched"] for m in json.load(sys.stdin) if m["name"]==sys.argv[1]][0])' "$1"
}

# 1. "current": from the artifacts alone (shim, GRUB, kernel, initrd, the variable store, the root image)
"$M" predict --bank sha256 --shim-grub --esp "$T/espA" --efi-vars "$T/vars-ms.fd" --rootfs "$T/root.img" \
	-o "$T/current.json" || die "predict of the current boot failed"
DB=sqlite:$T/verifier.db
"$M" admin --db "$DB" policy add rollout --manifest "$T/current.json" --label current --pcrs $POLICY_PCRS \
	--banks sha256 || die "policy add"
serve_start "$DB" --tofu --approve rollout --insecure-tofu-approve

t0=$(date +%s)
rollout_boot "$T/a.log"
ta=$(( $(date +%s) - t0 ))
for name in vm vm-old; do
	grep -q "^ATTEST-EXIT $name 0" "$T/a.log.txt" ||
		{ sed -n '/AGENT-BEGIN/,$p' "$T/a.log.txt" | head -40; tail -5 "$T/serve.log"; die "boot A: $name did not pass"; }
	assert_eq "boot A: $name passed against 'current'" "pass rollout:current" "$(machine_matched $name)"
done

# 2. Before the reboot: "next" predicted from boot A's log plus the updated
# ESP, added to the policy; "frozen" keeps only "current", for vm-old
"$M" predict --bank sha256 --shim-grub --esp "$T/espB" --efi-vars "$T/vars-ms.fd" --firmware-log "$T/a.log.fw" \
	--rootfs "$T/root.img" -o "$T/next.json" || die "predict of the next boot failed"
"$M" admin --db "$DB" policy manifest add rollout next --manifest "$T/next.json" || die "manifest add"
assert_eq "policy rollout holds both" "rollout pcrs=$POLICY_PCRS banks=sha256 manifests=current,next" \
	"$("$M" admin --db "$DB" policy list | grep '^rollout ')"
"$M" admin --db "$DB" policy add frozen --manifest "$T/current.json" --label current --pcrs $POLICY_PCRS \
	--banks sha256 || die "policy add frozen"
"$M" admin --db "$DB" machine approve vm-old --policy frozen || die "approve vm-old"

# 3. The update lands on the disk (the ESP partition rewritten in place), and the machine reboots
assert_eq "the two ESPs are one size" "$(stat -c %s "$T/espA.img")" "$(stat -c %s "$T/espB.img")"
dd if="$T/espB.img" of="$T/disk.img" bs=1M oflag=seek_bytes seek=$(( 2048 * 512 )) conv=notrunc status=none
t0=$(date +%s)
rollout_boot "$T/b.log"
tb=$(( $(date +%s) - t0 ))
grep -q "^ATTEST-EXIT vm 0" "$T/b.log.txt" ||
	{ sed -n '/AGENT-BEGIN/,$p' "$T/b.log.txt" | head -40; die "boot B: vm did not pass"; }
assert_eq "boot B: the updated machine passes, matched 'next'" "pass rollout:next" "$(machine_matched vm)"
"$M" admin --db "$DB" audit --machine vm --limit 1 --json > "$T/audit.json"
assert_eq "boot B: the audit record names 'next'" "attest pass matched rollout:next" \
	"$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))[0]; print(a["event"], a["result"], a["detail"])' "$T/audit.json")"

# 4. The same boot under "frozen" (only "current"): refused at the kernel's event
grep -q "^ATTEST-EXIT vm-old 1" "$T/b.log.txt" ||
	{ sed -n '/AGENT-BEGIN vm-old/,$p' "$T/b.log.txt" | head -40; die "boot B: vm-old was not refused"; }
grep -q "^fail vm-old manifest-mismatch" "$T/b.log.txt" || die "boot B: vm-old: not manifest-mismatch"
grep -q "policy frozen, manifest current: " "$T/b.log.txt" || die "boot B: vm-old: the message names no manifest"
assert_eq "boot B: vm-old's first difference" "first difference: pcr 4 bank sha256 event-differs event 4" \
	"$(grep -m1 '^first difference:' "$T/b.log.txt")"
# the firmware's own record of each kernel load in PCR 4 (tpm2-tools reads the logs): shim's load of it
# is PCR 4's fifth event (action, separator, shim, GRUB, kernel)
pcr4_event() {	# pcr4_event LOG N: the sha256 digest of PCR 4's Nth event (from 0)
	tpm2_eventlog "$1" | python3 -c 'import sys, yaml
ev=[e for e in yaml.safe_load(sys.stdin)["events"] if e.get("PCRIndex")==4]
d=[x["Digest"] for x in ev[int(sys.argv[1])]["Digests"] if x["AlgorithmId"]=="sha256"]
print(d[0])' "$2"
}
old=$(pcr4_event "$T/a.log.fw" 4) new=$(pcr4_event "$T/b.log.fw" 4)
[ "$old" != "$new" ] || die "the kernel's PCR 4 event did not change"
grep -A2 '^first difference:' "$T/b.log.txt" > "$T/diff.txt"
grep "expected:" "$T/diff.txt" | grep -q "\"digest\":\"$old\"" || { cat "$T/diff.txt"; die "expected: not the old kernel's digest $old"; }
grep "found:" "$T/diff.txt" | grep -q "\"digest\":\"$new\"" || { cat "$T/diff.txt"; die "found: not the new kernel's digest $new"; }
grep "expected:" "$T/diff.txt" | grep -qi "vmlinuz" || { cat "$T/diff.txt"; die "expected: the event does not name the kernel"; }
ok "boot B under 'frozen': refused at PCR 4 event 4, the old kernel expected, the new one found"
assert_eq "boot B: vm-old's record" "fail " "$(machine_matched vm-old)"
serve_stop
ok "two TCG boots: ${ta}s and ${tb}s; the whole test $(( $(date +%s) - start ))s"
