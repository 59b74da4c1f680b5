"""Bookings and incident reports: who may call what.

{booking_id}: the owner's future booking; {past_booking_id}: the owner's booking whose shift has
passed. Both have the buddy (a registered member) as buddy. The buddy may read, never change.
A fresh scenario has one schedule, id 1 ("0 18 * * *" in Africa/Johannesburg).
"""

from tests.integration.authz.harness import ADMIN_ONLY, EVERYONE_LOGGED_IN, Case

OWNER_ADMIN = frozenset({"owner", "admin"})
READERS = frozenset({"owner", "buddy", "admin"})
ATTENDED = {"attended": True, "buddy_attended": True}
REPORT = {"severity": 1, "message": "All quiet"}

CASES: list[Case] = [
    Case(
        "POST",
        "/bookings",
        EVERYONE_LOGGED_IN,
        json={"schedule_id": 1, "start_time": "2025-05-05T18:00:00+02:00"},
    ),
    Case("GET", "/bookings", EVERYONE_LOGGED_IN),
    Case("GET", "/bookings", ADMIN_ONLY, params={"user_id": "1"}),
    Case("GET", "/bookings/{booking_id}", READERS),
    Case("GET", "/bookings/{past_booking_id}", READERS),
    Case("GET", "/bookings/999999", EVERYONE_LOGGED_IN),  # 404 for all, 401 anonymous
    Case("DELETE", "/bookings/{booking_id}", OWNER_ADMIN),
    Case("DELETE", "/bookings/{past_booking_id}", OWNER_ADMIN),  # 409 once started
    Case("PATCH", "/bookings/{past_booking_id}", OWNER_ADMIN, json=ATTENDED),
    Case("PATCH", "/bookings/{booking_id}", OWNER_ADMIN, json=ATTENDED),  # 409 before start
    Case("POST", "/bookings/{past_booking_id}/attendance", OWNER_ADMIN, json=ATTENDED),
    Case("POST", "/bookings/{past_booking_id}/report", OWNER_ADMIN, json=REPORT),
    Case("POST", "/bookings/{booking_id}/report", OWNER_ADMIN, json=REPORT),  # 409 before start
    Case("GET", "/reports", EVERYONE_LOGGED_IN),
    Case("GET", "/reports", EVERYONE_LOGGED_IN, params={"severity": "2", "from": "2025-04-01"}),
]
