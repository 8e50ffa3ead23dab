#!/bin/sh
# Install the Debian 12 packages measured needs to build, test and run its
# demo.  Idempotent and quiet when everything is there: both README
# commands call it first.
set -eu

PKGS="make gcc clang libc6-dev pkg-config
 libssl-dev libtss2-dev libjson-c-dev libcmocka-dev
 libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
 libselinux1-dev libxen-dev
 swtpm swtpm-tools tpm2-tools openssl tpm-quote-tools
 qemu-system-x86 ovmf busybox-static cpio zstd kmod e2fsprogs squashfs-tools
 cryptsetup-bin
 tboot xxd python3 procps curl xorriso dosfstools mtools fdisk
 grub-common grub-pc-bin grub-efi-amd64-bin
 sbsigntool pesign osslsigncode zlib1g-dev
 trousers tpm-tools libtspi1
 selinux-policy-default semodule-utils xenstore-utils
 selinux-policy-dev iproute2
 python3-cryptography python3-yaml libgnutls28-dev sqlite3 postgresql-15 pgbouncer
 dpkg-dev debhelper fakeroot lintian systemd
 mmdebstrap
 qemu-system-gui
 chromium chromium-driver python3-selenium"
# qemu-system-gui: QEMU's gtk and sdl displays, contrib/browser-vm/start.sh's
# default (--display gtk); chromium, chromium-driver, python3-selenium:
# tests/integration/dashboard_browser.sh drives the dashboard in a browser

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "measured: missing Debian packages:$missing" >&2
	echo "measured: run as root (or install these packages) first" >&2
	exit 1
fi
# The package manager's output goes to a log; the console gets one line
# per step, and the log's tail when a step fails.
LOG=${MEASURED_DEPS_LOG:-/var/log/measured-deps.log}
: > "$LOG" 2>/dev/null || LOG=$(mktemp /tmp/measured-deps.XXXXXX)
step() {	# MESSAGE COMMAND...
	msg=$1; shift
	printf 'measured: %s ... ' "$msg" >&2
	if "$@" >> "$LOG" 2>&1; then
		echo "done" >&2
	else
		echo "failed (log: $LOG)" >&2
		tail -n 25 "$LOG" >&2
		exit 1
	fi
}
export DEBIAN_FRONTEND=noninteractive
n=$(echo $missing | wc -w)
step "updating the package lists" apt-get -o DPkg::Lock::Timeout=900 update
# shellcheck disable=SC2086
step "installing $n Debian package(s)" apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $missing
