# End-to-end helpers: a real kiosk in a real X server (Xvfb), driven with
# xdotool like a member would (taps; a scanner is fast typing ending in Enter),
# checked in the database (sqlite3), in the structured log (jq) and in
# screenshots (import). Sourced by tests/e2e/test_*.sh with the tingzi binary
# and the fixtures folder as $1 and $2; stands on tests/lib.sh (work folder,
# cleanup, fail, expect_eq, free_port).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TINGZI=$1
FIXTURES=$2
lib_start e2e
SHOTS=${TINGZI_E2E_SHOTS:-$WORK/shots}
mkdir -p "$SHOTS"
DB=$WORK/tingzi.db
LOG=$WORK/kiosk.log
XPID=""
KPID=""
HPID="" # a hub some tests start
LIB_PIDS="KPID HPID XPID"
LIB_LOG=$LOG
LIB_LOG_NAME="kiosk log"
LIB_LOG_LINES=40
export SDL_AUDIODRIVER=dummy

# hub_serve: tingzi-hub ($HUB_BIN) serving $HUBDB on 127.0.0.1:$PORT (with
# --key-file $KEYFILE when the test set one), its pid in HPID; waits until it
# answers. hub_unserve: it stops, as if the kiosk's network went away.
hub_serve() {
	"$HUB_BIN" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" ${KEYFILE:+--key-file "$KEYFILE"} \
		2>>"$WORK/hub.log" &
	HPID=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && return 0
		kill -0 "$HPID" 2>/dev/null || fail "the hub exited"
		sleep 0.05
	done
	fail "the hub did not answer"
}
hub_unserve() {
	kill "$HPID"
	wait "$HPID" || true
	HPID=""
}

# start_x WIDTH HEIGHT: a fresh Xvfb on a free display.
start_x() {
	local n
	for n in $(seq 91 140); do
		[ -e /tmp/.X$n-lock ] || [ -e /tmp/.X11-unix/X$n ] && continue
		Xvfb :$n -screen 0 "$1x$2x24" -nolisten tcp >/dev/null 2>&1 &
		XPID=$!
		export DISPLAY=:$n
		for _ in $(seq 50); do
			xdpyinfo >/dev/null 2>&1 && return 0
			kill -0 $XPID 2>/dev/null || break
			sleep 0.1
		done
		XPID=""
	done
	fail "could not start Xvfb"
}

# seed: a database with the fixture members and an event happening now.
seed() {
	"$TINGZI" --db "$DB" members import "$(dirname "${BASH_SOURCE[0]}")/../../assets/demo/members.csv" >/dev/null
	local start end
	start=$(date -d '-1 hour' +%Y-%m-%dT%H:%M)
	end=$(date -d '+3 hours' +%Y-%m-%dT%H:%M)
	"$TINGZI" --db "$DB" events add --title "周末茶话会" --start "$start" --end "$end" >/dev/null
	"$TINGZI" --db "$DB" venue set-name "听雨茶馆" >/dev/null
}

# start_kiosk [ARGS]: the kiosk fullscreen on the X display; waits for the roster.
start_kiosk() {
	: >"$LOG"
	TINGZI_LOG_LAYOUT=1 "$TINGZI" --db "$DB" --result-timeout 600 "$@" 2>>"$LOG" &
	KPID=$!
	wait_log 'select(.event=="roster.ready")' 1 20
	wait_log 'select(.event=="layout" and .screen=="home")' 1 10
	# Until the window is mapped, X delivers no input to it.
	xdotool search --sync --onlyvisible --pid "$KPID" >/dev/null
	xdotool mousemove 5 5
	sleep 0.3
}

# stop_kiosk: end the kiosk as its service would (SIGTERM); it must exit cleanly.
stop_kiosk() {
	kill "$KPID"
	local rc=0
	wait "$KPID" || rc=$?
	KPID=""
	[ $rc -eq 0 ] || fail "the kiosk exited with status $rc"
}

# count FILTER: how many log lines match a jq filter.
count() {
	grep '^{' "$LOG" | jq -c "$1" 2>/dev/null | wc -l
}

