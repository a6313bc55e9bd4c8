#!/usr/bin/env bash
# pg_cluster.sh — a throwaway PostgreSQL cluster for the hub's tests, made from
# Debian's postgresql-15 binaries (packaging/deps.sh test installs them).
#
#   pg_cluster.sh start DIR     initdb + start; makes the role tingzi_hub (LOGIN, not superuser,
#                               no CREATEDB); writes DIR/env (PGHOST=... PGPORT=... PGUSER=tingzi_hub).
#                               A cluster already running from DIR is stopped and made anew.
#   pg_cluster.sh newdb DIR [NAME]
#                               a new empty database owned by tingzi_hub; prints its URL:
#                               postgresql:///NAME?host=SOCKDIR&port=PORT&user=tingzi_hub
#   pg_cluster.sh dropdb DIR NAME|URL
#                               that database removed, its connections ended
#   pg_cluster.sh restart DIR [--down SECONDS] [--crash]
#                               stop (fast, or immediate with --crash: crash recovery on the way
#                               up), stay down SECONDS (default 0), start again; data kept
#   pg_cluster.sh stop DIR      stop and remove the data (TINGZI_PG_KEEP=1 keeps it); the server's
#                               log stays in DIR/postgresql.log
#   pg_cluster.sh status DIR    exit 0 when the cluster answers
#   pg_cluster.sh psql DIR [ARGS...]
#                               psql as the cluster's superuser (for a person looking in)
#
# No TCP: the server listens on a Unix socket only, in DIR, or, when DIR's path is too long for a
# socket address (108 bytes) or the server's user cannot reach DIR, in a /tmp/tingzi-pg.XXXXXX
# folder named in DIR/rundir. Run as root, the server runs as an unprivileged user
# (TINGZI_PG_USER, default nobody) that owns the data; only the processes started here are ever
# stopped (by pg_ctl, then by the postmaster's own pid). Local connections are trusted: the
# socket is mode 0700, reachable by the server's user and root alone.
# fsync stays on: the tests measure the durability a real deployment has.
set -euo pipefail

PGBIN=${TINGZI_PGBIN:-/usr/lib/postgresql/15/bin}
ADMIN=tingzi_admin
ROLE=tingzi_hub
SOCK_MAX=90 # DIR + "/.s.PGSQL.NNNNN" must fit sun_path (107 bytes and a NUL)

