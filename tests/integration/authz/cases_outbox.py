"""Authorization cases of the outbox feature: only admins see or retry queued messages."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

CASES: list[Case] = [
    Case("GET", "/admin/outbox", ADMIN_ONLY),
    Case("GET", "/admin/outbox", ADMIN_ONLY, params={"status": "failed", "limit": 10}),
    Case("POST", "/admin/outbox/{message_id}/retry", ADMIN_ONLY),
]
