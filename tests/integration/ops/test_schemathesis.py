"""Schemathesis, every check, against a real `watchroster serve` on a fresh SQLite file: 0 failures.

Bounded for CI: a few examples per operation (`MAX_EXAMPLES`), every phase but the slow stateful
one, under two minutes. It calls as an admin (a token issued straight into the database) so the
logged-in operations get past their 401; the two operations that would end that session
(`POST /auth/logout`, `DELETE /me`) are left out. The rules JSON Schema cannot express (a phone
number that parses, a cron expression that ever fires, a buddy who is not the caller) stay 400s
the schema documents; `schemathesis.toml` (next to this file) explains how the checks are told so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.ops.processes import ServeProcess, watchroster_env
from tests.support.auth import issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.app import create_app
from watchroster.core.clock import system_clock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.db.migrate import upgrade
from watchroster.outbox.models import STATUS_FAILED, OutboxMessage
from watchroster.outbox.service import queue_message

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 5
TIME_BUDGET_SECONDS = 110
# Operations that would end the admin's session, and every later call's authentication with it:
# POST /auth/logout and DELETE /me (FastAPI's operation ids).
SESSION_ENDERS = ("logout_auth_logout_post", "erase_me_me_delete")


def _seed(database_url: str) -> str:
    """Seeds the rows `schemathesis.toml` names (bookings and messages 1-2); the admin's token."""
    db = Database(database_url)
    try:
        upgrade(db.engine)
        schedule = add_schedule(db, name="Nightly patrol", cron_expr="0 18 * * *")
        admin = add_user(db, "+27821230004", "Admin Person", role="admin")
        volunteer = add_user(db, "+27821230005", "Other Volunteer")
        today = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0)
        add_booking(db, schedule, admin, today - timedelta(days=1))  # 18:00 in Johannesburg
        add_booking(db, schedule, volunteer, today + timedelta(days=2))
        _add_failed_messages(db, count=2)
        settings = Settings(_env_file=None, database_url=database_url)
        return issue_token(db, settings, admin, system_clock)
    finally:
        db.dispose()


def _add_failed_messages(db: Database, count: int) -> None:
    with db.write() as session:
        for number in range(count):
            outbox_id = queue_message(
                session,
                message_type="test",
                recipient="+27821230005",
                body=f"hi {number}",
                now=system_clock(),
            )
            message = session.get(OutboxMessage, outbox_id)
            assert message is not None
            message.status = STATUS_FAILED


def _schemathesis() -> str:
    found = shutil.which("st") or shutil.which("schemathesis")
    assert found, "schemathesis is a dev dependency: run the tests with `uv run pytest`"
    return found


def test_the_configured_operations_exist(tmp_path: Path) -> None:
    """A renamed route must not silently lose (or keep) its configured exceptions."""
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    document = create_app(settings).openapi()
    ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    configured = tomllib.loads(CONFIG.read_text())["operations"]
    named = [name for entry in configured for name in entry["include-operation-id"]]
    assert named and set(named) <= ids, set(named) - ids
    assert set(SESSION_ENDERS) <= ids


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'roster.db'}"
    token = _seed(database_url)
    env = watchroster_env(message_backend="file", message_file=str(tmp_path / "messages.jsonl"))
    with ServeProcess(database_url, tmp_path, env=env) as server:
        started = datetime.now(UTC)
        command = [
            _schemathesis(),
            f"--config-file={CONFIG}",
            "run",
            f"{server.url}/openapi.json",
            "--checks=all",
            f"--max-examples={MAX_EXAMPLES}",
            "--phases=examples,coverage,fuzzing",
            "--seed=13",
            "--workers=1",
            "--no-shrink",
            f"--header=Authorization: Bearer {token}",
            "--request-timeout=10",
        ]
        command += [f"--exclude-operation-id={operation}" for operation in SESSION_ENDERS]
        done = subprocess.run(
            command,
            cwd=tmp_path,  # its caches and any report stay out of the checkout
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=TIME_BUDGET_SECONDS + 60,
            check=False,
        )
        elapsed = (datetime.now(UTC) - started).total_seconds()
    assert done.returncode == 0, f"{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
    # Every selected operation was tested, and every generated case passed every check.
    selected = re.search(r"Selected: (\d+)/\d+\s+Tested: (\d+)", done.stdout)
    assert selected and selected[1] == selected[2], done.stdout[-3000:]
    assert re.search(r"(\d+) generated, \1 passed", done.stdout), done.stdout[-3000:]
    assert elapsed < TIME_BUDGET_SECONDS, f"schemathesis took {elapsed:.0f} s"
