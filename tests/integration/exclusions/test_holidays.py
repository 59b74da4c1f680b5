"""Public holidays a schedule skips: not offered, not bookable (400 naming the holiday), on the
occurrence's local date; the per-schedule settings through the API. Both databases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from tests.integration.bookings.conftest import Member, Roster
from tests.integration.exclusions.conftest import FRIDAY, GOOD_FRIDAY, add_schedule
from watchroster.bookings.models import Booking
from watchroster.schedules.exclusions import PUBLIC_HOLIDAY, excluded
from watchroster.schedules.models import Schedule


def _open(roster: Roster, schedule_id: int, start: str, end: str) -> list[str]:
    response = roster.client.get(
        "/shifts/available", params={"from": start, "to": end, "schedule_id": schedule_id}
    )
    assert response.status_code == 200, response.text
    return [slot["start_time"] for slot in response.json()]


def test_good_friday_is_not_offered(roster: Roster) -> None:
    offered = _open(roster, roster.schedule.schedule_id, "2026-03-30", "2026-04-17")
    assert offered == [FRIDAY, "2026-04-17T18:00:00+02:00"]


def test_a_schedule_that_does_not_skip_holidays_offers_it(roster: Roster) -> None:
    plain = add_schedule(roster.db, name="Every Friday", skip_holidays=False)
    offered = _open(roster, plain.schedule_id, "2026-03-30", "2026-04-10")
    assert offered == [GOOD_FRIDAY, FRIDAY]


def test_booking_a_holiday_is_refused_with_its_name(roster: Roster, thandi: Member) -> None:
    response = roster.book(thandi, GOOD_FRIDAY)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == PUBLIC_HOLIDAY
    assert "Good Friday" in body["error"]
    assert roster.count_bookings() == 0
    assert roster.messages() == []
    assert roster.book(thandi, FRIDAY).status_code == 201  # an ordinary Friday still is


def test_excluded_names_the_holiday(roster: Roster) -> None:
    with roster.db.read() as session:
        schedule = session.get(Schedule, roster.schedule.schedule_id)
        assert schedule is not None
        holiday = excluded(session, schedule, datetime.fromisoformat(GOOD_FRIDAY))
        assert holiday is not None
        assert (holiday.kind, holiday.reason) == (PUBLIC_HOLIDAY, "Good Friday")
        assert excluded(session, schedule, datetime.fromisoformat(FRIDAY)) is None


def _english_hours(roster: Roster, name: str, cron_expr: str) -> Schedule:
    """Hour-long London shifts that skip the bank holidays of England."""
    return add_schedule(
        roster.db,
        name=name,
        cron_expr=cron_expr,
        timezone="Europe/London",
        duration_minutes=60,
        holiday_country="GB",
        holiday_subdivision="ENG",
    )


def test_the_local_date_decides_across_daylight_saving(roster: Roster) -> None:
    """London is on BST (UTC+1) from 29 March 2026. Easter Monday, 6 April, is a bank holiday in
    England: its 00:30 shift (23:30 UTC on Sunday) is skipped, the Sunday 23:30 one (22:30 UTC)
    is held, and so is Tuesday's 00:30."""
    london = _english_hours(roster, "Night watch", "30 0,23 * * *")
    offered = _open(
        roster, london.schedule_id, "2026-04-05T00:00:00+01:00", "2026-04-07T01:00:00+01:00"
    )
    assert offered == [
        "2026-04-05T00:30:00+01:00",
        "2026-04-05T23:30:00+01:00",
        "2026-04-07T00:30:00+01:00",
    ]


def test_the_clocks_going_back_keep_the_local_date(roster: Roster) -> None:
    """A fall-back night (Europe/London, 25 October 2026) is no holiday: every shift is held,
    the 01:30 one once; Christmas Day's are skipped with its local date in GMT."""
    london = _english_hours(roster, "Early watch", "30 1 * * *")
    october = _open(roster, london.schedule_id, "2026-10-24", "2026-10-26")
    assert october == [
        "2026-10-24T01:30:00+01:00",
        "2026-10-25T01:30:00+01:00",
        "2026-10-26T01:30:00+00:00",
    ]
    christmas = _open(roster, london.schedule_id, "2026-12-24", "2026-12-28")
    assert christmas == ["2026-12-24T01:30:00+00:00", "2026-12-27T01:30:00+00:00"]


def _create(roster: Roster, admin: Member, **fields: Any) -> Any:
    body = {"name": "Saturday patrol", "cron_expr": "0 18 * * SAT", "duration_minutes": 120}
    return roster.client.post("/schedules", json={**body, **fields}, headers=admin.headers)


def test_the_country_defaults_to_the_setting(roster: Roster, admin: Member) -> None:
    created = _create(roster, admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["skip_holidays"] is False
    assert body["holiday_country"] == roster.settings.holiday_country == "ZA"
    assert body["holiday_subdivision"] is None


def test_country_and_subdivision_are_checked(roster: Roster, admin: Member) -> None:
    unknown = _create(roster, admin, skip_holidays=True, holiday_country="XX")
    assert unknown.status_code == 400
    assert "holiday_country" in unknown.text
    wrong = _create(
        roster, admin, skip_holidays=True, holiday_country="DE", holiday_subdivision="ZZ"
    )
    assert wrong.status_code == 400
    assert wrong.json()["details"][0]["field"] == "holiday_subdivision"
    ok = _create(roster, admin, skip_holidays=True, holiday_country="de", holiday_subdivision="by")
    assert ok.status_code == 201, ok.text
    assert (ok.json()["holiday_country"], ok.json()["holiday_subdivision"]) == ("DE", "BY")


def test_patch_turns_skipping_on_and_off(roster: Roster, admin: Member) -> None:
    plain = add_schedule(roster.db, name="Every Friday", skip_holidays=False)
    path = f"/schedules/{plain.schedule_id}"
    on = roster.client.patch(path, json={"skip_holidays": True}, headers=admin.headers)
    assert on.status_code == 200, on.text
    assert _open(roster, plain.schedule_id, "2026-03-30", "2026-04-10") == [FRIDAY]
    null = roster.client.patch(path, json={"skip_holidays": None}, headers=admin.headers)
    assert null.status_code == 400
    bad = roster.client.patch(path, json={"holiday_subdivision": "XYZ"}, headers=admin.headers)
    assert bad.status_code == 400
    off = roster.client.patch(path, json={"skip_holidays": False}, headers=admin.headers)
    assert off.status_code == 200
    assert _open(roster, plain.schedule_id, "2026-03-30", "2026-04-10") == [GOOD_FRIDAY, FRIDAY]


def test_booking_an_ordinary_friday_leaves_no_trace_of_holidays(
    roster: Roster, thandi: Member
) -> None:
    roster.booked(thandi, FRIDAY)
    with roster.db.read() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.canceled_by_user_id is None
        assert booking.cancel_reason is None
