#!/usr/bin/env bash
# Members a kiosk had before it enrolled are uploaded like walk-ins: one
# whose phone the hub knows is merged into the hub's member, and every kiosk
# learns the surviving id; a new one becomes a hub member. Then live codes:
# /j/SLUG leads to the first link not full or expired, and moves on.
. "$(dirname "$0")/lib.sh"

venue=$(hub venues add "Merge Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 20
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub_start
URL="http://127.0.0.1:$PORT"

# --- a kiosk with its own roster, before enrolling ---
printf 'name,phone,code\nLi Local,13900000005,L1\nOnly Local,13700000001,L2\n' >"$WORK/local.csv"
kiosk "$WORK/a.db" members import "$WORK/local.csv" >/dev/null || fail "local import"
kiosk "$WORK/a.db" checkin --code L1 >/dev/null || fail "check-in L1"
kiosk "$WORK/a.db" checkin --code L2 >/dev/null || fail "check-in L2"
code=$(hub devices enroll-code "$venue" | tail -n 1)
kiosk "$WORK/a.db" enroll "$URL" "$code" >/dev/null || fail "enroll a"
sync_until_clean "$WORK/a.db"

survivor=$(hubsql "SELECT uid FROM members WHERE code = 'M00005'")
# the hub merged Li Local into member 5 and took Only Local as a new member
expect_eq "$(hubsql "SELECT merged_into FROM members WHERE name = 'Li Local'")" "$survivor" "the merge"
expect_eq "$(hubsql "SELECT count(*) FROM members WHERE name = 'Only Local' AND merged_into IS NULL")" 1 \
	"the new member at the hub"
# the kiosk knows member 5 by the hub's id, once
expect_eq "$(sqlite3 "$WORK/a.db" "SELECT uid FROM members WHERE phone = '13900000005' AND active = 1")" "$survivor" \
	"the kiosk's id for the merged member"
expect_eq "$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM members WHERE phone = '13900000005' AND active = 1")" 1 \
	"the merged member on the kiosk"
# the check-in made under the local id counts for the survivor
hub checkins export --venue "$venue" --format json >"$WORK/export.json"
expect_eq "$(jq -r --arg s "$survivor" '[.[] | select(.member == $s)] | length' "$WORK/export.json")" 1 \
	"check-ins of the survivor"
# a second kiosk learns both
code=$(hub devices enroll-code "$venue" | tail -n 1)
kiosk "$WORK/b.db" enroll "$URL" "$code" >/dev/null || fail "enroll b"
kiosk "$WORK/b.db" sync --once >/dev/null || fail "sync b"
expect_eq "$(sqlite3 "$WORK/b.db" "SELECT count(*) FROM members WHERE active = 1")" 21 "kiosk b's roster"
expect_eq "$(sqlite3 "$WORK/b.db" "SELECT name FROM members WHERE code = 'L2'")" "Only Local" "kiosk b's new member"

# --- live codes ---
slug=$(hub venues list | awk -v v="$venue" '$1 == v {print $NF}' | sed 's|/j/||')
[ -n "$slug" ] || fail "venues list shows no live code"
hub links add --venue "$venue" "https://example.org/full" --cap 2 --default >/dev/null 2>&1 || fail "link 1"
hub links add --venue "$venue" "https://example.org/next" >/dev/null 2>&1 || fail "link 2"
hub links add --venue "$venue" "https://example.org/one" --slug grp --cap 1 >/dev/null 2>&1 || fail "link 3"
loc() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/j/$1"; }
expect_eq "$(loc "$slug")" "302 https://example.org/full" "the first redirect"
expect_eq "$(loc "$slug")" "302 https://example.org/full" "the second redirect"
expect_eq "$(loc "$slug")" "302 https://example.org/next" "after the cap of 2"
expect_eq "$(loc grp)" "302 https://example.org/one" "group slug"
expect_eq "$(loc grp | cut -d' ' -f1)" 410 "a slug whose links are all full"
curl -s "$URL/j/grp" | grep -q "工作人员" || fail "the 410 page does not ask for staff in Chinese"
expect_eq "$(loc nosuchslug | cut -d' ' -f1)" 404 "an unknown slug"
# the kiosk pulls the links with their live address
kiosk "$WORK/a.db" sync --once >/dev/null || fail "sync links"
expect_eq "$(sqlite3 "$WORK/a.db" "SELECT live_url FROM links WHERE url = 'https://example.org/full'")" \
	"$URL/j/$slug" "the kiosk's live address"
hub_stop
echo "PASS merge and live codes"
