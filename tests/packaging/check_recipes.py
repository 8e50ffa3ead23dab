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
import textwrap

OPS = ("??=", "?=", ":=", "+=", "=+", ".=", "=.", "=")
ASSIGN = re.compile(r'^(export\s+)?([A-Za-z0-9_${}@.+/\-~]+(?::[A-Za-z0-9_${}.\-+]+)*)'
                    r'(\[[A-Za-z0-9_\-.]+\])?\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(.*)$')
FUNC = re.compile(r'^(fakeroot\s+)?(python\s+)?([A-Za-z0-9_${}\-.:+]*)\s*\(\s*\)\s*\{\s*$')
# oe-core classes this layer may inherit (kirkstone and scarthgap have them all)
OE_CLASSES = {"pkgconfig", "systemd", "useradd", "core-image", "image", "native",
              "kernel", "update-rc.d", "autotools", "cmake", "meson", "features_check",
              "externalsrc", "deploy", "allarch", "packagegroup", "image-live"}
OE_TASKS = {"do_fetch", "do_unpack", "do_patch", "do_configure", "do_compile", "do_install",
            "do_package", "do_populate_sysroot", "do_build", "do_deploy", "do_image",
            "do_image_complete", "do_rootfs", "do_packagedata", "do_package_write_rpm",
            "do_package_write_ipk", "do_package_write_deb"}
# DESTDIR, and DISTDIR (tboot's name for it), are the staging root itself
DIR_OVERRIDE = re.compile(r'\b(?!DESTDIR=|DISTDIR=)([A-Za-z_]*(?:DIR|dir|PREFIX|prefix))=\$\{D\}')


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
        self.funcs.setdefault(f, [])
        for n, line in self.logical_lines(f):
            if in_func:
                if line == "}":
                    in_func = False
                    self.check_function(f, fstart, fname, fbody, is_py)
                    self.funcs[f].append((fname, is_py, fbody))
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
            if body is not None:
                assigns.setdefault(var + (flag or ""), []).append((op, body, n))
        if in_func:
            self.err(f, fstart, f"function {fname} never closed")
        return assigns

    def check_function(self, f, n, name, body, is_py):
        text = "\n".join(body)
        if is_py:
            code = textwrap.dedent(re.sub(r"\$\{[A-Za-z0-9_:\-]+\}", "X", text))
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
    funcs = {}


def value(assigns, var):
    """The value of VAR from plain assignments (no overrides), as bitbake
    computes it: ??= is a weak default used only when nothing else assigned
    (the last one wins), ?= assigns when nothing did before."""
    v, weak = None, None
    for op, body, _ in assigns.get(var, []):
        if op in ("=", ":="):
            v = body
        elif op == "?=":
            v = body if v is None else v
        elif op == "??=":
            weak = body
        elif op in ("+=", ".="):
            v = (v or "") + (" " if op == "+=" else "") + body
        elif op in ("=+", "=."):
            v = body + (" " if op == "=+" else "") + (v or "")
    return v if v is not None else weak


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

    for f in files:
        if f.endswith((".bb", ".bbappend")):
            check_sources(c, src, layer, f, parsed[f])

    for frag in sorted(glob.glob(os.path.join(layer, "recipes-kernel/*/*/*.cfg"))):
        for n, l in enumerate(open(frag), 1):
            l = l.strip()
            if l and not l.startswith("#") and not re.match(r'^CONFIG_[A-Z0-9_]+=(y|m|"[^"]*"|[0-9]+)$', l):
                c.err(frag, n, f"not a kernel config line: {l!r}")


REMOTE = re.compile(r"^(https?|ftp)://|^\$\{[A-Z_]*MIRROR\}/")


def lic_md5(path, opts):
    data = open(path, "rb").read()
    if "beginline" in opts or "endline" in opts:
        lines = data.split(b"\n")
        b, e = int(opts.get("beginline", 1)), int(opts.get("endline", len(lines)))
        data = b"\n".join(lines[b - 1:e]) + b"\n"
    return hashlib.md5(data).hexdigest()


