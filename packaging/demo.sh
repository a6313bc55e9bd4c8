#!/usr/bin/env bash
# Install what is needed, build, fill a demo database (members with Chinese
# names, an event happening now) and run the kiosk on it in a window.
# With no display (a server, a container), the kiosk runs on a virtual X
# display and a screenshot of its home screen is saved.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
mkdir -p build/demo
db=build/demo/tingzi.db
./build/tingzi --db "$db" demo
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	exec ./build/tingzi --db "$db" --windowed --size 1280x800
fi
bash packaging/deps.sh test >/dev/null
echo "no display found: running the kiosk on a virtual display (Xvfb :77, 1280x800)"
Xvfb :77 -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
DISPLAY=:77 ./build/tingzi --db "$db" --windowed --size 1280x800 2>build/demo/kiosk.log &
kiosk=$!
sleep 3
DISPLAY=:77 import -window root build/demo/home.png
echo "home screen saved to build/demo/home.png; the kiosk log is build/demo/kiosk.log"
echo "the kiosk runs on DISPLAY=:77 (try: DISPLAY=:77 xdotool type --delay 5 \$'TZ1001\\n'); Ctrl-C ends it"
wait $kiosk
