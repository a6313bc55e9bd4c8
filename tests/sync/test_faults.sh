#!/usr/bin/env bash
# Exactly once through a bad network: a proxy between kiosk and hub drops
# connections, loses replies after the hub committed, delays, answers 500 and
# 429, truncates replies and replays requests. The kiosk syncs until nothing
# waits; the hub then holds every check-in once and nothing else.
. "$(dirname "$0")/lib.sh"

venue=$(hub venues add "Faulty Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 3000
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub events add --venue "$venue" --title "Tea" --start "$(date -d '-1 hour' +%Y-%m-%dT%H:%M)" \
	--end "$(date -d '+3 hours' +%Y-%m-%dT%H:%M)" >/dev/null
hub_start
code=$(hub devices enroll-code "$venue" | grep -oE '[A-Za-z0-9_-]{8,64}' | tail -n 1)
kiosk "$WORK/k.db" enroll "http://127.0.0.1:$PORT" "$code" >/dev/null || fail "enroll"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "the first sync"

# the kiosk now talks to the hub only through the proxy
proxy_start drop,lost,delay,500,429,truncate,replay 0.6 7
sqlite3 "$WORK/k.db" "UPDATE settings SET value = 'http://127.0.0.1:$PROXY_PORT' WHERE key = 'hub_url'"
for part in 1 2 3; do
	codes "$WORK/c$part" $(((part - 1) * 1000 + 1)) $((part * 1000))
	kiosk "$WORK/k.db" checkin --code-file "$WORK/c$part" >/dev/null || fail "check-ins, part $part"
	# a few rounds against the faults, some of which fail
	for _ in 1 2 3; do kiosk "$WORK/k.db" sync --once >/dev/null || true; done
done
sync_until_clean "$WORK/k.db" 80
proxy_stop
for f in drop lost 500 429 truncate replay; do
	[ "$(jq -r ".\"$f\"" "$WORK/proxy-stats.json")" -ge 1 ] || fail "the proxy never did $f: $(cat "$WORK/proxy-stats.json")"
done

hub checkins export --venue "$venue" --format json | jq -r '.[].id' | sort >"$WORK/hub.ids"
ids_of_kiosk "$WORK/k.db" >"$WORK/kiosk.ids"
expect_eq "$(wc -l <"$WORK/kiosk.ids")" 3000 "check-ins at the kiosk"
expect_eq "$(sort -u "$WORK/hub.ids" | wc -l)" "$(wc -l <"$WORK/hub.ids")" "no check-in twice at the hub"
cmp -s "$WORK/hub.ids" "$WORK/kiosk.ids" || fail "the hub's check-ins are not the kiosk's"
expect_eq "$(sqlite3 "$WORK/k.db" 'SELECT count(*) FROM dead_letters')" 0 "dead letters"
echo "PASS faults: $(cat "$WORK/proxy-stats.json")"
