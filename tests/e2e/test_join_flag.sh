#!/usr/bin/env bash
# "Shown a join QR" as the hub's dashboard counts it, through the real kiosk
# window under Xvfb (display :58) and a real tingzi-hub on loopback:
#   - a first-timer's welcome carries the group's join QR (the hub's live
#     address), and their check-in says so: checkins.join_qr = 1 in the
#     kiosk's file and, after `tingzi sync --once`, flags bit 1 in the hub's
#     checkins; a returning member's welcome carries no QR and neither bit;
#   - with referrals on, a returning member's invite QR decodes to the hub's
#     /j/SLUG?ref=CODE when the link came from the hub (the hub then counts the
#     invite and leads the friend on to the group), and to the raw link with ref=CODE added when the
#     link was made on the kiosk; neither is a join QR.
. "$(dirname "$0")/lib.sh"

HUB_BIN=$(dirname "$TINGZI")/tingzi-hub
[ -x "$HUB_BIN" ] || {
	echo "SKIP: no tingzi-hub beside $TINGZI"
	exit 77
}
HUBDB=$WORK/hub.db
RAW_URL="https://weixin.qq.com/g/AQYAAKx8aJ3Y1mT0pXr9V2nQe6LbTz8Hc4WsGd0Fu7KmPo5Iy"
LOCAL_URL="https://line.me/R/ti/g/tingyu-local?utm_source=kiosk"
DISPLAY_NO=58

hub() { "$HUB_BIN" --db "$HUBDB" "$@" 2>>"$WORK/hub.log"; }
hub_sql() { sqlite3 "$HUBDB" "$1"; }

# start_x58 WIDTH HEIGHT: Xvfb on display :58.
start_x58() {
	[ -e /tmp/.X$DISPLAY_NO-lock ] && fail "display :$DISPLAY_NO is taken"
	Xvfb :$DISPLAY_NO -screen 0 "$1x$2x24" -nolisten tcp >/dev/null 2>&1 &
	XPID=$!
	export DISPLAY=:$DISPLAY_NO
	for _ in $(seq 50); do
		xdpyinfo >/dev/null 2>&1 && return 0
		kill -0 $XPID 2>/dev/null || break
		sleep 0.1
	done
	fail "could not start Xvfb on :$DISPLAY_NO"
}

# no_qr NAME: screenshot NAME holds no QR code at all.
no_qr() {
	local out
	if out=$(zbarimg --quiet --raw -Sdisable -Sqrcode.enable "$SHOTS/$1.png" 2>/dev/null); then
		fail "$1.png holds a QR code: $out"
	fi
}

# checkin_of CODE: the id of the member's check-in today (the kiosk's file).
checkin_of() {
	sql "SELECT c.id FROM checkins c JOIN members m ON m.id = c.member_id
		WHERE m.code = '$1' AND c.attendance_key NOT LIKE 'd:2020-%'"
}

# earlier_visit CODE: a drop-in visit long ago, so the member's next visit is their second.
earlier_visit() {
	sql "INSERT INTO checkins(id, member_id, event_id, attendance_key, method, wall_ms, mono_ms, boot_id,
		device_id, device_seq, visit_no, expired) SELECT lower(hex(randomblob(16))), id, NULL,
		'd:2020-03-01', 'scan', 1583020800000, 0, 'b', 'd', 0, 1, 0 FROM members WHERE code = '$1'"
}

# sync_clean: `tingzi sync --once` until nothing waits.
sync_clean() {
	local i
	for i in $(seq 30); do
		"$TINGZI" --db "$DB" sync --once >"$WORK/sync.out" 2>>"$WORK/sync.log" &&
			grep -q ' 0 waiting$' "$WORK/sync.out" && return 0
		sleep 0.2
	done
	fail "records still waiting after 30 rounds: $(cat "$WORK/sync.out")"
}

