#!/bin/sh
# contrib/browser-vm/start.sh without booting: a stand-in QEMU (first on
# PATH) records the command line svirt-interpose executes.
# 1. QEMU without Debian's qemu-system-gui (the stand-in answers
#    `-display help` with what QEMU 7.2 prints then): --display gtk fails
#    before anything starts, naming the displays QEMU has and the package.
# 2. The real QEMU with scripts/deps.sh's packages lists gtk; an unknown
#    display is refused naming the real list.
# 3. --display vnc=... (built into QEMU, not listed by help) starts: QEMU
#    gets the domain id through svirt-interpose's --domid (not in its own
#    arguments), svirt-interpose holds domain 1 while QEMU runs and start.sh
#    releases it after; a second start while domain 1 is held takes 2.
# 4. TERM to start.sh stops its QEMU and releases the domain.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
START=$MEASURED_SRCDIR/contrib/browser-vm/start.sh
SVIRT=$MEASURED_BUILDDIR/svirt-interpose
[ -x "$SVIRT" ] || die "no $SVIRT (make)"
for t in qemu-system-x86_64 swtpm; do command -v $t >/dev/null || die "$t is not installed"; done
REAL_QEMU=$(command -v qemu-system-x86_64)
mkdir -p "$T/img" "$T/bin"
for f in vmlinuz initrd.img root.squashfs cmdline; do : > "$T/img/$f"; done
echo 512M > "$T/img/memory"
cat > "$T/bin/qemu-system-x86_64" <<'X'
#!/bin/sh
if [ "$*" = "-display help" ]; then
	printf 'Available display backend types:\nnone\negl-headless\ncurses\nspice-app\ndbus\n'
	echo "qemu: module ui-ui-gtk not found, do you want to install qemu-system-gui package?" >&2
	exit 0
fi
echo "$@" > "$FAKE_DIR/args.$$"
ls "$FAKE_DIR/svirt/dom" > "$FAKE_DIR/dom.$$"
# hold the domain until told to go
while [ -n "${FAKE_HOLD:-}" ] && [ ! -e "$FAKE_DIR/go" ]; do sleep 0.1; done
exit 0
X
chmod 755 "$T/bin/qemu-system-x86_64"
export FAKE_DIR=$T
run_start() {	# run_start OUT DISPLAY: start.sh with the stand-in QEMU
	out=$1 disp=$2
	set +e
	PATH="$T/bin:$PATH" sh "$START" --display "$disp" --accel tcg --tpm-state "$T/tpm" \
		--svirt "$SVIRT" --svirt-state "$T/svirt" --console "$T/console" "$T/img" > "$T/$out" 2>&1
	rc=$?
	echo "rc $rc" > "$T/$out.rc"
	set -e
}

# 0. --help: the usage, exit 0; no image directory: the usage, exit 2.
sh "$START" --help > "$T/help" || die "start.sh --help failed"
head -n 1 "$T/help" | grep -qx 'Usage: start.sh \[options\] IMAGEDIR' || die "--help: $(head -n 2 "$T/help")"
grep -q '^  --display SPEC ' "$T/help" || die "--help lists no --display"
set +e; sh "$START" --size 800x600 > "$T/usage" 2>&1; rc=$?; set -e
assert_eq "no image directory: exit 2" 2 "$rc"
cmp -s "$T/help" "$T/usage" || die "usage differs from --help: $(cat "$T/usage")"

# 1. No qemu-system-gui.
run_start gtk.out gtk
assert_eq "--display gtk without qemu-system-gui: exit 1" 1 "$rc"
assert_eq "--display gtk without qemu-system-gui: the message" \
"start.sh: QEMU has no display 'gtk' (it has: none egl-headless curses spice-app dbus vnc)
start.sh: QEMU's gtk display is in Debian's package qemu-system-gui: apt-get install qemu-system-gui" \
	"$(cat "$T/gtk.out")"
set -- "$T"/args.*
[ ! -e "$1" ] || die "QEMU was started"
[ ! -e "$T/tpm" ] && [ ! -e "$T/svirt" ] || die "swtpm or svirt-interpose ran before the display check"
ok "nothing started"

# 2. The real QEMU.
"$REAL_QEMU" -display help 2>/dev/null | grep -qx gtk ||
	die "QEMU has no gtk display: scripts/deps.sh installs qemu-system-gui"
ok "QEMU lists the gtk display (qemu-system-gui)"
set +e
sh "$START" --display nosuch --svirt "$SVIRT" "$T/img" > "$T/nosuch.out" 2>&1
rc=$?
set -e
have=$("$REAL_QEMU" -display help 2>/dev/null | sed 1d | tr '\n' ' ')
assert_eq "--display nosuch: exit 1" 1 "$rc"
assert_eq "--display nosuch: the message" "start.sh: QEMU has no display 'nosuch' (it has: ${have}vnc)" \
	"$(cat "$T/nosuch.out")"

# 3. vnc, two starts at once.
FAKE_HOLD=1 run_start vnc1.out vnc=127.0.0.1:99 &
p1=$!
PIDS="$PIDS $p1"
i=0
until ls "$T"/dom.* >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 300 ] && { cat "$T/vnc1.out"; die "the first start's QEMU did not run"; }; sleep 0.1
done
run_start vnc2.out vnc=127.0.0.1:98
assert_eq "second start: exit 0" 0 "$rc"
touch "$T/go"
wait "$p1" || die "the first start failed: $(cat "$T/vnc1.out")"
set -- "$T"/args.*
assert_eq "two QEMUs ran" 2 $#
for f in "$T"/args.*; do
	grep -q -- ' -display vnc=127.0.0.1:9[89] ' "$f" || die "no -display vnc: $(cat "$f")"
	if grep -q -- '-echr\|--domid' "$f"; then die "a domain id in QEMU's arguments: $(cat "$f")"; fi
	grep -q -- '-nodefaults ' "$f" && grep -q -- "file=$T/img/root.squashfs,if=virtio,format=raw,readonly=on " "$f" ||
		die "QEMU's arguments: $(cat "$f")"
done
ok "QEMU's arguments: the vnc display, no domain id, -nodefaults, the root image read-only"
assert_eq "svirt-interpose domains while the QEMUs ran" "1
1 2" "$(for f in "$T"/dom.*; do tr '\n' ' ' < "$f" | sed 's/ $//'; echo; done | LC_ALL=C sort)"
assert_eq "both domains released" "" "$(ls "$T/svirt/dom")"

# 4. TERM to start.sh stops QEMU (it does not wait for a guest power-off)
# and the domain is released.
rm -f "$T/go" "$T"/args.* "$T"/dom.*
FAKE_HOLD=1 run_start term.out vnc=127.0.0.1:97 &
p1=$!
PIDS="$PIDS $p1"
i=0
until ls "$T"/dom.* >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 300 ] && { cat "$T/term.out"; die "QEMU did not run"; }; sleep 0.1
done
qemu=$(basename "$T"/dom.*)
qemu=${qemu#dom.}
spid=$(ps -o pid= --ppid "$p1" | tr -d ' ')	# start.sh, the child of run_start's subshell
[ -n "$spid" ] || die "start.sh not found"
kill -TERM "$spid"
i=0
while kill -0 "$qemu" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && die "QEMU (pid $qemu) still runs 10 s after TERM to start.sh"; sleep 0.1
done
wait "$p1" || true
assert_eq "TERM: start.sh's status" 143 "$(sed -n 's/^rc //p' "$T/term.out.rc")"
assert_eq "TERM: the domain released" "" "$(ls "$T/svirt/dom")"
