#!/usr/bin/env bash
# tingzi-hub migrate: a hub that grew on SQLite moved into PostgreSQL. Everything an
# organizer and a kiosk see is the same after the move (exports, lists, counts), the
# kiosks go on syncing with the hub on PostgreSQL without starting over, and a move
# that fails (a target that is not empty, a row PostgreSQL refuses half-way) keeps
# nothing. The source is always a SQLite file; the target is a database of the test
# cluster (TINGZI_TEST_PG), or of a cluster this test starts and stops itself.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SQLITE_DB=$WORK/hub.db
PGDIR=${TINGZI_TEST_PG:-}
OWN_CLUSTER=""
if [ -z "$PGDIR" ]; then
	PGDIR=$WORK/pg
	$PG_CLUSTER start "$PGDIR" >/dev/null || fail "cannot start a PostgreSQL cluster"
	OWN_CLUSTER=1
fi
stop_own_cluster() { [ -z "$OWN_CLUSTER" ] || $PG_CLUSTER stop "$PGDIR" >/dev/null 2>&1; }
trap 'rc=$?; stop_own_cluster; (exit $rc); sync_exit' EXIT
HUBDB=$SQLITE_DB # the hub grows on SQLite first

newdb() { $PG_CLUSTER newdb "$PGDIR"; }
pgsql() { psql -X -A -t -q -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# ---- a hub on SQLite with a bit of everything ----
members_csv "$WORK/m.csv" 300
va=$(hub venues add "听雨茶馆" --tz Asia/Shanghai 2>/dev/null)
vb=$(hub venues add "Reading Club" --tz Europe/Berlin 2>/dev/null)
hub members import "$WORK/m.csv" --venue "$va" >/dev/null 2>&1
hub events add --venue "$va" --title "周末茶话会" --start "2026-11-28 19:00" --end "2026-11-28 22:00" >/dev/null 2>&1
hub links add --venue "$va" https://example.org/group --label Group --cap 5 --default >/dev/null 2>&1
hub users add owner@example.org --role owner >/dev/null 2>&1
hub_start
for k in a b; do
	kiosk "$WORK/$k.db" enroll "http://127.0.0.1:$PORT" "$(hub devices enroll-code "$va" 2>/dev/null)" >/dev/null
	kiosk "$WORK/$k.db" sync --once >/dev/null
done
# the same members at both doors: second attendances marked at the hub
codes "$WORK/codes" 1 120
while read -r c; do kiosk "$WORK/a.db" checkin --code "$c" >/dev/null; done <"$WORK/codes"
head -n 40 "$WORK/codes" | while read -r c; do kiosk "$WORK/b.db" checkin --code "$c" >/dev/null; done
sync_until_clean "$WORK/a.db"
sync_until_clean "$WORK/b.db"
slug=$(hub venues list | awk -v v="$va" '$1 == v {print $NF}' | sed 's|/j/||')
for _ in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$PORT/j/$slug?ref=M00001"; done
hub_stop

snapshot() { # what an organizer reads of a hub, with --db $1
	"$HUB" --db "$1" venues list
	"$HUB" --db "$1" devices list
	"$HUB" --db "$1" users list
	"$HUB" --db "$1" checkins export --venue "$va" --format csv
	"$HUB" --db "$1" audit export --venue "$va" --format csv
}
snapshot "$SQLITE_DB" >"$WORK/before.txt" 2>/dev/null
expect_eq "$(sqlite3 "$SQLITE_DB" "SELECT count(*) FROM checkins")" 160 "check-ins on SQLite"
expect_eq "$(sqlite3 "$SQLITE_DB" "SELECT count(*) FROM checkins WHERE duplicate_of IS NOT NULL")" 40 \
	"second attendances on SQLite"

# ---- a target that is not empty: refused, nothing changed ----
busy=$(newdb)
"$HUB" --db "$busy" venues add "Already here" >/dev/null 2>&1
if "$HUB" migrate --from "$SQLITE_DB" --to "$busy" >"$WORK/m1.out" 2>&1; then fail "a migrate into a used database went through"; fi
grep -q "is not empty" "$WORK/m1.out" || fail "the refusal does not say why: $(cat "$WORK/m1.out")"
expect_eq "$(pgsql "$busy" "SELECT count(*) FROM venues")" 1 "venues in the used database after the refusal"
expect_eq "$(pgsql "$busy" "SELECT count(*) FROM members")" 0 "members in the used database after the refusal"

# ---- a row PostgreSQL refuses (bytes that are not UTF-8, in the last table copied): nothing kept ----
cp "$SQLITE_DB" "$WORK/bad.db"
sqlite3 "$WORK/bad.db" "INSERT INTO ref_days(day, slug, ref, venue_id, n) VALUES('2026-12-01', 'x', CAST(X'FF41' AS TEXT), '$va', 1)"
bad=$(newdb)
if "$HUB" migrate --from "$WORK/bad.db" --to "$bad" >"$WORK/m2.out" 2>&1; then fail "a migrate with a bad row went through"; fi
grep -q "nothing was kept" "$WORK/m2.out" || fail "the failed migrate does not say nothing was kept: $(cat "$WORK/m2.out")"
for t in venues members checkins attendances devices users; do
	expect_eq "$(pgsql "$bad" "SELECT count(*) FROM $t")" 0 "$t after a failed migrate"
done

# ---- the move ----
target=$(newdb)
"$HUB" migrate --from "$SQLITE_DB" --to "$target" >"$WORK/m3.out" 2>"$WORK/m3.err" || fail "migrate failed: $(cat "$WORK/m3.err")"
grep -q "checkins *160 rows, counted the same on both sides" "$WORK/m3.err" || fail "no count of check-ins: $(cat "$WORK/m3.err")"
snapshot "$target" >"$WORK/after.txt" 2>/dev/null
diff -u "$WORK/before.txt" "$WORK/after.txt" >&2 || fail "the hub reads differently after the move"
for t in members events links checkins attendances records sessions users live_days ref_days referrals; do
	expect_eq "$(pgsql "$target" "SELECT count(*) FROM $t")" "$(sqlite3 "$SQLITE_DB" "SELECT count(*) FROM $t")" \
		"rows of $t after the move"
done
expect_eq "$(pgsql "$target" "SELECT count(*) FROM checkins WHERE duplicate_of IS NOT NULL")" 40 \
	"second attendances after the move"
# the dashboard's summaries were made from the copied check-ins
expect_eq "$(pgsql "$target" "SELECT count(*) FROM member_stats")" 120 "members summed up for the dashboard"
# a second move into the same database is refused
if "$HUB" migrate --from "$SQLITE_DB" --to "$target" >/dev/null 2>&1; then fail "a second migrate went through"; fi
expect_eq "$(pgsql "$target" "SELECT count(*) FROM checkins")" 160 "check-ins after a second migrate was refused"

# ---- the kiosks go on with the hub on PostgreSQL ----
HUBDB=$target
hub_start "$PORT"
pulled=$(kiosk "$WORK/a.db" sync --once)
case $pulled in
*"pulled members 0, events 0, links 0"*) ;;
*) fail "kiosk a started over after the move (its cursors were not kept): $pulled" ;;
esac
codes "$WORK/more" 121 130
while read -r c; do kiosk "$WORK/a.db" checkin --code "$c" >/dev/null; done <"$WORK/more"
sync_until_clean "$WORK/a.db"
expect_eq "$(pgsql "$target" "SELECT count(*) FROM checkins")" 170 "check-ins after the kiosk's next push"
# new rows number on past the copied ones
expect_eq "$(pgsql "$target" "SELECT count(DISTINCT rid) FROM checkins")" 170 "check-in row numbers"
# the live code's cap of 5 counts the 3 redirects made before the move
for _ in 1 2 3; do curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/j/$slug"; done >"$WORK/codes.txt"
expect_eq "$(tr '\n' ' ' <"$WORK/codes.txt")" "302 302 410 " "redirects past the cap after the move"
hub_stop
echo "PASS migrate: SQLite to PostgreSQL, read the same, kiosks went on, failed moves kept nothing"
