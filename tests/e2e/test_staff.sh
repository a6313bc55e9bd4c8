#!/usr/bin/env bash
# Staff mode as staff use it, in a fullscreen kiosk under Xvfb: hold the
# top-left corner for 3 seconds, type the PIN on the keypad. Five wrong PINs
# lock (here for 3 seconds, TINGZI_STAFF_LOCK_S; 5 minutes by default); the
# right PIN after the lock opens the menu; undoing a check-in writes a
# reversal and the member's visit count goes back; Alt+F4, Escape and Ctrl+Q
# leave the kiosk running; only "Quit" in staff mode ends it. The PIN is
# nowhere in the database, the log or the process arguments.
. "$(dirname "$0")/lib.sh"
PIN=482915
seed
printf '%s\n' "$PIN" | "$TINGZI" --db "$DB" staff set-pin 2>/dev/null || fail "set-pin"
# a WeChat group code that expires tomorrow: the staff menu warns of it
"$TINGZI" --db "$DB" links add --label "茶友群" --url "https://weixin.qq.com/g/AbC123" --expires +30h >/dev/null 2>&1 ||
	fail "links add"
start_x 1024 600
export TINGZI_STAFF_LOCK_S=3
start_kiosk

# two members check in: visit 1 each
scan TZ1002
wait_log 'select(.event=="checkin.recorded")' 1
xdotool key Escape
scan TZ1001
wait_log 'select(.event=="checkin.recorded")' 2
expect_eq "$(sql "SELECT count(*) FROM checkins WHERE reversed = 0")" 2 "check-ins"
xdotool key Escape
wait_log 'select(.event=="screen" and .screen=="home")' 3

# lockdown: none of these end or leave the kiosk
for k in alt+F4 ctrl+q Escape alt+Tab; do xdotool key "$k"; done
# and the window manager's close request (what Alt+F4 becomes under one)
[ -x "${TINGZI_X11_CLOSE:-}" ] || fail "TINGZI_X11_CLOSE is not the x11_close helper"
"$TINGZI_X11_CLOSE" "$(xdotool search --pid "$KPID" | head -n 1)" || fail "x11_close"
wait_log 'select(.event=="quit.ignored")' 1
sleep 1
kill -0 "$KPID" || fail "the kiosk ended on a key"
expect_eq "$(screen)" home "the screen after Alt+F4, Ctrl+Q, Escape, Alt+Tab"

