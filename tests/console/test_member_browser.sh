#!/usr/bin/env bash
# Member sign-up and passes in a real browser (Debian's chromium, driven by
# puppeteer-core) against a real hub with a key file: a phone at 390x844 with
# JavaScript off opens the venue's sign-up page through a ref= link (Chinese
# as the phone asks), signs up, and lands on their pass at its private
# address; the pass's QR, decoded by zbarimg from the 390 px screenshot, is
# the pass the page carries; the referral is credited; the pages at
# 1440x900 and in the other languages, and the pass as printed. Then the
# owner in the console issues a pass from a member's page (shown once, with
# a private address) and rotates the venue's key, both in the audit log.
# Screenshots are kept in $TINGZI_CONSOLE_OUT/member. The steps are in
# test_member_browser.mjs.
. "$(dirname "$0")/lib.sh"
for t in node npm zbarimg; do
	command -v $t >/dev/null || fail "$t is not installed (bash packaging/test.sh installs it)"
done
CHROMIUM=${TINGZI_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "chromium is not installed at $CHROMIUM (apt-get install chromium; packaging/test.sh does)"
NODE_DIR=${TINGZI_CONSOLE_NODE:-$WORK/node}
bash "$CONSOLE_HERE/node_setup.sh" "$NODE_DIR" || fail "puppeteer-core could not be installed into $NODE_DIR"
OUT=${TINGZI_CONSOLE_OUT:-$WORK/out}/member
rm -rf "$OUT"
mkdir -p "$OUT"

KEY=$WORK/hub.key
hub key-file new "$KEY" 2>>"$WORK/cli.log" || fail "key-file new"
venue=$(venue_add "听雨茶馆" --tz Asia/Shanghai)
cat >"$WORK/m.csv" <<'CSV'
name,phone,code,tier,expires
Alice Smith,13800000002,A-77,gold,2027-06-30
王小明,13800000001,,,
CSV
hub members import "$WORK/m.csv" --venue "$venue" >/dev/null 2>>"$WORK/cli.log" || fail "members import"
hub --key-file "$KEY" venues rotate-key "$venue" >/dev/null 2>>"$WORK/cli.log" || fail "rotate-key"
hub venues signup "$venue" --slug tingyu --terms "$(printf '我们只用您的手机号在店里找到您，不会给其他会员看。\n请友善对待其他会员。\nWe use your phone only to find you at the venue.')" \
	2>>"$WORK/cli.log" || fail "venues signup"
hub links add --venue "$venue" "https://chat.example/g/tingyu" --label WeChat --default >/dev/null 2>>"$WORK/cli.log" ||
	fail "links add"
hub_start --key-file "$KEY"
out=$(hub users add owner@example.org --role owner --public-url "$BASE" 2>&1) || fail "users add: $out"
setup=$(printf '%s\n' "$out" | grep -oE 'https?://[^ ]+/setup\?t=[A-Za-z0-9_-]+' | head -n 1)
[ -n "$setup" ] || fail "users add printed no set-up link: $out"

export BASE HUBDB WORK OUT CHROMIUM NODE_DIR VENUE=$venue SETUP_URL=$setup SLUG=tingyu
export MEMBER_W=$(sql "SELECT uid FROM members WHERE phone = '13800000001'")
node "$CONSOLE_HERE/test_member_browser.mjs" || fail "the browser test (above)"
hub_stop
echo "PASS member browser: sign-up at 390x844 with JavaScript off, the pass read from the screenshot, the" \
	"referral, other sizes and languages, print; a pass issued and a key rotated in the console; screenshots in $OUT"
