#!/usr/bin/env bash
# Cross-build tingzi and tingzi-hub for arm64 with Debian's cross toolchain and
# multiarch libraries, and run the unit tests under qemu-user.
#
#   bash packaging/cross-arm64.sh      (root or sudo; about 600 MB of packages
#                                       the first time; build in build-arm64/)
#   bash packaging/cross-arm64.sh --deps-only    only install what that needs
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
libs=(libsdl2-dev libsdl2-ttf-dev libsqlite3-dev libqrencode-dev libfontconfig-dev libjansson-dev libcsv-dev
	libcurl4-openssl-dev zlib1g-dev libsodium-dev libmicrohttpd-dev libpq-dev libcmocka-dev)
pkgs=(crossbuild-essential-arm64 qemu-user cmake pkgconf gettext fonts-noto-cjk fontconfig file curl)
for l in "${libs[@]}"; do pkgs+=("$l:arm64"); done
dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
bash packaging/deps.sh only "${pkgs[@]}"
[ "${1:-}" = --deps-only ] && exit 0

echo "== cross build (arm64) =="
cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=packaging/cross/aarch64-linux-gnu.cmake \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINGZI_WERROR=ON >/dev/null
cmake --build build-arm64 -j "$(nproc)"
file build-arm64/tingzi build-arm64/tingzi-hub | sed 's/, BuildID.*//'
file build-arm64/tingzi | grep -q "ARM aarch64" || { echo "cross-arm64.sh: tingzi is not an arm64 program" >&2; exit 1; }
qemu-aarch64 build-arm64/tingzi --version
qemu-aarch64 build-arm64/tingzi-hub --version

echo "== unit tests under qemu-aarch64 =="
(cd build-arm64 && SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy \
	ctest --no-tests=error --output-on-failure -j "$(nproc)" -L unit --timeout 900)

echo "== an arm64 kiosk syncs with an arm64 hub (both under qemu-aarch64, on loopback) =="
work=$(mktemp -d /tmp/tingzi-arm64.XXXXXX)
hub_pid=""
trap '[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null; rm -rf "$work"' EXIT
K=(qemu-aarch64 build-arm64/tingzi --db "$work/kiosk.db")
H=(qemu-aarch64 build-arm64/tingzi-hub --db "$work/hub.db")
port=$((20000 + RANDOM % 20000))
venue=$("${H[@]}" venues add "Teahouse" --tz Asia/Shanghai)
code=$("${H[@]}" devices enroll-code "$venue" 2>/dev/null)
"${H[@]}" serve --listen "127.0.0.1:$port" 2>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
"${K[@]}" demo >/dev/null
"${K[@]}" enroll "http://127.0.0.1:$port" "$code"
for c in TZ1001 TZ1002 TZ1003; do "${K[@]}" checkin --code "$c" >/dev/null 2>&1; done
"${K[@]}" sync --once
n=$("${H[@]}" checkins export --venue "$venue" 2>/dev/null | tail -n +2 | wc -l)
[ "$n" = 3 ] || { echo "cross-arm64.sh: the hub holds $n check-ins, want 3" >&2; exit 1; }
echo "the arm64 hub holds the arm64 kiosk's 3 check-ins"
