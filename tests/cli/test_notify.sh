#!/usr/bin/env bash
# The kiosk speaks systemd's service protocol: READY=1 once its first frame is
# on screen, WATCHDOG=1 every half of WATCHDOG_USEC while its loop turns, and
# STOPPING=1 when SIGTERM ends it. A listener on a unix datagram socket stands
# in for systemd.
set -euo pipefail
TINGZI=$1
WORK=$(mktemp -d /tmp/tingzi-notify.XXXXXX)
LPID=""
KPID=""
trap '[ -n "$KPID" ] && kill "$KPID" 2>/dev/null; [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 - "$WORK/notify.sock" "$WORK/got" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
t0 = time.monotonic()
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        out.write("%.3f %s\n" % (time.monotonic() - t0, msg))
PY
LPID=$!
for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.05; done
"$TINGZI" --db "$WORK/k.db" demo >/dev/null 2>&1 || fail "demo"
NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=1000000 "$TINGZI" --db "$WORK/k.db" --windowed \
	2>"$WORK/kiosk.log" &
KPID=$!
sleep 3.2
kill "$KPID"
wait "$KPID" || fail "the kiosk exited with $?"
KPID=""
sleep 0.2
ready=$(grep -c ' READY=1$' "$WORK/got" || true)
pings=$(grep -c ' WATCHDOG=1$' "$WORK/got" || true)
[ "$ready" -eq 1 ] || fail "READY=1 $ready times: $(cat "$WORK/got")"
# every 0.5 s for about 3 s
[ "$pings" -ge 4 ] || fail "only $pings watchdog pings in 3 s: $(cat "$WORK/got")"
[ "$(tail -n 1 "$WORK/got" | cut -d' ' -f2)" = STOPPING=1 ] || fail "the last message is not STOPPING=1"
# the pings are spread out, not a burst: no two within 0.3 s
awk '$2 == "WATCHDOG=1" { if (n && $1 - last < 0.3) bad = 1; last = $1; n++ } END { exit bad }' "$WORK/got" ||
	fail "watchdog pings too close together: $(cat "$WORK/got")"
echo "PASS notify: READY once, $pings watchdog pings in 3.2 s, STOPPING at the end"
