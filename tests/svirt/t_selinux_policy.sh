#!/bin/sh
# The shipped policy module (svirt/policy/), enforcing, in an SELinux guest:
# Debian's kernel under QEMU (TCG), Debian's policy plus svirt_interpose.pp
# plus svirt_policy_test.cil (the initramfs's console and the transitions
# from its init into the toolstacks only).  Two hosts in one boot:
#
#   xen: the toolstack runs as xm_t (Xen's xl), labels live in XenStore
#        (xs_stub, as xenstored_t), disks come from the vbd entries;
#   kvm: a libvirt-free QEMU/KVM host starting VMs from service units
#        (init_t), labels in the state directory, disks from -drive, the
#        domain id from svirt-interpose's --domid.
#
# In each: two VMs' QEMU stand-ins started through svirt-interpose open
# their own disk and are denied the other's; the toolstack cannot execute
# QEMU, nor enter svirt_t with setexeccon; svirt-interpose cannot relabel
# a file that is not a VM disk.  The kernel's AVC denials are checked one
# by one against that list.  Labels are read with the raw getxattr call.
. "$(dirname "$0")/lib.sh"
: "${SVIRT_STATIC:?}" "${SVIRT_PROBE:?}" "${SVIRT_XS_STUB:?}" "${SVIRT_POLICY_PP:?}"
. "$SRC/tests/lib/kernel.sh"
[ -n "${SVIRT_KEEP:-}" ] && trap - EXIT
POLICY=/etc/selinux/default/policy/policy.33
VDC=/etc/selinux/default/contexts/virtual_domain_context
[ -f "$POLICY" ] && [ -f "$VDC" ] || die "selinux-policy-default is not installed ($POLICY)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86 missing"
command -v semodule >/dev/null || die "semodule-utils missing"
kernel_fetch || die "no kernel"

# Debian's policy + the module + the test additions, built with semodule
# into a copy of the policy store; cached by the sources (~16 s to build).
P=$SRC/svirt/policy
key=$(cat "$P/svirt_interpose.te" "$P/svirt_interpose.if" "$P/svirt_interpose.fc" \
	"$SRC/tests/svirt/svirt_policy_test.cil" "$POLICY" | sha256sum | cut -c1-16)
PCACHE=$MEASURED_CACHE/svirt-shipped-policy-$key
if [ ! -f "$PCACHE/policy.33" ]; then
	A=$T/alt
	mkdir -p "$A/var/lib/selinux" "$A/etc/selinux"
	cp -a /var/lib/selinux/default "$A/var/lib/selinux/"
	cp -a /etc/selinux/default "$A/etc/selinux/"
	semodule -p "$A" -s default -i "$SVIRT_POLICY_PP" "$SRC/tests/svirt/svirt_policy_test.cil" \
		2> "$T/semodule.err" || { cat "$T/semodule.err"; die "semodule failed"; }
	mkdir -p "$PCACHE.tmp.$$"
	cp "$A/etc/selinux/default/policy/policy.33" "$PCACHE.tmp.$$/"
	mv -T "$PCACHE.tmp.$$" "$PCACHE" 2>/dev/null || rm -rf "$PCACHE.tmp.$$"
fi

R=$T/root
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/vm" "$R/run" \
	"$R/etc/selinux/default/contexts"
