#!/bin/sh
# The browser VM (contrib/browser-vm, docs/browser-vm.md): its image built
# once (cached, contrib/browser-vm/testlib.sh), three boots with
# contrib/browser-vm/start.sh through svirt-interpose with swtpm, a test web
# server and two verifiers (`measured serve`) on the host's loopback reached
# by guestfwds (user networking, restrict=on).
# The image (unsquashfs): no setuid or setgid file, no su, sudo, login,
# getty, ssh, package manager or Chromium setuid sandbox.
# Boot 1, Chromium (kiosk): the PCRs the guest reads equal the manifest
# predicted at build (and PCR 15 equals openssl's hash of the image,
# extended from zero); Chromium fetched the page; every Chromium process
# runs as the browser user (uid 1000), its renderers in user namespaces of
# their own and under seccomp filters; QEMU's screendump shows the page's
# colour over the whole screen; Ctrl+W (closing the last tab) powers the VM
# off within seconds, and the init names the files Chromium wrote to
# /home/browser (its profile).
# Boot 2, the light stand-in (foot, one colour), attesting first: the
# verifier passes it before the stand-in starts; /home/browser holds
# exactly the image's files (unsquashfs lists them), none of boot 1's; the
# PCRs equal the manifest predicted for its command line; the stand-in runs
# as uid 1000 and fills the screen; killing it (Alt+SysRq+I: SIGKILL to
# every process but init) powers the VM off within seconds.
# Boot 3, at the same time, attesting to a verifier whose policy expects
# another root image: refused, the console names PCR 15's event 0, no
# application starts, the VM powers off.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/tests/lib/serve.sh"
. "$MEASURED_SRCDIR/contrib/browser-vm/testlib.sh"
boot_prereqs
bvm_image
# The image itself (unsquashfs's listing): no setuid or setgid file, none of
# the programs that change user or log in, no package manager, no
# Chromium setuid sandbox helper.
unsquashfs -lls "$BVM/root.squashfs" > "$T/image.ls" || die "unsquashfs failed"
setid=$(awk '$1 ~ /^-(..[sS]|.....[sS])/' "$T/image.ls")
[ -z "$setid" ] || { echo "$setid" >&2; die "setuid or setgid files in the image"; }
found=$(sed -n 's|^[-l][^ ]* .* squashfs-root\(/[^ ]*\).*|\1|p' "$T/image.ls" |
	grep -E '^/usr/(s?bin)/(sudo|su|login|sulogin|agetty|getty|sshd|ssh|dpkg|apt|apt-get|pkexec)$|chrome-sandbox$' || true)
[ -z "$found" ] || { echo "$found" >&2; die "the image holds programs it should not"; }
n=$(grep -c '^-' "$T/image.ls")
ok "the image's $n files: no setuid or setgid one, no su, sudo, login, getty, ssh, pkexec, dpkg, apt, chrome-sandbox"
TOKEN=session-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
bvm_serve "$TOKEN"
T1=$(date +%s)
bvm_start c1 kiosk

bvm_wait "$T/web.log" '^GET /$' 400
ok "Chromium fetched the start page from the test server"
bvm_report c1 ' uid [0-9]+ [0-9]+ \[[0-9]+\] seccomp [0-9] /usr/lib/chromium/chromium --type=renderer' 300
bvm_monitor c1 "screendump $T/c1.ppm"
[ -s "$T/c1.ppm" ] || die "no screendump"
res=$(bvm_screen_check "$T/c1.ppm" $BVM_PAGE_RGB) || { echo "$res" >&2; die "the page does not fill the screen"; }
case "$res" in "1280x800 "*) ;; *) die "the screendump is not start.sh's default size 1280x800: $res";; esac
ok "screendump: the page's colour fills the screen ($res)"

# PCRs: the guest's values (logged by the VM's init) against the manifest
# predicted at build, and PCR 15 against an independent hash.
bvm_console c1 > "$T/c1.txt"
# shellcheck disable=SC2016
PCRCHECK='
import json, re, sys
m = json.load(open(sys.argv[1]))
guest = {}
for line in open(sys.argv[2]):
    r = re.match(r"browser-vm: pcr (\w+) (\d+) ([0-9a-f]+)$", line.strip())
    if r: guest[(r.group(1), int(r.group(2)))] = r.group(3)
n = 0
for p in m["pcrs"]:
    for bank, val in p["values"].items():
        assert guest.get((bank, p["pcr"])) == val, (bank, p["pcr"], guest.get((bank, p["pcr"])), val)
        n += 1
