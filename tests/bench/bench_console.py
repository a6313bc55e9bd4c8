#!/usr/bin/env python3
"""bench_console — the organizer console's pages on a large venue (budgets: p99
at most 50 ms of server time, at most 150 KB a page):

  console_members_search_p50/_p99  GET /venues/V/members?q=... over 100 000
                                   members: names (hanzi), pinyin, initials,
                                   phone digits, codes; the hub's time for each
  console_event_page_p50/_p99      GET /venues/V/events/E, an event with 5 000
                                   check-ins
  console_event_count_p99          GET /venues/V/events/E/count, what every open
                                   event page asks every 5 s
  console_members_page_kb          the members page with 50 results, and
  console_event_page_kb            the event page: the HTML as sent, plus the
                                   stylesheet and script a first visit loads
                                   (KB = 1024 bytes; no compression)

Server time is what the hub logs for the request (its stderr line "hub: GET
PATH STATUS N.N ms": from the request's arrival to the answer handed to the
socket), one request at a time from one client on loopback; the client's
own round trip is printed beside it. The first search after start (which
builds the venue's member index) is reported on its own and not counted.

Seeding is the real path: 100 000 members through `tingzi-hub members
import`, 5 000 check-ins made by `tingzi checkin --code-file` on an enrolled
kiosk and pushed with `tingzi sync --once`. The seeded databases are kept in
/tmp (tingzi-bench-console-seed) between runs, keyed by the binaries' age.

With --check (as CTest runs it) a figure past its budget fails; a timing past
its budget is measured again, up to three rounds, and the best round is held
to the budget (the machine is shared, and noise only adds time).
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "console"))
from console import Client, Fail, expect, q1  # noqa: E402

MEMBERS = 100000
CHECKINS = 5000
P99_BUDGET_MS = 50.0
KB_BUDGET = 150.0
ROUNDS = 3
PW = "bench tea house 4417"
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def die(msg):
    print("%s: %s" % (os.path.basename(sys.argv[0]).rsplit(".", 1)[0], msg), file=sys.stderr)
    sys.exit(1)


def sh(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        die("failed (%d): %s\n%s" % (r.returncode, " ".join(args), (r.stdout + r.stderr)[-2000:]))
    return r.stdout


def hold(figures):
    """BUDGET lines for (name, value, budget at most) figures; how many are over."""
    over = 0
    for name, value, budget in figures:
        good = value <= budget
        over += not good
        print("BUDGET %s %g <= %g %s" % (name, round(value, 1), budget, "ok" if good else "over"))
    sys.stdout.flush()
    return over


def finish(over, check):
    """The benchmarks' exit: 1 under --check when a figure was past its budget."""
    if over:
        print("%d figure(s) past their budget%s" % (over, "" if check else " (reported only: run with --check to fail)"),
              file=sys.stderr)
    sys.exit(1 if check and over else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pct(v, p):
    v = sorted(v)
    i = int(p / 100.0 * (len(v) - 1) + 0.5)
    return v[min(i, len(v) - 1)]


class Hub:
    def __init__(self, binary, db, log):
        self.binary, self.db, self.log = binary, db, log
        self.proc = None

    def start(self):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", self.db],
                                     stderr=self.logf, stdout=subprocess.DEVNULL)
        for _ in range(400):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v1/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                die("the hub exited (see %s)" % self.log)
            time.sleep(0.05)
        die("the hub does not answer")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
            self.logf.close()

    def lines(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()


def seed(tingzi, hubbin, d):
    """hub.db: one venue, 100 000 members, an event now with 5 000 check-ins; the venue id."""
    hubdb = os.path.join(d, "hub.db")
    kdb = os.path.join(d, "k.db")
    t = time.monotonic()
    csv = os.path.join(d, "members.csv")
    with open(csv, "w") as f:
        f.write("name,phone,code\n")
        for i in range(1, MEMBERS + 1):
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)]
            f.write("%s,139%08d,C%06d\n" % (name, i, i))
    out = sh([hubbin, "--db", hubdb, "venues", "add", "茶友会", "--tz", "Asia/Shanghai"])
    venue = re.search(r"\b[0-9a-f]{32}\b", out).group(0)
    sh([hubbin, "--db", hubdb, "members", "import", csv, "--venue", venue])
    start = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() - 3600))
    end = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() + 30 * 24 * 3600))
    sh([hubbin, "--db", hubdb, "events", "add", "--venue", venue, "--title", "周末茶话会", "--start", start, "--end", end])
    print("seed: 100 000 members imported in %.1f s" % (time.monotonic() - t))
    code = sh([hubbin, "--db", hubdb, "devices", "enroll-code", venue]).strip().splitlines()[-1]
    hub = Hub(hubbin, hubdb, os.path.join(d, "seed-hub.log"))
    hub.start()
    try:
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        sh([tingzi, "--db", kdb, "enroll", hub.base, code, "--name", "bench"], env=env)
        for _ in range(40):
            sh([tingzi, "--db", kdb, "sync", "--once"], env=env)
            if q1(kdb, "SELECT count(*) FROM members") >= MEMBERS:
                break
        expect(q1(kdb, "SELECT count(*) FROM members") == MEMBERS, "the kiosk did not pull 100 000 members")
        codes = os.path.join(d, "codes")
        with open(codes, "w") as f:
            for i in range(1, CHECKINS + 1):
                f.write("C%06d\n" % (i * 19 % MEMBERS + 1))
        sh([tingzi, "--db", kdb, "checkin", "--code-file", codes], env=env)
        for _ in range(40):
            out = sh([tingzi, "--db", kdb, "sync", "--once"], env=env)
            if q1(kdb, "SELECT count(*) FROM outbox") == 0:
                break
        n = q1(hubdb, "SELECT count(*) FROM checkins WHERE event_uid IS NOT NULL")
        expect(n == CHECKINS, "the hub holds %s check-ins of the event, not %d" % (n, CHECKINS))
    finally:
        hub.stop()
    sh(["sqlite3", hubdb, "PRAGMA wal_checkpoint(TRUNCATE)"])
    print("seed: 5 000 check-ins pushed by a kiosk; %.1f s in all" % (time.monotonic() - t))
    return venue


