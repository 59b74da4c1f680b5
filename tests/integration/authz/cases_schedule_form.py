"""The console's schedule form through the API: the preview of a draft schedule is for admins."""

from tests.integration.authz.harness import ADMIN_ONLY, Case

_DRAFT = {"weekdays": ["FRI"], "start_local": "18:00", "duration_minutes": 180}

CASES: list[Case] = [
    Case("POST", "/schedule-preview", ADMIN_ONLY, json=_DRAFT),
]
