"""Hostile and clumsy input to the console (see test_console_input.sh)."""

import hashlib
import html
import os
import re
import subprocess
import time
import urllib.parse

from console import Client, expect, expect_eq, fail, q1, run, visible_text, db

HUB = os.environ["HUB"]
HUBDB = os.environ["HUBDB"]
WORK = os.environ["WORK"]
BASE = os.environ["BASE"]
PW = "oolong and rain 2211"

# What people type, or paste from elsewhere.
SCRIPT = "<script>alert(1)</script>"
NAMES = [
    SCRIPT,
    "<img src=x onerror=alert(2)>",
    "O'Brien \"Tea\" Lee",
    "Tom & Jerry &amp; co",
    "\u202egnp.exe",                        # right-to-left override
    "\U0001F468\u200d\U0001F469\u200d\U0001F467 一家",  # zero-width joiners
    "=HYPERLINK(\"http://x.example\",\"y\")",  # a formula, for the export
]


def hub(*args):
    r = subprocess.run([HUB, "--db", HUBDB] + list(args), capture_output=True, text=True)
    expect(r.returncode == 0, "tingzi-hub %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout + r.stderr


def csv_field(s):
    return '"' + s.replace('"', '""') + '"' if re.search(r'[",\n]', s) else s


def fingerprint():
    c = db(HUBDB)
    try:
        h = hashlib.sha256()
        for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            if re.search(r"session|login", t):
                continue
            for row in c.execute('SELECT * FROM "%s" ORDER BY 1' % t):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        c.close()


def typed_texts(page):
    """The text of every <bdi> on a page (where the console puts what people typed), decoded."""
    return [html.unescape(s) for s in re.findall(r"<bdi>(.*?)</bdi>", page, re.S)]


def shown_as_text(page, value, where):
    """value appears on the page as text: in a <bdi>, escaped, and never as markup."""
    raw = re.findall(r"<bdi>(.*?)</bdi>", page, re.S)
    expect(any(html.unescape(s) == value for s in raw), "%s does not show %r as typed text" % (where, value))
    for s in raw:
        expect("<" not in s and ">" not in s, "%s has markup inside a <bdi>: %r" % (where, s[:120]))
    own_scripts(page, where)


def own_scripts(page, where):
    for tag in re.findall(r"<script\b[^>]*>", page, re.I):
        expect(re.fullmatch(r'<script src="/static/console\.js"( defer)?>', tag),
               "%s has a <script> the console did not write: %s" % (where, tag))
    expect("alert(1)</script>" not in page and "<img src=x" not in page and "<img src=\"x\"" not in page,
           "%s has a raw markup from data" % where)


def main():
    A = re.search(r"\b[0-9a-f]{32}\b", hub("venues", "add", "听雨茶馆", "--tz", "Asia/Shanghai")).group(0)
    tok = re.search(r"/setup\?t=([A-Za-z0-9_-]{43})", hub("users", "add", "org@example.org", "--role",
                                                            "organizer", "--venue", A)).group(1)
    c = Client(BASE, lang="en")
    c.setup(tok, PW)
    V = "/venues/" + A

    # ---- names with markup, quotes, &, RTL override, ZWJ: through the console's CSV import ----
    rows = ["name,phone,code"] + ["%s,1390000%04d,H%02d" % (csv_field(n), i, i) for i, n in enumerate(NAMES)]
    data = ("\n".join(rows) + "\n").encode()
    c.page(V + "/members/import")
    r = c.post_multipart(V + "/members/import", files={"file": ("hostile.csv", data, "text/csv")})
    expect_eq(r.status, 303, "importing the hostile names (%s)" % visible_text(r.text)[:300])
    for i, n in enumerate(NAMES):
        expect_eq(q1(HUBDB, "SELECT name FROM members WHERE code = ?", "H%02d" % i), n, "the name stored for H%02d" % i)
    page = c.page(V + "/members").text
    for n in NAMES:
        shown_as_text(page, n, "the members list")
    page = c.page(V + "/members?q=script").text
    shown_as_text(page, SCRIPT, "the search for 'script'")
    for i, n in enumerate(NAMES):
        uid = q1(HUBDB, "SELECT uid FROM members WHERE code = ?", "H%02d" % i)
        p = c.page("%s/members/%s" % (V, uid)).text
        shown_as_text(p, n, "member H%02d's page" % i)
        title = re.search(r"<title>(.*?)</title>", p, re.S)
        expect(title and "<" not in title.group(1), "member H%02d's <title> holds markup" % i)
    # the export neutralises the formula and keeps the rest as typed
    r = c.get(V + "/members.csv")
    expect_eq(r.status, 200, "members.csv")
    body = r.raw.decode("utf-8-sig")
    expect("'=HYPERLINK" in body, "the export does not neutralise a formula: %r" % body[:400])
    expect(SCRIPT in body, "the export does not keep the name as typed")
    # a search query with markup is shown back as text
    r = c.get(V + "/members?q=" + urllib.parse.quote(SCRIPT))
    expect_eq(r.status, 200, "a search for markup")
    own_scripts(r.text, "the search for markup")
    expect(html.escape(SCRIPT, quote=True).replace("&#x27;", "'") in r.text.replace("&#39;", "'").replace("&#x27;", "'"),
           "the search box does not show the query escaped")
    print("names: %d hostile names stored as typed, shown as text in <bdi>, the formula neutralised in the export"
          % len(NAMES))

    # ---- an event title with all of it ----
    title = SCRIPT + " & \"quotes\" 'single' \u202eRTL \u200d\u200dZWJ"
    c.page(V + "/events")
    r = c.post(V + "/events", {"title": title, "start": "2030-05-01T19:00", "end": "2030-05-01T21:00"})
    expect_eq(r.status, 303, "creating the event (%s)" % visible_text(r.text)[:200])
    expect_eq(q1(HUBDB, "SELECT title FROM events WHERE venue_id = ? AND title LIKE '<script>%'", A), title,
              "the title stored")
    ev = r.location.rstrip("/").split("/")[-1]
    shown_as_text(c.page(r.location).text, title, "the event's page")
    shown_as_text(c.page(V + "/events").text, title, "the events list")
    r = c.get("%s/events/%s.csv" % (V, ev))
    expect_eq(r.status, 200, "the event's CSV")
    # the poster's line, from the query
    r = c.get(V + "/poster?line=" + urllib.parse.quote(SCRIPT))
    expect_eq(r.status, 200, "a poster with a line of markup")
    own_scripts(r.text, "the poster")
    r = c.get(V + "/poster.svg?line=" + urllib.parse.quote(SCRIPT))
    expect_eq(r.status, 200, "poster.svg with a line of markup")
    expect("<script" not in r.text, "poster.svg holds a <script> from its line")
    print("event title and poster line: stored as typed, shown as text")

    # ---- 60 MB: a clear 413 page, nothing stored ----
    before = fingerprint()
    big = b"name,phone,code\n" + b"x" * (60 * 1000 * 1000)
    t = time.monotonic()
    c.page(V + "/members/import")
    r = c.post_multipart(V + "/members/import", files={"file": ("big.csv", big, "text/csv")}, timeout=120)
    expect_eq(r.status, 413, "a 60 MB upload")
    text = visible_text(r.text)
    expect("Nothing was saved" in text or "Nothing was imported" in text, "the 413 page: %s" % text[:300])
    expect(re.search(r"\b4 ?MB|4 ?MiB", text), "the 413 page does not say the limit: %s" % text[:300])
    expect(fingerprint() == before, "a 60 MB upload changed the database")
    expect(c.signed_in(), "still signed in after the 413")
    print("60 MB upload: 413 in %.1f s, '%s'" % (time.monotonic() - t, text[:120]))

    # ---- a CSV in GBK: a clear message, nothing stored ----
    gbk = "name,phone,code\n张三,13812345678,G001\n李四,13812345679,G002\n".encode("gbk")
    c.page(V + "/members/import")
    r = c.post_multipart(V + "/members/import", files={"file": ("会员.csv", gbk, "text/csv")})
    expect_eq(r.status, 400, "a GBK file")
    text = visible_text(r.text)
    expect("UTF-8" in text, "the GBK refusal does not mention UTF-8: %s" % text[:300])
    expect_eq(q1(HUBDB, "SELECT count(*) FROM members WHERE code LIKE 'G00%'"), 0, "members from the GBK file")
    # and in Chinese, as an organizer there reads it
    cz = Client(BASE, lang="zh-CN,zh;q=0.9")
    cz.cookies = dict(c.cookies)
    cz.cookies.pop("tzlang", None)
    cz.page(V + "/members/import")
    r = cz.post_multipart(V + "/members/import", files={"file": ("会员.csv", gbk, "text/csv")})
    expect_eq(r.status, 400, "a GBK file (zh-Hans)")
    expect("UTF-8" in visible_text(r.text) and re.search(r"[\u4e00-\u9fff]", visible_text(r.text)),
           "the Chinese refusal of a GBK file")
    print("GBK: refused (400), 'UTF-8' named, nothing stored")

    # ---- the same import twice: the second says unchanged ----
    ok = "name,phone,code\n王五,13500000001,W001\n赵六,13500000002,W002\n".encode()
    for n in (1, 2):
        c.page(V + "/members/import")
        r = c.post_multipart(V + "/members/import", files={"file": ("w.csv", ok, "text/csv")})
        expect_eq(r.status, 303, "import %d" % n)
        flash = visible_text(c.page(r.location).text)
        if n == 1:
            expect("2 added" in flash, "the first import's message: %s" % flash[:300])
        else:
            expect("0 added" in flash and "2 unchanged" in flash, "the second import's message: %s" % flash[:300])
    expect_eq(q1(HUBDB, "SELECT count(*) FROM members WHERE code LIKE 'W00%'"), 2, "members after two imports")
    audit = q1(HUBDB, "SELECT count(*) FROM console_audit WHERE action = 'members.import'")
    print("import twice: 2 added, then 0 added and 2 unchanged (%d import audits)" % audit)

    # ---- the same event form sent twice (a double click): one event ----
    section("double", lambda: double_click(c, V))
    section("stale", lambda: stale_forms(c, A))
    section("next", lambda: next_param(c))
    expect(not FAILED, "%d finding(s):\n  %s" % (len(FAILED), "\n  ".join(FAILED)))


FAILED = []


def section(name, fn):
    """A check that goes on to the next one when it fails, so one finding hides no other."""
    try:
        fn()
    except Exception as e:  # a Fail, or a broken connection
        FAILED.append("%s: %s" % (name, e))
        print("FAIL (%s): %s" % (name, e))


def double_click(c, V):
    c.page(V + "/events")
    form = {"title": "Double click", "start": "2030-06-01T19:00", "end": "2030-06-01T21:00"}
    r1 = c.post(V + "/events", form)
    r2 = c.post(V + "/events", form)
    n = q1(HUBDB, "SELECT count(*) FROM events WHERE title = 'Double click'")
    expect(r1.status == 303 and r2.status in (303, 409), "the two posts: %d, %d" % (r1.status, r2.status))
    expect_eq(n, 1, "events made by one form sent twice (a double click)")
    print("event form sent twice: one event")


def stale_forms(c, A):
    V = "/venues/" + A
    uid = q1(HUBDB, "SELECT uid FROM members WHERE code = 'W001'")
    # a form opened before signing in again: its token is stale
    c.page("%s/members/%s" % (V, uid))
    stale = c.csrf
    c.post("/logout", {})
    c.login("org@example.org", PW)
    before = fingerprint()
    r = c.post("%s/members/%s" % (V, uid), {"tier": "stale", "expires": "", "code": "W001"}, csrf=stale)
    expect_eq(r.status, 403, "a member edit with a stale token")
    expect("out of date" in visible_text(r.text), "the stale-token page: %s" % visible_text(r.text)[:200])
    expect(fingerprint() == before, "a stale form changed the database")
    # a session that expires while the form is open
    c.page("%s/members/%s" % (V, uid))
    h = hashlib.sha256(c.cookies["tzs"].encode()).digest()
    d = db(HUBDB)
    d.execute("UPDATE sessions SET seen_ms = seen_ms - 12 * 3600 * 1000 - 60000 WHERE hash = ?", (h,))
    d.commit()
    d.close()
    r = c.post("%s/members/%s" % (V, uid), {"tier": "expired", "expires": "", "code": "W001"})
    expect_eq(r.status, 403, "a member edit after the session expired")
    text = visible_text(r.text)
    expect("signed out" in text and "Sign in" in text, "the page does not say to sign in again: %s" % text[:200])
    expect(re.search(r'href="/login', r.text), "the page has no link to sign in")
    expect_eq(q1(HUBDB, "SELECT tier FROM members WHERE uid = ?", uid), "", "the tier after the refused edits")
    expect(fingerprint() == before, "a form of an expired session changed the database")
    c.login("org@example.org", PW)
    print("stale token and expired session: 403, said so, nothing stored")


def next_param(c):
    """After signing in, next= leads only to a page of this site, however it is written."""
    bad = ["//evil.example/", "/\\evil.example/", "/\t/evil.example/", "/%09/evil.example/", "https://evil.example/",
           "/\r\nSet-Cookie: x=y", "javascript:alert(1)", "/ /evil.example"]
    for nxt in bad:
        d = Client(BASE, lang="en")
        d.page("/login")
        r = d.post("/login", {"email": "org@example.org", "password": PW, "next": nxt})
        expect_eq(r.status, 303, "login with next=%r" % nxt)
        loc = r.location
        # what a browser does with the Location: tabs and line breaks are dropped before it is read
        seen = re.sub(r"[\t\r\n]", "", loc)
        target = urllib.parse.urljoin(BASE + "/login", seen)
        expect(urllib.parse.urlsplit(target).netloc == urllib.parse.urlsplit(BASE).netloc,
               "next=%r sends the browser to %r (Location: %r)" % (nxt, target, loc))
        expect("\n" not in loc and "\r" not in loc, "a line break in the Location for next=%r" % nxt)
        # the same through the sign-in page's query, signed in already
        r = d.get("/login?next=" + urllib.parse.quote(nxt, safe=""))
        if r.status in (302, 303):
            seen = re.sub(r"[\t\r\n]", "", r.location)
            target = urllib.parse.urljoin(BASE + "/login", seen)
            expect(urllib.parse.urlsplit(target).netloc == urllib.parse.urlsplit(BASE).netloc,
                   "GET /login?next=%r (signed in) sends the browser to %r" % (nxt, target))
    print("next=: %d off-site forms stay on the site" % len(bad))


if __name__ == "__main__":
    run(main)
