#!/bin/sh
# A host that ran the original svirt-interpose swaps ours in: its XenStore
# holds the original's values (a bare category number in
# /local/domain/N/selinux-mcs), and both interposers may start VMs in one
# store while the hosts are switched over.
#
# orig_launch below follows the original's XenStore protocol as its source
# defines it (independent of our code): read every
# /local/domain/*/selinux-mcs, take it as a decimal number and stop with an
# error if it is not in 1..1023 ("inconsistent"); draw a category until it
# is unused; write it back as a bare number.  Its range is narrowed to
# LO..HI here so that collisions are certain (the original draws 1..1023).
. "$(dirname "$0")/lib.sh"
command -v xenstore-read >/dev/null || die "xenstore-utils missing"

python3 "$SRC/tests/svirt/xs_server.py" "$T/xs.sock" > "$T/xs.log" 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S "$T/xs.sock" ]; do i=$((i+1)); [ $i -lt 100 ] || die "server did not start"; sleep 0.05; done
export XENSTORED_PATH="$T/xs.sock"

orig_launch() { # orig_launch DOMID LO HI: 0 and the category, or 1 and why
	used=""
	for d in $(xenstore-list /local/domain); do
		v=$(xenstore-read "/local/domain/$d/selinux-mcs" 2>/dev/null) || continue
		case "$v" in ''|*[!0-9]*) echo "inconsistent value '$v' at domain $d"; return 1;; esac
		[ "$v" -ge 1 ] && [ "$v" -le 1023 ] || { echo "inconsistent value $v at domain $d"; return 1; }
		used="$used $v "
	done
	for c in $(shuf -i "$2-$3"); do
		case "$used" in *" $c "*) continue;; esac
		xenstore-write "/local/domain/$1/selinux-mcs" "$c"
		echo "$c"; return 0
	done
	echo "no free category"; return 1
}

make_fake_qemu "$T/qemu"
cat > "$T/conf" <<EOC
qemu = $T/qemu
categories = 1-6
EOC
export SVIRT_INTERPOSE_CONFIG="$T/conf"
for d in 1 2 3 4 5 6 7 8 20 21; do xenstore-write /local/domain/$d/name "vm$d"; done

# The store as the original left it: domains 1 and 2 hold 3 and 5.
xenstore-write /local/domain/1/selinux-mcs 3
xenstore-write /local/domain/2/selinux-mcs 5

# Ours reads the numbers and avoids them; both take turns filling 1-6.
run_rc rc "$SVIRT_BIN" -xen-domid 3
assert_eq "ours starts domain 3 beside the original's values" 0 "$rc"
c3=$(xenstore-read /local/domain/3/selinux-mcs)
case "$c3" in 1|2|4|6) ok "domain 3 got $c3, not 3 or 5";; *) die "domain 3 got '$c3'";; esac
out=$(orig_launch 4 1 6) || die "the original fails after ours wrote: $out"
ok "the original reads our value and starts domain 4 with $out"
run_rc rc "$SVIRT_BIN" -xen-domid 5
assert_eq "ours starts domain 5" 0 "$rc"
out=$(orig_launch 6 1 6) || die "the original fails: $out"
ok "the original starts domain 6 with $out"
for d in 1 2 3 4 5 6; do xenstore-read /local/domain/$d/selinux-mcs; done | sort > "$T/all"
assert_eq "six domains, six different categories 1-6" "1 2 3 4 5 6" "$(tr '\n' ' ' < "$T/all" | sed 's/ $//')"
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 7
assert_eq "the space is full for ours too" 3 "$rc"
grep -q "all 6 MCS labels" "$T/err" || die "$(cat "$T/err")"

# Ours releases a domain the original started (the bare number is read).
run_rc rc "$SVIRT_BIN" release 4
assert_eq "release of an original-written label" 0 "$rc"
if xenstore-read /local/domain/4/selinux-mcs 2>/dev/null; then die "still there"; fi
ok "released"

