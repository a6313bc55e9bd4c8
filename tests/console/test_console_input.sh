#!/usr/bin/env bash
# Hostile and clumsy input to the console, against a real hub: names and
# titles with markup, quotes, &, a right-to-left override and zero-width
# joiners are stored as typed and shown as text; a 60 MB upload gets a 413
# page; a CSV saved in GBK is refused with a message; the same import twice
# says "unchanged"; the same event form sent twice makes one event; a stale
# token and a session that expired while a form was open store nothing; a
# next= that would lead off the site is not followed. The checks are in
# test_console_input.py.
. "$(dirname "$0")/lib.sh"
hub_start
export TINGZI HUB HUBDB BASE WORK HUBLOG
py test_console_input.py || fail "the input checks"
kill -0 "$HPID" 2>/dev/null || fail "the hub died"
hub_stop
echo "PASS console input: markup shown as text, 413 for 60 MB, GBK refused, repeats, stale forms, next="
