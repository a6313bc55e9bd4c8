#!/usr/bin/env bash
# kill -9 at random points: the kiosk while it checks members in or syncs, and
# separately the hub while it takes a push. ROUNDS rounds (default 200; set
# TINGZI_CRASH_ROUNDS for a longer run). Then everything syncs: every check-in
# the kiosk committed is at the hub exactly once, and the hub holds nothing else.
. "$(dirname "$0")/lib.sh"
ROUNDS=${TINGZI_CRASH_ROUNDS:-200}

venue=$(hub venues add "Crash Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 20000
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub events add --venue "$venue" --title "Tea" --start "$(date -d '-1 hour' +%Y-%m-%dT%H:%M)" \
	--end "$(date -d '+6 hours' +%Y-%m-%dT%H:%M)" >/dev/null
hub_start
code=$(hub devices enroll-code "$venue" | grep -oE '[A-Za-z0-9_-]{8,64}' | tail -n 1)
kiosk "$WORK/k.db" enroll "http://127.0.0.1:$PORT" "$code" >/dev/null || fail "enroll"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "the first sync"

next=1
for round in $(seq "$ROUNDS"); do
	delay=0.0$((RANDOM % 9 + 1))
	case $((RANDOM % 3)) in
	0) # the kiosk dies while it checks members in
		codes "$WORK/batch" "$next" $((next + 59))
		next=$((next + 60))
		"$TINGZI" --db "$WORK/k.db" checkin --code-file "$WORK/batch" >/dev/null 2>&1 &
		pid=$! ;;
	1) # the kiosk dies while it syncs
		"$TINGZI" --db "$WORK/k.db" sync --once >/dev/null 2>&1 &
		pid=$! ;;
	2) # the hub dies while the kiosk pushes
		codes "$WORK/batch" "$next" $((next + 29))
		next=$((next + 30))
		"$TINGZI" --db "$WORK/k.db" checkin --code-file "$WORK/batch" >/dev/null 2>&1 || true
		"$TINGZI" --db "$WORK/k.db" sync --once >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		hub_stop KILL
		wait "$pid" 2>/dev/null || true
		hub_start "$PORT"
		pid="" ;;
	esac
	if [ -n "$pid" ]; then
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	[ "$next" -lt 19900 ] || next=1 # the same members again: "already checked in", nothing new
done
sync_until_clean "$WORK/k.db" 50

# the database is whole after all those kills
expect_eq "$(sqlite3 "$WORK/k.db" 'PRAGMA integrity_check')" ok "the kiosk's database"
hub checkins export --venue "$venue" --format json | jq -r '.[].id' | sort >"$WORK/hub.ids"
ids_of_kiosk "$WORK/k.db" >"$WORK/kiosk.ids"
n=$(wc -l <"$WORK/kiosk.ids")
[ "$n" -gt 0 ] || fail "no check-in survived"
expect_eq "$(sort -u "$WORK/hub.ids" | wc -l)" "$(wc -l <"$WORK/hub.ids")" "no check-in twice at the hub"
cmp -s "$WORK/hub.ids" "$WORK/kiosk.ids" || fail "lost or extra check-ins: $(comm -3 "$WORK/hub.ids" "$WORK/kiosk.ids" | head -5)"
expect_eq "$(sqlite3 "$WORK/k.db" 'SELECT count(*) FROM dead_letters')" 0 "dead letters"
echo "PASS crash: $ROUNDS rounds, $n check-ins, each once at the hub"
