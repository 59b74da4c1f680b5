"""The roster (who is on which shift, names included) and its CSV: admins only."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

CASES: list[Case] = [
    Case("GET", "/roster", ADMIN_ONLY),
    Case("GET", "/roster", ADMIN_ONLY, params={"start": "2025-05-01", "days": 31}),
    Case("GET", "/roster.csv", ADMIN_ONLY, params={"start": "2025-05-01", "days": 7}),
]
