#!/usr/bin/env bash
# The community dashboard in a real browser (Debian's chromium, headless,
# driven by puppeteer-core) against a real hub: dash_community.py builds a
# small tea-house community through the hub's real interfaces (its command
# line, two fake kiosks pushing over HTTP, the console, the live codes); an
# organizer signs in and opens the venue's dashboard for a fixed summer and
# for today, at 390x844 and 1440x900, in zh-Hans and en. The numbers on the
# page (attendance, weeks and their bars, events, the funnel and its medians,
# cohorts, regulars and drifting members, referrers and a referral tree, the
# live codes' redirects and misses, links full or expired while in use, the
# share shown the join QR, tiers and renewals) must equal the ones worked out
# by hand in test_dash_browser.mjs; undone check-ins and second check-ins of
# one attendance never count. Numbers are followed to the members behind
# them, and CSVs downloaded by the browser must match the page. Screenshots
# and the CSVs are kept in $TINGZI_CONSOLE_OUT/dash.
. "$(dirname "$0")/lib.sh"
for t in node npm openssl; do
	command -v $t >/dev/null || fail "$t is not installed (bash packaging/test.sh installs it)"
done
CHROMIUM=${TINGZI_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "chromium is not installed at $CHROMIUM (apt-get install chromium; packaging/test.sh does)"
NODE_DIR=${TINGZI_CONSOLE_NODE:-$WORK/node}
bash "$CONSOLE_HERE/node_setup.sh" "$NODE_DIR" || fail "puppeteer-core could not be installed into $NODE_DIR"
OUT=${TINGZI_CONSOLE_OUT:-$WORK/out}/dash
rm -rf "$OUT"
mkdir -p "$OUT"

hub_start
py dash_community.py "$HUB" "$HUBDB" "$BASE" "$WORK/community.json" || fail "building the community (above)"
export BASE OUT CHROMIUM NODE_DIR COMMUNITY=$WORK/community.json
node "$CONSOLE_HERE/test_dash_browser.mjs" || fail "the browser test (above)"
kill -0 "$HPID" 2>/dev/null || fail "the hub died"
hub_stop
echo "PASS console dashboard: a hand-built community's numbers on the page, in two languages and two sizes," \
	"followed to their members and downloaded as CSV; screenshots in $OUT"
