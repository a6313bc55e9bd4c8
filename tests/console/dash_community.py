#!/usr/bin/env python3
"""dash_community.py — a small tea-house community, built by hand in a real hub
through its real interfaces only, for the dashboard's tests:

  tingzi-hub venues add, members import (the CSV below), events add, links add,
  devices enroll-code, users add;
  two fake kiosks ("doors" A and B) enrolled over POST /v1/enroll with an
  Ed25519 public key made by openssl, then pushing the check-ins of the table
  below evening by evening (POST /v1/venues/V/push: check-ins by column, and
  reversal records for the undone ones), reading the roster and the events as a
  kiosk does (GET /v1/venues/V/pull/...);
  the organizer console (console.py: cookies, CSRF) for a merge, the referrals
  and expiring two group links;
  live codes followed as a phone does (GET /j/SLUG, with and without ?ref=CODE).

usage: dash_community.py HUB_BINARY HUB_DB BASE_URL OUT.json

OUT.json names what was made (the venue, each member's uid by key, the events,
the links, the fixed period, today's day in the venue) for the browser test,
test_dash_browser.mjs, whose expected numbers are worked out by hand from the
table below. Everything that can be is on a fixed calendar (May to August 2026,
in the past), so that weeks (Mondays) and months (cohorts) fall the same way
every run; what the hub can only date by its own clock (a member's sign-up, so
a referral noted in the console; a live code's redirects; a link expired now)
happens "today".

Only the standard library and the openssl command.
"""

import datetime
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console import Client, expect, expect_eq, fail, run  # noqa: E402

TZ = "Asia/Shanghai"
VENUE_NAME = "听雨茶馆"
ORGANIZER = "organizer@tingyu.example"
PASSWORD = "jasmine after rain 2026"

# ---- the community ----
#
# Columns, in time order (venue-local, Asia/Shanghai); events start at 19:30 and
# last 3 hours; D1 and D2 are drop-in days (no event: a member comes in the
# afternoon). The dashboard's period is 2026-06-01 (a Monday) .. 2026-08-30 (a
# Sunday): 13 whole weeks, the months June, July and August. E1, D1 and E2 fall
# before it.
COLUMNS = [
    ("E1", "2026-05-09", "五月品茶会"),
    ("D1", "2026-05-13", None),
    ("E2", "2026-05-23", "端午茶话"),
    ("E3", "2026-06-06", "六月新茶会"),
    ("E4", "2026-06-13", "茶与书"),
    ("E5", "2026-06-27", "夏至茶会"),
    ("E6", "2026-07-04", "冷泡茶工作坊"),
    ("D2", "2026-07-08", None),
    ("E7", "2026-07-18", "普洱夜"),
    ("E8", "2026-07-25", "乌龙品鉴"),
    ("E9", "2026-08-01", "八月茶会"),
    ("E10", "2026-08-08", "茶席设计"),
    ("E11", "2026-08-15", "中元茶叙"),
    ("E12", "2026-08-29", "夏末茶会"),
]
PERIOD = ("2026-06-01", "2026-08-30")

