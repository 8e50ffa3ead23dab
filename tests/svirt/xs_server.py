#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A small XenStore server for tests: no real xenstored runs without Xen.

Speaks the wire protocol of xen/io/xs_wire.h on a unix socket: a header
of four little-endian u32 (type, req_id, tx_id, len), then len bytes of
NUL-separated strings.  Implemented: DIRECTORY, READ, WRITE, MKDIR, RM,
GET_PERMS, SET_PERMS (accepted, not enforced), TRANSACTION_START/END with
optimistic concurrency (a transaction works on a snapshot and its commit
fails with EAGAIN if anything committed since it started, as xenstored
does), GET_DOMAIN_PATH, RESET_WATCHES.  Anything else: XS_ERROR "ENOSYS".

usage: xs_server.py SOCKET   (prints "ready" once listening)
"""
import os
import socket
import socketserver
import struct
import sys
import threading

DIRECTORY, READ, GET_PERMS, WATCH, UNWATCH, TX_START, TX_END = 1, 2, 3, 4, 5, 6, 7
GET_DOMAIN_PATH, WRITE, MKDIR, RM, SET_PERMS, ERROR = 10, 11, 12, 13, 14, 16
RESET_WATCHES = 21
PAYLOAD_MAX = 4096  # XENSTORE_PAYLOAD_MAX

lock = threading.Lock()
store = {"/": b"", "/local": b"", "/local/domain": b"", "/local/domain/0": b""}
generation = 0
transactions = {}  # id -> (generation at start, snapshot dict)
next_tx = 1


class XsError(Exception):
    pass


def norm(path):
    if not path.startswith("/"):
        path = "/local/domain/0/" + path
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    if "//" in path or len(path) > 3072:
        raise XsError("EINVAL")
    return path


def create(tree, path, value):
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        tree.setdefault("/" + "/".join(parts[:i]), b"")
    tree[path] = value


def op(tree, typ, args, data):
    if typ == READ:
        p = norm(args[0])
        if p not in tree:
            raise XsError("ENOENT")
        return tree[p], False
    if typ == DIRECTORY:
        p = norm(args[0])
        if p not in tree:
            raise XsError("ENOENT")
        pre = "/" if p == "/" else p + "/"
        kids = sorted(k[len(pre):] for k in tree
                      if k.startswith(pre) and k != p and "/" not in k[len(pre):])
        return b"".join(k.encode() + b"\0" for k in kids), False
    if typ == WRITE:
        nul = data.index(b"\0")
        create(tree, norm(data[:nul].decode()), data[nul + 1:])
        return b"OK\0", True
    if typ == MKDIR:
        p = norm(args[0])
        if p not in tree:
            create(tree, p, b"")
        return b"OK\0", True
    if typ == RM:
        p = norm(args[0])
        if p not in tree:
            raise XsError("ENOENT")
        for k in [k for k in tree if k == p or k.startswith(p + "/")]:
            del tree[k]
        return b"OK\0", True
    if typ == GET_PERMS:
        if norm(args[0]) not in tree:
            raise XsError("ENOENT")
        return b"n0\0", False
    if typ == SET_PERMS:
        if norm(args[0]) not in tree:
            raise XsError("ENOENT")
        return b"OK\0", True
    raise XsError("ENOSYS")


def handle(typ, tx, data):
    global generation, next_tx
    args = [a.decode() for a in data.split(b"\0")]
    with lock:
        if typ == TX_START:
            tid = next_tx
            next_tx += 1
            transactions[tid] = (generation, dict(store))
            return str(tid).encode() + b"\0"
        if typ == TX_END:
            if tx not in transactions:
                raise XsError("ENOENT")
            start, snap = transactions.pop(tx)
            if args[0] == "T":
                if start != generation:
                    raise XsError("EAGAIN")
                store.clear()
                store.update(snap)
                generation += 1
            return b"OK\0"
        if typ == GET_DOMAIN_PATH:
            return ("/local/domain/%s" % args[0]).encode() + b"\0"
        if typ in (RESET_WATCHES, WATCH, UNWATCH):
            return b"OK\0"
        if tx:
            if tx not in transactions:
                raise XsError("ENOENT")
            return op(transactions[tx][1], typ, args, data)[0]
        reply, changed = op(store, typ, args, data)
        if changed:
            generation += 1
        return reply


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def handle(self):
        try:
            while True:
                typ, req, tx, ln = struct.unpack("<IIII", self.recv_exact(16))
                if ln > PAYLOAD_MAX:
                    return
                data = self.recv_exact(ln)
                try:
                    reply, rtyp = handle(typ, tx, data), typ
                except (XsError, ValueError, UnicodeDecodeError, IndexError) as e:
                    name = e.args[0] if isinstance(e, XsError) else "EINVAL"
                    reply, rtyp = name.encode() + b"\0", ERROR
                self.request.sendall(struct.pack("<IIII", rtyp, req, tx, len(reply)) + reply)
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


if __name__ == "__main__":
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    srv = Server(path, Handler)
    print("ready", flush=True)
    srv.serve_forever()