assert n >= 12, n
print("ok - %d predicted PCR values of %s equal the guest values" % (n, sys.argv[1].split("/")[-1]))
'
python3 -c "$PCRCHECK" "$BVM/manifest-kiosk.json" "$T/c1.txt" || die "guest PCRs differ from the manifest"
for bank in sha1 sha256 sha384 sha512; do
	img=$(openssl dgst -"$bank" -r "$BVM/root.squashfs" | cut -d' ' -f1)
	[ $bank = sha256 ] && IMG_SHA256=$img
	assert_eq "PCR 15 $bank = extend(openssl $bank of the image)" "$(host_extend $bank "$img")" \
		"$(sed -n "s/^browser-vm: pcr $bank 15 //p" "$T/c1.txt")"
done

# Processes: Chromium's all run as uid 1000; as root only init, udevd
# and init's own reporting subshell.
cp "$T/c1.ps" "$T/ps.txt"
n=$(grep -c ' uid 1000 1000 .*chromium' "$T/ps.txt" || true)
[ "$n" -ge 2 ] || { cat "$T/ps.txt" >&2; die "no Chromium processes as uid 1000"; }
ok "$n Chromium processes run as uid 1000"
if grep 'chromium\|cage' "$T/ps.txt" | grep -v ' uid 1000 1000 '; then die "a Chromium or cage process not as uid 1000"; fi
root=$(grep ' uid 0 0 ' "$T/ps.txt" |
	grep -v '\] seccomp 0 /bin/sh /sbin/init $\|\] seccomp 0 /lib/systemd/systemd-udevd --daemon $\|\] seccomp 0 seatd -g browser -l error $' || true)
[ -z "$root" ] || { echo "$root" >&2; die "unexpected root processes"; }
ok "as root only init, udevd and seatd"
# Chromium's sandbox: renderers in a user namespace other than the browser's
bns=$(grep -v -- '--type=' "$T/ps.txt" |
	sed -n 's|.* uid 1000 1000 \(\[[0-9]*\]\) seccomp [0-9] /usr/lib/chromium/chromium .*|\1|p' | head -n 1)
rns=$(sed -n 's|.* uid 1000 1000 \(\[[0-9]*\]\) seccomp [0-9] /usr/lib/chromium/chromium --type=renderer.*|\1|p' "$T/ps.txt" | head -n 1)
[ -n "$bns" ] && [ -n "$rns" ] || { cat "$T/ps.txt" >&2; die "no browser or renderer process in the report"; }
[ "$bns" != "$rns" ] || die "the renderer shares the browser's user namespace $bns"
ok "Chromium's renderer runs in user namespace $rns, the browser in $bns"
# and every renderer under a seccomp-bpf filter (mode 2), as Chromium's
# sandbox sets it
grep -- '--type=renderer' "$T/ps.txt" > "$T/renderers.txt"
if grep -v ' seccomp 2 ' "$T/renderers.txt"; then die "a renderer without a seccomp filter"; fi
ok "$(wc -l < "$T/renderers.txt") renderer(s), each under a seccomp filter (Seccomp: 2)"

# Close the last tab: the VM powers off.
# Keys are held 500 ms (QEMU's default 100 ms is now and then too short for
# a loaded TCG guest) and pressed up to three times, 20 s apart; the time is
# from the last press.
try=0 s=""
while [ $try -lt 3 ] && [ -z "$s" ]; do
	try=$((try + 1))
	bvm_monitor c1 "sendkey ctrl-w 500"
	i=0
	while [ $i -lt 200 ] && kill -0 "$VM_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$VM_PID" 2>/dev/null || s=$((i / 10))
done
[ -n "$s" ] || die "the VM was still running 20 s after each of 3 Ctrl+W presses"
wait "$VM_PID" 2>/dev/null || true
ok "Ctrl+W (press $try): the VM powered off after $s s"
echo "boot 1 took $(( $(date +%s) - T1 )) s"
bvm_console c1 > "$T/c1.txt"
grep -q '^browser-vm: power off: kiosk ended (status 0)' "$T/c1.txt" ||
	{ grep '^browser-vm' "$T/c1.txt" >&2; die "init did not log the application's end"; }
written=$(sed -n 's/^browser-vm: discarding \([0-9]*\) file(s) written under \/home\/browser$/\1/p' "$T/c1.txt")
[ "${written:-0}" -gt 0 ] || die "boot 1 wrote nothing to /home/browser"
grep -q '^browser-vm: discarded /home/browser/.config/chromium/Default/History$' "$T/c1.txt" ||
	{ grep 'discard' "$T/c1.txt" >&2; die "Chromium's history was not among the files written"; }
