"""Helpers of the "one way in" parity tests (issue #22 §2): the same action through the JSON API
and through the pages, each on a real server started with non-default limits, must write the
same rows and queue the same messages.

- `nondefault_settings`: settings read from the environment as a deployment's are, with the
  limits a default-built rule set would get wrong;
- `live_server`: a real uvicorn server of a fresh app on the test's database;
- `Browser`: a page session (the cookie the login would set) that posts forms with their CSRF
  token; `api_headers`: the same person's bearer token;
- `snapshot` / `reset`: every table's rows (random tokens left out), and an emptied database for
  the twin world.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from tests.support.auth import bearer, issue_token
from tests.support.databases import truncate_all
from tests.support.server import running_server
from watchroster.app import create_app
from watchroster.auth.models import User
from watchroster.core.clock import Clock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.models import Base
from watchroster.web.sessions import SESSION_COOKIE

# Non-default limits (issue #22 §2): a handler that built its rules from the settings' class
# defaults (10 notices, "ZA", "en", 2 calls a day) would write and queue something else.
NONDEFAULT_ENV = {
    "WATCHROSTER_BUDDY_NOTICES_PER_DAY": "0",
    # Only Namibian numbers: the South African members (the default's region) get nothing.
    "WATCHROSTER_OTP_ALLOWED_REGIONS": "NA",
    "WATCHROSTER_DEFAULT_LANGUAGE": "af",
    "WATCHROSTER_VOLUNTEER_CALLS_PER_DAY": "1",
}

# Columns holding random secrets: different in every world by design.
_RANDOM_COLUMNS = frozenset({"token_hash", "token"})
# Columns the models stamp with the wall clock (`default=utcnow`/`onupdate`), not the context's:
# they differ between two runs whatever the paths do.
_WALL_CLOCK = frozenset(
    {("schedules", "created_at"), ("schedules", "updated_at"), ("users", "created_at")}
)

Rows = dict[str, list[dict[str, Any]]]

_CSRF = re.compile(r'(?:name="csrf_token" value="|"X-CSRF-Token": ")([^"]+)"')


def nondefault_settings(monkeypatch: pytest.MonkeyPatch, db: Database, **fields: Any) -> Settings:
    """The settings a server started with `NONDEFAULT_ENV` reads (through the environment, as a
    deployment's), on this test's database, messages to a file."""
    for name, value in NONDEFAULT_ENV.items():
        monkeypatch.setenv(name, value)
    settings = Settings(
        _env_file=None, database_url=db.url, timezone="Africa/Johannesburg", **fields
    )
    assert settings.buddy_notices_per_day == 0 and settings.default_language == "af"
    return settings


@contextmanager
def live_server(settings: Settings, db: Database, clock: Clock) -> Iterator[str]:
    """A fresh app (its own context, rules and hooks) served by uvicorn: its base URL."""
    app = create_app(settings, db=db, clock=clock, checkpoints=False)
    with running_server(app) as url:
        yield url


def api_headers(db: Database, settings: Settings, user: User, clock: Clock) -> dict[str, str]:
    return bearer(issue_token(db, settings, user, clock))


class Browser:
    """One person's browser on the pages: their session cookie, forms posted with the page's
    CSRF token, redirects returned rather than followed."""

    def __init__(self, url: str, token: str, home: str) -> None:
        self.client = httpx.Client(base_url=url, cookies={SESSION_COOKIE: token}, timeout=30)
        self.home = home  # a page of theirs that carries the token

    def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        page = self.client.get(self.home)
        found = _CSRF.search(page.text)
        assert found, f"no CSRF token on {self.home} ({page.status_code})"
        body = {"csrf_token": found.group(1), **(data or {})}
        return self.client.post(path, data=body, follow_redirects=False)

    def close(self) -> None:
        self.client.close()


def browser(db: Database, settings: Settings, user: User, clock: Clock, url: str) -> Browser:
    home = "/admin/people" if user.role == "admin" else "/profile"
    return Browser(url, issue_token(db, settings, user, clock), home)


def snapshot(db: Database) -> Rows:
    """Every table's rows in primary-key order, random secrets and wall-clock stamps left out."""
    found: Rows = {}
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = session.execute(select(table).order_by(*order)).mappings()
            found[table.name] = [
                {
                    key: value
                    for key, value in row.items()
                    if key not in _RANDOM_COLUMNS and (table.name, key) not in _WALL_CLOCK
                }
                for row in rows
            ]
    return found


def differences(first: Rows, second: Rows) -> list[str]:
    """What differs between two snapshots, one line per column of a row (empty: the same)."""
    found = []
    for name in first.keys() | second.keys():
        a, b = first.get(name, []), second.get(name, [])
        if len(a) != len(b):
            found.append(f"{name}: {len(a)} rows != {len(b)} rows")
            continue
        for index, (row_a, row_b) in enumerate(zip(a, b, strict=True)):
            for column in row_a.keys() | row_b.keys():
                if row_a.get(column) != row_b.get(column):
                    found.append(
                        f"{name}[{index}].{column}: {row_a.get(column)!r} != {row_b.get(column)!r}"
                    )
    return sorted(found)


def reset(db: Database) -> None:
    """Every table emptied and the ids restarted, so the twin world gets the same ids."""
    if not db.is_sqlite:
        truncate_all(db)
        return
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        has_sequences = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
        ).first()
        if has_sequences:
            connection.execute(text("DELETE FROM sqlite_sequence"))
