#!/bin/sh
# svirt-interpose against XenStore: a wire-protocol test server
# (xs_server.py) with Debian's real libxenstore as client, and the stock
# xenstore-* tools as an independent reader.
. "$(dirname "$0")/lib.sh"
command -v xenstore-read >/dev/null || die "xenstore-utils missing"

python3 "$SRC/tests/svirt/xs_server.py" "$T/xs.sock" > "$T/xs.log" 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S "$T/xs.sock" ]; do i=$((i+1)); [ $i -lt 100 ] || die "server did not start"; sleep 0.05; done
export XENSTORED_PATH="$T/xs.sock"
w() { xenstore-write "$1" "$2"; }

# domain 5: two writable disks (aio:, tap2:tapdisk:aio:), one with a
# loop-device that wins over params, one read-only CD-ROM.
FE=/local/domain/5/device/vbd; BE=/local/domain/0/backend/vbd/5
w /local/domain/5/name vm5
w $FE/51712/backend $BE/51712; w $BE/51712/mode w; w $BE/51712/params "aio:$T/a.img"
w $FE/51728/backend $BE/51728; w $BE/51728/mode r; w $BE/51728/params "$T/cd.iso"
w $FE/51744/backend $BE/51744; w $BE/51744/mode w; w $BE/51744/params "vhd:$T/b.vhd"
w $BE/51744/loop-device "$T/loop0"
w $FE/51760/backend $BE/51760; w $BE/51760/mode w; w $BE/51760/params "tap2:tapdisk:aio:$T/c.img"
# domain 6 already holds c2; domain 8 has no disks; domain 9 a bad disk
w /local/domain/6/selinux-mcs s0:c2
w /local/domain/8/name vm8
w /local/domain/9/device/vbd/768/backend /local/domain/0/backend/vbd/9/768
w /local/domain/0/backend/vbd/9/768/mode w

make_fake_qemu "$T/qemu"
cat > "$T/conf" <<EOC
# test configuration
qemu = $T/qemu
store = xenstore
categories = 1-3
EOC
export SVIRT_INTERPOSE_CONFIG="$T/conf"

run_rc rc "$SVIRT_BIN" --dry-run -machine xenfv -xen-domid 5 -m 512
assert_eq "dry-run exit" 0 "$rc"
range=$(sed -n 's/^range //p' "$T/out")
case "$range" in s0:c1|s0:c3) ok "dry-run range $range avoids c2";; *) die "range '$range'";; esac
grep '^label ' "$T/out" | sort > "$T/labels"
printf 'label %s %s\n' "$T/a.img" "$range" "$T/c.img" "$range" "$T/loop0" "$range" | sort > "$T/want"
assert_eq "dry-run labels writable disks only, type: prefixes stripped, loop-device first" \
	"$(cat "$T/want")" "$(cat "$T/labels")"
grep -q "cd.iso" "$T/out" && die "read-only CD-ROM listed"
assert_eq "dry-run exec line" "exec $T/qemu -machine xenfv -xen-domid 5 -m 512" "$(grep '^exec ' "$T/out")"
if xenstore-read /local/domain/5/selinux-mcs 2>/dev/null; then die "dry-run wrote selinux-mcs"; fi
ok "dry-run wrote nothing"

# A writable disk without params: the error names the key.
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 9
assert_eq "missing params fails" 3 "$rc"
grep -q "/local/domain/0/backend/vbd/9/768/params: missing" "$T/err" || die "key not named: $(cat "$T/err")"
ok "error names the XenStore key"

# For real (SELinux is disabled on this host: warn, store the label, exec).
exec 5> "$T/inherited" 7> "$T/inherited" 9< "$T/conf"
run_rc rc env XEN_DOMAIN_ID=5 XEN_QEMU_CONSOLE_LIMIT=1048576 "$SVIRT_BIN" -machine xenfv -xen-domid 5 -m 512
exec 5>&- 7>&- 9<&-
assert_eq "launch exit (fake qemu's)" 0 "$rc"
assert_eq "qemu got the arguments unchanged" "args -machine xenfv -xen-domid 5 -m 512" "$(sed -n 1p "$T/out")"
assert_eq "environment kept" "env XEN_DOMAIN_ID=5 XEN_QEMU_CONSOLE_LIMIT=1048576" "$(sed -n 2p "$T/out")"
assert_eq "descriptors inherited (as the original did; libxl passes its QMP socket so)" "fds 0 1 2 5 7 9" "$(sed -n 3p "$T/out")"
grep -q "SELinux is disabled" "$T/err" || die "no warning about disabled SELinux"
n5=$(xenstore-read /local/domain/5/selinux-mcs)
# The original's form: the bare category number.
case "$n5" in 1|3) ok "xenstore-read sees the bare number $n5";; *) die "selinux-mcs '$n5'";; esac
xenstore-ls /local/domain/5 | grep -q "^selinux-mcs = \"$n5\"" || die "xenstore-ls disagrees"
ok "xenstore-ls sees selinux-mcs = $n5"
r5=s0:c$n5

