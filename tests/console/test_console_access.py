"""The console's access rules against a real hub (see test_console_access.sh).

Phase "plain" (HTTP): fixtures through the hub's and the kiosk's command
lines, the route x role matrix, ids of another venue, CSRF, lockout, idle
sessions, disabled accounts, logout, session fixation, cookie attributes.
Phase "tls" (the same database over HTTPS): the session cookie is Secure.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

from console import Client, Fail, expect, expect_eq, fail, q1, run, visible_text, db

HUB = os.environ["HUB"]
TINGZI = os.environ["TINGZI"]
HUBDB = os.environ["HUBDB"]
WORK = os.environ["WORK"]
BASE = os.environ["BASE"]
STATE = os.path.join(WORK, "access-state.json")
PW = "correct horse tea 8613"  # every test account's password


def hub(*args, check=True):
    r = subprocess.run([HUB, "--db", HUBDB] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        fail("tingzi-hub %s: status %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def kiosk(dbfile, *args):
    r = subprocess.run([TINGZI, "--db", dbfile] + list(args), capture_output=True, text=True,
                       env=dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))
    if r.returncode != 0:
        fail("tingzi %s: status %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def first_id(text):
    m = re.search(r"\b[0-9a-f]{32}\b", text)
    expect(m, "no id in %r" % text)
    return m.group(0)


def setup_token(out):
    m = re.search(r"/setup\?t=([A-Za-z0-9_-]{43})", out)
    expect(m, "users add printed no set-up link: %r" % out)
    return m.group(1)


def user_add(email, role, venue=None):
    args = ["users", "add", email, "--role", role] + (["--venue", venue] if venue else [])
    r = hub(*args)
    return setup_token(r.stdout + r.stderr)


def sha(s):
    return hashlib.sha256(s.encode()).digest()


# ---- fixtures ----

class World:
    pass


def make_world():
    w = World()
    w.A = first_id(hub("venues", "add", "Venue A 茶馆", "--tz", "Asia/Shanghai").stdout)
    w.B = first_id(hub("venues", "add", "Venue B 书店", "--tz", "Asia/Taipei").stdout)
    for v, p in ((w.A, "A"), (w.B, "B")):
        path = os.path.join(WORK, "m%s.csv" % p)
        with open(path, "w") as f:
            f.write("name,phone,code\n")
            for i in range(1, 6):
                f.write("会员%s%d,1380000%s%03d,%s%04d\n" % (p, i, "1" if p == "A" else "2", i, p, i))
        hub("members", "import", path, "--venue", v)
    start = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() - 3600))
    end = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() + 3 * 3600))
    for v in (w.A, w.B):
        hub("events", "add", "--venue", v, "--title", "Tea night", "--start", start, "--end", end)
        hub("links", "add", "--venue", v, "https://t.me/+tingzitest", "--label", "Group")
    w.member = {v: q1(HUBDB, "SELECT uid FROM members WHERE venue_id = ? ORDER BY code LIMIT 1", v) for v in (w.A, w.B)}
    w.event = {v: q1(HUBDB, "SELECT uid FROM events WHERE venue_id = ?", v) for v in (w.A, w.B)}
    w.link = {v: q1(HUBDB, "SELECT uid FROM links WHERE venue_id = ?", v) for v in (w.A, w.B)}
    w.slug = q1(HUBDB, "SELECT slug FROM venues WHERE id = ?", w.A)
    for k in (w.member, w.event, w.link):
        for v in k.values():
            expect(v and re.fullmatch(r"[0-9a-f]{32}", v), "a fixture id is missing: %r" % k)
    # a kiosk enrolled in each venue (their ids are the {id} of the devices routes)
    w.device = {}
    for v, name in ((w.A, "a"), (w.B, "b")):
        w.device[v] = enroll(v, name)
    # the accounts
    w.tokens = {
        "owner": user_add("owner@example.org", "owner"),
        "staffA": user_add("staff.a@example.org", "staff", w.A),
        "orgA": user_add("org.a@example.org", "organizer", w.A),
        "orgB": user_add("org.b@example.org", "organizer", w.B),
        "victim": user_add("victim@example.org", "staff", w.A),
        "lock": user_add("lock@example.org", "organizer", w.A),
        "gone": user_add("gone@example.org", "organizer", w.A),
        "lock2": user_add("lock2@example.org", "staff", w.A),
    }
    w.email = {"owner": "owner@example.org", "staffA": "staff.a@example.org", "orgA": "org.a@example.org",
               "orgB": "org.b@example.org", "victim": "victim@example.org", "lock": "lock@example.org",
               "gone": "gone@example.org", "lock2": "lock2@example.org"}
    w.victim_id = q1(HUBDB, "SELECT id FROM users WHERE email = ?", "victim@example.org")
    expect(w.victim_id, "no users row for victim@example.org")
    return w


DEVICES = [0]


def enroll(venue, name):
    """A kiosk enrolled in venue; its device id."""
    DEVICES[0] += 1
    code = hub("devices", "enroll-code", venue).stdout.strip().splitlines()[-1]
    kdb = os.path.join(WORK, "k%d-%s.db" % (DEVICES[0], name))
    kiosk(kdb, "enroll", BASE, code, "--name", "door-%s-%d" % (name, DEVICES[0]))
    dev = q1(kdb, "SELECT value FROM settings WHERE key = 'device_id'")
    expect(dev, "the kiosk saved no device id")
    return dev


# ---- what the database holds, to tell that a refused request stored nothing ----

SKIP_TABLES = re.compile(r"session|login", re.I)


def fingerprint():
    c = db(HUBDB)
    try:
        h = hashlib.sha256()
        for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            if SKIP_TABLES.search(t):
                continue
            h.update(t.encode())
            for row in c.execute('SELECT * FROM "%s" ORDER BY 1' % t):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        c.close()


# ---- the route x role matrix ----

ROLES = ["none", "staffA", "orgA", "owner", "orgB"]
LEVEL = {"none": 0, "staff": 1, "organizer": 2, "owner": 3}
ROLE_LEVEL = {"none": 0, "staffA": 1, "orgA": 2, "owner": 3, "orgB": 2}


def may_see_A(role):
    return role in ("staffA", "orgA", "owner")


# For every route the console has: what to send when the role may, and the
# statuses that answer it. "fresh" names an {id} made anew for each cell that
# may (the request uses it up: a revoked kiosk, a cancelled event). A route
# that `console routes` prints and this table lacks fails the test.
def spec_table(w):
    A = w.A
    now = time.time()
    start = time.strftime("%Y-%m-%dT%H:%M", time.localtime(now + 86400))
    end = time.strftime("%Y-%m-%dT%H:%M", time.localtime(now + 86400 + 7200))
    return {
        ("GET", "/login"): {"ok": {200}, "signed_ok": {303}},
        ("POST", "/login"): {"body": {"email": "nobody@example.org", "password": "wrong password 1"}, "ok": {401}},
        ("POST", "/logout"): {"ok": {303}, "ends_session": True},
        ("GET", "/setup"): {"query": "?t=" + "x" * 43, "ok": {410}},
        ("POST", "/setup"): {"body": {"t": "x" * 43, "password": PW, "password2": PW}, "ok": {410}},
        ("GET", "/account"): {"ok": {200}},
        ("POST", "/account/password"): {"body": {"current": "not it at all", "password": "", "password2": ""},
                                         "ok": {400}},
        ("POST", "/account/signout-all"): {"ok": {303}, "ends_session": True},
        ("GET", "/users"): {"ok": {200}},
        ("POST", "/users"): {"body": lambda role: {"email": "new-%s-%d@example.org" % (role, time.time_ns()),
                                                   "role": "staff", "venue": A}, "ok": {200}},
        ("POST", "/users/{id}/disable"): {"id": "user", "ok": {303}},
        ("POST", "/users/{id}/enable"): {"id": "user", "ok": {303}},
        ("POST", "/users/{id}/reset"): {"id": "user", "ok": {200}},
        ("GET", "/venues"): {"ok": {200}},
        ("GET", "/venues/{v}"): {"ok": {200}},
        ("GET", "/venues/{v}/devices"): {"ok": {200}},
        ("POST", "/venues/{v}/devices/code"): {"body": {"hours": "2"}, "ok": {200, 303}},
        ("POST", "/venues/{v}/devices/{id}/revoke"): {"id": "device", "fresh": True, "ok": {303}},
        ("GET", "/venues/{v}/members"): {"query": "?q=%E4%BC%9A%E5%91%98", "ok": {200}},
        ("GET", "/venues/{v}/members/{id}"): {"id": "member", "ok": {200}},
        ("POST", "/venues/{v}/members/{id}"): {"id": "member", "body": lambda role: {
            "tier": "gold-" + role, "expires": "2030-01-01", "code": "A0001"}, "ok": {303}},
        ("POST", "/venues/{v}/members/{id}/merge"): {"id": "member", "body": {"other": "no-such-code-x"},
                                                      "ok": {400, 404}},
        ("GET", "/venues/{v}/members/import"): {"ok": {200}},
        ("POST", "/venues/{v}/members/import"): {"multipart": lambda role: {
            "file": ("m.csv", ("name,phone,code\nImported %s,13900000%03d,IMP%s\n" % (
                role, ROLES.index(role), role)).encode(), "text/csv")}, "ok": {303}},
        ("GET", "/venues/{v}/members.csv"): {"ok": {200}},
        ("GET", "/venues/{v}/events"): {"ok": {200}},
        ("POST", "/venues/{v}/events"): {"body": lambda role: {"title": "Made by " + role, "start": start,
                                                               "end": end}, "ok": {303}},
        ("GET", "/venues/{v}/events/{id}"): {"id": "event", "ok": {200}},
        ("GET", "/venues/{v}/events/{id}/count"): {"id": "event", "ok": {200}},
        ("GET", "/venues/{v}/events/{id}.csv"): {"id": "event", "ok": {200}},
        ("POST", "/venues/{v}/events/{id}"): {"id": "event", "body": lambda role: {
            "title": "Tea night (%s)" % role, "start": start, "end": end}, "ok": {303}},
        ("POST", "/venues/{v}/events/{id}/cancel"): {"id": "event", "fresh": True, "ok": {303}},
        ("GET", "/venues/{v}/links"): {"ok": {200}},
        ("POST", "/venues/{v}/links"): {"body": lambda role: {
            "url": "https://t.me/+made%s" % role, "label": "Made by " + role, "platform": "",
            "expires": "", "cap": "", "slug": ""}, "ok": {303}},
        ("POST", "/venues/{v}/links/{id}/expire"): {"id": "link", "fresh": True, "ok": {303}},
        ("POST", "/venues/{v}/links/{id}/remove"): {"id": "link", "fresh": True, "ok": {303}},
        ("GET", "/venues/{v}/poster"): {"ok": {200}},
        ("GET", "/venues/{v}/poster.svg"): {"ok": {200}},
        ("GET", "/venues/{v}/poster.png"): {"ok": {200}},
        ("GET", "/venues/{v}/audit"): {"ok": {200}},
        ("POST", "/venues/{v}/members/{id}/referrer"): {"id": "member", "body": {"referrer": "no-such-code-x"},
                                                         "ok": {400}},
        ("GET", "/venues/{v}/dashboard"): {"ok": {200}},
        ("GET", "/venues/{v}/dashboard/members"): {"query": "?list=visited", "ok": {200}},
        ("GET", "/venues/{v}/dashboard/referrals"): {"query": "?who=no-such-code-x", "ok": {404}},
        ("GET", "/venues/{v}/dashboard/referrals/{id}"): {"id": "member", "ok": {200}},
        ("GET", "/dashboard"): {"ok": {200}},
        ("GET", "/dashboard/members"): {"query": "?list=visited", "ok": {200}},
        ("GET", "/dashboard/referrals/{id}"): {"id": "member", "ok": {303}},
        # member passes: this hub has no key file, so nothing can be signed (409)
        ("GET", "/venues/{v}/passes"): {"ok": {200}},
        ("POST", "/venues/{v}/passes/signup"): {"body": {"slug": "access-test", "terms": "T", "enabled": "1"},
                                                "ok": {303}},
        ("POST", "/venues/{v}/passes/rotate"): {"ok": {409}},
        ("POST", "/venues/{v}/members/{id}/pass"): {"id": "member", "ok": {409}},
        ("POST", "/venues/{v}/members/{id}/pass/revoke"): {"id": "member", "ok": {404}},
        # the open API's tokens
        ("GET", "/venues/{v}/tokens"): {"ok": {200}},
        ("POST", "/venues/{v}/tokens"): {"body": lambda role: {"name": "made by %s %d" % (role, time.time_ns()),
                                                               "scope": "read"}, "ok": {200}},
        ("POST", "/venues/{v}/tokens/{id}/revoke"): {"id": "token", "fresh": True, "ok": {303}},
        # webhooks: to a closed port of this machine (the hub serves with --webhooks-private)
        ("GET", "/venues/{v}/webhooks"): {"ok": {200}},
        ("POST", "/venues/{v}/webhooks"): {"body": {"url": "http://127.0.0.1:9/hook", "event.checkin.created": "1"},
                                           "ok": {200}},
        ("GET", "/venues/{v}/webhooks/{id}"): {"id": "webhook", "ok": {200}},
        ("POST", "/venues/{v}/webhooks/{id}/enable"): {"id": "webhook", "ok": {303}},
        ("POST", "/venues/{v}/webhooks/{id}/remove"): {"id": "webhook", "fresh": True, "ok": {303}},
        ("GET", "/static/console.css"): {"ok": {200}},
        ("GET", "/static/console.js"): {"ok": {200}},
    }


def printed_routes():
    out = hub("console", "routes").stdout
    routes = []
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        expect(len(parts) == 3 and parts[0] in ("GET", "POST") and parts[2] in LEVEL,
               "console routes printed a line that is not METHOD PATTERN ROLE: %r" % line)
        routes.append(tuple(parts))
    expect(len(routes) >= 30, "console routes printed only %d routes" % len(routes))
    return routes


def fresh_id(w, kind):
    A = w.A
    if kind == "device":
        return enroll(A, "fresh")
    if kind == "event":
        hub("events", "add", "--venue", A, "--title", "Throwaway", "--start", "2030-01-01 10:00",
            "--end", "2030-01-01 11:00")
        return q1(HUBDB, "SELECT uid FROM events WHERE venue_id = ? AND title = 'Throwaway' "
                  "ORDER BY created_ms DESC, rowid DESC LIMIT 1", A)
    if kind == "link":
        hub("links", "add", "--venue", A, "https://t.me/+throwaway%d" % time.time_ns(), "--label", "Throwaway")
        return q1(HUBDB, "SELECT uid FROM links WHERE venue_id = ? ORDER BY rowid DESC LIMIT 1", A)
    if kind == "token":
        hub("tokens", "add", "--venue", A, "--name", "throwaway %d" % time.time_ns(), "--scope", "read")
        return q1(HUBDB, "SELECT id FROM api_tokens WHERE venue_id = ? ORDER BY rowid DESC LIMIT 1", A)
    if kind == "webhook":
        hub("webhooks", "add", "--venue", A, "--url", "http://127.0.0.1:9/hook%d" % time.time_ns(), "--webhooks-private")
        return q1(HUBDB, "SELECT id FROM webhook_subs WHERE venue_id = ? ORDER BY created_ms DESC, rowid DESC LIMIT 1",
                  A)
    fail("no fresh %s" % kind)


def id_of(w, kind, venue):
    if kind == "user":
        return w.victim_id
    if kind == "token":
        held = q1(HUBDB, "SELECT id FROM api_tokens WHERE venue_id = ? ORDER BY rowid LIMIT 1", venue)
        return held or fresh_id(w, "token")
    if kind == "webhook":
        held = q1(HUBDB, "SELECT id FROM webhook_subs WHERE venue_id = ? ORDER BY rowid LIMIT 1", venue)
        return held or fresh_id(w, "webhook")
    return {"member": w.member, "event": w.event, "link": w.link, "device": w.device}[kind][venue]


class Sessions:
    """One signed-in client per role, signed in again when a request ended its session."""

    def __init__(self, w):
        self.w = w
        self.c = {}

    def get(self, role):
        if role == "none":
            # a visitor's browser: it holds the sign-in page's cookie and token, nothing more
            c = Client(BASE, lang="en")
            c.get("/login")
            return c
        c = self.c.get(role)
        if c is None or not c.signed_in():
            c = Client(BASE, lang="en")
            c.login(self.w.email[role], PW)
            c.page("/account")
            self.c[role] = c
        return c


def matrix(w, sess):
    specs = spec_table(w)
    routes = printed_routes()
    seen = set()
    missing = [r for r in routes if (r[0], r[1]) not in specs]
    expect(not missing, "routes with no expectation in this test (add them to spec_table): %s" %
           ", ".join("%s %s" % r[:2] for r in missing))
    for (m, p) in specs:
        expect(any(r[0] == m and r[1] == p for r in routes),
               "%s %s is expected here but `console routes` does not print it" % (m, p))
    cells = 0
    for method, pattern, least in routes:
        spec = specs[(method, pattern)]
        seen.add((method, pattern))
        for role in ROLES:
            allowed = ROLE_LEVEL[role] >= LEVEL[least] and ("{v}" not in pattern or may_see_A(role))
            kind = spec.get("id")
            if kind and spec.get("fresh") and allowed:
                the_id = fresh_id(w, kind)
            elif kind:
                the_id = id_of(w, kind, w.A)
            path = pattern.replace("{v}", w.A).replace("{id}", the_id if kind else "")
            c = sess.get(role)
            # a GET of the page first, so the client holds this session's token
            if role != "none" and method == "POST":
                c.page("/account")
            before = fingerprint() if not allowed and method == "POST" else None
            url = path + spec.get("query", "")
            if method == "GET":
                r = c.get(url)
            elif "multipart" in spec:
                r = c.post_multipart(url, files=spec["multipart"](role), csrf=True if role != "none" else c.csrf)
            else:
                body = spec.get("body", {})
                body = body(role) if callable(body) else body
                if role == "none":
                    # a client with no session: it holds no token (unless the
                    # route gave it a login token); send what it has
                    r = c.post(url, body, csrf=c.csrf)
                else:
                    r = c.post(url, body)
            cells += 1
            where = "%s %s as %s" % (method, pattern, role)
            if allowed:
                want = spec["ok"]
                if role != "none" and "signed_ok" in spec:
                    want = spec["signed_ok"]
                expect(r.status in want, "%s: expected %s, got %d (%s)" % (
                    where, sorted(want), r.status, r.location or visible_text(r.text)[:200]))
                if r.status >= 500:
                    fail("%s: %d" % (where, r.status))
            elif role == "none":
                if method == "GET":
                    expect(r.status == 302, "%s: expected 302 to /login, got %d" % (where, r.status))
                    want_loc = "/login?next=" + urllib.parse.quote(path, safe="")
                    loc = urllib.parse.urlsplit(r.location)
                    expect(loc.path == "/login" and urllib.parse.parse_qs(loc.query).get("next") == [path],
                           "%s: expected Location %s, got %r" % (where, want_loc, r.location))
                else:
                    expect(r.status == 403, "%s: expected 403, got %d" % (where, r.status))
                    expect("sign in" in visible_text(r.text).lower(),
                           "%s: the 403 page does not say to sign in again: %s" % (where, visible_text(r.text)[:200]))
            else:
                expect(r.status == 403, "%s: expected 403, got %d (%s)" % (
                    where, r.status, r.location or visible_text(r.text)[:160]))
            if before is not None:
                expect(fingerprint() == before, "%s was refused (%d) but the database changed" % (where, r.status))
    print("matrix: %d routes x %d roles = %d requests, each as expected" % (len(routes), len(ROLES), cells))
    return routes


def other_venue_ids(w, sess):
    """An id of venue B under venue A's path is not found, even for the owner; nothing changes."""
    B = w.B
    n = 0
    for role in ("orgA", "owner"):
        c = sess.get(role)
        for kind, tmpl in (("member", "/venues/{v}/members/{id}"), ("event", "/venues/{v}/events/{id}"),
                           ("event", "/venues/{v}/events/{id}/count"), ("event", "/venues/{v}/events/{id}.csv")):
            path = tmpl.replace("{v}", w.A).replace("{id}", id_of(w, kind, B))
            r = c.get(path)
            expect_eq(r.status, 404, "GET %s (an id of venue B under venue A) as %s" % (tmpl, role))
            n += 1
        c.page("/account")
        for kind, tmpl, body in (
                ("member", "/venues/{v}/members/{id}", {"tier": "stolen", "expires": "", "code": "B0001"}),
                ("member", "/venues/{v}/members/{id}/merge", {"other": "A0002"}),
                ("event", "/venues/{v}/events/{id}", {"title": "stolen", "start": "2030-01-01T10:00",
                                                       "end": "2030-01-01T11:00"}),
                ("event", "/venues/{v}/events/{id}/cancel", {}),
                ("link", "/venues/{v}/links/{id}/expire", {}),
                ("link", "/venues/{v}/links/{id}/remove", {}),
                ("device", "/venues/{v}/devices/{id}/revoke", {})):
            path = tmpl.replace("{v}", w.A).replace("{id}", id_of(w, kind, B))
            before = fingerprint()
            r = c.post(path, body)
            expect_eq(r.status, 404, "POST %s (an id of venue B under venue A) as %s" % (tmpl, role))
            expect(fingerprint() == before, "POST %s with venue B's id changed the database" % tmpl)
            n += 1
    # a venue that does not exist; venue B for its own organizer
    expect_eq(sess.get("owner").get("/venues/" + "0" * 32).status, 404, "an unknown venue")
    expect_eq(sess.get("orgB").get("/venues/" + B).status, 200, "venue B for its organizer")
    expect_eq(sess.get("orgB").get("/venues/%s/members/%s" % (B, w.member[B])).status, 200,
              "venue B's member for venue B's organizer")
    print("ids of another venue: %d requests answered 404, nothing changed" % n)
    # the list of venues shows each account the venues it may open, no more
    for role, want in (("staffA", {"A"}), ("orgA", {"A"}), ("orgB", {"B"}), ("owner", {"A", "B"})):
        text = visible_text(sess.get(role).page("/venues").text)
        shown = {k for k, name in (("A", "Venue A 茶馆"), ("B", "Venue B 书店")) if name in text}
        expect_eq(shown, want, "the venues listed for %s" % role)
    print("venues list: staff and organizers see their own venue only, the owner both")


