# Sync tests: a real tingzi-hub on loopback and kiosks as real database files,
# driven through the command line (no window needed). Sourced by
# tests/sync/test_*.sh with the tingzi and tingzi-hub binaries as $1 and $2;
# stands on tests/lib.sh (work folder, cleanup, fail, expect_eq, free_port).
#
# The hub's store is a SQLite file, or, when TINGZI_TEST_PG names a test
# cluster (tests/tools/pg_cluster.sh), a fresh PostgreSQL database of its own:
# HUBDB is what the hub's --db gets, and the test reads the store with hubsql,
# hub_store_made and hub_dump alone. The kiosks' databases are SQLite files on
# either backend.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TINGZI=$1
HUB=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib_start sync
HUBDB=$WORK/hub.db
PG_CLUSTER="bash $HERE/../tools/pg_cluster.sh"
if [ -n "${TINGZI_TEST_PG:-}" ]; then
	HUBDB=$($PG_CLUSTER newdb "$TINGZI_TEST_PG") || fail "no database from the test cluster in $TINGZI_TEST_PG"
fi
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

# on_pg: the hub's store is PostgreSQL.
on_pg() { [ -n "${TINGZI_TEST_PG:-}" ]; }

# hubsql SQL: the rows of SQL on the hub's store, columns joined by '|', NULL as
# nothing, one row a line, as sqlite3 prints them. SQL the two backends read
# alike: integers for truth values (CASE WHEN ... THEN 1 ELSE 0 END), no
# PRAGMA, no SQLite-only functions.
hubsql() {
	if on_pg; then
		psql -X -A -t -q -F '|' -v ON_ERROR_STOP=1 -d "$HUBDB" -c "$1"
	else
		sqlite3 "$HUBDB" "$1"
	fi
}

# hub_store_made: the hub has made its store (the file, or its tables in the database).
hub_store_made() {
	if on_pg; then
		[ "$(hubsql "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")" -gt 0 ]
	else
		[ -e "$HUBDB" ]
	fi
}

# hub_dump FILE: everything the hub's store holds, as SQL text.
hub_dump() {
	if on_pg; then
		pg_dump --data-only --no-owner -d "$HUBDB" >"$1"
	else
		sqlite3 "$HUBDB" .dump >"$1"
	fi
}

# A passing test's database leaves the cluster (its hub ended first); a failing
# one's stays there for a person to look into, with its URL printed.
sync_exit() {
	local rc=$? var pid
	set +e # a failed test's status is kept in rc; cleanup must run whatever it is
	if on_pg; then
		if [ $rc -eq 0 ]; then
			for var in $LIB_PIDS; do
				pid=${!var:-}
				[ -n "$pid" ] || continue
				kill "$pid" 2>/dev/null
				wait "$pid" 2>/dev/null
			done
			$PG_CLUSTER dropdb "$TINGZI_TEST_PG" "$HUBDB" >/dev/null 2>&1
		elif [ -n "$HUBDB" ]; then
			echo "hub database kept: $HUBDB"
		fi
	fi
	(exit $rc)
	cleanup
}
trap sync_exit EXIT

# hub_start [PORT]: the hub serving on loopback; waits until it answers.
# HUB_SERVE_ARGS (an array, may be unset): more options for serve.
hub_start() {
	PORT=${1:-${PORT:-$(free_port)}}
	"$HUB" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" ${HUB_SERVE_ARGS[@]+"${HUB_SERVE_ARGS[@]}"} 2>>"$HUBLOG" &
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
