"""Authorization cases of calendar feeds (issue #12 §4).

The .ics URLs are authenticated by the secret token in their path, never by a bearer token:
with an unknown token every caller, even an admin with a valid bearer token, gets the 404 of an
unknown path (tests/integration/calendar covers the real tokens). Replacing one's own link
needs a bearer token.
"""

from tests.integration.authz.harness import EVERYONE_LOGGED_IN, PUBLIC, Case

CASES: list[Case] = [
    Case("GET", "/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics", PUBLIC),
    Case("GET", "/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/roster.ics", PUBLIC),
    Case("POST", "/me/calendar-link", EVERYONE_LOGGED_IN),
]
