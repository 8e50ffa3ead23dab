#!/usr/bin/env python3
"""A small syntax check of BitBake metadata (bitbake itself cannot run here).

Usage: check_recipes.py SRCDIR LAYERDIR      check the layer; exit 1 on any error
       check_recipes.py --file F.bb ...      check single files (the must-fail cases)

It knows the BitBake file grammar (bitbake/lib/bb/parse/parse_py/BBHandler.py
and ConfHandler.py): assignments `VAR[:override][flag] OP value` with the
operators = := ?= ??= += =+ .= =., continuation lines, inherit, include,
require, addtask/deltask, export, shell and python functions.  Beyond the
grammar it checks what this layer promises: quotes and ${} balanced, inline
python compiles, shell bodies pass `sh -n`, addtask names existing tasks,
inherited classes exist, oe_runmake never gets BINDIR=${D}${bindir}-style
directory overrides, LIC_FILES_CHKSUM matches the source, the package split
and BBCLASSEXTEND, LAYERSERIES_COMPAT, kernel fragment lines.
"""
import ast
import glob
import hashlib
import os
import re
import subprocess
import sys

OPS = ("??=", "?=", ":=", "+=", "=+", ".=", "=.", "=")
ASSIGN = re.compile(r'^(export\s+)?([A-Za-z0-9_${}@.+/\-~]+(?::[A-Za-z0-9_${}.\-+]+)*)'
                    r'(\[[A-Za-z0-9_\-.]+\])?\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(.*)$')
FUNC = re.compile(r'^(fakeroot\s+)?(python\s+)?([A-Za-z0-9_${}\-.:+]*)\s*\(\s*\)\s*\{\s*$')
# oe-core classes this layer may inherit (kirkstone and scarthgap have them all)
OE_CLASSES = {"pkgconfig", "systemd", "useradd", "core-image", "image", "native",
              "kernel", "update-rc.d", "autotools", "cmake", "meson", "features_check",
              "externalsrc", "deploy", "allarch", "packagegroup"}
OE_TASKS = {"do_fetch", "do_unpack", "do_patch", "do_configure", "do_compile", "do_install",
            "do_package", "do_populate_sysroot", "do_build", "do_deploy", "do_image",
            "do_image_complete", "do_rootfs", "do_packagedata", "do_package_write_rpm",
            "do_package_write_ipk", "do_package_write_deb"}
DIR_OVERRIDE = re.compile(r'\b(?!DESTDIR=)([A-Za-z_]*(?:DIR|dir|PREFIX|prefix))=\$\{D\}')