def csrf_checks(w, sess):
    A = w.A
    path = "/venues/%s/events" % A
    count = lambda: q1(HUBDB, "SELECT count(*) FROM events WHERE title LIKE 'csrf %'")
    body = {"title": "csrf probe", "start": "2030-02-01T10:00", "end": "2030-02-01T11:00"}
    org = sess.get("orgA")
    org.page(path)
    r = org.post(path, dict(body, title="csrf none"), csrf=None)
    expect_eq(r.status, 403, "a POST without csrf")
    expect("out of date" in visible_text(r.text) or "not saved" in visible_text(r.text),
           "the 403 page for a missing token says nothing of the form: %s" % visible_text(r.text)[:200])
    r = org.post(path, dict(body, title="csrf empty"), csrf="")
    expect_eq(r.status, 403, "a POST with an empty csrf")
    r = org.post(path, dict(body, title="csrf garbage"), csrf="A" * 43)
    expect_eq(r.status, 403, "a POST with a made-up csrf")
    owner = sess.get("owner")
    owner.page("/venues")
    r = org.post(path, dict(body, title="csrf other"), csrf=owner.csrf)
    expect_eq(r.status, 403, "a POST with another session's csrf")
    # the token of a session that ended, after signing in again
    c = Client(BASE, lang="en")
    c.login(w.email["orgA"], PW)
    c.page(path)
    stale = c.csrf
    r = c.post("/logout", {})
    expect_eq(r.status, 303, "logout")
    c.login(w.email["orgA"], PW)
    c.page(path)
    expect(c.csrf != stale, "the csrf token did not change with the new session")
    r = c.post(path, dict(body, title="csrf stale"), csrf=stale)
    expect_eq(r.status, 403, "a POST with the csrf of the session before")
    # the login form's token: a login without it is refused
    d = Client(BASE)
    d.page("/login")
    r = d.post("/login", {"email": w.email["orgA"], "password": PW}, csrf=None)
    expect_eq(r.status, 403, "a login without the login form's token")
    expect("tzs" not in d.cookies, "a login without its token made a session")
    expect_eq(count(), 0, "events stored by refused POSTs")
    # and the right token works (so the refusals above were the token's doing)
    r = c.post(path, dict(body, title="csrf right"))
    expect_eq(r.status, 303, "the same POST with the right token")
    expect_eq(count(), 1, "events stored by the right POST")
    print("csrf: none, empty, made up, another session's, a stale one, login without: 403, nothing stored")


