"""`watchroster backup` under booking load, and `restore`: every committed booking comes back.

SQLite only by nature (the online backup API); on PostgreSQL both commands point to pg_dump and
pg_restore and exit non-zero.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from tests.integration.ops.processes import ServeProcess, run_watchroster
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.cli import app as cli_app
from watchroster.core.clock import system_clock
from watchroster.core.config import get_settings
from watchroster.db.backup import BackupError, backup_sqlite, restore_sqlite
from watchroster.db.engine import Database
from watchroster.db.migrate import upgrade

CLIENTS = 4
SIDE = ("-wal", "-shm")  # companions kept beside a replaced database


def cli(args: list[str], database_url: str, directory: Path) -> Result:
    """The command run in this process (faster than a new one) with only `database_url` set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)  # no .env file here
        patch.setenv("WATCHROSTER_DATABASE_URL", database_url)
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli_app, args)
        finally:
            get_settings.cache_clear()


def booking_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {row[0] for row in connection.execute("SELECT booking_id FROM bookings")}


class BookingLoad:
    """CLIENTS threads booking distinct one-minute slots; remembers when each 201 arrived."""

    def __init__(self, base_url: str, tokens: list[str], schedule_id: int) -> None:
        self.base_url, self.tokens, self.schedule_id = base_url, tokens, schedule_id
        self.first_slot = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
        self.confirmed: list[tuple[float, int]] = []  # (monotonic time of the 201, booking id)
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._book, args=(n,)) for n in range(CLIENTS)]

    def __enter__(self) -> BookingLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _book(self, client_number: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            slot = client_number
            while not self.stop.is_set():
                start = self.first_slot + timedelta(minutes=slot)
                body = {"schedule_id": self.schedule_id, "start_time": start.isoformat()}
                response = http.post(
                    "/bookings", json=body, headers=bearer(self.tokens[client_number])
                )
                if response.status_code == 201:
                    self.confirmed.append((time.monotonic(), response.json()["booking_id"]))
                else:
                    self.failures.append(response.text)
                slot += CLIENTS

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Until `count` bookings are confirmed (a busy machine books slowly)."""
        deadline = time.monotonic() + timeout
        while len(self.confirmed) < count and not self.failures:
            assert time.monotonic() < deadline, f"only {len(self.confirmed)} bookings"
            time.sleep(0.05)

    def confirmed_before(self, instant: float) -> set[int]:
        return {booking_id for at, booking_id in self.confirmed if at < instant}


def test_a_backup_under_booking_load_restores_every_committed_booking(tmp_path: Path) -> None:
    database = tmp_path / "roster.db"
    url = f"sqlite:///{database}"
    db = Database(url)
    upgrade(db.engine)
    schedule = add_schedule(db, cron_expr="* * * * *", duration_minutes=1)
    users = [add_user(db, f"+2782123{n:04d}", f"Volunteer {n}") for n in range(CLIENTS)]
    tokens = [issue_token(db, get_settings(), user, system_clock) for user in users]
    db.dispose()
    backup = tmp_path / "nightly.db"
    with (
        ServeProcess(url, tmp_path) as server,
        BookingLoad(server.url, tokens, schedule.schedule_id) as load,
    ):
        load.wait_for(30)
        started = time.monotonic()
        result = run_watchroster(["backup", str(backup)], tmp_path, database_url=url)
        load.wait_for(len(load.confirmed) + 5)  # bookings go on after the backup
        # While the server runs, restore refuses (its lock is held by the server process).
        with pytest.raises(BackupError, match="stop it first"):
            restore_sqlite(database, backup, datetime.now(UTC))
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    assert load.failures == []
    in_backup = booking_ids(backup)
    committed_before = load.confirmed_before(started)
    assert len(committed_before) >= 30
    assert committed_before <= in_backup
    assert in_backup <= {booking_id for _at, booking_id in load.confirmed}
    assert len(load.confirmed) > len(in_backup), "no booking committed after the backup"

    restored = cli(["restore", str(backup)], url, tmp_path)
    assert restored.exit_code == 0, restored.output
    assert booking_ids(database) == in_backup
    [kept] = [p for p in tmp_path.glob("roster.db.before-restore-*") if p.name[-4:] not in SIDE]
    assert len(booking_ids(kept)) == len(load.confirmed)  # the old database, whole


def test_a_damaged_backup_is_not_restored(tmp_path: Path) -> None:
    database = tmp_path / "roster.db"
    db = Database(f"sqlite:///{database}")
    upgrade(db.engine)
    db.dispose()
    damaged = tmp_path / "damaged.db"
    backup_sqlite(database, damaged)
    data = bytearray(damaged.read_bytes())
    data[4096 : 4096 + 512] = b"\xff" * 512  # the second page: a table's b-tree
    damaged.write_bytes(bytes(data))
    before = database.read_bytes()
    result = cli(["restore", str(damaged)], f"sqlite:///{database}", tmp_path)
    assert result.exit_code == 1 and "restore refused" in result.output
    assert database.read_bytes() == before


@pytest.mark.parametrize(("command", "tool"), [("backup", "pg_dump"), ("restore", "pg_restore")])
def test_on_postgresql_the_commands_point_to_the_postgres_tools(
    command: str, tool: str, tmp_path: Path
) -> None:
    result = cli([command, str(tmp_path / "copy")], "postgresql+psycopg://db.example/x", tmp_path)
    assert result.exit_code == 2
    assert tool in result.output
    assert not (tmp_path / "copy").exists()
