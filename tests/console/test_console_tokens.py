"""The API tokens page (see test_console_tokens.sh)."""
import http.client
import json
import re
import urllib.parse

from console import Client, env, expect, expect_eq, q1, run, visible_text


def api(base, token, path):
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body)


def main():
    base, db, venue = env("BASE"), env("HUBDB"), env("VENUE")
    org = Client(base)
    org.setup(env("ORG_TOKEN"), "correct horse battery staple")
    page = org.page("/venues/%s/tokens" % venue)
    expect("No tokens yet." in visible_text(page.text), "an empty list says so")
    r = org.post("/venues/%s/tokens" % venue, {"name": "website form", "scope": "write"})
    expect_eq(r.status, 200, "making a token answers with a page")
    found = re.findall(r"tzk_[A-Za-z0-9_-]{43}", r.text)
    expect(found, "the new token is shown: %s" % visible_text(r.text)[:300])
    token = found[0]
    expect("shown only this once" in visible_text(r.text), "the page says it is shown once")
    expect(token not in (r.header("location") or "") and all(token not in c for c in r.all("set-cookie")),
           "the token is in no header")
    st, v = api(base, token, "/api/v1/venue")
    expect_eq((st, v.get("id")), (200, venue), "the new token opens its venue")
    listing = org.page("/venues/%s/tokens" % venue)
    text = visible_text(listing.text)
    expect("website form" in text and "read and write" in text, "the list shows the name and scope: %s" % text[:400])
    expect("tzk_" not in listing.text, "the list shows no secret")
    r = org.post("/venues/%s/tokens" % venue, {"name": "website form", "scope": "read"})
    expect_eq(r.status, 409, "a name twice")
    expect("already" in visible_text(r.text), "a name twice is said")
    r = org.post("/venues/%s/tokens" % venue, {"name": "", "scope": "read"})
    expect_eq(r.status, 400, "no name")
    tid = q1(db, "SELECT id FROM api_tokens WHERE name = 'website form'")
    expect(q1(db, "SELECT created_by FROM api_tokens WHERE id = ?", tid), "who made it is kept")
    org.page("/venues/%s/tokens" % venue)
    r = org.post("/venues/%s/tokens/%s/revoke" % (venue, tid))
    expect_eq(r.status, 303, "revoke redirects")
    st, v = api(base, token, "/api/v1/venue")
    expect_eq(st, 401, "a revoked token at its next request")
    page = org.page("/venues/%s/tokens" % venue)
    expect("revoked" in visible_text(page.text), "the list says revoked")
    actions = [a for (a,) in __import__("sqlite3").connect(db).execute(
        "SELECT action FROM console_audit WHERE venue_id = ? ORDER BY rowid", (venue,))]
    expect("token.add" in actions and "token.revoke" in actions, "audited: %s" % actions)
    # another venue's path is not the organizer's
    r = org.get("/venues/%s/tokens" % env("OTHER"))
    expect(r.status in (403, 404), "another venue's tokens page: %d" % r.status)
    staff = Client(base)
    staff.setup(env("STAFF_TOKEN"), "correct horse battery staple")
    r = staff.get("/venues/%s/tokens" % venue)
    expect_eq(r.status, 403, "staff on the tokens page")


run(main)
