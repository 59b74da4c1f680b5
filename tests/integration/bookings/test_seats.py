"""Several volunteers per shift (issue #12 §1): seats, the lowest free one, a full shift, and
coordinators lowering the number (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.bookings.conftest import FRIDAY, NEXT_FRIDAY, Member, Roster
from tests.support.factories import add_schedule
from watchroster.bookings import seats
from watchroster.bookings.models import Booking
from watchroster.outbox.models import OutboxMessage


@pytest.fixture
def three_seats(roster: Roster) -> Roster:
    """The roster's Friday schedule, taking three volunteers per shift."""
    roster.schedule = add_schedule(roster.db, name="Friday teams", seats=3)
    return roster


@pytest.fixture
def volunteers(roster: Roster) -> list[Member]:
    names = ["Thandi Mokoena", "Sipho Dlamini", "Lindiwe Khumalo", "Pieter Botha", "Anna Smit"]
    return [roster.member(f"+2782123450{index}", name) for index, name in enumerate(names)]


def _active_seats(roster: Roster, start: datetime) -> list[tuple[int, int]]:
    """(seat, user_id) of the slot's active bookings, by seat."""
    query = (
        select(Booking.seat, Booking.user_id)
        .where(Booking.shift_start == start, Booking.canceled_at.is_(None))
        .order_by(Booking.seat)
    )
    with roster.db.read() as session:
        return [(row[0], row[1]) for row in session.execute(query)]


FRIDAY_UTC = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)


def _hold_seats_one_and_three(roster: Roster, volunteers: list[Member]) -> None:
    """Volunteers 0-2 book seats 1-3 of FRIDAY; volunteer 1 cancels, so seat 2 is free."""
    bookings = [roster.booked(member) for member in volunteers[:3]]
    middle = bookings[1]["booking_id"]
    assert (
        roster.client.delete(f"/bookings/{middle}", headers=volunteers[1].headers).status_code
        == 204
    )


def test_bookings_take_the_lowest_free_seat_until_the_shift_is_full(
    three_seats: Roster, volunteers: list[Member]
) -> None:
    roster = three_seats
    assert [roster.booked(member)["seat"] for member in volunteers[:3]] == [1, 2, 3]
    full = roster.book(volunteers[3])
    assert full.status_code == 409
    assert full.json() == {"error": "this shift is full", "code": "slot_taken"}
    assert _active_seats(roster, FRIDAY_UTC) == [
        (n + 1, m.user_id) for n, m in enumerate(volunteers[:3])
    ]
    assert len(roster.messages("booking_confirmed")) == 3
    # Another Friday of the same schedule has its own three seats.
    assert roster.booked(volunteers[3], NEXT_FRIDAY)["seat"] == 1


def test_a_cancelled_seat_is_the_next_one_taken(
    three_seats: Roster, volunteers: list[Member]
) -> None:
    roster = three_seats
    _hold_seats_one_and_three(roster, volunteers)
    assert roster.booked(volunteers[3])["seat"] == 2
    assert roster.book(volunteers[4]).status_code == 409
    assert [seat for seat, _ in _active_seats(roster, FRIDAY_UTC)] == [1, 2, 3]


def test_one_volunteer_cannot_take_two_seats_of_one_shift(
    three_seats: Roster, volunteers: list[Member]
) -> None:
    roster = three_seats
    roster.booked(volunteers[0])
    again = roster.book(volunteers[0])
    assert again.status_code == 409
    assert again.json()["code"] == "overlap"
    assert roster.booked(volunteers[1])["seat"] == 2


def test_the_same_instant_in_another_offset_is_the_same_shift(
    three_seats: Roster, volunteers: list[Member]
) -> None:
    roster = three_seats
    roster.booked(volunteers[0], FRIDAY)
    assert roster.booked(volunteers[1], "2025-05-02T16:00:00Z")["seat"] == 2