def check_sources(c, src, layer, f, a):
    """SRC_URI file:// entries exist in the recipe's FILESPATH (the layer),
    remote files carry a sha256sum, LIC_FILES_CHKSUM md5 values are well
    formed and, where the file is in the layer or the tree, equal."""
    rel = os.path.relpath(f, layer)
    thisdir = os.path.dirname(f)
    base = os.path.basename(f).split(".bb")[0]
    bpn = base.split("_")[0]
    pv = base.split("_")[1] if "_" in base else ""
    paths = [os.path.join(thisdir, d) for d in (f"{bpn}-{pv}", bpn, "files")]
    for op, body, _ in a.get("FILESEXTRAPATHS:prepend", []):
        for d in body.split(":"):
            if d.startswith("${THISDIR}/"):
                paths.insert(0, os.path.join(thisdir, d[len("${THISDIR}/"):]))
    uris = " ".join(body for var in ("SRC_URI", "SRC_URI:append") for _, body, _ in a.get(var, []))
    uris = re.sub(r"\$\{@[^}]*\}", " ", uris)
    local_files = {}
    remote = False
    for u in uris.split():
        if u.startswith("file://"):
            name = u[len("file://"):].split(";")[0]
            if "${" in name:
                continue    # a user-supplied file (the recipe checks it at parse time)
            found = [p for p in paths if os.path.exists(os.path.join(p, name))]
            if not found:
                c.err(rel, 0, f"SRC_URI file://{name} is in none of {', '.join(os.path.relpath(p, layer) for p in paths)}")
            else:
                local_files[name] = os.path.join(found[0], name)
        elif REMOTE.match(u):
            remote = True
    if remote:
        sha = [b for _, b, _ in a.get("SRC_URI[sha256sum]", [])]
        if not sha or not re.fullmatch(r"[0-9a-f]{64}", sha[-1]):
            c.err(rel, 0, "a remote SRC_URI without SRC_URI[sha256sum] (64 hex digits)")
    lic = value(a, "LICENSE")
    if f.endswith(".bb") and not lic:
        c.err(rel, 0, "no LICENSE")
    chk = value(a, "LIC_FILES_CHKSUM")
    image_like = os.path.basename(thisdir) in ("images", "packagegroups")
    if f.endswith(".bb") and lic and lic != "CLOSED" and not chk and not image_like:
        c.err(rel, 0, "LICENSE without LIC_FILES_CHKSUM")
    for entry in (chk or "").split():
        parts = entry[len("file://"):].split(";")
        opts = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        name = parts[0]
        if "${" in opts.get("md5", ""):
            continue    # user-supplied (sinit-acm)
        if not re.fullmatch(r"[0-9a-f]{32}", opts.get("md5", "")):
            c.err(rel, 0, f"LIC_FILES_CHKSUM {name}: md5 missing or malformed")
            continue
        if name in local_files:
            path = local_files[name]
        elif not remote and "${" not in name and src and os.path.exists(os.path.join(src, name)):
            path = os.path.join(src, name)
        else:
            c.info.append(f"{rel}: LIC_FILES_CHKSUM {name}: in the fetched source, not computed here")
            continue
        if lic_md5(path, opts) != opts["md5"]:
            c.err(rel, 0, f"LIC_FILES_CHKSUM md5 of {name} is {lic_md5(path, opts)}, the recipe says {opts['md5']}")


def check_kconfig(c, layer, kconfig):
    """Every option a fragment sets is an option of that kernel's Kconfig:
    set, or listed as not set, in its configuration."""
    known = set()
    for l in open(kconfig):
        m = re.match(r"^(?:# )?(CONFIG_[A-Za-z0-9_]+)(?:=| is not set)", l)
        if m:
            known.add(m.group(1))
    for frag in sorted(glob.glob(os.path.join(layer, "recipes-kernel/*/*/*.cfg"))):
        for n, l in enumerate(open(frag), 1):
            m = re.match(r"^(CONFIG_[A-Za-z0-9_]+)=", l.strip())
            if m and m.group(1) not in known:
                c.err(os.path.relpath(frag, layer), n, f"{m.group(1)} is not an option of {os.path.basename(kconfig)}")


