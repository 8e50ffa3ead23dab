#!/usr/bin/env python3
# A minimal stand-in for `measured serve`, for the agent's tests only: the
# docs/api.md endpoints over HTTPS on 127.0.0.1, with tpm2-tools as the
# independent TPM arithmetic (tpm2_makecredential -T none for credentials,
# tpm2_checkquote for the quote's signature, nonce and PCR digest).  The
# reference is a set of expected PCR values and, for a CEL log, the
# expected digest of each record, so a refusal can name the first event.
import argparse, base64, hashlib, json, os, ssl, struct, subprocess, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ap = argparse.ArgumentParser()
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--pcrs", default="15")
ap.add_argument("--banks", default="sha256")
ap.add_argument("--expect", action="append", default=[], help="BANK:PCR:HEX")
ap.add_argument("--expect-cel", action="append", default=[], help="PCR:SHA256HEX of each CEL record, in order")
ap.add_argument("--payload", action="append", default=[], help="NAME=FILE")
ap.add_argument("--mode", default="good",
                choices=["good", "wrong-name", "bad-tag", "payload-wrong-name", "unavailable",
                         "attest-unavailable"])
args = ap.parse_args()

machines = {}    # name -> {"ek": bytes, "ak": bytes, "secret": bytes, "status": str}
nonces = {}      # hex -> (machine, time, used)
ALG = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
ALGNAME = {v: k for k, v in ALG.items()}
payloads = dict(p.split("=", 1) for p in args.payload)
expect = {}
for e in args.expect:
    b, p, h = e.split(":")
    expect[(b, int(p))] = h
expect_cel = [(int(p), h) for p, h in (e.split(":") for e in args.expect_cel)]


def ak_name(pub2b):
    # TPM 2.0 Part 1, 16: nameAlg || H(TPMT_PUBLIC); the AK's nameAlg is SHA-256
    typ, name_alg = struct.unpack(">HH", pub2b[2:6])
    assert name_alg == 0x000B
    return b"\x00\x0b" + hashlib.sha256(pub2b[2:]).digest()


def make_credential(ek, name, secret):
    d = args.dir
    open(d + "/ek.pub", "wb").write(ek)
    open(d + "/secret", "wb").write(secret)
    subprocess.run(["tpm2_makecredential", "-T", "none", "-u", d + "/ek.pub", "-s", d + "/secret",
                    "-n", name.hex(), "-o", d + "/cred"], check=True, capture_output=True)
    c = open(d + "/cred", "rb").read()
    os.unlink(d + "/secret")
    magic, ver = struct.unpack(">II", c[:8])
    assert magic == 0xBADCC0DE
    n1 = struct.unpack(">H", c[8:10])[0]
    blob = c[8:10 + n1]
    rest = c[10 + n1:]
    n2 = struct.unpack(">H", rest[:2])[0]
    return blob, rest[:2 + n2]


def b64(b):
    return base64.b64encode(b).decode()


