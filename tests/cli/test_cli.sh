#!/usr/bin/env bash
# The command line against real database files: what a staff script or an
# organizer sees (output, exit status, rows stored).
set -uo pipefail
TINGZI=$1
FIXTURES=$2
DEMO=$(cd "$(dirname "$0")/../.." && pwd)/assets/demo/members.csv
WORK=$(mktemp -d /tmp/tingzi-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DB=$WORK/t.db
export TINGZI_DB=$DB
failures=0
passes=0

check() { # check NAME EXPECTED_STATUS COMMAND...: run, compare the exit status
	local name=$1 want=$2
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, expected $want"
		sed 's/^/  out: /' "$WORK/out" | head -5
		sed 's/^/  err: /' "$WORK/err" | head -5
		failures=$((failures + 1))
	else
		passes=$((passes + 1))
	fi
}
has() { # has NAME FILE PATTERN: the output of the last check contains PATTERN
	if grep -q -- "$3" "$WORK/$2"; then passes=$((passes + 1)); else
		echo "FAIL $1: \"$3\" not in $2:"
		sed 's/^/  /' "$WORK/$2" | head -10
		failures=$((failures + 1))
	fi
}
equals() { # equals NAME GOT WANT
	if [ "$2" = "$3" ]; then passes=$((passes + 1)); else
		echo "FAIL $1: got \"$2\", expected \"$3\""
		failures=$((failures + 1))
	fi
}

# Help on every command tells the truth and exits 0.
for cmd in "" "members" "events" "checkin" "checkins" "venue" "demo" "links" "show-qr"; do
	check "help $cmd" 0 $TINGZI $cmd --help
	has "help $cmd" out "Usage: tingzi"
done
check "version" 0 $TINGZI --version
has "version" out "tingzi "
check "unknown command" 2 $TINGZI frobnicate
has "unknown command" err 'unknown command "frobnicate"'

# Import the demo members; counts are printed.
check "import" 0 $TINGZI members import "$DEMO"
has "import counts" out "40"
equals "members stored" "$(sqlite3 "$DB" 'SELECT count(*) FROM members')" 40

# Events: times are checked and named in the error.
check "event bad time" 2 $TINGZI events add --title X --start 2026-13-01T10:00 --end 2026-11-22T12:00
has "event bad time" err '2026-13-01T10:00'
check "event end before start" 2 $TINGZI events add --title X --start "2026-11-22 12:00" --end 2026-11-22T10:00
start=$(date -d '-1 hour' '+%Y-%m-%d %H:%M')
end=$(date -d '+2 hours' +%Y-%m-%dT%H:%M)
check "event add" 0 $TINGZI events add --title "读书会" --start "$start" --end "$end"
check "events list" 0 $TINGZI events list
has "events list" out "读书会"

# Check-ins by code and by phone digits, with the documented exit statuses.
check "checkin code" 0 $TINGZI checkin --code TZ1001
has "checkin code" out "张三"
check "checkin again" 3 $TINGZI checkin --code TZ1001
check "checkin unknown" 4 $TINGZI checkin --code NOPE
check "checkin ambiguous" 5 $TINGZI checkin --phone 5678
check "checkin phone" 0 $TINGZI checkin --phone 3351 --format json
has "checkin json" out '"outcome": "recorded"'
check "checkin both" 2 $TINGZI checkin --code A --phone 1234
check "checkin short phone" 2 $TINGZI checkin --phone 12
equals "check-ins stored" "$(sqlite3 "$DB" 'SELECT count(*) FROM checkins')" 2
equals "outbox rows" "$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE kind='checkin'")" 2

# Listing check-ins.
check "checkins csv" 0 $TINGZI checkins list --format csv
has "checkins csv header" out '^id,at,event,event_title,name,code,method,visit,expired'
equals "checkins csv rows" "$(($(wc -l <"$WORK/out") - 1))" 2
check "checkins json" 0 $TINGZI checkins list --event 1 --format json
equals "checkins json" "$(jq length "$WORK/out")" 2
check "checkins bad event" 2 $TINGZI checkins list --event abc

# A bad CSV is refused whole, each bad row named by line; nothing changes.
printf 'name,phone,code,expires\n好人,13800000001,OK1,\n,13800000002,BAD1,\n坏日期,13800000003,BAD2,2026-02-30\n' >"$WORK/bad.csv"
check "import bad" 1 $TINGZI members import "$WORK/bad.csv"
has "import bad line 3" err "line 3"
has "import bad line 4" err "line 4"
equals "members unchanged" "$(sqlite3 "$DB" 'SELECT count(*) FROM members')" 40
check "import missing file" 1 $TINGZI members import "$WORK/nope.csv"
has "import missing file" err "nope.csv"

