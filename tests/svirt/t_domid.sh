#!/bin/sh
# --domid N: the domain id for QEMU/KVM, whose arguments have none (the
# original svirt-interpose took it from Xen's device-model command line).
# It overrides domid-arg, QEMU gets its arguments unchanged, release takes
# the same id back, and a -xen-domid that disagrees is refused.  SELinux is
# disabled on the build host: svirt-interpose reserves and execs the
# stand-in QEMU.
. "$(dirname "$0")/lib.sh"
S=$T/state
make_fake_qemu "$T/qemu"
cat > "$T/conf" <<EOC
qemu = $T/qemu
store = dir
state-dir = $S
disks = args
existing-label = refuse
EOC
export SVIRT_INTERPOSE_CONFIG="$T/conf"
: > "$T/vars.fd"

# Dry run: the domain is the option's, QEMU's arguments as given.
run_rc rc "$SVIRT_BIN" --dry-run --domid 7 -- -name vm -echr 3 -drive "file=$T/vars.fd,if=pflash"
assert_eq "dry run exits 0" 0 "$rc"
assert_eq "dry run: domid 7" "domid 7" "$(grep '^domid ' "$T/out")"
assert_eq "dry run: QEMU's arguments unchanged" "exec $T/qemu -name vm -echr 3 -drive file=$T/vars.fd,if=pflash" \
	"$(grep '^exec ' "$T/out")"
[ ! -e "$S/dom/7" ] || die "a dry run reserved domain 7"

# A launch: QEMU runs with exactly its arguments (no --domid), the label
# and the writable disk are recorded under domain 7.
run_rc rc "$SVIRT_BIN" --domid=7 -name vm -drive "file=$T/vars.fd,if=pflash"
assert_eq "launch exits with QEMU's status" 0 "$rc"
assert_eq "QEMU's arguments" "args -name vm -drive file=$T/vars.fd,if=pflash" "$(grep '^args ' "$T/out")"
grep -q '^range=s0:c[0-9]*$' "$S/dom/7" || die "no label for domain 7: $(cat "$S/dom/7" 2>&1)"
grep -qx "disk=$T/vars.fd" "$S/dom/7" || die "the disk is not recorded: $(cat "$S/dom/7")"
ok "domain 7 holds $(sed -n 's/^range=//p' "$S/dom/7") and its disk"

# The option wins over domid-arg (here the first argument, "5").
cp "$T/conf" "$T/conf.pos"
echo "domid-arg = 1" >> "$T/conf.pos"
run_rc rc "$SVIRT_BIN" --config "$T/conf.pos" --dry-run --domid 9 -- 5 -name vm
assert_eq "--domid overrides domid-arg=1" "domid 9" "$(grep '^domid ' "$T/out")"

# A second start with the same id is refused (existing-label=refuse):
# what start.sh relies on when two starts pick the same id.
run_rc rc "$SVIRT_BIN" --dry-run --domid 7 -- -name other
assert_eq "second launch of domain 7 refused" 3 "$rc"
grep -q "domain 7 already holds a label (existing-label=refuse)" "$T/err" || die "message: $(cat "$T/err")"

# Errors: not a domain id (usage, 2); Xen's -xen-domid disagreeing (3);
# --domid with release (usage).
run_rc rc "$SVIRT_BIN" --dry-run --domid 32752 -- -name vm
assert_eq "--domid 32752: usage error" 2 "$rc"
assert_eq "--domid 32752: message" "svirt-interpose: --domid '32752' is not a domain id (0-32751)" "$(cat "$T/err")"
run_rc rc "$SVIRT_BIN" --dry-run --domid 07 -- -name vm
assert_eq "--domid 07: usage error" 2 "$rc"
run_rc rc "$SVIRT_BIN" --dry-run --domid 5 -- -xen-domid 6
assert_eq "--domid 5 with -xen-domid 6 refused" 3 "$rc"
grep -q -- "--domid 5 but QEMU's -xen-domid is 6" "$T/err" || die "message: $(cat "$T/err")"
run_rc rc "$SVIRT_BIN" --dry-run --domid 6 -- -xen-domid 6
assert_eq "--domid 6 with -xen-domid 6" "domid 6" "$(grep '^domid ' "$T/out")"
run_rc rc "$SVIRT_BIN" --domid 7 release 7
assert_eq "release with --domid: usage error" 2 "$rc"

run_rc rc "$SVIRT_BIN" release 7
assert_eq "release 7" 0 "$rc"
[ ! -e "$S/dom/7" ] || die "domain 7 still holds a label"
assert_eq "no label reserved after release" 0 "$(ls "$S/cat" | wc -l)"
