#!/usr/bin/env python3
"""One kiosk's push sent to two hub nodes at the same moment, for tests/nodes/test_nodes.sh. Loopback only.

    twin_push.py PORT1 PORT2 CODE ROUNDS N

Enrols a device with CODE (on node 1), pulls its venue's members, then ROUNDS times sends one
push body of N new check-ins (drop-ins, by column as sync/PROTOCOL.md says) to both nodes at
once: the same request arriving twice, as when a kiosk's retry of a request whose answer was
lost reaches the other node while the first is still being stored. A request answered 503 (or
not at all) is sent again to the same node until it is answered. Every id must end up answered
"ok" by exactly one node and "duplicate" by the other. Prints a JSON summary and the ids sent
(one a line) to the file named by $TWIN_IDS.
"""
import http.client
import json
import os
import secrets
import sys
import threading
import time

HOST = "127.0.0.1"


def request(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def main():
    port1, port2, code, rounds, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    device = secrets.token_hex(16)
    st, data = request(port1, "POST", "/v1/enroll", json.dumps(
        {"code": code, "device_id": device, "name": "twin", "public_key": secrets.token_hex(32)}))
    if st != 201:
        sys.exit("enrolment answered %d: %s" % (st, data[:200]))
    en = json.loads(data)
    token, venue = en["token"], en["venue"]["id"]
    members, since = [], 0
    while True:
        st, data = request(port1, "GET", "/v1/venues/%s/pull/members?since=%d&limit=5000" % (venue, since),
                           token=token)
        page = json.loads(data)
        members += [m["uid"] for m in page["items"] if not m.get("deleted") and not m.get("merged_into")]
        since = page["next"]
        if not page["more"]:
            break
    prefix = secrets.token_hex(10)
    boot = "twin-" + secrets.token_hex(8)
    day = time.strftime("%Y-%m-%d")
    seq = 0
    answers = {}  # id -> list of "ok" / "duplicate" / other
    statuses = {}
    all_ids = []
    lock = threading.Lock()

    def send(port, path, body, ids, barrier):
        barrier.wait()
        while True:
            try:
                st, data = request(port, "POST", path, body, token)
            except OSError:
                st, data = 0, b""
            with lock:
                statuses[str(st)] = statuses.get(str(st), 0) + 1
            if st == 200:
                break
            time.sleep(0.2)
        reply = json.loads(data)
        listed = {r["id"]: r["status"] for r in reply.get("results", [])}
        with lock:
            for i in ids:
                if i in listed:
                    answers[i].append(listed[i])
                elif reply.get("others") == "ok":
                    answers[i].append("ok")
                else:
                    answers[i].append("unanswered")

    for _ in range(rounds):
        ids = ["%s%012x" % (prefix, seq + k + 1) for k in range(n)]
        for i in ids:
            answers[i] = []
        all_ids += ids
        now = int(time.time() * 1000)
        body = json.dumps({"device_id": device, "device_time_ms": now, "checkins": {
            "id": ids,
            "member": [members[(seq + k) % len(members)] for k in range(n)],
            "events": [], "event": [-1] * n, "method": ["scan"] * n,
            "wall_ms": [now] + [1] * (n - 1), "mono_ms": [1000] + [1] * (n - 1),
            "boots": [boot], "boot": [0] * n,
            "seq": [seq + 1] + [1] * (n - 1), "visit": [1] * n, "flags": [0] * n, "day": [day] * n}})
        seq += n
        path = "/v1/venues/%s/push" % venue
        barrier = threading.Barrier(2)
        ts = [threading.Thread(target=send, args=(p, path, body, ids, barrier)) for p in (port1, port2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    once = sum(1 for a in answers.values() if sorted(a) == ["duplicate", "ok"])
    twice = sum(1 for a in answers.values() if a.count("ok") > 1)
    none = sum(1 for a in answers.values() if "ok" not in a)
    if os.environ.get("TWIN_IDS"):
        with open(os.environ["TWIN_IDS"], "w") as f:
            f.write("".join(i + "\n" for i in all_ids))
    print(json.dumps({"ids": len(all_ids), "ok_once": once, "ok_twice": twice, "never_ok": none,
                      "statuses": statuses}))


if __name__ == "__main__":
    main()
