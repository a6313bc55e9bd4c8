#!/usr/bin/env python3
"""The open API driven as a client would (python's own http.client, nothing else).

  api_calls.py walk BASE OPENAPI TOKEN OTHER_TOKEN   every documented route called, each answer checked
  api_calls.py burst BASE TOKEN MEMBER N             the same check-in POSTed N times at once
  api_calls.py bench BASE TOKEN MEMBERS_FILE N       N check-ins one after another: p50/p99 ms

Prints what it found as JSON on stdout; exits 1 with the reason on the first
answer that is not what a client is promised.
"""
import http.client
import json
import secrets
import sys
import threading
import time
import urllib.parse


def call(base, token, method, path, body=None, raw=None):
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {"Authorization": "Bearer " + token} if token else {}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read()
    c.close()
    try:
        j = json.loads(text)
    except ValueError:
        j = None
    return r.status, j, dict(r.getheaders())


def need(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)


def new_id():
    return secrets.token_hex(16)


def walk(base, spec_path, token, other):
    spec = json.load(open(spec_path))
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    called = set()

    def go(method, pattern, path, body=None, want=200):
        st, j, h = call(base, token, method, path, body)
        need(st == want, "%s %s: %d (wanted %d): %s" % (method, path, st, want, j))
        need(j is not None, "%s %s: not JSON" % (method, path))
        called.add((method, pattern))
        return j

    v = go("GET", "/api/v1/venue", "/api/v1/venue")
    need(len(v["id"]) == 32, "venue id")
    m1 = go("POST", "/api/v1/members", "/api/v1/members",
            {"name": "王小明", "phone": "13800001234", "code": "W1"}, 201)
    need(m1["status"] == "created" and m1["phone"] == "13800001234", "created member: %s" % m1)
    uid2 = new_id()
    m2 = go("POST", "/api/v1/members", "/api/v1/members", {"uid": uid2, "name": "李小红", "tier": "gold"}, 201)
    need(m2["uid"] == uid2, "a chosen uid kept")
    again = go("POST", "/api/v1/members", "/api/v1/members", {"uid": uid2, "name": "李小红", "tier": "gold"}, 200)
    need(again["status"] == "duplicate", "a create sent again is a duplicate: %s" % again)
    found = go("GET", "/api/v1/members", "/api/v1/members?q=1234")
    need([i["uid"] for i in found["items"]] == [m1["uid"]], "search by phone suffix: %s" % found)
    found = go("GET", "/api/v1/members", "/api/v1/members?q=%E5%B0%8F")
    need(len(found["items"]) == 2, "search by a part of a name")
    p1 = go("GET", "/api/v1/members", "/api/v1/members?limit=1")
    need(p1["more"] and len(p1["items"]) == 1, "a first page of one")
    p2 = go("GET", "/api/v1/members", "/api/v1/members?limit=1&cursor=" + p1["next_cursor"])
    need(p2["items"][0]["uid"] != p1["items"][0]["uid"], "the cursor moves on")
    one = go("GET", "/api/v1/members/{uid}", "/api/v1/members/" + m1["uid"])
    need(one["name"] == "王小明" and one["visits"] == 0, "one member")
    ch = go("PATCH", "/api/v1/members/{uid}", "/api/v1/members/" + m1["uid"],
            {"tier": "silver", "expires": "2027-12-31", "code": None})
    need(ch["tier"] == "silver" and ch["code"] is None and ch["name"] == "王小明", "patched: %s" % ch)
    now = int(time.time() * 1000)
    ev = go("POST", "/api/v1/events", "/api/v1/events",
            {"title": "读书会", "start_ms": now - 3600000, "end_ms": now + 3600000}, 201)
    evs = go("GET", "/api/v1/events", "/api/v1/events?from=%d" % (now - 7200000))
    need(ev["uid"] in [e["uid"] for e in evs["items"]], "the event listed")
    go("GET", "/api/v1/events/{uid}", "/api/v1/events/" + ev["uid"])
    cid = new_id()
    k = go("POST", "/api/v1/checkins", "/api/v1/checkins", {"id": cid, "member": m1["uid"], "event": ev["uid"]}, 201)
    need(k["status"] == "created" and k["method"] == "api" and k["attendance"] == "new", "check-in: %s" % k)
    k2 = go("POST", "/api/v1/checkins", "/api/v1/checkins", {"id": cid, "member": m1["uid"], "event": ev["uid"]}, 200)
    need(k2["status"] == "duplicate", "a check-in sent again: %s" % k2)
    st, j, _ = call(base, token, "POST", "/api/v1/checkins", {"id": cid, "member": uid2, "event": ev["uid"]})
    need(st == 409 and j.get("field") == "member", "the same id, another member: %d %s" % (st, j))
    st, j, _ = call(base, token, "POST", "/api/v1/checkins", {"id": cid, "member": m1["uid"]})
    need(st == 409 and j.get("field") == "event", "the same id, no event: %d %s" % (st, j))
    # a second check-in of the same attendance: kept, a duplicate of the attendance
    k3 = go("POST", "/api/v1/checkins", "/api/v1/checkins", {"id": new_id(), "member": m1["uid"], "event": ev["uid"]}, 201)
    need(k3["attendance"] == "duplicate", "a second check-in of one attendance: %s" % k3)
    evn = go("GET", "/api/v1/events/{uid}", "/api/v1/events/" + ev["uid"])
    need(evn["attendance"] == 1, "the event counts one attendance: %s" % evn)
    one = go("GET", "/api/v1/members/{uid}", "/api/v1/members/" + m1["uid"])
    need(one["visits"] == 1, "the member's visits: %s" % one)
    cks = go("GET", "/api/v1/checkins", "/api/v1/checkins?event=" + ev["uid"])
    need(len(cks["items"]) == 2 and all(i["method"] == "api" for i in cks["items"]), "check-ins by event: %s" % cks)
    go("GET", "/api/v1/checkins", "/api/v1/checkins?from=%d&to=%d" % (now - 60000, now + 600000))
    mg = go("POST", "/api/v1/members/{uid}/merge", "/api/v1/members/%s/merge" % m1["uid"], {"member": uid2})
    need(mg["uid"] == m1["uid"], "merge keeps the member")
    gone = go("GET", "/api/v1/members/{uid}", "/api/v1/members/" + uid2)
    need(gone["merged_into"] == m1["uid"], "merged: %s" % gone)
    ln = go("POST", "/api/v1/links", "/api/v1/links", {"url": "https://t.me/+tea", "label": "Telegram", "cap": 50}, 201)
    need(ln["live_url"].endswith("/j/" + ln["slug"]), "a link's live address: %s" % ln)
    lns = go("GET", "/api/v1/links", "/api/v1/links")
    need(any(i["uid"] == ln["uid"] for i in lns["items"]), "the link listed")
    codes = go("GET", "/api/v1/live-codes", "/api/v1/live-codes")
    need(any(c["slug"] == ln["slug"] and c["valid_links"] >= 1 for c in codes["items"]), "live codes: %s" % codes)

    # another venue's token sees none of it
    for path in ("/api/v1/members/" + m1["uid"], "/api/v1/events/" + ev["uid"], "/api/v1/checkins?event=" + ev["uid"]):
        st, j, _ = call(base, other, "GET", path)
        need(st == 404 and j["error"] == "not_found", "another venue's token on %s: %d %s" % (path, st, j))
    st, j, _ = call(base, other, "GET", "/api/v1/checkins")
    need(st == 200 and j["items"] == [], "another venue's check-ins: %s" % j)
    st, j, _ = call(base, other, "GET", "/api/v1/members?q=1234")
    need(st == 200 and j["items"] == [], "another venue's members: %s" % j)
    st, j, _ = call(base, other, "PATCH", "/api/v1/members/" + m1["uid"], {"tier": "x"})
    need(st == 404, "another venue's token changes a member: %d" % st)
    st, j, _ = call(base, other, "POST", "/api/v1/checkins", {"id": new_id(), "member": m1["uid"]})
    need(st == 400 and j.get("field") == "member", "another venue's token checks in a member: %d %s" % (st, j))
    st, j, _ = call(base, other, "POST", "/api/v1/checkins", {"id": cid, "member": m1["uid"], "event": ev["uid"]})
    need(st == 409 and j.get("field") == "id", "another venue's token with a held id: %d %s" % (st, j))

    missing = documented - called
    need(not missing, "documented routes not called: %s" % sorted(missing))
    print(json.dumps({"called": len(called), "member": m1["uid"], "event": ev["uid"], "checkin": cid}))


