#!/bin/bash
# The open API on a real hub (both backends): every documented route exists,
# every route is documented, and each is called and its answer checked
# (tests/sync/api_calls.py); tokens shown once and kept as hashes; a read
# token cannot write (403), a token of venue A sees nothing of venue B (404),
# a revoked token is refused at its next request (401); the same check-in
# POSTed 20 times at once is one row and 19 "duplicate" answers; an API
# check-in counts for the member, the event and the export with method api,
# under a device the Kiosks list does not show; check-ins read by cursor
# page by page pass none and repeat none; 429 with Retry-After past a
# token's rate, 413 past the body limit, 400 naming the field; writes in the
# audit log under the token's name, reads counted.
. "$(dirname "$0")/lib.sh"

CALLS="python3 $HERE/api_calls.py"
SPEC="$HERE/../../sync/hub/openapi.json"

venue=$(hub venues add "听雨茶馆" --tz Asia/Shanghai 2>/dev/null) || fail "venues add"
other=$(hub venues add "Other" --tz UTC 2>/dev/null) || fail "venues add"

# --- tokens by the command line ---
tw=$(hub tokens add --venue "$venue" --name "website" --scope write 2>"$WORK/err") || fail "tokens add: $(cat "$WORK/err")"
[[ "$tw" =~ ^tzk_[A-Za-z0-9_-]{43}$ ]] || fail "a token is tzk_ and 43 base64url characters: $tw"
tr=$(hub tokens add --venue "$venue" --name "report" --scope read 2>/dev/null) || fail "tokens add read"
tb=$(hub tokens add --venue "$other" --name "website" --scope write 2>/dev/null) || fail "another venue may use the name"
hub tokens add --venue "$venue" --name "website" --scope read 2>"$WORK/err" && fail "a name twice in a venue"
grep -q 'has a token named "website"' "$WORK/err" || fail "no sentence for a name taken: $(cat "$WORK/err")"
hub tokens add --venue "$venue" --name x --scope admin 2>/dev/null && fail "a scope that is not read or write"
hub tokens list --venue "$venue" >"$WORK/list" || fail "tokens list"
expect_eq "$(wc -l <"$WORK/list")" 2 "tokens of the venue"
grep -q "report" "$WORK/list" && grep -q "website" "$WORK/list" || fail "tokens list: $(cat "$WORK/list")"
grep -q "tzk_" "$WORK/list" && fail "tokens list shows a secret"
hub_dump "$WORK/dump.sql"
grep -q "${tw#tzk_}" "$WORK/dump.sql" && fail "a token's text is in the store"
expect_eq "$(hubsql "SELECT count(*) FROM api_tokens")" 3 "tokens kept"

# --- the route table against the OpenAPI file ---
hub api routes | awk '{print $1, $2}' | sort >"$WORK/routes"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p, ops in d["paths"].items():
    for m, o in ops.items():
        assert "curl " in o["description"], (m, p, "no curl example")
        print(m.upper(), p)
' "$SPEC" | sort >"$WORK/documented" || fail "openapi.json: every operation has a curl example"
diff "$WORK/routes" "$WORK/documented" >"$WORK/diff" || fail "routes and the OpenAPI file differ: $(cat "$WORK/diff")"
[ "$(wc -l <"$WORK/routes")" -ge 14 ] || fail "too few routes: $(cat "$WORK/routes")"

export TINGZI_HUB_API_RATE=100000
hub_start
BASE="http://127.0.0.1:$PORT"

# --- every documented route, called ---
$CALLS walk "$BASE" "$SPEC" "$tw" "$tb" >"$WORK/walk.json" || fail "the walk through every route"
member=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["member"])' "$WORK/walk.json")
event=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["event"])' "$WORK/walk.json")