cp /bin/busybox "$R/bin/busybox"
cp "$SVIRT_STATIC" "$R/bin/svirt-interpose"
cp "$SVIRT_PROBE" "$R/bin/guest_probe"
cp "$SVIRT_XS_STUB" "$R/bin/xs_stub"
cp "$PCACHE/policy.33" "$R/policy.33"
cp "$VDC" "$R/etc/selinux/default/contexts/virtual_domain_context"
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' > "$R/etc/selinux/config"
printf 'qemu = /vm/bin/qemu\ncategories = 9-11\n' > "$R/etc/svirt-xen.conf"
printf 'qemu = /vm/bin/qemu\nstore = dir\nstate-dir = /run/svirt-interpose\n' > "$R/etc/svirt-kvm.conf"
# XenStore as the toolstack left it: domains 1-3 with one writable vbd
# each (domain 3's points at a copy of /etc/shadow), and domain 9 started
# by the original interposer, holding category 9.
{
	echo "/local/domain/0/name Domain-0"
	for d in 1 2 3; do
		img=/vm/images/x$d.img; [ $d = 3 ] && img=/vm/etc/shadow
		echo "/local/domain/$d/name vm$d"
		echo "/local/domain/$d/device/vbd/768/backend /local/domain/0/backend/vbd/$d/768"
		echo "/local/domain/0/backend/vbd/$d/768/mode w"
		echo "/local/domain/0/backend/vbd/$d/768/params aio:$img"
	done
	echo "/local/domain/9/name vm9"
	echo "/local/domain/9/selinux-mcs 9"
} > "$R/etc/xs.preload"
cat > "$R/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
echo
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
# Without auditd the kernel prints AVC records through printk_ratelimit
# (10 per 5 s): lift it, every denial is counted.
echo 0 > /proc/sys/kernel/printk_ratelimit
mount -t selinuxfs selinuxfs /sys/fs/selinux || echo "MARK no-selinuxfs"
# one write() of the whole policy: the kernel refuses a partial image
dd if=/policy.33 of=/sys/fs/selinux/load bs=8M 2>/dev/null && echo "MARK policy-loaded"
mount -t devtmpfs dev /dev 2>/dev/null
sc() { guest_probe setcon "$1" "system_u:object_r:$2:s0"; }
# The host's file labels, as the policy's file contexts would set them.
sc / root_t; sc /etc etc_t; sc /etc/svirt-xen.conf etc_t; sc /etc/svirt-kvm.conf etc_t
sc /etc/xs.preload etc_t
sc /etc/selinux selinux_config_t; sc /etc/selinux/config selinux_config_t
sc /etc/selinux/default selinux_config_t; sc /etc/selinux/default/contexts default_context_t
sc /etc/selinux/default/contexts/virtual_domain_context default_context_t
mount -t tmpfs tmpfs /run
sc /run var_run_t; mkdir /run/xenstored; sc /run/xenstored xenstored_runtime_t
export XENSTORED_PATH=/run/xenstored/socket
mount -t tmpfs tmpfs /vm
mkdir /vm/bin /vm/images /vm/etc
sc /vm var_lib_t; sc /vm/bin bin_t; sc /vm/images virt_image_t; sc /vm/etc etc_t
cp /bin/svirt-interpose /vm/bin/svirt-interpose; sc /vm/bin/svirt-interpose svirt_interpose_exec_t
cp /bin/guest_probe /vm/bin/qemu; sc /vm/bin/qemu svirt_interpose_qemu_exec_t
cp /bin/guest_probe /vm/bin/xl; sc /vm/bin/xl xm_exec_t
cp /bin/guest_probe /vm/bin/vmctl; sc /vm/bin/vmctl init_exec_t
cp /bin/xs_stub /vm/bin/xenstored; sc /vm/bin/xenstored xenstored_exec_t
for i in x1 x2 k1 k2; do echo $i > /vm/images/$i.img; sc /vm/images/$i.img svirt_image_t; done
echo 'root:*:19000:0:99999:7:::' > /vm/etc/shadow; sc /vm/etc/shadow shadow_t
echo 1 > /sys/fs/selinux/enforce
echo "MARK enforce $(cat /sys/fs/selinux/enforce)"
dmesg -c > /dev/null

