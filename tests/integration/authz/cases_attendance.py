"""Attendance figures (issue #11 §4): admins only, JSON and CSV."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

CASES: list[Case] = [
    Case("GET", "/attendance", ADMIN_ONLY),
    Case("GET", "/attendance", ADMIN_ONLY, params={"from": "2025-04-01", "sort": "-absent"}),
    Case("GET", "/attendance.csv", ADMIN_ONLY),
]
# Errors the matrix does not provoke (test_openapi_statuses.py), called as an admin.
PROBES: list[Case] = [
    Case("GET", "/attendance", ADMIN_ONLY, params={"sort": "phone"}),
    Case("GET", "/attendance.csv", ADMIN_ONLY, params={"from": "2025-05-02", "to": "2025-05-01"}),
]
