# Several hub nodes behind haproxy, on SQLite or on a throwaway PostgreSQL cluster, for the load
# scenarios (tests/load/run.sh) and the several-nodes tests (tests/nodes/test_nodes.sh). Sourced
# after tests/lib.sh and lib_start; sets up its own exit trap around tests/lib.sh's cleanup, which
# ends haproxy and the nodes by their pids and stops the PostgreSQL cluster when it started one.
#
#   load_init HUB                 the tingzi-hub binary; installs the exit trap
#   pg_up                         a cluster: $TINGZI_TEST_PG's (CTest's fixture) when it answers,
#                                 else one of its own in $WORK/pg; sets PG_DIR, PG_PID (postmaster)
#   pg_newdb                      a new empty database; prints its URL
#   pg_restart [ARGS]             pg_cluster.sh restart (--down S, --crash)
#   sql WHERE SQL                 one query on a hub database (a SQLite file or a URL), rows as a|b
#   node_start I WHERE [FLAGS]    node I (1..3): tingzi-hub serve on a free loopback port, its store
#                                 at WHERE; NODE_PORT[I], NODE_PID[I]; log $WORK/node<I>.log
#   node_stop I [SIGNAL]          (default TERM)
#   tls_make                      a self-signed certificate for 127.0.0.1: $WORK/tls/{cert,key,haproxy}.pem
#   haproxy_start I...            haproxy from packaging/haproxy.cfg on a free port (HAPROXY_PORT),
#                                 TLS, round-robin to nodes I...; waits until a node is up behind it
#   haproxy_stop
#   haproxy_wait_node I up|down   wait until haproxy's health checks see node I so (its admin socket)
LOAD_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOAD_ROOT=$(cd "$LOAD_HERE/../.." && pwd)
PG_CLUSTER=$LOAD_ROOT/tests/tools/pg_cluster.sh
PGBIN=${TINGZI_PGBIN:-/usr/lib/postgresql/15/bin}
declare -a NODE_PID=() NODE_PORT=()
HAPROXY_PID=""
PG_DIR=""
PG_OWN=0
PG_PID=""

load_init() {
	LOAD_HUB=$1
	trap load_cleanup EXIT
	# a kiosk's connection, a node's and haproxy's: a thousand kiosks need some thousand files
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

load_cleanup() {
	local rc=$? i var pid
	set +e
	# the test's own processes (a load run, a fault proxy) before the servers they talk to
	for var in $LIB_PIDS; do
		pid=${!var:-}
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		printf -v "$var" '%s' ""
	done
	if [ -n "$HAPROXY_PID" ]; then
		kill "$HAPROXY_PID" 2>/dev/null
		wait "$HAPROXY_PID" 2>/dev/null
	fi
	for i in "${!NODE_PID[@]}"; do
		[ -n "${NODE_PID[$i]}" ] || continue
		kill "${NODE_PID[$i]}" 2>/dev/null
		wait "${NODE_PID[$i]}" 2>/dev/null
	done
	if [ "$PG_OWN" = 1 ]; then
		bash "$PG_CLUSTER" stop "$PG_DIR" >/dev/null 2>&1
	fi
	if [ $rc -ne 0 ]; then
		for i in "${!NODE_PID[@]}"; do
			echo "---- node $i log (last 15 lines) ----"
			tail -n 15 "$WORK/node$i.log" 2>/dev/null
		done
		[ -s "$WORK/haproxy.log" ] && echo "---- haproxy log (last 10 lines) ----" && tail -n 10 "$WORK/haproxy.log"
	fi
	(exit $rc)
	cleanup
}

pg_postmaster() {
	local r=$PG_DIR
	[ -s "$PG_DIR/rundir" ] && r=$(cat "$PG_DIR/rundir")
	head -n 1 "$r/data/postmaster.pid"
}

pg_up() {
	if [ -n "${TINGZI_TEST_PG:-}" ] && bash "$PG_CLUSTER" status "$TINGZI_TEST_PG" 2>/dev/null; then
		PG_DIR=$TINGZI_TEST_PG
	else
		PG_DIR=$WORK/pg
		PG_OWN=1
		bash "$PG_CLUSTER" start "$PG_DIR" >"$WORK/pg-start.log" 2>&1 ||
			fail "cannot start a PostgreSQL cluster: $(tail -n 5 "$WORK/pg-start.log")"
	fi
	PG_PID=$(pg_postmaster)
}

pg_newdb() {
	bash "$PG_CLUSTER" newdb "$PG_DIR"
}

pg_restart() {
	bash "$PG_CLUSTER" restart "$PG_DIR" "$@"
	PG_PID=$(pg_postmaster)
}

# sql WHERE SQL
sql() {
	case $1 in
	postgres://* | postgresql://*) "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	*) sqlite3 "$1" "$2" ;;
	esac
}

# ids_in WHERE FILE: every check-in id the hub holds, sorted, into FILE.
ids_in() {
	case $1 in
	postgres://* | postgresql://*)
		"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "COPY (SELECT id FROM checkins) TO STDOUT" ;;
	*) sqlite3 "$1" "SELECT id FROM checkins" ;;
	esac | LC_ALL=C sort >"$2"
}

# serve_flags: what this hub's serve takes of the flags a node behind a proxy wants.
serve_flags() {
	local help
	help=$("$LOAD_HUB" serve --help 2>&1 || true)
	SERVE_EXTRA=(--per-address 0)
	if grep -q -- --trusted-proxy <<<"$help"; then
		SERVE_EXTRA+=(--trusted-proxy 127.0.0.1)
	fi
}

