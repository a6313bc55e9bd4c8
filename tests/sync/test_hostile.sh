#!/usr/bin/env bash
# The hub under a hostile client (tests/sync/hostile.py, loopback only), with
# real kiosks syncing beside it:
# - memory before authentication: 60 pushes of 8 MiB with bad tokens held open
#   together, 8 MiB enrolment bodies (declared and chunked) and gzip bombs to
#   /v1/enroll for 5 s; every one refused (401, 413), and the hub's resident
#   memory stays within 64 MiB of its idle size (read from /proc);
# - a bad token's request with an 8 MiB body declared is answered 401 before
#   any body is sent;
# - 1 000 slow connections (slowloris headers, idle keep-alive, dripped
#   bodies) from 20 other loopback addresses, opened again as the hub closes
#   them: health answers within 1 s every time, two kiosks' check-ins all
#   reach the hub, and the hub closes requests past their deadline;
# - 2 000 bad tokens from one address: 30 answered 401 and logged, the rest
#   429 with Retry-After and summed up in one log line; a kiosk on another
#   address syncs on;
# - a URL with %0A cannot forge a log line;
# - the clock offset of a slow upload is measured when its headers arrived.
. "$(dirname "$0")/lib.sh"
HOSTILE="python3 $HERE/hostile.py"

venue=$(hub venues add "Teahouse" --tz Asia/Shanghai | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 20
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null

PORT=$(free_port)
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB) before it
# is reused, which would count as growth: the hub gets a small one.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1:thread_local_quarantine_size_kb=64" \
	"$HUB" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" --request-timeout 5 2>>"$HUBLOG" &
HPID=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break
	sleep 0.05
done
URL="http://127.0.0.1:$PORT"
for k in a b; do
	code=$(hub devices enroll-code "$venue" | tail -n 1)
	kiosk "$WORK/$k.db" enroll "$URL" "$code" --name "door $k" >/dev/null || fail "enroll $k"
	kiosk "$WORK/$k.db" sync --once >/dev/null || fail "first sync of $k"
done

# --- memory before authentication ---
$HOSTILE memory "$PORT" "$HPID" >"$WORK/memory.json" || fail "hostile memory run"
idle=$(jq .idle_kb "$WORK/memory.json")
peak=$(jq .peak_kb "$WORK/memory.json")
echo "hub memory: idle $idle KiB, peak $peak KiB under unauthenticated bodies and bombs (+$((peak - idle)) KiB)"
expect_eq "$(jq '.statuses.push_8MiB_bad_token["401"]' "$WORK/memory.json")" 60 "8 MiB pushes with a bad token answered 401"
expect_eq "$(jq '.statuses.enroll_8MiB_length["413"]' "$WORK/memory.json")" 1 "8 MiB enrolment answered 413"
expect_eq "$(jq '.statuses.enroll_8MiB_chunked["413"]' "$WORK/memory.json")" 1 "8 MiB chunked enrolment answered 413"
[ "$(jq '.statuses.enroll_gzip_bomb["413"]' "$WORK/memory.json")" -ge 1 ] || fail "gzip bombs answered 413"
[ $((peak - idle)) -le 65536 ] || fail "the hub grew by $((peak - idle)) KiB under unauthenticated requests (budget 64 MiB)"

# --- a bad token is answered before the body is sent ---
python3 - "$PORT" "$venue" <<'PY' || fail "a bad token with a declared 8 MiB body was not answered 401 at once"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.44", 0))
s.sendall(("POST /v1/venues/%s/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tzd1.%s.%s\r\n"
           "Content-Length: 8388608\r\n\r\n" % (sys.argv[2], "0" * 32, "a" * 64)).encode())
s.settimeout(1.0)
t = time.time()
line = s.recv(100).split(b"\r\n")[0]
print("answered without a body in %.0f ms: %s" % ((time.time() - t) * 1000, line.decode()))
sys.exit(0 if line.startswith(b"HTTP/1.1 401") else 1)
PY

