#!/usr/bin/env bash
# The phone-digits path: a unique last-4 checks in at once; digits shared by
# three members show a list with masked phones to pick from. Portrait screen.
. "$(dirname "$0")/lib.sh"
start_x 1080 1920
seed
start_kiosk

# Unique digits: 刘洋 (13810003351).
tap checkin
tap phone
tap_keys 3351
shot phone-keypad
tap ok
wait_log 'select(.event=="checkin.recorded" and .method=="phone")' 1
expect_eq "$(sql "SELECT m.name FROM checkins c JOIN members m ON m.id=c.member_id WHERE c.method='phone'")" "刘洋" "member checked in by phone"
shot phone-welcome

# Shared digits 5678: 张三, 李四, 王小明.
tap dismiss
tap checkin
tap phone
tap_keys 5678
tap ok
wait_log 'select(.event=="checkin.ambiguous" and .matches==3)' 1
expect_eq "$(screen)" pick "screen after shared digits"
shot phone-pick
rows=$(grep '^{' "$LOG" | jq -c 'select(.event=="layout" and .screen=="pick") | [.buttons[] | select(.act=="pick")] | length' | tail -n 1)
expect_eq "$rows" 3 "rows in the pick list"
tap pick 1
wait_log 'select(.event=="checkin.recorded")' 2
expect_eq "$(sql "SELECT count(*) FROM checkins WHERE method='phone'")" 2 "phone check-ins"
stop_kiosk
echo "PASS phone"