def timed(hub, c, path, n):
    """GET path n times; the hub's times (ms), the client's (ms) and the last body."""
    clean = urllib.parse.urlsplit(path).path
    before = len(hub.lines())
    client = []
    r = None
    for _ in range(n):
        t = time.monotonic()
        r = c.get(path)
        client.append((time.monotonic() - t) * 1000)
        if r.status != 200:
            raise Fail("GET %s: %d" % (path, r.status))
    server = []
    for _ in range(50):
        server = []
        for line in hub.lines()[before:]:
            m = re.match(r"hub: GET (\S+) (\d+) ([0-9.]+) ms", line)
            if m and m.group(1) == clean:
                server.append(float(m.group(3)))
        if len(server) >= n:
            break
        time.sleep(0.02)
    expect(len(server) == n, "the hub logged %d of %d requests of %s" % (len(server), n, clean))
    return server, client, r


def measure(hub, c, venue, event):
    V = "/venues/" + venue
    queries = ["张", "zhang", "wang wei", "zw", "lj", "1234", "00012345", "5678", "C012345", "C0999", "李娜",
               "刘", "chen", "hgy", "9999", "王伟芳", "zhao", "l", "C000001", "0000"]
    search_s, search_c = [], []
    members_body = None
    found = 0
    for q in queries:
        s, cl, r = timed(hub, c, V + "/members?q=" + urllib.parse.quote(q), 10)
        search_s += s
        search_c += cl
        found += len(re.findall(rb"<tr\b", r.raw)) > 1
        if q == "zhang":
            members_body = r.raw
    ev_s, ev_c, r = timed(hub, c, "%s/events/%s" % (V, event), 60)
    event_body = r.raw
    cnt_s, _, _ = timed(hub, c, "%s/events/%s/count" % (V, event), 100)
    return {
        "search_p50": pct(search_s, 50), "search_p99": pct(search_s, 99), "search_client_p99": pct(search_c, 99),
        "event_p50": pct(ev_s, 50), "event_p99": pct(ev_s, 99), "event_client_p99": pct(ev_c, 99),
        "found": found, "kinds": len(queries), "count_p50": pct(cnt_s, 50), "count_p99": pct(cnt_s, 99), "n_search": len(search_s), "n_event": len(ev_s),
        "members_body": members_body, "event_body": event_body,
    }


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    if len(args) != 2:
        print("usage: bench_console.py TINGZI TINGZI_HUB [--check]", file=sys.stderr)
        sys.exit(2)
    tingzi, hubbin = (os.path.abspath(a) for a in args)
    # the seed is kept between runs, made again when either program is newer
    cache = os.path.join(tempfile.gettempdir(), "tingzi-bench-console-seed")
    key = "%d-%d" % (os.stat(tingzi).st_mtime_ns, os.stat(hubbin).st_mtime_ns)
    if not os.path.exists(os.path.join(cache, "key")) or open(os.path.join(cache, "key")).read() != key:
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache)
        venue = seed(tingzi, hubbin, cache)
        with open(os.path.join(cache, "venue"), "w") as f:
            f.write(venue)
        with open(os.path.join(cache, "key"), "w") as f:
            f.write(key)
    venue = open(os.path.join(cache, "venue")).read().strip()
    work = tempfile.mkdtemp(prefix="tingzi-bench-console.")
    hubdb = os.path.join(work, "hub.db")
    shutil.copy(os.path.join(cache, "hub.db"), hubdb)
    event = q1(hubdb, "SELECT uid FROM events WHERE venue_id = ?", venue)
    out = sh([hubbin, "--db", hubdb, "users", "add", "bench@example.org", "--role", "organizer", "--venue", venue])
    token = re.search(r"/setup\?t=([A-Za-z0-9_-]{43})", out).group(1)
    hub = Hub(hubbin, hubdb, os.path.join(work, "hub.log"))
    hub.start()
    ok = False
    try:
        c = Client(hub.base, lang="zh-CN")
        c.setup(token, PW)
        # the first search builds the venue's member index
        first, _, _ = timed(hub, c, "/venues/%s/members?q=%s" % (venue, urllib.parse.quote("张")), 1)
        css = c.get("/static/console.css").raw
        js = c.get("/static/console.js").raw
        best = None
        for rnd in range(1, ROUNDS + 1):
            m = measure(hub, c, venue, event)
            print("round %d: search p50 %.1f p99 %.1f ms (client p99 %.1f), event page p50 %.1f p99 %.1f ms "
                  "(client p99 %.1f), count p99 %.1f ms" % (rnd, m["search_p50"], m["search_p99"],
                                                            m["search_client_p99"], m["event_p50"], m["event_p99"],
                                                            m["event_client_p99"], m["count_p99"]))
            if best is None or max(m["search_p99"], m["event_p99"]) < max(best["search_p99"], best["event_p99"]):
                best = m
            if best["search_p99"] <= P99_BUDGET_MS and best["event_p99"] <= P99_BUDGET_MS:
                break
        m = best
        assets = len(css) + len(js)
        members_kb = (len(m["members_body"]) + assets) / 1024.0
        event_kb = (len(m["event_body"]) + assets) / 1024.0
        shown = len(re.findall(r"<tr\b", m["members_body"].decode("utf-8", "replace"))) - 1
        rows = len(re.findall(r"<tr\b", m["event_body"].decode("utf-8", "replace"))) - 1
        print("BENCH console_members_search_first %.1f ms (the first search: builds the index of 100 000)" % first[0])
        print("BENCH console_members_search_p50 %.1f ms (hub's time, %d searches over 100 000 members: %d queries, "
              "%d of them finding members)" % (m["search_p50"], m["n_search"], m["kinds"], m["found"]))
        print("BENCH console_members_search_p99 %.1f ms (budget %g)" % (m["search_p99"], P99_BUDGET_MS))
        print("BENCH console_event_page_p50 %.1f ms (hub's time, %d loads; %d check-ins)" % (
            m["event_p50"], m["n_event"], CHECKINS))
        print("BENCH console_event_page_p99 %.1f ms (budget %g)" % (m["event_p99"], P99_BUDGET_MS))
        print("BENCH console_event_count_p50 %.1f ms (the live count's JSON, which each open event page asks "
              "for every 5 s)" % m["count_p50"])
        print("BENCH console_event_count_p99 %.1f ms" % m["count_p99"])
        print("BENCH console_members_page_kb %.1f KB (%d rows shown; HTML %.1f KB + css and js %.1f KB; budget %g)" % (
            members_kb, shown, len(m["members_body"]) / 1024.0, assets / 1024.0, KB_BUDGET))
        print("BENCH console_event_page_kb %.1f KB (%d rows shown; HTML %.1f KB + css and js %.1f KB; budget %g)" % (
            event_kb, rows, len(m["event_body"]) / 1024.0, assets / 1024.0, KB_BUDGET))
        over = hold((("console_members_search_p99", m["search_p99"], P99_BUDGET_MS),
                                    ("console_event_page_p99", m["event_p99"], P99_BUDGET_MS),
                                    ("console_members_page_kb", members_kb, KB_BUDGET),
                                    ("console_event_page_kb", event_kb, KB_BUDGET)))
        ok = True
    except Fail as e:
        die(str(e))
    finally:
        hub.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work folder kept: %s" % work, file=sys.stderr)
    finish(over, check)


if __name__ == "__main__":
    main()