def lockout(w):
    email = w.email["lock"]
    a = Client(BASE, lang="en")
    for i in range(5):
        r = a.login(email, "wrong password %d" % i, want=401)
        expect("Wrong email or password" in visible_text(r.text), "wrong password %d: %s" % (i, visible_text(r.text)[:200]))
    r = a.login(email, PW, want=None)
    expect(r.status in (403, 429), "the 6th attempt, with the right password: expected it refused, got %d" % r.status)
    expect("tzs" not in a.cookies, "a locked account got a session cookie")
    text = visible_text(r.text)
    expect("15 minutes" in text, "the lock page does not say how long: %s" % text[:200])
    rows = q1(HUBDB, "SELECT count(*) FROM login_failures WHERE key = ?", "a:%s|127.0.0.1" % email)
    expect_eq(rows, 5, "failure rows of the account from 127.0.0.1")
    # still locked a moment later, whatever is sent
    expect_eq(a.login(email, PW, want=None).status, r.status, "a 7th attempt")
    expect_eq(q1(HUBDB, "SELECT count(*) FROM login_failures WHERE key = ?", "a:%s|127.0.0.1" % email), 5,
              "failure rows after the locked attempts (a refused attempt while locked is not counted again)")
    # the same account from another address works
    b = Client(BASE, source="127.0.0.2", lang="en")
    b.login(email, PW, want=303)
    expect(b.signed_in(), "the account from 127.0.0.2 is not signed in")
    # the lock ends 15 minutes after the failures: age them in the database (there is no clock to move)
    c = db(HUBDB)
    col = [r[1] for r in c.execute("PRAGMA table_info(login_failures)")]
    tcol = next((x for x in col if x.endswith("_ms")), None)
    expect(tcol, "login_failures has no time column: %s" % col)
    c.execute('UPDATE login_failures SET "%s" = "%s" - 15 * 60 * 1000 - 1000 WHERE key = ?' % (tcol, tcol),
              ("a:%s|127.0.0.1" % email,))
    c.commit()
    c.close()
    a.login(email, PW, want=303)
    expect(a.signed_in(), "the account is not signed in after its lock ended")
    print("lockout: 5 wrong passwords locked the account from 127.0.0.1 (429, '15 minutes', 5 rows); "
          "127.0.0.2 signed in; after the lock ended the right password worked")
    # the email as typed differently (case, spaces) is the same account: the same count
    e2 = w.email["lock2"]
    d = Client(BASE, source="127.0.0.3", lang="en")
    for i, typed in enumerate(["LOCK2@example.org", " lock2@EXAMPLE.org", "Lock2@Example.Org ", "lock2@example.org",
                               "LOCK2@EXAMPLE.ORG"]):
        d.login(typed, "wrong again %d" % i, want=401)
    expect_eq(d.login(e2, PW, want=None).status, 429, "the right password after 5 failures typed 5 ways")
    # twenty failures from one address, over any accounts, lock the address
    f = Client(BASE, source="127.0.0.4", lang="en")
    for i in range(20):
        f.login("nobody%d@example.org" % i, "wrong password", want=401)
    r = f.login(w.email["orgA"], PW, want=None)
    expect_eq(r.status, 429, "an account's right password from an address with 20 failures")
    expect_eq(q1(HUBDB, "SELECT count(*) FROM login_failures WHERE key = 'ip:127.0.0.4'"), 20, "the address's failure rows")
    Client(BASE, source="127.0.0.5", lang="en").login(w.email["orgA"], PW, want=303)
    print("lockout: the email typed 5 ways counts as one account; 20 failures lock an address, not the account")


