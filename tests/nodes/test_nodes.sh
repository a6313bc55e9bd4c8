#!/usr/bin/env bash
# test_nodes.sh TINGZI TINGZI_HUB LOADGEN — two hub nodes on one PostgreSQL database behind haproxy
# (packaging/haproxy.cfg, TLS on loopback): what a network of venues relies on when any node may
# answer any request.
#
#   1. one kiosk's pushes spread over both nodes stay exactly once: a real kiosk syncs through
#      haproxy behind a fault proxy that loses answers; a push stored by node 1 whose answer was
#      lost, sent again to node 2, is answered "duplicate" there; and one push body sent to both
#      nodes at the same moment, again and again, is stored once and answered "ok" by one node
#      and "duplicate" by the other
#   2. a node killed -9 in the middle of a load run (loadgen: 100 kiosks of 10 venues, 1000
#      check-ins queued on each): the kiosks retry, nothing is lost and nothing doubled (the
#      hub's rows against the ids the kiosks made)
#   3. PostgreSQL stopped at once (crash) and started again in the middle of a load run: the
#      nodes answer 503 meanwhile and their health check says why; a real kiosk keeps its queue;
#      afterwards every queue drains, 0 lost and 0 doubled
#   4. 400 concurrent redirects of a live code on both nodes pass its link's cap (50) never:
#      exactly 50 lead to that link, the rest to the next one
#   5. the client's address through haproxy: a kiosk address that keeps sending a bad token is
#      refused (429) on both nodes while another address is not; an X-Forwarded-For a client
#      writes itself counts for nothing, through haproxy or straight to a node
#
# The cluster is $TINGZI_TEST_PG's (CTest's fixture pg) when it runs, else one of its own.
# TINGZI_NODES_PARTS="2 4" runs only those parts (all by default).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TINGZI=$1
HUB=$2
LOADGEN=$3
. "$HERE/../lib.sh"
lib_start nodes
. "$HERE/../load/lib.sh"
load_init "$HUB"
LIB_LOG=$WORK/loadgen.err
LIB_LOG_NAME="loadgen's progress"
LIB_LOG_LINES=10
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy
PROXY_PID=""
LOAD_PID=""
PGR_PID=""
LIB_PIDS="PROXY_PID LOAD_PID PGR_PID"
PARTS=${TINGZI_NODES_PARTS:-1 2 3 4 5}
part() { [[ " $PARTS " == *" $1 "* ]]; }

pg_up
WHERE=$(pg_newdb)
hub() { "$HUB" --db "$WHERE" "$@"; }
hub venues list >/dev/null 2>"$WORK/open.log" || fail "the hub cannot open its PostgreSQL store: $(cat "$WORK/open.log")"

# one venue of 6000 members (M00001..), an event under way
python3 - "$WORK/members.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("name,phone,code\n")
    for i in range(1, 6001):
        f.write("Member %05d,139%08d,M%05d\n" % (i, i, i))
PY
VENUE=$(hub venues add "Two Nodes Teahouse" 2>/dev/null)
hub members import "$WORK/members.csv" --venue "$VENUE" >/dev/null
hub events add --venue "$VENUE" --title Evening --start "$(date -d '-1 hour' '+%Y-%m-%d %H:%M')" \
	--end "$(date -d '+6 hours' '+%Y-%m-%d %H:%M')" >/dev/null
# the load runs' network: 10 venues of 1000 members, 10 kiosks each
head -n 1001 "$WORK/members.csv" >"$WORK/members1000.csv"
LOAD_VENUES=()
for i in $(seq 10); do
	v=$(hub venues add "Reading Club $i" 2>/dev/null)
	hub members import "$WORK/members1000.csv" --venue "$v" >/dev/null
	LOAD_VENUES+=("$v")
done

node_start 1 "$WHERE"
node_start 2 "$WHERE"
HAPROXY_PLAIN_PORT=$(free_port)
haproxy_start 1 2
haproxy_wait_node 1 up
haproxy_wait_node 2 up
export TINGZI_HUB_CA=$WORK/tls/cert.pem