# a short press in the corner does nothing; 3 seconds opens the PIN pad
hold() { xdotool mousemove 4 4 mousedown 1; sleep "$1"; xdotool mouseup 1; }
hold 0.5
sleep 0.5
expect_eq "$(count 'select(.event=="screen" and .screen=="staff_pin")')" 0 "a short press"
hold 3.4
wait_log 'select(.event=="screen" and .screen=="staff_pin")' 1
pin() {
	local d i
	for ((i = 0; i < ${#1}; i++)); do
		d=${1:i:1}
		tap key "$(printf '%d' "'$d")"
	done
	tap ok
}
for i in 1 2 3 4; do
	pin 111111
	wait_log 'select(.event=="staff.pin_wrong")' "$i"
done
pin 222222
wait_log 'select(.event=="staff.locked")' 1
shot staff-locked
# the right PIN while locked: still the PIN pad
pin "$PIN"
sleep 0.5
expect_eq "$(screen)" staff_pin "the screen after the right PIN while locked"
expect_eq "$(count 'select(.event=="staff.enter")')" 0 "staff entries while locked"
# after the lock, the right PIN opens the menu
sleep 3
pin "$PIN"
wait_log 'select(.event=="staff.enter")' 1
wait_log 'select(.event=="screen" and .screen=="staff_menu")' 1
# settings: the referral QR on, the default language to the next one (繁體)
tap staff_settings
wait_log 'select(.event=="screen" and .screen=="staff_settings")' 1
tap staff_referral
expect_eq "$(sql "SELECT value FROM settings WHERE key = 'referral_qr'")" 1 "the referral setting"
tap staff_lang
expect_eq "$(sql "SELECT value FROM settings WHERE key = 'language'")" zh-Hant "the default language"
tap staff_idle
expect_eq "$(sql "SELECT value FROM settings WHERE key = 'input_timeout_s'")" 60 "the idle timeout after one tap (30 s -> 60 s)"
tap staff_sounds
expect_eq "$(sql "SELECT value FROM settings WHERE key = 'sounds'")" 0 "the sounds setting"
shot staff-settings
tap home
wait_log 'select(.event=="screen" and .screen=="staff_menu")' 2
shot staff-menu

# today's check-ins; undo the one
tap staff_list
wait_log 'select(.event=="screen" and .screen=="staff_list")' 1
# search for 张三 by pinyin: only his row; undo it
tap_keys zhang
expect_eq "$(grep '^{' "$LOG" | jq -c 'select(.event=="layout")' | tail -n 1 | jq '[.buttons[] | select(.act=="staff_undo")] | length')" \
	1 "rows found for zhang"
shot staff-list
tap staff_undo 0
wait_log 'select(.event=="checkin.reversed")' 1
expect_eq "$(sql "SELECT count(*) FROM reversals")" 1 "reversal rows"
expect_eq "$(sql "SELECT count(*) FROM checkins")" 2 "check-in rows (kept)"
expect_eq "$(sql "SELECT m.code FROM checkins c JOIN members m ON m.id = c.member_id WHERE c.reversed = 1")" TZ1001 \
	"the check-in undone"
expect_eq "$(sql "SELECT count(*) FROM checkins WHERE reversed = 0")" 1 "check-ins that count"
expect_eq "$("$TINGZI" --db "$DB" checkins list --format json | jq -r '[.[] | select(.reversed) | .code] | join(",")')" \
	TZ1001 "checkins list marks the undone one"
expect_eq "$(sql "SELECT count(*) FROM outbox WHERE kind = 'reversal'")" 1 "reversal queued for the hub"
# every step audited under one session
expect_eq "$(sql "SELECT count(DISTINCT session) FROM audit")" 1 "staff sessions"
for a in staff.enter checkins.view checkin.undo settings.referral_qr settings.language settings.idle_timeout settings.sounds; do
	expect_eq "$(sql "SELECT count(*) FROM audit WHERE action = '$a'")" 1 "audit of $a"
done
# staff check the member in again by hand (a forgotten card): method "staff", visit 1 again
tap home
tap staff_byhand
wait_log 'select(.event=="screen" and .screen=="search")' 1
tap_keys zhangsan
tap pick 0
wait_log 'select(.event=="checkin.recorded" and .method=="staff")' 1
expect_eq "$(sql "SELECT visit_no FROM checkins WHERE reversed = 0 AND method = 'staff'")" 1 \
	"the visit number after the undo"
expect_eq "$(sql "SELECT count(*) FROM audit WHERE action = 'checkin.by_hand'")" 1 "audit of the check-in by hand"
wait_log 'select(.event=="staff.leave")' 1
xdotool key Escape

# the PIN is nowhere
grep -q "$PIN" "$LOG" && fail "the PIN is in the log"
grep -qa "$PIN" "$DB" "$DB-wal" 2>/dev/null && fail "the PIN is in the database"
tr '\0' ' ' </proc/"$KPID"/cmdline | grep -q "$PIN" && fail "the PIN is in the process arguments"

# only staff can quit
hold 3.4
wait_log 'select(.event=="screen" and .screen=="staff_pin")' 2
pin "$PIN"
wait_log 'select(.event=="staff.enter")' 2
# start an event now, for two hours: it becomes the current event
tap staff_events
wait_log 'select(.event=="screen" and .screen=="staff_event")' 1
shot staff-event
tap staff_event_new 2
wait_log 'select(.event=="event.started" and .hours==2)' 1
new_event=$(sql "SELECT max(id) FROM events")
expect_eq "$(sql "SELECT value FROM settings WHERE key = 'current_event'")" "$new_event" "the chosen event"
expect_eq "$(sql "SELECT (end_ms - start_ms) / 3600000 FROM events WHERE id = $new_event")" 2 "the new event's hours"
xy=$(grep '^{' "$LOG" | jq -c 'select(.event=="layout")' | tail -n 1 |
	jq -r '[.buttons[] | select(.act=="staff_quit")] | last | "\(.x + (.w/2|floor)) \(.y + (.h/2|floor))"')
xdotool mousemove $xy click 1 # the kiosk ends: no next frame to wait for
for _ in $(seq 50); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$KPID" 2>/dev/null && fail "Quit did not end the kiosk"
wait "$KPID" || fail "the kiosk exited with an error after Quit"
KPID=""
expect_eq "$(sql "SELECT count(*) FROM audit WHERE action = 'kiosk.quit'")" 1 "audit of the quit"
expect_eq "$(sql "SELECT count(*) FROM audit WHERE action = 'event.start'")" 1 "audit of the new event"
# a check-in now goes to the event staff started
expect_eq "$("$TINGZI" --db "$DB" checkin --code TZ1003 --format json 2>/dev/null | jq -r .event)" "$new_event" \
	"the event of the next check-in"

# the hub keeps the staff actions whole: each audit record's session, action and detail,
# and the undo's check-in, reason and sequence number (tingzi-hub audit export)
HUB=$(dirname "$TINGZI")/tingzi-hub
HUBDB=$WORK/hub.db
venue=$("$HUB" --db "$HUBDB" venues add "茶馆" 2>/dev/null | grep -oE '[0-9a-f]{32}' | head -n 1)
port=$(free_port)
"$HUB" --db "$HUBDB" serve --listen "127.0.0.1:$port" 2>"$WORK/hub.log" &
HPID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.05; done
"$TINGZI" --db "$DB" enroll "http://127.0.0.1:$port" "$("$HUB" --db "$HUBDB" devices enroll-code "$venue" | tail -n 1)" \
	>/dev/null 2>&1 || fail "enroll"
"$TINGZI" --db "$DB" sync --once >/dev/null 2>&1 || fail "sync"
expect_eq "$(sql "SELECT count(*) FROM outbox")" 0 "records waiting after the sync"
"$HUB" --db "$HUBDB" audit export --venue "$venue" --format json >"$WORK/audit.json" 2>/dev/null || fail "audit export"
for a in $(sql "SELECT action FROM audit ORDER BY wall_ms, id"); do
	jq -e --arg a "$a" 'any(.[]; .kind == "audit" and .action == $a and (.session | test("^[0-9a-f]{32}$")))' \
		"$WORK/audit.json" >/dev/null || fail "the hub has no audit record of $a with its session"
done
expect_eq "$(jq '[.[] | select(.kind == "audit")] | length' "$WORK/audit.json")" "$(sql "SELECT count(*) FROM audit")" \
	"audit records at the hub"
undone=$(sql "SELECT checkin_id FROM reversals")
expect_eq "$(jq -r '.[] | select(.kind == "audit" and .action == "checkin.undo") | .detail.checkin' "$WORK/audit.json")" \
	"$undone" "the undo's detail at the hub"
expect_eq "$(jq -r '.[] | select(.kind == "reversal") | "\(.checkin) \(.reason) \(.seq > 0)"' "$WORK/audit.json")" \
	"$undone undone by staff true" "the reversal at the hub"
expect_eq "$(jq -r '[.[] | select(.kind == "audit") | .session] | unique | length' "$WORK/audit.json")" \
	"$(sql "SELECT count(DISTINCT session) FROM audit")" "staff sessions at the hub"
kill "$HPID"
wait "$HPID" 2>/dev/null || true
HPID=""
echo "PASS staff: locked after 5 wrong PINs, opened after the lock, undo reversed, keys ignored, PIN kept secret"
