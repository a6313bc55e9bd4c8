#!/usr/bin/env python3
"""bench_dash_page — the community dashboard's pages, served by a real hub on a
large store: 100 000 members, 2 000 events, 2 000 000 check-ins over two
years (budgets: the whole page p99 at most 300 ms of server time for the
default period of 90 days; the hub's memory at most 150 MiB while serving):

  dash_page_90d_p50/_p99          GET /venues/V/dashboard over the community's
  dash_page_12m_p50/_p99          last 90 days and its last 12 months: the
                                  hub's time for the whole page (every section
                                  asked, the page written)
  dash_page_90d_kb, _12m_kb       the page as sent (HTML; KB = 1024 bytes, no
                                  compression), and with its css and js
  dash_csv_SECTION_90d_p50/_p99   ?csv=SECTION: the request that asks one
                                  section's question alone (weeks: attendance,
                                  events, funnel, cohorts, drifting, referrers,
                                  redirects, links, tiers), for each section's
                                  time as served; the store's own time per
                                  operation is bench_dash's dash_OP_90d lines
  dash_members_LIST_p50/_p99      the members behind a number (500 shown):
                                  first-timers, members who came, drifting
  dash_hub_peak_rss_mib           the hub's peak resident memory (VmHWM) after
                                  serving all of that

Server time is what the hub logs for each request ("hub: GET PATH STATUS N.N
ms", from its arrival to the answer handed to the socket), one request at a
time from one client on loopback. The periods end on the community's last day
(the newest check-in), not today, so the figures do not drift as the calendar
moves on.

The store is the one tests/bench/bench_dash builds (its community, made once
and cached next to the bench_dash program as bench_dash.cache-vN.db, or at
$TINGZI_BENCH_DASH_CACHE): when the file is missing this runs bench_dash to
make it, then works on a copy (an organizer account added to the copy).

With --check (as CTest runs it) a figure past its budget fails; a timing past
its budget is measured again, up to three rounds, and the best round is held
to the budget (the machine is shared, and noise only adds time).

usage: bench_dash_page.py TINGZI_HUB BENCH_DASH [--check]
"""

import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "console"))
sys.path.insert(0, HERE)
from console import Client, Fail  # noqa: E402
from bench_console import Hub, die, finish, hold, pct, sh  # noqa: E402

PAGE_P99_BUDGET_MS = 300.0
RSS_BUDGET_MIB = 150.0
PAGES = 30  # loads of each period's page a round
CSVS = 10  # loads of each section's CSV
LISTS = 10
ROUNDS = 3
PW = "bench dashboard 6650"
SECTIONS = ["weeks", "events", "funnel", "cohorts", "drifting", "referrers", "redirects", "links", "tiers"]


def cache_of(bench_dash):
    """Where bench_dash keeps its community (the path it computes itself)."""
    env = os.environ.get("TINGZI_BENCH_DASH_CACHE")
    if env:
        return env
    with open(os.path.join(HERE, "bench_dash.c"), encoding="utf-8") as f:
        m = re.search(r"#define GEN_VERSION (\d+)", f.read())
    if not m:
        die("bench_dash.c names no GEN_VERSION: where does it keep its community?")
    return os.path.join(os.path.dirname(os.path.abspath(bench_dash)), "bench_dash.cache-v%s.db" % m.group(1))


def ensure_cache(bench_dash, cache):
    if os.path.exists(cache):
        return
    print("the community is not made yet: running bench_dash to make it (once; a few minutes)")
    sys.stdout.flush()
    t = time.monotonic()
    env = dict(os.environ, TINGZI_BENCH_DASH_CACHE=cache, TINGZI_BENCH_DASH_REFRESH_ONLY="1")
    sh([bench_dash], env=env)
    if not os.path.exists(cache):
        die("bench_dash ran but made no %s" % cache)
    print("made %s in %.0f s" % (cache, time.monotonic() - t))


