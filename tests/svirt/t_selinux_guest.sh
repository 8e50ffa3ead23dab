#!/bin/sh
# SELinux for real: boot Debian's kernel under QEMU (TCG) with SELinux on,
# load Debian's default policy (policy.33 from selinux-policy-default), and
# run the static svirt-interpose there: it labels disk images on a tmpfs
# and execs a stand-in "qemu" (guest_probe) that reports its own context.
# Labels are read back with the raw getxattr call, not svirt's code.
. "$(dirname "$0")/lib.sh"
: "${SVIRT_STATIC:?}" "${SVIRT_PROBE:?}"
. "$SRC/tests/lib/kernel.sh"
[ -n "${SVIRT_KEEP:-}" ] && trap - EXIT
POLICY=/etc/selinux/default/policy/policy.33
VDC=/etc/selinux/default/contexts/virtual_domain_context
[ -f "$POLICY" ] && [ -f "$VDC" ] || die "selinux-policy-default is not installed ($POLICY)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86 missing"
kernel_fetch || die "no kernel"
command -v semodule >/dev/null || die "semodule-utils missing"

# Debian's policy plus svirt_test.cil, built with semodule into a copy of
# the policy store (-p ALTROOT); cached, since a rebuild takes ~9 s.
key=$(cat "$SRC/tests/svirt/svirt_test.cil" "$POLICY" | sha256sum | cut -c1-16)
PCACHE=$MEASURED_CACHE/svirt-policy-$key
if [ ! -f "$PCACHE/policy.33" ]; then
	A=$T/alt
	mkdir -p "$A/var/lib/selinux" "$A/etc/selinux"
	cp -a /var/lib/selinux/default "$A/var/lib/selinux/"
	cp -a /etc/selinux/default "$A/etc/selinux/"
	semodule -p "$A" -s default -i "$SRC/tests/svirt/svirt_test.cil" 2> "$T/semodule.err" ||
		{ cat "$T/semodule.err"; die "semodule failed"; }
	mkdir -p "$PCACHE.tmp.$$"
	cp "$A/etc/selinux/default/policy/policy.33" "$PCACHE.tmp.$$/"
	mv -T "$PCACHE.tmp.$$" "$PCACHE" 2>/dev/null || rm -rf "$PCACHE.tmp.$$"
fi
POLICY=$PCACHE/policy.33

R=$T/root
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/vm" "$R/run" "$R/etc/selinux/default/contexts"
cp /bin/busybox "$R/bin/busybox"
cp "$SVIRT_STATIC" "$R/bin/svirt-interpose"
cp "$SVIRT_PROBE" "$R/bin/guest_probe"
ln -s guest_probe "$R/bin/qemu"
cp "$POLICY" "$R/policy.33"
cp "$VDC" "$R/etc/selinux/default/contexts/virtual_domain_context"
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' > "$R/etc/selinux/config"
cat > "$R/etc/svirt.conf" <<'EOC'
qemu = /bin/qemu
store = dir
state-dir = /run/svirt
categories = 1-1023
EOC
cat > "$R/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
echo
export PATH=/bin SVIRT_INTERPOSE_CONFIG=/etc/svirt.conf
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t selinuxfs selinuxfs /sys/fs/selinux || echo "MARK no-selinuxfs"
# one write() of the whole policy: the kernel refuses a partial image
dd if=/policy.33 of=/sys/fs/selinux/load bs=8M 2>/dev/null && echo "MARK policy-loaded"
echo "MARK enforce $(cat /sys/fs/selinux/enforce)"
mount -t tmpfs tmpfs /vm
echo a > /vm/a.img; echo b > /vm/b.img; echo cd > /vm/cd.iso; echo c > /vm/c.img
guest_probe getcon /vm/a.img /vm/cd.iso | sed 's/^/BEFORE /'
PROBE_OPEN=/vm/a.img svirt-interpose -xen-domid 5 -drive file=/vm/a.img,if=ide \
    -drive file=/vm/cd.iso,media=cdrom -hda /vm/b.img
echo "MARK launch5-rc $?"
echo "MARK dom5 $(cat /run/svirt/dom/5 | tr '\n' ' ')"
guest_probe getcon /vm/a.img /vm/b.img /vm/cd.iso | sed 's/^/AFTER5 /'
svirt-interpose -xen-domid 6 -hda /vm/c.img > /dev/null
echo "MARK launch6-rc $?"
guest_probe getcon /vm/c.img | sed 's/^/AFTER6 /'
svirt-interpose release 5
echo "MARK release5-rc $?"
guest_probe getcon /vm/a.img /vm/b.img | sed 's/^/RELEASED /'
# Enforcing: a process of one VM cannot open another VM's image.
echo 1 > /sys/fs/selinux/enforce
echo "MARK enforcing $(cat /sys/fs/selinux/enforce)"
echo d > /vm/d.img
PROBE_OPEN=/vm/d.img:/vm/c.img svirt-interpose -xen-domid 7 -hda /vm/d.img | sed 's/^/ENF /'
guest_probe getcon /vm/d.img | sed 's/^/ENF /'
# Enforcing, a failure (a missing image) must not start QEMU.
svirt-interpose -xen-domid 8 -hda /vm/missing.img | sed 's/^/FAILCASE /'
echo "MARK fail8 $(test -e /run/svirt/dom/8 && echo reserved || echo not-reserved)"
echo 0 > /sys/fs/selinux/enforce
dmesg | grep 'avc:' | grep -v 'permissive=1' | sed 's/^/AVC /'
echo "MARK done"
poweroff -f
EOI
chmod +x "$R/init"
( cd "$R" && find . | cpio -o -H newc --quiet ) > "$T/initrd"