# wait_log FILTER N [SECONDS]: until at least N log lines match.
wait_log() {
	local deadline=$(($(date +%s) + ${3:-10}))
	while [ "$(count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -lt $deadline ] || fail "timed out waiting for $2 x $1"
		kill -0 "$KPID" 2>/dev/null || fail "the kiosk exited"
		sleep 0.05
	done
}

# poll_log FILTER N SECONDS: like wait_log, but returns 1 on timeout.
poll_log() {
	local deadline=$(($(date +%s) + $3))
	while [ "$(count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -lt $deadline ] || return 1
		sleep 0.05
	done
}

# layouts: the number of frames drawn so far (to wait for the next one).
frames() {
	count 'select(.event=="layout")'
}

# tap ACTION [ARG]: tap the centre of that button on the last frame drawn.
tap() {
	local before xy
	before=$(frames)
	xy=$(grep '^{' "$LOG" | jq -c 'select(.event=="layout")' | tail -n 1 |
		jq -r --arg a "$1" --argjson g "${2:-null}" \
			'[.buttons[] | select(.act==$a and ($g==null or .arg==$g))] | last |
			 select(.) | "\(.x + (.w/2|floor)) \(.y + (.h/2|floor))"')
	[ -n "$xy" ] || fail "no button \"$1 ${2:-}\" on screen $(screen)"
	xdotool mousemove $xy click 1
	wait_log 'select(.event=="layout")' $((before + 1)) 10
}

# screen: the screen on the last frame.
screen() {
	grep '^{' "$LOG" | jq -r 'select(.event=="layout") | .screen' | tail -n 1
}

# key_letters TEXT: tap on-screen keys one by one.
tap_keys() {
	local s=$1 i c
	for ((i = 0; i < ${#s}; i++)); do
		c=$(printf '%d' "'${s:i:1}")
		tap key "$c"
	done
}

# scan CODE: what a wedge scanner does: the code in a burst (2 ms/key) and Enter.
# A scanner's keys come steadily; xdotool on a busy machine can stall for more
# than the 30 ms that ends a burst (a signed pass is 119 keys), so where it may
# (as root) it types at real-time priority.
scan() {
	if chrt -f 10 true 2>/dev/null; then
		chrt -f 10 xdotool type --delay 2 "$1"$'\n'
	else
		xdotool type --delay 2 "$1"$'\n'
	fi
}

# scan_pass TEXT: scan a pass until the kiosk reads it whole. On a loaded
# machine xdotool or Xvfb can stall longer than the 30 ms that ends a burst,
# and 119 keys give them the chance: the kiosk then reads pieces (unknown
# codes, nothing stored, which is checked), and the pass is scanned again.
scan_pass() {
	local try passes unknown
	for try in 1 2 3; do
		passes=$(count 'select(.event|test("^pass[.]"))')
		unknown=$(count 'select(.event=="checkin.unknown")')
		scan "$1"
		for _ in $(seq 200); do
			[ "$(count 'select(.event|test("^pass[.]"))')" -gt "$passes" ] && break
			[ "$(count 'select(.event=="checkin.unknown")')" -gt "$unknown" ] && break
			sleep 0.05
		done
		# the rest of a burst cut in two comes within a moment: an unknown code among it says it was
		sleep 0.3
		[ "$(count 'select(.event=="checkin.unknown")')" -gt "$unknown" ] || return 0
		echo "scan_pass: the pass was read in pieces (try $try); scanning again" >&2
		tap dismiss
		sleep 0.3
	done
	fail "the pass was never read whole"
}

shot() {
	import -window root "$SHOTS/$1.png"
}

sql() {
	sqlite3 "$DB" "$1"
}

# decode NAME: the one QR code in screenshot NAME, exactly as encoded.
decode() {
	local out n
	out=$(zbarimg --quiet --raw -Sdisable -Sqrcode.enable "$SHOTS/$1.png" 2>/dev/null) ||
		fail "no QR code could be read in $1.png"
	n=$(printf '%s\n' "$out" | wc -l)
	[ "$n" -eq 1 ] || fail "$1.png holds $n QR codes, not one"
	printf '%s' "$out"
}

# wait_qr LINK_ID [KIND]: until that link's QR has been drawn, then let the
# frame reach the screen.
wait_qr() {
	wait_log "select(.event==\"qr.shown\" and .link==$1 and .kind==\"${2:-join}\")" 1 15
	sleep 0.4
}
