"""Authorization cases of calls for volunteers: admins only."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

# The scenario's one schedule (id 1 in a fresh database, as in cases_bookings) runs daily at
# 18:00 Johannesburg; Friday 2 May is still open.
OPEN_SLOT = {"schedule_id": 1, "start": "2025-05-02T18:00:00+02:00"}

CASES: list[Case] = [
    Case("POST", "/roster/calls", ADMIN_ONLY, json=OPEN_SLOT),
    Case("GET", "/roster/calls", ADMIN_ONLY),
    Case("GET", "/roster/calls", ADMIN_ONLY, params={"from": "2025-05-01", "to": "2025-05-14"}),
]

# Errors the matrix does not provoke (tests/integration/ops/test_openapi_statuses.py), in order.
PROBES: list[Case] = [
    Case("POST", "/roster/calls", ADMIN_ONLY, json=OPEN_SLOT),
    Case("POST", "/roster/calls", ADMIN_ONLY, json=OPEN_SLOT),  # the second call: 409
    Case("POST", "/roster/calls", ADMIN_ONLY, json={**OPEN_SLOT, "start": "2025-05-02T18:07Z"}),
    Case("POST", "/roster/calls", ADMIN_ONLY, json={**OPEN_SLOT, "schedule_id": 999_999}),
    Case("GET", "/roster/calls", ADMIN_ONLY, params={"from": "yesterday"}),
]
