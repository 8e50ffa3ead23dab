#!/usr/bin/python3
# The browser half of dashboard_browser.sh: Debian's chromium, headless,
# through chromium-driver and python3-selenium.  Environment: DASH_URL,
# READ_TOKEN, WRITE_TOKEN, OUT (a directory for the screenshots).
# Screenshots are decoded here (zlib and the PNG filters of RFC 2083,
# section 6) and their pixels compared with the colours of the page's
# style sheet at the rectangles the DOM reports for the rows and cells.
import hashlib
import json
import os
import ssl
import struct
import sys
import time
import urllib.error
import urllib.request
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["DASH_URL"]
OUT = os.environ["OUT"]
READ, WRITE = os.environ["READ_TOKEN"], os.environ["WRITE_TOKEN"]
FAIL_BG = (0xf8, 0xd0, 0xd0)	# style.css: tr.fail td, #diff td.found
PASS_BG = (0xd2, 0xf0, 0xd2)	# style.css: tr.pass td.res, #diff td.expected
WHITE = (0xff, 0xff, 0xff)


def ok(msg):
    print("ok - " + msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                fail("unexpected PNG format %d/%d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, [[tuple(r[x * bpp:x * bpp + 3]) for x in range(w)] for r in rows]


def shot(drv, name):
    path = os.path.join(OUT, name + ".png")
    drv.save_screenshot(path)
    w, h, px = png_pixels(path)
    colours = {c for row in px[::8] for c in row[::8]}
    if len(colours) < 6:
        fail("%s: a nearly blank screenshot (%d colours)" % (name, len(colours)))
    return px


def colour_at(drv, px, elem, where="right"):
    """The screenshot's colour inside @elem, away from its text: near its right edge, mid-height."""
    r = drv.execute_script("const r = arguments[0].getBoundingClientRect();"
                           " return [r.left, r.top, r.right, r.bottom, window.devicePixelRatio];", elem)
    x = (r[2] - 4) if where == "right" else (r[0] + 3)
    y = (r[1] + r[3]) / 2
    return px[int(y * r[4])][int(x * r[4])]


def near(c, want):
    return all(abs(a - b) <= 3 for a, b in zip(c, want))


def wait(drv):
    return WebDriverWait(drv, 20, poll_frequency=0.1)


def texts(drv, css):
    """The text of every element @css selects, read at one instant (the page re-renders as it polls)."""
    return drv.execute_script("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)", css)


def wait_loaded(drv, view):
    wait(drv).until(
        lambda d: d.execute_script("return document.body.dataset.loaded") == view)


def api(path, token=None, body=None, headers=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    h = dict(headers or {})
    if token:
        h["Cookie"] = "measured_session=" + token
    if body is not None:
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(URL + path, data=None if body is None else json.dumps(body).encode(),
                                 headers=h, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def login(drv, token):
    drv.get(URL + "/")
    wait(drv).until(lambda d: d.find_element(By.ID, "login").is_displayed())
    drv.find_element(By.ID, "token").send_keys(token)
    drv.find_element(By.CSS_SELECTOR, "#login-form button").click()


t0 = time.time()
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
          "--ignore-certificate-errors", "--force-device-scale-factor=1", "--disable-dev-shm-usage"):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    # a wrong token: refused, shown, and (dashboard_browser.sh checks) audited
    login(drv, "mdt_" + "1" * 64)
    wait(drv).until(lambda d: "login failed" in d.find_element(By.ID, "error").text)
    ok("a wrong token is refused at login")

    # ---- the read-only user ----
    login(drv, READ)
    wait_loaded(drv, "fleet")
    wait(drv).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#machines tbody tr")) == 3)
    rows = drv.find_elements(By.CSS_SELECTOR, "#machines tbody tr")
    names = [r.get_attribute("data-machine") for r in rows]
    if names != ["db-1", "web-1", "web-2"]:
        fail("fleet order (failures first, then by name): %s" % names)
    cards = drv.find_element(By.ID, "summary").text.split("\n")
    if "1" not in cards or cards[cards.index("failing") - 1] != "1" or cards[cards.index("passing") - 1] != "2":
        fail("summary cards: %s" % cards)
    ok("fleet: 3 machines, 1 failing, 2 passing; the failure listed first")
    px = shot(drv, "fleet")
    fail_cell = rows[0].find_elements(By.TAG_NAME, "td")[0]
    pass_res = rows[1].find_elements(By.CSS_SELECTOR, "td.res")[0]
    pass_name = rows[1].find_elements(By.TAG_NAME, "td")[0]
    c1, c2, c3 = colour_at(drv, px, fail_cell), colour_at(drv, px, pass_res), colour_at(drv, px, pass_name)
    if not (near(c1, FAIL_BG) and near(c2, PASS_BG) and near(c3, WHITE)):
        fail("fleet screenshot: failing row %s, pass result %s, pass name %s" % (c1, c2, c3))
    ok("fleet screenshot: the failing row is red, a pass green, at the DOM's rectangles")

    # the name filter, done by the server
    drv.find_element(By.ID, "filter").send_keys("web")
    wait(drv).until(lambda d: texts(d, "#machines tbody tr td:first-child") == ["web-1", "web-2"])
    ok("the name filter lists web-1 and web-2")

    # the failing machine: expected and found side by side
    drv.get(URL + "/#machine/db-1")
    wait_loaded(drv, "machine/db-1")
    wait(drv).until(lambda d: d.find_element(By.ID, "m-diff").is_displayed())
    cells = {r.find_element(By.TAG_NAME, "th").text: r.find_elements(By.TAG_NAME, "td")
             for r in drv.find_elements(By.CSS_SELECTOR, "#diff tbody tr")}
    exp_desc, found_desc = cells["Description"][0].text, cells["Description"][1].text
    if exp_desc != "kernel 6.2" or found_desc != "<b>kernel</b> 6.1":
        fail("difference descriptions: %r / %r" % (exp_desc, found_desc))
    if drv.find_elements(By.CSS_SELECTOR, "#diff b"):
        fail("an event description was rendered as HTML")
    want_e, want_f = hashlib.sha256(b"kernel 6.2").hexdigest(), hashlib.sha256(b"<b>kernel</b> 6.1").hexdigest()
    if cells["Digest"][0].text != want_e or cells["Digest"][1].text != want_f:
        fail("difference digests: %s / %s" % (cells["Digest"][0].text, cells["Digest"][1].text))
    head = drv.find_element(By.ID, "m-diff-head").text
    if not head.startswith("PCR 16 (sha256), event 0: event-differs, policy next, manifest default"):
        fail("difference heading: %r" % head)
    ok("db-1: expected 'kernel 6.2' vs found '<b>kernel</b> 6.1' (as text), digests as hashlib computes them")
    px = shot(drv, "machine-db-1")
    ce, cf = colour_at(drv, px, cells["Digest"][0]), colour_at(drv, px, cells["Digest"][1])
    te, tf = colour_at(drv, px, cells["Event type"][0]), colour_at(drv, px, cells["Event type"][1])
    if not (near(ce, PASS_BG) and near(cf, FAIL_BG) and near(te, WHITE) and near(tf, WHITE)):
        fail("difference screenshot: digests expected %s found %s, event types (equal) %s %s" % (ce, cf, te, tf))
    ok("difference screenshot: the differing digests green (expected) and red (found), the equal event types plain")
    hist = [r.text for r in drv.find_elements(By.CSS_SELECTOR, "#history tbody tr")]
    if not any("attest fail manifest-mismatch" in h for h in hist):
        fail("db-1 history: %s" % hist)
    ok("db-1 history shows the failed attestation")
    # its history pages by the server: 50 newest, then the older ones
    if len(hist) != 50 or "old record" in "".join(hist[:5]):
        fail("db-1's first history page: %d rows" % len(hist))
    drv.find_element(By.ID, "h-older").click()
    wait(drv).until(lambda d: "old record 1" in texts(d, "#history tbody tr td:nth-child(5)"))
    older = texts(drv, "#history tbody tr td:nth-child(5)")
    if older[-1] != "old record 1" or any("manifest-mismatch" in t for t in older):
        fail("db-1's older history: %s" % older[-3:])
    drv.find_element(By.ID, "h-newest").click()
    wait(drv).until(lambda d: len(texts(d, "#history tbody tr")) == 50 and
                    "old record 60" not in texts(d, "#history tbody tr td:nth-child(5)")[:3])
    ok("db-1's history pages: 50 newest, Older reaches the oldest record, Newest returns")

    # read-only: no buttons, and the endpoint says no
    drv.get(URL + "/#machine/web-2")
    wait_loaded(drv, "machine/web-2")
    if drv.find_element(By.ID, "m-actions").is_displayed():
        fail("a read-only user sees the revoke button")
    res = drv.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/api/session').then(r => r.json()).then(s =>
          fetch('/api/machine/revoke', {method: 'POST', headers: {'Content-Type': 'application/json',
            'X-CSRF-Token': s.csrf}, body: JSON.stringify({machine: 'web-2'})}))
          .then(r => r.json().then(j => done([r.status, j.reason])));""")
    if res != [403, "read-only"]:
        fail("a read-only revoke answered %s" % res)
    st, j = api("/api/machine?name=web-2", READ)
    if st != 200 or j["machine"]["state"] != "approved":
        fail("web-2 after a read-only revoke: %s %s" % (st, j))
    ok("a read-only token cannot revoke (403 read-only); web-2 stays approved")

    # the other pages render
    drv.get(URL + "/#policies")
    wait_loaded(drv, "policies")
    pols = texts(drv, "#policy-list tbody tr td:first-child")
    if pols != ["good", "next"]:
        fail("policies: %s" % pols)
    drv.find_element(By.LINK_TEXT, "default").click()
    wait(drv).until(lambda d: "kernel 6.2" in d.find_element(By.ID, "manifest-text").text or
                                 "<b>kernel</b> 6.1" in d.find_element(By.ID, "manifest-text").text)
    shot(drv, "policies")
    ok("policies page lists good and next, and shows a manifest")
    drv.get(URL + "/#audit")
    wait_loaded(drv, "audit")
    drv.find_element(By.ID, "a-machine").send_keys("db-1")
    drv.find_element(By.ID, "a-search").click()
    wait(drv).until(lambda d: texts(d, "#audit-list tbody tr td:nth-child(3)") and all(
        t == "db-1" for t in texts(d, "#audit-list tbody tr td:nth-child(3)")))
    first = texts(drv, "#audit-list tbody tr td:first-child")
    drv.find_element(By.ID, "a-older").click()
    wait(drv).until(lambda d: texts(d, "#audit-list tbody tr td:first-child") != first)
    second = texts(drv, "#audit-list tbody tr td:first-child")
    if len(first) != 50 or not second or int(second[0]) >= int(first[-1]):
        fail("audit pages: %s ... %s then %s" % (first[:1], first[-1:], second[:1]))
    shot(drv, "audit")
    ok("audit log page searches by machine, and its next page starts below the first's last id")
    drv.find_element(By.ID, "logout").click()
    wait(drv).until(lambda d: d.find_element(By.ID, "login").is_displayed())

    # ---- forged requests, with the write token's cookie ----
    st, s = api("/api/session", WRITE)
    csrf = s["csrf"]
    for what, hdrs in (("no CSRF token", {}),
                       ("a wrong CSRF token", {"X-CSRF-Token": "0" * 64}),
                       ("another origin", {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}),
                       ("a cross-site fetch", {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"})):
        st, j = api("/api/machine/revoke", WRITE, {"machine": "web-2"}, hdrs)
        if st != 403 or j.get("reason") != "csrf":
            fail("forged POST with %s: %s %s" % (what, st, j))
    st, j = api("/api/machine?name=web-2", READ)
    if j["machine"]["state"] != "approved":
        fail("web-2 changed by a forged POST")
    ok("forged POSTs (no or wrong CSRF token, other origin, cross-site) refused; web-2 stays approved")

    # ---- the operator revokes web-2 on the page ----
    login(drv, WRITE)
    wait_loaded(drv, "fleet")
    drv.get(URL + "/#machine/web-2")
    wait_loaded(drv, "machine/web-2")
    wait(drv).until(lambda d: d.find_element(By.ID, "m-actions").is_displayed())
    drv.find_element(By.ID, "m-revoke").click()
    wait(drv).until(lambda d: "revoked" in d.find_element(By.ID, "m-info").text)
    st, j = api("/api/machine?name=web-2", READ)
    if j["machine"]["state"] != "revoked":
        fail("web-2 after the revoke button: %s" % j)
    ok("the operator revoked web-2 with the page's button")
    # the fleet page follows without a reload
    drv.get(URL + "/#fleet")
    wait_loaded(drv, "fleet")
    wait(drv).until(lambda d: "revoked" in "".join(texts(d, "#machines tr[data-machine='web-2']")))
    ok("the fleet page shows web-2 revoked")

    # the page follows a change made elsewhere by itself, without a reload
    drv.execute_script("window.notReloaded = true")
    csrf_w = api("/api/session", WRITE)[1]["csrf"]
    st, j = api("/api/machine/revoke", WRITE, {"machine": "db-1"}, {"X-CSRF-Token": csrf_w})
    if st != 200:
        fail("revoke db-1 through the API: %s %s" % (st, j))
    wait(drv).until(lambda d: "revoked" in "".join(texts(d, "#machines tr[data-machine='db-1']")))
    if not drv.execute_script("return window.notReloaded === true"):
        fail("the page was reloaded")
    st, j = api("/api/machine/approve", WRITE, {"machine": "db-1"}, {"X-CSRF-Token": csrf_w})
    wait(drv).until(lambda d: "approved" in "".join(texts(d, "#machines tr[data-machine='db-1']")))
    ok("the fleet page shows a change made elsewhere within its poll, without a reload")

    # the operator adds a policy with the page's form (the manifest file uploaded)
    drv.get(URL + "/#policies")
    wait_loaded(drv, "policies")
    wait(drv).until(lambda d: d.find_element(By.ID, "policy-form").is_displayed())
    drv.find_element(By.ID, "p-name").send_keys("canary")
    drv.find_element(By.ID, "p-pcrs").send_keys("16")
    drv.find_element(By.ID, "p-file").send_keys(os.path.join(OUT, "next.json"))
    drv.find_element(By.CSS_SELECTOR, "#policy-form button").click()
    wait(drv).until(lambda d: "canary" in texts(d, "#policy-list tbody tr td:first-child"))
    st, p = api("/api/policies?name=canary", READ)
    if st != 200 or p["pcrs"] != [16] or p["banks"] != ["sha256"] or \
            json.loads(p["manifests"][0]["manifest"]) != json.load(open(os.path.join(OUT, "next.json"))):
        fail("the policy added on the page: %s %s" % (st, p))
    ok("the operator added policy canary with the page's form (its manifest as uploaded)")
    st, j = api("/api/policy", READ, {"name": "x", "manifest": "{}"}, {"X-CSRF-Token": api("/api/session", READ)[1]["csrf"]})
    if st != 403 or j.get("reason") != "read-only":
        fail("a read-only policy add: %s %s" % (st, j))
    ok("a read-only token cannot add a policy (403 read-only)")
finally:
    drv.quit()
print("browser checks: %.1f s" % (time.time() - t0))
