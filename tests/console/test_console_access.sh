#!/usr/bin/env bash
# Who may open what in the console, against a real hub: every route that
# `tingzi-hub console routes` prints, for no session, staff of venue A, an
# organizer of venue A, the owner and an organizer of venue B (status, and
# nothing stored when refused); an id of venue B under venue A's path; CSRF
# (none, another session's, a stale one); the lock after 5 wrong passwords
# (per account and address); a session idle 12 hours; a disabled account;
# logout; a new session id at every login; cookie attributes, Secure over TLS.
# The assertions are in test_console_access.py.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is not installed"

hub_start
export TINGZI HUB HUBDB BASE WORK
py test_console_access.py plain || fail "the access checks over HTTP"

# the same hub over TLS: the cookies are Secure
hub_stop
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
	fail "openssl could not make a certificate"
HUB_SCHEME=https hub_start --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
BASE=https://127.0.0.1:$PORT
export BASE CAFILE=$WORK/cert.pem
py test_console_access.py tls || fail "the cookie checks over HTTPS"
hub_stop
echo "PASS console access: the route x role matrix, CSRF, lockout, idle sessions, disable, logout, cookies"
