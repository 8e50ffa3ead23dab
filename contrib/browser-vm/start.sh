#!/bin/sh
# Start the browser VM built by build-image.sh: one QEMU through
# svirt-interpose (its own MCS label), with a software TPM, a display, a
# user-mode network and nothing shared with the host.  Returns when the VM
# has powered off (TERM or INT stops it).  See docs/browser-vm.md.
#
# Usage: start.sh [options] IMAGEDIR
#   --display SPEC      QEMU -display (default gtk: qemu-system-gui; vnc=HOST:N, none)
#   --size WxH          screen size (default 1280x800)
#   --tpm-state DIR     the VM's TPM state (default $XDG_STATE_HOME/browser-vm/tpm)
#   --app NAME          browser.app=NAME (one of the image's allowed applications)
#   --attest URL        attest to the verifier at URL before the browser starts
#   --machine NAME      the name to attest as (default browser-vm)
#   --accel kvm|tcg     (default kvm if /dev/kvm is usable, else tcg)
#   --svirt PATH        svirt-interpose (default: found in PATH, else build/)
#   --svirt-state DIR   its label store (default /run/svirt-interpose)
#   --console FILE      the VM's serial console (default: standard output)
#   --monitor SOCKET    a QEMU human monitor on a unix socket (tests, screendump)
#   --restrict          the network reaches only --guestfwd targets
#   --guestfwd RULE     a QEMU guestfwd rule (repeatable); a cmd: rule turns
#                       QEMU's seccomp sandbox off (it kills the relay)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DISPLAY_SPEC=gtk SIZE=1280x800 APP="" ATTEST="" MACHINE="" ACCEL="" SVIRT="" CONSOLE=stdio MONITOR=""
TPMSTATE=${XDG_STATE_HOME:-${HOME:-/root}/.local/state}/browser-vm/tpm
SVSTATE=/run/svirt-interpose RESTRICT=off FWD=""
case "${1:-}" in -h|--help) sed -n '7,21s/^# \{0,1\}//p' "$0"; exit 0;; esac
while [ $# -gt 1 ]; do
	case "$1" in
	--display) DISPLAY_SPEC=$2; shift 2;;
	--size) SIZE=$2; shift 2;;
	--tpm-state) TPMSTATE=$2; shift 2;;
	--app) APP=$2; shift 2;;
	--attest) ATTEST=$2; shift 2;;
	--machine) MACHINE=$2; shift 2;;
	--accel) ACCEL=$2; shift 2;;
	--svirt) SVIRT=$2; shift 2;;
	--svirt-state) SVSTATE=$2; shift 2;;
	--console) CONSOLE=file:$2; shift 2;;
	--monitor) MONITOR=$2; shift 2;;
	--restrict) RESTRICT=on; shift;;
	--guestfwd) FWD="$FWD,guestfwd=$2"; shift 2;;
	*) echo "start.sh: unknown option $1" >&2; exit 2;;
	esac
done
[ $# -eq 1 ] || { sed -n '7,21s/^# \{0,1\}//p' "$0" >&2; exit 2; }
IMG=$(cd "$1" && pwd)
for f in vmlinuz initrd.img root.squashfs cmdline memory; do
	[ -f "$IMG/$f" ] || { echo "start.sh: $IMG/$f missing (build-image.sh)" >&2; exit 1; }
done
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
QEMU=$(command -v qemu-system-x86_64) || { echo "start.sh: qemu-system-x86_64 not found" >&2; exit 1; }
command -v swtpm >/dev/null || { echo "start.sh: swtpm not found" >&2; exit 1; }
[ -n "$SVIRT" ] || SVIRT=$(command -v svirt-interpose || echo "$HERE/../../build/svirt-interpose")
[ -x "$SVIRT" ] || { echo "start.sh: no svirt-interpose ($SVIRT)" >&2; exit 1; }
# The display backend, before anything starts: QEMU's gtk and sdl are
# modules of Debian's qemu-system-gui, and without it QEMU only says so
# once the VM is being built.  vnc is built in and not listed by help.
backend=${DISPLAY_SPEC%%,*}
backend=${backend%%=*}
have=$("$QEMU" -display help 2>/dev/null | sed '1d' | tr '\n' ' ')
case " $have vnc " in
*" $backend "*) ;;
*)	echo "start.sh: QEMU has no display '$backend' (it has: ${have}vnc)" >&2
	case "$backend" in gtk|sdl)
		echo "start.sh: QEMU's $backend display is in Debian's package qemu-system-gui: apt-get install qemu-system-gui" >&2;;
	esac
	exit 1;;
