#!/bin/sh
# The browser VM (contrib/browser-vm, docs/browser-vm.md): its image built
# once (cached, contrib/browser-vm/testlib.sh), two boots with
# contrib/browser-vm/start.sh through svirt-interpose with swtpm, a test web
# server on the host's loopback reached by a guestfwd (user networking,
# restrict=on).
# Boot 1, Chromium (kiosk): the PCRs the guest reads equal the manifest
# predicted at build (and PCR 15 equals openssl's hash of the image,
# extended from zero); Chromium fetched the page; every Chromium process
# runs as the browser user (uid 1000), its renderers in user namespaces of
# their own; QEMU's screendump shows the page's colour over the whole
# screen; Ctrl+W (closing the last tab) powers the VM off within seconds,
# and the init names the files Chromium wrote to /home/browser (its profile).
# Boot 2, the light stand-in (foot, one colour): /home/browser holds exactly
# the image's files (unsquashfs lists them), none of boot 1's; the PCRs
# equal the stand-in's manifest; the stand-in runs as uid 1000 and fills the
# screen;
# killing it (Alt+SysRq+I: SIGKILL to every process but init) powers the VM
# off within seconds.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/contrib/browser-vm/testlib.sh"
boot_prereqs
bvm_image
TOKEN=session-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
bvm_serve "$TOKEN"
bvm_start c1 kiosk

bvm_wait "$T/web.log" '^GET /$' 400
ok "Chromium fetched the start page from the test server"
bvm_report c1 ' uid [0-9]+ [0-9]+ \[[0-9]+\] /usr/lib/chromium/chromium --type=renderer' 300
bvm_monitor c1 "screendump $T/c1.ppm"
[ -s "$T/c1.ppm" ] || die "no screendump"
res=$(bvm_screen_check "$T/c1.ppm" $BVM_PAGE_RGB) || { echo "$res" >&2; die "the page does not fill the screen"; }
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
	grep -v '\] /bin/sh /sbin/init $\|\] /lib/systemd/systemd-udevd --daemon $\|\] seatd -g browser -l error $' || true)
[ -z "$root" ] || { echo "$root" >&2; die "unexpected root processes"; }
ok "as root only init, udevd and seatd"
# Chromium's sandbox: renderers in a user namespace other than the browser's
bns=$(grep -v -- '--type=' "$T/ps.txt" |
	sed -n 's|.* uid 1000 1000 \(\[[0-9]*\]\) /usr/lib/chromium/chromium .*|\1|p' | head -n 1)
rns=$(sed -n 's|.* uid 1000 1000 \(\[[0-9]*\]\) /usr/lib/chromium/chromium --type=renderer.*|\1|p' "$T/ps.txt" | head -n 1)
[ -n "$bns" ] && [ -n "$rns" ] || { cat "$T/ps.txt" >&2; die "no browser or renderer process in the report"; }
[ "$bns" != "$rns" ] || die "the renderer shares the browser's user namespace $bns"
ok "Chromium's renderer runs in user namespace $rns, the browser in $bns"

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
bvm_console c1 > "$T/c1.txt"
grep -q '^browser-vm: power off: kiosk ended (status 0)' "$T/c1.txt" ||
	{ grep '^browser-vm' "$T/c1.txt" >&2; die "init did not log the application's end"; }
written=$(sed -n 's/^browser-vm: discarding \([0-9]*\) file(s) written under \/home\/browser$/\1/p' "$T/c1.txt")
[ "${written:-0}" -gt 0 ] || die "boot 1 wrote nothing to /home/browser"
grep -q '^browser-vm: discarded /home/browser/.config/chromium/Default/History$' "$T/c1.txt" ||
	{ grep 'discard' "$T/c1.txt" >&2; die "Chromium's history was not among the files written"; }
ok "boot 1 wrote $written files to /home/browser, Chromium's history among them"

bvm_start s2 standin
bvm_report s2 ' /usr/bin/foot ' 300
bvm_console s2 > "$T/s2.txt"
python3 -c "$PCRCHECK" "$BVM/manifest-standin.json" "$T/s2.txt" || die "boot 2: guest PCRs differ from the manifest"
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
bvm_console s2 > "$T/s2.txt"
grep -q '^browser-vm: power off: standin ended (status [1-9]' "$T/s2.txt" ||
	{ grep '^browser-vm' "$T/s2.txt" >&2; die "init did not log the stand-in's killing"; }
ok "init logged the killed application and powered off"
