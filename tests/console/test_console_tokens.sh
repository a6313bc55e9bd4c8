#!/usr/bin/env bash
# The console's API tokens page against a real hub: an organizer makes a
# token (shown once, on the answer to the form, and then in no page), the
# token opens the API at once for its own venue, the list shows its name and
# scope and no secret, revoking it closes the API to it at its next request;
# a name twice is refused with a sentence; staff may not open the page; each
# change is in the venue's audit log. The assertions are in
# test_console_tokens.py.
. "$(dirname "$0")/lib.sh"

VENUE=$(venue_add "听雨茶馆" --tz Asia/Shanghai)
OTHER=$(venue_add "Other" --tz UTC)
ORG_TOKEN=$(user_add org@example.org organizer --venue "$VENUE")
STAFF_TOKEN=$(user_add staff@example.org staff --venue "$VENUE")
hub_start
export HUBDB BASE VENUE OTHER ORG_TOKEN STAFF_TOKEN
py test_console_tokens.py || fail "the tokens page"
hub_stop
echo "PASS console tokens: made and shown once, listed without secrets, revoked at once, audited"
