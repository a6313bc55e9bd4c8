#!/usr/bin/env bash
# What the hub refuses, and that it keeps serving after each refusal: no
# token, a wrong token and a revoked device get 401; a device of venue A
# asking for venue B gets 403; an enrolment code works once; a body over the
# cap, a gzip bomb, malformed or too deep JSON, a bad field and an unknown
# encoding get 413, 400 or 415 with a reason. Nothing refused is stored.
. "$(dirname "$0")/lib.sh"

a=$(hub venues add "Venue A" | grep -oE '[0-9a-f]{32}' | head -n 1)
b=$(hub venues add "Venue B" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 20
hub members import "$WORK/members.csv" --venue "$a" >/dev/null
hub members import "$WORK/members.csv" --venue "$b" >/dev/null
hub_start
URL="http://127.0.0.1:$PORT"

# status METHOD PATH [curl args...]: the HTTP status; the body in $WORK/body
status() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" "$URL$p" "$@"
}
alive() {
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/health")" 200 "health after $1"
	kill -0 "$HPID" || fail "the hub died after $1"
}
# expect STATUS ERROR-CODE WHAT METHOD PATH [curl args...]
expect() {
	local want=$1 code=$2 what=$3
	shift 3
	local got
	got=$(status "$@")
	expect_eq "$got" "$want" "$what"
	if [ -n "$code" ]; then
		expect_eq "$(jq -r .error "$WORK/body")" "$code" "$what: error code"
		[ -n "$(jq -r .message "$WORK/body")" ] || fail "$what: no message"
	fi
	alive "$what"
}

