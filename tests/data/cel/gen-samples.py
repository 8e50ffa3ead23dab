#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate the CEL-JSON sample logs in this folder (see README.md).

Digests are computed here with hashlib, independently of the C code:
for a systemd-style record the digest of every bank is the hash of the
measured word itself (no NUL), which is what systemd-pcrextend extends.
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
RS = b"\x1e"


def digests(word, algs=("sha1", "sha256")):
    return [{"hashAlg": a, "digest": hashlib.new(a, word.encode()).hexdigest()} for a in algs]


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# systemd's tpm2-measure.log: JSON-SEQ, no recnum, content_type "systemd".
SYSTEMD = [
    (11, "enter-initrd", "phase"),
    (11, "leave-initrd", "phase"),
    (15, "machine-id:0123456789abcdef0123456789abcdef", "machine-id"),
    (11, "sysinit", "phase"),
    (15, "file-system:/:ext4:root:0d4d4b2e-8a1b-4bd4-8c56-3b0c1f2a9e10", "filesystem"),
    (11, "ready", "phase"),
]
recs = []
for i, (pcr, word, evt) in enumerate(SYSTEMD):
    d = digests(word)
    if i == 2:  # an algorithm we have no bank for: skipped by the reader
        d.append({"hashAlg": "sha3_256", "digest": hashlib.sha3_256(word.encode()).hexdigest()})
    recs.append({"pcr": pcr, "digests": d, "content_type": "systemd",
                 "content": {"string": word, "eventType": evt}})
write("systemd-sample.cel", b"".join(RS + compact(r) + b"\n" for r in recs))

# Our own records, as m_cel_append() writes them (recnum, content_type "measured").
OURS = [(9, "rootfs /dev/vda sha256"), (9, "rootfs \"quoted\" \\ and\nnewline")]
recs = [{"recnum": i, "pcr": pcr, "digests": digests(desc, ("sha1", "sha256", "sha384", "sha512")),
         "content_type": "measured", "content": {"description": desc}}
        for i, (pcr, desc) in enumerate(OURS)]
write("measured-sample.cel", b"".join(RS + compact(r) + b"\n" for r in recs))

# The CEL spec's own framing: one JSON array, pretty-printed, with an
# EV_NO_ACTION firmware record (logged, never extended).
arr = [
    {"recnum": 0, "pcr": 0, "digests": [{"hashAlg": "sha256", "digest": "00" * 32}],
     "content_type": "pcclient_std", "content": {"event_type": 3, "event_data": "00"}},
    {"recnum": 1, "pcr": 14, "digests": digests("one", ("sha256",)),
     "content_type": "measured", "content": {"description": "one"}},
    {"recnum": 5, "pcr": 14, "digests": digests("two", ("sha256",)),
     "content_type": "measured", "content": {"description": "two"}},
]
write("array-sample.json", json.dumps(arr, indent=2).encode() + b"\n")

# Newline-delimited JSON objects.
write("ndjson-sample.jsonl", b"".join(compact(r) + b"\n" for r in arr[1:]))

# What a crash mid-write leaves: the last record cut.
good = open(os.path.join(HERE, "measured-sample.cel"), "rb").read()
write("torn-tail.cel", good + RS + compact(recs[0]).replace(b'"recnum":0', b'"recnum":2')[:57])

# Broken logs: each must be refused with a message naming the record.
base = {"pcr": 11, "digests": digests("x"), "content_type": "systemd", "content": {"string": "x"}}
write("bad-garbage.cel", RS + compact(base) + b"\n" + RS + b"{this is not json}\n")
write("bad-pcr24.cel", RS + compact(dict(base, pcr=24)) + b"\n")
bh = dict(base, digests=[{"hashAlg": "sha256", "digest": "ab" * 31}])
write("bad-hexlen.cel", RS + compact(bh) + b"\n")
write("bad-type.cel", RS + compact(dict(base, pcr="11")) + b"\n")
write("bad-recnum-backwards.cel",
      RS + compact(dict(base, recnum=3)) + b"\n" + RS + compact(dict(base, recnum=3)) + b"\n")
deep = {"pcr": 11, "digests": digests("x"), "content_type": "systemd", "content": {}}
node = deep["content"]
for _ in range(40):
    node["n"] = {}
    node = node["n"]
write("bad-deep.cel", RS + compact(deep) + b"\n")
