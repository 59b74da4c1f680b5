"""The test suite says why PostgreSQL tests cannot run: a missing database is not a server down."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import POSTGRES_ADMIN_URL, postgres_unavailable_reason


def test_a_missing_test_database_is_reported_as_missing() -> None:
    if postgres_unavailable_reason() is not None:
        pytest.skip("PostgreSQL not reachable: nothing to compare against")
    url = make_url(POSTGRES_ADMIN_URL).set(database="watchroster_no_such_database")
    reason = postgres_unavailable_reason(url.render_as_string(hide_password=False))
    assert reason is not None
    assert "'watchroster_no_such_database' does not exist" in reason
    assert "createdb" in reason and "not reachable" not in reason


def test_a_server_that_is_down_is_reported_as_not_reachable() -> None:
    url = make_url(POSTGRES_ADMIN_URL).set(host="127.0.0.1", port=9)  # discard: nothing listens
    reason = postgres_unavailable_reason(url.render_as_string(hide_password=False))
    assert reason is not None and "not reachable" in reason
