"""One way in for the coordinator's actions and erasure (issue #22 §1, §2).

Every action runs once through the JSON API and once through the console pages, on twin worlds
(the same members, schedules and bookings, the same ids), each against a real server started with
non-default limits (`tests.support.one_way_in.NONDEFAULT_ENV`): both must leave every table the
same and queue the same messages (type, recipient, language: the body is in it). A page handler
that called a service with the settings' default rules would queue in English, to the South
African members, and would tell the buddy of an erased account; one that used the wall clock
instead of the context's would stamp other times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.factories import add_booking, add_schedule, add_user
from tests.support.one_way_in import (
    api_headers,
    browser,
    differences,
    live_server,
    nondefault_settings,
    reset,
    snapshot,
)
from watchroster.app import create_app
from watchroster.auth.models import User
from watchroster.bookings import erasure as bookings_erasure
from watchroster.bookings import schedule_edit
from watchroster.calendar import router as calendar_router
from watchroster.calendar import service as calendar_service
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.runtime.context import AppContext
from watchroster.schedules.models import Schedule

FRIDAY = "2025-05-02T18:00:00+02:00"  # the first shift of "Friday patrol" (the clock: Thursday)
FRIDAY_LATE = "2025-05-02T21:00:00+02:00"  # the same day: past the daily cap of one call
REASON = "Storm warning"
NEW_SCHEDULE = {
    "name": "Sunday patrol",
    "cron_expr": "0 9 * * SUN",
    "timezone": "Africa/Johannesburg",
    "duration_minutes": 120,
    "holiday_country": "ZA",
    "skip_holidays": False,
}


@dataclass(frozen=True)
class World:
    """The twin fixture: ids are the same in both worlds (built in the same order)."""

    admin: User
    brit: User  # NA: may receive messages
    thandi: User  # ZA: outside the allowed regions
    sipho: User  # NA
    erin: User  # NA, erases her account
    friday: Schedule
    late: Schedule
    saturday: Schedule


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _world(db: Database, clock: FrozenClock) -> World:
    admin = add_user(db, "+27821230000", "Anna Admin", role="admin")
    brit = add_user(db, "+264811234567", "Brit Jones")
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+264811234568", "Sipho Dube")
    erin = add_user(db, "+264811234569", "Erin Smith")
    friday = add_schedule(db)
    late = add_schedule(db, name="Friday late", cron_expr="0 21 * * FRI", duration_minutes=60)
    saturday = add_schedule(db, name="Saturday patrol", cron_expr="0 18 * * SAT")
    # Brit on this Friday with Thandi as buddy: the shift the coordinator cancels.
    booked = clock()  # their created_at: the same in both worlds
    add_booking(db, friday, brit, _at(FRIDAY), buddy_user_id=thandi.user_id, created_at=booked)
    # Sipho on Saturday with Brit as buddy: the edit to Sundays drops it.
    saturday_shift = _at("2025-05-03T18:00:00+02:00")
    add_booking(db, saturday, sipho, saturday_shift, buddy_user_id=brit.user_id, created_at=booked)
    # Erin next Friday with Sipho as buddy: her erasure cancels it (0 buddy notices a day).
    next_friday = _at("2025-05-09T18:00:00+02:00")
    add_booking(db, friday, erin, next_friday, buddy_user_id=sipho.user_id, created_at=booked)
    return World(admin, brit, thandi, sipho, erin, friday, late, saturday)


def _through_api(
    url: str, world: World, db: Database, settings: Settings, clock: FrozenClock
) -> list[int]:
    admin = api_headers(db, settings, world.admin, clock)
    erin = api_headers(db, settings, world.erin, clock)
    friday, late, saturday = world.friday.schedule_id, world.late.schedule_id, world.saturday
    with httpx.Client(base_url=url, headers=admin, timeout=30) as api:
        answers = [
            api.post(f"/schedules/{friday}/exceptions", json={"start": FRIDAY, "reason": REASON}),
            api.delete(f"/schedules/{friday}/exceptions/1"),
            api.post("/roster/calls", json={"schedule_id": friday, "start": FRIDAY}),
            api.post("/roster/calls", json={"schedule_id": late, "start": FRIDAY_LATE}),
            api.post("/schedules", json=NEW_SCHEDULE),
            api.patch(
                f"/schedules/{saturday.schedule_id}",
                json={"cron_expr": "0 18 * * SUN", "on_booked": "cancel"},
            ),
            api.patch("/schedules/4", json={"active": False}),
            api.delete("/schedules/4"),
            api.patch(f"/users/{world.sipho.user_id}", json={"role": "admin"}),
            api.patch(f"/users/{world.brit.user_id}", json={"active": False}),
            api.post(f"/users/{world.thandi.user_id}/phone"),
            api.delete("/me", headers=erin),
        ]
    return [answer.status_code for answer in answers]


def _schedule_form(schedule: dict[str, Any], cron_expr: str) -> dict[str, str]:
    """The console's schedule form as a coordinator fills it (the advanced cron field)."""
    hours, minutes = divmod(int(schedule["duration_minutes"]), 60)
    return {
        "name": schedule["name"],
        "cron_expr": cron_expr,
        "duration_hours": str(hours),
        "duration_minutes": str(minutes),
        "timezone": schedule["timezone"],
        "holiday_country": schedule["holiday_country"],
    }