def session_row_of(c):
    return hashlib.sha256(c.cookies["tzs"].encode()).digest()


def idle_sessions(w):
    A = w.A
    c = Client(BASE, lang="en")
    c.login(w.email["orgA"], PW)
    c.page("/venues/%s/events" % A)
    h = session_row_of(c)
    expect_eq(q1(HUBDB, "SELECT count(*) FROM sessions WHERE hash = ?", h), 1, "the session's row (by its hash)")
    # 11 h 59 min idle: still signed in
    dbc = db(HUBDB)
    dbc.execute("UPDATE sessions SET seen_ms = ? WHERE hash = ?", (int(time.time() * 1000) - (12 * 3600 - 60) * 1000, h))
    dbc.commit()
    expect_eq(c.get("/venues").status, 200, "a session idle 11 h 59 min")
    # 12 h 1 min: gone
    dbc.execute("UPDATE sessions SET seen_ms = ? WHERE hash = ?", (int(time.time() * 1000) - (12 * 3600 + 60) * 1000, h))
    dbc.commit()
    dbc.close()
    before = fingerprint()
    r = c.post("/venues/%s/events" % A, {"title": "after idle", "start": "2030-03-01T10:00", "end": "2030-03-01T11:00"})
    expect_eq(r.status, 403, "a POST in a session idle 12 h")
    expect("signed out" in visible_text(r.text), "the page does not say the user was signed out: %s" %
           visible_text(r.text)[:200])
    expect(fingerprint() == before, "a POST of an idle session changed the database")
    r = c.get("/venues/%s/events" % A)
    expect_eq(r.status, 302, "a GET in a session idle 12 h")
    expect(r.location.startswith("/login?next="), "idle session: Location %r" % r.location)
    print("idle: 11 h 59 min still signed in; 12 h 1 min: GET -> /login, POST -> 403 'signed out', nothing stored")


