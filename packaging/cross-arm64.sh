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
	libcurl4-openssl-dev zlib1g-dev libsodium-dev libmicrohttpd-dev libcmocka-dev)
pkgs=(crossbuild-essential-arm64 qemu-user cmake pkgconf gettext fonts-noto-cjk fontconfig file)
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