def _through_pages(
    url: str, world: World, db: Database, settings: Settings, clock: FrozenClock
) -> list[int]:
    admin = browser(db, settings, world.admin, clock, url)
    erin = browser(db, settings, world.erin, clock, url)
    friday, late = world.friday.schedule_id, world.late.schedule_id
    saturday = {**NEW_SCHEDULE, "name": "Saturday patrol", "duration_minutes": 180}
    sipho, brit = world.sipho.user_id, world.brit.user_id
    try:
        answers = [
            admin.post(f"/admin/schedules/{friday}/cancel", {"start": FRIDAY, "reason": REASON}),
            admin.post(f"/admin/schedules/{friday}/exceptions/1/undo"),
            admin.post("/admin/roster/call", {"schedule_id": friday, "start": FRIDAY}),
            admin.post("/admin/roster/call", {"schedule_id": late, "start": FRIDAY_LATE}),
            admin.post("/admin/schedules/new", _schedule_form(NEW_SCHEDULE, "0 9 * * SUN")),
            admin.post(
                f"/admin/schedules/{world.saturday.schedule_id}",
                {**_schedule_form(saturday, "0 18 * * SUN"), "on_booked": "cancel"},
            ),
            admin.post("/admin/schedules/4/active", {"active": "0"}),
            admin.post("/admin/schedules/4/delete"),
            admin.post(f"/admin/people/{sipho}/role", {"value": "admin"}),
            admin.post(f"/admin/people/{brit}/active", {"value": "false"}),
            admin.post(f"/admin/people/{world.thandi.user_id}/phone"),
            erin.post("/profile/delete"),
        ]
    finally:
        admin.close()
        erin.close()
    return [answer.status_code for answer in answers]


API_ANSWERS = [201, 204, 201, 201, 201, 200, 200, 204, 200, 200, 200, 204]
# Redirects after each change; the number is shown on the people page itself.
PAGE_ANSWERS = [303] * 10 + [200, 303]


def _run(
    how: Any,
    db: Database,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> tuple[dict[str, list[dict[str, Any]]], list[int], list[str]]:
    """One world: built, served by a fresh server, acted on `how`; its rows, answers and the
    audit lines (the number shown, who changed what)."""
    clock = FrozenClock(datetime(2025, 5, 1, 8, 0, tzinfo=UTC))
    world = _world(db, clock)
    caplog.clear()
    with caplog.at_level(logging.INFO), live_server(settings, db, clock) as url:
        answers = how(url, world, db, settings, clock)
    audit = [
        record.getMessage()
        for record in caplog.records
        if record.name in {"watchroster.people", "watchroster.auth"}
        and ("looked at" in record.getMessage() or "changed user" in record.getMessage())
    ]
    return snapshot(db), answers, audit


def _messages(rows: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    return [
        (row["message_type"], row["recipient"], str(row["payload"].get("body", "")))
        for row in rows["outbox"]
    ]


def test_the_api_and_the_console_write_the_same(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = nondefault_settings(
        monkeypatch, db, message_backend="file", message_file=tmp_path / "messages.jsonl"
    )
    by_api, api_answers, api_audit = _run(_through_api, db, settings, caplog)
    reset(db)
    by_pages, page_answers, page_audit = _run(_through_pages, db, settings, caplog)

    assert api_answers == API_ANSWERS
    assert page_answers == PAGE_ANSWERS
    # What the deployment's limits mean, so both paths cannot be wrong the same way:
    messages = _messages(by_api)
    recipients = {recipient for _type, recipient, _body in messages}
    assert "+27821234567" not in recipients  # Thandi (ZA) is outside the allowed regions
    assert ("shift_cancelled", "+264811234567") in {(t, r) for t, r, _b in messages}
    calls = [m for m in messages if m[0] == "volunteer_call"]
    # Erin's number is masked in the outbox once she erased her account.
    assert {r for _t, r, _b in calls} == {"+264811234567", "+264811234568", "+2648******69"}
    assert [row["recipients"] for row in by_api["volunteer_calls"]] == [3, 0]  # one call a day
    assert all(row["erased_at"] is None for row in by_api["users"][:4])
    assert by_api["users"][4]["erased_at"] is not None
    assert len(api_audit) == 3 and "looked at the phone number" in api_audit[-1]

    assert _messages(by_pages) == messages
    found = differences(by_api, by_pages)
    assert found == [], "\n".join(found)
    assert page_audit == api_audit


def test_the_twin_worlds_start_the_same(db: Database) -> None:
    """The comparison above means something only if the two worlds begin alike."""
    clock = FrozenClock(datetime(2025, 5, 1, 8, 0, tzinfo=UTC))
    _world(db, clock)
    first = snapshot(db)
    reset(db)
    _world(db, clock)
    assert snapshot(db) == first
    assert len(first["bookings"]) == 3 and len(first["users"]) == 5


def test_each_app_carries_its_own_wiring(db: Database, settings: Settings) -> None:
    """What lower features call in higher ones (erasure, a schedule edit's bookings, the calendar
    link of GET /me) is connected by `create_app` in the context it builds, not by importing
    `watchroster.app`: a context built elsewhere has none of it."""
    app = create_app(settings, db=db, checkpoints=False)
    hooks = app.state.context.hooks
    assert hooks.erasure == (bookings_erasure.forget_user, calendar_service.forget_user)
    assert hooks.carry_for is schedule_edit.carry_for
    assert hooks.calendar_url is calendar_router.calendar_url_of
    bare = AppContext(settings=settings, db=db)
    assert bare.hooks.erasure == () and bare.hooks.carry_for is None
