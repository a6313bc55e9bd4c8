#!/usr/bin/env bash
# HTTPS, the way the README documents it: the hub serves TLS itself
# (--tls-cert/--tls-key, GnuTLS through libmicrohttpd). A kiosk that trusts
# the hub's certificate authority (TINGZI_HUB_CA) enrolls and syncs over
# https://; one that does not refuses to talk to it.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is not installed"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
	fail "openssl could not make a certificate"
venue=$(hub venues add "TLS Teahouse" | grep -oE '[0-9a-f]{32}' | head -n 1)
members_csv "$WORK/members.csv" 30
hub members import "$WORK/members.csv" --venue "$venue" >/dev/null
PORT=$(free_port)
"$HUB" serve --listen "127.0.0.1:$PORT" --db "$HUBDB" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" \
	2>>"$HUBLOG" &
HPID=$!
for _ in $(seq 100); do
	curl -sf --cacert "$WORK/cert.pem" "https://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break
	sleep 0.05
done
curl -sf --cacert "$WORK/cert.pem" "https://127.0.0.1:$PORT/v1/health" | jq -e .ok >/dev/null ||
	fail "the hub does not answer HTTPS"
# plain HTTP to the TLS port gets nowhere
if curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1; then fail "plain HTTP was answered"; fi

code=$(hub devices enroll-code "$venue" | tail -n 1)
# not trusted: refused, and nothing saved
if kiosk "$WORK/k.db" enroll "https://127.0.0.1:$PORT" "$code" >/dev/null 2>"$WORK/err"; then
	fail "the kiosk enrolled with a hub it does not trust"
fi
expect_eq "$(sqlite3 "$WORK/k.db" "SELECT count(*) FROM settings WHERE key = 'hub_token'" 2>/dev/null || echo 0)" 0 \
	"a token saved from an untrusted hub"
export TINGZI_HUB_CA=$WORK/cert.pem
kiosk "$WORK/k.db" enroll "https://127.0.0.1:$PORT" "$code" >/dev/null || fail "enroll over HTTPS"
kiosk "$WORK/k.db" sync --once >/dev/null || fail "sync over HTTPS"
expect_eq "$(sqlite3 "$WORK/k.db" 'SELECT count(*) FROM members WHERE active = 1')" 30 "the roster over HTTPS"
codes "$WORK/c" 1 30
kiosk "$WORK/k.db" checkin --code-file "$WORK/c" >/dev/null || fail "check-ins"
sync_until_clean "$WORK/k.db"
expect_eq "$(hubsql 'SELECT count(*) FROM checkins')" 30 "check-ins at the hub over HTTPS"
hub_stop
echo "PASS tls: enrolled and synced 30 check-ins over https://; an untrusted hub refused"
