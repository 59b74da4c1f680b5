"""Attendance figures (`attendance.service`) on SQLite and PostgreSQL: the counts per volunteer,
late cancellations through the real cancel path, fill rates per schedule and per week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.attendance.support import past_booking
from tests.support.factories import TEST_RULES, add_schedule, add_user, read_booking
from watchroster.attendance import service
from watchroster.auth.deps import Principal
from watchroster.bookings.service import cancel_booking
from watchroster.core.errors import ValidationFailed
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule, ScheduleException

JHB = ZoneInfo("Africa/Johannesburg")
NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)  # Thursday 10:00 in Johannesburg
TODAY = date(2025, 5, 1)


def friday(day: int, month: int = 4) -> datetime:
    """Friday 18:00 Johannesburg of 2025-<month>-<day>, as UTC."""
    start = datetime(2025, month, day, 18, 0, tzinfo=JHB).astimezone(UTC)
    assert start.weekday() == 4
    return start


def _figures(db: Database, sort: str | None = None, **bounds: date) -> service.Figures:
    period = service.period_of(bounds.get("first"), bounds.get("last"), TODAY, JHB)
    with db.read() as session:
        return service.attendance_figures(session, period, NOW, sort)


def test_default_period_is_the_twelve_weeks_up_to_today() -> None:
    period = service.period_of(None, None, TODAY, JHB)
    assert (period.first, period.last) == (date(2025, 2, 7), TODAY)
    weeks = period.weeks()
    assert len(weeks) == 12
    assert weeks[-1] == (date(2025, 4, 25), TODAY)
    assert weeks[0] == (date(2025, 2, 7), date(2025, 2, 13))
    assert period.start == datetime(2025, 2, 6, 22, 0, tzinfo=UTC)  # local midnight
    assert period.end == datetime(2025, 5, 1, 22, 0, tzinfo=UTC)


def test_periods_that_are_not_whole_weeks_shorten_the_first_week() -> None:
    period = service.period_of(date(2025, 4, 20), date(2025, 5, 1), TODAY, JHB)
    assert period.weeks() == [(date(2025, 4, 20), date(2025, 4, 24)), (date(2025, 4, 25), TODAY)]
    assert period.week_index(date(2025, 4, 20)) == 0
    assert period.week_index(date(2025, 4, 25)) == 1


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="after"):
        service.period_of(date(2025, 5, 2), date(2025, 5, 1), TODAY, JHB)
    with pytest.raises(ValidationFailed, match="366"):
        service.period_of(date(2024, 1, 1), date(2025, 1, 1), TODAY, JHB)
    service.period_of(date(2024, 1, 2), date(2025, 1, 1), TODAY, JHB)  # 366 days: allowed
    with pytest.raises(ValidationFailed):
        service.requested_period("2025-02-30", None, NOW, JHB)
    with pytest.raises(ValidationFailed, match="sort"):
        service.parse_sort("phone")


def test_counts_per_volunteer(db: Database) -> None:
    schedule = add_schedule(db)
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+27821234568", "Sipho Dlamini")
    past_booking(db, schedule, thandi, friday(25), attended=True)
    past_booking(db, schedule, thandi, friday(18), attended=False)
    past_booking(db, schedule, thandi, friday(11))  # not recorded
    past_booking(db, schedule, sipho, friday(4), attended=True)
    # Outside the period (before 7 February): not counted.
    past_booking(db, schedule, sipho, friday(31, 1), attended=False)
    # Upcoming (tomorrow) in a period that includes it: booked, nothing else yet.
    past_booking(db, schedule, sipho, friday(2, 5))

    figures = _figures(db, first=date(2025, 2, 7), last=date(2025, 5, 2))
    by_name = {v.name: v for v in figures.volunteers}
    thandi_row = by_name["Thandi Mokoena"]
    assert (thandi_row.booked, thandi_row.attended, thandi_row.absent) == (3, 1, 1)
    assert (thandi_row.not_recorded, thandi_row.canceled_late) == (1, 0)
    sipho_row = by_name["Sipho Dlamini"]
    assert (sipho_row.booked, sipho_row.attended, sipho_row.absent) == (2, 1, 0)
    assert sipho_row.not_recorded == 0


def test_cancelled_late_counts_23_hours_before_but_not_25(db: Database) -> None:
    schedule = add_schedule(db)
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    caller = Principal(thandi.user_id, "volunteer", thandi.name, thandi.phone, session_id=0)
    late = past_booking(db, schedule, thandi, friday(25))
    early = past_booking(db, schedule, thandi, friday(18))
    with db.write() as session:  # the volunteer cancels through the real path, at those times
        cancel_booking(session, caller, late, friday(25) - timedelta(hours=23), TEST_RULES.buddy)
        cancel_booking(session, caller, early, friday(18) - timedelta(hours=25), TEST_RULES.buddy)

    (row,) = _figures(db).volunteers
    assert (row.booked, row.canceled_late) == (0, 1)
    assert service.is_late_cancel(friday(25), friday(25) - timedelta(hours=23, minutes=59))
    assert not service.is_late_cancel(friday(25), friday(25) - timedelta(hours=24))


def test_a_shift_the_coordinators_called_off_is_nobodys_late_cancellation(db: Database) -> None:
    schedule = add_schedule(db)
    admin = add_user(db, "+27821230000", "Anna Admin", role="admin")
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    coordinator = Principal(admin.user_id, "admin", admin.name, admin.phone, session_id=0)
    booking_id = past_booking(db, schedule, thandi, friday(25))
    with db.write() as session:  # DELETE /bookings/{id} by a coordinator, 2 hours before
        cancel_booking(
            session, coordinator, booking_id, friday(25) - timedelta(hours=2), TEST_RULES.buddy
        )
    assert read_booking(db, booking_id).canceled_by_user_id == admin.user_id
    (row,) = _figures(db).volunteers
    assert (row.booked, row.canceled_late) == (0, 0)


def test_fill_rate_per_schedule_and_per_week(db: Database) -> None:
    schedule = add_schedule(db)  # Fridays 18:00: one shift in each of the 12 weeks
    add_schedule(db, name="Old patrol", cron_expr="0 6 * * MON", active=False)  # no bookings
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+27821234568", "Sipho Dlamini")
    past_booking(db, schedule, thandi, friday(25), attended=True)
    past_booking(db, schedule, thandi, friday(18))
    past_booking(db, schedule, sipho, friday(11), canceled_at=friday(11) - timedelta(days=3))

    figures = _figures(db)
    (only,) = figures.schedules  # the inactive schedule without bookings is left out
    assert (only.name, only.fill.offered, only.fill.booked) == ("Friday patrol", 12, 2)
    assert only.fill.rate == pytest.approx(2 / 12)
    rates = [week.fill.rate for week in figures.weeks]
    assert rates == [0.0] * 9 + [0.0, 1.0, 1.0]  # the cancelled 11 April is open again
    assert [week.fill.offered for week in figures.weeks] == [1] * 12


def test_seats_count_places_and_a_called_off_shift_is_not_offered(db: Database) -> None:
    schedule = add_schedule(db)
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+27821234568", "Sipho Dlamini")
    admin = add_user(db, "+27821230000", "Anna Admin", role="admin")
    with db.write() as session:
        row = session.get(Schedule, schedule.schedule_id)
        assert row is not None
        row.seats = 2
        session.add(
            ScheduleException(
                schedule_id=schedule.schedule_id,
                shift_start=friday(18),
                reason="Storm",
                created_by_user_id=admin.user_id,
                created_at=NOW,
            )
        )
    past_booking(db, schedule, thandi, friday(25), attended=True)
    with db.write() as session:
        from watchroster.bookings.models import Booking

        session.add(
            Booking(
                user_id=sipho.user_id,
                schedule_id=schedule.schedule_id,
                shift_start=friday(25),
                shift_end=friday(25) + timedelta(hours=3),
                seat=2,
            )
        )

    (only,) = _figures(db).schedules
    assert (only.fill.offered, only.fill.booked) == (11 * 2, 2)
    weeks = _figures(db).weeks
    assert weeks[-1].fill.rate == 1.0
    assert weeks[-2].fill.offered == 0 and weeks[-2].fill.rate is None


def test_sorted_by_any_column_either_way(db: Database) -> None:
    names = ("Zanele", "adam", "Mpho")
    for index, name in enumerate(names):
        schedule = add_schedule(db, name=f"{name} patrol")  # one each: no shared slots
        user = add_user(db, f"+2782123456{index}", name)
        for week in range(index + 1):
            past_booking(db, schedule, user, friday(25) - timedelta(weeks=week), attended=False)

    assert [v.name for v in _figures(db).volunteers] == ["adam", "Mpho", "Zanele"]
    assert [v.name for v in _figures(db, "-name").volunteers] == ["Zanele", "Mpho", "adam"]
    assert [v.absent for v in _figures(db, "-absent").volunteers] == [3, 2, 1]
    assert [v.absent for v in _figures(db, "absent").volunteers] == [1, 2, 3]
    assert _figures(db, "-absent").sort == "-absent"


def test_weeks_follow_local_dates_across_a_clock_change(db: Database) -> None:
    """Europe/London springs forward on Sunday 30 March 2025: a daily 00:30 shift still falls
    once on each local day, seven a week, and the period ends at local midnight."""
    add_schedule(db, name="Night", cron_expr="30 0 * * *", timezone="Europe/London")
    london = ZoneInfo("Europe/London")
    period = service.period_of(date(2025, 3, 24), date(2025, 4, 6), TODAY, london)
    assert period.end == datetime(2025, 4, 6, 23, 0, tzinfo=UTC)  # BST midnight
    with db.read() as session:
        figures = service.attendance_figures(session, period, NOW)
    assert [week.fill.offered for week in figures.weeks] == [7, 7]


def test_a_skipped_public_holiday_is_not_offered(db: Database) -> None:
    """Two Fridays of the period are South African public holidays: Human Rights Day
    (21 March 2025) and Good Friday (18 April)."""
    schedule = add_schedule(db)
    with db.write() as session:
        row = session.get(Schedule, schedule.schedule_id)
        assert row is not None
        row.skip_holidays, row.holiday_country = True, "ZA"
    (only,) = _figures(db).schedules
    assert only.fill.offered == 10
    assert _figures(db).weeks[-2].fill.offered == 0  # 18-24 April