guest_probe runas system_u:system_r:xenstored_t:s0 /vm/bin/xenstored $XENSTORED_PATH /etc/xs.preload < /etc/xs.preload &
i=0; while [ ! -S $XENSTORED_PATH ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.05; done
X=system_u:system_r:xm_t:s0-s0:c0.c1023
K=system_u:system_r:init_t:s0-s0:c0.c1023
step() { echo "MARK step $1"; }
xl() { guest_probe runas $X /vm/bin/xl toolstack "$@"; }
vmctl() { guest_probe runas $K /vm/bin/vmctl toolstack "$@"; }
getcon() { guest_probe getcon /vm/images/x1.img /vm/images/x2.img /vm/images/k1.img /vm/images/k2.img /vm/etc/shadow; }

step xen-notadisk;  xl /vm/bin/svirt-interpose --config /etc/svirt-xen.conf -xen-domid 3
step xen-vm1;       PROBE_OPEN=/vm/images/x1.img xl /vm/bin/svirt-interpose --config /etc/svirt-xen.conf -xen-domid 1
step xen-vm2;       PROBE_OPEN=/vm/images/x2.img:/vm/images/x1.img xl /vm/bin/svirt-interpose --config /etc/svirt-xen.conf -xen-domid 2
step xen-vm1-again; PROBE_OPEN=/vm/images/x1.img:/vm/images/x2.img xl /vm/bin/svirt-interpose --config /etc/svirt-xen.conf -xen-domid 1
step xen-direct;    xl /vm/bin/qemu -xen-domid 1
step xen-execcon;   xl execcon system_u:system_r:svirt_t:s0:c10 /vm/bin/qemu -xen-domid 1
step xen-labels;    getcon
step kvm-notadisk;  vmctl /vm/bin/svirt-interpose --config /etc/svirt-kvm.conf --domid 3 -- -drive file=/vm/etc/shadow
step kvm-vm1;       PROBE_OPEN=/vm/images/k1.img vmctl /vm/bin/svirt-interpose --config /etc/svirt-kvm.conf --domid 1 -- -drive file=/vm/images/k1.img
step kvm-vm2;       PROBE_OPEN=/vm/images/k2.img:/vm/images/k1.img vmctl /vm/bin/svirt-interpose --config /etc/svirt-kvm.conf --domid 2 -- -drive file=/vm/images/k2.img
step kvm-vm1-again; PROBE_OPEN=/vm/images/k1.img:/vm/images/k2.img vmctl /vm/bin/svirt-interpose --config /etc/svirt-kvm.conf --domid 1 -- -drive file=/vm/images/k1.img
step kvm-direct;    vmctl /vm/bin/qemu -xen-domid 1
step kvm-execcon;   vmctl execcon system_u:system_r:svirt_t:s0:c10 /vm/bin/qemu -xen-domid 1
step kvm-labels;    getcon
step kvm-state;     echo "DOM1 $(cat /run/svirt-interpose/dom/1 | tr '\n' ' ')"
step end
echo 0 > /sys/fs/selinux/enforce
dmesg | grep 'avc:  denied' | sed 's/^/AVC /'
echo "MARK done"
poweroff -f
EOI
chmod +x "$R/init"
( cd "$R" && find . | cpio -o -H newc --quiet ) > "$T/initrd"

start=$(date +%s)
timeout 180 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
	-kernel "$KERNEL_IMAGE" -initrd "$T/initrd" \
	-append "security=selinux selinux=1 console=ttyS0 quiet panic=-1" \
	< /dev/null > "$T/console" 2>&1 || true
tr -d '\r' < "$T/console" > "$T/c"
echo "boot took $(( $(date +%s) - start )) s"
grep -q "MARK done" "$T/c" || { cat "$T/c"; die "guest did not finish"; }
[ -n "${SVIRT_KEEP:-}" ] && cp "$T/c" /tmp/svirt-policy-console.txt
# blk STEP: the lines a step printed (up to the next MARK)
blk() { sed -n "/^MARK step $1\$/,/^MARK /{/^MARK /d;p}" "$T/c"; }
# con STEP FILE: the label of FILE in a getcon step
con() { blk "$1" | sed -n "s,^CON $2 ,,p"; }

assert_eq "policy loaded" "MARK policy-loaded" "$(grep '^MARK policy-loaded' "$T/c")"
assert_eq "enforcing" "MARK enforce 1" "$(grep '^MARK enforce' "$T/c")"
base=$(cat "$VDC"); base=${base%:s0}
IMG=system_u:object_r:svirt_image_t

for h in xen kvm; do
	case $h in xen) ts=xm_t d=x;; kvm) ts=init_t d=k;; esac
	assert_eq "$h: the toolstack runs as $ts" "system_u:system_r:$ts:s0-s0:c0.c1023" \
		"$(blk $h-vm1 | sed -n 's/^TS-CONTEXT //p')"
	assert_eq "$h: VM 1 started" "TS-RC 0" "$(blk $h-vm1 | grep '^TS-RC')"
	r1=$(blk $h-vm1 | sed -n "s/^QEMU-CONTEXT $base:\(s0:c[0-9]*\)\$/\1/p")
	[ -n "$r1" ] || die "$h: VM 1's QEMU is not $base:s0:cN: $(blk $h-vm1)"
	ok "$h: VM 1's QEMU runs as $base:$r1"
	assert_eq "$h: VM 1 opens its disk" "OPEN /vm/images/${d}1.img ok" "$(blk $h-vm1 | grep '^OPEN')"
	r2=$(blk $h-vm2 | sed -n "s/^QEMU-CONTEXT $base:\(s0:c[0-9]*\)\$/\1/p")
	[ -n "$r2" ] && [ "$r2" != "$r1" ] || die "$h: VM 2's QEMU: '$r2' (VM 1 has $r1)"
	ok "$h: VM 2's QEMU runs as $base:$r2"
	assert_eq "$h: VM 2 opens its disk, is denied VM 1's" \
		"OPEN /vm/images/${d}2.img ok|OPEN /vm/images/${d}1.img Permission denied" \
		"$(blk $h-vm2 | grep '^OPEN' | paste -sd'|')"
	assert_eq "$h: a second QEMU of VM 1 shares its label" "QEMU-CONTEXT $base:$r1" \
		"$(blk $h-vm1-again | grep '^QEMU-CONTEXT')"
	assert_eq "$h: VM 1 opens its disk, is denied VM 2's" \
		"OPEN /vm/images/${d}1.img ok|OPEN /vm/images/${d}2.img Permission denied" \
		"$(blk $h-vm1-again | grep '^OPEN' | paste -sd'|')"
	assert_eq "$h: disk of VM 1 labelled" "$IMG:$r1" "$(con $h-labels /vm/images/${d}1.img)"
	assert_eq "$h: disk of VM 2 labelled" "$IMG:$r2" "$(con $h-labels /vm/images/${d}2.img)"
	case $h in
	xen)
		assert_eq "xen: xm_t cannot execute QEMU" "TS-ERR exec Permission denied" \
			"$(blk xen-direct | grep '^TS-ERR')"
		assert_eq "xen: nor set svirt_t as its exec context" "TS-ERR setexec Permission denied" \
			"$(blk xen-execcon | grep '^TS-ERR')";;
	kvm)
		# init_t is unconfined for files in Debian's policy: it can run
		# the binary, but only in its own domain, never as svirt_t.
		assert_eq "kvm: QEMU run by init_t itself stays init_t" \
			"QEMU-CONTEXT system_u:system_r:init_t:s0-s0:c0.c1023" \
			"$(blk kvm-direct | grep '^QEMU-CONTEXT')"
		assert_eq "kvm: init_t cannot enter svirt_t" "TS-ERR exec Permission denied" \
			"$(blk kvm-execcon | grep '^TS-ERR')";;
	esac
	assert_eq "$h: svirt-interpose refuses to start a VM whose disk is not a VM image" "TS-RC 3" \
		"$(blk $h-notadisk | grep '^TS-RC')"
	grep -q "/vm/etc/shadow.*cannot set label system_u:object_r:shadow_t:s0:c[0-9]*: Permission denied" "$T/c" ||
		die "$h: no relabel failure message"
	assert_eq "$h: ... and no QEMU ran" "" "$(blk $h-notadisk | grep '^QEMU')"
	assert_eq "$h: shadow keeps its label" "system_u:object_r:shadow_t:s0" "$(con $h-labels /vm/etc/shadow)"
