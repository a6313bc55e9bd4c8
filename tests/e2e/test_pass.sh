#!/usr/bin/env bash
# Signed member passes at a kiosk that has been offline since the pass was
# issued, with a real tingzi-hub on loopback: the kiosk pulled its venue's key
# once; the hub then issues passes (a new member, and one the kiosk knows);
# scanned at the kiosk (a scanner is fast typing), the new member is added
# and welcomed by the pass's greeting, the known one checked in as by code;
# a forged pass, another venue's and one signed by a key the kiosk has not
# pulled are refused, each with its screen and log event. Synced, the
# check-ins count for the hub's members; revoked at the hub and pulled, the
# pass is refused. In portrait, 1080x1920.
. "$(dirname "$0")/lib.sh"

HUB_BIN=$(dirname "$TINGZI")/tingzi-hub
[ -x "$HUB_BIN" ] || {
	echo "SKIP: no tingzi-hub beside $TINGZI"
	exit 77
}
HUBDB=$WORK/hub.db
KEYFILE=$WORK/pass.key
hub() { "$HUB_BIN" --db "$HUBDB" --key-file "$KEYFILE" "$@" 2>>"$WORK/hub.log"; }
# pass_of VENUE MEMBER: the pass text the hub issues (the line of pass characters)
pass_of() {
	hub passes issue --venue "$1" --member "$2" | grep -E '^[0-9A-Z$%*+./:-]{100,120}$' | head -n 1
}

"$HUB_BIN" key-file new "$KEYFILE" >/dev/null 2>>"$WORK/hub.log" || fail "key-file new"
venue=$(hub venues add "听雨茶馆" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
other=$(hub venues add "别处书店" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
[ -n "$venue" ] && [ -n "$other" ] || fail "venues add"
printf 'name,phone,code,tier,expires\n张三,13800005678,TZ1001,gold,2030-12-31\n李四,13900001234,TZ1002,,\n' >"$WORK/members.csv"
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null || fail "hub members import"
printf 'name,phone,code\n赵六,13600002222,B001\n' >"$WORK/other.csv"
hub members import "$WORK/other.csv" --venue "$other" >/dev/null || fail "hub members import (other venue)"
hub venues rotate-key "$venue" >/dev/null || fail "rotate-key"
hub venues rotate-key "$other" >/dev/null || fail "rotate-key (other venue)"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
hub_serve

# --- the kiosk enrolls and pulls once: members, and the venue's key ---
seed
code=$(hub devices enroll-code "$venue" | tail -n 1)
"$TINGZI" --db "$DB" enroll "$URL" "$code" --name door >/dev/null 2>>"$LOG" || fail "enroll"
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync"
expect_eq "$(sql "SELECT count(*) FROM pass_keys")" 1 "keys the kiosk pulled"

# --- from now on the kiosk is offline; at the hub a member joins and passes are issued ---
hub_unserve
printf 'name,phone,code,tier,expires\n王小明,13700003333,,,2025-01-31\n' >"$WORK/new.csv"
hub members import "$WORK/new.csv" --venue "$venue" >/dev/null || fail "hub members import (new member)"
new_uid=$(sqlite3 "$HUBDB" "SELECT uid FROM members WHERE phone='13700003333'")
new_pass=$(pass_of "$venue" "$new_uid")
[ -n "$new_pass" ] || fail "no pass for the new member: $(tail -n 5 "$WORK/hub.log")"
new_code=$(sqlite3 "$HUBDB" "SELECT code FROM members WHERE phone='13700003333'")
case $new_code in TZP*) ;; *) fail "the new member's code is \"$new_code\", not a pass code TZP<n>" ;; esac
known_pass=$(pass_of "$venue" TZ1002)
other_pass=$(pass_of "$other" B001)
[ -n "$known_pass" ] && [ -n "$other_pass" ] || fail "passes issue"
# one character changed among the first ones: the signature's (the fields are the number's low digits, and
# 44^k keeps a number's low 2k bits: a change there could make another venue's pass, refused as that)
forged=${known_pass:0:10}$([ "${known_pass:10:1}" = A ] && echo B || echo A)${known_pass:11}
expect_eq "$(sql "SELECT count(*) FROM members WHERE code='$new_code'")" 0 "the kiosk does not know the new member"

start_x 1080 1920
start_kiosk --lang zh-Hans

