#!/usr/bin/env bash
# The kiosk as tingzi-kiosk.service runs it: fullscreen under the cage Wayland
# kiosk compositor (here its headless backend with the software renderer),
# with a socket standing in for systemd. It must say READY=1 and ping the
# watchdog from inside cage, draw the home screen over the whole output, in
# landscape and portrait, and a screenshot taken with grim must show it: the
# check-in button where the kiosk says it is, in its colour, on the background.
#
# The output is rotated (cage -r) in both runs: cage 0.1.4 hands a fullscreen
# client's buffer straight to an unrotated output (direct scan-out), and on the
# headless backend wlroots 0.15's screencopy then reads black. A rotated output
# is composited, which is what grim can read; grim turns the picture upright.
set -euo pipefail
TINGZI=$1
for p in cage grim Xwayland python3 convert; do
	command -v "$p" >/dev/null || { echo "FAIL: $p is not installed (packaging/deps.sh test)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/tingzi-cage.XXXXXX)
CPID=""
LPID=""
cleanup() {
	local rc=$?
	set +e
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	if [ $rc -ne 0 ]; then
		tail -n 30 "$WORK"/cage-*.log 2>/dev/null
		echo "work folder kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# cage will not run as root: as root, the kiosk runs as nobody, as the
# service runs it as the tingzi user
as=()
if [ "$(id -u)" -eq 0 ]; then
	chown 65534:65534 "$WORK"
	as=(setpriv --reuid 65534 --regid 65534 --clear-groups)
fi
chmod 0700 "$WORK"
# the program and its catalogs, where that user can reach them (a checkout
# under /root is not)
mkdir -p "$WORK/bin"
cp "$TINGZI" "$WORK/bin/tingzi"
[ -d "$(dirname "$TINGZI")/locale" ] && cp -r "$(dirname "$TINGZI")/locale" "$WORK/locale"
[ "$(id -u)" -eq 0 ] && chown -R 65534:65534 "$WORK/bin" "$WORK/locale" 2>/dev/null
TINGZI=$WORK/bin/tingzi
mkdir -p "$WORK/run"
[ "$(id -u)" -eq 0 ] && chown 65534:65534 "$WORK/run"
chmod 0700 "$WORK/run"
# the demo venue is read from the checkout, which that user may not reach:
# made as the caller, then handed over
"$TINGZI" --db "$WORK/k.db" demo >/dev/null 2>&1 || fail "tingzi demo"
[ "$(id -u)" -eq 0 ] && chown 65534:65534 "$WORK"/k.db*

python3 - "$WORK/notify.sock" "$WORK/notify" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
PY
LPID=$!
for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.05; done

# pixel X Y FILE: the colour at X,Y as rrggbb
pixel() { convert "$3" -crop "1x1+$1+$2" -depth 8 txt:- | grep -o '#[0-9A-Fa-f]\{6\}' | head -n 1 | tr -d '#' | tr A-F a-f; }
# near A B: two rrggbb colours within 12 per channel
near() {
	local a=$1 b=$2 i
	for i in 0 2 4; do
		local d=$((16#${a:$i:2} - 16#${b:$i:2}))
		[ ${d#-} -le 12 ] || return 1
	done
}

run() { # NAME ROTATE... : one kiosk under cage, a screenshot, the checks
	local name=$1
	shift
	local log=$WORK/cage-$name.log shot=$WORK/$name.png
	: >"$WORK/notify"
	# WATCHDOG_PID is cage's own pid, as systemd sets it for the unit's main process
	env -i PATH="$PATH" HOME="$WORK" XDG_RUNTIME_DIR="$WORK/run" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" WLR_BACKENDS=headless WLR_RENDERER=pixman \
		WLR_LIBINPUT_NO_DEVICES=1 WLR_HEADLESS_OUTPUTS=1 SDL_VIDEODRIVER=wayland SDL_AUDIODRIVER=dummy \
		TINGZI_NO_SYNC=1 TINGZI_LOG_LAYOUT=1 TINGZI_LOCALEDIR="$WORK/locale" NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=2000000 \
		"${as[@]}" bash -c 'export WATCHDOG_PID=$$; exec cage -d "$@"' cage "$@" -- \
		"$TINGZI" --db "$WORK/k.db" >"$log" 2>&1 &
	CPID=$!
	local i
	for i in $(seq 100); do grep -q '"kiosk.first_frame"' "$log" 2>/dev/null && break; sleep 0.1; done
	grep -q '"kiosk.first_frame"' "$log" || fail "$name: no first frame under cage"
	sleep 2.5 # a few watchdog pings; cage composites the frame
	local wl=wayland-0
	env -i PATH="$PATH" XDG_RUNTIME_DIR="$WORK/run" WAYLAND_DISPLAY="$wl" "${as[@]}" grim "$shot" ||
		fail "$name: grim could not take a screenshot"
	kill "$CPID"
	wait "$CPID" 2>/dev/null || true
	CPID=""
	cp "$shot" "${TINGZI_E2E_SHOTS:-$WORK}/cage-$name.png" 2>/dev/null || true

	local started
	started=$(grep '"kiosk.started"' "$log" | tail -n 1)
	[ "$(jq -r .video <<<"$started")" = wayland ] || fail "$name: not on Wayland: $started"
	local w h
	w=$(jq .width <<<"$started") h=$(jq .height <<<"$started")
	read -r sw sh < <(identify -format '%w %h\n' "$shot")
	[ "$sw $sh" = "$w $h" ] || fail "$name: the kiosk is ${w}x$h, the output ${sw}x$sh: not fullscreen"
	grep -qx 'READY=1' "$WORK/notify" || fail "$name: no READY=1 from inside cage"
	local pings
	pings=$(grep -cx 'WATCHDOG=1' "$WORK/notify" || true)
	[ "$pings" -ge 2 ] || fail "$name: $pings watchdog pings in 2.5 s through cage"
	# the check-in button, where the kiosk's layout says it is, in the primary colour
	local b x y bw bh
	b=$(grep '"event":"layout"' "$log" | tail -n 1 | jq -c '.buttons[] | select(.act == "checkin")')
	[ -n "$b" ] || fail "$name: the home screen has no check-in button"
	x=$(jq .x <<<"$b") y=$(jq .y <<<"$b") bw=$(jq .w <<<"$b") bh=$(jq .h <<<"$b")
	local c bg
	c=$(pixel $((x + 6)) $((y + 6)) "$shot")
	near "$c" c24e2f || fail "$name: the check-in button's corner is #$c, not the primary colour"
	c=$(pixel $((x + bw - 6)) $((y + bh - 6)) "$shot")
	near "$c" c24e2f || fail "$name: the check-in button's far corner is #$c"
	bg=$(pixel 2 $((h / 2)) "$shot")
	near "$bg" 1f242b || fail "$name: the background is #$bg"
	# text is drawn: the button holds light pixels (its label) besides its colour
	local light
	light=$(convert "$shot" -crop "${bw}x${bh}+${x}+${y}" -colorspace gray -threshold 80% -format '%[fx:mean]' info:)
	awk -v l="$light" 'BEGIN { exit !(l > 0.01 && l < 0.5) }' || fail "$name: no label on the check-in button ($light)"
	echo "$name: ${w}x$h on wayland, READY=1 and $pings pings through cage, check-in button at $x,$y ${bw}x$bh"
}

run landscape -r -r
run portrait -r
echo "PASS cage: the kiosk runs fullscreen under cage's headless backend; grim shows its home screen"