def disabled(w, sess):
    g = Client(BASE, lang="en")
    g.setup(w.tokens["gone"], PW)
    expect(g.signed_in(), "gone@ is not signed in after set-up")
    owner = sess.get("owner")
    gid = q1(HUBDB, "SELECT id FROM users WHERE email = ?", w.email["gone"])
    owner.page("/users")
    r = owner.post("/users/%s/disable" % gid, {})
    expect_eq(r.status, 303, "disable")
    expect(q1(HUBDB, "SELECT disabled_ms FROM users WHERE id = ?", gid), "disabled_ms is not set")
    r = g.get("/venues")
    expect_eq(r.status, 302, "a disabled account's session")
    expect_eq(q1(HUBDB, "SELECT count(*) FROM sessions WHERE user_id = ?", gid), 0, "sessions of a disabled account")
    expect_eq(Client(BASE, lang="en").login(w.email["gone"], PW, want=None).status, 401, "a disabled account's login")
    owner.page("/users")
    expect_eq(owner.post("/users/%s/enable" % gid, {}).status, 303, "enable")
    Client(BASE, lang="en").login(w.email["gone"], PW, want=303)
    # the owner cannot disable themself
    oid = q1(HUBDB, "SELECT id FROM users WHERE email = ?", w.email["owner"])
    owner.page("/users")
    expect_eq(owner.post("/users/%s/disable" % oid, {}).status, 400, "the owner disabling their own account")
    print("disable: the session ended at once, login refused; enabled again: login works; not one's own account")


