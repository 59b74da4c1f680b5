"""The incident inbox (issue #11 §5): admins only. {report_id}: a report on the past booking."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

CASES: list[Case] = [
    Case("GET", "/incidents", ADMIN_ONLY),
    Case("GET", "/incidents", ADMIN_ONLY, params={"severity": "2", "unreviewed": "true"}),
    Case("GET", "/incidents.csv", ADMIN_ONLY),
    Case("GET", "/incidents/{report_id}", ADMIN_ONLY),  # issue #21 §2: an alert's report
    Case("POST", "/incidents/{report_id}/review", ADMIN_ONLY, json={"note": "Read"}),
]
# Errors the matrix does not provoke (test_openapi_statuses.py), called as an admin in order
# on one scenario: the first review succeeds, the second is 409.
PROBES: list[Case] = [
    Case("GET", "/incidents", ADMIN_ONLY, params={"from": "2025-05-02", "to": "2025-05-01"}),
    Case("GET", "/incidents.csv", ADMIN_ONLY, params={"severity": "5"}),
    Case("GET", "/incidents/999999", ADMIN_ONLY),
    Case("GET", "/incidents/x", ADMIN_ONLY),
    Case("POST", "/incidents/999999/review", ADMIN_ONLY, json={}),
    Case("POST", "/incidents/{report_id}/review", ADMIN_ONLY, json={"note": "x" * 1001}),
    Case("POST", "/incidents/{report_id}/review", ADMIN_ONLY, json={}),
    Case("POST", "/incidents/{report_id}/review", ADMIN_ONLY, json={}),
]
