"""Cancelled shifts (issue #11 §2): listing, cancelling one shift and undoing it are for admins.

The scenario's schedule fires daily at 18:00 in Johannesburg; the owner's future booking is on
3 May 2025, and 4 May 2025 is cancelled already ({exception_id})."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

# The owner's booked shift: an admin's cancellation cancels the booking too.
_CANCEL = {"start": "2025-05-03T18:00:00+02:00", "reason": "Storm warning"}

CASES: list[Case] = [
    Case("GET", "/schedules/{schedule_id}/exceptions", ADMIN_ONLY),
    Case("POST", "/schedules/{schedule_id}/exceptions", ADMIN_ONLY, json=_CANCEL),
    Case("DELETE", "/schedules/{schedule_id}/exceptions/{exception_id}", ADMIN_ONLY),
]

_MISSING = 999_999
# Errors the matrix does not provoke (tests/integration/ops/test_openapi_statuses.py PROBES).
PROBES: list[Case] = [
    Case("GET", f"/schedules/{_MISSING}/exceptions", ADMIN_ONLY),
    Case("GET", "/schedules/x/exceptions", ADMIN_ONLY),
    Case("POST", f"/schedules/{_MISSING}/exceptions", ADMIN_ONLY, json=_CANCEL),
    Case("POST", "/schedules/{schedule_id}/exceptions", ADMIN_ONLY, json={"start": "soon"}),
    Case(
        "POST",
        "/schedules/{schedule_id}/exceptions",
        ADMIN_ONLY,
        json={"start": "2025-05-04T18:00:00+02:00", "reason": "Twice"},
    ),
    Case("DELETE", "/schedules/{schedule_id}/exceptions/{past_exception_id}", ADMIN_ONLY),
    Case("DELETE", f"/schedules/{{schedule_id}}/exceptions/{_MISSING}", ADMIN_ONLY),
    Case("DELETE", "/schedules/{schedule_id}/exceptions/x", ADMIN_ONLY),
]
