#!/usr/bin/env bash
# An offline kiosk's queue always drains: 200 check-ins made over 40 boots
# (a kiosk switched off every night) and 100 events wait in the outbox, more
# distinct boots and events than one push batch names. `tingzi sync` sends
# them in as many batches as it takes, and the hub counts every check-in
# once, with its event; `tingzi export` writes files that `tingzi-hub import`
# takes whole, the same way.
. "$(dirname "$0")/lib.sh"

venue=$(hub venues add "Queue Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 200
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub_start
URL="http://127.0.0.1:$PORT"

# make_queue DB: enrolled, 100 events and 200 check-ins waiting, over 40 boots.
make_queue() {
	local db=$1 code i
	code=$(hub devices enroll-code "$venue" | tail -n 1)
	kiosk "$db" enroll "$URL" "$code" >/dev/null || fail "enroll $db"
	kiosk "$db" sync --once >/dev/null || fail "first sync of $db"
	for i in $(seq 0 99); do
		kiosk "$db" events add --title "茶会 $i" --start "$(date -d "-$((i + 2)) days" +%Y-%m-%dT10:00)" \
			--end "$(date -d "-$((i + 2)) days" +%Y-%m-%dT12:00)" >/dev/null || fail "events add $i"
	done
	codes "$WORK/codes" 1 200
	while read -r c; do
		kiosk "$db" checkin --code "$c" >/dev/null || fail "checkin $c"
	done <"$WORK/codes"
	# Check-in k was made during boot k/5 and belongs to event k/2, as on a
	# kiosk that ran for 40 days: the boot id is what the kernel gave that
	# boot, recorded in the check-in and its outbox record.
	sqlite3 "$db" >/dev/null <<'SQL'
CREATE TEMP TABLE ev AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM events;
CREATE TEMP TABLE plan AS
  SELECT c.id AS cid, 'boot-' || (c.r / 5) AS boot, (SELECT id FROM ev WHERE n = c.r / 2) AS ev
  FROM (SELECT id, row_number() OVER (ORDER BY device_seq) - 1 AS r FROM checkins) c;
UPDATE checkins SET boot_id = (SELECT boot FROM plan WHERE cid = checkins.id),
  event_id = (SELECT ev FROM plan WHERE cid = checkins.id),
  attendance_key = 'e:' || (SELECT e.uid FROM plan p JOIN events e ON e.id = p.ev WHERE p.cid = checkins.id);
UPDATE outbox SET body = (SELECT json_set(outbox.body, '$.boot_id', c.boot_id, '$.event_uid', e.uid,
    '$.attendance_key', c.attendance_key) FROM checkins c JOIN events e ON e.id = c.event_id
    WHERE c.id = outbox.record_id)
  WHERE kind = 'checkin';
SQL
	expect_eq "$(sqlite3 "$db" "SELECT count(DISTINCT json_extract(body, '$.boot_id')) FROM outbox WHERE kind = 'checkin'")" 40 \
		"boots in $db's queue"
	expect_eq "$(sqlite3 "$db" "SELECT count(DISTINCT json_extract(body, '$.event_uid')) FROM outbox WHERE kind = 'checkin'")" 100 \
		"events in $db's queue"
}

# hub_count: check-ins of the venue at the hub, each once, each with an event.
hub_check() {
	hub checkins export --venue "$venue" --format json >"$WORK/export.json"
	expect_eq "$(jq 'length' "$WORK/export.json")" "$1" "check-ins at the hub"
	expect_eq "$(jq '[.[].id] | unique | length' "$WORK/export.json")" "$1" "distinct check-ins at the hub"
	expect_eq "$(jq '[.[] | select(.event == null)] | length' "$WORK/export.json")" 0 "check-ins without their event"
}

# --- over the network ---
make_queue "$WORK/a.db"
sync_until_clean "$WORK/a.db" 10
expect_eq "$(kiosk "$WORK/a.db" sync status | grep -c '^dead letters: 0$')" 1 "dead letters at a"
ids_of_kiosk "$WORK/a.db" >"$WORK/a.ids"
hub_check 200
jq -r '.[].id' "$WORK/export.json" | sort >"$WORK/hub.ids"
cmp -s "$WORK/a.ids" "$WORK/hub.ids" || fail "the hub's check-ins are not the kiosk's"

# --- on a USB stick ---
make_queue "$WORK/b.db"
mkdir "$WORK/usb"
kiosk "$WORK/b.db" export --to "$WORK/usb" >"$WORK/export.out" || fail "export: $(cat "$WORK/export.out")"
for f in "$WORK"/usb/*.tzb; do
	hub import "$f" >/dev/null || fail "hub import $f"
done
hub_check 400
for f in "$WORK"/usb/*.tzb; do
	kiosk "$WORK/b.db" export --confirm "$f" >/dev/null || fail "export --confirm $f"
done
expect_eq "$(sqlite3 "$WORK/b.db" "SELECT count(*) FROM outbox")" 0 "b's queue after the files were confirmed"
hub_stop
echo "PASS kiosk queue"
