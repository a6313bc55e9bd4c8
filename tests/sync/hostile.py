#!/usr/bin/env python3
"""A hostile client of tingzi-hub, for tests/sync/test_hostile.sh. Loopback only.

  hostile.py memory PORT HUBPID       bodies before authentication, enrolment
                                      bombs (plain, chunked, gzip); prints the
                                      hub's idle and highest resident memory
  hostile.py slow PORT N SECONDS OUT  holds N slow connections (slowloris
                                      headers, idle keep-alive, dripped bodies)
                                      from 127.0.0.2-21 for SECONDS, opening
                                      again what the hub closes; writes a
                                      summary to OUT
  hostile.py flood PORT N ADDR        N requests with a bad token from ADDR
  hostile.py slowpush PORT TOKEN VENUE DEVICE SECONDS
                                      a real push whose body takes SECONDS to
                                      arrive; prints the offset the hub measured
"""
import gzip
import json
import resource
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def status_of(sock, timeout=5.0):
    """The status code of the first answer on sock, or 0 if none came."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def memory(port, pid):
    stop = threading.Event()
    peak = [rss_kb(pid)]
    idle = peak[0]

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    statuses = {}

    def count(what, st):
        statuses.setdefault(what, {}).setdefault(str(st), 0)
        statuses[what][str(st)] += 1

    # 60 pushes without a valid token, each sending 8 MiB less one byte, all
    # held open together before the last byte.
    size = 8 << 20
    conns = []
    venue = "b" * 32
    for i in range(60):
        s = socket.create_connection((HOST, port), source_address=("127.0.0.%d" % (40 + i % 2), 0))
        s.sendall(("POST /v1/venues/%s/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Authorization: Bearer tzd1.%s.%s\r\nContent-Length: %d\r\n\r\n"
                   % (venue, "0" * 32, "a" * 64, size)).encode())
        conns.append(s)
    body = b" " * (1 << 16)
    for s in conns:
        s.settimeout(5)
        try:
            for _ in range(size // len(body) - 1):
                s.sendall(body)
            s.sendall(body[:-1])
        except OSError:
            pass
    time.sleep(0.3)
    for s in conns:
        try:
            s.sendall(b" ")
        except OSError:
            pass
        count("push_8MiB_bad_token", status_of(s))
        s.close()

    # enrolment bodies of 8 MiB of empty objects: declared, chunked, gzip
    bomb = b"[" + b"{}," * ((size - 2) // 3) + b"{}]"
    gz = gzip.compress(bomb, 9)
    for mode in ("length", "chunked"):
        s = socket.create_connection((HOST, port), source_address=("127.0.0.42", 0))
        head = "POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        if mode == "length":
            s.sendall((head + "Content-Length: %d\r\n\r\n" % len(bomb)).encode())
            payload = bomb
        else:
            s.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            payload = b"%x\r\n" % len(bomb) + bomb + b"\r\n0\r\n\r\n"
        s.settimeout(10)
        try:
            s.sendall(payload)
        except OSError:
            pass
        count("enroll_8MiB_" + mode, status_of(s, 10))
        s.close()

    def gzip_bombs(seconds):
        end = time.time() + seconds
        while time.time() < end:
            s = socket.create_connection((HOST, port), source_address=("127.0.0.43", 0))
            s.sendall(("POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz)).encode() + gz)
            count("enroll_gzip_bomb", status_of(s))
            s.close()

    workers = [threading.Thread(target=gzip_bombs, args=(5,)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    t.join()
    print(json.dumps({"idle_kb": idle, "peak_kb": peak[0], "gzip_bomb_bytes": len(gz),
                      "statuses": statuses}))


def slow(port, n, seconds, out):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 512), hard))
    kinds = ("slowloris", "keepalive", "slowbody")
    stats = {"opened": 0, "refused": 0, "closed_by_hub": 0, "held_max": 0}
    conns = {}  # slot -> socket

    def open_one(slot):
        src = "127.0.0.%d" % (2 + slot % 20)
        kind = kinds[slot % 3]
        try:
            s = socket.create_connection((HOST, port), timeout=2, source_address=(src, 0))
            if kind == "slowloris":
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
            elif kind == "keepalive":
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            else:
                s.sendall(b"POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n{")
            s.setblocking(False)
            conns[slot] = s
            stats["opened"] += 1
        except OSError:
            stats["refused"] += 1

    for slot in range(n):
        open_one(slot)
    end = time.time() + seconds
    tick = 0
    while time.time() < end:
        time.sleep(1)
        tick += 1
        for slot in list(conns):
            s = conns[slot]
            kind = kinds[slot % 3]
            gone = False
            try:
                data = s.recv(65536)
                if data == b"" and kind != "keepalive":
                    gone = True
                elif data == b"":
                    gone = True
            except BlockingIOError:
                pass
            except OSError:
                gone = True
            if not gone and tick % 2 == 0:
                try:
                    s.send(b"X-a: b\r\n" if kind == "slowloris" else (b" " if kind == "slowbody" else b""))
                except OSError:
                    gone = True
            if gone:
                s.close()
                del conns[slot]
                stats["closed_by_hub"] += 1
        stats["held_max"] = max(stats["held_max"], len(conns))
        for slot in range(n):  # an attacker opens again what was closed
            if slot not in conns:
                open_one(slot)
    for s in conns.values():
        s.close()
    with open(out, "w") as f:
        json.dump(stats, f)


def flood(port, n, addr):
    statuses = {}
    retry = set()
    s = None
    for _ in range(n):
        if s is None:
            s = socket.create_connection((HOST, port), source_address=(addr, 0))
        s.sendall(("GET /v1/venues/%s/pull/members HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer tzd1.%s.%s\r\n\r\n" % ("c" * 32, "1" * 32, "f" * 64)).encode())
        data = b""
        s.settimeout(5)
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            st = int(lines[0].split(b" ")[1])
            length = 0
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
                if k.strip().lower() == b"retry-after":
                    retry.add(int(v))
            while len(rest) < length:
                rest += s.recv(4096)
            close = any(l.lower().startswith(b"connection: close") for l in lines)
        except (OSError, ValueError, IndexError):
            st, close = 0, True
        statuses[str(st)] = statuses.get(str(st), 0) + 1
        if close:
            s.close()
            s = None
    print(json.dumps({"statuses": statuses, "retry_after": sorted(retry)}))


def slowpush(port, token, venue, device, seconds):
    body = json.dumps({"device_id": device, "device_time_ms": int(time.time() * 1000),
                       "checkins": None, "records": []}).encode()
    pad = b" " * 64
    body = body[:-1] + pad + body[-1:]
    s = socket.create_connection((HOST, port))
    s.sendall(("POST /v1/venues/%s/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (venue, token, len(body))).encode())
    step = seconds / len(body)
    for i in range(len(body)):
        s.sendall(body[i:i + 1])
        time.sleep(step)
    s.settimeout(10)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        if rest.endswith(b"}"):
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    print(json.loads(rest)["offset_ms"])


def main():
    cmd = sys.argv[1]
    port = int(sys.argv[2])
    if cmd == "memory":
        memory(port, int(sys.argv[3]))
    elif cmd == "slow":
        slow(port, int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif cmd == "flood":
        flood(port, int(sys.argv[3]), sys.argv[4])
    elif cmd == "slowpush":
        slowpush(port, sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
