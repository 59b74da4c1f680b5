"""Which of our files and functions one request passes through: POST /bookings (API) and the web
booking form (POST /shifts/book), each traced once after a warm-up booking of the same kind.

Run by hand from a checkout (`uv run python -m bench.trace_path`); it counts every Python call
whose code lives under `src/watchroster/`, in every thread (the app runs its work in a thread
pool), between the request's start and its answer. It uses the test suite's helpers, so the same
script measures an older checkout too (issue #22 asks for before and after figures).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from fastapi.testclient import TestClient
from tests.integration.web.conftest import Site
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user

from watchroster.app import create_app

try:  # the layout since issue #22
    from watchroster.core.clock import FrozenClock
    from watchroster.core.config import Settings
    from watchroster.db.engine import Database
    from watchroster.db.migrate import upgrade
except ImportError:  # an older checkout, for the "before" figures: the same names elsewhere
    FrozenClock = importlib.import_module("watchroster.clock").FrozenClock  # type: ignore[misc]
    Settings = importlib.import_module("watchroster.config").Settings  # type: ignore[misc]
    Database = importlib.import_module("watchroster.db").Database  # type: ignore[misc]
    upgrade = importlib.import_module("watchroster.migrate").upgrade

PACKAGE = str(Path(str(__import__("watchroster").__file__)).parent)
NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)  # Thursday; the schedule is Fridays 18:00
FRIDAYS = ("2025-05-02T18:00:00+02:00", "2025-05-09T18:00:00+02:00", "2025-05-16T18:00:00+02:00")


class Trace:
    """Installed in every thread before the app starts (the test client's portal thread and the
    thread pool start with it); records only while `active`."""

    def __init__(self) -> None:
        self.functions: set[tuple[str, int, str]] = set()
        self.active = False
        self.lock = threading.Lock()

    def profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        if not self.active or event != "call":
            return
        code = frame.f_code
        if code.co_filename.startswith(PACKAGE):
            with self.lock:
                self.functions.add((code.co_filename, code.co_firstlineno, code.co_name))

    @property
    def files(self) -> set[str]:
        return {filename for filename, _, _ in self.functions}

    @contextmanager
    def recording(self) -> Iterator[Trace]:
        self.functions = set()
        self.active = True
        try:
            yield self
        finally:
            self.active = False


TRACE = Trace()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--list", action="store_true", help="print the files")
    args = parser.parse_args()
    threading.setprofile(TRACE.profile)
    sys.setprofile(TRACE.profile)
    with tempfile.TemporaryDirectory(prefix="watchroster-trace-") as directory:
        url = f"sqlite:///{Path(directory) / 'trace.db'}"
        db = Database(url)
        upgrade(db.engine)
        settings = Settings(
            _env_file=None,
            database_url=url,
            message_backend="file",
            message_file=Path(directory) / "messages.jsonl",
        )
        clock = FrozenClock(NOW)
        schedule = add_schedule(db, seats=3)
        api_user = add_user(db, "+27821230001", "Api")
        headers = bearer(issue_token(db, settings, api_user, clock))
        with TestClient(create_app(settings, db=db, clock=clock)) as client:
            site = Site(client, db, settings, clock, schedule)
            results = {
                "POST /bookings": _api(client, headers, schedule.schedule_id),
                "POST /shifts/book": _page(site),
            }
        db.dispose()
    for name, trace in results.items():
        print(f"{name}: {len(trace.files)} files, {len(trace.functions)} functions")
        if args.list:
            for filename in sorted(trace.files):
                print("   ", filename.removeprefix(PACKAGE + "/"))


def _api(client: TestClient, headers: dict[str, str], schedule_id: int) -> Trace:
    def book(start: str) -> int:
        body = {"schedule_id": schedule_id, "start_time": start}
        status: int = client.post("/bookings", json=body, headers=headers).status_code
        return status

    assert book(FRIDAYS[0]) == 201  # warm-up: imports and first-use caches
    with TRACE.recording():
        status = book(FRIDAYS[1])
    assert status == 201, status
    return _copy(TRACE)


def _page(site: Site) -> Trace:
    site.log_in(phone="+27821230002", name="Page")
    assert site.book(FRIDAYS[0]).status_code == 303  # warm-up
    token = site.token()
    data = {"csrf_token": token, "schedule_id": str(site.schedule.schedule_id)}
    with TRACE.recording():
        response = site.client.post(
            "/shifts/book", data={**data, "start": FRIDAYS[2]}, follow_redirects=False
        )
    assert response.status_code == 303, response.text
    return _copy(TRACE)


def _copy(trace: Trace) -> Trace:
    copied = Trace()
    copied.functions = set(trace.functions)
    return copied


if __name__ == "__main__":
    main()
