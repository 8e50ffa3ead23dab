#!/bin/sh
# mmdebstrap --customize-hook of build-image.sh: make the unpacked Debian
# tree into the browser VM's root.  Runs on the build host.
# Usage: customize.sh ROOT CONFIGDIR MEASURED_BIN with-standin(yes|no)
set -eu
R=$1 CONF=$2 MEASURED=$3 STANDIN=$4
HERE=$(cd "$(dirname "$0")" && pwd)

# The browser's user: no password, no login shell, its own group, and the
# groups udev gives the display and input devices.
chroot "$R" groupadd --gid 1000 browser
chroot "$R" useradd --uid 1000 --gid browser --groups video,input,render \
	--home-dir /home/browser --create-home --shell /usr/sbin/nologin browser
chroot "$R" passwd --lock browser >/dev/null
chroot "$R" passwd --lock root >/dev/null

install -m 0755 "$HERE/init" "$R/sbin/init"
install -d -m 0755 "$R/etc/browser-vm" "$R/usr/lib/browser-vm" "$R/var/lib/browser-vm"
install -m 0644 "$CONF/start-page" "$CONF/apps" "$R/etc/browser-vm/"
[ -f "$CONF/ca.pem" ] && install -m 0644 "$CONF/ca.pem" "$R/etc/browser-vm/ca.pem"
install -m 0755 "$MEASURED" "$R/usr/bin/measured"
if [ "$STANDIN" = yes ]; then
	# a terminal of one colour copying what is typed to a file in home: Ctrl+D closes it
	echo "standin /usr/bin/foot --override=csd.preferred=none --override=colors.background=1f6f4f tee /home/browser/typed.txt" >> "$R/etc/browser-vm/apps"
fi

# The record of what is in the image, then no package manager at run time:
# dpkg (Essential) is unpacked, but its programs and database go.
chroot "$R" dpkg-query -W -f '${Package} ${Version}\n' | LC_ALL=C sort > "$R/var/lib/browser-vm/packages.txt"
rm -rf "$R/var/lib/dpkg" "$R/var/lib/apt" "$R/var/cache/apt" "$R/var/cache/debconf" "$R/var/log"/*
rm -f "$R"/usr/bin/dpkg* "$R"/usr/sbin/dpkg* "$R"/usr/bin/apt* "$R"/usr/bin/debconf*
# No console logins and no way to change user: no getty, login, su, nor
# any setuid or setgid program (Chromium's sandbox uses user namespaces;
# Debian's setuid chrome-sandbox, package chromium-sandbox, is not installed).
rm -f "$R/sbin/agetty" "$R/usr/sbin/agetty" "$R/usr/sbin/getty" "$R/bin/login" "$R/usr/bin/login" \
	"$R/bin/su" "$R/usr/bin/su" "$R/usr/bin/sulogin" "$R/usr/sbin/sulogin" "$R/sbin/sulogin"
find "$R" -xdev -type f -perm /6000 -exec chmod ug-s {} +
# Fixed machine identity and no caches that differ between builds.
: > "$R/etc/machine-id"
rm -f "$R/var/cache/ldconfig/aux-cache" "$R/etc/ld.so.cache~"
find "$R/var/cache/fontconfig" -type f -delete 2>/dev/null || true