kiosk() {
	local db=$1
	shift
	"$TINGZI" --db "$db" "$@" 2>>"$WORK/kiosk.log"
}

# sync_until_clean DB URL_NOTE [TRIES]: sync --once until nothing waits.
sync_until_clean() {
	local db=$1 tries=${2:-60} _
	for _ in $(seq "$tries"); do
		if kiosk "$db" sync --once >"$WORK/sync.out" && grep -q ' 0 waiting$' "$WORK/sync.out"; then
			return 0
		fi
		sleep 0.3
	done
	fail "$db still has records waiting after $tries rounds: $(cat "$WORK/sync.out")"
}

# hub_ids_of DEVICE: the check-in ids the hub holds from one device, sorted.
hub_ids_of() {
	sql "$WHERE" "SELECT id FROM checkins WHERE device_id = '$1'" | LC_ALL=C sort
}

# exactly_once LABEL IDS_FILE DEVICE: the hub holds each id of the file once, and nothing else of
# that device.
exactly_once() {
	local label=$1 ids=$2 dev=$3 rows distinct
	rows=$(sql "$WHERE" "SELECT count(*) FROM checkins WHERE device_id = '$dev'")
	distinct=$(sql "$WHERE" "SELECT count(DISTINCT id) FROM checkins WHERE device_id = '$dev'")
	hub_ids_of "$dev" >"$WORK/hub.ids"
	LC_ALL=C sort "$ids" | cmp -s - "$WORK/hub.ids" ||
		fail "$label: the hub's check-ins of the device are not the ones it made ($(wc -l <"$ids") made, $rows stored, $(LC_ALL=C sort "$ids" | LC_ALL=C comm -23 - "$WORK/hub.ids" | wc -l) missing)"
	expect_eq "$rows" "$distinct" "$label: check-ins stored twice"
}

# ---- 1. one kiosk's pushes spread over both nodes ----
if part 1; then
echo "1. one kiosk's pushes over both nodes" >&2
K1=$WORK/k1.db
kiosk "$K1" enroll "$HUB_URL" "$(hub devices enroll-code "$VENUE" 2>/dev/null)" >/dev/null ||
	fail "the kiosk could not enrol through haproxy: $(tail -n 2 "$WORK/kiosk.log")"
sync_until_clean "$K1"
DEV1=$(sqlite3 "$K1" "SELECT value FROM settings WHERE key = 'device_id'")
seq -f 'M%05g' 1 6000 >"$WORK/codes1"
kiosk "$K1" checkin --code-file "$WORK/codes1" >/dev/null
# the kiosk reaches haproxy through a proxy that loses answers: the hub stored, the kiosk does
# not know, and its next try goes to the other node (round-robin)
PROXY_PORT=$(free_port)
python3 "$LOAD_ROOT/tests/fault_proxy.py" "$PROXY_PORT" "$HAPROXY_PLAIN_PORT" --faults lost \
	--rate 0.5 --seed 16 --stats "$WORK/proxy-stats.json" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do
	grep -q listening "$WORK/proxy.log" 2>/dev/null && break
	sleep 0.05
done
sqlite3 "$K1" "UPDATE settings SET value = 'http://127.0.0.1:$PROXY_PORT' WHERE key = 'hub_url'"
n0=$(sqlite3 "$K1" "SELECT count(*) FROM outbox")
expect_eq "$n0" 6000 "check-ins queued on the kiosk"
sync_until_clean "$K1" 100
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
PROXY_PID=""
lost=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("lost", 0))' "$WORK/proxy-stats.json")
[ "$lost" -gt 0 ] || fail "the fault proxy lost no answer: the retries were not tested"
sqlite3 "$K1" "SELECT id FROM checkins" >"$WORK/k1.ids"
expect_eq "$(wc -l <"$WORK/k1.ids")" 6000 "check-ins on the kiosk"
exactly_once "one kiosk over two nodes" "$WORK/k1.ids" "$DEV1"
expect_eq "$(sqlite3 "$K1" "SELECT count(*) FROM dead_letters")" 0 "the kiosk's dead letters"
pushes1=$(grep -c "push 200 .*device ${DEV1:0:8}:" "$WORK/node1.log" || true)
pushes2=$(grep -c "push 200 .*device ${DEV1:0:8}:" "$WORK/node2.log" || true)
[ "$pushes1" -gt 0 ] && [ "$pushes2" -gt 0 ] ||
	fail "the kiosk's pushes did not reach both nodes (node 1: $pushes1, node 2: $pushes2)"