die() {
	echo "pg_cluster.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
DIR=$2
shift 2
[ -x "$PGBIN/pg_ctl" ] || die "no PostgreSQL binaries in $PGBIN (packaging/deps.sh test installs postgresql)"
# What the caller's environment may say about another server is not for this one.
unset PGDATA PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGPASSWORD PGSSLMODE

# The server's own commands run as RUN_USER when this runs as root (PostgreSQL refuses root).
as_user=()
RUN_USER=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	RUN_USER=${TINGZI_PG_USER:-nobody}
	id "$RUN_USER" >/dev/null 2>&1 || die "no user $RUN_USER to run the server as"
	as_user=(setpriv "--reuid=$(id -u "$RUN_USER")" "--regid=$(id -g "$RUN_USER")" --clear-groups --)
fi

# as_server CMD...: CMD as the server's user, from / (the caller's folder may be closed to it).
as_server() {
	(cd / && "${as_user[@]}" "$@")
}

# The folder holding data and socket: DIR itself, or the /tmp folder named in DIR/rundir.
run_dir() {
	if [ -s "$DIR/rundir" ]; then
		cat "$DIR/rundir"
	else
		echo "$DIR"
	fi
}

load_env() {
	[ -s "$DIR/env" ] || die "no cluster in $DIR (run: pg_cluster.sh start $DIR)"
	# shellcheck disable=SC1091
	. "$DIR/env"
	R=$PGHOST
	P=$PGPORT
}

# admin_sql SQL: one statement as the cluster's superuser, on the maintenance database.
admin_sql() {
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$R" -p "$P" -U "$ADMIN" -d postgres -c "$1"
}

# alive PID: the process exists and is not a zombie (an exited postmaster stays one until init,
# which may be slow, reaps it).
alive() {
	local st
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

postmaster_pid() {
	local r
	r=$(run_dir)
	[ -s "$r/data/postmaster.pid" ] || return 1
	head -n 1 "$r/data/postmaster.pid"
}

# running: a postmaster started from this DIR is alive.
running() {
	local pid
	pid=$(postmaster_pid) || return 1
	alive "$pid"
}

# server_stop MODE: pg_ctl stop in MODE, then immediate, then the postmaster and its children
# by their pids; returns once none of them is left.
server_stop() {
	local r pid kids i
	r=$(run_dir)
	running || return 0
	pid=$(postmaster_pid)
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')
	as_server "$PGBIN/pg_ctl" stop -D "$r/data" -m "$1" -w -t 20 -s >/dev/null 2>&1 ||
		as_server "$PGBIN/pg_ctl" stop -D "$r/data" -m immediate -w -t 10 -s >/dev/null 2>&1 || true
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# The children leave when their postmaster is gone; wait for each, and end any that does not.
	for i in $(seq 100); do
		local left=""
		for k in $pid $kids; do
			alive "$k" && left="$left $k"
		done
		[ -z "$left" ] && return 0
		# shellcheck disable=SC2086
		[ "$i" -eq 50 ] && kill -KILL $left 2>/dev/null
		sleep 0.1
	done
	die "PostgreSQL processes still running after stop:$left"
}

server_start() {
	local r
	r=$(run_dir)
	if ! as_server "$PGBIN/pg_ctl" start -D "$r/data" -l "$r/postgresql.log" -w -t 60 -s >/dev/null; then
		tail -n 20 "$r/postgresql.log" >&2 || true
		die "PostgreSQL did not start (log: $r/postgresql.log)"
	fi
}

# The server's log next to env, where a person looks for it, when the data lives in /tmp.
keep_log() {
	local r
	r=$(run_dir)
	[ "$r" = "$DIR" ] || cat "$r/postgresql.log" >"$DIR/postgresql.log" 2>/dev/null || true
}

cmd_stop() {
	local r
	[ -d "$DIR" ] || return 0
	r=$(run_dir)
	server_stop fast
	keep_log
	if [ "${TINGZI_PG_KEEP:-0}" != 1 ]; then
		rm -rf "$r/data"
		if [ "$r" != "$DIR" ]; then
			rm -rf "$r"
			rm -f "$DIR/rundir"
		fi
		rm -f "$DIR/env"
	fi
}

cmd_start() {
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	cmd_stop
	rm -rf "$DIR/data" "$DIR/rundir" "$DIR/env" "$DIR"/postgresql.log "$DIR"/.s.PGSQL.*
	local r=$DIR
	if [ -n "${as_user[*]}" ]; then
		chown "$RUN_USER:" "$DIR"
		as_server test -w "$DIR" || r=""
	fi
	if [ -z "$r" ] || [ ${#r} -gt $SOCK_MAX ]; then
		r=$(mktemp -d /tmp/tingzi-pg.XXXXXX)
		[ -z "${as_user[*]}" ] || chown "$RUN_USER:" "$r"
		echo "$r" >"$DIR/rundir"
	fi
	R=$r
	P=$((20000 + RANDOM % 30000)) # names the socket only: no TCP port is opened
	# --no-sync: initdb's files need not survive a power cut (the cluster is thrown away); the
	# server itself runs with fsync on.
	if ! as_server "$PGBIN/initdb" -D "$R/data" -U "$ADMIN" --auth=trust -E UTF8 --locale=C \
		--no-sync --no-instructions >"$R/initdb.log" 2>&1; then
		cat "$R/initdb.log" >&2
		die "initdb failed"
	fi
	cat >>"$R/data/postgresql.conf" <<EOF

# pg_cluster.sh: a test cluster on a Unix socket only
listen_addresses = ''
port = $P
unix_socket_directories = '$R'
unix_socket_permissions = 0700
max_connections = ${TINGZI_PG_MAX_CONNECTIONS:-200}
shared_buffers = ${TINGZI_PG_SHARED_BUFFERS:-64MB}
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 1GB
huge_pages = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
	server_start
	admin_sql "CREATE ROLE $ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" >/dev/null
	printf 'PGHOST=%s\nPGPORT=%s\nPGUSER=%s\n' "$R" "$P" "$ROLE" >"$DIR/env"
}

cmd_newdb() {
	load_env
	local name=${1:-}
	if [ -z "$name" ]; then
		name="t_$(date +%s%N)_$$_$RANDOM"
	fi
	[[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "a database name is lower-case letters, digits and _: $name"
	# WAL_LOG (PostgreSQL 15's default) copies template1 through the WAL: no checkpoint per
	# database, which keeps hundreds of them cheap.
	admin_sql "CREATE DATABASE $name OWNER $ROLE TEMPLATE template1" >/dev/null
	echo "postgresql:///$name?host=$R&port=$P&user=$ROLE"
}

cmd_dropdb() {
	load_env
	local name=${1:-}
	name=${name#postgresql:///}
	name=${name#postgres:///}
	name=${name%%\?*}
	[[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "not a test database: ${1:-}"
	admin_sql "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
}

cmd_restart() {
	local down=0 mode=fast
	while [ $# -gt 0 ]; do
		case $1 in
		--down) down=$2; shift 2 ;;
		--crash) mode=immediate; shift ;;
		*) usage ;;
		esac
	done
	load_env
	server_stop "$mode"
	sleep "$down"
	server_start
}

case $cmd in
start) cmd_start ;;
newdb) cmd_newdb "$@" ;;
dropdb) cmd_dropdb "$@" ;;
stop) cmd_stop ;;
restart) cmd_restart "$@" ;;
status)
	load_env
	"$PGBIN/pg_isready" -q -h "$R" -p "$P" -U "$ADMIN" -d postgres
	;;
psql)
	load_env
	exec "$PGBIN/psql" -X -h "$R" -p "$P" -U "$ADMIN" -d postgres "$@"
	;;
*) usage ;;
esac
