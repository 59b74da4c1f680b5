"""Registered buddies as full participants (issue #12 §3): their list, their own attendance and
reports, declining, the volunteer naming another buddy, and `buddy_busy`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.integration.bookings.conftest import FRIDAY, NEXT_FRIDAY, Member, Roster
from tests.support.factories import add_schedule, read_booking
from watchroster.auth.models import User

SHIFT_STARTED = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)


def _patch(roster: Roster, who: Member, booking_id: int, **body: Any) -> httpx.Response:
    response: httpx.Response = roster.client.patch(
        f"/bookings/{booking_id}", json=body, headers=who.headers
    )
    return response


def _decline(roster: Roster, who: Member, booking_id: int) -> httpx.Response:
    response: httpx.Response = roster.client.post(
        f"/bookings/{booking_id}/decline", headers=who.headers
    )
    return response


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


# --- seeing and taking part ------------------------------------------------------------------


def test_the_buddy_lists_their_shifts_with_role_buddy(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    named = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    roster.booked(thandi, NEXT_FRIDAY)  # no buddy
    own = roster.booked(sipho, "2025-05-16T18:00:00+02:00")["booking_id"]

    def ids(who: Member, **params: str) -> list[int]:
        response = roster.client.get("/bookings", params=params, headers=who.headers)
        assert response.status_code == 200, response.text
        return [item["booking_id"] for item in response.json()["items"]]

    assert ids(sipho, role="buddy") == [named]
    assert ids(sipho) == ids(sipho, role="owner") == [own]
    assert ids(thandi, role="buddy") == []
    assert ids(admin, role="buddy") == []  # the admin's own buddy shifts
    assert ids(admin, role="buddy", user_id=str(sipho.user_id)) == [named]
    assert len(ids(admin)) == 3  # admins keep seeing everybody's
    refused = roster.client.get("/bookings", params={"role": "boss"}, headers=sipho.headers)
    assert refused.status_code == 400


def test_the_buddy_records_their_own_attendance_only(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    early = _patch(roster, sipho, booking_id, buddy_attended=True)
    assert _error(early) == (409, "shift_not_started")
    roster.clock.now = SHIFT_STARTED + timedelta(minutes=30)
    own = _patch(roster, sipho, booking_id, buddy_attended=True)
    assert own.status_code == 200, own.text
    assert own.json()["buddy_attended"] is True
    # The volunteer's own record stays unknown: only they (or an admin) say it.
    assert own.json()["attendance_recorded_at"] is None
    for body in ({"attended": True}, {"attended": False, "buddy_attended": True}):
        refused = _patch(roster, sipho, booking_id, **body)
        assert _error(refused) == (403, "not_booking_owner")
        path = f"/bookings/{booking_id}/attendance"
        again = roster.client.post(path, json=body, headers=sipho.headers)
        assert _error(again) == (403, "not_booking_owner")
    via_post = roster.client.post(
        f"/bookings/{booking_id}/attendance", json={"buddy_attended": False}, headers=sipho.headers
    )
    assert via_post.status_code == 200 and via_post.json()["buddy_attended"] is False
    owner = _patch(roster, thandi, booking_id, attended=True)
    assert (owner.json()["attended"], owner.json()["buddy_attended"]) == (True, False)
    assert owner.json()["attendance_recorded_at"] == "2025-05-02T16:30:00+00:00"
    assert _error(_patch(roster, thandi, booking_id)) == (400, "validation_error")


def test_the_buddy_files_a_serious_report_that_alerts_the_admins(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    roster.clock.now = SHIFT_STARTED + timedelta(minutes=30)
    path = f"/bookings/{booking_id}/report"
    body = {"severity": 2, "message": "Suspicious car on Main Road"}
    filed = roster.client.post(path, json=body, headers=sipho.headers)
    assert filed.status_code == 201, filed.text
    assert filed.json()["user_id"] == sipho.user_id
    [alert] = roster.messages("incident_alert")
    assert "reported by Sipho" in alert.payload["body"]
    other = roster.member("+27821234570", "Zodwa Other")
    assert roster.client.post(path, json=body, headers=other.headers).status_code == 403


# --- declining -------------------------------------------------------------------------------


def test_the_buddy_declines_and_the_volunteer_is_told(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    for who in (thandi, admin):  # nobody declines for the buddy
        assert _error(_decline(roster, who, booking_id)) == (403, "not_buddy")
    assert _decline(roster, sipho, booking_id).status_code == 204
    row = read_booking(roster.db, booking_id)
    assert (row.buddy_user_id, row.buddy_name, row.buddy_phone) == (None, None, None)
    assert row.canceled_at is None  # the volunteer keeps the shift
    [told] = roster.messages("buddy_declined")
    assert told.recipient == "+27821234567"
    assert told.payload["body"] == (
        "Sipho can't come as your patrol buddy on Friday patrol, Fri 2 May 18:00-21:00. "
        "You can name another."
    )
    # Declined is declined: no longer theirs, neither to decline again nor to read.
    assert _error(_decline(roster, sipho, booking_id)) == (403, "not_buddy")
    detail = roster.client.get(f"/bookings/{booking_id}", headers=sipho.headers)
    assert detail.status_code == 403
    listed = roster.client.get("/bookings", params={"role": "buddy"}, headers=sipho.headers)
    assert listed.json()["items"] == []


def test_decline_is_in_the_volunteers_language_and_only_before_the_start(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    with roster.db.write() as session:
        user = session.get(User, thandi.user_id)
        assert user is not None
        user.language = "af"
    first = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    later = roster.booked(thandi, NEXT_FRIDAY, buddy_user_id=sipho.user_id)["booking_id"]
    assert _decline(roster, sipho, later).status_code == 204
    [told] = roster.messages("buddy_declined")
    assert "Friday patrol, Vrydag 9 Mei 18:00-21:00" in told.payload["body"]
    roster.clock.now = SHIFT_STARTED
    assert _error(_decline(roster, sipho, first)) == (409, "shift_started")
    assert read_booking(roster.db, first).buddy_user_id == sipho.user_id


# --- naming another buddy ---------------------------------------------------------------------


def test_the_volunteer_names_another_buddy_with_the_rules_of_booking_time(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    zodwa = roster.member("+27821234570", "Zodwa Khumalo")
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    changed = _patch(roster, thandi, booking_id, buddy_user_id=zodwa.user_id)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["buddy_user_id"], body["buddy_name"], body["buddy_notified"]) == (
        zodwa.user_id,
        "Zodwa",
        True,
    )
    [named] = [m for m in roster.messages("buddy_booked") if m.recipient == "+27821234570"]
    assert "Thandi Mokoena booked Friday patrol" in named.payload["body"]
    [removed] = roster.messages("buddy_removed")
    assert removed.recipient == "+27821234568"
    assert removed.payload["body"] == (
        "Thandi no longer needs you as patrol buddy on Friday patrol, Fri 2 May 18:00-21:00."
    )
    # The same checks as at booking time.
    cases: list[tuple[dict[str, Any], tuple[int, str]]] = [
        ({"buddy_user_id": thandi.user_id}, (400, "buddy_is_self")),
        ({"buddy_phone": "+27821234567"}, (400, "buddy_is_self")),
        ({"buddy_user_id": 999_999}, (400, "invalid_buddy")),
        ({"buddy_user_id": sipho.user_id, "buddy_phone": "0825551234"}, (400, "invalid_buddy")),
        ({"buddy_phone": "not a phone"}, (400, "invalid_phone")),
        ({"buddy_name": "Sam", "attended": True}, (400, "validation_error")),
    ]
    for patch, expected in cases:
        assert _error(_patch(roster, thandi, booking_id, **patch)) == expected, patch
    # Nothing half-written:
    assert read_booking(roster.db, booking_id).buddy_user_id == zodwa.user_id


def test_only_the_volunteer_changes_the_buddy_and_only_before_the_start(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    for who in (sipho, admin):
        refused = _patch(roster, who, booking_id, buddy_name="Sam")
        assert _error(refused) == (403, "not_booking_owner")
    by_phone = _patch(roster, thandi, booking_id, buddy_phone="082 555 1234", buddy_name="Sam")
    assert by_phone.status_code == 200
    assert (by_phone.json()["buddy_user_id"], by_phone.json()["buddy_name"]) == (None, "Sam")
    assert "buddy_phone" not in by_phone.json()  # never shown back
    assert "buddy_notified" in by_phone.json() and by_phone.json()["buddy_notified"] is False
    removed = _patch(roster, thandi, booking_id, buddy_name=None)
    assert removed.status_code == 200 and "buddy_notified" not in removed.json()
    row = read_booking(roster.db, booking_id)
    assert (row.buddy_user_id, row.buddy_name, row.buddy_phone) == (None, None, None)
    roster.clock.now = SHIFT_STARTED
    late = _patch(roster, thandi, booking_id, buddy_user_id=sipho.user_id)
    assert _error(late) == (409, "shift_started")


def test_the_day_limit_on_buddy_lookups_holds_for_changes_too(
    roster: Roster, thandi: Member
) -> None:
    """Naming by phone matches the number against the members at most
    WATCHROSTER_BUDDY_LOOKUPS_PER_DAY times a day, changes included (issue #9)."""
    member = roster.member("+27821239999", "Lindi Member")
    booking_id = roster.booked(thandi)["booking_id"]
    limit = roster.settings.buddy_lookups_per_day
    for index in range(limit):
        response = _patch(roster, thandi, booking_id, buddy_phone=f"+2782555{index:04d}")
        assert response.status_code == 200
    over = _patch(roster, thandi, booking_id, buddy_phone="+27821239999")
    assert over.status_code == 200
    # Over the limit the number is stored unlinked: whose it is stays unsaid.
    assert over.json()["buddy_user_id"] is None and over.json()["buddy_notified"] is False
    assert [m for m in roster.messages() if m.recipient == "+27821239999"] == []
    # Under the limit (a new day), the same number finds the member.
    roster.clock.advance(days=1, minutes=1)
    linked = _patch(roster, thandi, booking_id, buddy_phone="+27821239999")
    assert linked.json()["buddy_user_id"] == member.user_id


# --- busy: nobody on two overlapping shifts ---------------------------------------------------


def test_naming_a_buddy_who_is_busy_is_refused(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    evening = add_schedule(roster.db, name="Evening patrol", cron_expr="0 19 * * FRI")
    zodwa = roster.member("+27821234570", "Zodwa Khumalo")
    # Sipho has his own booking 18:00-21:00; Zodwa is buddy on it.
    roster.booked(sipho, buddy_user_id=zodwa.user_id)
    later = "2025-05-02T19:00:00+02:00"
    for buddy in (sipho, zodwa):
        refused = roster.book(
            thandi, later, schedule_id=evening.schedule_id, buddy_user_id=buddy.user_id
        )
        assert _error(refused) == (409, "buddy_busy")
        assert "Sipho" not in refused.text and "Zodwa" not in refused.text
    assert roster.count_bookings() == 1
    # Named by phone, a busy member is just as busy.
    by_phone = roster.book(thandi, later, schedule_id=evening.schedule_id, buddy_phone="0821234570")
    assert _error(by_phone) == (409, "buddy_busy")
    # Another week is free; naming them there and then changing to a busy time: refused too.
    booking_id = roster.booked(thandi, later, schedule_id=evening.schedule_id)["booking_id"]
    assert _error(_patch(roster, thandi, booking_id, buddy_user_id=sipho.user_id)) == (
        409,
        "buddy_busy",
    )
    assert read_booking(roster.db, booking_id).buddy_user_id is None


def test_a_buddy_cannot_book_over_a_shift_they_are_buddy_on(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    evening = add_schedule(roster.db, name="Evening patrol", cron_expr="0 19 * * FRI")
    roster.booked(thandi, buddy_user_id=sipho.user_id)
    own = roster.book(sipho, "2025-05-02T19:00:00+02:00", schedule_id=evening.schedule_id)
    assert _error(own) == (409, "overlap")
    # Not overlapping (the next week), and the booking's own buddy change: both fine.
    assert roster.book(sipho, NEXT_FRIDAY).status_code == 201
    first = roster.client.get("/bookings", params={"role": "buddy"}, headers=sipho.headers)
    [item] = first.json()["items"]
    renamed = _patch(roster, thandi, item["booking_id"], buddy_user_id=sipho.user_id)
    assert renamed.status_code == 200  # the same buddy again: no clash with itself
    assert renamed.json()["buddy_notified"] is False  # and not told twice
    assert item["start_time"] == FRIDAY