def logout_and_fixation(w):
    c = Client(BASE, lang="en")
    # a session id chosen by someone else (planted before login) is not kept
    planted = "P" * 43
    c.cookies["tzs"] = planted
    c.login(w.email["orgA"], PW)
    first = c.cookies.get("tzs")
    expect(first and first != planted, "the session id after login is the planted one")
    expect_eq(len(first), 43, "the session id's length (256 bits, base64url)")
    expect_eq(q1(HUBDB, "SELECT count(*) FROM sessions WHERE hash = ?", hashlib.sha256(planted.encode()).digest()), 0,
              "a session row for the planted id")
    expect_eq(q1(HUBDB, "SELECT count(*) FROM sessions WHERE hash = ?", first.encode()), 0,
              "the session id kept in the clear")
    # logging in again in the same browser: a new id, and the old one ends
    c.login(w.email["orgA"], PW)
    second = c.cookies.get("tzs")
    expect(second and second != first, "the same session id after a second login")
    old = Client(BASE)
    old.cookies["tzs"] = first
    expect_eq(old.get("/venues").status, 302, "the first session after the second login")
    # logout: the cookie is cleared, and the old value no longer works
    c.page("/venues")
    keep = c.cookies["tzs"]
    r = c.post("/logout", {})
    expect_eq(r.status, 303, "logout")
    expect(r.location.endswith("/login"), "logout goes to %r" % r.location)
    cleared = [l for l in c.set_cookie_lines[-4:] if l.startswith("tzs=")]
    expect(cleared and re.search(r"tzs=;|Max-Age=0", cleared[-1]), "logout did not clear the cookie: %r" % cleared)
    old = Client(BASE)
    old.cookies["tzs"] = keep
    r = old.get("/venues")
    expect_eq(r.status, 302, "the cookie of a session that logged out")
    expect_eq(q1(HUBDB, "SELECT count(*) FROM sessions WHERE hash = ?", hashlib.sha256(keep.encode()).digest()), 0,
              "the session row after logout")
    # sign out everywhere ends the other browsers too
    x, y = Client(BASE, lang="en"), Client(BASE, lang="en")
    x.login(w.email["staffA"], PW)
    y.login(w.email["staffA"], PW)
    x.page("/account")
    expect_eq(x.post("/account/signout-all", {}).status, 303, "sign out everywhere")
    expect_eq(y.get("/venues").status, 302, "another browser after 'sign out everywhere'")
    print("sessions: a planted id replaced at login, a new id at every login, logout and sign-out-all end them")