# --- scopes and revocation ---
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
expect_eq "$(code -X POST -H "Authorization: Bearer $tr" -d '{"name":"x"}' "$BASE/api/v1/members")" 403 "a read token writes"
grep -q '"error":"forbidden"' "$WORK/body" || fail "403 body: $(cat "$WORK/body")"
expect_eq "$(code -H "Authorization: Bearer $tr" "$BASE/api/v1/members/$member")" 200 "a read token reads"
expect_eq "$(code "$BASE/api/v1/venue")" 401 "no token"
expect_eq "$(code -H "Authorization: Bearer tzk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$BASE/api/v1/venue")" 401 "an unknown token"
expect_eq "$(code -H "Authorization: Bearer $tb" "$BASE/api/v1/members/$member")" 404 "venue B's token on A's member"
grep -q '"error":"not_found"' "$WORK/body" || fail "404 body: $(cat "$WORK/body")"
hub tokens revoke report --venue "$venue" 2>/dev/null || fail "tokens revoke"
expect_eq "$(code -H "Authorization: Bearer $tr" "$BASE/api/v1/venue")" 401 "a revoked token"
grep -q "revoked" "$WORK/body" || fail "401 body says revoked: $(cat "$WORK/body")"
hub tokens revoke report --venue "$venue" 2>/dev/null && fail "revoked twice"

# --- the same check-in POSTed 20 times at once ---
$CALLS burst "$BASE" "$tw" "$member" 20 >"$WORK/burst.json" || fail "burst"
python3 - "$WORK/burst.json" <<'PY' || fail "20 at once: $(cat "$WORK/burst.json")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["created"] == 1 and b["duplicate"] == 19, b
assert b["statuses"] == [200] * 19 + [201], b
PY
bid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/burst.json")
expect_eq "$(hubsql "SELECT count(*) FROM checkins WHERE id = '$bid'")" 1 "rows of the check-in sent 20 times"
expect_eq "$(hubsql "SELECT method FROM checkins WHERE id = '$bid'")" api "its method"

# --- an API check-in counts like any other ---
device=$(hubsql "SELECT device_id FROM api_tokens WHERE name = 'website' AND venue_id = '$venue'")
expect_eq "$(hubsql "SELECT count(*) FROM checkins WHERE device_id = '$device' AND method = 'api'")" 3 "the token's check-ins"
hub checkins export --venue "$venue" --format csv >"$WORK/export.csv" || fail "checkins export"
expect_eq "$(grep -c ",api," "$WORK/export.csv")" 3 "check-ins with method api in the export"
grep "$bid" "$WORK/export.csv" | grep -q "$device" || fail "the export names the token's device"
hub devices list --venue "$venue" >"$WORK/devices" 2>&1
grep -q "$device" "$WORK/devices" && fail "a token is listed as a kiosk"
curl -s -H "Authorization: Bearer $tw" "$BASE/api/v1/members/$member" >"$WORK/m.json"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["visits"] == 2, m' "$WORK/m.json" ||
	fail "visits: the event and the drop-in day: $(cat "$WORK/m.json")"

# --- check-ins by cursor: every one once, then only what came after ---
python3 - "$BASE" "$tw" "$member" "$HERE" <<'PY' || fail "check-ins by cursor"
import json, sys
sys.path.insert(0, sys.argv[4])
from api_calls import call, new_id
base, tok, member = sys.argv[1:4]
seen, cur = [], ""
while True:
    st, j, _ = call(base, tok, "GET", "/api/v1/checkins?limit=2" + ("&cursor=" + cur if cur else ""))
    assert st == 200, (st, j)
    seen += [i["id"] for i in j["items"]]
    cur = j["next_cursor"]
    if not j["more"]:
        break
assert len(seen) == len(set(seen)) == 3, seen
st, j, _ = call(base, tok, "GET", "/api/v1/checkins?cursor=" + cur)
assert st == 200 and j["items"] == [] and j["next_cursor"] == cur, j
nid = new_id()
st, _, _ = call(base, tok, "POST", "/api/v1/checkins", {"id": nid, "member": member, "at_ms": 1796000000000})
assert st == 201, st
st, j, _ = call(base, tok, "GET", "/api/v1/checkins?cursor=" + cur)
assert [i["id"] for i in j["items"]] == [nid], j
st, j, _ = call(base, tok, "GET", "/api/v1/checkins?cursor=nonsense")
assert st == 400 and j["field"] == "cursor", j
PY

