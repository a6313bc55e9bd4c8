#!/usr/bin/env bash
# Join QR codes as a phone meets them: at 800x480, 1024x600, 1280x800,
# 1920x1080 and 1080x1920, a screenshot of `tingzi show-qr` and of the join
# screen opened from home each decode (zbarimg) to exactly the configured URL.
# An expired link in the database never reaches the screen; a link that
# expires within 48 hours is flagged by `links list` and in the kiosk's log.
# A newcomer's welcome carries the event's group link, and with referrals on
# a returning member's welcome carries their personal invite address.
. "$(dirname "$0")/lib.sh"

EVENT_URL="https://weixin.qq.com/g/AQYAAKx8aJ3Y1mT0pXr9V2nQe6LbTz8Hc4WsGd0Fu7KmPo5Iy"
VENUE_URL="https://line.me/R/ti/g/tingyu-teahouse?utm_source=kiosk"
OLD_URL="https://t.me/+ExpiredInviteCode0000"

stop_x() {
	kill "$XPID" 2>/dev/null || true
	wait "$XPID" 2>/dev/null || true
	XPID=""
}

seed
event=$(sql "SELECT id FROM events LIMIT 1")
"$TINGZI" --db "$DB" links add --label "周末茶话会 · 微信群" --url "$EVENT_URL" --event "$event" >/dev/null
"$TINGZI" --db "$DB" links add --label "听雨茶馆 LINE 社群" --url "$VENUE_URL" --default --expires +30h >/dev/null
"$TINGZI" --db "$DB" links add --label "Old Telegram" --url "$OLD_URL" >/dev/null
ev_link=$(sql "SELECT id FROM links WHERE url='$EVENT_URL'")
venue_link=$(sql "SELECT id FROM links WHERE url='$VENUE_URL'")
old_link=$(sql "SELECT id FROM links WHERE url='$OLD_URL'")
# the Telegram invite ran out a minute ago
sql "UPDATE links SET expires_ms = CAST(strftime('%s','now') AS INTEGER) * 1000 - 60000 WHERE id=$old_link"

# --- the flags: within 48 hours, and expired ---
list=$("$TINGZI" --db "$DB" links list 2>"$WORK/list.err")
printf '%s\n' "$list" | grep -q "^$venue_link	.*EXPIRES SOON" || fail "links list does not flag the link expiring in 30 h"
printf '%s\n' "$list" | grep -q "^$old_link	.*EXPIRED" || fail "links list does not mark the expired link"
printf '%s\n' "$list" | grep -q "^$ev_link	.*EXPIRES SOON" && fail "a link with 7 days left is flagged"
grep -q "link $venue_link .*expires in 29 hours" "$WORK/list.err" || fail "no warning on stderr: $(cat "$WORK/list.err")"
[ "$("$TINGZI" --db "$DB" links list --format json 2>/dev/null | jq -r ".[] | select(.id==$old_link) | .state")" = expired ] ||
	fail "links list --format json does not say expired"

for size in 800x480 1024x600 1280x800 1920x1080 1080x1920; do
	w=${size%x*} h=${size#*x}
	start_x "$w" "$h"

	# --- show-qr: a display, the event's link first ---
	: >"$LOG"
	"$TINGZI" --db "$DB" show-qr --link "$ev_link" 2>>"$LOG" &
	KPID=$!
	wait_qr "$ev_link"
	xdotool search --sync --onlyvisible --pid "$KPID" >/dev/null
	sleep 0.3
	shot "show-qr-$size"
	expect_eq "$(decode "show-qr-$size")" "$EVENT_URL" "show-qr at $size"
	# a passer-by's taps and keys change nothing
	xdotool mousemove $((w / 2)) $((h / 2)) click 1 key Escape type "hello"
	sleep 0.5
	kill -0 "$KPID" || fail "show-qr ended after a tap and keys at $size"
	expect_eq "$(count 'select(.event=="screen")')" 1 "show-qr changed screens at $size"
	stop_kiosk

	# --- the kiosk: home -> join ---
	start_kiosk --lang zh-Hans
	grep -q "\"event\":\"link.expiring\".*\"link\":$venue_link" "$LOG" || fail "the kiosk did not log link.expiring"
	tap join
	wait_qr "$ev_link"
	shot "join-$size"
	expect_eq "$(decode "join-$size")" "$EVENT_URL" "the join screen at $size"
	# the other current link is one step away; the expired one never comes
	tap next_link 1
	wait_qr "$venue_link"
	shot "join-next-$size"
	expect_eq "$(decode "join-next-$size")" "$VENUE_URL" "the next link at $size"
	tap next_link 1
	wait_qr "$ev_link"
	[ "$(count "select(.event==\"qr.shown\" and .link==$old_link)")" -eq 0 ] || fail "the expired link was shown"
	stop_kiosk
	stop_x
done

# --- on its own: the links take turns, and a swipe moves on ---
start_x 1280 800
start_kiosk --lang en
tap join
wait_qr "$ev_link"
wait_log "select(.event==\"qr.shown\" and .link==$venue_link)" 1 15 # after 10 s by itself
before=$(count "select(.event==\"qr.shown\" and .link==$ev_link)")
xdotool mousemove 900 400 mousedown 1 mousemove 700 400 mousemove 300 410 mouseup 1
wait_log "select(.event==\"qr.shown\" and .link==$ev_link)" $((before + 1)) 5
tap home

# --- a newcomer's welcome: the event's group ---
scan TZ1005
wait_log 'select(.event=="checkin.recorded" and .visit==1)' 1
wait_qr "$ev_link"
shot welcome-newcomer
expect_eq "$(decode welcome-newcomer)" "$EVENT_URL" "the newcomer's welcome QR"
tap dismiss
stop_kiosk

# --- referrals on: a returning member's welcome carries their invite ---
"$TINGZI" --db "$DB" venue set-referral on >/dev/null
"$TINGZI" --db "$DB" events add --title "上周茶会" --start "$(date -d '-8 days' +%Y-%m-%dT10:00)" \
	--end "$(date -d '-8 days' +%Y-%m-%dT12:00)" >/dev/null
old_event=$(sql "SELECT id FROM events WHERE title='上周茶会'")
member=$(sql "SELECT id FROM members WHERE code='TZ1007'")
sql "INSERT INTO checkins(id, member_id, event_id, attendance_key, method, wall_ms, mono_ms, boot_id, device_id,
	device_seq, visit_no, expired) SELECT lower(hex(randomblob(16))), $member, $old_event, 'e:' || uid, 'scan',
	start_ms, 0, 'b', 'd', 0, 1, 0 FROM events WHERE id=$old_event"
start_kiosk --lang zh-Hant
scan TZ1007
wait_log 'select(.event=="checkin.recorded" and .visit==2)' 1
wait_qr "$venue_link" referral
shot welcome-referral
expect_eq "$(decode welcome-referral)" "$VENUE_URL&ref=TZ1007" "the referral QR"
stop_kiosk
echo "PASS join"
