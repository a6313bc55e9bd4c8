#!/usr/bin/env bash
# Build the Debian packages tingzi and tingzi-hub (packaging/debian) and check
# them with lintian. The .deb files land in build-deb/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh build
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need=()
for p in debhelper help2man lintian dpkg-dev fakeroot; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
out=$PWD/build-deb
work=$(mktemp -d /tmp/tingzi-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tingzi" "$out"
git ls-files -z | xargs -0 cp --parents -t "$work/tingzi"
cp -r packaging/debian "$work/tingzi/debian"
(cd "$work/tingzi" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -n 40 "$work/build.log"
	echo "deb.sh: dpkg-buildpackage failed" >&2
	exit 1
}
cp "$work"/*.deb "$out"/
echo "== lintian =="
lintian --fail-on error --no-tag-display-limit "$work"/*.changes
ls -l "$out"/*.deb
