#!/bin/sh
# The browser VM's session ends with the power and leaves nothing behind,
# with the light stand-in application (foot, one colour, copying what is
# typed to /home/browser/typed.txt) instead of Chromium: two boots of the
# cached image (contrib/browser-vm/testlib.sh) through start.sh.
# Boot 1: the stand-in runs as uid 1000 and fills the screen (screendump);
# text typed through QEMU's keyboard lands in /home/browser/typed.txt;
# Ctrl+D closes the application and the VM powers off within seconds.
# Boot 2: the file is absent from the home directory; killing the
# application (Alt+SysRq+I: SIGKILL to every process but init) powers the
# VM off within seconds.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
. "$MEASURED_SRCDIR/contrib/browser-vm/testlib.sh"
boot_prereqs
bvm_image
bvm_serve unused

bvm_start s1 standin
bvm_wait "$T/s1.log" 'browser-vm: process ' 300
grep '^browser-vm: process .*foot' "$T/s1.log" | tr -d '\r' > "$T/ps.txt"
[ -s "$T/ps.txt" ] || die "no foot process in the report"
if grep -v ' uid 1000 1000 ' "$T/ps.txt"; then die "the stand-in does not run as uid 1000"; fi
ok "the stand-in runs as uid 1000"
bvm_monitor s1 "screendump $T/s1.ppm"
res=$(bvm_screen_check "$T/s1.ppm" $BVM_STANDIN_RGB) || { echo "$res" >&2; die "the stand-in does not fill the screen"; }
ok "screendump: the stand-in's colour fills the screen ($res)"
for k in h e l l o ret; do bvm_monitor s1 "sendkey $k"; done
sleep 3
bvm_monitor s1 "sendkey ctrl-d"
s=$(bvm_wait_off 30)
ok "Ctrl+D: the VM powered off after $s s"
bvm_console s1 > "$T/s1.txt"
grep -q '^browser-vm: power off: standin ended (status 0)' "$T/s1.txt" ||
	{ grep '^browser-vm' "$T/s1.txt" >&2; die "init did not log the stand-in's normal end"; }
grep -qx 'browser-vm: discarded /home/browser/typed.txt' "$T/s1.txt" ||
	die "boot 1 did not write /home/browser/typed.txt"
ok "boot 1 wrote /home/browser/typed.txt"

bvm_start s2 standin
bvm_wait "$T/s2.log" 'browser-vm: process ' 300
bvm_console s2 > "$T/s2.txt"
home=$(sed -n 's/^browser-vm: home holds: //p' "$T/s2.txt")
case "$home" in *./.profile*) ;; *) die "boot 2 did not list the home directory ($home)";; esac
case "$home" in *typed.txt*) die "typed.txt survived the power-off: $home";; esac
ok "boot 2: /home/browser holds only the image's files ($home)"
bvm_monitor s2 "sendkey alt-sysrq-i"
s=$(bvm_wait_off 30)
ok "Alt+SysRq+I: the VM powered off after $s s"
bvm_console s2 > "$T/s2.txt"
grep -q '^browser-vm: power off: standin ended (status [1-9]' "$T/s2.txt" ||
	{ grep '^browser-vm' "$T/s2.txt" >&2; die "init did not log the stand-in's killing"; }
