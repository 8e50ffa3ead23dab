#!/bin/sh
# 200 launches at once on the state-directory store never share a label;
# release makes labels reusable.  SELinux is disabled on the build host,
# so svirt-interpose warns, reserves, and execs the stand-in (/bin/true).
. "$(dirname "$0")/lib.sh"
S=$T/state
cat > "$T/conf" <<EOC
qemu = /bin/true
store = dir
state-dir = $S
categories = 1-200
EOC
export SVIRT_INTERPOSE_CONFIG="$T/conf"

launch_all() { # launch_all FIRST LAST: concurrently, -xen-domid each
	pids=""
	for d in $(seq "$1" "$2"); do
		"$SVIRT_BIN" -xen-domid "$d" -drive "file=$T/disk$d.img" > "$T/l.$d" 2>&1 & pids="$pids $!"
	done
	for p in $pids; do wait "$p" || die "a launch failed"; done
}
check_distinct() { # check_distinct N
	n=$(ls "$S/dom" | wc -l)
	assert_eq "$1 domains hold a label" "$1" "$n"
	cat "$S"/dom/* | sed -n 's/^range=//p' | sort > "$T/ranges"
	assert_eq "$1 ranges recorded" "$1" "$(wc -l < "$T/ranges")"
	assert_eq "no range shared" "" "$(uniq -d "$T/ranges")"
	assert_eq "one reservation file per range" "$1" "$(ls "$S/cat" | wc -l)"
	for f in "$S"/cat/*; do
		d=$(cat "$f")
		grep -qx "range=s0:${f##*/}" "$S/dom/$d" || die "cat/${f##*/} says domain $d, which disagrees"
	done
	ok "reservation files and domain files agree"
}

launch_all 1 200
check_distinct 200
grep -qx "disk=$T/disk17.img" "$S/dom/17" || die "disk not recorded for release"
ok "disks recorded"

# Every label is taken: the next launch must fail (dry-run reports it).
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 201
assert_eq "201st launch fails" 3 "$rc"
grep -q "all 200 MCS labels" "$T/err" || die "message: $(cat "$T/err")"
# The same domid again (a second QEMU of the VM) shares its label, and
# its disks are added to the record; existing-label=refuse refuses it.
r5=$(sed -n 's/^range=//p' "$S/dom/5")
run_rc rc "$SVIRT_BIN" -xen-domid 5 -drive "file=$T/second5.img"
assert_eq "second QEMU of domain 5 starts" 0 "$rc"
assert_eq "it shares the label" "range=$r5 disk=$T/disk5.img disk=$T/second5.img" "$(tr '\n' ' ' < "$S/dom/5" | sed 's/ $//')"
assert_eq "still one reservation per label" 200 "$(ls "$S/cat" | wc -l)"
cp "$T/conf" "$T/conf.refuse"; echo "existing-label = refuse" >> "$T/conf.refuse"
run_rc rc "$SVIRT_BIN" --config "$T/conf.refuse" --dry-run -xen-domid 5
assert_eq "existing-label=refuse: second launch of domain 5 fails" 3 "$rc"
grep -q "domain 5 already holds a label (existing-label=refuse)" "$T/err" || die "message: $(cat "$T/err")"

# Release one: exactly its label comes back.
r42=$(sed -n 's/^range=//p' "$S/dom/42")
run_rc rc "$SVIRT_BIN" release 42
assert_eq "release 42" 0 "$rc"
run_rc rc "$SVIRT_BIN" --dry-run -xen-domid 201
assert_eq "after release the freed label is chosen" "range $r42" "$(grep '^range ' "$T/out")"

# Release all (concurrently), then all 200 fit again.
pids=""
for d in $(seq 1 200); do [ $d = 42 ] && continue; "$SVIRT_BIN" release $d > /dev/null 2>&1 & pids="$pids $!"; done
for p in $pids; do wait "$p" || die "a release failed"; done
assert_eq "nothing reserved after release" "0 0" "$(ls "$S/cat" | wc -l) $(ls "$S/dom" | wc -l)"
run_rc rc "$SVIRT_BIN" release 42
assert_eq "releasing twice fails" 3 "$rc"
launch_all 301 500
check_distinct 200

# Pairs: 21 categories give 210 pairs; 200 launches at once.
rm -rf "$S"
sed -i 's/^categories.*/categories = 1-21/' "$T/conf"
echo "pairs = yes" >> "$T/conf"
launch_all 1 200
check_distinct 200
grep -q '^range=s0:c[0-9]*,c[0-9]*$' "$S/dom/1" || die "not a pair: $(cat "$S/dom/1")"
ok "pairs"