class Checker:
    def __init__(self, layerdir=None, srcdir=None):
        self.errors = []
        self.layerdir = layerdir
        self.srcdir = srcdir
        self.tasks = set(OE_TASKS)

    def err(self, f, n, msg):
        self.errors.append(f"{f}:{n}: {msg}")

    # ---- values ----
    def check_value(self, f, n, val):
        val = val.strip()
        if len(val) < 2 or val[0] not in "\"'" or val[-1] != val[0]:
            self.err(f, n, f"value must be one quoted string: {val[:40]!r}")
            return None
        q = val[0]
        body = val[1:-1]
        if q in body.replace("\\" + q, ""):
            self.err(f, n, "unbalanced or stray quote inside the value")
        self.check_refs(f, n, body)
        return body

    def check_refs(self, f, n, text):
        """${VAR} and ${@python} balanced; inline python compiles."""
        i = 0
        while True:
            i = text.find("${", i)
            if i < 0:
                return
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if depth != 0:
                self.err(f, n, f"unbalanced ${{ at {text[i:i + 30]!r}")
                return
            inner = text[i + 2:j]
            if inner.startswith("@"):
                code = re.sub(r"\$\{[A-Za-z0-9_:\-]+\}", "X", inner[1:])
                try:
                    ast.parse(code.strip(), mode="eval")
                except SyntaxError as e:
                    self.err(f, n, f"inline python does not parse: {e.msg}: {code.strip()[:60]!r}")
            i = j + 1

    # ---- one file ----
    def logical_lines(self, f):
        lines = open(f).read().split("\n")
        out, buf, start = [], "", 0
        for idx, line in enumerate(lines, 1):
            if not buf:
                start = idx
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            out.append((start, buf + line))
            buf = ""
        if buf:
            self.err(f, start, "continuation at end of file")
        return out

    def check_file(self, f):
        in_func, fbody, fstart, fname, is_py = False, [], 0, "", False
        assigns = {}
        for n, line in self.logical_lines(f):
            if in_func:
                if line == "}":
                    in_func = False
                    self.check_function(f, fstart, fname, fbody, is_py)
                else:
                    fbody.append(line)
                continue
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            m = FUNC.match(s)
            if m:
                in_func, fbody, fstart = True, [], n
                fname, is_py = m.group(3), bool(m.group(2))
                if fname.startswith("do_"):
                    self.tasks.add(re.split(r"[:\[]", fname)[0])
                continue
            if s.startswith("inherit "):
                for c in s.split()[1:]:
                    if "${" in c:
                        continue
                    local = self.layerdir and os.path.exists(os.path.join(self.layerdir, "classes", c + ".bbclass"))
                    if c not in OE_CLASSES and not local:
                        self.err(f, n, f"inherit of unknown class {c}")
                continue
            if s.startswith(("include ", "require ")):
                continue
            if s.startswith(("addtask ", "deltask ")):
                w = s.split()
                name = w[1] if w[1].startswith("do_") else "do_" + w[1]
                rest = w[2:]
                while rest:
                    if rest[0] not in ("after", "before"):
                        self.err(f, n, f"addtask: expected after/before, got {rest[0]!r}")
                        break
                    rest = rest[1:]
                    while rest and rest[0] not in ("after", "before"):
                        rest = rest[1:]
                self.tasks.add(name)
                self.pending_addtask.append((f, n, w))
                continue
            if s.startswith("EXPORT_FUNCTIONS ") or re.match(r"^export\s+[A-Za-z0-9_]+$", s):
                continue
            m = ASSIGN.match(s)
            if not m:
                self.err(f, n, f"not a BitBake statement: {s[:60]!r}")
                continue
            var, flag, op, val = m.group(2), m.group(3), m.group(4), m.group(5)
            body = self.check_value(f, n, val)
            if body is not None and not flag:
                assigns.setdefault(var, []).append((op, body, n))
        if in_func:
            self.err(f, fstart, f"function {fname} never closed")
        return assigns

    def check_function(self, f, n, name, body, is_py):
        text = "\n".join(body)
        if is_py:
            code = re.sub(r"\$\{[A-Za-z0-9_:\-]+\}", "X", text)
            try:
                ast.parse("def _f():\n" + "\n".join("    " + l for l in code.split("\n")) + "\n    pass")
            except SyntaxError as e:
                self.err(f, n, f"python function {name}: {e.msg}")
            return
        self.check_refs(f, n, text)
        sh = re.sub(r"\$\{@[^}]*\}", "X", text)
        r = subprocess.run(["sh", "-n"], input=sh, text=True, capture_output=True)
        if r.returncode:
            self.err(f, n, f"shell function {name}: {r.stderr.strip()}")
        for i, l in enumerate(body):
            if "oe_runmake" in l or re.search(r"\bmake\b", l):
                m = DIR_OVERRIDE.search(l)
                if m:
                    self.err(f, n + 1 + i, f"{m.group(1)}=${{D}}... passed to make: the Makefile must install to $(DESTDIR)$(dir) by itself")

    def finish(self):
        for f, n, w in self.pending_addtask:
            for t in w[2:]:
                if t in ("after", "before"):
                    continue
                t = t if t.startswith("do_") else "do_" + t
                if t not in self.tasks and not t.startswith("do_image_"):
                    self.err(f, n, f"addtask names unknown task {t}")

    pending_addtask = []