def cookie_attrs(c, secure):
    lines = [l for l in c.set_cookie_lines if l.startswith("tzs=") and not l.startswith("tzs=;")]
    expect(lines, "no session cookie was set")
    for l in lines + [l for l in c.set_cookie_lines if l.startswith("tzl=")]:
        attrs = [a.strip().lower() for a in l.split(";")[1:]]
        expect("httponly" in attrs, "cookie without HttpOnly: %s" % l)
        expect("samesite=strict" in attrs, "cookie without SameSite=Strict: %s" % l)
        expect("path=/" in attrs, "cookie without Path=/: %s" % l)
        expect(("secure" in attrs) == secure, "cookie %s Secure over %s: %s" % (
            "without" if secure else "with", "HTTPS" if secure else "HTTP", l))
        expect(not any(a.startswith("domain=") for a in attrs), "cookie with a Domain: %s" % l)


def plain():
    w = make_world()
    with open(STATE, "w") as f:
        json.dump({"tokens": w.tokens, "email": w.email, "A": w.A}, f)
    # every account sets its password through its link (which signs it in)
    for role in ("owner", "staffA", "orgA", "orgB", "victim", "lock", "lock2"):
        c = Client(BASE, lang="en")
        c.setup(w.tokens[role], PW)
        expect(c.signed_in(), "%s is not signed in after set-up" % role)
        expect(q1(HUBDB, "SELECT length(pwhash) > 0 AND pwhash LIKE '$argon2id$%' FROM users WHERE email = ?",
                  w.email[role]) == 1, "%s's password is not kept as an Argon2id hash" % role)
        cookie_attrs(c, secure=False)
        # a set-up link works once
        r = Client(BASE).get("/setup?t=" + w.tokens[role])
        expect_eq(r.status, 410, "a used set-up link")
    sess = Sessions(w)
    routes = matrix(w, sess)
    other_venue_ids(w, sess)
    csrf_checks(w, sess)
    lockout(w)
    idle_sessions(w)
    disabled(w, sess)
    logout_and_fixation(w)
    # no session: the console's pages are closed, its sign-in page open
    r = Client(BASE).get("/")
    expect(r.status in (302, 303) and r.location.endswith("/login"), "/ without a session: %r" % r)
    print("plain: %d routes checked" % len(routes))


def tls():
    st = json.load(open(STATE))
    c = Client(BASE, lang="en", cafile=os.environ["CAFILE"])
    c.login(st["email"]["orgA"], PW)
    expect(c.signed_in(), "signing in over HTTPS")
    cookie_attrs(c, secure=True)
    print("tls: the session and login cookies are Secure, HttpOnly, SameSite=Strict")


if __name__ == "__main__":
    run({"plain": plain, "tls": tls}[sys.argv[1]])