# A database from a newer tingzi, or a file that is not one, is refused untouched.
cp "$DB" "$WORK/new.db"
sqlite3 "$WORK/new.db" 'PRAGMA user_version=99'
sum=$(sha256sum <"$WORK/new.db")
check "newer schema" 1 $TINGZI --db "$WORK/new.db" members list
has "newer schema" err "new.db"
equals "newer schema untouched" "$(sha256sum <"$WORK/new.db")" "$sum"
head -c 4096 /dev/urandom >"$WORK/junk.db"
sum=$(sha256sum <"$WORK/junk.db")
check "not a database" 1 $TINGZI --db "$WORK/junk.db" members list
has "not a database" err "junk.db"
equals "junk untouched" "$(sha256sum <"$WORK/junk.db")" "$sum"

# Group links: a bad URL, label, platform, expiry or event gets a clear error
# and stores nothing; list flags what expires within 48 hours.
links() { sqlite3 "$DB" 'SELECT count(*) FROM links'; }
check "link bad scheme" 2 $TINGZI links add --label G --url "ftp://example.org/g"
has "link bad scheme" err "must start with https:// or http://"
check "link space" 2 $TINGZI links add --label G --url "https://example.org/a b"
has "link space" err "space"
check "link control" 2 $TINGZI links add --label G --url "$(printf 'https://example.org/\tx')"
has "link control" err "control character"
check "link too long" 2 $TINGZI links add --label G --url "https://example.org/$(head -c 1005 /dev/zero | tr '\0' a)"
has "link too long" err "1024"
check "link no host" 2 $TINGZI links add --label G --url "https://"
has "link no host" err "no host"
check "link empty label" 2 $TINGZI links add --label "" --url "https://example.org/"
check "link bad platform" 2 $TINGZI links add --label G --url "https://example.org/" --platform qq
has "link bad platform" err '"qq"'
check "wechat over 7 days" 2 $TINGZI links add --label G --url "https://weixin.qq.com/g/x" --expires +8d
has "wechat over 7 days" err "7 days"
check "link past expiry" 2 $TINGZI links add --label G --url "https://example.org/" --expires 2020-01-01T00:00
has "link past expiry" err "past"
check "link no event" 1 $TINGZI links add --label G --url "https://example.org/" --event 999
has "link no event" err "no event 999"
equals "no link stored" "$(links)" 0
check "link 1024 bytes" 0 $TINGZI links add --label G --url "https://example.org/$(head -c 1004 /dev/zero | tr '\0' a)"
check "wechat link" 0 $TINGZI links add --label "茶会群" --url "https://weixin.qq.com/g/AbC"
has "wechat link" out "WeChat"
equals "wechat 7 days" "$(sqlite3 "$DB" "SELECT platform || ' ' || ((expires_ms - CAST(strftime('%s','now') AS INTEGER) * 1000 + 60000) / 86400000) FROM links WHERE url LIKE '%weixin%'")" "wechat 7"
check "soon link" 0 $TINGZI links add --label Soon --url "https://t.me/+x" --expires +47h --default
check "links list" 0 $TINGZI links list
has "links list flags" out "Soon.*EXPIRES SOON"
has "links list warns" err "expires in 46 hours"
has "links list default" out "venue default"
check "links json" 0 $TINGZI links list --format json
equals "links json states" "$(jq -r '[.[].state] | sort | join(",")' "$WORK/out")" "expiring,live,live"
check "link remove" 0 $TINGZI links remove 1
check "link remove again" 1 $TINGZI links remove 1
has "link remove again" err "no link 1"
check "link remove junk" 2 $TINGZI links remove one
equals "links left" "$(links)" 2
check "referral on" 0 $TINGZI venue set-referral on
equals "referral setting" "$(sqlite3 "$DB" "SELECT value FROM settings WHERE key='referral_qr'")" 1
check "referral bad" 2 $TINGZI venue set-referral maybe
check "show-qr no such link" 1 env SDL_VIDEODRIVER=dummy $TINGZI show-qr --link 999
has "show-qr no such link" err "no link 999"

