#!/usr/bin/env bash
# Two kiosks of one venue and a hub on loopback. While the hub is down the
# kiosks record 10 000 check-ins between them (2 500 members at both, as when
# a member taps in at each door); then they sync. The hub holds every check-in
# exactly once, keeps the second of each pair marked as a duplicate
# attendance, and its CSV export lists exactly the kiosks' check-ins. A second
# sync moves nothing.
. "$(dirname "$0")/lib.sh"

venue=$(hub venues add "听雨茶馆" | grep -oE '[0-9a-f]{32}' | head -n 1)
[ -n "$venue" ] || fail "venues add printed no venue id"
members_csv "$WORK/members.csv" 7500
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub events add --venue "$venue" --title "周末茶话会" --start "$(date -d '-1 hour' +%Y-%m-%dT%H:%M)" \
	--end "$(date -d '+3 hours' +%Y-%m-%dT%H:%M)" >/dev/null
hub_start

for k in a b; do
	code=$(hub devices enroll-code "$venue" | grep -oE '[A-Za-z0-9_-]{8,64}' | tail -n 1)
	kiosk "$WORK/$k.db" enroll "http://127.0.0.1:$PORT" "$code" --name "door $k" >/dev/null ||
		fail "kiosk $k could not enroll"
	kiosk "$WORK/$k.db" sync --once >/dev/null || fail "kiosk $k: first sync failed"
	expect_eq "$(sqlite3 "$WORK/$k.db" 'SELECT count(*) FROM members WHERE active = 1')" 7500 "kiosk $k's roster"
	expect_eq "$(sqlite3 "$WORK/$k.db" "SELECT count(*) FROM events WHERE title = '周末茶话会'")" 1 "kiosk $k's event"
done

# --- the hub goes down; the doors keep working ---
hub_stop
codes "$WORK/a.codes" 1 5000
codes "$WORK/b.codes" 2501 7500
kiosk "$WORK/a.db" checkin --code-file "$WORK/a.codes" >/dev/null || fail "kiosk a's check-ins"
kiosk "$WORK/b.db" checkin --code-file "$WORK/b.codes" >/dev/null || fail "kiosk b's check-ins"
for k in a b; do
	expect_eq "$(sqlite3 "$WORK/$k.db" 'SELECT count(*) FROM checkins')" 5000 "kiosk $k's check-ins"
	if kiosk "$WORK/$k.db" sync --once >"$WORK/offline.out"; then fail "kiosk $k synced with the hub down"; fi
	grep -q ' 5000 waiting$' "$WORK/offline.out" || fail "kiosk $k, offline: $(cat "$WORK/offline.out")"
done

# --- the hub is back ---
hub_start "$PORT"
sync_until_clean "$WORK/a.db"
sync_until_clean "$WORK/b.db"
for k in a b; do
	expect_eq "$(sqlite3 "$WORK/$k.db" 'SELECT count(*) FROM outbox')" 0 "kiosk $k's outbox"
	expect_eq "$(sqlite3 "$WORK/$k.db" 'SELECT count(*) FROM dead_letters')" 0 "kiosk $k's dead letters"
done

# exactly the kiosks' check-ins, each once
hub checkins export --venue "$venue" --format json >"$WORK/export.json"
jq -r '.[].id' "$WORK/export.json" | sort >"$WORK/hub.ids"
{ ids_of_kiosk "$WORK/a.db"; ids_of_kiosk "$WORK/b.db"; } | sort >"$WORK/kiosk.ids"
expect_eq "$(wc -l <"$WORK/hub.ids")" 10000 "check-ins at the hub"
expect_eq "$(sort -u "$WORK/hub.ids" | wc -l)" 10000 "distinct check-ins at the hub"
cmp -s "$WORK/hub.ids" "$WORK/kiosk.ids" || fail "the hub's check-ins are not the kiosks' check-ins"
# one attendance per member: the 2 500 who came through both doors are marked
expect_eq "$(jq '[.[] | select(.duplicate_of == null and (.reversed | not))] | length' "$WORK/export.json")" 7500 \
	"attendances at the hub"
expect_eq "$(jq '[.[] | select(.duplicate_of != null)] | length' "$WORK/export.json")" 2500 "duplicate attendances"
# the CSV export says the same
hub checkins export --venue "$venue" --format csv >"$WORK/export.csv"
expect_eq "$(($(wc -l <"$WORK/export.csv") - 1))" 10000 "rows of the CSV export"
tail -n +2 "$WORK/export.csv" | cut -d, -f1 | sort | cmp -s - "$WORK/kiosk.ids" ||
	fail "the CSV export's ids are not the kiosks' check-ins"
# its duplicate_of column (12th) marks the same 2 500
expect_eq "$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(sum(1 for x in r if x["duplicate_of"]))' "$WORK/export.csv")" \
	2500 "duplicates in the CSV export"

# --- a second sync moves nothing ---
for k in a b; do
	kiosk "$WORK/$k.db" sync --once >"$WORK/again.out" || fail "kiosk $k: second sync failed"
	grep -q '^pushed 0 ' "$WORK/again.out" || fail "kiosk $k's second sync pushed: $(cat "$WORK/again.out")"
done
expect_eq "$(hub checkins export --venue "$venue" --format json | jq length)" 10000 "check-ins after a second sync"
hub_stop
echo "PASS two kiosks"