# domain 8 (no disks) takes the last free one; then the space is full.
run_rc rc "$SVIRT_BIN" -xen-domid 8
assert_eq "launch without disks" 0 "$rc"
r8=s0:c$(xenstore-read /local/domain/8/selinux-mcs)
[ "$r8" != "$r5" ] && [ "$r8" != s0:c2 ] || die "domain 8 got $r8 (5 has $r5, 6 has s0:c2)"
ok "domain 8 got $r8, distinct"
xenstore-write /local/domain/10/name vm10
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 10
assert_eq "full category space fails" 3 "$rc"
grep -q "all 3 MCS labels" "$T/err" || die "no 'all in use' message: $(cat "$T/err")"

# Release gives the label back.
run_rc rc "$SVIRT_BIN" release 5
assert_eq "release exit" 0 "$rc"
if xenstore-read /local/domain/5/selinux-mcs 2>/dev/null; then die "key still there"; fi
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 10
assert_eq "after release domain 10 fits" "range $r5" "$(grep '^range ' "$T/out")"
run_rc rc "$SVIRT_BIN" release 5
assert_eq "double release fails" 3 "$rc"

# Concurrency through transactions: 20 launches at once, 20 categories.
sed -i 's/^categories.*/categories = 1-20/' "$T/conf"
run_rc rc "$SVIRT_BIN" release 8
assert_eq "release 8" 0 "$rc"
xenstore-rm /local/domain/6/selinux-mcs
for d in $(seq 100 119); do xenstore-write /local/domain/$d/name "vm$d"; done
jobs_=""
for d in $(seq 100 119); do "$SVIRT_BIN" -xen-domid $d > "$T/par.$d" 2>&1 & jobs_="$jobs_ $!"; done
for p in $jobs_; do wait "$p"; done
for d in $(seq 100 119); do
	xenstore-read /local/domain/$d/selinux-mcs >> "$T/labels20" || die "domain $d has no label: $(cat "$T/par.$d")"
done
assert_eq "20 labels" 20 "$(wc -l < "$T/labels20")"
assert_eq "no duplicates" "" "$(sort "$T/labels20" | uniq -d)"
ok "20 concurrent XenStore launches got distinct labels"

# close-fds=yes and environment=clear (the original's empty environment).
printf 'close-fds = yes\nenvironment = clear\ncategories = 1-200\n' >> "$T/conf"
xenstore-write /local/domain/30/name vm30
exec 5> "$T/inherited" 7> "$T/inherited" 9< "$T/conf"
run_rc rc env XEN_DOMAIN_ID=30 "$SVIRT_BIN" -xen-domid 30
exec 5>&- 7>&- 9<&-
assert_eq "close-fds=yes launch" 0 "$rc"
assert_eq "environment=clear" "env XEN_DOMAIN_ID= XEN_QEMU_CONSOLE_LIMIT=" "$(sed -n 2p "$T/out")"
assert_eq "close-fds=yes keeps 0-2 only" "fds 0 1 2" "$(sed -n 3p "$T/out")"

# mcs-format=range writes s0:cN; pairs always use the range form.
printf 'mcs-format = range\n' >> "$T/conf"
xenstore-write /local/domain/31/name vm31
run_rc rc "$SVIRT_BIN" -xen-domid 31
assert_eq "mcs-format=range launch" 0 "$rc"
case "$(xenstore-read /local/domain/31/selinux-mcs)" in s0:c[0-9]*) ok "mcs-format=range writes s0:cN";; *) die "domain 31: $(xenstore-read /local/domain/31/selinux-mcs)";; esac
sed -i 's/^mcs-format.*/mcs-format = number/; s/^categories.*/categories = 201-210/' "$T/conf"
printf 'pairs = yes\n' >> "$T/conf"
xenstore-write /local/domain/32/name vm32
run_rc rc "$SVIRT_BIN" -xen-domid 32
assert_eq "pairs launch" 0 "$rc"
case "$(xenstore-read /local/domain/32/selinux-mcs)" in s0:c2[01][0-9],c2[01][0-9]) ok "a pair is written as a range";; *) die "domain 32: $(xenstore-read /local/domain/32/selinux-mcs)";; esac

# The configured QEMU is svirt-interpose itself (installed over QEMU):
# refused, never an exec loop.
sed -i "s|^qemu.*|qemu = $SVIRT_BIN|" "$T/conf"
xenstore-write /local/domain/33/name vm33
run_rc rc "$SVIRT_BIN" -xen-domid 33
assert_eq "qemu= naming svirt-interpose itself fails" 3 "$rc"
grep -q "is svirt-interpose itself" "$T/err" || die "no self-exec message: $(cat "$T/err")"
ok "self-exec refused"
