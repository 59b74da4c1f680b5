"""Calls for volunteers on both databases: who is asked, one call per slot, the daily cap."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.integration.calls.support import FRIDAY, SATURDAY, SUNDAY, Group, add_member, group
from tests.support.factories import TEST_RULES, add_booking, add_schedule
from watchroster.auth.service import erase_account
from watchroster.calls import jobs, service
from watchroster.calls.models import CallCount, VolunteerCall
from watchroster.cli.periodic import periodic_jobs
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.core.errors import AppError, BadRequest, Conflict, NotFound
from watchroster.core.timefmt import parse_instant
from watchroster.db.engine import Database
from watchroster.runtime.context import AppContext


@pytest.fixture
def crew(db: Database, settings: Settings) -> Group:
    return group(db, settings)


def test_a_call_reaches_free_opted_in_volunteers_once_per_slot(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Thandi Mokoena")
    add_member(db, "+27821230002", "Sipho Dlamini", channel="whatsapp")
    call = crew.ask(schedule.schedule_id, FRIDAY, clock())
    assert (call.recipients, call.skipped_capped) == (2, 0)
    assert call.shift_end - call.shift_start == timedelta(hours=3)
    [thandi] = crew.calls_to("+27821230001")
    assert thandi.startswith(
        "Volunteers needed: Friday patrol, Fri 2 May 18:00-21:00 is still open"
    )
    channels = {row.recipient: row.channel for row in crew.all_calls()}
    assert channels == {"+27821230001": "sms", "+27821230002": "whatsapp"}
    assert all(row.expires_at == FRIDAY for row in crew.all_calls())
    assert crew.calls_to("+27821230000") == [], "the coordinator asking is not asked"

    with pytest.raises(Conflict) as refused:
        crew.ask(schedule.schedule_id, FRIDAY, clock() + timedelta(hours=1))
    assert refused.value.code == "already_asked"
    assert len(crew.all_calls()) == 2


def test_the_message_links_to_the_book_page_of_that_slot(
    crew: Group, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Thandi")
    crew.ask(schedule.schedule_id, FRIDAY, clock())
    [body] = crew.calls_to("+27821230001")
    link = body.rsplit(" ", 1)[1]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == settings.public_url.rstrip("/")
    assert parts.path == "/shifts/book"
    query = parse_qs(parts.query)
    assert query["schedule_id"] == [str(schedule.schedule_id)]
    assert parse_instant(query["start"][0], "start") == FRIDAY
    assert query["start"] == ["2025-05-02T18:00:00+02:00"]


def test_opted_out_deactivated_erased_other_regions_and_busy_people_get_nothing(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Asked")
    add_member(db, "+27821230002", "Opted Out", volunteer_calls=False)
    add_member(db, "+27821230003", "Deactivated", active=False)
    add_member(db, "+447700900123", "Abroad")  # WATCHROSTER_OTP_ALLOWED_REGIONS is ZA
    erased = add_member(db, "+27821230004", "Erased")
    with db.write() as session:
        erase_account(session, erased.user_id, clock(), TEST_RULES, hooks=())
    # On another schedule's shift at the same time, as the volunteer or as the buddy.
    other = add_schedule(db, name="Saturday watch", cron_expr="30 18 * * FRI")
    busy = add_member(db, "+27821230005", "Busy")
    buddy = add_member(db, "+27821230006", "Buddy")
    booking = add_booking(db, other, busy, FRIDAY + timedelta(minutes=30))
    with db.write() as session:
        session.merge(booking).buddy_user_id = buddy.user_id
    # A shift that ends when this one starts does not overlap it.
    before = add_member(db, "+27821230007", "Before")
    early = add_schedule(db, name="Afternoon", cron_expr="0 15 * * FRI")
    add_booking(db, early, before, FRIDAY - timedelta(hours=3))

    call = crew.ask(schedule.schedule_id, FRIDAY, clock())
    asked = sorted(row.recipient for row in crew.all_calls())
    assert asked == ["+27821230001", "+27821230007"]
    assert (call.recipients, call.skipped_capped) == (2, 0)


def test_each_recipient_reads_the_call_in_their_own_language(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Thandi", language="af")
    add_member(db, "+27821230002", "Sipho", language="zu")
    add_member(db, "+27821230003", "Pieter")  # no choice: WATCHROSTER_DEFAULT_LANGUAGE (en)
    crew.ask(schedule.schedule_id, FRIDAY, clock())
    # Day and month names come from Babel (CLDR) whatever the catalogues hold.
    assert "Vrydag 2 Mei 18:00-21:00" in crew.calls_to("+27821230001")[0]
    assert "ULwesihlanu" in crew.calls_to("+27821230002")[0]
    assert "Fri 2 May 18:00-21:00" in crew.calls_to("+27821230003")[0]


def test_the_daily_cap_counts_across_calls_and_resets_the_next_day(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    daily = add_schedule(db, name="Evening", cron_expr="0 18 * * *")
    add_member(db, "+27821230001", "Thandi")
    add_member(db, "+27821230002", "Sipho")
    first = crew.ask(daily.schedule_id, FRIDAY, clock(), per_day=2)
    second = crew.ask(daily.schedule_id, SATURDAY, clock() + timedelta(hours=1), per_day=2)
    third = crew.ask(daily.schedule_id, SUNDAY, clock() + timedelta(hours=2), per_day=2)
    assert [(c.recipients, c.skipped_capped) for c in (first, second, third)] == [
        (2, 0),
        (2, 0),
        (0, 2),
    ]
    assert len(crew.calls_to("+27821230001")) == 2
    # A new local day in the group's zone (Johannesburg, UTC+2): 22:00 UTC is already Friday.
    next_day = clock().replace(hour=22)
    fourth = crew.ask(daily.schedule_id, SUNDAY + timedelta(days=1), next_day, per_day=2)
    assert (fourth.recipients, fourth.skipped_capped) == (2, 0)
    with db.read() as session:
        counts = sorted(
            (row.day.isoformat(), row.calls) for row in session.scalars(select(CallCount))
        )
    assert counts == [("2025-05-01", 2), ("2025-05-01", 2), ("2025-05-02", 1), ("2025-05-02", 1)]


def test_a_cap_of_zero_asks_nobody(crew: Group, db: Database, clock: FrozenClock) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Thandi")
    call = crew.ask(schedule.schedule_id, FRIDAY, clock(), per_day=0)
    assert (call.recipients, call.skipped_capped) == (0, 1)
    assert crew.all_calls() == []


def test_concurrent_calls_on_two_slots_never_pass_the_cap(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    daily = add_schedule(db, name="Evening", cron_expr="0 18 * * *")
    phones = [f"+2782123{n:04d}" for n in range(1, 21)]
    for phone in phones:
        add_member(db, phone, "Volunteer")
    starts = [FRIDAY + timedelta(days=n) for n in range(4)]
    calls = _race(crew, [(daily.schedule_id, start) for start in starts], clock, per_day=2)
    assert all(isinstance(call, VolunteerCall) for call in calls), calls
    assert sum(c.recipients for c in calls if isinstance(c, VolunteerCall)) == 2 * len(phones)
    for phone in phones:
        assert len(crew.calls_to(phone)) == 2, phone


def test_concurrent_calls_on_one_slot_make_one_call(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Thandi")
    results = _race(crew, [(schedule.schedule_id, FRIDAY)] * 4, clock, per_day=5)
    assert sum(isinstance(r, VolunteerCall) for r in results) == 1
    assert (
        sorted(type(r).__name__ for r in results if not isinstance(r, VolunteerCall))
        == ["Conflict"] * 3
    )
    assert len(crew.calls_to("+27821230001")) == 1


def _race(
    crew: Group, slots: list[tuple[int, datetime]], clock: FrozenClock, per_day: int
) -> list[VolunteerCall | AppError]:
    """Ask for all `slots` at once, one thread each, released together."""
    barrier = threading.Barrier(len(slots))
    results: list[VolunteerCall | AppError] = []
    lock = threading.Lock()

    def ask(schedule_id: int, start: datetime) -> None:
        barrier.wait()
        try:
            result: VolunteerCall | AppError = crew.ask(schedule_id, start, clock(), per_day)
        except AppError as error:
            result = error
        with lock:
            results.append(result)

    threads = [threading.Thread(target=ask, args=slot) for slot in slots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == len(slots)
    return results


def test_only_open_slots_of_active_schedules_can_be_asked_about(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    taken_by = add_member(db, "+27821230001", "Thandi")
    add_booking(db, schedule, taken_by, FRIDAY)
    inactive = add_schedule(db, name="Old", active=False)
    refused = [
        (schedule.schedule_id, FRIDAY),  # booked
        (schedule.schedule_id, FRIDAY + timedelta(minutes=7)),  # not an occurrence
        (schedule.schedule_id, FRIDAY - timedelta(days=7)),  # in the past
        (inactive.schedule_id, FRIDAY),
    ]
    for schedule_id, start in refused:
        with pytest.raises(BadRequest) as error:
            crew.ask(schedule_id, start, clock())
        assert error.value.code == "not_an_open_slot"
    with pytest.raises(NotFound):
        crew.ask(999_999, FRIDAY, clock())
    with db.read() as session:
        assert session.scalars(select(VolunteerCall)).all() == []


def test_the_list_says_when_a_gap_was_filled_since(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    thandi = add_member(db, "+27821230001", "Thandi")
    crew.ask(schedule.schedule_id, FRIDAY, clock())
    crew.ask(schedule.schedule_id, FRIDAY + timedelta(days=7), clock())
    add_booking(db, schedule, thandi, FRIDAY)
    window = (clock(), clock() + timedelta(days=14))
    with db.read() as session:
        views = service.list_calls(session, *window)
    assert [(v.call.shift_start, v.filled, v.asked_by_name) for v in views] == [
        (FRIDAY, True, "Anna Admin"),
        (FRIDAY + timedelta(days=7), False, "Anna Admin"),
    ]


def test_a_slot_with_places_left_can_be_asked_about_until_every_place_is_taken(
    crew: Group, db: Database, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, seats=2)
    first = add_member(db, "+27821230001", "Thandi")
    second = add_member(db, "+27821230002", "Sipho")
    add_booking(db, schedule, first, FRIDAY, seat=1)
    call = crew.ask(schedule.schedule_id, FRIDAY, clock())
    assert crew.calls_to("+27821230002") and not crew.calls_to("+27821230001")
    assert call.recipients == 1
    window = (clock(), clock() + timedelta(days=7))
    with db.read() as session:
        assert [v.filled for v in service.list_calls(session, *window)] == [False]
    add_booking(db, schedule, second, FRIDAY, seat=2)
    with db.read() as session:
        assert [v.filled for v in service.list_calls(session, *window)] == [True]


def test_the_hourly_prune_drops_the_counts_of_past_days(
    crew: Group, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    daily = add_schedule(db, name="Evening", cron_expr="0 18 * * *")
    add_member(db, "+27821230001", "Thandi")
    crew.ask(daily.schedule_id, FRIDAY, clock())
    crew.ask(daily.schedule_id, SATURDAY, clock().replace(hour=22))  # Friday in Johannesburg
    context = AppContext(settings=settings, db=db)
    assert jobs.PRUNE_JOB in {job.name for job in periodic_jobs()}  # the worker runs it
    jobs.run_prune(context, clock().replace(hour=21))  # still Thursday there: nothing goes
    assert _count_days(db) == ["2025-05-01", "2025-05-02"]
    jobs.run_prune(context, clock().replace(hour=22))
    assert _count_days(db) == ["2025-05-02"]


def _count_days(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(row.day.isoformat() for row in session.scalars(select(CallCount)))