# --- the hub: a venue, its members, a group link under the venue's live code ---
venue=$(hub venues add "听雨茶馆" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
[ -n "$venue" ] || fail "venues add"
printf 'name,phone,code\n张三,13800005678,TZ1001\n李四,13900001234,TZ1002\n王五,13700009999,TZ1003\n赵六,13600001111,TZ1004\n' \
	>"$WORK/members.csv"
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null || fail "hub members import"
hub links add --venue "$venue" "$RAW_URL" --label "听雨茶馆 · 微信群" --default >/dev/null || fail "hub links add"
slug=$(hub venues list | awk -v v="$venue" '$1 == v {print $NF}' | sed 's|/j/||')
[ -n "$slug" ] || fail "venues list shows no live code"
PORT=$(free_port)
"$HUB_BIN" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" 2>>"$WORK/hub.log" &
HPID=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break
	kill -0 "$HPID" 2>/dev/null || fail "the hub exited"
	sleep 0.05
done
URL="http://127.0.0.1:$PORT"
LIVE="$URL/j/$slug"

# --- the kiosk enrolls and pulls the members and the link with its live address ---
code=$("$HUB_BIN" --db "$HUBDB" devices enroll-code "$venue" 2>>"$WORK/hub.log" | tail -n 1)
"$TINGZI" --db "$DB" enroll "$URL" "$code" --name door >/dev/null 2>>"$LOG" || fail "enroll"
sync_clean
link=$(sql "SELECT id FROM links WHERE url='$RAW_URL'")
[ -n "$link" ] || fail "the kiosk did not pull the hub's link"
expect_eq "$(sql "SELECT live_url FROM links WHERE id=$link")" "$LIVE" "the pulled live address"
expect_eq "$(sql "SELECT count(*) FROM members WHERE code LIKE 'TZ100_'")" 4 "members pulled"
earlier_visit TZ1002
earlier_visit TZ1003
earlier_visit TZ1004

start_x58 1280 800

# --- a first-timer: the join QR, and the check-in says so ---
start_kiosk --lang zh-Hans
scan TZ1001
wait_log 'select(.event=="checkin.recorded" and .visit==1 and .join_qr==true)' 1
wait_qr "$link" join
shot flag-first-timer
expect_eq "$(decode flag-first-timer)" "$LIVE" "the first-timer's join QR"
first=$(checkin_of TZ1001)
expect_eq "$(sql "SELECT visit_no || ' ' || join_qr FROM checkins WHERE id='$first'")" "1 1" "the first-timer's check-in"
tap dismiss

# --- a returning member: no QR, and the check-in says none was shown ---
welcomes=$(count 'select(.event=="layout" and .screen=="welcome")')
scan TZ1002
wait_log 'select(.event=="checkin.recorded" and .visit==2 and .join_qr==false)' 1
wait_log 'select(.event=="layout" and .screen=="welcome")' $((welcomes + 1))
sleep 0.4
shot flag-returning
no_qr flag-returning
back=$(checkin_of TZ1002)
expect_eq "$(sql "SELECT visit_no || ' ' || join_qr FROM checkins WHERE id='$back'")" "2 0" "the returning member's check-in"
tap dismiss
stop_kiosk

# --- the hub has them with their flags as sent ---
sync_clean
expect_eq "$(hub_sql "SELECT flags FROM checkins WHERE id='$first'")" 2 "the hub's flags of the first-timer"
expect_eq "$(hub_sql "SELECT flags FROM checkins WHERE id='$back'")" 0 "the hub's flags of the returning member"
expect_eq "$(hub_sql "SELECT count(*) FROM checkins WHERE venue_id='$venue' AND flags & 2")" 1 \
	"check-ins shown a join QR at the hub"

# --- referrals on: a returning member's invite goes through the hub's live code ---
"$TINGZI" --db "$DB" venue set-referral on >/dev/null
start_kiosk --lang en
scan TZ1003
wait_log 'select(.event=="checkin.recorded" and .visit==2 and .join_qr==false)' 1
wait_qr "$link" referral
shot flag-referral-live
invite=$(decode flag-referral-live)
expect_eq "$invite" "$LIVE?ref=TZ1003" "the invite QR of a hub link"
# a friend who scans it goes through the hub on to the group
expect_eq "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$invite")" "302 $RAW_URL" "the invite's redirect"
# and counts the invite followed under the member's code (the dashboard's "invites followed")
expect_eq "$(hub_sql "SELECT sum(n) FROM ref_days WHERE slug='$slug' AND ref='TZ1003'")" 1 "invites followed at the hub"
ref_live=$(checkin_of TZ1003)
expect_eq "$(sql "SELECT join_qr FROM checkins WHERE id='$ref_live'")" 0 "an invite QR is not a join QR"
tap dismiss
stop_kiosk

# --- a link made on the kiosk (no live address): the raw link with ref added ---
"$TINGZI" --db "$DB" links add --label "本地群" --url "$LOCAL_URL" --default >/dev/null 2>&1 || fail "links add"
local_link=$(sql "SELECT id FROM links WHERE url='$LOCAL_URL'")
start_kiosk --lang en
scan TZ1004
wait_log 'select(.event=="checkin.recorded" and .visit==2)' 1
wait_qr "$local_link" referral
shot flag-referral-local
expect_eq "$(decode flag-referral-local)" "$LOCAL_URL&ref=TZ1004" "the invite QR of a kiosk-made link"
stop_kiosk
sync_clean
expect_eq "$(hub_sql "SELECT flags FROM checkins WHERE id='$ref_live'")" 0 "the hub's flags of an invite's welcome"
expect_eq "$(hub_sql "SELECT count(*) FROM checkins WHERE venue_id='$venue'")" 4 "check-ins at the hub"
echo "PASS join flag"