# One option parser for every command: --format=X as well as --format X, and
# an unknown option or a word too many refused (exit 2) with its name.
check "members list --format=json" 0 $TINGZI members list --format=json
equals "members list --format=json" "$(jq length "$WORK/out")" 40
check "members list --format=csv" 0 $TINGZI members list --format=csv
has "members list --format=csv" out '^name,phone,code,tier,expires'
check "events list --format=json" 0 $TINGZI events list --format=json
equals "events list --format=json" "$(jq -r '.[0].title' "$WORK/out")" "读书会"
check "checkin --format=json" 3 $TINGZI checkin --code=TZ1001 --format=json
has "checkin --format=json" out '"outcome": "already"'
check "checkins list --format=json" 0 $TINGZI checkins list --event=1 --format=json
equals "checkins list --format=json" "$(jq length "$WORK/out")" 2
check "links list --format=json" 0 $TINGZI links list --format=json
equals "links list --format=json" "$(jq length "$WORK/out")" 2
check "staff audit --format=json" 0 $TINGZI staff audit --format=json
equals "staff audit --format=json" "$(jq type "$WORK/out")" '"array"'
check "bad format" 2 $TINGZI members list --format=xml
has "bad format" err '"xml": expected text, json or csv'
refused() { # refused NAME WORD COMMAND...: exit 2, the word named on stderr, nothing on stdout
	local name=$1 word=$2
	shift 2
	check "$name" 2 "$@"
	has "$name" err "\"$word\""
	equals "$name: nothing on stdout" "$(cat "$WORK/out")" ""
}
members_before=$(sqlite3 "$DB" 'SELECT count(*) FROM members')
refused "kiosk unknown option" --bogus $TINGZI --bogus
refused "kiosk --link" --link $TINGZI --link 1
for cmd in "members import" "members list" "events add" "events list" "checkin" "checkins list" \
	"links add" "links list" "links remove" "links set-default" "show-qr" "staff set-pin" "staff audit" \
	"enroll" "sync" "sync status" "sync dead-letters" "export" "venue set-name" "venue set-referral" "demo"; do
	refused "$cmd: unknown option" --bogus $TINGZI $cmd --bogus
	has "$cmd: unknown option" err 'unknown option "--bogus"'
	has "$cmd: unknown option usage" err "Usage: tingzi"
	refused "$cmd: --bogus=1" --bogus $TINGZI $cmd --bogus=1
done
refused "members import: a word too many" extra $TINGZI members import "$DEMO" extra
refused "members list: a word" extra $TINGZI members list extra
refused "events add: a word" extra $TINGZI events add --title T --start "$start" --end "$end" extra
refused "events list: a word" extra $TINGZI events list extra
refused "checkin: a word" extra $TINGZI checkin --code TZ1002 extra
refused "checkins list: a word" extra $TINGZI checkins list extra
refused "links add: a word" extra $TINGZI links add --label G --url https://example.org/ extra
refused "links list: a word" extra $TINGZI links list extra
refused "links remove: a word too many" extra $TINGZI links remove 2 extra
refused "show-qr: a word" extra $TINGZI show-qr extra
refused "staff set-pin: a word" extra $TINGZI staff set-pin extra
refused "staff audit: a word" extra $TINGZI staff audit extra
refused "enroll: a word too many" extra $TINGZI enroll http://127.0.0.1:9 CODE extra
refused "sync: a word" extra $TINGZI sync extra
refused "sync status: a word" extra $TINGZI sync status extra
refused "export: a word" extra $TINGZI export --to "$WORK" extra
refused "venue set-name: a word too many" extra $TINGZI venue set-name Tea extra
refused "demo: a word" extra $TINGZI demo extra
refused "events add: an option of events list" --format $TINGZI events add --title T --start "$start" --end "$end" --format json
refused "flag with a value" --default $TINGZI links add --label G --url https://example.org/ --default=yes
check "option without its value" 2 $TINGZI events list --format
has "option without its value" err '"--format" needs a value'
equals "refusals stored nothing: members" "$(sqlite3 "$DB" 'SELECT count(*) FROM members')" "$members_before"
equals "refusals stored nothing: events" "$(sqlite3 "$DB" 'SELECT count(*) FROM events')" 1
equals "refusals stored nothing: check-ins" "$(sqlite3 "$DB" 'SELECT count(*) FROM checkins')" 2
equals "refusals stored nothing: links" "$(links)" 2
equals "refusals stored nothing: venue" "$(sqlite3 "$DB" "SELECT count(*) FROM settings WHERE key='venue_name'")" 0
for cmd in "members list" "events add" "checkins list" "links add" "staff audit" "sync status" "export" "enroll"; do
	check "help after $cmd" 0 $TINGZI $cmd --help
	has "help after $cmd" out "Usage: tingzi"
done

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
