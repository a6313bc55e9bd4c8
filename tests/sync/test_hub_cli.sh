#!/usr/bin/env bash
# tingzi-hub's command line: each command accepts its own options and no
# other; an unknown option, an option of another command or a word too many
# is refused (exit 2) with its name and the command's usage, and stores
# nothing; --help after any command prints that command's usage; --format X
# and --format=X both work; and the commands do their work as before,
# through to a kiosk enrolled and synced with the hub.
. "$(dirname "$0")/lib.sh"

# refused WHAT WORD ARGS...: exit 2, WORD named on stderr with the usage, nothing on stdout
refused() {
	local what=$1 word=$2 rc
	shift 2
	set +e
	hub "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	set -e
	expect_eq "$rc" 2 "exit status of $what"
	grep -qF "\"$word\"" "$WORK/err" || fail "$what: \"$word\" not named: $(head -n 1 "$WORK/err")"
	grep -q "^tingzi-hub: " "$WORK/err" || fail "$what: no 'tingzi-hub: ' sentence"
	grep -q "^Usage: tingzi-hub " "$WORK/err" || fail "$what: no usage after the sentence"
	expect_eq "$(cat "$WORK/out")" "" "stdout of $what"
}

# --- help: the whole usage, and each command's own ---
hub --help >"$WORK/out" || fail "--help"
grep -q "^Usage: tingzi-hub \[--db PATH|URL\] COMMAND" "$WORK/out" || fail "--help: no usage"
for cmd in "serve" "venues" "venues add" "venues list" "devices" "devices enroll-code" "devices list" \
	"devices revoke" "members" "members import" "events add" "links" "links add" "checkins export" \
	"audit export" "import" "migrate"; do
	# shellcheck disable=SC2086
	hub $cmd --help >"$WORK/out" 2>"$WORK/err" || fail "$cmd --help exits $?"
	grep -q "^Usage: tingzi-hub ${cmd%% *} " "$WORK/out" || fail "$cmd --help: not its usage: $(head -n 1 "$WORK/out")"
done

# --- refusals, before any venue exists ---
v0=0123456789abcdef0123456789abcdef
refused "venues list --title" --title venues list --title X
refused "venues add --venue" --venue venues add Tea --venue "$v0"
refused "venues add: two names" Other venues add Tea Other
refused "venues list: a word" extra venues list extra
refused "serve --title" --title serve --title X
refused "serve: a word" extra serve extra
refused "devices enroll-code --tz" --tz devices enroll-code "$v0" --tz UTC
refused "devices list --hours" --hours devices list --hours 3
refused "devices revoke: two ids" extra devices revoke "$v0" extra
refused "members import --title" --title members import x.csv --venue "$v0" --title T
refused "events add --label" --label events add --venue "$v0" --title T --start "2030-01-01 10:00" \
	--end "2030-01-01 12:00" --label L
refused "events add: a word" extra events add extra --venue "$v0" --title T --start "2030-01-01 10:00" \
	--end "2030-01-01 12:00"
refused "links add --title" --title links add --venue "$v0" https://t.me/+x --title T
refused "links add: two URLs" https://t.me/+y links add --venue "$v0" https://t.me/+x https://t.me/+y
refused "links add --default=1" --default links add --venue "$v0" https://t.me/+x --default=1
refused "checkins export --title" --title checkins export --venue "$v0" --title T
refused "audit export: a word" extra audit export --venue "$v0" extra
refused "import --venue" --venue import x.tzb --venue "$v0"
refused "import: two files" y.tzb import x.tzb y.tzb
refused "migrate --venue" --venue migrate --from x.db --to postgresql:///x --venue "$v0"
refused "migrate: a word" extra migrate --from x.db --to postgresql:///x extra
refused "unknown option" --bogus venues list --bogus
refused "unknown command" frob frob
refused "unknown verb" frob venues frob
refused "value missing" --tz venues add Tea --tz
refused "bad format" xml checkins export --venue "$v0" --format=xml
grep -q "expected csv or json" "$WORK/err" || fail "bad format: no sentence"
! hub_store_made || expect_eq "$(hubsql 'SELECT count(*) FROM venues')" 0 "venues after the refusals"

# --- the commands still work, --opt=value and --opt value alike ---
a=$(hub venues add "Venue A" --tz=Asia/Shanghai 2>/dev/null) || fail "venues add --tz="
b=$(hub venues add "Venue B" --tz America/New_York 2>/dev/null) || fail "venues add --tz"
expect_eq "$(hub venues list | wc -l)" 2 "venues listed"
hub venues list | grep -q "Venue A.*Asia/Shanghai" || fail "venues list: no Venue A in its zone"
members_csv "$WORK/members.csv" 3
hub members import "$WORK/members.csv" --venue="$a" >/dev/null || fail "members import --venue="
hub members import "$WORK/members.csv" --venue "$b" >/dev/null || fail "members import --venue"
ev=$(hub events add --venue "$a" --title=Tea --start "2030-01-01 10:00" --end="2030-01-01 12:00") ||
	fail "events add"
[[ "$ev" =~ ^[0-9a-f]{32}$ ]] || fail "events add printed \"$ev\""
hub links add --venue "$a" "https://t.me/+abc" --label=Group --expires +2d --cap 50 --event "$ev" --default \
	--slug=tea >/dev/null 2>&1 || fail "links add"
expect_eq "$(hubsql "SELECT label, cap, is_default, slug, CASE WHEN event_uid = '$ev' THEN 1 ELSE 0 END FROM links")" "Group|50|1|tea|1" \
	"the link's options stored"
hub_start
code=$(hub devices enroll-code "$a" --hours=2 2>/dev/null) || fail "devices enroll-code --hours="
kiosk "$WORK/k.db" enroll "http://127.0.0.1:$PORT" "$code" --name=door >/dev/null || fail "enroll"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "first sync"
kiosk "$WORK/k.db" checkin --code M00001 >/dev/null || fail "check-in"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "sync"
hub devices list --venue="$a" | grep -q "door" || fail "devices list --venue="
expect_eq "$(hub devices list --venue "$b" | wc -l)" 0 "devices of venue B"
hub checkins export --venue "$a" >"$WORK/c.csv" 2>/dev/null || fail "checkins export"
expect_eq "$(sed -n 2p "$WORK/c.csv" | cut -d, -f4)" "会员00001" "the check-in exported as CSV"
hub checkins export --venue="$a" --format=json >"$WORK/c.json" 2>/dev/null || fail "checkins export --format="
expect_eq "$(jq -r '.[0].name' "$WORK/c.json")" "会员00001" "the check-in exported as JSON"
hub audit export --venue "$a" --format json >"$WORK/a.json" 2>/dev/null || fail "audit export --format json"
expect_eq "$(jq type "$WORK/a.json")" '"array"' "audit export as JSON"
dev=$(hubsql "SELECT id FROM devices")
hub devices revoke "$dev" 2>/dev/null || fail "devices revoke"
set +e
kiosk "$WORK/k.db" sync --once >/dev/null 2>&1
rc=$?
set -e
expect_eq "$rc" 3 "a sync after the device is revoked"
hub_stop
echo "PASS hub command line"