def burst(base, token, member, n):
    cid = new_id()
    out = [None] * n
    go = threading.Barrier(n)

    def one(i):
        go.wait()
        out[i] = call(base, token, "POST", "/api/v1/checkins", {"id": cid, "member": member})

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    statuses = sorted(o[0] for o in out)
    said = sorted(o[1]["status"] for o in out)
    print(json.dumps({"id": cid, "statuses": statuses, "created": said.count("created"),
                      "duplicate": said.count("duplicate")}))


def bench(base, token, members_file, n):
    members = [l.strip() for l in open(members_file) if l.strip()]
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    ms = []
    for i in range(n):
        body = json.dumps({"id": new_id(), "member": members[i % len(members)]})
        t0 = time.perf_counter()
        c.request("POST", "/api/v1/checkins", body=body,
                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        ms.append((time.perf_counter() - t0) * 1000)
        need(r.status == 201, "bench check-in %d: %d" % (i, r.status))
    ms.sort()
    print(json.dumps({"n": n, "p50_ms": round(ms[n // 2], 2), "p99_ms": round(ms[int(n * 0.99) - 1], 2),
                      "max_ms": round(ms[-1], 2)}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "walk":
        walk(*sys.argv[2:6])
    elif cmd == "burst":
        burst(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "bench":
        bench(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit("unknown command " + cmd)
