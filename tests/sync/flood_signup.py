#!/usr/bin/env python3
"""N sign-ups to /m/SLUG from one client address (X-Forwarded-For, the hub
trusting 127.0.0.1), on four connections, spread over SECONDS (default 0: as
fast as they go), each a valid form (its cookie and token read once, phones
all different). Prints a JSON summary: statuses counted, the largest
Retry-After, seconds taken."""
import http.client
import json
import re
import sys
import threading
import time

port, slug, n, addr = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
spread = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("GET", "/m/" + slug, headers={"X-Forwarded-For": addr})
r = c.getresponse()
page = r.read().decode()
cookie = "; ".join(h.split(";")[0] for k, h in r.getheaders() if k.lower() == "set-cookie")
token = re.search(r'name="t" value="([^"]+)"', page).group(1)
statuses, retry, lock = {}, [0], threading.Lock()


def worker(first, step):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(first, n, step):
        if spread:  # request i goes at its share of the time
            wait = t0 + spread * i / n - time.time()
            if wait > 0:
                time.sleep(wait)
        body = "t=%s&name=Flood%%20%d&phone=1360%07d&consent=1" % (token, i, i)
        conn.request("POST", "/m/" + slug, body=body, headers={
            "X-Forwarded-For": addr, "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        with lock:
            statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
            ra = resp.getheader("Retry-After")
            if ra:
                retry[0] = max(retry[0], int(ra))


t0 = time.time()
threads = [threading.Thread(target=worker, args=(k, 4)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"statuses": statuses, "retry_after_max": retry[0], "seconds": round(time.time() - t0, 2)}))