def quote_selection(attest):
    # TPMS_ATTEST (Part 2, 10.12.12): magic, type, signer, extraData, clock, fw, then the quote
    off = 6
    for _ in range(2):
        off += 2 + struct.unpack(">H", attest[off:off + 2])[0]
    off += 17 + 8
    count = struct.unpack(">I", attest[off:off + 4])[0]
    off += 4
    sel = []
    for _ in range(count):
        alg, n = struct.unpack(">HB", attest[off:off + 3])
        bits = int.from_bytes(attest[off + 3:off + 3 + n], "little")
        sel.append((ALGNAME[alg], [p for p in range(8 * n) if bits >> p & 1]))
        off += 3 + n
    return sel


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, reason, msg, diff=None):
        o = {"result": "fail", "reason": reason, "message": msg}
        if diff:
            o["first_difference"] = diff
        self.answer(403, o)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > (1 << 20):
            return self.refuse("body-too-large", "over 1 MiB")
        try:
            req = json.loads(self.rfile.read(n))
        except ValueError:
            return self.answer(400, {"result": "fail", "reason": "bad-request", "message": "JSON"})
        if args.mode == "unavailable":
            # as measured serve answers when its database is down: nothing done
            return self.answer(503, {"result": "fail", "reason": "internal-error",
                                     "message": "the database is unavailable"})
        if args.mode == "attest-unavailable":
            # a nonce for any name (as measured serve gives one), then a database gone at the attestation
            if self.path == "/v1/nonce":
                machines.setdefault(req["machine"], {"status": "enrolled"})
            elif self.path == "/v1/attest":
                with open(os.path.join(args.dir, "attest503"), "a") as f:
                    f.write(req["evidence"]["nonce"] + "\n")
                return self.answer(503, {"result": "fail", "reason": "internal-error",
                                         "message": "the database is unavailable"})
        getattr(self, "ep_" + self.path.strip("/").replace("/", "_"), self.ep_none)(req)

    def ep_none(self, req):
        self.answer(404, {"result": "fail", "reason": "bad-request", "message": "no such endpoint"})

    def ep_v1_enroll(self, req):
        ek = base64.b64decode(req["ek_pub"], validate=True)
        ak = base64.b64decode(req["ak_pub"], validate=True)
        attrs = struct.unpack(">I", ak[6:10])[0]
        need = 0x2 | 0x10 | 0x10000 | 0x40000   # fixedTPM fixedParent restricted sign
        if attrs & need != need:
            return self.refuse("ak-attributes", "AK attributes 0x%08x" % attrs)
        name = ak_name(ak)
        if args.mode == "wrong-name":
            name = name[:-1] + bytes([name[-1] ^ 1])
        secret = os.urandom(32)
        blob, enc = make_credential(ek, name, secret)
        machines[req["machine"]] = {"ek": ek, "ak": ak, "secret": secret, "status": "pending",
                                    "ek_cert": req.get("ek_cert")}
        self.answer(200, {"enrollment": req["machine"], "credential_blob": b64(blob),
                          "encrypted_secret": b64(enc)})

    def ep_v1_activate(self, req):
        m = machines.get(req["enrollment"])
        if not m or base64.b64decode(req["secret"], validate=True) != m["secret"]:
            return self.refuse("activation-failed", "the credential was not activated")
        m["status"] = "enrolled"
        self.answer(200, {"machine": req["enrollment"], "status": "enrolled"})

    def ep_v1_nonce(self, req):
        m = machines.get(req["machine"])
        if not m or m["status"] != "enrolled":
            return self.refuse("unknown-machine", "not enrolled")
        nonce = os.urandom(32).hex()
        nonces[nonce] = [req["machine"], time.time(), False]
        self.answer(200, {"nonce": nonce, "expires": int(time.time()) + 60,
                          "pcrs": [int(p) for p in args.pcrs.split(",")],
                          "banks": args.banks.split(",")})

    def ep_v1_attest(self, req):
        name = req["machine"]
        m = machines.get(name)
        if not m or m["status"] != "enrolled":
            return self.refuse("unknown-machine", "not enrolled")
        ev = req["evidence"]
        nonce = ev["nonce"]
        if nonce not in nonces or nonces[nonce][0] != name:
            return self.refuse("nonce-unknown", "not issued to this machine")
        if nonces[nonce][2]:
            return self.refuse("nonce-reused", "used before")
        nonces[nonce][2] = True
        if base64.b64decode(ev["ak_public"]) != m["ak"]:
            return self.refuse("bad-signature", "not the enrolled AK")
        d = args.dir
        attest = base64.b64decode(ev["quote"]["attest"], validate=True)
        open(d + "/msg", "wb").write(attest)
        open(d + "/sig", "wb").write(base64.b64decode(ev["quote"]["signature"], validate=True))
        open(d + "/ak.pub", "wb").write(m["ak"])
        sel = quote_selection(attest)
        vals = b"".join(bytes.fromhex(ev["pcrs"][b][str(p)]) for b, ps in sel for p in ps)
        open(d + "/pcrs", "wb").write(vals)
        lst = "+".join(b + ":" + ",".join(map(str, ps)) for b, ps in sel)
        r = subprocess.run(["tpm2_checkquote", "-u", d + "/ak.pub", "-m", d + "/msg", "-s", d + "/sig",
                            "-q", nonce, "-f", d + "/pcrs", "-l", lst, "-g", "sha256"],
                           capture_output=True)
        if r.returncode != 0:
            return self.refuse("bad-signature", "tpm2_checkquote: " + r.stderr.decode()[-200:])
        for b, p in [(b, int(p)) for b in args.banks.split(",") for p in args.pcrs.split(",")]:
            if not any(b == sb and p in ps for sb, ps in sel):
                return self.refuse("pcr-missing", "%s PCR %d not quoted" % (b, p))
        diff = self.first_difference(ev)
        if diff:
            return self.refuse("manifest-mismatch", "PCR %d differs from the reference" % diff["pcr"], diff)
        out = {"result": "pass", "machine": name}
        if req.get("payload") is not None:
            if req["payload"] not in payloads:
                return self.refuse("unknown-policy", "no such payload")
            key = os.urandom(32)
            pname = ak_name(m["ak"])
            if args.mode == "payload-wrong-name":
                pname = pname[:-1] + bytes([pname[-1] ^ 1])
            blob, enc = make_credential(m["ek"], pname, key)
            iv = os.urandom(12)
            ct = AESGCM(key).encrypt(iv, open(payloads[req["payload"]], "rb").read(), None)
            tag = ct[-16:]
            if args.mode == "bad-tag":
                tag = bytes([tag[0] ^ 1]) + tag[1:]
            out["payload"] = {"name": req["payload"], "credential_blob": b64(blob),
                              "encrypted_secret": b64(enc), "iv": b64(iv),
                              "ciphertext": b64(ct[:-16]), "tag": b64(tag)}
        self.answer(200, out)

    def first_difference(self, ev):
        cel = [l for l in ev.get("eventlogs", []) if l["format"].startswith("cel")]
        if expect_cel:
            if not cel:
                return {"pcr": expect_cel[0][0], "bank": "sha256", "status": "log-missing", "index": 0}
            recs = [json.loads(x) for x in base64.b64decode(cel[0]["data"]).decode().splitlines() if x.strip()]
            for i, (pcr, want) in enumerate(expect_cel):
                mine = [r for r in recs if r["pcr"] == pcr]
                got = None
                if i < len(mine):
                    got = [d["digest"] for d in mine[i]["digests"] if d["hashAlg"] == "sha256"][0]
                if got != want:
                    found = {"log": "cel", "record": mine[i]["recnum"], "digest": got,
                             "content": mine[i].get("content")} if got else None
                    return {"pcr": pcr, "bank": "sha256", "status": "event-differs", "index": i,
                            "expected": {"digest": want}, "found": found}
        for (b, p), h in sorted(expect.items()):
            got = ev["pcrs"].get(b, {}).get(str(p))
            if got != h:
                return {"pcr": p, "bank": b, "status": "value-differs", "index": None,
                        "expected": {"value": h}, "found": {"value": got}}
        return None


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
