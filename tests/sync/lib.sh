# Sync tests: a real tingzi-hub on loopback and kiosks as real database files,
# driven through the command line (no window needed). Sourced by
# tests/sync/test_*.sh with the tingzi and tingzi-hub binaries as $1 and $2;
# stands on tests/lib.sh (work folder, cleanup, fail, expect_eq, free_port).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TINGZI=$1
HUB=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib_start sync
HUBDB=$WORK/hub.db
HUBLOG=$WORK/hub.log
HPID=""
PPID_PROXY=""
PORT=""
LIB_PIDS="PPID_PROXY HPID"
LIB_LOG=$HUBLOG
LIB_LOG_NAME="hub log"
LIB_LOG_LINES=30
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy

hub() { "$HUB" --db "$HUBDB" "$@"; }

# hub_start [PORT]: the hub serving on loopback; waits until it answers.
hub_start() {
	PORT=${1:-${PORT:-$(free_port)}}
	"$HUB" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" 2>>"$HUBLOG" &
	HPID=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && return 0
		kill -0 "$HPID" 2>/dev/null || fail "the hub exited"
		sleep 0.05
	done
	fail "the hub does not answer on port $PORT"
}

# hub_stop [SIGNAL]
hub_stop() {
	kill "-${1:-TERM}" "$HPID" 2>/dev/null || true
	wait "$HPID" 2>/dev/null || true
	HPID=""
}

# proxy_start FAULTS RATE SEED: the fault proxy in front of the hub; sets PROXY_PORT.
proxy_start() {
	PROXY_PORT=$(free_port)
	python3 "$HERE/../fault_proxy.py" "$PROXY_PORT" "$PORT" --faults "$1" --rate "$2" --seed "$3" \
		--stats "$WORK/proxy-stats.json" >"$WORK/proxy.log" 2>&1 &
	PPID_PROXY=$!
	for _ in $(seq 100); do
		grep -q listening "$WORK/proxy.log" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "the fault proxy did not start"
}

proxy_stop() {
	kill "$PPID_PROXY" 2>/dev/null || true
	wait "$PPID_PROXY" 2>/dev/null || true
	PPID_PROXY=""
}

# kiosk DB ARGS...: the kiosk's command line on database DB.
kiosk() {
	local db=$1
	shift
	"$TINGZI" --db "$db" "$@" 2>>"$WORK/kiosk.log"
}

# members_csv FILE N: N members M00001.. with phones.
members_csv() {
	python3 - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("name,phone,code\n")
    for i in range(1, int(sys.argv[2]) + 1):
        f.write("会员%05d,139%08d,M%05d\n" % (i, i, i))
PY
}

# codes FILE FROM TO: member codes M<FROM>..M<TO>, one per line.
codes() {
	seq -f 'M%05g' "$2" "$3" >"$1"
}

# sync_until_clean DB [TRIES]: sync --once until nothing waits.
sync_until_clean() {
	local db=$1 tries=${2:-30} i
	for i in $(seq "$tries"); do
		if kiosk "$db" sync --once >"$WORK/sync.out" && grep -q ' 0 waiting$' "$WORK/sync.out"; then
			return 0
		fi
		sleep 0.2
	done
	fail "$db still has records waiting after $tries rounds: $(cat "$WORK/sync.out")"
}

ids_of_kiosk() {
	sqlite3 "$1" "SELECT id FROM checkins" | sort
}
