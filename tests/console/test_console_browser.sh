#!/usr/bin/env bash
# The console in a real browser (Debian's chromium, driven by puppeteer-core)
# against a real hub, with a real kiosk window beside it under Xvfb: the owner
# opens the set-up link `tingzi-hub users add` printed and chooses a password;
# signs out and in; imports a members CSV with one bad row (the page names its
# line, nothing is stored) and then the corrected file; creates an event running
# now; makes an enrolment code on the Kiosks page, which the kiosk enrolls
# with; a member scans in at the kiosk (xdotool, a scanner's burst) and the
# event page, left open, shows the count within 15 s of the check-in reaching
# the hub; staff undo it on the kiosk (staff mode, PIN) and the page shows it
# undone; the live-code poster, printed to PDF and as poster.png, decodes to
# the live address; after sign-out the pages send to /login. Screenshots of
# the main pages at 390x844 and 1440x900, in zh-Hans and en, are kept in
# $TINGZI_CONSOLE_OUT/browser. The steps are in test_console_browser.mjs.
. "$(dirname "$0")/lib.sh"
for t in node npm Xvfb xdotool xdpyinfo zbarimg pdftoppm; do
	command -v $t >/dev/null || fail "$t is not installed (bash packaging/test.sh installs it)"
done
CHROMIUM=${TINGZI_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "chromium is not installed at $CHROMIUM (apt-get install chromium; packaging/test.sh does)"
NODE_DIR=${TINGZI_CONSOLE_NODE:-$WORK/node}
bash "$CONSOLE_HERE/node_setup.sh" "$NODE_DIR" || fail "puppeteer-core could not be installed into $NODE_DIR"
OUT=${TINGZI_CONSOLE_OUT:-$WORK/out}/browser
rm -rf "$OUT"
mkdir -p "$OUT"

# the kiosk's window, and the X server it is shown on (display :57 unless taken)
XPID=""
KIOSK_PIDFILE=$WORK/kiosk.pid
stop_extra() {
	local pid
	pid=$(cat "$KIOSK_PIDFILE" 2>/dev/null || true)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 0.3
	[ -n "$XPID" ] && kill "$XPID" 2>/dev/null && wait "$XPID" 2>/dev/null
	true
}
# cleanup reads the test's status from $?: keep it through stop_extra
stop_then_cleanup() {
	local rc=$?
	set +e
	stop_extra
	(exit $rc)
	cleanup
}
trap stop_then_cleanup EXIT
start_x() {
	local n
	for n in ${TINGZI_CONSOLE_DISPLAY:-57} $(seq 150 180); do
		[ -e /tmp/.X$n-lock ] || [ -e /tmp/.X11-unix/X$n ] && continue
		Xvfb :$n -screen 0 1024x600x24 -nolisten tcp >/dev/null 2>&1 &
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

# the hub: a venue made on its command line, an owner with a set-up link
TZ_VENUE=Asia/Shanghai
venue=$(venue_add "听雨茶馆" --tz "$TZ_VENUE")
hub_start
out=$(hub users add owner@example.org --role owner --public-url "$BASE" 2>&1) || fail "users add: $out"
setup=$(printf '%s\n' "$out" | grep -oE 'https?://[^ ]+/setup\?t=[A-Za-z0-9_-]+' | head -n 1)
[ -n "$setup" ] || fail "users add printed no set-up link: $out"
case $setup in "$BASE"/setup\?t=*) ;; *) fail "the set-up link $setup is not on the hub's --public-url $BASE" ;; esac

# the kiosk's database: its staff PIN and name (it enrolls during the test)
KDB=$WORK/k.db
PIN=482915
printf '%s\n' "$PIN" | "$TINGZI" --db "$KDB" staff set-pin 2>>"$WORK/kiosk-cli.log" || fail "staff set-pin"
"$TINGZI" --db "$KDB" venue set-name "听雨茶馆" >/dev/null 2>>"$WORK/kiosk-cli.log" || fail "venue set-name"
start_x

export BASE HUBDB WORK OUT TINGZI KDB PIN CHROMIUM NODE_DIR KIOSK_PIDFILE
export SETUP_URL=$setup VENUE=$venue OWNER=owner@example.org
# local times in the venue's zone, as a person there types them
export EVENT_START=$(TZ=$TZ_VENUE date -d '-1 hour' +%Y-%m-%dT%H:%M)
export EVENT_END=$(TZ=$TZ_VENUE date -d '+3 hours' +%Y-%m-%dT%H:%M)
node "$CONSOLE_HERE/test_console_browser.mjs" || fail "the browser test (above)"
hub_stop
echo "PASS console browser: set-up, sign-in, CSV import with a bad row, an event, a kiosk enrolled from the" \
	"console, a scan counted live and undone, the poster's QR, sign-out; screenshots in $OUT"