ok "boot 1 wrote $written files to /home/browser, Chromium's history among them"

# Boots 2 and 3: the stand-in with attestation before it starts
# (browser.attest=, browser.machine=), each VM reaching its own `measured
# serve` at $BVM_ATTEST_URL (a guestfwd to the host's loopback).  Both boots
# have the same command line, whose manifest build-image.sh predicted
# (--attest, --machine): it differs from the stand-in's plain one in PCR 9
# (the command line) alone.  Verifier "good" has that manifest as its
# policy: boot 2 passes and the stand-in starts.  Verifier "other" has the
# manifest for the same command line but another root image (the sha256 of
# a text, predicted here): boot 3 is refused, the console names PCR 15's
# event 0 with both digests, the stand-in never starts and the VM powers
# off.  Boot 3 starts once boot 2 holds its svirt-interpose domain, and the
# two run at the same time.
python3 - "$BVM/manifest-standin.json" "$BVM/manifest-attest-standin.json" <<'PY' || die "the manifests for attestation"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
va = {(p["pcr"], k): v for p in a["pcrs"] for k, v in p["values"].items()}
vb = {(p["pcr"], k): v for p in b["pcrs"] for k, v in p["values"].items()}
assert va.keys() == vb.keys() and len(va) >= 12, (va.keys(), vb.keys())
diff = sorted({pcr for (pcr, bank) in va if va[(pcr, bank)] != vb[(pcr, bank)]})
assert diff == [9], diff
print("ok - manifest-attest-standin.json differs from manifest-standin.json in PCR 9 only")
PY
ATTEST_CMDLINE="$(cat "$BVM/cmdline") browser.app=standin browser.attest=$BVM_ATTEST_URL browser.machine=$BVM_MACHINE"
OTHER=$(printf 'another root image' | sha256sum | cut -d' ' -f1)
"$M" predict --bank sha256 --kernel "$BVM/vmlinuz" --initrd "$BVM/initrd.img" \
	--qemu-direct-boot "$(cat "$BVM/memory")" --cmdline "$ATTEST_CMDLINE" --rootfs-digest "sha256:$OTHER" \
	-o "$T/attest-other.json" || die "measured predict failed"
bvm_verifier good "$BVM/manifest-attest-standin.json"
FWD_GOOD=$BVM_FWD GOOD_PID=$SERVE_PID
bvm_verifier other "$T/attest-other.json"
FWD_OTHER=$BVM_FWD OTHER_PID=$SERVE_PID

T2=$(date +%s)
bvm_start s2 standin --attest "$BVM_ATTEST_URL" --machine "$BVM_MACHINE" --guestfwd "$FWD_GOOD"
S2_PID=$VM_PID
i=0
until [ -e "$T/svirt/dom/1" ]; do
	i=$((i + 1)); [ $i -gt 300 ] && die "boot 2 holds no svirt-interpose domain after 30 s"; sleep 0.1
done
bvm_start s3 standin --attest "$BVM_ATTEST_URL" --machine "$BVM_MACHINE" --guestfwd "$FWD_OTHER"

bvm_wait "$T/s3.log" '^browser-vm: power off: ' 400
bvm_wait_off 60
echo "boot 3 took $(( $(date +%s) - T2 )) s"
bvm_console s3 > "$T/s3.txt"
grep -q "^browser-vm: attesting to $BVM_ATTEST_URL as browser-test" "$T/s3.txt" ||
	{ grep '^browser-vm' "$T/s3.txt" >&2; die "boot 3 did not attest"; }
grep -q '^fail browser-test manifest-mismatch' "$T/s3.txt" ||
	{ tail -n 30 "$T/s3.txt" >&2; tail -n 5 "$T/serve-other.log" >&2; die "boot 3: no manifest-mismatch refusal"; }
grep -q '^first difference: pcr 15 bank sha256 event-differs event 0$' "$T/s3.txt" ||
	{ grep -A2 'first difference' "$T/s3.txt" >&2; die "boot 3: the root image's event is not named"; }
grep 'expected:' "$T/s3.txt" | grep -q "\"digest\":\"$OTHER\"" ||
	{ grep -A2 'first difference' "$T/s3.txt" >&2; die "boot 3: the expected event is not the policy's root image"; }
