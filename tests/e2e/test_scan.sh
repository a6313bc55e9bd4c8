#!/usr/bin/env bash
# A member scans their code at the door: one row, one welcome; a second scan
# is "already checked in" and adds nothing. A person typing at the same time
# is not mistaken for a scanner, and an over-long burst is refused.
. "$(dirname "$0")/lib.sh"
start_x 1024 600
seed
start_kiosk
shot scan-home

scan TZ1001
wait_log 'select(.event=="checkin.recorded" and .method=="scan")' 1
wait_log 'select(.event=="layout" and .screen=="welcome")' 1
shot scan-welcome
expect_eq "$(sql "SELECT count(*) FROM checkins c JOIN members m ON m.id=c.member_id WHERE m.code='TZ1001' AND c.method='scan'")" 1 "check-in rows after one scan"
expect_eq "$(sql "SELECT count(*) FROM outbox WHERE kind='checkin'")" 1 "outbox rows after one scan"
id=$(grep '^{' "$LOG" | jq -r 'select(.event=="checkin.recorded") | .id')
expect_eq "$(sql "SELECT count(*) FROM checkins WHERE id='$id'")" 1 "the logged id is the stored id"

tap dismiss
scan TZ1001
wait_log 'select(.event=="checkin.already")' 1
wait_log 'select(.event=="layout" and .screen=="already")' 1
shot scan-already
expect_eq "$(sql "SELECT count(*) FROM checkins")" 1 "rows after a second scan"

# A person types slowly on a keyboard at home: that is a name search, not a scan.
tap dismiss
xdotool type --delay 180 "zs"
wait_log 'select(.event=="layout" and .screen=="search")' 1
expect_eq "$(count 'select(.event=="checkin.unknown")')" 0 "slow typing is not a scan"

# A burst far too long for any member code is refused, and nothing is stored.
scan "$(printf 'X%.0s' $(seq 300))"
wait_log 'select(.event=="scan.rejected" and .reason=="too_long")' 1
expect_eq "$(sql "SELECT count(*) FROM checkins")" 1 "rows after an over-long burst"

# No full phone number ever reaches the log (11 digits on their own, not
# inside a record id's hex digits).
if grep -E '(^|[^0-9a-f])1[3-9][0-9]{9}([^0-9a-f]|$)' "$LOG"; then fail "a full phone number is in the log"; fi
stop_kiosk
echo "PASS scan"
