"""One way in for the volunteer's actions (issue #22 §1, §2).

Book, change the buddy, decline as the buddy, cancel, record attendance, file a report and say
"home safe" run once through the JSON API and once through the pages, on twin worlds (the same
people, schedules and bookings, the same ids), each against a real server started with
non-default limits (`tests.support.one_way_in.NONDEFAULT_ENV`: no buddy notices a day,
Afrikaans by default; here only Namibian numbers may receive messages). Both paths must leave
every table the same and queue the same messages (type, recipient, body: the language is in
it). A page handler that called a service with the settings' default rules (ten notices a day,
"ZA" allowed, English) would text the South African buddy in English and stay silent to the
Namibian volunteer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.support.auth import issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from tests.support.one_way_in import (
    Browser,
    api_headers,
    live_server,
    nondefault_settings,
    reset,
    snapshot,
)
from watchroster.auth.models import User
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule

NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)  # Thursday morning in Johannesburg
FRIDAY = "2025-05-02T18:00:00+02:00"  # booked already, with Thandi as buddy: cancelled
SATURDAY = "2025-05-03T18:00:00+02:00"  # booked by the action, with Thandi (ZA) as buddy
WEDNESDAY = "2025-04-30T18:00:00+02:00"  # ended last night: attendance, report, home safe
BOOKING_KEY = "0f4e7a2c-1b3d-4c5e-8f6a-7b8c9d0e1f2a"
REPORT_KEY = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
REPORT = "A car followed us along the river path."


@dataclass(frozen=True)
class World:
    """The twin fixture: ids are the same in both worlds (built in the same order)."""

    admin: User  # ZA: the report alert is queued, the dispatcher will not send it
    gwen: User  # NA
    brit: User  # NA volunteer: every action but "decline" is hers
    thandi: User  # ZA: buddy on Friday, named on Saturday; never told (0 a day, not allowed)
    sipho: User  # NA: named instead of Thandi on Saturday, then declines
    friday: Schedule
    saturday: Schedule
    wednesday: Schedule  # checks that people got home


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _world(db: Database) -> World:
    admin = add_user(db, "+27821230000", "Anna Admin", role="admin")
    gwen = add_user(db, "+264811230200", "Gwen Admin", role="admin")
    brit = add_user(db, "+264811234567", "Brit Jones")
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+264811234568", "Sipho Dube")
    friday = add_schedule(db)
    saturday = add_schedule(db, name="Saturday patrol", cron_expr="0 18 * * SAT")
    wednesday = add_schedule(db, name="Wednesday patrol", cron_expr="0 18 * * WED")
    with db.write() as session:
        session.execute(
            update(Schedule)
            .where(Schedule.schedule_id == wednesday.schedule_id)
            .values(check_in_minutes=30)
        )
    # Written at the test clock's time, not the wall clock's, so the twins are the same.
    thandi_buddy: dict[str, Any] = {"buddy_user_id": thandi.user_id, "buddy_name": "Thandi"}
    add_booking(db, friday, brit, _at(FRIDAY), created_at=NOW, **thandi_buddy)  # booking 1
    sipho_buddy: dict[str, Any] = {"buddy_user_id": sipho.user_id, "buddy_name": "Sipho"}
    add_booking(db, wednesday, brit, _at(WEDNESDAY), created_at=NOW, **sipho_buddy)  # booking 2
    return World(admin, gwen, brit, thandi, sipho, friday, saturday, wednesday)


# Booking 3 is the one the first action makes.
NEW, PAST = 3, 2


def _through_api(
    url: str, world: World, db: Database, settings: Settings, clock: FrozenClock
) -> list[int]:
    brit = api_headers(db, settings, world.brit, clock)
    sipho = api_headers(db, settings, world.sipho, clock)
    booking = {
        "schedule_id": world.saturday.schedule_id,
        "start_time": SATURDAY,
        "buddy_name": "Thandi",
        "buddy_phone": world.thandi.phone,
    }
    with httpx.Client(base_url=url, headers=brit, timeout=30) as api:
        answers = [
            api.post("/bookings", json=booking, headers={"Idempotency-Key": BOOKING_KEY}),
            api.patch(f"/bookings/{NEW}", json={"buddy_phone": world.sipho.phone}),
            api.post(f"/bookings/{NEW}/decline", headers=sipho),
            api.delete("/bookings/1"),
            api.post(f"/bookings/{PAST}/attendance", json=_ATTENDANCE),
            api.post(
                f"/bookings/{PAST}/report",
                json={"severity": 2, "message": REPORT},
                headers={"Idempotency-Key": REPORT_KEY},
            ),
            api.post(f"/bookings/{PAST}/safe"),
        ]
    return [answer.status_code for answer in answers]


_ATTENDANCE = {"attended": True, "buddy_attended": False}


def _browser(db: Database, settings: Settings, user: User, clock: FrozenClock, url: str) -> Browser:
    # "My shifts" carries the CSRF token and, unlike the profile page, writes nothing (the
    # profile page makes the calendar feed's token on first view).
    return Browser(url, issue_token(db, settings, user, clock), "/my")


def _through_pages(
    url: str, world: World, db: Database, settings: Settings, clock: FrozenClock
) -> list[str]:
    brit = _browser(db, settings, world.brit, clock, url)
    sipho = _browser(db, settings, world.sipho, clock, url)
    booking = {
        "schedule_id": str(world.saturday.schedule_id),
        "start": SATURDAY,
        "buddy_name": "Thandi",
        "buddy_phone": world.thandi.phone,
        "idempotency_key": BOOKING_KEY,
    }
    try:
        answers = [
            brit.post("/shifts/book", booking),
            brit.post(f"/my/{NEW}/buddy", {"buddy_name": "", "buddy_phone": world.sipho.phone}),
            sipho.post(f"/my/{NEW}/decline"),
            brit.post("/my/1/cancel"),
            brit.post(
                f"/my/{PAST}/attendance",
                {"attended": "yes", "has_buddy": "1", "buddy_attended": "no"},
            ),
            brit.post(
                f"/my/{PAST}/report",
                {"severity": "2", "message": REPORT, "idempotency_key": REPORT_KEY},
            ),
            brit.post(f"/my/{PAST}/safe"),
        ]
    finally:
        brit.close()
        sipho.close()
    # Each action redirects to a page with its notice: the notice says how it went.
    return [f"{answer.status_code} {answer.headers.get('location')}" for answer in answers]


API_ANSWERS = [201, 200, 204, 204, 200, 201, 200]
PAGE_ANSWERS = [
    "303 /my?notice=booked",
    f"303 /my/{NEW}?notice=buddy_changed",
    "303 /my?notice=declined",
    "303 /my?notice=canceled",
    f"303 /my/{PAST}?notice=attendance",
    f"303 /my/{PAST}?notice=alerted",
    f"303 /my/{PAST}?notice=safe",
]


def _run(how: Any, db: Database, settings: Settings) -> tuple[dict[str, list[Any]], list[Any]]:
    """One world: built, served by a fresh server, acted on `how`; its rows and answers."""
    clock = FrozenClock(NOW)
    world = _world(db)
    with live_server(settings, db, clock) as url:
        answers = how(url, world, db, settings, clock)
    rows = snapshot(db)
    # A key's fingerprint includes the path it was sent to (/bookings or /shifts/book).
    for row in rows["idempotency_keys"]:
        row.pop("fingerprint")
    return rows, answers


def _messages(rows: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    return [
        (row["message_type"], row["recipient"], str(row["payload"].get("body", "")))
        for row in rows["outbox"]
    ]


def _settings(monkeypatch: pytest.MonkeyPatch, db: Database, tmp_path: Any) -> Settings:
    """The shared non-default limits, with the regions turned round: the default ("ZA") is the
    one region not allowed, so default rules would text Thandi and stay silent to Brit."""
    files = {"message_backend": "file", "message_file": tmp_path / "messages.jsonl"}
    nondefault_settings(monkeypatch, db, **files)
    monkeypatch.setenv("WATCHROSTER_OTP_ALLOWED_REGIONS", "NA")
    settings = Settings(
        _env_file=None, database_url=db.url, timezone="Africa/Johannesburg", **files
    )
    assert settings.otp_allowed_regions == "NA" and settings.buddy_notices_per_day == 0
    return settings


def test_the_api_and_the_pages_write_the_same(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    settings = _settings(monkeypatch, db, tmp_path)
    by_api, api_answers = _run(_through_api, db, settings)
    reset(db)
    by_pages, page_answers = _run(_through_pages, db, settings)

    assert api_answers == API_ANSWERS
    assert page_answers == PAGE_ANSWERS
    # What the deployment's limits mean, so both paths cannot be wrong the same way:
    messages = _messages(by_api)
    recipients = {recipient for _type, recipient, _body in messages}
    assert "+27821234567" not in recipients  # Thandi: no notices a day, and ZA not allowed
    assert "+264811234568" not in recipients  # Sipho: named, but 0 notices a day
    assert {(t, r) for t, r, _b in messages} >= {
        ("buddy_declined", "+264811234567"),  # Brit is told her buddy cannot come
        ("booking_confirmed", "+264811234567"),  # default rules: Namibia not allowed
        ("incident_alert", "+264811230200"),
    }
    bookings = by_api["bookings"]
    assert bookings[0]["canceled_at"] is not None
    assert bookings[1]["attended"] is True and bookings[1]["buddy_attended"] is False
    assert bookings[1]["safe_at"] is not None
    assert bookings[2]["buddy_user_id"] is None  # named, then declined
    assert [row["severity"] for row in by_api["reports"]] == [2]
    assert len(by_api["idempotency_keys"]) == 2

    assert _messages(by_pages) == messages
    for table, rows in by_api.items():  # table by table, row by row: a readable difference
        assert len(by_pages[table]) == len(rows), table
        for by_page, by_call in zip(by_pages[table], rows, strict=True):
            assert by_page == by_call, table


def test_the_twin_worlds_start_the_same(db: Database) -> None:
    """The comparison above means something only if the two worlds begin alike."""
    _world(db)
    first = snapshot(db)
    reset(db)
    _world(db)
    assert snapshot(db) == first
    assert len(first["bookings"]) == 2 and len(first["users"]) == 5