start=$(date +%s)
timeout 120 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
	-kernel "$KERNEL_IMAGE" -initrd "$T/initrd" \
	-append "security=selinux selinux=1 console=ttyS0 quiet panic=-1" \
	< /dev/null > "$T/console" 2>&1 || true
tr -d '\r' < "$T/console" > "$T/c"
echo "boot took $(( $(date +%s) - start )) s"
grep -q "MARK done" "$T/c" || { cat "$T/c"; die "guest did not finish"; }
g() { sed -n "s/^$1 //p" "$T/c"; }

assert_eq "policy loaded" "policy-loaded" "$(g MARK | grep policy-loaded)"
assert_eq "launch 5 exit" "launch5-rc 0" "$(g MARK | grep launch5-rc)"
range=$(g MARK | sed -n 's/^dom5 range=\(s0:c[0-9]*\) .*/\1/p')
[ -n "$range" ] || die "no range recorded: $(g MARK | grep dom5)"
base=$(cat "$VDC")
assert_eq "QEMU runs in virtual_domain_context + range" "${base%:s0}:$range" "$(g QEMU-CONTEXT)"
assert_eq "QEMU args unchanged" "-xen-domid 5 -drive file=/vm/a.img,if=ide -drive file=/vm/cd.iso,media=cdrom -hda /vm/b.img" "$(g QEMU-ARGS)"
assert_eq "QEMU opens its own disk" "/vm/a.img ok" "$(g OPEN)"
before_a=$(g BEFORE | sed -n 's,^CON /vm/a.img ,,p')
before_cd=$(g BEFORE | sed -n 's,^CON /vm/cd.iso ,,p')
case "$before_a" in *:*:*:s0) ;; *) die "unexpected initial label '$before_a'";; esac
urt=${before_a%:s0}
assert_eq "a.img labelled" "$urt:$range" "$(g AFTER5 | sed -n 's,^CON /vm/a.img ,,p')"
assert_eq "b.img (-hda) labelled" "$urt:$range" "$(g AFTER5 | sed -n 's,^CON /vm/b.img ,,p')"
assert_eq "CD-ROM left alone" "$before_cd" "$(g AFTER5 | sed -n 's,^CON /vm/cd.iso ,,p')"
c6=$(g AFTER6 | sed -n 's,^CON /vm/c.img ,,p')
case "$c6" in "$urt":s0:c*) ;; *) die "c.img label '$c6'";; esac
[ "$c6" != "$urt:$range" ] || die "domain 6 got domain 5's range"
ok "domain 6 got ${c6#$urt:}, not $range"
assert_eq "release exit" "release5-rc 0" "$(g MARK | grep release5-rc)"
assert_eq "released a.img is c0" "$urt:s0:c0" "$(g RELEASED | sed -n 's,^CON /vm/a.img ,,p')"
assert_eq "released b.img is c0" "$urt:s0:c0" "$(g RELEASED | sed -n 's,^CON /vm/b.img ,,p')"

# Enforcing phase
assert_eq "enforcing on" "enforcing 1" "$(g MARK | grep '^enforcing')"
r7=$(g ENF | sed -n 's/^QEMU-CONTEXT .*:\(s0:c[0-9]*\)$/\1/p')
[ -n "$r7" ] || { grep ENF "$T/c"; die "QEMU of domain 7 did not start in enforcing mode"; }
assert_eq "enforcing: d.img carries domain 7's range" "CON /vm/d.img $urt:$r7" "$(g ENF | grep '^CON ')"
assert_eq "enforcing: domain 7 opens its own image" "/vm/d.img ok" "$(g ENF | sed -n 's,^OPEN /vm/d.img,/vm/d.img,p')"
assert_eq "enforcing: domain 7 is denied domain 6's image (${c6#$urt:})" "/vm/c.img Permission denied" "$(g ENF | sed -n 's,^OPEN /vm/c.img,/vm/c.img,p')"
grep -q 'avc:  denied .*name="c.img".*scontext=[^ ]*:'"$r7"' tcontext=[^ ]*:'"${c6#$urt:}"' .*permissive=0' "$T/c" ||
	die "no AVC denial for c.img"
# Nothing else was denied: the test module covers only the stand-in's needs.
assert_eq "only the MCS denial" 1 "$(grep -c '^AVC ' "$T/c")"
ok "the kernel logged the MCS denial"
assert_eq "enforcing: failure starts no QEMU" "" "$(g FAILCASE)"
grep -q '/vm/missing.img.*cannot read SELinux label' "$T/c" || die "failure does not name the file"
assert_eq "enforcing: failed launch rolled back" "fail8 not-reserved" "$(g MARK | grep '^fail8')"
