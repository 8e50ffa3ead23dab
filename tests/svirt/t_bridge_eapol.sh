#!/bin/sh
# A Linux bridge forwards 802.1X EAPOL frames (to 01:80:c2:00:00:03) to
# its ports only with bit 3 of group_fwd_mask set.  Three network
# namespaces: a bridge with two veth ports, a sender and a receiver using
# raw packet sockets.  svirt-bridge-fwd sets and clears the bit; `ip -d
# link` and the kernel's own refusal of bits 0-2 are the independent side.
. "$(dirname "$0")/lib.sh"
command -v ip >/dev/null || die "iproute2 missing"
HELPER=$SRC/svirt/svirt-bridge-fwd.sh
n=svbr$$
NS_BR=$n-br NS_A=$n-a NS_B=$n-b
netns_cleanup() {
	for ns in $NS_BR $NS_A $NS_B; do ip netns del "$ns" 2>/dev/null || true; done
	cleanup
}
trap netns_cleanup EXIT INT TERM
for ns in $NS_BR $NS_A $NS_B; do ip netns add "$ns" || die "ip netns add $ns"; done
inbr() { ip netns exec $NS_BR "$@"; }
inbr ip link add br0 type bridge stp_state 0 forward_delay 0
inbr ip link add pa type veth peer name eth0 netns $NS_A
inbr ip link add pb type veth peer name eth0 netns $NS_B
inbr ip link set pa master br0
inbr ip link set pb master br0
for l in br0 pa pb; do inbr ip link set $l up; done
ip -n $NS_A link set eth0 up
ip -n $NS_B link set eth0 up

# A frame: dst, src 02:00:00:00:00:0a, type 0x888e, EAPOL-Start
# (version 2, type 1, length 0), padded to 60 bytes.
cat > "$T/l2.py" <<'EOF'
import socket, sys, time
mode, dst = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("eth0", 0))
if mode == "send":
    frame = dst + bytes.fromhex("02000000000a") + b"\x88\x8e" + b"\x02\x01\x00\x00"
    for _ in range(3):
        s.send(frame.ljust(60, b"\0"))
        time.sleep(0.05)
else:
    s.settimeout(0.2)
    end = time.time() + float(sys.argv[3])
    while time.time() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        if f[:6] == dst and f[12:14] == b"\x88\x8e":
            print("received", f[14:18].hex())
            sys.exit(0)
    print("nothing")
EOF
# deliver DST: send 3 frames from A, report what B saw within 1 s
deliver() {
	ip netns exec $NS_B python3 "$T/l2.py" recv "$1" 1.0 > "$T/recv" &
	rp=$!
	sleep 0.2
	ip netns exec $NS_A python3 "$T/l2.py" send "$1"
	wait $rp
	cat "$T/recv"
}
# a unicast frame goes through (the bridge works at all)
assert_eq "unicast control frame is bridged" "received 02010000" "$(deliver 02:00:00:00:00:0b)"
assert_eq "EAPOL dropped with group_fwd_mask 0" "nothing" "$(deliver 01:80:c2:00:00:03)"

run_rc rc inbr sh "$HELPER" br0 add eapol
assert_eq "helper add eapol" 0 "$rc"
assert_eq "helper output" "br0 group_fwd_mask 0x0008
br0 forwards 01:80:c2:00:00:03" "$(cat "$T/out")"
assert_eq "ip -d link reads the mask" "group_fwd_mask 0x8" "$(inbr ip -d link show br0 | grep -o 'group_fwd_mask [^ ]*')"
assert_eq "EAPOL forwarded with bit 3 set" "received 02010000" "$(deliver 01:80:c2:00:00:03)"
assert_eq "other reserved addresses still dropped" "nothing" "$(deliver 01:80:c2:00:00:0e)"

# The addresses the kernel refuses: first the kernel itself (EINVAL from
# sysfs), then the helper with a message, leaving the mask alone.
for b in 0 1 2; do
	if inbr sh -c "echo $((1 << b)) > /sys/class/net/br0/bridge/group_fwd_mask" 2>/dev/null; then
		die "the kernel accepted group_fwd_mask bit $b"
	fi
done
ok "the kernel refuses bits 0-2"
for a in 01:80:C2:00:00:00 01-80-c2-00-00-01 01:80:c2:00:00:02; do
	run_rc rc inbr sh "$HELPER" br0 add eapol "$a"
	assert_eq "helper refuses $a" 3 "$rc"
done
assert_eq "message for :01" "svirt-bridge-fwd: 01-80-c2-00-00-01 (MAC control, 802.3x PAUSE): the Linux bridge never forwards it; the kernel refuses group_fwd_mask bit 1" \
	"$(inbr sh "$HELPER" br0 add 01-80-c2-00-00-01 2>&1)"
run_rc rc inbr sh "$HELPER" br0 add 01:80:c2:00:00:21
assert_eq "helper refuses a GARP address" 3 "$rc"
grep -q "is not an IEEE 802.1D reserved group address" "$T/err" || die "$(cat "$T/err")"
run_rc rc inbr sh "$HELPER" br0 add nonsense
assert_eq "helper refuses junk" 3 "$rc"
run_rc rc inbr sh "$HELPER" pa
assert_eq "a port is not a bridge" 3 "$rc"
grep -q "pa is not a bridge" "$T/err" || die "$(cat "$T/err")"
run_rc rc inbr sh "$HELPER" ../../x
assert_eq "a path is not an interface name" 3 "$rc"
assert_eq "mask unchanged by refusals" "group_fwd_mask 0x8" "$(inbr ip -d link show br0 | grep -o 'group_fwd_mask [^ ]*')"

run_rc rc inbr sh "$HELPER" --json br0 add lldp
assert_eq "json add lldp" 0 "$rc"
assert_eq "json output" "br0 0x4008 01:80:c2:00:00:03,01:80:c2:00:00:0e" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["bridge"], d["group_fwd_mask"], ",".join(d["forwarded"]))' < "$T/out")"
run_rc rc inbr sh "$HELPER" br0 del eapol lldp
assert_eq "helper del" 0 "$rc"
assert_eq "mask back to 0" "group_fwd_mask 0" "$(inbr ip -d link show br0 | grep -o 'group_fwd_mask [^ ]*')"
assert_eq "EAPOL dropped again" "nothing" "$(deliver 01:80:c2:00:00:03)"
