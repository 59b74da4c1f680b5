"""Schedules and open shifts: reading is public; the roster view (names) needs a login;
creating, changing and deleting schedules is for admins."""

from tests.integration.authz.harness import ADMIN_ONLY, EVERYONE_LOGGED_IN, PUBLIC, Case

_NEW_SCHEDULE = {"name": "Saturday patrol", "cron_expr": "0 18 * * SAT", "duration_minutes": 120}

CASES: list[Case] = [
    Case("GET", "/schedules", PUBLIC),
    Case("GET", "/schedules/{schedule_id}", PUBLIC),
    Case("GET", "/shifts/available", PUBLIC),
    Case("GET", "/shifts/available", EVERYONE_LOGGED_IN, params={"include_booked": "true"}),
    Case("POST", "/schedules", ADMIN_ONLY, json=_NEW_SCHEDULE),
    Case("PATCH", "/schedules/{schedule_id}", ADMIN_ONLY, json={"name": "Renamed"}),
    # The scenario's schedule has a future booking: an admin gets 409, everyone else no further.
    Case("DELETE", "/schedules/{schedule_id}", ADMIN_ONLY),
]
