#!/bin/sh
# Interoperability with the tools TPM 1.2 users have: Debian's trousers
# (tcsd) and tpm-quote-tools run in a QEMU guest on SeaBIOS with swtpm in
# TPM 1.2 mode (the guest kernel's tpm_tis gives tcsd its /dev/tpm0).  The
# guest takes ownership (tpm-tools, well-known secrets), makes an AIK with
# tpm_mkaik and quotes PCRs 0-7 with tpm_getquote; on the host
# `measured verify --tpm-quote-tools` verifies that quote with tpm_mkaik's
# public key, and refuses it with another nonce or an edited PCR value.  The
# PCR values tpm_getquote reported are compared with the guest kernel's own
# list.  (The other direction, our quote checked by tpm_verifyquote, is in
# tests/integration/tpm12_attest.sh: it needs no daemon.)  In the same guest,
# with tcsd stopped, `measured` itself runs on /dev/tpm0 without -T (no
# /dev/tpmrm0 on a TPM 1.2; the family from sysfs): pcrread against the
# kernel's list, aik create and quote with the TSS well-known secrets
# tpm_takeownership set, and the quote with SeaBIOS's log verifies on the host.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/boot/lib.sh"
BOOT_TPM=1.2
boot_prereqs
for t in tcsd tpm_takeownership tpm_mkaik tpm_mkuuid tpm_loadkey tpm_getquote swtpm_setup cpio gzip; do
	command -v $t > /dev/null || die "$t is not installed (packages trousers, tpm-tools, tpm-quote-tools)"
done
tss_uid=$(id -u tss) || die "no tss user (package trousers)"
tss_gid=$(id -g tss)

# a TPM 1.2 with an EK and no owner: the guest's tpm_takeownership sets
# the TSS well-known secrets tpm-quote-tools use
mkdir -p "$T/tpmstate"
swtpm_setup --tpmstate "$T/tpmstate" --createek --config /dev/null > "$T/setup.log" 2>&1 ||
	die "swtpm_setup: $(cat "$T/setup.log")"
BOOT_TPM_STATE=$T/tpmstate