# --- 1 000 slow connections while kiosks sync ---
$HOSTILE slow "$PORT" 1000 20 "$WORK/slow.json" &
SLOWPID=$!
sleep 3
worst=0
for i in $(seq 20); do
	t=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$URL/v1/health")
	[ "${t%% *}" = 200 ] || fail "health check $i under 1 000 slow connections: $t"
	worst=$(python3 -c "print(max($worst, ${t#* }))")
	if [ "$i" -le 5 ]; then
		kiosk "$WORK/a.db" checkin --code "M0000$i" >/dev/null || fail "check-in at a"
		kiosk "$WORK/b.db" checkin --code "M0001$i" >/dev/null || fail "check-in at b"
		kiosk "$WORK/a.db" sync --once >"$WORK/sync.out" || fail "kiosk a's sync under attack: $(cat "$WORK/sync.out")"
		kiosk "$WORK/b.db" sync --once >"$WORK/sync.out" || fail "kiosk b's sync under attack: $(cat "$WORK/sync.out")"
	fi
	sleep 0.5
done
echo "health under 1 000 slow connections: slowest of 20 answers in $worst s"
python3 -c "import sys; sys.exit(0 if $worst < 1.0 else 1)" || fail "health took $worst s"
wait "$SLOWPID" || fail "hostile slow run"
echo "slow connections: $(cat "$WORK/slow.json")"
[ "$(jq .closed_by_hub "$WORK/slow.json")" -gt 0 ] || fail "the hub closed no slow request past its deadline"
grep -q 'connections closed: a request took longer than 5 s' "$HUBLOG" || fail "no deadline line in the log"
n=$(hub checkins export --venue "$venue" --format json | jq length)
expect_eq "$n" 10 "check-ins at the hub after syncing under attack"

# --- bad tokens flood from one address ---
before=$(wc -l <"$HUBLOG")
$HOSTILE flood "$PORT" 2000 127.0.0.30 >"$WORK/flood.json" || fail "hostile flood run"
echo "flood: $(cat "$WORK/flood.json")"
expect_eq "$(jq '.statuses["401"]' "$WORK/flood.json")" 30 "bad tokens answered 401 before the limit"
expect_eq "$(jq '.statuses["429"]' "$WORK/flood.json")" 1970 "bad tokens answered 429 past the limit"
ra=$(jq '.retry_after | max' "$WORK/flood.json")
[ "$ra" -ge 1 ] && [ "$ra" -le 60 ] || fail "Retry-After $ra"
logged=$(tail -n +$((before + 1)) "$HUBLOG" | grep -c 'pull/members')
expect_eq "$logged" 30 "log lines for 2 000 bad tokens"
kiosk "$WORK/a.db" checkin --code M00006 >/dev/null || fail "check-in after the flood"
sync_until_clean "$WORK/a.db"

# --- a forged log line ---
curl -gs -o /dev/null "$URL/v1/%0Ahub:%20forged%20line"
grep -q '^hub: forged line' "$HUBLOG" && fail "a %0A in a URL forged a log line"
grep -qF 'GET /v1/\x0ahub: forged line 404' "$HUBLOG" || fail "the escaped request line is missing"

# --- a slow upload's clock offset ---
token=$(sqlite3 "$WORK/b.db" "SELECT value FROM settings WHERE key = 'hub_token'")
dev=$(sqlite3 "$WORK/b.db" "SELECT value FROM settings WHERE key = 'device_id'")
offset=$($HOSTILE slowpush "$PORT" "$token" "$venue" "$dev" 3) || fail "slow push"
echo "clock offset of a push whose body took 3 s: $offset ms"
[ "${offset#-}" -lt 1000 ] || fail "a slow upload shifted the offset by $offset ms"

hub_stop
grep -qE '^hub: 127\.0\.0\.30: 1970 requests refused \(429\) in a minute after 30 refusals' "$HUBLOG" ||
	fail "no summary line for the flood"
echo "log: $(wc -l <"$HUBLOG") lines, $(wc -c <"$HUBLOG") bytes in all"
echo "PASS"
