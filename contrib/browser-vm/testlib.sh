# Helpers of the browser VM's boot tests, tests/boot/browser-*.sh (sourced
# after tests/lib/common.sh and tests/boot/lib.sh).  Kept here rather than
# in tests/boot/ because every tests/boot/*.sh is run as a test.
BVM_SRC=$MEASURED_SRCDIR/contrib/browser-vm
BVM_WEB_IP=10.0.2.100	# the test's web server as the guest sees it
BVM_PAGE_RGB="200 40 120"	# the test page's background (#c82878)
BVM_STANDIN_RGB="31 111 79"	# the stand-in's background (#1f6f4f)
BVM_ATTEST_URL=https://$BVM_WEB_IP	# the test verifiers as the guest sees them
BVM_MACHINE=browser-test	# the name the image attests as

# bvm_image: the test image (build-image.sh --with-standin, start page
# http://$BVM_WEB_IP/, the CA of a test verifier as ca.pem, the manifests
# for --attest $BVM_ATTEST_URL --machine $BVM_MACHINE too), built once and
# kept in $MEASURED_CACHE under a key of everything it is made of, so the
# tests of one run share it; sets BVM (its directory).  The CA (made with
# the image, valid ten years: it is part of the measured image, a new one
# means a new image) is kept in $BVM/test-ca; the .deb files beside it.
bvm_image() {
	for t in mmdebstrap mksquashfs python3; do
		command -v $t >/dev/null || die "$t is not installed"
	done
	mkdir -p "$T/bvm-config"
	echo "http://$BVM_WEB_IP/" > "$T/bvm-config/start-page"
	cp "$BVM_SRC/config/apps" "$T/bvm-config/apps"
	key=$( (cat "$BVM_SRC/build-image.sh" "$BVM_SRC/customize.sh" "$BVM_SRC/init" \
		"$T/bvm-config/start-page" "$T/bvm-config/apps" "$M" "$MEASURED_INIT" &&
		echo "test-ca 1 $BVM_ATTEST_URL $BVM_MACHINE") | sha256sum | cut -c1-16)-$KERNEL_VER
	BVM=$MEASURED_CACHE/browser-vm/$key
	mkdir -p "$MEASURED_CACHE/browser-vm"
	(
		flock 9
		if [ ! -f "$BVM/manifest.json" ]; then
			# one image at a time: drop those of other keys
			find "$MEASURED_CACHE/browser-vm" -mindepth 1 -maxdepth 1 -type d \
				! -name debs ! -name "$key" -exec rm -rf {} +
			start=$(date +%s)
			rm -rf "$BVM.tmp" && mkdir -p "$BVM.tmp/test-ca" || exit 1
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
				-subj /CN=browser-vm-test-ca -keyout "$BVM.tmp/test-ca/ca.key" \
				-out "$BVM.tmp/test-ca/ca.crt" 2>/dev/null || exit 1
			cp "$BVM.tmp/test-ca/ca.crt" "$T/bvm-config/ca.pem"
			sh "$BVM_SRC/build-image.sh" --with-standin --config "$T/bvm-config" \
				--attest "$BVM_ATTEST_URL" --machine "$BVM_MACHINE" \
				--measured "$M" --init "$MEASURED_INIT" --kernel-dir "$KERNEL_MODDIR/../../.." \
				--deb-cache "$MEASURED_CACHE/browser-vm/debs" "$BVM.tmp" >&2 ||
				{ rm -rf "$BVM.tmp"; exit 1; }
			mv "$BVM.tmp" "$BVM"
			echo "built the browser VM image in $(( $(date +%s) - start )) s" >&2
		fi
	) 9>"$MEASURED_CACHE/browser-vm/lock" || die "building the browser VM image failed"
}