# ---- --run: a shell function of a class or recipe, as bitbake would run it ----
class Vars:
    def __init__(self, assigns, given):
        self.assigns, self.given = assigns, given

    def raw(self, var):
        if var in self.given:
            return self.given[var]
        v = value(self.assigns, var)
        if v is None:
            raise KeyError(var)
        return v

    def getVar(self, var, expand=True):
        try:
            return self.expand(self.raw(var)) if expand else self.raw(var)
        except KeyError:
            return None

    # bitbake's own patterns (bb/data_smart.py): a reference it cannot
    # resolve stays in the text for the shell, so ${rootfs%.x} and ${1} are
    # the shell's.  Here an unresolved name with a capital letter is an error:
    # OE's and this layer's variables are upper case, shell variables not.
    VAR_RE = re.compile(r"\$\{[a-zA-Z0-9\-_+./~:]+?\}")
    PY_RE = re.compile(r"\$\{@.+?\}")

    def expand(self, text):
        for _ in range(50):
            new = self.VAR_RE.sub(self._var, text)
            new = self.PY_RE.sub(lambda m: str(eval(m.group(0)[3:-1], {"d": self, "bb": BB, "os": os})), new)
            if new == text:
                return text
            text = new
        raise RecursionError(text[:80])

    def _var(self, m):
        name = m.group(0)[2:-1]
        if name in self.given or value(self.assigns, name) is not None:
            return self.raw(name)
        if re.search(r"[A-Z]", name):
            raise KeyError(name)
        return m.group(0)


class BB:
    class utils:
        @staticmethod
        def contains(var, items, t, f, d):
            have = set((d.getVar(var) or "").split())
            return t if set(items.split()) <= have else f

        @staticmethod
        def contains_any(var, items, t, f, d):
            have = set((d.getVar(var) or "").split())
            return t if set(items.split()) & have else f


def run(files, func, given):
    c = Checker(layerdir=os.path.dirname(os.path.dirname(os.path.abspath(files[0]))))
    assigns, funcs = {}, {}
    for f in files:
        for var, ops in c.check_file(f).items():
            assigns.setdefault(var, []).extend(ops)
        for name, is_py, body in c.funcs[f]:
            if is_py:
                continue
            name, _, how = name.partition(":")
            if how == "append":
                funcs[name] = funcs.get(name, []) + body
            elif not how:
                funcs[name] = body
    if c.errors:
        print("\n".join(c.errors))
        return 1
    v = Vars(assigns, given)
    need, todo = [], [func]
    while todo:
        n = todo.pop()
        if n in need:
            continue
        if n not in funcs:
            print(f"no shell function {n} in {' '.join(files)}")
            return 1
        need.append(n)
        text = "\n".join(funcs[n])
        todo += [m for m in funcs if m not in need and re.search(r"(^|[\s;|(`$])" + re.escape(m) + r"(\s|$|\))", text)]
    script = ['bbfatal() { echo "ERROR: $*" >&2; exit 1; }', 'bbnote() { echo "NOTE: $*"; }',
              'bbwarn() { echo "WARNING: $*" >&2; }']
    for n in need:
        try:
            body = v.expand("\n".join(funcs[n]))
        except KeyError as e:
            print(f"{n}: variable {e.args[0]} is not set")
            return 1
        script.append(f"{n}() {{\n{body}\n}}")
    script.append(func)
    return subprocess.run(["sh", "-e", "-c", "\n".join(script)]).returncode


def main():
    c = Checker()
    c.info = []
    if sys.argv[1] == "--run":
        # --run FILE[,FILE...] FUNC [VAR=VALUE...]
        given = dict(a.split("=", 1) for a in sys.argv[4:])
        sys.exit(run(sys.argv[2].split(","), sys.argv[3], given))
    kconfig = None
    if sys.argv[1] == "--kconfig":
        kconfig = sys.argv[2]
        del sys.argv[1:3]
    if sys.argv[1] == "--file":
        for f in sys.argv[2:]:
            c.check_file(f)
        c.finish()
    else:
        c.srcdir, c.layerdir = sys.argv[1], sys.argv[2]
        check_layer(c, sys.argv[1], sys.argv[2])
        if kconfig:
            check_kconfig(c, sys.argv[2], kconfig)
        for i in c.info:
            print("note:", i)
    for e in c.errors:
        print(e)
    sys.exit(1 if c.errors else 0)


if __name__ == "__main__":
    main()
