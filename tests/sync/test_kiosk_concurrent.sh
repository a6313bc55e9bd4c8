#!/usr/bin/env bash
# Two syncs of one kiosk database at once (two `tingzi sync --once`, as when
# staff run one while another is under way): both finish with status 0, the
# one that found the other running says so, and every check-in reaches the
# hub exactly once with nothing left waiting.
. "$(dirname "$0")/lib.sh"

N=1500
venue=$(hub venues add "Busy Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" $((N * 3))
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub_start
URL="http://127.0.0.1:$PORT"
DB=$WORK/k.db
code=$(hub devices enroll-code "$venue" | tail -n 1)
kiosk "$DB" enroll "$URL" "$code" >/dev/null || fail "enroll"
kiosk "$DB" sync --once >/dev/null || fail "first sync"

# queue FROM TO: check-ins of members M<FROM>..M<TO> waiting, as the kiosk's
# own check-in path writes them (one made by `tingzi checkin`, the rest alike).
queue() {
	kiosk "$DB" checkin --code "$(printf 'M%05d' "$1")" >/dev/null || fail "checkin"
	sqlite3 "$DB" >/dev/null <<SQL
BEGIN;
INSERT INTO checkins(id, member_id, event_id, attendance_key, method, wall_ms, mono_ms, boot_id, device_id,
    device_seq, visit_no, expired)
  SELECT lower(hex(randomblob(16))), m.id, NULL, t.attendance_key, t.method, t.wall_ms + m.id, t.mono_ms + m.id,
    t.boot_id, t.device_id, t.device_seq + m.id, 1, 0
  FROM members m, (SELECT * FROM checkins ORDER BY device_seq DESC LIMIT 1) t
  WHERE m.code > printf('M%05d', $1) AND m.code <= printf('M%05d', $2);
INSERT INTO outbox(kind, record_id, body, created_ms)
  SELECT 'checkin', c.id, json_object('id', c.id, 'member_uid', m.uid, 'event_uid', NULL,
    'attendance_key', c.attendance_key, 'method', c.method, 'wall_ms', c.wall_ms, 'mono_ms', c.mono_ms,
    'boot_id', c.boot_id, 'device_id', c.device_id, 'device_seq', c.device_seq, 'visit_no', c.visit_no,
    'expired', json('false')), c.wall_ms
  FROM checkins c JOIN members m ON m.id = c.member_id
  WHERE c.id NOT IN (SELECT record_id FROM outbox) AND m.code > printf('M%05d', $1)
    AND m.code <= printf('M%05d', $2) ORDER BY c.device_seq;
UPDATE settings SET value = (SELECT max(device_seq) FROM checkins) WHERE key = 'device_seq';
COMMIT;
SQL
}

total=0
for round in 1 2 3; do
	from=$(((round - 1) * N + 1))
	queue $from $((round * N))
	total=$((total + N))
	expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE kind = 'checkin'")" $N "waiting before round $round"
	"$TINGZI" --db "$DB" sync --once >"$WORK/one.out" 2>"$WORK/one.err" &
	p1=$!
	"$TINGZI" --db "$DB" sync --once >"$WORK/two.out" 2>"$WORK/two.err" &
	p2=$!
	rc1=0 rc2=0
	wait $p1 || rc1=$?
	wait $p2 || rc2=$?
	cat "$WORK/one.err" "$WORK/two.err" >>"$WORK/kiosk.log"
	[ $rc1 -eq 0 ] || fail "round $round: the first sync failed ($rc1): $(cat "$WORK/one.err")"
	[ $rc2 -eq 0 ] || fail "round $round: the second sync failed ($rc2): $(cat "$WORK/two.err")"
	grep -q "sync failed" "$WORK/one.err" "$WORK/two.err" && fail "round $round: a sync reported a failure"
	expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM outbox")" 0 "waiting after round $round"
	expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM dead_letters")" 0 "dead letters after round $round"
	hub checkins export --venue "$venue" --format json >"$WORK/export.json"
	expect_eq "$(jq '[.[] | select(.duplicate_of == null)] | length' "$WORK/export.json")" $total \
		"check-ins at the hub after round $round"
	expect_eq "$(jq '[.[].id] | unique | length' "$WORK/export.json")" "$(jq 'length' "$WORK/export.json")" \
		"each check-in once at the hub after round $round"
	cat "$WORK/one.out" "$WORK/one.err" "$WORK/two.out" "$WORK/two.err"
done
ids_of_kiosk "$DB" >"$WORK/kiosk.ids"
jq -r '.[].id' "$WORK/export.json" | sort >"$WORK/hub.ids"
cmp -s "$WORK/kiosk.ids" "$WORK/hub.ids" || fail "the hub's check-ins are not the kiosk's"
hub_stop
echo "PASS concurrent syncs"