# --- enrolment ---
code=$(hub devices enroll-code "$a" | tail -n 1)
kiosk "$WORK/k.db" enroll "$URL" "$code" --name "door" >/dev/null || fail "enroll"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "the first sync"
token=$(sqlite3 "$WORK/k.db" "SELECT value FROM settings WHERE key = 'hub_token'")
dev=$(sqlite3 "$WORK/k.db" "SELECT value FROM settings WHERE key = 'device_id'")
[[ $token == tzd1.$dev.* ]] || fail "the token is not tzd1.DEVICE.SECRET: $token"
secret=${token##*.}
# the hub keeps only a hash of the token
# (dumped whole first: a grep -q that stops the pipe early would hide a match under pipefail)
hub_dump "$WORK/hub-dump.sql"
[ -s "$WORK/hub-dump.sql" ] || fail "the hub database could not be dumped"
grep -q "$secret" "$WORK/hub-dump.sql" && fail "the hub database holds the token's secret"
grep -q "$secret" "$HUBLOG" && fail "the hub log holds the token's secret"
pk=$(printf '%064d' 0)
expect 403 code_invalid "a used enrolment code" POST /v1/enroll \
	-d "{\"code\":\"$code\",\"device_id\":\"$(printf '%032d' 1)\",\"public_key\":\"$pk\"}"
expect 403 code_invalid "an unknown enrolment code" POST /v1/enroll \
	-d "{\"code\":\"NOPE-NOPE-NOPE\",\"device_id\":\"$(printf '%032d' 1)\",\"public_key\":\"$pk\"}"
expect 400 bad_field "an enrolment without a device id" POST /v1/enroll -d '{"code":"ABCDEFGHJK"}'
expect_eq "$(hubsql 'SELECT count(*) FROM devices')" 1 "devices after refused enrolments"

# --- authentication ---
pull_a="/v1/venues/$a/pull/members?since=0&limit=10"
expect 200 "" "the device's own venue" GET "$pull_a" -H "Authorization: Bearer $token"
expect_eq "$(jq '.items | length' "$WORK/body")" 10 "a page of 10 members"
expect 401 unauthorized "no token" GET "$pull_a"
expect 401 unauthorized "a wrong token" GET "$pull_a" -H "Authorization: Bearer tzd1.$dev.$(printf '%064d' 7)"
expect 401 unauthorized "a malformed token" GET "$pull_a" -H "Authorization: Bearer hello"
expect 401 unauthorized "a push without a token" POST "/v1/venues/$a/push" -d '{}'

# --- venue A's device and venue B ---
expect 403 forbidden "venue B's members" GET "/v1/venues/$b/pull/members?since=0" -H "Authorization: Bearer $token"
expect 403 forbidden "a push to venue B" POST "/v1/venues/$b/push" -H "Authorization: Bearer $token" \
	-d "{\"device_id\":\"$dev\",\"device_time_ms\":1}"

# --- bodies ---
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
push="/v1/venues/$a/push"
head -c $((9 * 1024 * 1024)) /dev/zero >"$WORK/big"
expect 413 too_large "a 9 MiB body" POST "$push" "${auth[@]}" --data-binary @"$WORK/big"
head -c $((200 * 1024 * 1024)) /dev/zero | gzip -9 >"$WORK/bomb.gz"
expect 413 too_large "a gzip bomb ($(stat -c %s "$WORK/bomb.gz") bytes, 200 MiB inflated)" POST "$push" \
	"${auth[@]}" -H "Content-Encoding: gzip" --data-binary @"$WORK/bomb.gz"
expect 415 unsupported_encoding "a brotli body" POST "$push" "${auth[@]}" -H "Content-Encoding: br" -d 'x'
expect 400 bad_json "malformed JSON" POST "$push" "${auth[@]}" -d '{"device_id": '
python3 -c 'print("[" * 5000 + "]" * 5000)' >"$WORK/deep"
expect 400 bad_json "JSON 5000 deep" POST "$push" "${auth[@]}" --data-binary @"$WORK/deep"
expect 400 bad_field "a push without device_time_ms" POST "$push" "${auth[@]}" -d "{\"device_id\":\"$dev\"}"
expect 400 bad_field "check-in columns of different lengths" POST "$push" "${auth[@]}" \
	-d "{\"device_id\":\"$dev\",\"device_time_ms\":1,\"checkins\":{\"id\":[\"$(printf '%032d' 5)\"],\"member\":[]}}"
expect 403 forbidden "another device's id in the body" POST "$push" "${auth[@]}" \
	-d "{\"device_id\":\"$(printf '%032d' 9)\",\"device_time_ms\":1}"
expect 400 bad_limit "limit=0" GET "/v1/venues/$a/pull/members?since=0&limit=0" -H "Authorization: Bearer $token"
expect 404 not_found "an unknown data set" GET "/v1/venues/$a/pull/secrets?since=0" -H "Authorization: Bearer $token"
expect 405 method_not_allowed "DELETE on push" DELETE "$push" "${auth[@]}"
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 0 "check-ins stored from refused requests"

# a real push still works after all that
codes "$WORK/c" 1 5
kiosk "$WORK/k.db" checkin --code-file "$WORK/c" >/dev/null || fail "check-ins"
kiosk "$WORK/k.db" sync --once >"$WORK/sync.out" || fail "sync: $(cat "$WORK/sync.out")"
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 5 "check-ins after a good push"

# --- revoked ---
hub devices revoke "$dev" 2>/dev/null || fail "revoke"
expect 401 unauthorized "a revoked device" GET "$pull_a" -H "Authorization: Bearer $token"
codes "$WORK/c" 6 6
kiosk "$WORK/k.db" checkin --code-file "$WORK/c" >/dev/null || fail "a check-in after revocation"
set +e
kiosk "$WORK/k.db" sync --once >"$WORK/sync.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 3 "sync --once exit status of a revoked kiosk"
expect_eq "$(sqlite3 "$WORK/k.db" 'SELECT count(*) FROM outbox')" 1 "the revoked kiosk's queue (kept)"
hub devices list 2>/dev/null | grep -q REVOKED || fail "devices list does not show the revocation"
grep -qE '401' "$HUBLOG" || fail "the hub log has no 401 line"
hub_stop
echo "PASS security: 401, 403, 413, 415, 400, 404, 405 answered; the hub kept serving"