# the guest: busybox, tcsd and the tools with their libraries, as an initramfs
R=$T/guest
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/etc" "$R/var/lib/tpm"
cp "$(command -v busybox)" "$R/bin/busybox"
for a in sh mount ip base64 cat echo sleep chmod poweroff sync test ls kill; do ln -sf busybox "$R/bin/$a"; done
tcti=$(ldconfig -p | sed -n 's/.*libtss2-tcti-device.so.0 .*=> \(.*\)/\1/p' | head -n 1)
[ -n "$tcti" ] || die "libtss2-tcti-device.so.0 not found"
mkdir -p "$R/usr/bin"
cp "$MEASURED_BIN" "$R/usr/bin/measured"
for b in tcsd tpm_takeownership tpm_mkaik tpm_mkuuid tpm_loadkey tpm_getquote "$MEASURED_BIN" "$tcti"; do
	p=$(command -v "$b")
	case "$b" in
	"$MEASURED_BIN") ;;
	*) mkdir -p "$R$(dirname "$p")"; cp -L "$p" "$R$p" ;;
	esac
	for lib in $(ldd "$p" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p;s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
done
# glibc loads libgcc_s for pthread_exit (tcsd's threads)
gcc_s=$(ldconfig -p | sed -n 's/.*libgcc_s.so.1 (libc6,x86-64) => \(.*\)/\1/p' | head -n 1)
[ -n "$gcc_s" ] || die "libgcc_s.so.1 not found"
mkdir -p "$R$(dirname "$gcc_s")"
cp -L "$gcc_s" "$R$gcc_s"
cp /etc/tcsd.conf "$R/etc/tcsd.conf"
chown 0:"$tss_gid" "$R/etc/tcsd.conf"
chmod 640 "$R/etc/tcsd.conf"
chown "$tss_uid:$tss_gid" "$R/var/lib/tpm"
chmod 700 "$R/var/lib/tpm"
printf 'root:x:0:0:root:/:/bin/sh\ntss:x:%s:%s:tss:/var/lib/tpm:/bin/false\n' "$tss_uid" "$tss_gid" > "$R/etc/passwd"
printf 'root:x:0:\ntss:x:%s:\n' "$tss_gid" > "$R/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\n' > "$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' > "$R/etc/hosts"
N=8c1f0e6a2b3d4c5e6f708192a3b4c5d6e7f80912
printf '%s' $N | xxd -r -p > "$R/nonce"
printf '%s' $N > "$R/nonce.hex"
cat > "$R/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ip link set lo up
chmod 666 /dev/tpm0
tcsd -f > /tmp/tcsd.log 2>&1 &
tcsd_pid=$!
sleep 2
tpm_takeownership -y -z; echo "TQT-RC takeownership $?"
tpm_mkaik -z /tmp/aik.blob /tmp/aik.der; echo "TQT-RC mkaik $?"
tpm_mkuuid /tmp/aik.uuid; echo "TQT-RC mkuuid $?"
tpm_loadkey /tmp/aik.blob /tmp/aik.uuid; echo "TQT-RC loadkey $?"
tpm_getquote -p /tmp/pcrvals /tmp/aik.uuid /nonce /tmp/quote 0 1 2 3 4 5 6 7; echo "TQT-RC getquote $?"
echo "-----BEGIN PCRS12-----"
cat /sys/class/tpm/tpm0/pcrs
echo "-----END PCRS12-----"
# measured on the device itself (tcsd would hold /dev/tpm0)
kill $tcsd_pid
sleep 1
mount -t securityfs securityfs /sys/kernel/security
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
measured pcrread 0-7 > /tmp/pcrread 2>&1; echo "TQT-RC pcrread $?"
measured aik create -o /tmp/maik --request /tmp/mreq > /dev/null 2>&1; echo "TQT-RC aikcreate $?"
measured quote --aik /tmp/maik --nonce $(cat /nonce.hex) --pcrs 0-7 --ak-public /tmp/maik.pem \
	-e /sys/kernel/security/tpm0/binary_bios_measurements -o /tmp/ev.json 2>&1; echo "TQT-RC mquote $?"
for f in aik.der quote pcrvals pcrread ev.json maik.pem; do
	echo "-----BEGIN $f-----"
	base64 /tmp/$f
	echo "-----END $f-----"
done
cat /tmp/tcsd.log
sync
poweroff -f
INIT
chmod 755 "$R/init"
(cd "$R" && find . | LC_ALL=C sort | cpio --quiet -o -H newc) | gzip -n > "$T/initrd.img" || die "cpio"

boot_disks seabios "$T/g.log" "$T/initrd.img" "" tpm
for step in takeownership mkaik mkuuid loadkey getquote pcrread aikcreate mquote; do
	grep -q "^TQT-RC $step 0" "$T/g.log.txt" || { grep -v "^PCR-\|^[A-Za-z0-9+/=]*$" "$T/g.log.txt" | tail -40; die "guest: $step failed"; }
done
ok "tcsd in the guest: tpm_takeownership, tpm_mkaik, tpm_loadkey, tpm_getquote ran"
for f in aik.der quote pcrvals; do
	between "$T/g.log" "$f" > "$T/$f"
	[ -s "$T/$f" ] || die "no $f from the guest"
done
# tpm_getquote's PCR values against the guest kernel's list
for p in 0 1 2 3 4 5 6 7; do
	assert_eq "tpm_getquote's PCR $p = the guest kernel's" "$(guest_pcr12 "$T/g.log" $p)" \
		"$(sed -n "s/^$p=//p" "$T/pcrvals" | tr 'A-F' 'a-f')"
done
$M verify --tpm-quote-tools -u "$T/aik.der" -s "$T/quote" -f "$T/pcrvals" -q $N --pcrs 0-7 > "$T/v" ||
	die "measured verify refuses tpm_getquote's quote: $(cat "$T/v")"
grep -q "^verified: quote verified" "$T/v" || die "verify: $(cat "$T/v")"
ok "measured verify verifies tpm_getquote's TPM_Quote2 with tpm_mkaik's key"
expect_exit 1 $M verify --tpm-quote-tools -u "$T/aik.der" -s "$T/quote" -f "$T/pcrvals" -q 00$(printf '%s' $N | cut -c3-)
grep -q "^FAILED bad-signature:" "$T/out" || die "another nonce: $(cat "$T/out")"
ok "another nonce: bad-signature (the signed structure is rebuilt from it)"
sed 's/^3=./3=0/' "$T/pcrvals" > "$T/pcrvals.bad"
cmp -s "$T/pcrvals" "$T/pcrvals.bad" && sed -i 's/^3=./3=1/' "$T/pcrvals.bad"
expect_exit 1 $M verify --tpm-quote-tools -u "$T/aik.der" -s "$T/quote" -f "$T/pcrvals.bad" -q $N
grep -q "^FAILED bad-signature:" "$T/out" || die "edited PCR 3: $(cat "$T/out")"
ok "an edited PCR value: bad-signature"

# measured on the guest's /dev/tpm0
between "$T/g.log" pcrread > "$T/pcrread"
between "$T/g.log" ev.json > "$T/ev.json"
between "$T/g.log" maik.pem > "$T/maik.pem"
want=$(for p in 0 1 2 3 4 5 6 7; do echo "sha1 $p $(guest_pcr12 "$T/g.log" $p)"; done)
assert_eq "measured pcrread on the guest's /dev/tpm0 (no -T) = the guest kernel's list" "$want" "$(cat "$T/pcrread")"
$M verify --evidence "$T/ev.json" --ak-pub "$T/maik.pem" --nonce $N --pcrs 0-7 --bank sha1 > "$T/v" ||
	die "measured verify refuses the guest's measured quote: $(cat "$T/v")"
ok "measured aik create + quote on the guest's TPM 1.2 (SeaBIOS log inside) verify on the host"
