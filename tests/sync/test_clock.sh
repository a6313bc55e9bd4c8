#!/usr/bin/env bash
# A kiosk whose clock is five years behind (libfaketime) checks members in and
# syncs. Nothing is refused; the hub keeps the raw device time, records the
# device's offset, and the corrected times land within minutes of now, on
# today's date, so the drop-in visits count for the right day.
. "$(dirname "$0")/lib.sh"
command -v faketime >/dev/null || fail "faketime is not installed (packaging/deps.sh test installs it)"
OFF="-1826d"
# libfaketime is preloaded; under AddressSanitizer its runtime then is not first, which is fine here
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

venue=$(hub venues add "Clockless Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 50
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub_start
code=$(hub devices enroll-code "$venue" | grep -oE '[A-Za-z0-9_-]{8,64}' | tail -n 1)
faketime -f "$OFF" "$TINGZI" --db "$WORK/k.db" enroll "http://127.0.0.1:$PORT" "$code" >/dev/null 2>&1 || fail "enroll"
faketime -f "$OFF" "$TINGZI" --db "$WORK/k.db" sync --once >/dev/null 2>&1 || fail "the first sync"
codes "$WORK/c" 1 20
faketime -f "$OFF" "$TINGZI" --db "$WORK/k.db" checkin --code-file "$WORK/c" >/dev/null 2>&1 || fail "check-ins"
# the kiosk believes it is five years ago
raw_year=$(sqlite3 "$WORK/k.db" "SELECT strftime('%Y', max(wall_ms) / 1000, 'unixepoch') FROM checkins")
expect_eq "$raw_year" "$(($(date +%Y) - 5))" "the kiosk's own year"
faketime -f "$OFF" "$TINGZI" --db "$WORK/k.db" sync --once >"$WORK/sync.out" 2>&1 || fail "sync: $(cat "$WORK/sync.out")"
grep -q ' 0 waiting$' "$WORK/sync.out" || fail "records left: $(cat "$WORK/sync.out")"

hub checkins export --venue "$venue" --format json >"$WORK/export.json"
expect_eq "$(jq length "$WORK/export.json")" 20 "check-ins at the hub"
now=$(($(date +%s) * 1000))
# raw kept, offset about five years, corrected within 10 minutes of now
jq -e --argjson now "$now" 'all(.[]; (.wall_ms < $now - 1500 * 86400000) and
	(.offset_ms > 1800 * 86400000) and ((.corrected_ms - $now) | fabs < 600000))' "$WORK/export.json" >/dev/null ||
	fail "times at the hub: $(jq -c '.[0]' "$WORK/export.json")"
# the drop-ins count for today at the venue, not five years ago
today=$(date +%Y-%m-%d)
expect_eq "$(jq -r '[.[].day] | unique | join(",")' "$WORK/export.json")" "$today" "the days of the visits"
echo "PASS clock: 20 check-ins five years off, corrected to $today"
