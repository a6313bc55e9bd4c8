#!/usr/bin/env bash
# Finding a name by pinyin initials on the on-screen keyboard: "sxx" finds
# 单雄信 (单 read shan) and "dxx" finds him too (单 read dan). 800x480.
. "$(dirname "$0")/lib.sh"
start_x 800 480
seed
start_kiosk --lang zh-Hant

tap checkin
tap name
tap_keys sxx
shot search-sxx
n=$(grep '^{' "$LOG" | jq -c 'select(.event=="layout" and .screen=="search") | [.buttons[] | select(.act=="pick")] | length' | tail -n 1)
expect_eq "$n" 1 "results for sxx"
tap backspace
tap backspace
tap backspace
tap_keys danxiong
n=$(grep '^{' "$LOG" | jq -c 'select(.event=="layout" and .screen=="search") | [.buttons[] | select(.act=="pick")] | length' | tail -n 1)
expect_eq "$n" 1 "results for danxiong"
shot search-danxiong
tap pick 0
wait_log 'select(.event=="checkin.recorded" and .method=="name")' 1
expect_eq "$(sql "SELECT m.name FROM checkins c JOIN members m ON m.id=c.member_id WHERE c.method='name'")" "单雄信" "member found by pinyin"
shot search-welcome
stop_kiosk
echo "PASS search"
