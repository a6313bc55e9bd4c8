#!/usr/bin/env bash
# A walk-in: an unknown card is "not recognised", the member registers with a
# phone and a pinyin name, and is saved as a provisional member, checked in.
. "$(dirname "$0")/lib.sh"
start_x 1280 800
seed
start_kiosk --lang en

scan CARD-0000-UNKNOWN
wait_log 'select(.event=="checkin.unknown")' 1
wait_log 'select(.event=="layout" and .screen=="unknown")' 1
shot walkin-unknown
tap register
tap_keys 13700001234
tap ok
tap_keys "li"
tap key 32
tap_keys "lei"
shot walkin-name
tap ok
wait_log 'select(.event=="register.recorded")' 1
wait_log 'select(.event=="checkin.recorded" and .method=="walkin" and .visit==1)' 1
shot walkin-welcome
expect_eq "$(sql "SELECT name || '|' || provisional FROM members WHERE phone='13700001234'")" "Li Lei|1" "the walk-in member"
expect_eq "$(sql "SELECT count(*) FROM checkins c JOIN members m ON m.id=c.member_id WHERE m.phone='13700001234' AND c.method='walkin'")" 1 "the walk-in's check-in"
expect_eq "$(sql "SELECT count(*) FROM outbox WHERE kind='member'")" 1 "the walk-in goes to the outbox"
# The new member is findable right away by name.
tap dismiss
wait_log 'select(.event=="roster.ready" and .members==41)' 1 20
tap checkin
tap name
tap_keys ll
n=$(grep '^{' "$LOG" | jq -c 'select(.event=="layout" and .screen=="search") | [.buttons[] | select(.act=="pick")] | length' | tail -n 1)
[ "$n" -ge 1 ] || fail "the walk-in is not found by name"
stop_kiosk
echo "PASS walkin"