done
# Xen: the original's category 9 was avoided, the values are bare numbers.
xr=$(blk xen-vm1 | sed -n 's/^QEMU-CONTEXT .*:s0:c//p')$(blk xen-vm2 | sed -n 's/^QEMU-CONTEXT .*:s0:c//p')
case "$xr" in 1011|1110) ok "xen: categories 10 and 11 (9-11 configured), not domain 9's 9";; *) die "xen: '$xr'";; esac
xr1=$(blk xen-vm1 | sed -n 's/^QEMU-CONTEXT .*:s0:c//p')
assert_eq "xen: XenStore holds the bare number" "XS-WRITE /local/domain/1/selinux-mcs $xr1" \
	"$(grep '^XS-WRITE /local/domain/1/' "$T/c")"
assert_eq "xen: the failed launch returned its label" "XS-RM /local/domain/3/selinux-mcs" "$(grep '^XS-RM' "$T/c")"

# The denials, exactly: per host, VM 2 -> VM 1's disk, VM 1 -> VM 2's
# disk (MCS), the toolstack's exec of QEMU, its transition to svirt_t,
# svirt-interpose's relabel of shadow.
grep '^AVC ' "$T/c" | sed 's/^AVC //' > "$T/avc"
echo "AVC denials:"; sed 's/^/  /' "$T/avc"
avc() { # avc DESCRIPTION PATTERN COUNT
	assert_eq "AVC: $1" "$3" "$(grep -c -- "$2" "$T/avc")"
}
for h in xen kvm; do
	d=${h%"${h#?}"}
	avc "$h: MCS keeps VMs apart" "denied  { read write } .*name=\"${d}[12].img\".*scontext=$base:s0:c[0-9]* tcontext=$IMG:s0:c[0-9]* tclass=file permissive=0" 2
done
avc "xm_t may not execute QEMU" "denied  { execute } .*name=\"qemu\".*scontext=system_u:system_r:xm_t:s0-s0:c0.c1023 tcontext=system_u:object_r:svirt_interpose_qemu_exec_t:s0 tclass=file permissive=0" 1
avc "xm_t may not set an exec context" "denied  { setexec } .*scontext=system_u:system_r:xm_t:s0-s0:c0.c1023 tcontext=system_u:system_r:xm_t:s0-s0:c0.c1023 tclass=process permissive=0" 1
avc "init_t may not enter svirt_t" "denied  { transition } .*scontext=system_u:system_r:init_t:s0-s0:c0.c1023 tcontext=system_u:system_r:svirt_t:s0:c10 tclass=process permissive=0" 1
avc "svirt-interpose may not relabel shadow (xen, kvm)" "denied  { relabelfrom } .*name=\"shadow\".*scontext=system_u:system_r:svirt_interpose_t:s0-s0:c0.c1023 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0" 2
assert_eq "no other denial" 9 "$(wc -l < "$T/avc")"
