"""Runs every case of every feature for every caller, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.authz.cases import ALL_CASES
from tests.integration.authz.harness import CALLERS, Case, build_scenario, call, check
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.label for case in ALL_CASES])
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization(
    case: Case,
    caller: str,
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    scenario = build_scenario(db, settings, clock)
    check(call(client, scenario, case, caller), case, caller)
