#!/usr/bin/env bash
# Build the Debian packages tingzi and tingzi-hub (packaging/debian) and check
# them with lintian. The .deb files land in build-deb/.
#
#   bash packaging/deb.sh                this machine's architecture
#   bash packaging/deb.sh --arch arm64   cross-built for arm64 (Raspberry Pi)
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
if [ "${1:-}" = --arch ]; then
	arch=${2:?--arch needs an architecture}
fi
bash packaging/deps.sh build
cross=()
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
	[ "$arch" = arm64 ] || { echo "deb.sh: only arm64 is cross-built (not $arch)" >&2; exit 2; }
	bash packaging/cross-arm64.sh --deps-only
	# the build dependencies are checked by that script, as :arm64 packages
	cross=(-a"$arch" -d)
fi
bash packaging/deps.sh only debhelper help2man lintian dpkg-dev fakeroot
out=$PWD/build-deb
work=$(mktemp -d /tmp/tingzi-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tingzi" "$out"
git ls-files -z | xargs -0 cp --parents -t "$work/tingzi"
cp -r packaging/debian "$work/tingzi/debian"
(cd "$work/tingzi" && dpkg-buildpackage "${cross[@]}" -us -uc -b >"$work/build.log" 2>&1) || {
	tail -n 40 "$work/build.log"
	echo "deb.sh: dpkg-buildpackage failed" >&2
	exit 1
}
cp "$work"/*.deb "$out"/
echo "== lintian =="
lintian --fail-on error --tag-display-limit 0 "$work"/*.changes
ls -l "$out"/*.deb
