#!/usr/bin/env bash
# The kiosk's window with its sync worker, against a real hub, under Xvfb:
# a scan is at the hub seconds later; with the hub down the home screen says
# "offline · N waiting" and the check-ins wait; when it is back they go up; a
# member added at the hub while the kiosk runs can check in without a
# restart; a revoked kiosk says so on screen. Screenshots are kept in
# $TINGZI_E2E_SHOTS when set.
. "$(dirname "$0")/lib.sh"
for t in Xvfb xdotool xdpyinfo import; do command -v $t >/dev/null || fail "$t is not installed"; done
SHOTS=${TINGZI_E2E_SHOTS:-$WORK/shots}
mkdir -p "$SHOTS"
LOG=$WORK/window.log
KDB=$WORK/k.db
XPID=""
KPID=""
# the library's exit trap stops them, the kiosk before its display, and keeps the test's status
LIB_PIDS="KPID XPID $LIB_PIDS"

count() { grep '^{' "$LOG" | jq -c "$1" 2>/dev/null | wc -l; }
wait_log() {
	local deadline=$(($(date +%s) + ${3:-15}))
	while [ "$(count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -lt $deadline ] || fail "timed out waiting for $2 x $1"
		kill -0 "$KPID" 2>/dev/null || fail "the kiosk exited"
		sleep 0.1
	done
}
hub_count() { hubsql "SELECT count(*) FROM checkins"; }
wait_hub() {
	for _ in $(seq 150); do [ "$(hub_count)" = "$1" ] && return 0; sleep 0.1; done
	fail "the hub holds $(hub_count) check-ins, not $1"
}
scan() { xdotool type --delay 2 "$1"$'\n'; }
home() { xdotool key Escape; sleep 0.5; }

venue=$(hub venues add "听雨茶馆" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 300
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub events add --venue "$venue" --title "周末茶话会" --start "$(date -d '-1 hour' +%Y-%m-%dT%H:%M)" \
	--end "$(date -d '+3 hours' +%Y-%m-%dT%H:%M)" >/dev/null
hub_start
code=$(hub devices enroll-code "$venue" | tail -n 1)
kiosk "$KDB" enroll "http://127.0.0.1:$PORT" "$code" --name "door" >/dev/null || fail "enroll"
kiosk "$KDB" sync --once >/dev/null || fail "the first sync"
"$TINGZI" --db "$KDB" venue set-name "听雨茶馆" >/dev/null

for n in $(seq 91 140); do
	[ -e /tmp/.X$n-lock ] || [ -e /tmp/.X11-unix/X$n ] && continue
	Xvfb :$n -screen 0 1024x600x24 -nolisten tcp >/dev/null 2>&1 &
	XPID=$!
	export DISPLAY=:$n
	for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
	xdpyinfo >/dev/null 2>&1 && break
	kill "$XPID" 2>/dev/null; XPID=""
done
[ -n "$XPID" ] || fail "could not start Xvfb"
unset SDL_VIDEODRIVER
# the window's system libraries (X11, GL, D-Bus) keep memory until exit, as in the e2e tests: no leak report
# for this process under AddressSanitizer (its errors still abort it)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	TINGZI_SYNC_INTERVAL_S=1 TINGZI_LOG_LAYOUT=1 "$TINGZI" --db "$KDB" --result-timeout 2 2>>"$LOG" &
KPID=$!
wait_log 'select(.event=="roster.ready")' 1
xdotool search --sync --onlyvisible --pid "$KPID" >/dev/null
sleep 1.5

# --- online: a scan is at the hub within seconds ---
scan M00001
wait_log 'select(.event=="checkin.recorded")' 1
wait_hub 1
home
sleep 1.5
import -window root "$SHOTS/sync-synced.png"

# --- the hub goes down: the check-ins wait, and the screen says so ---
hub_stop
scan M00002
wait_log 'select(.event=="checkin.recorded")' 2
home
scan M00003
wait_log 'select(.event=="checkin.recorded")' 3
home
wait_log 'select(.event=="sync.status" and .online==false)' 1 20
sleep 2.5 # the next round (back-off 1-3 s) counts both
import -window root "$SHOTS/sync-offline.png"
expect_eq "$(sqlite3 "$KDB" 'SELECT count(*) FROM outbox')" 2 "check-ins waiting on the kiosk"

# --- the hub is back: they go up; a member added meanwhile comes down ---
printf 'name,phone,code\n新会员,13912345678,NEW01\n' >"$WORK/new.csv"
hub members import "$WORK/new.csv" --venue "$venue" >/dev/null
hub_start "$PORT"
wait_hub 3
wait_log 'select(.event=="sync.pulled")' 1 40
wait_log 'select(.event=="roster.ready" and .members==301)' 1 20
scan NEW01
wait_log 'select(.event=="checkin.recorded")' 4
wait_hub 4
expect_eq "$(hubsql "SELECT count(*) FROM checkins c JOIN members m ON m.uid = c.member_uid WHERE m.code = 'NEW01'")" \
	1 "the new member's check-in at the hub"

# --- revoked: the screen tells staff ---
home
hub devices revoke "$(sqlite3 "$KDB" "SELECT value FROM settings WHERE key = 'device_id'")" 2>/dev/null
scan M00004
wait_log 'select(.event=="checkin.recorded")' 5
home
wait_log 'select(.event=="sync.status" and .auth_failed==true)' 1 20
sleep 0.5
import -window root "$SHOTS/sync-refused.png"
expect_eq "$(hub_count)" 4 "check-ins at the hub after revocation"
kill "$KPID"
wait "$KPID" || fail "the kiosk did not exit cleanly"
KPID=""
hub_stop
echo "PASS kiosk window: synced, offline with 2 waiting, back, a new member without restart, refused"