# One row a member (imported from a CSV: code, tier, membership's last day, "-"
# for none), then what they did in each column:
#   .    not there
#   A B  checked in at door A, or at door B
#   AB   at both doors: A first, then B (B's is a second check-in of the same
#        attendance: the hub marks it duplicate_of A's)
#   *    the welcome screen showed the group's join QR (flags bit 1, value 2)
#   !    the check-in was undone at the door (a reversal record follows it)
# M15 胡君 is the same person as M14 胡军, registered twice: after the pushes an
# organizer merges M15 into M14 on M14's page; M15's visits then count for M14
# (and M15's E6, an attendance M14 has too, becomes a duplicate).
#
#                                          E1 D1 E2 E3 E4 E5 E6 D2 E7  E8 E9 E10 E11 E12
TABLE = """
M01 张伟    TZ01 年卡 2027-05-31   | A  .  A  A  A  AB A  AB A   A  A  A   A   A
M02 王芳    TZ02 年卡 2026-09-15   | A  .  .  B  .  A  .  .  .   A  .  A   .   AB
M03 李娜    TZ03 月卡 2026-07-10   | .  .  A  .  A  .  B  .  .   .  A  .   A   .
M04 刘洋    TZ04 月卡 2026-06-30   | A  .  A  A  .  .  .  .  .   .  .  .   .   .
M05 陈静    TZ05 学生 2026-05-31   | A  A  B  .  .  .  .  .  .   .  .  .   .   .
M06 杨磊    TZ06 -    -            | A  .  A  .  A  A  .  .  .   .  .  .   .   .
M07 赵敏    TZ07 月卡 2026-10-31   | .  .  A  .  .  .  .  .  A*  .  .  .   .   .
M08 黄强    TZ08 -    -            | A  .  .  .  .  .  .  .  .   .  .  .   .   .
M09 周杰    TZ09 年卡 2027-06-01   | .  .  .  A  A  A  A  .  A   AB A  A   A   A
M10 吴婷    TZ10 -    -            | .  .  .  A  .  A  A  .  .   .  .  .   .   .
M11 徐涛    TZ11 -    -            | .  .  .  .  A* .  .  .  .   .  .  .   .   .
M12 孙丽    TZ12 学生 2026-07-20   | .  .  .  .  A  .  .  .  .   A  .  .   .   .
M13 马超    TZ13 学生 2026-09-20   | .  .  .  .  .  A  A  .  B   .  A  .   .   .
M14 胡军    TZ14 月卡 2026-11-30   | .  .  .  A* .  .  A  .  .   .  .  .   .   .
M15 胡君    TZ15 -    -            | .  .  A  .  .  .  B  .  .   .  .  A   .   .
M16 郭梅    TZ16 -    -            | .  .  .  .  .  .  A* .  .   A  A  .   .   .
M17 何平    TZ17 -    -            | .  .  .  .  .  .  .  .  A*  .  .  .   .   .
M18 林红    TZ18 -    -            | .  .  .  .  .  .  .  .  A*! .  .  .   A   .
M19 罗斌    TZ19 -    -            | .  .  .  .  .  .  .  .  .   A! .  .   .   .
M20 高洁    TZ20 月卡 2026-09-10   | .  .  .  .  .  .  A  .  AB  .  A  .   .   .
M21 梁雪    TZ21 -    -            | .  .  .  .  .  .  .  .  .   .  B* A   .   A
M22 宋宇    TZ22 -    -            | .  .  .  .  .  .  .  .  .   .  .  A*  A   .
M23 郑琳    TZ23 -    -            | .  .  .  .  .  .  .  .  .   .  .  .   .   A*
M24 Ann_Lee TZ24 -    -            | .  .  .  .  .  .  .  .  .   .  .  .   A   .
M25 谢飞    TZ25 年卡 2026-09-01   | .  .  .  .  .  .  .  .  .   .  .  .   .   .
M26 韩雪    TZ26 月卡 2026-06-15   | .  .  .  .  .  .  .  .  .   .  .  .   .   .
M27 唐亮    TZ27 学生 2027-01-31   | .  .  .  .  .  .  .  .  .   .  .  .   .   .
M28 冯娟    TZ28 -    -            | .  .  .  .  .  .  .  .  .   .  .  .   .   .
M29 曹阳    TZ29 -    -            | .  .  .  .  .  .  .  .  .   .  .  .   .   .
M30 邓超    TZ30 -    -            | .  .  .  .  .  .  .  .  .   .  .  .   .   .
"""

# After the pushes: merges and referrals an organizer records in the console.
MERGES = [("M14", "M15")]  # (keep, gone): M15 merged into M14
REFERRALS = [  # (member, brought by): the tree of M01 张伟 is M09 (M21 (M23), M22), M10, M16
    ("M09", "M01"), ("M10", "M01"), ("M16", "M01"),
    ("M21", "M09"), ("M22", "M09"), ("M23", "M21"),
    ("M11", "M02"), ("M13", "M03"),
]

# Group links, made today: the venue's live code (its slug) leads to 茶友群一
# (a cap of 2 redirects) and then 茶友群二; a second live code "dushu" (the
# reading group) leads to 读书会群, with 读书会备用群 behind it.
LINKS = [
    # key, slug (None: the venue's), url, label, cap
    ("L1", None, "https://weixin.qq.com/g/tingyu-one", "茶友群一", 2),
    ("L2", None, "https://weixin.qq.com/g/tingyu-two", "茶友群二", None),
    ("L3", "dushu", "https://weixin.qq.com/g/tingyu-dushu", "读书会群", None),
    ("L4", "dushu", "https://t.me/tingyu_dushu", "读书会备用群", None),
]
# What phones do with the live codes today, in order: ("get", slug key, ref, the
# answer expected) or ("expire", link key) by an organizer in the console.
LIVE = [
    ("get", "venue", None, "L1"),      # L1 1 of 2
    ("get", "venue", "TZ01", "L1"),    # L1 2 of 2: full
    ("get", "venue", "TZ01", "L2"),
    ("get", "venue", "TZ09", "L2"),
    ("get", "venue", None, "L2"),
    ("expire", "L2"),                  # expired while the code still led to it
    ("get", "venue", "TZ07", None),    # 410: nothing valid (a miss; its ref is not an invite followed)
    ("get", "venue", None, None),      # 410
    ("get", "dushu", None, "L3"),
    ("get", "dushu", "TZ07", "L3"),
    ("get", "dushu", "NOPE99", "L3"),  # a ref that is no member's code
    ("expire", "L4"),                  # expired, but the code led to L3: not "while live"
    ("get", "dushu", None, "L3"),
]


