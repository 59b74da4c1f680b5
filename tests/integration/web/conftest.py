"""The web pages through their forms, as a browser without JavaScript would use them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.integration.auth.helpers import last_code
from tests.support.factories import add_schedule
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.schedules.models import Schedule

# The clock starts on Thursday 2025-05-01 10:00 in Johannesburg; Fridays 18:00-21:00 is the
# default schedule, so this Friday's shift is "Tomorrow".
FRIDAY = "2025-05-02T18:00:00+02:00"
THANDI = "+27821234567"
SIPHO = "+27821234568"

# In every form, and on every page in the header htmx sends (`<body hx-headers=…>`).
_CSRF = re.compile(r'(?:name="csrf_token" value="|"X-CSRF-Token": ")([^"]+)"')
_BOOK_LINK = re.compile(r'href="(/shifts/book\?[^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def book_links(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in _BOOK_LINK.findall(html)]


@dataclass
class Site:
    client: TestClient
    db: Database
    settings: Settings
    clock: FrozenClock
    schedule: Schedule

    def token(self, path: str = "/login") -> str:
        """A CSRF token from a page (which also sets the CSRF cookie)."""
        return csrf_token(self.client.get(path).text)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """A form post with the page's CSRF token; the redirect is returned, not followed."""
        body = {"csrf_token": self.token(), **data}
        response: httpx.Response = self.client.post(
            path, data=body, follow_redirects=False, **kwargs
        )
        return response

    def log_in(
        self, phone: str = THANDI, name: str = "Thandi Mokoena", next_path: str = ""
    ) -> httpx.Response:
        sent = self.post("/login", {"phone": phone, "name": name, "next": next_path})
        assert sent.status_code == 303, sent.text
        code = last_code(self.db, self.settings, phone)
        verified = self.post("/login/code", {"code": code})
        assert verified.status_code == 303, verified.text
        return verified

    def book(self, start: str = FRIDAY, **buddy: str) -> httpx.Response:
        data = {"schedule_id": str(self.schedule.schedule_id), "start": start, **buddy}
        return self.post("/shifts/book", data)

    def count_bookings(self, *, active_only: bool = True) -> int:
        query = select(func.count()).select_from(Booking)
        if active_only:
            query = query.where(Booking.canceled_at.is_(None))
        with self.db.read() as session:
            return int(session.scalar(query) or 0)

    def booking_ids(self) -> list[int]:
        query = select(Booking.booking_id).where(Booking.canceled_at.is_(None))
        with self.db.read() as session:
            return list(session.scalars(query.order_by(Booking.booking_id)))

    def messages(self, message_type: str) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.message_type == message_type)
        with self.db.read() as session:
            return list(session.scalars(query))


@pytest.fixture
def site(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> Site:
    return Site(client, db, settings, clock, add_schedule(db))


def second_browser(site: Site) -> Site:
    """Another person's browser on the same server (its own cookie jar)."""
    other = TestClient(site.client.app, raise_server_exceptions=False)
    return Site(other, site.db, site.settings, site.clock, site.schedule)