def value(assigns, var):
    """The value of VAR after plain = / += / ?= (no overrides): enough here."""
    v = None
    for op, body, _ in assigns.get(var, []):
        if op in ("=", ":=") or (op in ("?=", "??=") and v is None):
            v = body
        elif op in ("+=", ".="):
            v = (v or "") + (" " if op == "+=" else "") + body
        elif op in ("=+", "=."):
            v = body + (" " if op == "=+" else "") + (v or "")
    return v


def check_layer(c, src, layer):
    files = sorted(glob.glob(os.path.join(layer, "conf/*.conf")) +
                   glob.glob(os.path.join(layer, "classes/*.bbclass")) +
                   glob.glob(os.path.join(layer, "recipes-*/*/*.bb")) +
                   glob.glob(os.path.join(layer, "recipes-*/*/*.bbappend")))
    parsed = {f: c.check_file(f) for f in files}
    c.finish()

    conf = parsed[os.path.join(layer, "conf/layer.conf")]
    compat = (value(conf, "LAYERSERIES_COMPAT_measured") or "").split()
    for rel in ("kirkstone", "scarthgap"):
        if rel not in compat:
            c.err("conf/layer.conf", 0, f"LAYERSERIES_COMPAT_measured lacks {rel}")

    rec = [f for f in files if os.path.basename(f).startswith("measured_")]
    if len(rec) != 1:
        c.err(layer, 0, "expected one measured_*.bb recipe")
        return
    a = parsed[rec[0]]
    pk = (value(a, "PACKAGES") or "").split()
    for p in ("libmeasured", "measured-init", "svirt-interpose", "measured-server"):
        if p not in pk:
            c.err(rec[0], 0, f"package {p} not in PACKAGES")
    for var in a:
        m = re.match(r"^FILES:(.*)$", var)
        if m and m.group(1) not in pk and m.group(1) != "${PN}" and not m.group(1).startswith("${PN}-"):
            c.err(rec[0], 0, f"{var} names a package not in PACKAGES")
    if "native" not in (value(a, "BBCLASSEXTEND") or "").split():
        c.err(rec[0], 0, "BBCLASSEXTEND lacks native")
    for d in ("openssl", "tpm2-tss", "json-c", "zlib"):
        if d not in (value(a, "DEPENDS") or "").split():
            c.err(rec[0], 0, f"DEPENDS lacks {d}")
    lic = value(a, "LIC_FILES_CHKSUM") or ""
    for entry in lic.split():
        parts = entry[len("file://"):].split(";")
        opts = dict(p.split("=", 1) for p in parts[1:])
        data = open(os.path.join(src, parts[0]), "rb").read()
        if "beginline" in opts:
            lines = data.split(b"\n")
            b, e = int(opts["beginline"]), int(opts.get("endline", len(lines)))
            data = b"\n".join(lines[b - 1:e]) + b"\n"
        if hashlib.md5(data).hexdigest() != opts.get("md5"):
            c.err(rec[0], 0, f"LIC_FILES_CHKSUM md5 of {parts[0]} does not match the source")

    for frag in sorted(glob.glob(os.path.join(layer, "recipes-kernel/*/*/*.cfg"))):
        for n, l in enumerate(open(frag), 1):
            l = l.strip()
            if l and not l.startswith("#") and not re.match(r'^CONFIG_[A-Z0-9_]+=(y|m|"[^"]*"|[0-9]+)$', l):
                c.err(frag, n, f"not a kernel config line: {l!r}")


def main():
    c = Checker()
    if sys.argv[1] == "--file":
        for f in sys.argv[2:]:
            c.check_file(f)
        c.finish()
    else:
        c.srcdir, c.layerdir = sys.argv[1], sys.argv[2]
        check_layer(c, sys.argv[1], sys.argv[2])
    for e in c.errors:
        print(e)
    sys.exit(1 if c.errors else 0)


if __name__ == "__main__":
    main()