dups_of() {
	grep -h "push 200 .*device ${DEV1:0:8}:" "$1" | sed -n 's/.* \([0-9]*\) duplicate,.*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}
dups1=$(dups_of "$WORK/node1.log")
dups2=$(dups_of "$WORK/node2.log")
dups=$((dups1 + dups2))
echo "   6000 check-ins, $lost answers lost; pushes answered on node 1: $pushes1, node 2: $pushes2;" \
	"check-ins answered duplicate on node 1: $dups1, node 2: $dups2" >&2
[ "$dups" -gt 0 ] || fail "no push was answered duplicate: no push's answer was lost"

# a push node 1 stored and whose answer was lost, sent again to node 2
K3=$WORK/k3.db
kiosk "$K3" enroll "$HUB_URL" "$(hub devices enroll-code "$VENUE" 2>/dev/null)" >/dev/null
sync_until_clean "$K3"
DEV3=$(sqlite3 "$K3" "SELECT value FROM settings WHERE key = 'device_id'")
seq -f 'M%05g' 1 1500 >"$WORK/codes3"
kiosk "$K3" checkin --code-file "$WORK/codes3" >/dev/null
PROXY_PORT=$(free_port)
python3 "$LOAD_ROOT/tests/fault_proxy.py" "$PROXY_PORT" "${NODE_PORT[1]}" --faults lost --rate 1 --seed 1 \
	--stats "$WORK/proxy3-stats.json" >"$WORK/proxy3.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do
	grep -q listening "$WORK/proxy3.log" 2>/dev/null && break
	sleep 0.05
done
sqlite3 "$K3" "UPDATE settings SET value = 'http://127.0.0.1:$PROXY_PORT' WHERE key = 'hub_url'"
if kiosk "$K3" sync --once >"$WORK/sync.out"; then
	fail "a round whose every answer was lost succeeded: $(cat "$WORK/sync.out")"
fi
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
PROXY_PID=""
expect_eq "$(sql "$WHERE" "SELECT count(*) FROM checkins WHERE device_id = '$DEV3'")" 1000 \
	"check-ins node 1 stored from the push whose answer was lost"
expect_eq "$(sqlite3 "$K3" "SELECT count(*) FROM outbox")" 1500 "the kiosk's queue after the lost answer"
sqlite3 "$K3" "UPDATE settings SET value = 'http://127.0.0.1:${NODE_PORT[2]}' WHERE key = 'hub_url'"
sync_until_clean "$K3"
grep -q "push 200 .*device ${DEV3:0:8}: 1000 check-ins .* 0 ok, 1000 duplicate," "$WORK/node2.log" ||
	fail "node 2 did not answer the batch node 1 had stored as duplicate: $(grep "device ${DEV3:0:8}:" "$WORK/node2.log" | tail -n 2)"
sqlite3 "$K3" "SELECT id FROM checkins" >"$WORK/k3.ids"
exactly_once "a push stored by node 1, sent again to node 2" "$WORK/k3.ids" "$DEV3"
echo "   a batch stored by node 1 whose answer was lost: answered 1000 duplicate by node 2, 1500 rows" >&2

# the same body to both nodes at once
code=$(hub devices enroll-code "$VENUE" 2>/dev/null)
TWIN_IDS=$WORK/twin.ids python3 "$HERE/twin_push.py" "${NODE_PORT[1]}" "${NODE_PORT[2]}" "$code" 40 250 \
	>"$WORK/twin.json" || fail "twin_push.py failed"
twin=$(cat "$WORK/twin.json")
echo "   twin pushes: $twin" >&2
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$twin" "$1"; }
expect_eq "$(field ok_once)" 10000 "ids answered ok by one node and duplicate by the other"
expect_eq "$(field ok_twice)" 0 "ids answered ok by both nodes"
DEVT=$(sql "$WHERE" "SELECT device_id FROM checkins WHERE id = '$(head -n 1 "$WORK/twin.ids")'")
exactly_once "one body on both nodes at once" "$WORK/twin.ids" "$DEVT"
fi

# load_start KIOSKS BACKLOG: loadgen in the background (LOAD_PID), its progress in $WORK/loadgen.err.
load_start() {
	local kiosks=$1 backlog=$2
	hub_codes "$kiosks"
	"$LOADGEN" --hub "$HUB_URL" --cacert "$WORK/tls/cert.pem" --codes "$WORK/codes" --kiosks "$kiosks" \
		--mode backlog --backlog "$backlog" --label "$LABEL" --ids-out "$WORK/load.ids" --time-limit 600 \
		>"$WORK/load.out" 2>"$WORK/loadgen.err" &
	LOAD_PID=$!
}

# hub_codes N: N enrolment codes, the load venues taken in turn.
hub_codes() {
	local i
	: >"$WORK/codes"
	for i in $(seq 0 $(($1 - 1))); do
		hub devices enroll-code "${LOAD_VENUES[$((i % ${#LOAD_VENUES[@]}))]}" 2>/dev/null >>"$WORK/codes"
	done
}

# wait_answered PERCENT: until loadgen's progress says that much of the backlog is answered.
wait_answered() {
	local pct=$1 line a t _
	for _ in $(seq 1200); do
		line=$(grep ' push ' "$WORK/loadgen.err" | tail -n 1 || true)
		if [[ $line =~ push\ +([0-9]+)/([0-9]+)\ answered ]]; then
			a=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
			[ "$t" -gt 0 ] && [ $((a * 100 / t)) -ge "$pct" ] && return 0
		fi
		kill -0 "$LOAD_PID" 2>/dev/null || fail "loadgen ended before $pct% was answered: $(tail -n 3 "$WORK/loadgen.err")"
		sleep 0.1
	done
	fail "loadgen did not reach $pct% answered"
}

# load_finish LABEL: loadgen's end; every check-in answered once, the hub's rows are the kiosks' ids.
load_finish() {
	local label=$1 rc=0 retries
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	grep '^BENCH' "$WORK/load.out" | grep -E '_(push_s|checkins_per_s|errors|duplicates|retry_duplicates|retries) ' >&2 || true
	[ $rc -eq 0 ] || fail "$label: loadgen: not every check-in answered exactly once: $(grep -E '_(errors|duplicates) ' "$WORK/load.out")"
	local rows distinct made
	rows=$(sql "$WHERE" "SELECT count(*) FROM checkins")
	distinct=$(sql "$WHERE" "SELECT count(DISTINCT id) FROM checkins")
	expect_eq "$rows" "$distinct" "$label: check-ins stored twice in the hub"
	made=$(wc -l <"$WORK/load.ids")
	ids_in "$WHERE" "$WORK/db.ids"
	local missing
	missing=$(LC_ALL=C sort "$WORK/load.ids" | LC_ALL=C comm -23 - "$WORK/db.ids" | wc -l)
	expect_eq "$missing" 0 "$label: check-ins the kiosks made that the hub lacks"
	expect_eq "$((rows - ROWS_BEFORE))" "$made" "$label: rows the load added against check-ins made"
	retries=$(sed -n "s/^BENCH ${LABEL}_retries \([0-9]*\) .*/\1/p" "$WORK/load.out")
	echo "   $label: $made check-ins, $((rows - ROWS_BEFORE)) rows, missing 0, doubled 0; retries $retries" >&2
	LOAD_RETRIES=$retries
}

# ---- 2. a node killed -9 in the middle of a load run ----
if part 2; then
echo "2. node 2 killed -9 under load" >&2
LABEL=kill9
ROWS_BEFORE=$(sql "$WHERE" "SELECT count(*) FROM checkins")
load_start 100 1000
wait_answered 20
kill -KILL "${NODE_PID[2]}"
wait "${NODE_PID[2]}" 2>/dev/null || true
NODE_PID[2]=""
echo "   node 2 killed at $(grep ' push ' "$WORK/loadgen.err" | tail -n 1 | sed 's/.*push  \([0-9]*\/[0-9]*\).*/\1/') answered" >&2
wait_answered 60
node_start 2 "$WHERE" # the same port: haproxy's checks bring it back
load_finish "node killed -9"
[ "$LOAD_RETRIES" -gt 0 ] || fail "no request was retried: the kill hit nothing in flight"
haproxy_wait_node 2 up
fi

# ---- 3. PostgreSQL crashed and started again in the middle of a load run ----
if part 3; then
echo "3. PostgreSQL stopped at once and started again under load" >&2
LABEL=pgcrash
K2=$WORK/k2.db
kiosk "$K2" enroll "$HUB_URL" "$(hub devices enroll-code "$VENUE" 2>/dev/null)" >/dev/null
sync_until_clean "$K2"
DEV2=$(sqlite3 "$K2" "SELECT value FROM settings WHERE key = 'device_id'")
seq -f 'M%05g' 1 500 >"$WORK/codes2"
kiosk "$K2" checkin --code-file "$WORK/codes2" >/dev/null
ROWS_BEFORE=$(sql "$WHERE" "SELECT count(*) FROM checkins")
load_start 100 1000
wait_answered 20
bash "$PG_CLUSTER" restart "$PG_DIR" --crash --down 6 >"$WORK/pg-restart.log" 2>&1 &
PGR_PID=$!
# while it is down: a node answers 503 with Retry-After, its health check says why, the kiosk keeps
# everything
health=""
for _ in $(seq 100); do
	health=$(curl -s -o "$WORK/health.json" -w '%{http_code}' "http://127.0.0.1:${NODE_PORT[1]}/v1/health" || true)
	[ "$health" != 200 ] && break
	sleep 0.1
done
[ "$health" = 503 ] || fail "node 1's health check answered $health while PostgreSQL is down (expected 503)"
grep -qi 'database' "$WORK/health.json" || fail "node 1's health check does not say why: $(cat "$WORK/health.json")"
echo "   health while down: $health $(cat "$WORK/health.json")" >&2
code=$(curl -s -D "$WORK/push.head" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $(sqlite3 "$K2" "SELECT value FROM settings WHERE key = 'hub_token'")" \
	--data '{}' "http://127.0.0.1:${NODE_PORT[1]}/v1/venues/$VENUE/push" || true)
[ "$code" = 503 ] || fail "a push while PostgreSQL is down was answered $code (expected 503)"
grep -qi '^retry-after:' "$WORK/push.head" || fail "the 503 while PostgreSQL is down has no Retry-After"
if kiosk "$K2" sync --once >"$WORK/sync.out"; then
	fail "the kiosk's sync succeeded while PostgreSQL was down: $(cat "$WORK/sync.out")"
fi
expect_eq "$(sqlite3 "$K2" "SELECT count(*) FROM outbox")" 500 "the kiosk's queue while the hub's database is down"
wait "$PGR_PID" || fail "pg_cluster.sh restart failed: $(cat "$WORK/pg-restart.log")"
PGR_PID=""
PG_PID=$(pg_postmaster)
load_finish "PostgreSQL crashed and restarted"
[ "$LOAD_RETRIES" -gt 0 ] || fail "no request was retried while PostgreSQL was down"
sync_until_clean "$K2"
sqlite3 "$K2" "SELECT id FROM checkins" >"$WORK/k2.ids"
exactly_once "a kiosk's queue across the database's restart" "$WORK/k2.ids" "$DEV2"
fi

# ---- 4. concurrent redirects on both nodes and a live code's cap ----
if part 4; then
echo "4. 400 concurrent redirects, a link capped at 50" >&2
hub links add --venue "$VENUE" https://example.org/capped --label Capped --cap 50 --slug captest >/dev/null 2>&1
hub links add --venue "$VENUE" https://example.org/next --label Next --slug captest >/dev/null 2>&1
python3 - "${NODE_PORT[1]}" "${NODE_PORT[2]}" >"$WORK/redirects.json" <<'PY'
import http.client, json, sys, threading
ports = [int(sys.argv[1]), int(sys.argv[2])]
where = {}
lock = threading.Lock()
go = threading.Barrier(200)

def worker(k):
    go.wait()
    for j in range(2):
        port = ports[(k + j) % 2]
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/j/captest")
        r = c.getresponse()
        r.read()
        key = "%d %s" % (r.status, r.getheader("Location", ""))
        with lock:
            where[key] = where.get(key, 0) + 1
        c.close()

ts = [threading.Thread(target=worker, args=(k,)) for k in range(200)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(where))
PY
echo "   $(cat "$WORK/redirects.json")" >&2
capped=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("302 https://example.org/capped", 0))' "$WORK/redirects.json")
next=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("302 https://example.org/next", 0))' "$WORK/redirects.json")
expect_eq "$capped" 50 "redirects to the capped link"
expect_eq "$next" 350 "redirects to the next link"
fi
# ---- 5. the client's address through haproxy ----
if part 5; then
echo "5. X-Forwarded-For from haproxy only" >&2
# bad_push FROM [CURL ARGS]: a push with a token no device has, from loopback address FROM; its status
bad_push() {
	local from=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --interface "$from" --cacert "$WORK/tls/cert.pem" -X POST \
		-H 'Authorization: Bearer tzd1.00000000000000000000000000000000.0000000000000000000000000000000000000000000000000000000000000000' \
		-H 'Content-Type: application/json' --data '{}' "$@" || true
}
# a refused request counts against its address on the node that refused it (30 a minute); round
# robin gives each node half: 64 refusals are over 30 on both
for _ in $(seq 64); do
	bad_push 127.3.0.5 "$HUB_URL/v1/venues/$VENUE/push" >/dev/null
