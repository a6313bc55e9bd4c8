#!/usr/bin/env bash
# A venue with no network: the kiosk writes its queue to signed files, the
# organizer imports them on the hub. Exactly once holds: importing a file
# twice, then the kiosk's own later push, store nothing new. A changed file,
# or one of a revoked device, is refused whole.
. "$(dirname "$0")/lib.sh"

venue=$(hub venues add "Offline Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 1500
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
hub_start
code=$(hub devices enroll-code "$venue" | tail -n 1)
kiosk "$WORK/k.db" enroll "http://127.0.0.1:$PORT" "$code" >/dev/null || fail "enroll"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "the first sync"
hub_stop

# --- no network: 1 200 check-ins, exported ---
codes "$WORK/c" 1 1200
kiosk "$WORK/k.db" checkin --code-file "$WORK/c" >/dev/null || fail "check-ins"
mkdir "$WORK/usb"
kiosk "$WORK/k.db" export --to "$WORK/usb" >"$WORK/export.out" || fail "export: $(cat "$WORK/export.out")"
files=("$WORK"/usb/*.tzb)
expect_eq "${#files[@]}" 2 "batch files for 1 200 check-ins (1 000 a file)"
expect_eq "$(sqlite3 "$WORK/k.db" 'SELECT count(*) FROM outbox')" 1200 "the queue after export (kept)"

# --- a changed file is refused, and stores nothing ---
cp "${files[0]}" "$WORK/tampered.tzb"
python3 - "$WORK/tampered.tzb" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.index(b'"wall_ms":[') + len(b'"wall_ms":[')
b[i] = ord("1") if b[i] != ord("1") else ord("2")   # one digit of one time
open(p, "wb").write(bytes(b))
PY
if hub import "$WORK/tampered.tzb" 2>"$WORK/err"; then fail "a changed file was imported"; fi
grep -q "signature does not verify" "$WORK/err" || fail "the refusal says: $(cat "$WORK/err")"
printf 'tzb1\n{"device_id": 1}\n' >"$WORK/junk.tzb"
if hub import "$WORK/junk.tzb" 2>"$WORK/err"; then fail "a junk file was imported"; fi
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 0 "check-ins after refused files"

# --- the organizer imports; twice ---
for f in "${files[@]}"; do hub import "$f" >>"$WORK/import.out" || fail "import $f"; done
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 1200 "check-ins after the import"
for f in "${files[@]}"; do hub import "$f" >>"$WORK/import2.out" || fail "import $f again"; done
grep -q ' 0 new, 1000 already here' "$WORK/import2.out" || fail "the second import: $(cat "$WORK/import2.out")"
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 1200 "check-ins after importing twice"

# --- the kiosk learns its first file landed; a later push moves nothing twice ---
kiosk "$WORK/k.db" export --confirm "${files[0]}" >/dev/null || fail "confirm"
expect_eq "$(sqlite3 "$WORK/k.db" 'SELECT count(*) FROM outbox')" 200 "the queue after confirming one file"
hub_start
sync_until_clean "$WORK/k.db"
hub checkins export --venue "$venue" --format json | jq -r '.[].id' | sort >"$WORK/hub.ids"
ids_of_kiosk "$WORK/k.db" >"$WORK/kiosk.ids"
cmp -s "$WORK/hub.ids" "$WORK/kiosk.ids" || fail "the hub's check-ins are not the kiosk's"
grep -q ' 200 duplicate' "$HUBLOG" || fail "the push of already imported records was not answered duplicate"

# --- a revoked device's file is refused ---
dev=$(sqlite3 "$WORK/k.db" "SELECT value FROM settings WHERE key = 'device_id'")
hub devices revoke "$dev" 2>/dev/null
codes "$WORK/c2" 1201 1210
kiosk "$WORK/k.db" checkin --code-file "$WORK/c2" >/dev/null || fail "check-ins"
mkdir "$WORK/usb2"
kiosk "$WORK/k.db" export --to "$WORK/usb2" >/dev/null || fail "export 2"
if hub import "$WORK"/usb2/*.tzb 2>"$WORK/err"; then fail "a revoked device's file was imported"; fi
grep -q revoked "$WORK/err" || fail "the refusal says: $(cat "$WORK/err")"
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 1200 "check-ins after the revoked file"
hub_stop
echo "PASS sneakernet: 1200 check-ins in 2 signed files, each stored once; changed and revoked files refused"
