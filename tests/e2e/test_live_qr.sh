#!/usr/bin/env bash
# Live codes on the kiosk's screens: a kiosk enrolled with a real tingzi-hub
# on loopback pulls the venue's group link with its live address
# (/j/SLUG). The join screen and a newcomer's welcome then show a QR code
# that decodes (zbarimg) to the hub's live address, not the raw group link
# that expires; a link made on the kiosk itself (no live address) still
# shows its own URL.
. "$(dirname "$0")/lib.sh"

HUB_BIN=$(dirname "$TINGZI")/tingzi-hub
[ -x "$HUB_BIN" ] || {
	echo "SKIP: no tingzi-hub beside $TINGZI"
	exit 77
}
HUBDB=$WORK/hub.db
RAW_URL="https://weixin.qq.com/g/AQYAAKx8aJ3Y1mT0pXr9V2nQe6LbTz8Hc4WsGd0Fu7KmPo5Iy"
LOCAL_URL="https://t.me/+TingyuLocalGroup"

hub() { "$HUB_BIN" --db "$HUBDB" "$@" 2>>"$WORK/hub.log"; }

# --- the hub: a venue, its members and a WeChat group link under the venue's live code ---
venue=$(hub venues add "听雨茶馆" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
[ -n "$venue" ] || fail "venues add"
printf 'name,phone,code\n张三,13800005678,TZ1001\n李四,13900001234,TZ1002\n' >"$WORK/members.csv"
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null || fail "hub members import"
hub links add --venue "$venue" "$RAW_URL" --label "听雨茶馆 · 微信群" --default >/dev/null 2>&1 || fail "hub links add"
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

# --- the kiosk enrolls and pulls ---
code=$(hub devices enroll-code "$venue" | tail -n 1)
"$TINGZI" --db "$DB" enroll "$URL" "$code" --name door >/dev/null 2>>"$LOG" || fail "enroll"
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync"
link=$(sql "SELECT id FROM links WHERE url='$RAW_URL'")
[ -n "$link" ] || fail "the kiosk did not pull the hub's link"
expect_eq "$(sql "SELECT live_url FROM links WHERE id=$link")" "$LIVE" "the pulled live address"
# the live address leads to the group
expect_eq "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$LIVE")" "302 $RAW_URL" "the live redirect"
# --- the kiosk's reading path (links list) carries the live address ---
"$TINGZI" --db "$DB" links list --format json 2>/dev/null | jq -e --arg l "$LIVE" ".[] | select(.id==$link) | .live_url == \$l" >/dev/null ||
	fail "links list --format json does not give the live address: $("$TINGZI" --db "$DB" links list --format json 2>/dev/null)"

start_x 1280 800
start_kiosk --lang zh-Hans

# --- join screen: the live address ---
tap join
wait_qr "$link"
shot join-live
expect_eq "$(decode join-live)" "$LIVE" "the join screen's QR"
tap home

# --- a newcomer's welcome: the live address ---
scan TZ1001
wait_log 'select(.event=="checkin.recorded" and .visit==1)' 1
wait_qr "$link"
shot welcome-live
expect_eq "$(decode welcome-live)" "$LIVE" "the newcomer's welcome QR"
tap dismiss
stop_kiosk

# --- a link made on the kiosk (no live address) shows its own URL ---
"$TINGZI" --db "$DB" links add --label "本地群" --url "$LOCAL_URL" --default >/dev/null 2>&1 || fail "links add"
local_link=$(sql "SELECT id FROM links WHERE url='$LOCAL_URL'")
start_kiosk --lang en
tap join
wait_qr "$local_link"
shot join-local
expect_eq "$(decode join-local)" "$LOCAL_URL" "a kiosk-made link's QR"
stop_kiosk
echo "PASS live QR"