# node_start I WHERE [FLAGS...]
node_start() {
	local i=$1 where=$2 port
	shift 2
	[ -n "${SERVE_EXTRA+x}" ] || serve_flags
	port=${NODE_PORT[$i]:-$(free_port)}
	NODE_PORT[$i]=$port
	"$LOAD_HUB" serve --listen "127.0.0.1:$port" --db "$where" "${SERVE_EXTRA[@]}" "$@" \
		2>>"$WORK/node$i.log" &
	NODE_PID[$i]=$!
	local _
	for _ in $(seq 200); do
		curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && return 0
		kill -0 "${NODE_PID[$i]}" 2>/dev/null || fail "node $i exited: $(tail -n 3 "$WORK/node$i.log")"
		sleep 0.05
	done
	fail "node $i does not answer on port $port"
}

node_stop() {
	local i=$1
	[ -n "${NODE_PID[$i]:-}" ] || return 0
	kill "-${2:-TERM}" "${NODE_PID[$i]}" 2>/dev/null || true
	wait "${NODE_PID[$i]}" 2>/dev/null || true
	NODE_PID[$i]=""
}

tls_make() {
	mkdir -p "$WORK/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" >/dev/null 2>&1 ||
		fail "openssl could not make a certificate"
	cat "$WORK/tls/cert.pem" "$WORK/tls/key.pem" >"$WORK/tls/haproxy.pem"
	chmod 600 "$WORK/tls/haproxy.pem" "$WORK/tls/key.pem"
}

# haproxy_config PORT NODE... > FILE: packaging/haproxy.cfg for this machine's test: the frontend on
# 127.0.0.1:PORT with the test's certificate, its servers the given nodes, in the foreground, as
# the user running the test, logging to stdout, an admin socket in $WORK, the global maxconn within
# the open-file limit; with HAPROXY_PLAIN_PORT set, a second, plain HTTP bind on that port (for a
# test's fault proxy, which speaks no TLS). Everything else (timeouts, health checks, forwardfor, the nodes' maxconn)
# is the sample's own.
haproxy_config() {
	local port=$1 servers="" i maxconn
	shift
	# haproxy needs two files a connection: its global maxconn fits this machine's open-file limit
	maxconn=$(( $(ulimit -Hn) / 2 - 100 ))
	[ "$maxconn" -le 10000 ] || maxconn=10000
	for i in "$@"; do
		servers+="	server node$i 127.0.0.1:${NODE_PORT[$i]} check"$'\n'
	done
	awk -v bind="127.0.0.1:$port" -v crt="$WORK/tls/haproxy.pem" -v servers="$servers" \
		-v sock="$WORK/haproxy.sock" -v maxconn="$maxconn" -v plain="${HAPROXY_PLAIN_PORT:-}" '
		/^global/ { print; print "\tstats socket " sock " mode 600 level admin"; next }
		/^[ \t]*maxconn / && !seen_maxconn { print "\tmaxconn " maxconn; seen_maxconn = 1; next }
		/^[ \t]*(chroot|user|group|daemon)([ \t]|$)/ { next }
		/^[ \t]*log \/dev\/log/ { print "\tlog stdout format raw local0 info"; next }
		/^[ \t]*bind / {
			sub(/bind [^ \t]+/, "bind " bind)
			sub(/crt [^ \t]+/, "crt " crt)
			print
			if (plain) print "\tbind 127.0.0.1:" plain
			next
		}
		/^[ \t]*server / { if (!done) printf "%s", servers; done = 1; next }
		{ print }
	' "$LOAD_ROOT/packaging/haproxy.cfg"
}

# haproxy_start NODE...
haproxy_start() {
	[ -s "$WORK/tls/haproxy.pem" ] || tls_make
	HAPROXY_PORT=${HAPROXY_PORT:-$(free_port)}
	HAPROXY_NODES=("$@")
	haproxy_config "$HAPROXY_PORT" "$@" >"$WORK/haproxy.cfg"
	haproxy -c -q -f "$WORK/haproxy.cfg" >"$WORK/haproxy-check.log" 2>&1 ||
		fail "haproxy refuses the configuration made from packaging/haproxy.cfg: $(cat "$WORK/haproxy-check.log")"
	haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	HUB_URL=https://127.0.0.1:$HAPROXY_PORT
	local _
	for _ in $(seq 200); do
		curl -sf --cacert "$WORK/tls/cert.pem" "$HUB_URL/v1/health" >/dev/null 2>&1 && return 0
		kill -0 "$HAPROXY_PID" 2>/dev/null || fail "haproxy exited: $(tail -n 5 "$WORK/haproxy.log")"
		sleep 0.05
	done
	fail "haproxy does not answer on port $HAPROXY_PORT"
}

# haproxy_cmd CMD: a command on haproxy's admin socket; its answer on stdout.
haproxy_cmd() {
	python3 - "$WORK/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
PY
}

# haproxy_wait_node I up|down [SECONDS]
haproxy_wait_node() {
	local i=$1 want=$2 secs=${3:-30} state _
	for _ in $(seq $((secs * 10))); do
		# show servers state: ... srv_name srv_addr srv_op_state (2 running, 0 stopped) ...
		state=$(haproxy_cmd "show servers state tingzi_nodes" | awk -v n="node$i" '$4 == n { print $6 }')
		if { [ "$want" = up ] && [ "$state" = 2 ]; } || { [ "$want" = down ] && [ "$state" = 0 ]; }; then
			return 0
		fi
		sleep 0.1
	done
	fail "haproxy does not see node $i $want after $secs s (state \"$state\")"
}

haproxy_stop() {
	[ -n "$HAPROXY_PID" ] || return 0
	kill "$HAPROXY_PID" 2>/dev/null || true
	wait "$HAPROXY_PID" 2>/dev/null || true
	HAPROXY_PID=""
}