def test_a_seat_lost_to_a_stale_read_moves_on_without_breaking_the_transaction(
    three_seats: Roster, volunteers: list[Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if another booking had taken seats 1 and 2 between the read of the taken seats and the
    INSERT: the INSERTs of seats 1 and 2 do nothing, seat 3 is taken, and the confirmation
    written after them in the same transaction commits (PostgreSQL aborts a transaction at its
    first failed statement, so a caught unique violation would have lost it)."""
    roster = three_seats
    roster.booked(volunteers[0])
    roster.booked(volunteers[1])
    tried: list[list[int]] = []

    def stale(transaction: Any, schedule_id: int, shift_start: datetime, count: int) -> list[int]:
        tried.append(list(range(1, count + 1)))
        return tried[-1]

    monkeypatch.setattr(seats, "free_seats", stale)
    assert roster.booked(volunteers[2])["seat"] == 3
    assert tried == [[1, 2, 3]]
    full = roster.book(volunteers[3])
    assert full.status_code == 409 and full.json()["code"] == "slot_taken"
    with roster.db.read() as session:
        recipients = session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.message_type == "booking_confirmed")
        ).all()
    assert sorted(recipients) == sorted(m.user.phone or "" for m in volunteers[:3])


def test_one_seat_schedules_behave_as_before(roster: Roster, volunteers: list[Member]) -> None:
    assert roster.booked(volunteers[0])["seat"] == 1
    taken = roster.book(volunteers[1])
    assert taken.status_code == 409
    assert taken.json() == {"error": "this shift is full", "code": "slot_taken"}


# --- coordinators: the number of seats -------------------------------------------------------


def _patch(roster: Roster, admin: Member, body: dict[str, Any]) -> Any:
    path = f"/schedules/{roster.schedule.schedule_id}"
    return roster.client.patch(path, json=body, headers=admin.headers)


def test_seats_are_created_shown_and_validated(roster: Roster, admin: Member) -> None:
    body = {"name": "Teams", "cron_expr": "0 18 * * SAT", "duration_minutes": 120, "seats": 3}
    created = roster.client.post("/schedules", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["seats"] == 3
    default = roster.client.post(
        "/schedules", json={**body, "name": "Solo", "seats": 1}, headers=admin.headers
    )
    assert default.json()["seats"] == 1
    without = {key: value for key, value in body.items() if key != "seats"}
    assert (
        roster.client.post(
            "/schedules", json={**without, "name": "Plain"}, headers=admin.headers
        ).json()["seats"]
        == 1
    )
    for wrong in (0, 51, "3", 2.5, None):
        refused = roster.client.post(
            "/schedules",
            json={**body, "name": f"Bad {wrong}", "seats": wrong},
            headers=admin.headers,
        )
        assert refused.status_code == 400, wrong
        assert _patch(roster, admin, {"seats": wrong}).status_code == 400, wrong


def test_lowering_seats_below_an_upcoming_shifts_bookings_is_refused(
    three_seats: Roster, volunteers: list[Member], admin: Member
) -> None:
    roster = three_seats
    for member in volunteers[:3]:
        roster.booked(member)
    roster.booked(volunteers[0], NEXT_FRIDAY)
    refused = _patch(roster, admin, {"seats": 2})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "seats_in_use"
    assert "2025-05-02T18:00:00+02:00" in body["error"]
    assert "2025-05-09" not in body["error"]  # one booking there: fits in 2 seats
    assert [item["start_time"] for item in body["details"]] == [FRIDAY]
    assert roster.client.get(f"/schedules/{roster.schedule.schedule_id}").json()["seats"] == 3
    assert len(_active_seats(roster, FRIDAY_UTC)) == 3  # nothing dropped
    # Raising is always fine; lowering to what every upcoming shift holds too.
    assert _patch(roster, admin, {"seats": 5}).json()["seats"] == 5
    assert _patch(roster, admin, {"seats": 3}).json()["seats"] == 3


def test_lowering_seats_after_a_cancellation_or_once_the_shift_is_over(
    three_seats: Roster, volunteers: list[Member], admin: Member
) -> None:
    roster = three_seats
    bookings = [roster.booked(member) for member in volunteers[:3]]
    third = bookings[2]["booking_id"]
    assert (
        roster.client.delete(f"/bookings/{third}", headers=volunteers[2].headers).status_code == 204
    )
    assert _patch(roster, admin, {"seats": 2}).json()["seats"] == 2
    assert roster.book(volunteers[3]).status_code == 409  # seats 1 and 2 are taken
    # Three again, and a third volunteer; once that shift is over, nothing holds the number up.
    assert _patch(roster, admin, {"seats": 3}).status_code == 200
    roster.booked(volunteers[3])
    assert _patch(roster, admin, {"seats": 1}).status_code == 409
    roster.clock.now = FRIDAY_UTC + timedelta(hours=4)
    assert _patch(roster, admin, {"seats": 1}).json()["seats"] == 1


def test_a_high_seat_blocks_lowering_even_with_a_gap_below(
    three_seats: Roster, volunteers: list[Member], admin: Member
) -> None:
    """Seats 1 and 3 held, seat 2 free: two bookings, but with two seats the free seat 2 would
    let a third volunteer in, so the number may not go below 3."""
    roster = three_seats
    _hold_seats_one_and_three(roster, volunteers)
    assert _patch(roster, admin, {"seats": 2}).status_code == 409
