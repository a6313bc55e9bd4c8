#!/usr/bin/env bash
# Webhooks from a real hub to a real receiver on loopback (allowed with
# --webhooks-private; refused without it): 10 000 check-ins made at a kiosk
# and synced give 10 000 checkin.created messages, each signed and verified
# by the receiver, none missing, in order; the receiver down for a while and
# back: everything delivered late, in order; the hub killed -9 while it
# delivers: nothing lost (duplicates are allowed, counted, and the receiver
# keeps each message once); a 410 turns the subscription off.
. "$(dirname "$0")/lib.sh"

RSTATE=$WORK/receiver
mkdir -p "$RSTATE"
RPID=""
LIB_PIDS="$LIB_PIDS RPID"

stats() { curl -sf "http://127.0.0.1:$RPORT/stats"; }
# wait_unique N SECONDS: until the receiver holds N messages of checkin.created
wait_unique() {
	local deadline=$(($(date +%s) + $2)) got
	while :; do
		got=$(stats | jq '.by_type["checkin.created"] // 0')
		[ "$got" -ge "$1" ] && return 0
		[ "$(date +%s)" -lt $deadline ] || fail "the receiver has $got checkin.created messages, not $1, after $2 s: $(stats | jq -c 'del(.ids)'); $(hub webhooks deliveries "$sub" --limit 3 2>&1)"
		sleep 0.2
	done
}

# --- a venue, its members, a kiosk ---
venue=$(hub venues add "听雨茶馆" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 10000
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null || fail "members import"

# --- the subscription: refused for a loopback URL without the operator's leave ---
python3 "$HERE/webhook_receiver.py" "$RSTATE/port" "$RSTATE" &
RPID=$!
for _ in $(seq 100); do [ -s "$RSTATE/port" ] && break; sleep 0.05; done
RPORT=$(cat "$RSTATE/port")
if hub webhooks add --venue "$venue" --url "http://127.0.0.1:$RPORT/hook" >"$WORK/add.out" 2>"$WORK/add.err"; then
	fail "a loopback webhook URL was taken without --webhooks-private"
fi
grep -q private "$WORK/add.err" || fail "the refusal does not say why: $(cat "$WORK/add.err")"
hub webhooks add --venue "$venue" --url "http://localhost:$RPORT/hook" --events "checkin.created,no.such" \
	>/dev/null 2>"$WORK/add.err" && fail "an unknown event type was taken"
grep -q 'no.such' "$WORK/add.err" || fail "the refusal does not name the type: $(cat "$WORK/add.err")"
hub webhooks add --venue "$venue" --url "http://127.0.0.1:$RPORT/hook" --events checkin.created,checkin.reversed \
	--webhooks-private >"$WORK/add.out" || fail "webhooks add"
sub=$(sed -n 1p "$WORK/add.out")
secret=$(sed -n 2p "$WORK/add.out")
case $secret in whsec_*) ;; *) fail "no secret printed: $(cat "$WORK/add.out")" ;; esac
# the receiver checks with the secret the hub made
echo "$secret" >"$RSTATE/secret"

HUB_SERVE_ARGS=(--webhooks-private)
hub_start
K=$WORK/k.db
code=$(hub devices enroll-code "$venue" | tail -n 1)
kiosk "$K" enroll "http://127.0.0.1:$PORT" "$code" --name door >/dev/null || fail "enroll"
kiosk "$K" sync --once >/dev/null || fail "first sync"
# times in the venue's zone
start=$(TZ=Asia/Shanghai date -d '-30 minutes' '+%Y-%m-%d %H:%M')
end=$(TZ=Asia/Shanghai date -d '+3 hours' '+%Y-%m-%d %H:%M')
hub events add --venue "$venue" --title "周末茶话会" --start "$start" --end "$end" >/dev/null || fail "events add"
kiosk "$K" sync --once >/dev/null || fail "sync (event)"

expect_eq "$(sqlite3 "$K" "SELECT count(*) FROM events")" 1 "events the kiosk pulled"
# --- 6 000 check-ins: every one delivered, signed, once, in order ---
codes "$WORK/c1" 1 6000
kiosk "$K" checkin --code-file "$WORK/c1" >/dev/null || fail "checkin (6000)"
sync_until_clean "$K"
wait_unique 6000 120
[ "$(stats | jq .bad)" = 0 ] || fail "messages whose signature the receiver refused: $(stats | jq -c 'del(.ids)')"
[ "$(stats | jq .in_order)" = true ] || fail "messages came out of order"
[ "$(stats | jq .phones)" = 0 ] || fail "a message carried a phone number"

# --- a second subscription, for members and the clock's events: members imported, an event under way ---
hub webhooks add --venue "$venue" --url "http://127.0.0.1:$RPORT/hook" --events member.created,event.started,link.expiring,device.offline \
	--webhooks-private >"$WORK/add2.out" || fail "webhooks add (members)"
sed -n 2p "$WORK/add2.out" >>"$RSTATE/secret"
printf 'name,phone,code\n新会员甲,13700000001,N001\n新会员乙,13700000002,N002\n' >"$WORK/new.csv"
hub members import "$WORK/new.csv" --venue "$venue" >/dev/null || fail "members import (2 new)"
for _ in $(seq 100); do
	[ "$(stats | jq '.by_type["member.created"] // 0')" = 2 ] && break
	sleep 0.1