esac
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	[ -w /dev/kvm ] && ACCEL=kvm
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/browser-vm.XXXXXX")
tpmpid=""
cleanup() {
	[ -n "$tpmpid" ] && kill "$tpmpid" 2>/dev/null
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The TPM: swtpm ends with QEMU (--terminate).
mkdir -p "$TPMSTATE"
swtpm socket --tpm2 --tpmstate dir="$TPMSTATE" --ctrl type=unixio,path="$RUN/tpm" \
	--log file="$RUN/tpm.log" --terminate &
tpmpid=$!
i=0
while [ ! -S "$RUN/tpm" ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "start.sh: swtpm did not start" >&2; exit 1; }
	sleep 0.05
done

cp "$OVMF_VARS" "$RUN/vars.fd"
append=$(cat "$IMG/cmdline")
[ -n "$APP" ] && append="$append browser.app=$APP"
[ -n "$ATTEST" ] && append="$append browser.attest=$ATTEST"
[ -n "$MACHINE" ] && append="$append browser.machine=$MACHINE"
W=${SIZE%x*} H=${SIZE#*x}

# svirt-interpose on a QEMU/KVM host: labels reserved in a state directory,
# the domain id (svirt-interpose --domid; QEMU/KVM has none of its own) the
# lowest one free.  A domain that holds a label is refused, never shared:
# two starts at the same instant may pick the same id, and the second then
# fails before QEMU starts.
mkdir -p "$SVSTATE"
domid=1
while [ -e "$SVSTATE/dom/$domid" ]; do domid=$((domid + 1)); done
cat > "$RUN/svirt.conf" <<CONF
qemu=$QEMU
store=dir
state-dir=$SVSTATE
disks=args
existing-label=refuse
CONF

# Nothing shared with the host: no default devices, no USB, no shared
# folders, no clipboard or guest agent channel; the root image read-only;
# QEMU's seccomp sandbox, except when a guestfwd relay command must be
# spawned (the sandbox kills the relay: the guest's connections then fail).
sandbox="-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
case "$FWD" in *cmd:*) sandbox="";;
esac
set -- -name browser-vm -nodefaults -no-user-config -no-reboot \
	-machine q35 -accel "$ACCEL" -m "$(cat "$IMG/memory")" -smp 2 \
	-drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
	-drive if=pflash,format=raw,file="$RUN/vars.fd" \
	-chardev socket,id=chrtpm,path="$RUN/tpm" -tpmdev emulator,id=tpm0,chardev=chrtpm \
	-device tpm-tis,tpmdev=tpm0 \
	-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" -append "$append" \
	-drive file="$IMG/root.squashfs",if=virtio,format=raw,readonly=on \
	-device virtio-vga,xres="$W",yres="$H",edid=on -display "$DISPLAY_SPEC" \
	-device virtio-keyboard-pci -device virtio-tablet-pci \
	-netdev user,id=n0,restrict=$RESTRICT$FWD -device virtio-net-pci,netdev=n0,romfile= \
	-serial "$CONSOLE"
# shellcheck disable=SC2086
[ -n "$sandbox" ] && set -- "$@" $sandbox
[ -n "$MONITOR" ] && set -- "$@" -monitor unix:"$MONITOR",server=on,wait=off
# QEMU in the background (its standard input kept), so that a TERM or INT
# to this script stops it too; the guest powering off is the usual end.
set +e
"$SVIRT" --config "$RUN/svirt.conf" --domid "$domid" -- "$@" <&0 &
qpid=$!
trap 'kill "$qpid" 2>/dev/null' INT TERM
wait "$qpid"
rc=$?
while kill -0 "$qpid" 2>/dev/null; do
	wait "$qpid"
	rc=$?
done
set -e
# Released only if this start reserved it: the state file then names this
# start's copy of the firmware variables, its one writable disk (a refused
# start must not free another VM's label).
grep -qxF "disk=$RUN/vars.fd" "$SVSTATE/dom/$domid" 2>/dev/null &&
	"$SVIRT" --config "$RUN/svirt.conf" release "$domid" 2>/dev/null || true
exit $rc
