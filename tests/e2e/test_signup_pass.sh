#!/usr/bin/env bash
# The loop from online to the door: a member signs up on their phone (Debian's
# chromium at 390x844, JavaScript off) through a friend's ref= link; the pass
# on their page, read by zbarimg from the screenshot, is typed into a kiosk
# (a scanner is fast typing) that has been offline since before the sign-up;
# the kiosk checks it with the key it pulled earlier, adds the member,
# checks them in and welcomes them by name; back online, the check-in counts
# at the hub for that member and the friend is credited with bringing them.
# Revoked at the hub and pulled, the same pass is refused. 800x480.
. "$(dirname "$0")/lib.sh"

HUB_BIN=$(dirname "$TINGZI")/tingzi-hub
[ -x "$HUB_BIN" ] || {
	echo "SKIP: no tingzi-hub beside $TINGZI"
	exit 77
}
for t in node npm zbarimg; do
	command -v $t >/dev/null || fail "$t is not installed (bash packaging/test.sh installs it)"
done
CHROMIUM=${TINGZI_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "chromium is not installed at $CHROMIUM (packaging/test.sh installs it)"
HERE=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=${TINGZI_CONSOLE_NODE:-$WORK/node}
bash "$HERE/../console/node_setup.sh" "$NODE_DIR" >>"$WORK/node.log" 2>&1 || fail "puppeteer-core could not be installed into $NODE_DIR"

HUBDB=$WORK/hub.db
KEYFILE=$WORK/pass.key
hub() { "$HUB_BIN" --db "$HUBDB" --key-file "$KEYFILE" "$@" 2>>"$WORK/hub.log"; }
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"

"$HUB_BIN" key-file new "$KEYFILE" >/dev/null 2>>"$WORK/hub.log" || fail "key-file new"
venue=$(hub venues add "听雨茶馆" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
printf 'name,phone,code\n张三,13800005678,TZ1001\n' >"$WORK/members.csv"
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null || fail "members import"
hub venues rotate-key "$venue" >/dev/null || fail "rotate-key"
hub venues signup "$venue" --slug tingyu --terms "请友善对待其他会员。" || fail "venues signup"
hub_serve

# --- the kiosk pulls once (its venue's key), then loses the network ---
seed
code=$(hub devices enroll-code "$venue" | tail -n 1)
"$TINGZI" --db "$DB" enroll "$URL" "$code" --name door >/dev/null 2>>"$LOG" || fail "enroll"
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync"
expect_eq "$(sql "SELECT count(*) FROM pass_keys")" 1 "keys the kiosk pulled"

# --- on a phone, brought by 张三 (TZ1001) ---
export NODE_DIR CHROMIUM BASE=$URL SLUG=tingyu REF=TZ1001 NAME=苏雨桐 PHONE=13900000031 SHOTS
pass=$(node "$HERE/signup.mjs" 2>"$WORK/node.err" | tail -n 1) || fail "the sign-up in chromium: $(tail -n 5 "$WORK/node.err")"
[ ${#pass} -ge 100 ] || fail "no pass read from the pass page's screenshot: \"$pass\""
member=$(sqlite3 "$HUBDB" "SELECT uid FROM members WHERE phone = '13900000031'")
[ -n "$member" ] || fail "the sign-up made no member at the hub"
hub_unserve

# --- at the door: the kiosk has not heard of her ---
expect_eq "$(sql "SELECT count(*) FROM members WHERE name LIKE '%雨桐%'")" 0 "the kiosk knows the new member before the scan"
start_x 800 480
start_kiosk --lang zh-Hans
scan_pass "$pass"
wait_log 'select(.event=="pass.valid" and .member_added==true)' 1
wait_log 'select(.event=="checkin.recorded" and .method=="scan")' 1
wait_log 'select(.event=="layout" and .screen=="welcome")' 1
shot signup-pass-welcome
expect_eq "$(sql "SELECT name FROM members m JOIN checkins c ON c.member_id = m.id")" "雨桐" "whom the kiosk welcomed"
stop_kiosk

# --- back online: the check-in is hers at the hub, and 张三 brought her ---
hub_serve
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync after the door"
expect_eq "$(sqlite3 "$HUBDB" "SELECT count(*) FROM checkins WHERE member_uid = '$member'")" 1 "her check-ins at the hub"
expect_eq "$(sqlite3 "$HUBDB" "SELECT b.code FROM referrals r JOIN members m ON m.rowid = r.member_rid
	JOIN members b ON b.rowid = r.referrer_rid WHERE m.uid = '$member'")" TZ1001 "who brought her"
expect_eq "$(sql "SELECT name || '|' || uid FROM members WHERE code = (SELECT code FROM members WHERE name = '苏雨桐')")" \
	"苏雨桐|$member" "the kiosk's member after the pull"

# --- revoked at the hub, pulled: refused ---
hub passes revoke --venue "$venue" --member "$member" || fail "passes revoke"
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync after the revocation"
hub_unserve
start_kiosk --lang zh-Hans
scan_pass "$pass"
wait_log 'select(.event=="pass.refused" and .reason=="revoked")' 1
wait_log 'select(.event=="layout" and .screen=="pass_refused")' 1
shot signup-pass-revoked
stop_kiosk
echo "PASS"
