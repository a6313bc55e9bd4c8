# What the shell tests share (tests/e2e/lib.sh and tests/sync/lib.sh source
# it): strict mode; a work folder, removed when the test passes and kept when
# it fails, with the tail of the test's log printed; the processes the test
# started ended on exit; fail, expect_eq and free_port.
#
# lib_start KIND sets WORK to a fresh /tmp/tingzi-KIND.XXXXXX and installs the
# exit trap. The sourcing library then names, in LIB_PIDS, the variables that
# hold the PIDs of its processes (ended in that order, those that are set),
# and in LIB_LOG, LIB_LOG_NAME and LIB_LOG_LINES the log to show on failure.
set -euo pipefail

LIB_PIDS=""
LIB_LOG=""
LIB_LOG_NAME="log"
LIB_LOG_LINES=30

lib_start() {
	WORK=$(mktemp -d "/tmp/tingzi-$1.XXXXXX")
	trap cleanup EXIT
}

cleanup() {
	local rc=$? var pid
	set +e # cleaning up what may already have ended
	for var in $LIB_PIDS; do
		pid=${!var:-}
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ $rc -ne 0 ]; then
		echo "---- $LIB_LOG_NAME (last $LIB_LOG_LINES lines) ----"
		[ -n "$LIB_LOG" ] && tail -n "$LIB_LOG_LINES" "$LIB_LOG" 2>/dev/null
		echo "work folder kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_eq GOT WANT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected \"$2\", got \"$1\""
}

# free_port: a TCP port nobody listens on, on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
