#!/usr/bin/env python3
"""A misbehaving HTTP proxy for sync fault tests, on loopback only.

    fault_proxy.py LISTEN_PORT UPSTREAM_PORT [--seed N] [--faults drop,lost,delay,500,429,truncate,replay]
                   [--rate 0.5] [--stats FILE]

One request per connection (the kiosk's client opens a connection per
request). For each request the proxy picks, from a seeded random sequence,
either to pass it through or one of the faults:

  drop      read the request, close without an answer (the hub never sees it)
  lost      pass the request to the hub, then close without an answer (the hub
            committed, the kiosk does not know: the case exactly-once is for)
  delay     wait 0.3 to 1.5 s, then pass
  500       answer 500 without asking the hub
  429       answer 429 with Retry-After: 1 without asking the hub
  truncate  pass, then send only the first half of the hub's reply and close
  replay    send the request to the hub twice, answer with the second reply

On SIGTERM it writes how many of each it did to the stats file (JSON).
"""
import argparse
import asyncio
import json
import random
import signal
import sys

HOST = "127.0.0.1"
MAX_BODY = 64 << 20


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length > MAX_BODY:
        raise ValueError("body too large for the proxy")
    body = await reader.readexactly(length) if length else b""
    return head, body


def close_header(head):
    """The request with Connection: close, so the hub's reply ends the stream."""
    lines = [l for l in head.split(b"\r\n") if l and not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"


async def ask_hub(port, head, body):
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(close_header(head) + body)
    await writer.drain()
    reply = await reader.read()
    writer.close()
    return reply


def canned(status, text, extra=b""):
    body = json.dumps({"error": "internal" if status == 500 else "rate_limited", "message": text}).encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n"
            % (status, b"Internal Server Error" if status == 500 else b"Too Many Requests", len(body), extra)) + body


class Proxy:
    def __init__(self, upstream, seed, faults, rate):
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.faults = faults
        self.rate = rate
        self.stats = {"pass": 0, **{f: 0 for f in faults}, "errors": 0}

    def pick(self):
        if self.faults and self.rng.random() < self.rate:
            return self.rng.choice(self.faults)
        return "pass"

    async def handle(self, reader, writer):
        try:
            head, body = await read_request(reader)
            what = self.pick()
            self.stats[what] += 1
            if what == "drop":
                pass
            elif what == "500":
                writer.write(canned(500, "injected failure"))
            elif what == "429":
                writer.write(canned(429, "injected rate limit", b"Retry-After: 1\r\n"))
            else:
                if what == "delay":
                    await asyncio.sleep(self.rng.uniform(0.3, 1.5))
                if what == "replay":
                    await ask_hub(self.upstream, head, body)
                reply = await ask_hub(self.upstream, head, body)
                if what == "truncate":
                    writer.write(reply[: len(reply) // 2])
                elif what != "lost":
                    writer.write(reply)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, OSError):
            self.stats["errors"] += 1
        finally:
            writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("listen", type=int)
    ap.add_argument("upstream", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults", default="drop,lost,delay,500,429,truncate,replay")
    ap.add_argument("--rate", type=float, default=0.5)
    ap.add_argument("--stats")
    a = ap.parse_args()
    faults = [f for f in a.faults.split(",") if f]
    known = {"drop", "lost", "delay", "500", "429", "truncate", "replay"}
    if not set(faults) <= known:
        sys.exit("fault_proxy: unknown fault in %s" % a.faults)
    proxy = Proxy(a.upstream, a.seed, faults, a.rate)
    server = await asyncio.start_server(proxy.handle, HOST, a.listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("fault_proxy listening on %s:%d -> %d" % (HOST, a.listen, a.upstream), flush=True)
    async with server:
        await stop.wait()
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(proxy.stats, f)


if __name__ == "__main__":
    asyncio.run(main())
