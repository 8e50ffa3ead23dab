#!/bin/sh
# Install the Debian 12 packages measured needs to build, test and run its
# demo.  Idempotent and quiet when everything is there: both README
# commands call it first.
set -eu

PKGS="make gcc clang libc6-dev pkg-config
 libssl-dev libtss2-dev libjson-c-dev libcmocka-dev
 libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
 libselinux1-dev libxen-dev
 swtpm swtpm-tools tpm2-tools openssl
 qemu-system-x86 ovmf busybox-static cpio zstd kmod e2fsprogs squashfs-tools
 tboot xxd python3 procps curl
 sbsigntool pesign osslsigncode zlib1g-dev
 trousers tpm-tools libtspi1
 selinux-policy-default semodule-utils xenstore-utils
 python3-cryptography libgnutls28-dev sqlite3 postgresql-15
 dpkg-dev debhelper fakeroot lintian systemd
 mmdebstrap"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "measured: installing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "measured: run as root (or install these packages) first" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