# bvm_serve NAME: a web server on 127.0.0.1 (free port) for the guest: "/"
# is a page of one colour titled NAME.  Logs "GET PATH" lines to
# $T/web.log; stops by itself after 15 minutes.  Sets WEB_PORT.
bvm_serve() {
	cat > "$T/web.py" <<'PY'
import http.server, sys, threading
name, log = sys.argv[1], open(sys.argv[2], "a", buffering=1)
page = ("<!doctype html><html><head><title>%s</title><style>html,body{margin:0;height:100%%;"
        "background:#c82878}</style></head><body></body></html>" % name).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write("GET %s\n" % self.path)
        if self.path != "/":
            self.send_error(404); return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
threading.Timer(900, s.shutdown).start()
s.serve_forever()
PY
	python3 "$T/web.py" "$1" "$T/web.log" > "$T/web.port" &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$T/web.port" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && die "the web server did not start"; sleep 0.1
	done
	WEB_PORT=$(cat "$T/web.port")
	cat > "$T/relay" <<RELAY
#!/bin/sh
exec $(command -v busybox) nc 127.0.0.1 $WEB_PORT
RELAY
	chmod 755 "$T/relay"
}

# bvm_start NAME APP [START-OPTIONS...]: start.sh in the background
# (display none, a monitor socket $T/NAME.mon, the console in $T/NAME.log,
# the network restricted to the web server, the TPM state $T/tpm-NAME,
# svirt-interpose from the build with a state directory of the test's own,
# then START-OPTIONS); sets VM_PID.
bvm_start() {
	n=$1 app=$2
	shift 2
	sh "$BVM_SRC/start.sh" --display none --accel tcg --app "$app" --tpm-state "$T/tpm-$n" \
		--svirt "$MEASURED_BUILDDIR/svirt-interpose" --svirt-state "$T/svirt" \
		--console "$T/$n.log" --monitor "$T/$n.mon" --restrict \
		--guestfwd "tcp:$BVM_WEB_IP:80-cmd:$T/relay" "$@" "$BVM" > "$T/$n.out" 2>&1 &
	VM_PID=$!
	PIDS="$PIDS $VM_PID"
}

# bvm_verifier NAME MANIFEST: `measured serve` (tests/lib/serve.sh) on a
# free port of 127.0.0.1 with its own SQLite database, a certificate for
# $BVM_IP and 127.0.0.1 from the image's test CA, and policy NAME from
# MANIFEST (PCR 4, 9 and 15, sha256) given to every new machine (TOFU);
# its log is $T/serve-NAME.log.  Sets PORT, SERVE_PID and BVM_FWD (the
# guestfwd rule that takes the guest's https://$BVM_WEB_IP to it).
bvm_verifier() {
	if [ ! -f "$T/server.crt" ]; then
		cp "$BVM/test-ca/ca.crt" "$T/ca.crt"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$BVM_WEB_IP" \
			-keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null &&
			printf 'subjectAltName=IP:%s,IP:127.0.0.1\n' "$BVM_WEB_IP" > "$T/san.ext" &&
			openssl x509 -req -in "$T/server.csr" -CA "$BVM/test-ca/ca.crt" \
				-CAkey "$BVM/test-ca/ca.key" -CAcreateserial -CAserial "$T/ca.srl" -days 2 \
				-extfile "$T/san.ext" -out "$T/server.crt" 2>/dev/null ||
			die "cannot make the verifier's certificate"
	fi
	"$M" admin --db "sqlite:$T/$1.db" policy add "$1" --manifest "$2" --pcrs 4,9,15 --banks sha256 ||
		die "policy add $1 failed"
	SERVE_LOG=$T/serve-$1.log
	serve_start "sqlite:$T/$1.db" --tofu --approve "$1" --insecure-tofu-approve
	cat > "$T/relay-$PORT" <<RELAY
#!/bin/sh
exec $(command -v busybox) nc 127.0.0.1 $PORT
RELAY
	chmod 755 "$T/relay-$PORT"
	BVM_FWD="tcp:$BVM_WEB_IP:443-cmd:$T/relay-$PORT"
}

# bvm_wait FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN
# (grep -E); fails naming PATTERN.
bvm_wait() {
	i=0
	while ! grep -Eq "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $(( $3 * 2 )) ]; then
			tail -n 30 "$1" >&2 2>/dev/null
			die "no '$2' in $(basename "$1") after $3 s"
		fi
		kill -0 "$VM_PID" 2>/dev/null || { sleep 1; grep -Eq "$2" "$1" 2>/dev/null && return 0
			tail -n 30 "$1" >&2; die "the VM ended before '$2' appeared in $(basename "$1")"; }
		sleep 0.5
	done
}