# The range form (mcs-format=range) is what the original cannot read: it
# refuses to start any VM afterwards.  That is why number is the default.
printf 'mcs-format = range\n' >> "$T/conf"
run_rc rc "$SVIRT_BIN" -xen-domid 7
assert_eq "ours with mcs-format=range" 0 "$rc"
v7=$(xenstore-read /local/domain/7/selinux-mcs)
case "$v7" in s0:c[0-9]*) ok "domain 7 has $v7";; *) die "domain 7: '$v7'";; esac
if out=$(orig_launch 8 1 1023); then die "the original accepted '$v7'"; fi
assert_eq "the original stops on the range form" "inconsistent value '$v7' at domain 7" "$out"
xenstore-rm /local/domain/7/selinux-mcs
sed -i 's/^mcs-format.*/mcs-format = number/; s/^categories.*/categories = 1-1023/' "$T/conf"

# A label already there for the domain (another QEMU of the same VM): kept,
# not redrawn, and the disks get it.  The original drew a new one.
FE=/local/domain/20/device/vbd; BE=/local/domain/0/backend/vbd/20
xenstore-write $FE/768/backend $BE/768
xenstore-write $BE/768/mode "w!"
xenstore-write $BE/768/params "$T/d20.img"
xenstore-write /local/domain/20/selinux-mcs 40
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 20
assert_eq "dry run with an existing label" 0 "$rc"
assert_eq "existing label reused" "range s0:c40" "$(grep '^range ' "$T/out")"
assert_eq "mode w! is writable, as for the original" "label $T/d20.img s0:c40" "$(grep '^label ' "$T/out")"
run_rc rc "$SVIRT_BIN" -xen-domid 20
assert_eq "second QEMU of domain 20 starts" 0 "$rc"
assert_eq "its value is untouched" 40 "$(xenstore-read /local/domain/20/selinux-mcs)"
grep -q "domain 20 already holds s0:c40" "$T/err" || die "not logged: $(cat "$T/err")"

# Never two VMs with one label: if another domain holds it too, refuse.
# (SELinux is disabled on the build host, where a failed launch only
# warns and starts QEMU, as the original did; a dry run reports failure.)
xenstore-write /local/domain/21/selinux-mcs s0:c40
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 20
assert_eq "a label shared with another domain is refused" 3 "$rc"
grep -q "/local/domain/20/selinux-mcs: 's0:c40' collides with /local/domain/21/selinux-mcs ('s0:c40')" "$T/err" ||
	die "message: $(cat "$T/err")"
ok "collision named"
xenstore-rm /local/domain/21/selinux-mcs

# existing-label=refuse
printf 'existing-label = refuse\n' >> "$T/conf"
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 20
assert_eq "existing-label=refuse" 3 "$rc"
grep -q "/local/domain/20/selinux-mcs: already set to '40' (existing-label=refuse)" "$T/err" ||
	die "message: $(cat "$T/err")"
ok "refusal names the key"

# A value the original would call inconsistent stops ours as well (fail
# closed), naming the key.
xenstore-write /local/domain/21/selinux-mcs 1024
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 8
assert_eq "out-of-range number" 3 "$rc"
grep -q "/local/domain/21/selinux-mcs: bad category number '1024'" "$T/err" || die "message: $(cat "$T/err")"
ok "bad number named"

# The original's argument convention: the domain id first.
xenstore-rm /local/domain/21/selinux-mcs
sed -i '/^existing-label/d' "$T/conf"
run_rc rc "$SVIRT_BIN" 8 -m 512
assert_eq "domain id as the first argument" 0 "$rc"
assert_eq "QEMU gets it unchanged" "args 8 -m 512" "$(sed -n 1p "$T/out")"
xenstore-read /local/domain/8/selinux-mcs > /dev/null || die "domain 8 has no label"
ok "domain 8 labelled"

# OpenXT's copy took the domain id from qemu-dm's -d (its second argument).
xenstore-write /local/domain/22/name vm22
run_rc rc "$SVIRT_BIN" -d 22 -m 512
assert_eq "domain id from -d" 0 "$rc"
xenstore-read /local/domain/22/selinux-mcs > /dev/null || die "domain 22 has no label"
ok "domain 22 labelled"
