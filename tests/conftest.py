"""Shared fixtures. Every test that takes `db` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support import databases
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_user
from watchroster.app import create_app
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings, get_settings
from watchroster.db.engine import Database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from databases.postgres_session_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        database = Database(databases.fresh_sqlite(template, tmp_path))
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        databases.truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables yet (migration tests), on SQLite and on PostgreSQL."""
    yield from databases.empty_database(request.param, tmp_path)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 5, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=db.url,
        timezone="Africa/Johannesburg",
        message_backend="file",
        message_file=tmp_path / "messages.jsonl",
    )


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line reads its settings from the environment: this test's database, and no
    settings cached from another test."""
    monkeypatch.setenv("WATCHROSTER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def admin_headers(db: Database, settings: Settings, clock: FrozenClock) -> dict[str, str]:
    """The API headers of a coordinator, for tests of admin endpoints."""
    admin = add_user(db, "+27821230099", "Coordinator", role="admin")
    return bearer(issue_token(db, settings, admin, clock))


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings, db=db, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