done
a=$(bad_push 127.3.0.5 "$HUB_URL/v1/venues/$VENUE/push")
b=$(bad_push 127.3.0.5 "$HUB_URL/v1/venues/$VENUE/push")
expect_eq "$a $b" "429 429" "the 65th and 66th refused pushes from one kiosk address, through haproxy (one on each node)"
c=$(bad_push 127.3.0.6 "$HUB_URL/v1/venues/$VENUE/push")
expect_eq "$c" 401 "a bad token from another address, through haproxy"
c=$(bad_push 127.3.0.6 "$HUB_URL/v1/venues/$VENUE/push" -H 'X-Forwarded-For: 127.3.0.5')
d=$(bad_push 127.3.0.6 "$HUB_URL/v1/venues/$VENUE/push" -H 'X-Forwarded-For: 127.3.0.5')
expect_eq "$c $d" "401 401" "a client's own X-Forwarded-For naming a refused address, through haproxy"
c=$(bad_push 127.3.0.7 "http://127.0.0.1:${NODE_PORT[1]}/v1/venues/$VENUE/push" -H 'X-Forwarded-For: 127.3.0.5')
expect_eq "$c" 401 "an X-Forwarded-For from an address that is not the trusted proxy, straight to a node"
fi
echo "PASS: two nodes on PostgreSQL behind haproxy" >&2