done
expect_eq "$(stats | jq '.by_type["member.created"] // 0')" 2 "member.created messages for 2 members imported"

# --- the receiver down; 2 000 more check-ins; back up: all of them, late, in order ---
echo down >"$RSTATE/mode"
codes "$WORK/c2" 6001 8000
kiosk "$K" checkin --code-file "$WORK/c2" >/dev/null || fail "checkin (2000)"
sync_until_clean "$K"
sleep 2
hub webhooks deliveries "$sub" --limit 1 >"$WORK/deliveries.out"
grep -Eq 'failed +503' "$WORK/deliveries.out" || fail "no failed attempt kept while the receiver was down: $(cat "$WORK/deliveries.out")"
[ "$(stats | jq '.by_type["checkin.created"]')" = 6000 ] || fail "messages while the receiver was down"
echo ok >"$RSTATE/mode"
wait_unique 8000 90
[ "$(stats | jq .in_order)" = true ] || fail "messages came out of order after the receiver came back"

# --- the hub killed -9 while it delivers: nothing lost ---
codes "$WORK/c3" 8001 10000
kiosk "$K" checkin --code-file "$WORK/c3" >/dev/null || fail "checkin (2000 more)"
sync_until_clean "$K"
for _ in $(seq 200); do
	[ "$(stats | jq '.by_type["checkin.created"]')" -gt 8050 ] && break
	sleep 0.02
done
hub_stop KILL
# while it is down: a link that ends tomorrow, the kiosk last seen an hour ago (as if it had gone quiet), and a
# check-in undone (as a kiosk's reversal record marks it): the restarted hub tells of all three
hub links add --venue "$venue" "https://t.me/+tingyu-week" --label "本周群" --expires +1d >/dev/null || fail "links add"
hubsql "UPDATE devices SET last_seen_ms = last_seen_ms - 3600000" >/dev/null
hubsql "UPDATE checkins SET reversed = 1 WHERE id = (SELECT min(id) FROM checkins)" >/dev/null
hub_start "$PORT"
wait_unique 10000 90
expect_eq "$(stats | jq '.by_type["checkin.created"]')" 10000 "checkin.created messages the receiver keeps (once each)"
# the restarted hub's clock told of the event under way, the link and the quiet kiosk; the undone check-in told
for _ in $(seq 100); do
	[ "$(stats | jq '[.by_type["event.started","link.expiring","device.offline","checkin.reversed"] // 0] | add')" = 4 ] && break
	sleep 0.1
done
expect_eq "$(stats | jq -c '[.by_type["event.started","link.expiring","device.offline","checkin.reversed"]]')" \
	"[1,1,1,1]" "event.started, link.expiring, device.offline, checkin.reversed messages"
echo "duplicates after kill -9: $(stats | jq .duplicates)"
# each check-in the hub holds, and no other, was told of
hubsql "SELECT id FROM checkins ORDER BY id" >"$WORK/hub_ids"
stats | jq -r '.ids[]' | sort >"$WORK/told_ids"
sort -o "$WORK/hub_ids" "$WORK/hub_ids"
expect_eq "$(wc -l <"$WORK/hub_ids")" 10000 "check-ins at the hub"
cmp -s "$WORK/hub_ids" "$WORK/told_ids" || fail "the check-ins told of are not the hub's: $(diff "$WORK/hub_ids" "$WORK/told_ids" | head -5)"

# --- a 410: the subscription is turned off, and says why ---
echo gone >"$RSTATE/mode"
printf 'M00001\n' >"$WORK/c4"
hub events add --venue "$venue" --title "第二场" --start "$start" --end "$end" >/dev/null || fail "events add (2)"
kiosk "$K" sync --once >/dev/null || fail "sync (event 2)"
kiosk "$K" checkin --code-file "$WORK/c4" >/dev/null || fail "checkin (after 410)"
sync_until_clean "$K"
expect_eq "$(hubsql "SELECT count(*) FROM checkins")" 10001 "check-ins at the hub after the second event's"
for _ in $(seq 100); do
	hub webhooks list --venue "$venue" | grep -q 'OFF: the receiver answered 410' && break
	sleep 0.1
done
hub webhooks list --venue "$venue" | grep -q 'OFF: the receiver answered 410' ||
	fail "a 410 did not turn the subscription off: $(hub webhooks list --venue "$venue")"
hub webhooks deliveries "$sub" --limit 1 | grep -Eq 'disabled +410' ||
	fail "the 410 is not in the deliveries: $(hub webhooks deliveries "$sub" --limit 1)"
# on again from where it stood: the check-in told at the 410 goes out now
echo ok >"$RSTATE/mode"
hub webhooks enable "$sub" 2>/dev/null || fail "webhooks enable"
wait_unique 10001 30
hub webhooks list --venue "$venue" | grep -q OFF && fail "still off after enable: $(hub webhooks list --venue "$venue")"
sub2=$(sed -n 1p "$WORK/add2.out")
hub webhooks remove "$sub2" 2>/dev/null || fail "webhooks remove"
expect_eq "$(hub webhooks list --venue "$venue" | wc -l)" 1 "subscriptions after one is removed"
hub webhooks remove "$sub2" 2>"$WORK/rm.err" && fail "a removed subscription removed again"
grep -q "no webhook" "$WORK/rm.err" || fail "removing it again does not say why: $(cat "$WORK/rm.err")"
echo "PASS"