grep 'found:' "$T/s3.txt" | grep -q "\"digest\":\"$IMG_SHA256\"" ||
	{ grep -A2 'first difference' "$T/s3.txt" >&2; die "boot 3: the found event is not this image's (openssl sha256)"; }
grep -q '^browser-vm: power off: attestation failed (exit 1)$' "$T/s3.txt" ||
	{ grep '^browser-vm' "$T/s3.txt" >&2; die "boot 3: init did not power off for the refusal"; }
if grep '^browser-vm: starting \|^browser-vm: process ' "$T/s3.txt"; then die "boot 3: an application started"; fi
ok "boot 3 refused (PCR 15 event 0: the policy's root image $(echo "$OTHER" | cut -c1-12)..., this one $(echo "$IMG_SHA256" | cut -c1-12)...): no application started, the VM powered off (within $((OFF_S + 1)) s of its last line)"

VM_PID=$S2_PID
bvm_report s2 ' /usr/bin/foot ' 400
bvm_console s2 > "$T/s2.txt"
sed -n 's/^browser-vm: \(attestation passed\|starting standin as user browser\)$/\1/p' "$T/s2.txt" > "$T/s2.order"
assert_eq "boot 2: attestation passed, then the stand-in started" \
	"$(printf 'attestation passed\nstarting standin as user browser')" "$(cat "$T/s2.order")"
grep -q '^pass browser-test$' "$T/s2.txt" || die "boot 2: no pass line from measured attest"
kill "$GOOD_PID" "$OTHER_PID" 2>/dev/null || true
wait "$GOOD_PID" "$OTHER_PID" 2>/dev/null || true
"$M" admin --db "sqlite:$T/good.db" machine list > "$T/good.list" || die "machine list (good)"
grep -q '^browser-test approved policy=good trust=tofu last=pass' "$T/good.list" ||
	{ cat "$T/good.list" >&2; die "verifier good: browser-test did not pass"; }
"$M" admin --db "sqlite:$T/other.db" machine list > "$T/other.list" || die "machine list (other)"
grep -q '^browser-test approved policy=other trust=tofu last=fail' "$T/other.list" ||
	{ cat "$T/other.list" >&2; die "verifier other: browser-test did not fail"; }
ok "the verifiers' records: good passed browser-test, other refused it"
python3 -c "$PCRCHECK" "$BVM/manifest-attest-standin.json" "$T/s2.txt" || die "boot 2: guest PCRs differ from the manifest"
home=$(sed -n 's/^browser-vm: home holds: //p' "$T/s2.txt" | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort)
image=$(unsquashfs -lls "$BVM/root.squashfs" 'home/browser' | sed -n 's|^-.* squashfs-root/home/browser/|./|p' |
	LC_ALL=C sort)
[ -n "$image" ] || die "unsquashfs listed no file in the image's /home/browser"
assert_eq "boot 2: /home/browser holds exactly the image's files" "$image" "$home"
grep '^browser-vm: process .*foot' "$T/s2.ps" > "$T/ps2.txt" || die "no foot process in the report"
if grep -v ' uid 1000 1000 ' "$T/ps2.txt"; then die "the stand-in does not run as uid 1000"; fi
ok "the stand-in runs as uid 1000"
bvm_monitor s2 "screendump $T/s2.ppm"
res=$(bvm_screen_check "$T/s2.ppm" $BVM_STANDIN_RGB) || { echo "$res" >&2; die "the stand-in does not fill the screen"; }
case "$res" in "1280x800 "*) ;; *) die "the screendump is not start.sh's default size 1280x800: $res";; esac
ok "screendump: the stand-in's colour fills the screen ($res)"
try=0 s=""
while [ $try -lt 3 ] && [ -z "$s" ]; do
	try=$((try + 1))
	bvm_monitor s2 "sendkey alt-sysrq-i 500"
	i=0
	while [ $i -lt 200 ] && kill -0 "$VM_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$VM_PID" 2>/dev/null || s=$((i / 10))
done
[ -n "$s" ] || die "the VM was still running 20 s after each of 3 Alt+SysRq+I presses"
wait "$VM_PID" 2>/dev/null || true
ok "Alt+SysRq+I (press $try): the VM powered off after $s s"
echo "boots 2 and 3 took $(( $(date +%s) - T2 )) s"
bvm_console s2 > "$T/s2.txt"
grep -q '^browser-vm: power off: standin ended (status [1-9]' "$T/s2.txt" ||
	{ grep '^browser-vm' "$T/s2.txt" >&2; die "init did not log the stand-in's killing"; }
ok "init logged the killed application and powered off"
