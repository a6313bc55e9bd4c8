# Console tests: a real tingzi-hub on loopback serving its organizer console,
# with venues, accounts and data made through its command line, then driven by
# a browser (chromium through puppeteer-core), by python (console.py) or by
# curl. Sourced by tests/console/test_*.sh with the tingzi and tingzi-hub
# binaries as $1 and $2; stands on tests/lib.sh (work folder, cleanup, fail,
# expect_eq, free_port).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TINGZI=$1
HUB=$2
CONSOLE_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib_start console
HUBDB=$WORK/hub.db
HUBLOG=$WORK/hub.log
HPID=""
PORT=""
BASE=""
LIB_PIDS="HPID"
LIB_LOG=$HUBLOG
LIB_LOG_NAME="hub log"
LIB_LOG_LINES=40
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy
export PYTHONDONTWRITEBYTECODE=1
for t in curl sqlite3 python3 jq; do command -v $t >/dev/null || fail "$t is not installed (bash packaging/deps.sh test)"; done

hub() { "$HUB" --db "$HUBDB" "$@"; }
sql() { sqlite3 "$HUBDB" "$1"; }

# hub_start [ARGS...]: the hub serving on loopback at a free port (BASE is its
# address); waits until it answers. ARGS go to serve (--tls-cert ...). Webhooks
# a test makes point at this machine (a closed port), which only
# --webhooks-private allows: nothing of a test ever leaves the machine.
hub_start() {
	PORT=${PORT:-$(free_port)}
	BASE=http://127.0.0.1:$PORT
	"$HUB" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" --webhooks-private "$@" 2>>"$HUBLOG" &
	HPID=$!
	for _ in $(seq 200); do
		curl -sk "${BASE/http:/${HUB_SCHEME:-http}:}/v1/health" >/dev/null 2>&1 && return 0
		kill -0 "$HPID" 2>/dev/null || fail "the hub exited (see $HUBLOG)"
		sleep 0.05
	done
	fail "the hub does not answer on port $PORT"
}

# hub_stop: the hub ends as its service would (SIGTERM); under the sanitizers a
# report in its log (a leak at exit, undefined behaviour) fails the test.
hub_stop() {
	local rc=0
	kill -TERM "$HPID" 2>/dev/null || true
	wait "$HPID" 2>/dev/null || rc=$?
	HPID=""
	if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$HUBLOG"; then
		grep -E -A12 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$HUBLOG" | head -n 40 >&2
		fail "the hub's log has a sanitizer report"
	fi
	[ $rc -eq 0 ] || fail "the hub exited with status $rc on SIGTERM"
}

# venue_add NAME [--tz ZONE]: prints the new venue's id.
venue_add() {
	local id
	id=$(hub venues add "$@" 2>>"$WORK/cli.log" | grep -oE '^[0-9a-f]{32}' | head -n 1)
	[ -n "$id" ] || fail "venues add $1 printed no id"
	printf '%s' "$id"
}

# user_add EMAIL ROLE [--venue V]: prints the one-time set-up token of the new
# account (the t= of the set-up link `users add` prints).
user_add() {
	local email=$1 role=$2 out tok
	shift 2
	out=$(hub users add "$email" --role "$role" "$@" 2>&1) || fail "users add $email --role $role $*: $out"
	tok=$(printf '%s\n' "$out" | grep -oE '/setup\?t=[A-Za-z0-9_%-]+' | head -n 1 | sed 's/.*t=//')
	[ -n "$tok" ] || fail "users add $email printed no set-up link: $out"
	printf '%s' "$tok"
}

# members_csv FILE N [PREFIX]: N members with Chinese names, phones and codes PREFIX00001...
members_csv() {
	python3 - "$1" "$2" "${3:-M}" <<'PY'
import sys
names = "张王李赵刘陈杨黄周吴"
with open(sys.argv[1], "w") as f:
    f.write("name,phone,code\n")
    for i in range(1, int(sys.argv[2]) + 1):
        f.write("%s会员%05d,139%08d,%s%05d\n" % (names[i % 10], i, i, sys.argv[3], i))
PY
}

# The console's route table as `tingzi-hub console routes` prints it.
console_routes() {
	hub console routes
}

# py SCRIPT ARGS...: a python test in this folder, with console.py importable
# and the fixtures in the environment.
py() {
	local script=$1
	shift
	PYTHONPATH=$CONSOLE_HERE python3 "$CONSOLE_HERE/$script" "$@"
}
