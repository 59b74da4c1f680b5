"""PATCH /schedules/{id} never leaves a booking behind (issue #21 §1, §9): a change that would
make a booked upcoming shift stop being a shift is refused (409 `bookings_affected`, naming the
shifts) unless `on_booked: cancel` says to cancel those bookings, telling everyone on them;
bookings that stay move with a new length, and every change a calendar shows raises their
SEQUENCE. Both databases.

The clock is Thursday 2025-05-01 10:00 in Johannesburg; the schedule is Fridays 18:00-21:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.integration.bookings.conftest import (
    FRIDAY,
    NEXT_FRIDAY,
    Member,
    Roster,
    admin,
    roster,
    sipho,
    thandi,
)
from tests.support.factories import add_booking, read_booking
from watchroster.bookings.models import Booking
from watchroster.bookings.shift_cancel import SHIFT_CANCELLED, SHIFT_CANCELLED_BUDDY
from watchroster.schedules.models import Schedule

__all__ = ["admin", "roster", "sipho", "thandi"]  # fixtures

# Friday 26 December 2025 is the Day of Goodwill, a public holiday in South Africa.
GOODWILL = "2025-12-26T18:00:00+02:00"


def _patch(roster: Roster, who: Member, **body: Any) -> httpx.Response:
    path = f"/schedules/{roster.schedule.schedule_id}"
    response: httpx.Response = roster.client.patch(path, json=body, headers=who.headers)
    return response


def _schedule(roster: Roster) -> Schedule:
    with roster.db.read() as session:
        return session.get_one(Schedule, roster.schedule.schedule_id)


def _orphans(roster: Roster) -> list[datetime]:
    """Active upcoming bookings whose start the schedule no longer offers (what must not be)."""
    from watchroster.schedules.recurrence import is_occurrence

    schedule = _schedule(roster)
    query = select(Booking.shift_start).where(
        Booking.schedule_id == schedule.schedule_id,
        Booking.canceled_at.is_(None),
        Booking.shift_start > roster.clock(),
    )
    with roster.db.read() as session:
        starts = list(session.scalars(query))
    return [start for start in starts if not is_occurrence(schedule.rule, start)]


def test_a_new_cron_that_drops_a_booked_shift_is_refused_naming_it(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    first = roster.booked(thandi, FRIDAY)
    roster.booked(sipho, NEXT_FRIDAY)
    refused = _patch(roster, admin, cron_expr="0 18 * * SAT", name="Saturday patrol")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "bookings_affected"
    assert FRIDAY in body["error"] and NEXT_FRIDAY in body["error"]
    assert [item["start_time"] for item in body["details"]] == [FRIDAY, NEXT_FRIDAY]
    assert {item["field"] for item in body["details"]} == {"on_booked"}
    # Nothing changed: the schedule, the bookings, their calendar sequence, no message.
    schedule = _schedule(roster)
    assert (schedule.cron_expr, schedule.name) == ("0 18 * * FRI", "Friday patrol")
    kept = read_booking(roster.db, first["booking_id"])
    assert kept.canceled_at is None and kept.sequence == 0
    assert roster.messages(SHIFT_CANCELLED) == []


@pytest.mark.parametrize(
    "change",
    [
        {"duration_minutes": 120, "cron_expr": "0 19 * * FRI"},
        {"timezone": "Europe/London"},  # 18:00 in London is 19:00 in Johannesburg
        {"end_date": "2025-05-01"},  # the season ends before the booked Friday
        {"start_date": "2025-05-03"},
    ],
)
def test_any_change_of_which_starts_are_shifts_counts(
    roster: Roster, thandi: Member, admin: Member, change: dict[str, Any]
) -> None:
    roster.booked(thandi, FRIDAY)
    refused = _patch(roster, admin, **change)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "bookings_affected"
    assert [item["start_time"] for item in refused.json()["details"]] == [FRIDAY]


def test_skipping_public_holidays_counts_a_booked_holiday(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    roster.booked(thandi, GOODWILL)
    refused = _patch(roster, admin, skip_holidays=True)
    assert refused.status_code == 409, refused.text
    assert [item["start_time"] for item in refused.json()["details"]] == [GOODWILL]
    assert _schedule(roster).skip_holidays is False


def test_on_booked_cancel_cancels_them_and_tells_volunteer_and_buddy(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    dropped = roster.booked(thandi, FRIDAY, buddy_user_id=sipho.user_id)
    changed = _patch(roster, admin, cron_expr="0 18 * * SAT", on_booked="cancel")
    assert changed.status_code == 200, changed.text
    assert changed.json()["cron_expr"] == "0 18 * * SAT"
    assert "on_booked" not in changed.json()
    booking = read_booking(roster.db, dropped["booking_id"])
    assert booking.canceled_at == roster.clock()
    assert booking.canceled_by_user_id == admin.user_id
    assert booking.cancel_reason == "The schedule changed"
    assert booking.sequence == 1  # the calendar shows it cancelled
    to_volunteer = roster.messages(SHIFT_CANCELLED)
    to_buddy = roster.messages(SHIFT_CANCELLED_BUDDY)
    assert [m.recipient for m in to_volunteer] == [thandi.user.phone]
    assert [m.recipient for m in to_buddy] == [sipho.user.phone]
    for message in to_volunteer + to_buddy:
        text = message.payload["body"]
        assert "Friday patrol, Fri 2 May 18:00-21:00" in text, text
        assert "The schedule changed" in text
    assert _orphans(roster) == []
    # The slot the schedule now has can be booked.
    assert roster.book(thandi, "2025-05-03T18:00:00+02:00").status_code == 201


def test_on_booked_cancel_leaves_bookings_that_stay_shifts_alone(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    friday = roster.booked(thandi, FRIDAY)
    later = roster.booked(sipho, NEXT_FRIDAY)
    # From 9 May on, the season still holds the second Friday only.
    changed = _patch(roster, admin, start_date="2025-05-09", on_booked="cancel")
    assert changed.status_code == 200, changed.text
    assert read_booking(roster.db, friday["booking_id"]).canceled_at is not None
    stays = read_booking(roster.db, later["booking_id"])
    assert (stays.canceled_at, stays.sequence) == (None, 0)  # nothing a calendar shows changed
    assert [m.recipient for m in roster.messages(SHIFT_CANCELLED)] == [thandi.user.phone]


def test_a_longer_shift_moves_the_end_of_bookings_that_stay(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    booked = roster.booked(thandi, FRIDAY)
    changed = _patch(roster, admin, duration_minutes=240)
    assert changed.status_code == 200, changed.text
    booking = read_booking(roster.db, booked["booking_id"])
    assert booking.canceled_at is None
    assert booking.shift_end == booking.shift_start + timedelta(hours=4)
    assert (booking.sequence, booking.changed_at) == (1, roster.clock())
    shown = roster.client.get(f"/bookings/{booked['booking_id']}", headers=thandi.headers)
    assert shown.json()["end_time"] == "2025-05-02T22:00:00+02:00"
    assert roster.messages(SHIFT_CANCELLED) == []


def test_a_cron_that_keeps_the_booked_start_changes_nothing_of_the_booking(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    booked = roster.booked(thandi, FRIDAY)
    changed = _patch(roster, admin, cron_expr="0 18 * * FRI,SAT")
    assert changed.status_code == 200, changed.text
    booking = read_booking(roster.db, booked["booking_id"])
    assert (booking.canceled_at, booking.sequence) == (None, 0)


def test_renaming_raises_the_sequence_of_upcoming_active_bookings_only(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    upcoming = roster.booked(thandi, FRIDAY)
    past = add_booking(
        roster.db, roster.schedule, sipho.user, datetime(2025, 4, 25, 16, tzinfo=UTC)
    )
    gone = roster.booked(sipho, NEXT_FRIDAY)
    assert roster.client.delete(f"/bookings/{gone['booking_id']}", headers=sipho.headers).is_success
    sequence_of_gone = read_booking(roster.db, gone["booking_id"]).sequence
    renamed = _patch(roster, admin, name="Friday night patrol")
    assert renamed.status_code == 200, renamed.text
    moved = read_booking(roster.db, upcoming["booking_id"])
    assert (moved.sequence, moved.changed_at) == (1, roster.clock())
    assert read_booking(roster.db, past.booking_id).sequence == 0
    assert read_booking(roster.db, gone["booking_id"]).sequence == sequence_of_gone
    # The calendar feed shows the new name with the raised sequence.
    feed = _feed(roster, thandi)
    assert "SUMMARY:Patrol: Friday night patrol" in feed and "SEQUENCE:1" in feed


def _feed(roster: Roster, who: Member) -> str:
    url = str(roster.client.get("/me", headers=who.headers).json()["calendar_url"])
    path = "/" + url.split("/", 3)[3]
    response = roster.client.get(path)
    assert response.status_code == 200, response.text
    return str(response.text).replace("\r\n ", "")  # unfolded lines


def test_shifts_that_started_never_block_a_change(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    started = add_booking(
        roster.db, roster.schedule, thandi.user, datetime(2025, 5, 1, 7, 0, tzinfo=UTC)
    )
    changed = _patch(roster, admin, cron_expr="0 18 * * SAT", duration_minutes=60)
    assert changed.status_code == 200, changed.text
    kept = read_booking(roster.db, started.booking_id)
    assert (kept.canceled_at, kept.sequence) == (None, 0)
    assert kept.shift_end == datetime(2025, 5, 1, 10, 0, tzinfo=UTC)  # history stays as it was


@pytest.mark.parametrize("value", ["keep", "", None, 1])
def test_on_booked_takes_only_cancel(roster: Roster, admin: Member, value: object) -> None:
    refused = _patch(roster, admin, name="Renamed", on_booked=value)
    assert refused.status_code == 400, refused.text
    assert "on_booked" in refused.json()["error"]
    assert _schedule(roster).name == "Friday patrol"


@pytest.mark.usefixtures("cli_env")
def test_the_cli_refuses_an_edit_it_cannot_carry_to_the_bookings(roster: Roster) -> None:
    """`watchroster schedules update` cannot cancel or move bookings (that is the bookings
    feature's, above the schedules CLI): such an edit is refused whole, never done halfway."""
    from typer.testing import CliRunner

    from watchroster.schedules.cli import schedules_app

    # A Friday far ahead: the CLI counts from the real current time.
    start = datetime(2099, 5, 1, 16, 0, tzinfo=UTC)
    booked = add_booking(roster.db, roster.schedule, roster.member("+27821230007").user, start)
    runner = CliRunner()
    schedule_id = str(roster.schedule.schedule_id)
    for change in (["--name", "Renamed"], ["--duration", "60"], ["--cron", "0 18 * * SAT"]):
        refused = runner.invoke(schedules_app, ["update", schedule_id, *change])
        assert refused.exit_code == 2, refused.output
        assert "2099-05-01T18:00:00+02:00" in refused.output
    assert (_schedule(roster).name, _schedule(roster).duration_minutes) == ("Friday patrol", 180)
    assert read_booking(roster.db, booked.booking_id).sequence == 0
    # What concerns no booking still works.
    assert runner.invoke(schedules_app, ["update", schedule_id, "--seats", "2"]).exit_code == 0