def parse_table():
    cols = [c[0] for c in COLUMNS]
    members = []
    for line in TABLE.strip().splitlines():
        left, right = line.split("|")
        key, name, code, tier, expires = left.split()
        cells = right.split()
        expect(len(cells) == len(cols), "row %s has %d cells, not %d" % (key, len(cells), len(cols)))
        visits = {}
        for col, cell in zip(cols, cells):
            if cell == ".":
                continue
            expect(re.fullmatch(r"(A|B|AB)\*?!?", cell), "row %s, %s: %r" % (key, col, cell))
            visits[col] = cell
        members.append({
            "key": key, "name": name.replace("_", " "), "code": code,
            "tier": "" if tier == "-" else tier, "expires": "" if expires == "-" else expires,
            "visits": visits,
        })
    return members


# ---- the hub's command line ----

def hub(binary, db, *args):
    r = subprocess.run([binary, "--db", db] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail("tingzi-hub %s: %s" % (" ".join(args), r.stderr.strip()[-500:]))
    return r.stdout


# ---- a kiosk, as the protocol has it ----

def http_json(base, method, path, body=None, token=None):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    h = {"Connection": "close"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = "Bearer " + token
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        return r.status, (json.loads(text) if text.startswith("{") else text), r.getheader("Location")
    finally:
        c.close()


def ed25519_public_hex(work, name):
    """A fresh Ed25519 key pair (openssl); the public key's 32 bytes as hex."""
    key = os.path.join(work, name + ".pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    expect(len(der) == 44, "an Ed25519 public key in DER is 44 bytes, not %d" % len(der))
    return der[-32:].hex()


class Kiosk:
    def __init__(self, base, venue, name, code, work):
        self.base, self.venue, self.name = base, venue, name
        self.device = os.urandom(16).hex()
        self.prefix = os.urandom(10).hex()  # a run's 80-bit prefix; the sequence number follows
        self.boot = "boot-" + os.urandom(4).hex()
        self.seq = 0
        self.visits = {}  # member uid -> visits seen at this door
        st, reply, _ = http_json(base, "POST", "/v1/enroll", {
            "code": code, "device_id": self.device, "name": name,
            "public_key": ed25519_public_hex(work, name)})
        expect_eq(st, 201, "POST /v1/enroll of %s" % name)
        expect_eq(reply["venue"]["id"], venue, "the venue %s enrolled in" % name)
        self.token = reply["token"]

    def pull(self, set_name):
        items, since = [], 0
        while True:
            st, reply, _ = http_json(self.base, "GET", "/v1/venues/%s/pull/%s?since=%d&limit=1000" % (
                self.venue, set_name, since), token=self.token)
            expect_eq(st, 200, "pull %s" % set_name)
            items += reply["items"]
            since = reply["next"]
            if not reply["more"]:
                return items

    def next_id(self):
        self.seq += 1
        return "%s%012x" % (self.prefix, self.seq), self.seq

    def push(self, checkins, reversals):
        """checkins: [(member uid, event uid or None, wall_ms, flags, day)]; reversals: [(index, wall_ms)].
        The hub's answers, by check-in index and for the records."""
        ids, seqs, members, evs, evidx, walls, visit = [], [], [], [], [], [], []
        for member, event, wall, flags, day in checkins:
            cid, seq = self.next_id()
            ids.append(cid)
            seqs.append(seq)
            members.append(member)
            if event is not None and event not in evs:
                evs.append(event)
            evidx.append(evs.index(event) if event is not None else -1)
            walls.append(wall)
            self.visits[member] = self.visits.get(member, 0) + 1
            visit.append(self.visits[member])
        delta = lambda v: [v[0]] + [v[i] - v[i - 1] for i in range(1, len(v))] if v else []
        records = []
        for i, wall in reversals:
            rid, seq = self.next_id()
            records.append({"kind": "reversal", "id": rid, "checkin": ids[i], "reason": "checked in the wrong person",
                            "wall_ms": wall, "seq": seq})
        body = {"device_id": self.device, "device_time_ms": int(time.time() * 1000),
                "checkins": {
                    "id": ids, "member": members, "events": evs, "event": evidx,
                    "method": ["scan"] * len(ids), "wall_ms": delta(walls), "mono_ms": delta(walls),
                    "boots": [self.boot], "boot": [0] * len(ids), "seq": delta(seqs), "visit": visit,
                    "flags": [c[3] for c in checkins], "day": [c[4] for c in checkins]},
                "records": records}
        st, reply, _ = http_json(self.base, "POST", "/v1/venues/%s/push" % self.venue, body, token=self.token)
        expect_eq(st, 200, "the push of %s (%s)" % (self.name, reply))
        expect_eq(reply.get("others"), "ok", "the push's others")
        by_id = {r["id"]: r for r in reply.get("results", [])}
        return [by_id.get(i) for i in ids], [by_id.get(r["id"]) for r in records]


def local_ms(day, hh, mm):
    y, m, d = (int(x) for x in day.split("-"))
    return int(datetime.datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(TZ)).timestamp() * 1000)


def today_local():
    return datetime.datetime.now(ZoneInfo(TZ)).strftime("%Y-%m-%d")


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary, db, base, out = sys.argv[1:]
    work = os.path.join(os.path.dirname(os.path.abspath(out)), "community")  # the keys and the CSV, beside OUT
    os.makedirs(work, exist_ok=True)
    members = parse_table()
    by_key = {m["key"]: m for m in members}

    # ---- the venue, its members, its events, an organizer ----
    venue = re.search(r"\b[0-9a-f]{32}\b", hub(binary, db, "venues", "add", VENUE_NAME, "--tz", TZ)).group(0)
    csv = os.path.join(work, "members.csv")
    with open(csv, "w", encoding="utf-8") as f:
        f.write("name,phone,code,tier,expires\n")
        for i, m in enumerate(members, 1):
            f.write("%s,139000000%02d,%s,%s,%s\n" % (m["name"], i, m["code"], m["tier"], m["expires"]))
    hub(binary, db, "members", "import", csv, "--venue", venue)
    signup_day = today_local()  # the members' sign-up in the hub: when a referral noted in the console counts
    for key, day, title in COLUMNS:
        if title:
            hub(binary, db, "events", "add", "--venue", venue, "--title", title,
                "--start", day + " 19:30", "--end", day + " 22:30")
    token = re.search(r"/setup\?t=([A-Za-z0-9_-]+)",
                      hub(binary, db, "users", "add", ORGANIZER, "--role", "organizer", "--venue", venue)).group(1)

    # ---- two doors ----
    doors = {}
    for name in ("A", "B"):
        code = hub(binary, db, "devices", "enroll-code", venue).strip().splitlines()[-1]
        doors[name] = Kiosk(base, venue, "door " + name, code, work)
    roster = doors["A"].pull("members")
    uid_of = {it["code"]: it["uid"] for it in roster}
    for m in members:
        expect(m["code"] in uid_of, "the kiosk's roster has no %s" % m["code"])
        m["uid"] = uid_of[m["code"]]
    events = {it["title"]: it["uid"] for it in doors["A"].pull("events")}
    event_of = {key: events[title] for key, _, title in COLUMNS if title}
    expect_eq(len(event_of), 12, "events pulled")

    # ---- the check-ins, evening by evening: door A's push, then door B's ----
    stats = {"checkins": 0, "second": 0, "undone": 0}
    for key, day, title in COLUMNS:
        at = {"A": [], "B": []}
        undo = {"A": [], "B": []}
        # an evening's check-ins from 19:20 (a drop-in day's from 15:00), a minute apart, in the table's order
        start = (19, 20) if title else (15, 0)
        for i, m in enumerate(members):
            cell = m["visits"].get(key)
            if not cell:
                continue
            flags = 2 if "*" in cell else 0
            for door in ("A", "B"):
                if door not in cell:
                    continue
                # door B sees a member who came through A five minutes after A did
                wall = local_ms(day, start[0], start[1] + i) + (5 * 60000 if door == "B" and "A" in cell else 0)
                at[door].append((m["uid"], event_of.get(key), wall, flags if door == cell[0] else 0,
                                 "" if title else day))
                if "!" in cell:
                    undo[door].append((len(at[door]) - 1, wall + 90000))
        for door in ("A", "B"):
            if not at[door]:
                continue
            res, recs = doors[door].push(at[door], undo[door])
            for (uid, _, _, _, _), r in zip(at[door], res):
                m = next(x for x in members if x["uid"] == uid)
                second = door == "B" and "A" in m["visits"][key]
                stats["checkins"] += 1
                if second:
                    expect(r and r.get("attendance") == "duplicate",
                           "%s's check-in at door B on %s: the hub answered %r, not a second check-in of one "
                           "attendance" % (m["name"], key, r))
                    stats["second"] += 1
                else:
                    expect(r is None or (r.get("status") == "ok" and "attendance" not in r),
                           "%s's check-in at door %s on %s: the hub answered %r" % (m["name"], door, key, r))
            for r in recs:
                expect(r is None or r.get("status") == "ok", "a reversal: the hub answered %r" % r)
                stats["undone"] += 1

    # ---- the organizer: a merge and referrals, in the console ----
    c = Client(base, lang="en")
    c.setup(token, PASSWORD)
    V = "/venues/" + venue
    for keep, gone in MERGES:
        c.page("%s/members/%s" % (V, by_key[keep]["uid"]))
        r = c.post("%s/members/%s/merge" % (V, by_key[keep]["uid"]), {"other": by_key[gone]["code"]})
        expect(r.status in (302, 303), "merging %s into %s: %d" % (gone, keep, r.status))
    for member, referrer in REFERRALS:
        c.page("%s/members/%s" % (V, by_key[member]["uid"]))
        r = c.post("%s/members/%s/referrer" % (V, by_key[member]["uid"]), {"referrer": by_key[referrer]["code"]})
        expect(r.status in (302, 303), "%s brought by %s: %d %s" % (member, referrer, r.status, r.text[:300]))

    # ---- group links and live codes, today ----
    for key, slug, url, label, cap in LINKS:
        args = ["links", "add", "--venue", venue, url, "--label", label]
        if slug:
            args += ["--slug", slug]
        if cap:
            args += ["--cap", str(cap)]
        hub(binary, db, *args)
    pulled = doors["A"].pull("links")
    link_of = {}
    for key, slug, url, label, cap in LINKS:
        it = next((x for x in pulled if x["url"] == url), None)
        expect(it, "the kiosk's links have no %s" % url)
        link_of[key] = {"uid": it["uid"], "label": label, "url": url,
                        "slug": urllib.parse.urlsplit(it["live_url"]).path.split("/")[-1]}
    slug_of = {"venue": link_of["L1"]["slug"], "dushu": "dushu"}
    expect_eq(link_of["L3"]["slug"], "dushu", "the reading group's live code")
    redirect_day = today_local()
    for step in LIVE:
        if step[0] == "expire":
            lid = link_of[step[1]]["uid"]
            c.page("%s/links" % V)
            time.sleep(0.01)  # a link expired in the same millisecond it was made was never valid
            r = c.post("%s/links/%s/expire" % (V, lid))
            expect(r.status in (302, 303), "expiring %s: %d" % (step[1], r.status))
            continue
        _, slug, ref, want = step
        path = "/j/" + slug_of[slug] + ("?ref=" + urllib.parse.quote(ref) if ref else "")
        st, _, where = http_json(base, "GET", path)
        if want:
            expect_eq((st, where), (302, link_of[want]["url"]), "GET %s" % path)
        else:
            expect_eq(st, 410, "GET %s (no valid link)" % path)
    expect_eq(today_local(), redirect_day, "the venue's day (the redirects straddled midnight: run again)")

    with open(out, "w", encoding="utf-8") as f:
        json.dump({
            "venue": venue, "venue_name": VENUE_NAME, "tz": TZ, "email": ORGANIZER, "password": PASSWORD,
            "period": {"from": PERIOD[0], "to": PERIOD[1]},
            "signup_day": signup_day, "today": redirect_day,
            "members": {m["key"]: {"uid": m["uid"], "name": m["name"], "code": m["code"]} for m in members},
            "events": event_of, "links": link_of, "slugs": slug_of, "pushed": stats,
        }, f, ensure_ascii=False, indent=1)
    print("community: %d members, %d events, %d check-ins pushed by two doors (%d second check-ins at door B, "
          "%d undone), %d merge, %d referrals, %d live-code steps" % (
              len(members), len(event_of), stats["checkins"], stats["second"], stats["undone"], len(MERGES),
              len(REFERRALS), len(LIVE)))


if __name__ == "__main__":
    run(main)
