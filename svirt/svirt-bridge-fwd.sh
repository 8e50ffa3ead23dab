#!/bin/sh
# SPDX-License-Identifier: MIT
# svirt-bridge-fwd: which IEEE 802.1D reserved group addresses
# (01:80:c2:00:00:00 to :0f) a Linux bridge forwards to its ports, e.g.
# 802.1X EAPOL (:03) for VMs that authenticate to the network themselves.
# It edits the bridge's group_fwd_mask (bit N = address :0N) in sysfs, and
# refuses the addresses the kernel never forwards (bits 0-2: STP, MAC
# PAUSE, slow protocols) with a message instead of the kernel's EINVAL.
# See man/svirt-bridge-fwd.8.  Exit: 0 ok, 2 usage, 3 refused or failed.
set -u
prog=svirt-bridge-fwd
SYSFS=${SVIRT_BRIDGE_SYSFS:-/sys/class/net}

usage() {
	cat <<EOF
usage: $prog [--json] BRIDGE                  show what BRIDGE forwards
       $prog [--json] BRIDGE add ADDRESS...   forward these addresses too
       $prog [--json] BRIDGE del ADDRESS...   stop forwarding them
ADDRESS: 01:80:c2:00:00:0X (X = 3..f; ':' or '-' separated) or a name:
eapol (:03), mvrp (:0d), lldp (:0e).
EOF
}
fail() { echo "$prog: $*" >&2; exit 3; }

json=no
case "${1:-}" in
--help|-h) usage; exit 0;;
--json) json=yes; shift;;
esac
[ $# -ge 1 ] || { usage >&2; exit 2; }
br=$1; shift
# An interface name: at most 15 bytes (IFNAMSIZ - 1), no '/', not . or ..
case "$br" in
''|.|..|*/*|*[!A-Za-z0-9_.:@-]*) fail "'$br' is not an interface name";;
esac
[ ${#br} -le 15 ] || fail "'$br' is longer than 15 characters"
f=$SYSFS/$br/bridge/group_fwd_mask
[ -e "$SYSFS/$br" ] || fail "$br: no such interface"
[ -f "$f" ] || fail "$br is not a bridge (no $f)"

# bit ADDRESS: the mask bit of an address, or a refusal naming why.
bit() {
	a=$(printf '%s' "$1" | tr 'A-F-' 'a-f:')
	case "$a" in
	eapol) echo 3; return;;
	mvrp) echo 13; return;;
	lldp) echo 14; return;;
	01:80:c2:00:00:0[0-9a-f]) ;;
	??:??:??:??:??:??) fail "$1 is not an IEEE 802.1D reserved group address (01:80:c2:00:00:00 to :0f): group_fwd_mask does not control it";;
	*) fail "'$1' is not a MAC address or a known name (eapol, mvrp, lldp)";;
	esac
	n=$(printf '%d' "0x${a#01:80:c2:00:00:0}")
	case $n in
	0) fail "$1 (Spanning Tree BPDUs): the Linux bridge never forwards it; the kernel refuses group_fwd_mask bit 0";;
	1) fail "$1 (MAC control, 802.3x PAUSE): the Linux bridge never forwards it; the kernel refuses group_fwd_mask bit 1";;
	2) fail "$1 (slow protocols: LACP, marker): the Linux bridge never forwards it; the kernel refuses group_fwd_mask bit 2";;
	esac
	echo "$n"
}

read_mask() {
	m=$(cat "$f") || fail "cannot read $f"
	case "$m" in 0x*|[0-9]*) ;; *) fail "$f: unexpected value '$m'";; esac
	echo $((m))
}

mask=$(read_mask) || exit 3
if [ $# -gt 0 ]; then
	op=$1; shift
	case "$op" in add|del) ;; *) usage >&2; exit 2;; esac
	[ $# -ge 1 ] || { usage >&2; exit 2; }
	new=$mask
	# Every address is checked before anything is written.
	for a in "$@"; do
		b=$(bit "$a") || exit 3
		if [ "$op" = add ]; then new=$((new | (1 << b))); else new=$((new & ~(1 << b))); fi
	done
	if [ "$new" != "$mask" ]; then
		printf '%d\n' "$new" > "$f" 2>/dev/null || fail "cannot write $f (mask $(printf 0x%04x "$new"))"
		mask=$(read_mask) || exit 3
		[ "$mask" = "$new" ] || fail "$f: wrote $(printf 0x%04x "$new"), reads $(printf 0x%04x "$mask")"
	fi
fi

list=""
for n in 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	[ $((mask & (1 << n))) -ne 0 ] && list="$list $(printf '01:80:c2:00:00:%02x' "$n")"
done
if [ $json = yes ]; then
	printf '{"bridge":"%s","group_fwd_mask":"%s","forwarded":[' "$br" "$(printf 0x%04x "$mask")"
	sep=""
	for a in $list; do printf '%s"%s"' "$sep" "$a"; sep=,; done
	printf ']}\n'
else
	printf '%s group_fwd_mask %s\n' "$br" "$(printf 0x%04x "$mask")"
	for a in $list; do printf '%s forwards %s\n' "$br" "$a"; done
fi
exit 0
