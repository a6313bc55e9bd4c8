#!/usr/bin/env python3
"""A webhook receiver for the tests, on 127.0.0.1, as a community's bot would
be: it checks every request's signature (the Standard Webhooks scheme: HMAC-
SHA256 over "id.timestamp.body" with the secret's bytes), refuses old
timestamps, and keeps each message once by its id (duplicates are counted,
not kept twice).

    webhook_receiver.py PORT_FILE STATE_DIR

It writes the port it listens on to PORT_FILE. STATE_DIR/secret holds the
subscriptions' secrets ("whsec_...", one a line: a request signed with any
of them is taken), STATE_DIR/mode how it answers: "ok"
(204), "down" (503), "gone" (410); both are read at each request.
GET /stats answers what it holds: received (requests), unique (messages),
duplicates, bad (signature or timestamp refused), by_type, in_order (each
venue's messages first came in increasing order), ids (the data ids of the
unique checkin.created messages, sorted).
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, state = sys.argv[1], sys.argv[2]
lock = threading.Lock()
seen = {}  # message id -> first body
last_seq = {}  # venue -> the last seq first received
stats = {"received": 0, "unique": 0, "duplicates": 0, "bad": 0, "by_type": {}, "in_order": True, "phones": 0}
checkin_ids = []


def secrets():
    with open(os.path.join(state, "secret")) as f:
        return [base64.b64decode(t[len("whsec_"):]) for t in f.read().split() if t.startswith("whsec_")]


def mode():
    try:
        with open(os.path.join(state, "mode")) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/stats":
            return self.answer(404)
        with lock:
            out = dict(stats, ids=sorted(checkin_ids))
        self.answer(200, json.dumps(out).encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        m = mode()
        if m == "down":
            return self.answer(503, b"down for maintenance")
        if m == "gone":
            return self.answer(410, b"no such subscription")
        mid = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        sig = self.headers.get("webhook-signature", "")
        ok = False
        for key in secrets():
            want = "v1," + base64.b64encode(
                hmac.new(key, f"{mid}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
            ok = ok or any(hmac.compare_digest(want, s) for s in sig.split(" "))
        fresh = ts.isdigit() and abs(int(ts) - time.time()) < 300
        with lock:
            stats["received"] += 1
            if not ok or not fresh:
                stats["bad"] += 1
                return self.answer(400, b"bad signature")
            if mid in seen:
                stats["duplicates"] += 1
                return self.answer(204)
            msg = json.loads(body)
            seen[mid] = True
            stats["unique"] += 1
            stats["by_type"][msg["type"]] = stats["by_type"].get(msg["type"], 0) + 1
            venue, seq = mid.rsplit("_", 1)
            if int(seq) <= last_seq.get(venue, 0):
                stats["in_order"] = False
            last_seq[venue] = int(seq)
            if msg["type"] == "checkin.created":
                checkin_ids.append(msg["data"]["id"])
            # a receiver needs no phone number, and gets none
            if "phone" in json.dumps(msg["data"]):
                stats["phones"] += 1
        self.answer(204)


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a hub killed in the middle of a request: nothing to say


server = Server(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(port_file + ".tmp", port_file)
server.serve_forever()
