#!/usr/bin/env bash
# Install what tingzi needs on Debian 12: `deps.sh build` for building and
# running, `deps.sh test` adds what the test suite drives (Xvfb, xdotool, ...);
# `deps.sh only PKG...` installs just those packages (the packaging scripts).
set -euo pipefail
what=${1:-build}
build=(build-essential cmake pkg-config gettext libsdl2-dev libsdl2-ttf-dev libsqlite3-dev
	libqrencode-dev libfontconfig-dev fontconfig libjansson-dev libcsv-dev fonts-noto-cjk
	libcurl4-openssl-dev zlib1g-dev libsodium-dev libmicrohttpd-dev libpq-dev)
test=(libcmocka-dev xvfb xauth xdotool x11-utils imagemagick zbar-tools sqlite3 procps jq python3 curl faketime openssl libx11-dev cage grim xwayland
	clang libclang-rt-14-dev postgresql haproxy)
case $what in
build) pkgs=("${build[@]}") ;;
test) pkgs=("${build[@]}" "${test[@]}") ;;
only) shift; pkgs=("$@") ;;
*) echo "usage: deps.sh build | test | only PKG..." >&2; exit 2 ;;
esac
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies ($what) are installed"