# the new member's pass: added from the pass, checked in, welcomed by the pass's greeting
scan_pass "$new_pass"
wait_log 'select(.event=="pass.valid" and .member_added==true)' 1
wait_log 'select(.event=="checkin.recorded" and .method=="scan")' 1
wait_log 'select(.event=="layout" and .screen=="welcome")' 1
shot pass-new-member
expect_eq "$(sql "SELECT name || '|' || provisional FROM members WHERE code='$new_code'")" "小明|1" "the member the pass brought"
expect_eq "$(sql "SELECT count(*) FROM checkins c JOIN members m ON m.id=c.member_id WHERE m.code='$new_code'")" 1 "check-ins of the new member"
# the pass said the membership ended: checked in all the same, flagged, and the welcome says so
expect_eq "$(sql "SELECT m.expires || '|' || c.expired FROM checkins c JOIN members m ON m.id=c.member_id WHERE m.code='$new_code'")" \
	"2025-01-31|1" "the new member's expiry and the check-in's flag"
tap dismiss
# the same pass again: already checked in, nothing added
scan_pass "$new_pass"
wait_log 'select(.event=="checkin.already")' 1
expect_eq "$(sql "SELECT count(*) FROM members WHERE code='$new_code'")" 1 "members after the second scan"
expect_eq "$(sql "SELECT count(*) FROM checkins")" 1 "check-ins after the second scan"
tap dismiss

# a member the kiosk knows: checked in as by code, no one added
members_before=$(sql "SELECT count(*) FROM members")
scan_pass "$known_pass"
wait_log 'select(.event=="pass.valid" and .member_added==false)' 1
wait_log 'select(.event=="layout" and .screen=="welcome")' 2
expect_eq "$(sql "SELECT count(*) FROM checkins c JOIN members m ON m.id=c.member_id WHERE m.code='TZ1002'")" 1 "check-ins of the known member"
expect_eq "$(sql "SELECT count(*) FROM members")" "$members_before" "members after a known member's pass"
tap dismiss

# refusals: each its own screen and event, nothing stored
refused() { # refused PASS REASON
	local n
	n=$(count "select(.event==\"pass.refused\" and .reason==\"$2\")")
	scan_pass "$1"
	wait_log "select(.event==\"pass.refused\" and .reason==\"$2\")" $((n + 1))
	wait_log 'select(.event=="layout" and .screen=="pass_refused")' "$(($(count 'select(.event=="pass.refused")')))"
	shot "pass-$2"
	tap dismiss
}
refused "$forged" forged
refused "$other_pass" wrong_venue
hub venues rotate-key "$venue" >/dev/null || fail "rotate-key (second)"
rotated_pass=$(pass_of "$venue" TZ1001)
refused "$rotated_pass" unknown_key
expect_eq "$(sql "SELECT count(*) FROM checkins")" 2 "check-ins after the refusals (and any pieces of a pass)"
stop_kiosk

# --- back online: the check-ins count for the hub's members ---
hub_serve
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync after the event"
expect_eq "$(sql "SELECT count(*) FROM outbox")" 0 "records left to upload"
hub checkins export --venue "$venue" --format json >"$WORK/checkins.json" || fail "checkins export"
expect_eq "$(jq -s --arg u "$new_uid" '[flatten[] | select(.member==$u)] | length' "$WORK/checkins.json")" 1 \
	"the hub's check-ins of the member who came with a pass"
# the kiosk now holds the hub's own record of them: full name, not provisional
expect_eq "$(sql "SELECT name || '|' || provisional || '|' || uid FROM members WHERE code='$new_code'")" "王小明|0|$new_uid" \
	"the kiosk's member after the pull"
expect_eq "$(sql "SELECT count(*) FROM pass_keys")" 2 "keys after the rotation was pulled"

# --- revoked at the hub, pulled: the pass is refused; the rotated key's pass is now valid ---
hub passes revoke --venue "$venue" --member TZ1002 >/dev/null || fail "passes revoke"
"$TINGZI" --db "$DB" sync --once >/dev/null 2>>"$LOG" || fail "sync after the revocation"
hub_unserve
start_kiosk --lang zh-Hans
refused "$known_pass" revoked
scan_pass "$rotated_pass"
wait_log 'select(.event=="pass.valid")' 1
wait_log 'select(.event=="checkin.recorded")' 1
expect_eq "$(sql "SELECT count(*) FROM checkins c JOIN members m ON m.id=c.member_id WHERE m.code='TZ1001'")" 1 "check-ins of the rotated key's pass"
stop_kiosk
echo "PASS"