# bvm_monitor NAME COMMAND: one human-monitor command over the socket.
bvm_monitor() {
	python3 - "$T/$1.mon" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
buf = b""
while b"(qemu)" not in buf:
    buf += s.recv(4096)
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while buf.count(b"(qemu)") < 1:
    buf += s.recv(4096)
s.close()
PY
}

# bvm_screen_check PPM R G B: the picture (QEMU's screendump, binary PPM)
# is W x H with at least 97% of its pixels, and all four corners, of colour
# R G B; prints "WxH FRACTION".
bvm_screen_check() {
	python3 - "$@" <<'PY'
import sys
path, want = sys.argv[1], tuple(int(x) for x in sys.argv[2:5])
data = open(path, "rb").read()
fields, pos = [], 0
while len(fields) < 4:		# P6 W H MAX, then one whitespace byte
    while data[pos:pos+1].isspace(): pos += 1
    if data[pos:pos+1] == b"#":
        pos = data.index(b"\n", pos); continue
    start = pos
    while not data[pos:pos+1].isspace(): pos += 1
    fields.append(data[start:pos])
pos += 1
assert fields[0] == b"P6" and fields[3] == b"255", fields
w, h = int(fields[1]), int(fields[2])
px = data[pos:pos + 3 * w * h]
assert len(px) == 3 * w * h, "short picture"
def at(x, y):
    i = 3 * (y * w + x)
    return tuple(px[i:i+3])
close = lambda c: all(abs(a - b) <= 2 for a, b in zip(c, want))
n = sum(1 for i in range(0, len(px), 3) if close(tuple(px[i:i+3])))
corners = [at(0, 0), at(w - 1, 0), at(0, h - 1), at(w - 1, h - 1)]
print("%dx%d %.4f corners %s" % (w, h, n / (w * h), corners))
sys.exit(0 if n >= 0.97 * w * h and all(close(c) for c in corners) else 1)
PY
}

# bvm_console NAME: the console log without carriage returns.
bvm_console() { tr -d '\r' < "$T/$1.log"; }

# bvm_wait_off SECONDS: wait for the VM (start.sh) to end; sets OFF_S to
# the seconds it took.  Not to be called in a subshell ($(...)): start.sh is
# this shell's child, and only this shell reaps it (until then kill -0
# finds its zombie).
bvm_wait_off() {
	i=0
	while kill -0 "$VM_PID" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(( $1 * 10 )) ] && die "the VM was still running $1 s later"
		sleep 0.1
	done
	wait "$VM_PID" 2>/dev/null || true
	OFF_S=$(( i / 10 ))
}

# bvm_report NAME PATTERN SECONDS: wait for a process report of the VM's
# init (between "processes:" and "processes end") with a line matching
# PATTERN (grep -E); writes that report to $T/NAME.ps.
bvm_report() {
	i=0
	while :; do
		[ -f "$T/$1.log" ] && tr -d '\r' < "$T/$1.log" | PAT=$2 awk '
			BEGIN { pat = ENVIRON["PAT"] }
			/^browser-vm: processes:$/ { buf = ""; hit = 0; inrep = 1; next }
			/^browser-vm: processes end$/ { if (inrep && hit) last = buf; inrep = 0; next }
			inrep && /^browser-vm: process / { buf = buf $0 "\n"; if ($0 ~ pat) hit = 1 }
			END { printf "%s", last }' > "$T/$1.ps"
		[ -s "$T/$1.ps" ] && return 0
		i=$((i + 1))
		[ $i -gt $(( $3 * 2 )) ] && { tr -d '\r' < "$T/$1.log" | grep '^browser-vm' | tail -n 40 >&2
			die "no process report with '$2' after $3 s"; }
		kill -0 "$VM_PID" 2>/dev/null || die "the VM ended before a process report with '$2'"
		sleep 0.5
	done
}
