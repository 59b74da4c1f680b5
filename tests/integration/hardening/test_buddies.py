"""Issue #9, section 2: buddies are neither a lookup service nor an SMS cannon (both databases).

Every count of messages is taken twice: the outbox rows queued, and what the dispatcher then
hands to a (fake) provider, which is what would actually go out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.bookings.conftest import FRIDAY, Member, Roster
from tests.integration.outbox.support import FakeProvider, dispatcher
from tests.support.factories import add_schedule
from watchroster.app import create_app
from watchroster.auth.models import User
from watchroster.auth.service import MESSAGE_TYPE_OTP
from watchroster.bookings import messages
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import STATUS_FAILED, STATUS_SENT, OutboxMessage
from watchroster.outbox.service import queue_message

FOREIGN = "+447400123456"  # a valid UK mobile (phonenumbers' example); the default region is ZA
SIPHO = "+27821234568"
CYCLES = 100
NOTICES_PER_DAY = Settings.model_fields["buddy_notices_per_day"].default
LOOKUPS_PER_DAY = Settings.model_fields["buddy_lookups_per_day"].default
MESSAGE_TYPES = (
    MESSAGE_TYPE_OTP,
    messages.BOOKING_CONFIRMED,
    messages.BUDDY_BOOKED,
    messages.BOOKING_CANCELED,
    messages.BUDDY_CANCELED,
    messages.REMINDER,
    messages.INCIDENT_ALERT,
    messages.COVERAGE_ALERT,
)


@contextmanager
def _with_settings(roster: Roster, **overrides: Any) -> Iterator[Roster]:
    """The same database and clock behind an app with other settings."""
    settings = roster.settings.model_copy(update=overrides)
    app = create_app(settings, db=roster.db, clock=roster.clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Roster(client, roster.db, settings, roster.clock, roster.schedule)


def _cancel(roster: Roster, who: Member, booking_id: int) -> None:
    response = roster.client.delete(f"/bookings/{booking_id}", headers=who.headers)
    assert response.status_code == 204, response.text


def _cycles(roster: Roster, who: Member, count: int, **buddy: Any) -> list[dict[str, Any]]:
    """Book the Friday slot and cancel it, `count` times; the bodies of the 201s."""
    bodies = []
    for _ in range(count):
        body = roster.booked(who, FRIDAY, **buddy)
        _cancel(roster, who, body["booking_id"])
        bodies.append(body)
    return bodies


def _queued_to(roster: Roster, phone: str) -> list[OutboxMessage]:
    return [message for message in roster.messages() if message.recipient == phone]


def _dispatched(roster: Roster) -> list[str]:
    """Recipients of everything the dispatcher hands to a provider now."""
    provider = FakeProvider()
    dispatcher(roster.db, roster.settings, roster.clock, provider).run_until_idle()
    return [call.recipient for call in provider.calls]


def _set_user(roster: Roster, member: Member, **values: Any) -> None:
    with roster.db.write() as session:
        user = session.get_one(User, member.user_id)
        for name, value in values.items():
            setattr(user, name, value)


def _stored(roster: Roster, booking_id: int) -> Booking:
    with roster.db.read() as session:
        return session.get_one(Booking, booking_id)


# --- no SMS cannon ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["unregistered by phone", "member by id", "member by phone"])
def test_a_foreign_buddy_number_gets_nothing_in_100_cycles(
    roster: Roster, thandi: Member, how: str
) -> None:
    buddy: dict[str, Any] = {"buddy_phone": FOREIGN}
    if how != "unregistered by phone":
        # A member whose number is outside the allowed regions (e.g. registered before a change).
        member = roster.member(FOREIGN, "Far Away")
        buddy = {"buddy_user_id": member.user_id} if how == "member by id" else buddy
    bodies = _cycles(roster, thandi, CYCLES, **buddy)
    assert [body["buddy_notified"] for body in bodies] == [False] * CYCLES
    assert _queued_to(roster, FOREIGN) == []
    recipients = _dispatched(roster)
    assert FOREIGN not in recipients
    # Messages still flow: the volunteer's own confirmations all went out.
    assert recipients.count("+27821234567") == CYCLES


def test_a_registered_buddy_gets_at_most_the_daily_cap(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    bodies = _cycles(roster, thandi, CYCLES, buddy_user_id=sipho.user_id)
    # Each cycle tells the buddy twice (booked, cancelled): the cap is reached after half of it.
    told = NOTICES_PER_DAY // 2
    assert [body["buddy_notified"] for body in bodies] == [True] * told + [False] * (CYCLES - told)
    assert len(_queued_to(roster, SIPHO)) == NOTICES_PER_DAY
    assert _dispatched(roster).count(SIPHO) == NOTICES_PER_DAY
    assert roster.count_bookings() == CYCLES  # every booking still succeeded
    # The window slides: a day after the first notices, the allowance is back.
    roster.clock.advance(days=1, minutes=1)
    assert roster.booked(thandi, FRIDAY, buddy_user_id=sipho.user_id)["buddy_notified"] is True


def test_the_notice_cap_is_the_setting_and_counts_against_whoever_acts(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    with _with_settings(roster, buddy_notices_per_day=1) as capped:
        _check_cap_of_one(capped, thandi, sipho)


def _check_cap_of_one(capped: Roster, thandi: Member, sipho: Member) -> None:
    other = capped.member("+27821230009", "Other Member")
    admin = capped.member("+27821234569", "Anna Admin", role="admin")
    first = capped.booked(thandi, FRIDAY, buddy_user_id=sipho.user_id)
    assert first["buddy_notified"] is True
    _cancel(capped, thandi, first["booking_id"])  # thandi's one notice is used: sipho not told
    assert [m.message_type for m in _queued_to(capped, SIPHO)] == [messages.BUDDY_BOOKED]
    # The allowance is the caller's, whoever the buddy is.
    second = capped.booked(thandi, FRIDAY, buddy_user_id=other.user_id)
    assert (second["buddy_notified"], capped.messages(messages.BUDDY_BOOKED)[1:]) == (False, [])
    # A coordinator who cancels uses their own allowance; the volunteer is always told.
    _cancel(capped, admin, second["booking_id"])
    assert [m.recipient for m in capped.messages(messages.BOOKING_CANCELED)] == ["+27821234567"]
    assert [m.recipient for m in capped.messages(messages.BUDDY_CANCELED)] == ["+27821230009"]


def test_an_unregistered_buddy_phone_is_stored_never_messaged(
    roster: Roster, thandi: Member
) -> None:
    body = roster.booked(thandi, FRIDAY, buddy_phone="0825551234", buddy_name="Lindiwe")
    _cancel(roster, thandi, body["booking_id"])
    assert body["buddy_notified"] is False
    assert _stored(roster, body["booking_id"]).buddy_phone == "+27825551234"  # for coordinators
    assert _queued_to(roster, "+27825551234") == []
    assert "+27825551234" not in _dispatched(roster)


def test_the_cap_holds_under_parallel_bookings_and_cancellations(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    hourly = add_schedule(roster.db, name="Hourly", cron_expr="0 * * * *", duration_minutes=60)
    starts = [f"2025-05-02T{hour:02d}:00:00+02:00" for hour in range(11, 23)]
    with _with_settings(roster, buddy_notices_per_day=3) as capped:
        admin = capped.member("+27821234569", "Anna Admin", role="admin")

        def book(start: str) -> httpx.Response:
            extra = {"schedule_id": hourly.schedule_id, "buddy_user_id": sipho.user_id}
            return capped.book(thandi, start, **extra)

        def cancel(booking_id: int) -> int:
            path = f"/bookings/{booking_id}"
            response: httpx.Response = capped.client.delete(path, headers=admin.headers)
            return response.status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            booked = list(pool.map(book, starts))
            assert [response.status_code for response in booked] == [201] * len(starts)
            assert sum(response.json()["buddy_notified"] for response in booked) == 3
            ids = [response.json()["booking_id"] for response in booked]
            assert list(pool.map(cancel, ids)) == [204] * len(ids)
    kinds = [message.message_type for message in _queued_to(roster, SIPHO)]
    # Three notices on thandi's allowance, three on the coordinator's.
    assert sorted(kinds) == [messages.BUDDY_BOOKED] * 3 + [messages.BUDDY_CANCELED] * 3


# --- no lookup service -----------------------------------------------------------------------


def test_phone_buddies_answer_alike_for_unknown_registered_and_deactivated(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    lerato = roster.member("+27821234570", "Lerato Deactivated")
    _set_user(roster, lerato, active=False)
    answers = {}
    for name, phone in (
        ("registered", SIPHO),
        ("deactivated", "+27821234570"),
        ("unknown", "+27825551234"),
    ):
        response = roster.book(thandi, FRIDAY, buddy_phone=phone, buddy_name="Friend")
        answers[name] = (response.status_code, response.json())
        _cancel(roster, thandi, answers[name][1]["booking_id"])
    assert {status for status, _ in answers.values()} == {201}
    assert len({frozenset(body) for _, body in answers.values()}) == 1  # one shape
    registered, deactivated, unknown = (
        answers[n][1] for n in ("registered", "deactivated", "unknown")
    )
    assert (registered["buddy_user_id"], registered["buddy_notified"]) == (sipho.user_id, True)
    # A deactivated member is exactly an unregistered number: only the booking's id differs.
    assert {**deactivated, "booking_id": 0} == {**unknown, "booking_id": 0}
    assert (unknown["buddy_user_id"], unknown["buddy_name"], unknown["buddy_notified"]) == (
        None,
        "Friend",
        False,
    )
    assert _queued_to(roster, "+27821234570") == []


def test_unknown_deactivated_and_erased_buddy_ids_get_the_same_400(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    erased = roster.member("+27821234571", "Gone Member")
    _set_user(roster, erased, phone=None, name=None, active=False, erased_at=roster.clock())
    _set_user(roster, sipho, active=False)
    answers = [
        roster.book(thandi, FRIDAY, buddy_user_id=user_id)
        for user_id in (4242, sipho.user_id, erased.user_id)
    ]
    assert {response.status_code for response in answers} == {400}
    assert len({response.text for response in answers}) == 1
    assert answers[0].json()["code"] == "invalid_buddy"
    assert roster.count_bookings() == 0 and roster.messages() == []


def test_id_and_phone_together_are_refused_whether_they_match_or_not(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    matching = roster.book(thandi, FRIDAY, buddy_user_id=sipho.user_id, buddy_phone=SIPHO)
    other = roster.book(thandi, FRIDAY, buddy_user_id=sipho.user_id, buddy_phone="0825551234")
    assert (matching.status_code, matching.text) == (other.status_code, other.text)
    assert matching.status_code == 400 and roster.count_bookings() == 0


def test_a_linked_buddy_shows_by_first_name_only(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    admin = roster.member("+27821234569", "Anna Admin", role="admin")
    by_id = roster.booked(thandi, FRIDAY, buddy_user_id=sipho.user_id)
    typed = roster.booked(
        thandi, "2025-05-09T18:00:00+02:00", buddy_phone=SIPHO, buddy_name="Sipho Dlamini"
    )
    assert (by_id["buddy_name"], typed["buddy_name"]) == ("Sipho", "Sipho")
    for who in (thandi, sipho, admin):
        detail = roster.client.get(f"/bookings/{by_id['booking_id']}", headers=who.headers)
        assert detail.json()["buddy_name"] == "Sipho"
    listed = roster.client.get("/bookings", headers=thandi.headers).json()["items"]
    assert [item["buddy_name"] for item in listed] == ["Sipho", "Sipho"]
    confirmations = [m.payload["body"] for m in roster.messages(messages.BOOKING_CONFIRMED)]
    assert all("with Sipho." in body and "Dlamini" not in body for body in confirmations)
    # An unregistered buddy's name is the volunteer's own words, shown as typed.
    own = roster.booked(thandi, "2025-05-16T18:00:00+02:00", buddy_name="Lindiwe Khumalo")
    assert own["buddy_name"] == "Lindiwe Khumalo"


def test_phone_lookups_are_capped_per_day(roster: Roster, thandi: Member, sipho: Member) -> None:
    newcomer = roster.member("+27821234572", "New Member")
    first = _cycles(roster, thandi, 1, buddy_phone=SIPHO)[0]
    others = [f"+2782555{index:04d}" for index in range(LOOKUPS_PER_DAY - 1)]
    for phone in others:
        assert _cycles(roster, thandi, 1, buddy_phone=phone)[0]["buddy_user_id"] is None
    # The day's distinct numbers are used up: a member's number is stored unlinked, untold.
    past = _cycles(roster, thandi, 1, buddy_phone="+27821234572")[0]
    assert (first["buddy_user_id"], past["buddy_user_id"]) == (sipho.user_id, None)
    assert past["buddy_notified"] is False and _queued_to(roster, "+27821234572") == []
    assert _stored(roster, past["booking_id"]).buddy_phone == "+27821234572"
    # A number already matched today costs nothing more; tomorrow the allowance is back.
    assert _cycles(roster, thandi, 1, buddy_phone=SIPHO)[0]["buddy_user_id"] == sipho.user_id
    roster.clock.advance(days=1, minutes=1)
    again = _cycles(roster, thandi, 1, buddy_phone="+27821234572")[0]
    assert (again["buddy_user_id"], again["buddy_notified"]) == (newcomer.user_id, True)


# --- the dispatcher, the last line ------------------------------------------------------------


def _queue_every_type(db: Database, clock: FrozenClock, recipient: str) -> list[int]:
    ids = []
    with db.write() as session:
        for message_type in MESSAGE_TYPES:
            outbox_id = queue_message(
                session, message_type=message_type, recipient=recipient, body="x", now=clock()
            )
            assert outbox_id is not None
            ids.append(outbox_id)
    return ids


def _statuses(db: Database, ids: list[int]) -> list[tuple[str, str | None]]:
    with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.outbox_id.in_(ids))
        return [(row.status, row.last_error) for row in session.scalars(query)]


def test_the_dispatcher_never_sends_outside_the_allowed_regions(
    db: Database, settings: Settings, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    foreign = _queue_every_type(db, clock, FOREIGN)
    local = _queue_every_type(db, clock, SIPHO)
    provider = FakeProvider()
    with caplog.at_level(logging.WARNING, logger="watchroster.outbox"):
        dispatcher(db, settings, clock, provider).run_until_idle()
    assert sorted(call.outbox_id for call in provider.calls) == local
    error = "recipient's region (GB) is not in WATCHROSTER_OTP_ALLOWED_REGIONS"
    assert _statuses(db, foreign) == [(STATUS_FAILED, error)] * len(MESSAGE_TYPES)
    assert "region (GB)" in caplog.text and FOREIGN not in caplog.text  # logged, masked


@pytest.mark.parametrize("allowed", ["ZA,GB", "*"])
def test_the_allowed_regions_setting_decides(
    db: Database, settings: Settings, clock: FrozenClock, allowed: str
) -> None:
    foreign = _queue_every_type(db, clock, FOREIGN)
    provider = FakeProvider()
    wider = settings.model_copy(update={"otp_allowed_regions": allowed})
    dispatcher(db, wider, clock, provider).run_until_idle()
    assert sorted(call.outbox_id for call in provider.calls) == foreign
    assert _statuses(db, foreign) == [(STATUS_SENT, None)] * len(MESSAGE_TYPES)
