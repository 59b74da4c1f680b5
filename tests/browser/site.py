"""A real `watchroster serve` process (embedded worker, file message backend) for browser tests.

The browser talks to the server over HTTP; the test reads what the server "sent" from the file
backend's JSONL output (the same output a newcomer reads codes from) and checks the database
through the same service functions and models the app uses.
"""

from __future__ import annotations

import itertools
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import StorageState
from sqlalchemy import func, select

from tests.integration.outbox.processes import sent_lines, wait_for, worker_env
from watchroster.auth.service import MESSAGE_TYPE_OTP, grant_admin
from watchroster.bookings.models import Booking
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleCreate
from watchroster.schedules.service import create_schedule

ZONE_NAME = "Africa/Johannesburg"
ZONE = ZoneInfo(ZONE_NAME)
ADMIN_PHONE = "+27820000001"
_CODE = re.compile(r"\b(\d{6})\b")
# Every volunteer of a test run gets a number of their own, so limits per phone never collide.
_numbers = itertools.count(100)


@dataclass(frozen=True)
class Volunteer:
    name: str
    e164: str

    @property
    def national(self) -> str:
        """The number as people write it here: `082 000 0101`."""
        digits = "0" + self.e164.removeprefix("+27")
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def new_volunteer(name: str) -> Volunteer:
    return Volunteer(name=name, e164=f"+2782{next(_numbers):07d}")


def new_coordinator(site: Site, name: str, full_name: str | None = None) -> Volunteer:
    """A coordinator of their own (no other test's login limits on their number), granted before
    they first log in; `full_name`, when given, is the name the console shows for them."""
    person = new_volunteer(name)
    with site.database.write() as session:
        user, _created = grant_admin(session, person.e164, datetime.now(UTC))
        if full_name is not None:
            user.name = full_name
    return person


@dataclass(frozen=True)
class Slot:
    schedule_id: int
    name: str
    start: datetime  # UTC

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZONE)


@dataclass
class Site:
    url: str
    database: Database
    message_file: Path
    log_path: Path
    # A shift booked (by `past_volunteer`, logged in as `past_login`) just before it started.
    past_slot: Slot | None = None
    past_volunteer: Volunteer | None = None
    past_login: StorageState | None = None
    _schedule_names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # --- data --------------------------------------------------------------------------------

    def add_schedule(self, label: str, cron: str, minutes: int = 180, seats: int = 1) -> int:
        """A schedule (as a coordinator's CLI would add it); names are unique per site."""
        name = f"{label} {next(self._schedule_names)}"
        data = ScheduleCreate(name=name, cron_expr=cron, duration_minutes=minutes, seats=seats)
        with self.database.write() as session:
            return create_schedule(session, data, ZONE_NAME).schedule_id

    def schedule_name(self, schedule_id: int) -> str:
        with self.database.read() as session:
            schedule = session.get(Schedule, schedule_id)
            assert schedule is not None
            return schedule.name

    def active_bookings(self, schedule_id: int) -> list[Booking]:
        with self.database.read() as session:
            query = select(Booking).where(
                Booking.schedule_id == schedule_id, Booking.canceled_at.is_(None)
            )
            return list(session.scalars(query))

    def count_bookings(self, schedule_id: int) -> int:
        with self.database.read() as session:
            query = select(func.count()).where(Booking.schedule_id == schedule_id)
            return int(session.scalar(query.select_from(Booking)) or 0)

    def open_starts(self, schedule_id: int) -> list[datetime]:
        """Open slots of a schedule, as the JSON API lists them."""
        response = httpx.get(
            f"{self.url}/shifts/available", params={"schedule_id": schedule_id, "limit": 50}
        )
        response.raise_for_status()
        return [datetime.fromisoformat(slot["start_time"]) for slot in response.json()]

    # --- messages the server "sent" ----------------------------------------------------------

    def messages(self, message_type: str | None = None, to: str | None = None) -> list[Any]:
        return [
            line
            for line in sent_lines(self.message_file)
            if (message_type is None or line["message_type"] == message_type)
            and (to is None or line["recipient"] == to)
        ]

    def wait_for_code(self, volunteer: Volunteer, codes_before: int) -> str:
        """The login code sent after `codes_before` codes had gone to this number."""
        wait_for(
            lambda: len(self.messages(MESSAGE_TYPE_OTP, volunteer.e164)) > codes_before,
            15,
            f"a login code for {volunteer.name} in {self.message_file}",
        )
        body = self.messages(MESSAGE_TYPE_OTP, volunteer.e164)[-1]["body"]
        match = _CODE.search(body)
        assert match, "the login message carries a six-digit code"
        return match.group(1)

    def codes_sent(self, volunteer: Volunteer) -> int:
        return len(self.messages(MESSAGE_TYPE_OTP, volunteer.e164))


# --- the server process ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited during start-up:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start in 30 s:\n{log_path.read_text()}")


@contextmanager
def running_site(database_url: str, directory: Path) -> Iterator[Site]:
    """`watchroster serve` with its embedded worker on a migrated database, on a free port."""
    port = _free_port()
    message_file = directory / "messages.jsonl"
    env = worker_env(
        database_url,
        log_level="INFO",
        message_backend="file",
        message_file=message_file,
        timezone=ZONE_NAME,
        admin_phones=ADMIN_PHONE,
        # Every browser logs in from 127.0.0.1: the per-client limits would stop the suite.
        otp_max_per_ip_hour=10_000,
        verify_max_per_ip_hour=10_000,
    )
    log_path = directory / "server.log"
    with log_path.open("wb") as log:
        # cwd: a directory without a .env file, so only the environment configures it.
        process = subprocess.Popen(
            [sys.executable, "-m", "watchroster", "serve", "--port", str(port)],
            env=env,
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        database = Database(database_url)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, process, log_path)
            with database.write() as session:
                grant_admin(session, ADMIN_PHONE, datetime.now(UTC))
            yield Site(url, database, message_file, log_path)
        finally:
            process.terminate()
            process.wait(timeout=30)
            database.dispose()


def soon_starting_schedule(site: Site) -> tuple[int, datetime]:
    """A schedule with one shift, starting 20-80 s from now; returns it and that start (UTC).

    Attendance and reports need a shift that has started, and a booking needs one that has not:
    a shift that starts a few seconds after its booking is the honest way to have both. One
    occurrence only (minute, hour, day and month fixed), so no page lists a flood of slots.
    """
    start = (datetime.now(ZONE) + timedelta(seconds=80)).replace(second=0, microsecond=0)
    cron = f"{start.minute} {start.hour} {start.day} {start.month} *"
    return site.add_schedule("Quick patrol", cron, minutes=60), start.astimezone(UTC)


def wait_until_started(slot: Slot) -> None:
    remaining = (slot.start - datetime.now(UTC)).total_seconds()
    if remaining > 0:
        time.sleep(remaining + 0.5)