def server_times(hub, before, path, n):
    clean = urllib.parse.urlsplit(path).path
    for _ in range(100):
        got = []
        for line in hub.lines()[before:]:
            m = re.match(r"hub: GET (\S+) (\d+) ([0-9.]+) ms", line)
            if m and m.group(1) == clean:
                got.append(float(m.group(3)))
        if len(got) >= n:
            return got[:n]
        time.sleep(0.02)
    raise Fail("the hub logged %d of %d requests of %s" % (len(got), n, clean))


def timed(hub, c, path, n, want_type="text/html"):
    """GET path n times: the hub's times (ms) and the last answer."""
    before = len(hub.lines())
    r = None
    for _ in range(n):
        r = c.get(path)
        if r.status != 200 or not (r.header("content-type") or "").startswith(want_type):
            raise Fail("GET %s: %d %s" % (path, r.status, r.header("content-type")))
    return server_times(hub, before, path, n), r


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0  # kB -> MiB
    return 0.0


def measure(hub, c, venue, periods):
    V = "/venues/%s/dashboard" % venue
    out = {}
    for span, (a, z) in periods.items():
        q = "from=%s&to=%s" % (a, z)
        s, r = timed(hub, c, "%s?%s" % (V, q), PAGES)
        out["page_" + span] = s
        out["body_" + span] = r.raw
    a, z = periods["90d"]
    q = "from=%s&to=%s" % (a, z)
    for sec in SECTIONS:
        s, r = timed(hub, c, "%s?%s&csv=%s" % (V, q, sec), CSVS, "text/csv")
        out["csv_" + sec] = s
        out["rows_" + sec] = r.raw.count(b"\n") - 1
    for lst, extra in (("first_timers", ""), ("visited", ""), ("drifting", "&n=30")):
        s, r = timed(hub, c, "%s/members?list=%s&%s%s" % (V, lst, q, extra), LISTS)
        out["list_" + lst] = s
        m = re.search(rb'<section class="card" data-n="(\d+)"', r.raw)
        out["total_" + lst] = int(m.group(1)) if m else -1
        out["shown_" + lst] = r.raw.count(b"<tr data-row=")
    return out


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    if len(args) != 2:
        print("usage: bench_dash_page.py TINGZI_HUB BENCH_DASH [--check]", file=sys.stderr)
        sys.exit(2)
    hubbin, bench_dash = (os.path.abspath(a) for a in args)
    cache = cache_of(bench_dash)
    ensure_cache(bench_dash, cache)
    work = tempfile.mkdtemp(prefix="tingzi-bench-dash-page.")
    hubdb = os.path.join(work, "hub.db")
    t = time.monotonic()
    shutil.copy(cache, hubdb)
    print("copied the community (%.0f MB) in %.1f s" % (os.path.getsize(hubdb) / 1e6, time.monotonic() - t))
    db = sqlite3.connect(hubdb)
    venue = db.execute("SELECT id FROM venues ORDER BY created_ms LIMIT 1").fetchone()[0]
    members = db.execute("SELECT count(*) FROM members WHERE venue_id = ?", (venue,)).fetchone()[0]
    checkins = db.execute("SELECT max(rowid) FROM checkins").fetchone()[0]
    events = db.execute("SELECT count(*) FROM events WHERE venue_id = ?", (venue,)).fetchone()[0]
    first, last = db.execute("SELECT min(day), max(day) FROM checkins WHERE venue_id = ?", (venue,)).fetchone()
    db.close()
    print("the community: %d members, %d events, %d check-in rows, %s .. %s" % (members, events, checkins, first, last))
    if members < 100000 or events < 2000 or checkins < 1900000:  # bench_dash makes ~2 000 000 rows
        shutil.rmtree(work, ignore_errors=True)
        die("the cached community %s is smaller than asked: remove it to have it made again" % cache)
    end = time.strptime(last, "%Y-%m-%d")
    end_s = time.mktime(end)
    day = lambda secs: time.strftime("%Y-%m-%d", time.localtime(secs))
    # the default period: the 90 days ending on the last day; 12 months: from the first of the month 11 months back
    y, m = end.tm_year, end.tm_mon - 11
    if m <= 0:
        m += 12
        y -= 1
    periods = {"90d": (day(end_s - 89 * 86400 + 43200), last), "12m": ("%04d-%02d-01" % (y, m), last)}
    out = sh([hubbin, "--db", hubdb, "users", "add", "bench@example.org", "--role", "organizer", "--venue", venue])
    token = re.search(r"/setup\?t=([A-Za-z0-9_-]{43})", out).group(1)
    hub = Hub(hubbin, hubdb, os.path.join(work, "hub.log"))
    hub.start()
    ok = False
    over = 0
    try:
        c = Client(hub.base, lang="zh-CN")
        c.setup(token, PW)
        # the first page after start: the store's pages come into memory
        first_s, _ = timed(hub, c, "/venues/%s/dashboard?from=%s&to=%s" % (venue, *periods["90d"]), 1)
        assets = len(c.get("/static/console.css").raw) + len(c.get("/static/console.js").raw)
        best = None
        for rnd in range(1, ROUNDS + 1):
            m = measure(hub, c, venue, periods)
            print("round %d: page 90 days p50 %.1f p99 %.1f ms, 12 months p50 %.1f p99 %.1f ms; hub VmHWM %.1f MiB" % (
                rnd, pct(m["page_90d"], 50), pct(m["page_90d"], 99), pct(m["page_12m"], 50), pct(m["page_12m"], 99),
                vm(hub.proc.pid, "VmHWM")))
            sys.stdout.flush()
            if best is None or pct(m["page_90d"], 99) < pct(best["page_90d"], 99):
                best = m
            if pct(best["page_90d"], 99) <= PAGE_P99_BUDGET_MS:
                break
        m = best
        peak = vm(hub.proc.pid, "VmHWM")
        rss = vm(hub.proc.pid, "VmRSS")
        print("BENCH dash_page_first_ms %.1f ms (the first page after the hub started)" % first_s[0])
        for span, what in (("90d", "the last 90 days"), ("12m", "the last 12 months")):
            a, z = periods[span]
            s = m["page_" + span]
            print("BENCH dash_page_%s_p50 %.1f ms (hub's time for the whole page, %d loads; %s, %s .. %s)" % (
                span, pct(s, 50), len(s), what, a, z))
            print("BENCH dash_page_%s_p99 %.1f ms%s" % (span, pct(s, 99), " (budget %g)" % PAGE_P99_BUDGET_MS
                                                        if span == "90d" else ""))
            body = len(m["body_" + span])
            print("BENCH dash_page_%s_kb %.1f KB (HTML; with css and js %.1f KB)" % (
                span, body / 1024.0, (body + assets) / 1024.0))
        for sec in SECTIONS:
            s = m["csv_" + sec]
            print("BENCH dash_csv_%s_90d_p50 %.1f ms" % (sec, pct(s, 50)))
            print("BENCH dash_csv_%s_90d_p99 %.1f ms (?csv=%s: that section alone, %d loads, %d rows)" % (
                sec, pct(s, 99), sec, len(s), m["rows_" + sec]))
        for lst in ("first_timers", "visited", "drifting"):
            s = m["list_" + lst]
            print("BENCH dash_members_%s_90d_p50 %.1f ms" % (lst, pct(s, 50)))
            print("BENCH dash_members_%s_90d_p99 %.1f ms (the list behind the number: %d in all, %d shown)" % (
                lst, pct(s, 99), m["total_" + lst], m["shown_" + lst]))
        print("BENCH dash_hub_peak_rss_mib %.1f MiB (VmHWM of the hub after serving all of it; VmRSS now %.1f MiB; "
              "budget %g)" % (peak, rss, RSS_BUDGET_MIB))
        over += hold((("dash_page_90d_p99", pct(m["page_90d"], 99), PAGE_P99_BUDGET_MS),
                                    ("dash_hub_peak_rss_mib", peak, RSS_BUDGET_MIB)))
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
