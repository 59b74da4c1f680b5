"""Authorization cases of the console's people and message backlog: admins only."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

CASES: list[Case] = [
    Case("GET", "/people", ADMIN_ONLY),
    Case("POST", "/users/{owner_id}/phone", ADMIN_ONLY),
    Case("GET", "/admin/outbox/stats", ADMIN_ONLY),
    Case("POST", "/admin/outbox/retry-failed", ADMIN_ONLY),
]

# Errors the matrix does not provoke (tests/integration/ops/test_openapi_statuses.py).
PROBES: list[Case] = [
    Case("GET", "/people", ADMIN_ONLY, params={"limit": 0}),
    Case("POST", "/users/999999/phone", ADMIN_ONLY),
    Case("POST", "/users/x/phone", ADMIN_ONLY),
]
