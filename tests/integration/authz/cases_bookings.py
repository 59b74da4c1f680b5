"""Bookings and incident reports: who may call what.

{booking_id}: the owner's future booking; {past_booking_id}: the owner's booking whose shift has
passed. Both have the buddy (a registered member) as buddy. The buddy may read, record their own
attendance, report, decline and say "home safe" (issue #12 §3, §5); only the owner changes the
buddy, only the buddy declines.
A fresh scenario has one schedule, id 1 ("0 18 * * *" in Africa/Johannesburg).
"""

from tests.integration.authz.harness import ADMIN_ONLY, EVERYONE_LOGGED_IN, Case

OWNER_ADMIN = frozenset({"owner", "admin"})
READERS = frozenset({"owner", "buddy", "admin"})
PARTICIPANTS = READERS  # the people on the shift, and admins
OWNER = frozenset({"owner"})
BUDDY = frozenset({"buddy"})
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
    Case("POST", "/bookings/{past_booking_id}/report", PARTICIPANTS, json=REPORT),
    Case("POST", "/bookings/{booking_id}/report", PARTICIPANTS, json=REPORT),  # 409 before start
    # Issue #12 §3: the buddy's own list, attendance, decline; the owner's change of buddy.
    Case("GET", "/bookings", EVERYONE_LOGGED_IN, params={"role": "buddy"}),
    Case("GET", "/bookings", ADMIN_ONLY, params={"role": "buddy", "user_id": "1"}),
    Case("PATCH", "/bookings/{past_booking_id}", PARTICIPANTS, json={"buddy_attended": True}),
    Case(
        "POST",
        "/bookings/{past_booking_id}/attendance",
        PARTICIPANTS,
        json={"buddy_attended": True},
    ),
    Case("PATCH", "/bookings/{booking_id}", OWNER, json={"buddy_name": "Sam"}),
    Case("PATCH", "/bookings/{past_booking_id}", OWNER, json={"buddy_name": "Sam"}),  # 409
    Case("POST", "/bookings/{booking_id}/decline", BUDDY),
    Case("POST", "/bookings/{past_booking_id}/decline", BUDDY),  # 409 once started
    # Issue #12 §5: "home safe" once the shift has ended.
    Case("POST", "/bookings/{past_booking_id}/safe", PARTICIPANTS),
    Case("POST", "/bookings/{booking_id}/safe", PARTICIPANTS),  # 409 before the end
    Case("GET", "/reports", EVERYONE_LOGGED_IN),
    Case("GET", "/reports", EVERYONE_LOGGED_IN, params={"severity": "2", "from": "2025-04-01"}),
]