# --- 400 naming the field, 413, 404, 405 ---
post() { code -X POST -H "Authorization: Bearer $tw" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("field", ""))' "$WORK/body"; }
expect_eq "$(post -d '{"name":""}' "$BASE/api/v1/members")" 400 "an empty name"
expect_eq "$(field)" name "the field named"
expect_eq "$(post -d '{"name":"x","phone":"12ab"}' "$BASE/api/v1/members")" 400 "a phone of letters"
expect_eq "$(field)" phone "the field named"
expect_eq "$(post -d '{"id":"xyz","member":"'"$member"'"}' "$BASE/api/v1/checkins")" 400 "a malformed id"
expect_eq "$(field)" id "the field named"
expect_eq "$(post -d '{"id":"'"$bid"'"}' "$BASE/api/v1/checkins")" 400 "no member"
expect_eq "$(field)" member "the field named"
expect_eq "$(post -d '{"title":"t","start_ms":5,"end_ms":1}' "$BASE/api/v1/events")" 400 "an event ending first"
expect_eq "$(field)" end_ms "the field named"
expect_eq "$(post -d '{"url":"ftp://x"}' "$BASE/api/v1/links")" 400 "a link that is no web address"
expect_eq "$(field)" url "the field named"
expect_eq "$(post -d 'not json' "$BASE/api/v1/members")" 400 "not JSON"
grep -q '"error":"bad_json"' "$WORK/body" || fail "bad_json: $(cat "$WORK/body")"
head -c 70000 /dev/zero | tr '\0' 'a' >"$WORK/big"
expect_eq "$(post --data-binary @"$WORK/big" "$BASE/api/v1/members")" 413 "a body over 64 KiB"
grep -q '"error":"too_large"' "$WORK/body" || fail "413 body: $(cat "$WORK/body")"
expect_eq "$(code -H "Authorization: Bearer $tw" "$BASE/api/v1/nothing")" 404 "an unknown path"
expect_eq "$(code -X DELETE -H "Authorization: Bearer $tw" "$BASE/api/v1/members/$member")" 405 "a method the path does not take"

# --- audit: writes by the token's name, reads counted ---
n=$(hubsql "SELECT count(*) FROM console_audit WHERE action = 'api.checkin.create' AND venue_id = '$venue'")
expect_eq "$n" 4 "check-ins audited"
hubsql "SELECT detail FROM console_audit WHERE action = 'api.member.create'" | grep -q '"token":"website"' ||
	fail "the audit names the token"
hub_stop
hubsql "SELECT detail FROM console_audit WHERE action = 'api.reads' AND venue_id = '$venue'" >"$WORK/reads"
python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert rows and sum(r["requests"] for r in rows if r["token"] == "website") >= 10, rows
' "$WORK/reads" || fail "reads counted by the minute, written when the hub stopped: $(cat "$WORK/reads")"

# --- a token's rate: 429 with Retry-After ---
export TINGZI_HUB_API_RATE=5
hub_start
for i in 1 2 3 4 5; do
	expect_eq "$(code -H "Authorization: Bearer $tw" "$BASE/api/v1/venue")" 200 "request $i of 5"
done
curl -s -D "$WORK/headers" -o "$WORK/body" -H "Authorization: Bearer $tw" "http://127.0.0.1:$PORT/api/v1/venue" >/dev/null
grep -q "^HTTP/1.1 429" "$WORK/headers" || fail "the 6th request: $(head -1 "$WORK/headers")"
grep -qi "^Retry-After: [0-9]" "$WORK/headers" || fail "429 without Retry-After"
grep -q '"error":"rate_limited"' "$WORK/body" || fail "429 body: $(cat "$WORK/body")"
expect_eq "$(code -H "Authorization: Bearer $tb" "$BASE/api/v1/venue")" 200 "another token's own bucket"
hub_stop
echo "ok"
