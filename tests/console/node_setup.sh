#!/usr/bin/env bash
# node_setup.sh DIR: puppeteer-core, exactly as tests/console/package-lock.json
# pins it, installed with `npm ci` into DIR (a folder of the build tree, with
# npm's cache in DIR/npm-cache), once: DIR/lock.sha256 says which lock file the
# installed tree came from, so a second run needs no network at all, and a
# first run after the cache is filled uses it (--prefer-offline).
# Fails with a sentence when node or npm is missing or the install fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: node_setup.sh DIR}
command -v node >/dev/null || { echo "FAIL: node is not installed (packaging/test.sh installs Debian's nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "FAIL: npm is not installed (packaging/test.sh installs Debian's npm)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || { echo "FAIL: node $(node --version) is too old for puppeteer-core (18 or later)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd) # the install below runs from inside it
want=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -f "$dir/lock.sha256" ] && [ "$(cat "$dir/lock.sha256")" = "$want" ] &&
	[ -f "$dir/node_modules/puppeteer-core/package.json" ]; then
	exit 0
fi
rm -f "$dir/lock.sha256"
cp "$here/package.json" "$here/package-lock.json" "$here/.npmrc" "$dir/"
# Several tests may ask at once; one installs.
exec 9>"$dir/.lock"
flock 9
if ! (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --cache "$dir/npm-cache" >"$dir/npm-ci.log" 2>&1); then
	echo "FAIL: npm ci of puppeteer-core failed (network? see $dir/npm-ci.log):" >&2
	tail -n 15 "$dir/npm-ci.log" >&2
	exit 1
fi
echo "$want" >"$dir/lock.sha256"
