"""What the python console tests share: a browser-like HTTP client of the hub's
console (its own cookie jar, a chosen source address, no redirects followed),
the CSRF token read from the last page, the hub's SQLite file, and checks that
fail the test with a sentence.

Only the standard library: the tests run on a fresh Debian 12 with python3.
"""

import html
import http.client
import json
import os
import re
import sqlite3
import ssl
import sys
import time
import urllib.parse
import uuid


class Fail(Exception):
    pass


def fail(msg):
    raise Fail(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def expect_eq(got, want, what):
    if got != want:
        fail("%s: expected %r, got %r" % (what, want, got))


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(name lowercased, value)]
        self.raw = body
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def location(self):
        return self.header("location") or ""

    def __repr__(self):
        return "<%d %s>" % (self.status, self.location or self.text[:80].replace("\n", " "))


CSRF_RE = re.compile(r'<input[^>]*\bname="csrf"[^>]*>', re.I)
VALUE_RE = re.compile(r'\bvalue="([^"]*)"')


def csrf_of(text):
    """The CSRF token a page's forms carry, or None."""
    m = CSRF_RE.search(text)
    if not m:
        return None
    v = VALUE_RE.search(m.group(0))
    return html.unescape(v.group(1)) if v else None


def visible_text(page):
    """A page's text as a person reads it: tags out, entities decoded."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]*>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page)).strip()


class Client:
    """One browser: a cookie jar, a source address, a language."""

    def __init__(self, base, source="127.0.0.1", lang=None, cafile=None):
        u = urllib.parse.urlsplit(base)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.source = source
        self.lang = lang
        self.cookies = {}
        self.set_cookie_lines = []  # every Set-Cookie header seen, in order
        self.csrf = None
        self.ctx = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context(cafile=cafile)
        self.last = None

    def _conn(self, timeout):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               source_address=(self.source, 0), context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=(self.source, 0))

    def request(self, method, path, body=None, ctype=None, headers=None, timeout=60, cookies=True):
        h = {"Connection": "close"}
        if self.lang:
            h["Accept-Language"] = self.lang
        if cookies and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if ctype:
            h["Content-Type"] = ctype
        if headers:
            h.update(headers)
        c = self._conn(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            hdrs = [(k.lower(), v) for k, v in r.getheaders()]
        finally:
            c.close()
        resp = Resp(r.status, hdrs, data)
        for line in resp.all("set-cookie"):
            self.set_cookie_lines.append(line)
            self._take_cookie(line)
        ct = resp.header("content-type") or ""
        if ct.startswith("text/html"):
            t = csrf_of(resp.text)
            if t:
                self.csrf = t
        self.last = resp
        return resp

    def _take_cookie(self, line):
        first, *attrs = [p.strip() for p in line.split(";")]
        name, _, value = first.partition("=")
        gone = value == ""
        for a in attrs:
            k, _, v = a.partition("=")
            if k.lower() == "max-age" and v.strip().lstrip("-").isdigit() and int(v) <= 0:
                gone = True
            if k.lower() == "expires" and re.search(r"19[0-9]{2}|1970", v):
                gone = True
        if gone:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields=None, csrf=True, **kw):
        """A urlencoded form; csrf True: this client's token, a string: that one, None: none."""
        items = list((fields or {}).items()) if isinstance(fields, dict) else list(fields or [])
        if csrf is True:
            expect(self.csrf, "no CSRF token seen yet for a POST to %s" % path)
            items.append(("csrf", self.csrf))
        elif csrf:
            items.append(("csrf", csrf))
        body = urllib.parse.urlencode(items).encode()
        return self.request("POST", path, body=body, ctype="application/x-www-form-urlencoded", **kw)

    def post_multipart(self, path, fields=None, files=None, csrf=True, **kw):
        """files: {name: (filename, bytes, content type)}."""
        boundary = "----tingzi" + uuid.uuid4().hex
        parts = []
        items = list((fields or {}).items())
        if csrf is True:
            items.append(("csrf", self.csrf))
        elif csrf:
            items.append(("csrf", csrf))
        for k, v in items:
            parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                         % (boundary.encode(), k.encode(), v.encode() if isinstance(v, str) else v))
        for k, (fn, data, ct) in (files or {}).items():
            parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                         b"Content-Type: %s\r\n\r\n" % (boundary.encode(), k.encode(), fn.encode(), ct.encode())
                         + data + b"\r\n")
        parts.append(b"--%s--\r\n" % boundary.encode())
        body = b"".join(parts)
        return self.request("POST", path, body=body, ctype="multipart/form-data; boundary=" + boundary, **kw)

    def page(self, path):
        """A GET that must answer 200 with HTML; the token is taken from it."""
        r = self.get(path)
        expect(r.status == 200, "GET %s: expected 200, got %d %s" % (path, r.status, r.location))
        return r

    def login(self, email, password, want=303):
        r = self.get("/login")
        if r.status in (302, 303):
            # signed in already: the sign-in page sends on; its form is posted with this session's token
            self.page(r.location)
        else:
            expect(r.status == 200, "GET /login: %d" % r.status)
        r = self.post("/login", {"email": email, "password": password})
        if want is not None:
            expect(r.status == want, "login %s: expected %s, got %d (%s)" %
                   (email, want, r.status, visible_text(r.text)[:300]))
        if r.status in (302, 303):
            self.get(r.location if r.location.startswith("/") else urllib.parse.urlsplit(r.location).path)
        return r

    def setup(self, token, password):
        r = self.get("/setup?t=" + urllib.parse.quote(token))
        expect(r.status == 200, "GET /setup?t=...: %d %s" % (r.status, visible_text(r.text)[:200]))
        r = self.post("/setup?t=" + urllib.parse.quote(token),
                      {"t": token, "password": password, "password2": password})
        expect(r.status in (302, 303), "POST /setup: expected a redirect, got %d (%s)" %
               (r.status, visible_text(r.text)[:300]))
        self.get(r.location if r.location.startswith("/") else urllib.parse.urlsplit(r.location).path)
        return r

    def signed_in(self):
        r = self.get("/account")
        return r.status == 200


def db(path):
    c = sqlite3.connect(path, timeout=10)
    return c


def q1(path, sql, *args):
    c = db(path)
    try:
        row = c.execute(sql, args).fetchone()
        return row[0] if row else None
    finally:
        c.close()


def env(name):
    v = os.environ.get(name)
    expect(v, "the environment has no %s" % name)
    return v


def run(main):
    """Run a test's main(): a Fail is one line and status 1."""
    t0 = time.monotonic()
    try:
        main()
    except Fail as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
    print("(%.1f s)" % (time.monotonic() - t0))
