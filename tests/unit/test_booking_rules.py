"""Pure rules of the bookings feature: which integrity errors mean "slot taken", when a
reminder is due, the coverage alert's run key, and the message texts."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from watchroster.bookings import messages
from watchroster.bookings.create import is_active_slot_violation
from watchroster.bookings.jobs import coverage_run_key, due_lead, reminder_leads

JOBURG = ZoneInfo("Africa/Johannesburg")
SHIFT = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
EARLY = SHIFT - timedelta(days=3)


def _sqlite_error(statements: list[str]) -> sqlite3.IntegrityError:
    connection = sqlite3.connect(":memory:")
    connection.executescript(
        """
        CREATE TABLE bookings (schedule_id INT, shift_start TEXT, canceled_at TEXT,
                               note TEXT NOT NULL DEFAULT '', ref TEXT UNIQUE);
        CREATE UNIQUE INDEX uq_bookings_active_slot ON bookings (schedule_id, shift_start)
            WHERE canceled_at IS NULL;
        """
    )
    try:
        for statement in statements:
            connection.execute(statement)
    except sqlite3.IntegrityError as error:
        return error
    finally:
        connection.close()
    raise AssertionError("no integrity error")


def test_sqlite_slot_violation_is_recognised_and_nothing_else() -> None:
    slot = "INSERT INTO bookings (schedule_id, shift_start) VALUES (1, 'a')"
    assert is_active_slot_violation(_sqlite_error([slot, slot]))
    same_ref = [
        f"INSERT INTO bookings (schedule_id, shift_start, ref) VALUES (1, '{start}', 'r')"
        for start in ("b", "c")
    ]
    assert not is_active_slot_violation(_sqlite_error(same_ref))
    not_null = "INSERT INTO bookings (schedule_id, shift_start, note) VALUES (1, 'c', NULL)"
    assert not is_active_slot_violation(_sqlite_error([not_null]))


@dataclass
class _Diag:
    constraint_name: str | None


@dataclass
class _PgError(Exception):
    sqlstate: str
    diag: _Diag


@pytest.mark.parametrize(
    ("sqlstate", "constraint", "expected"),
    [
        ("23505", "uq_bookings_active_slot", True),
        ("23505", "uq_outbox_dedupe_key", False),
        ("23503", "uq_bookings_active_slot", False),  # a foreign key violation
        ("23505", None, False),
    ],
)
def test_postgres_only_the_slot_unique_violation_counts(
    sqlstate: str, constraint: str | None, expected: bool
) -> None:
    assert is_active_slot_violation(_PgError(sqlstate, _Diag(constraint))) is expected


def test_unknown_errors_are_not_slot_violations() -> None:
    assert not is_active_slot_violation(ValueError("UNIQUE constraint failed"))
    assert not is_active_slot_violation(None)


@pytest.mark.parametrize(
    ("setting", "leads"),
    [("24,2", [24, 2]), (" 2, 24 ,2,", [24, 2]), ("", []), ("1", [1])],
)
def test_reminder_leads(setting: str, leads: list[int]) -> None:
    assert reminder_leads(setting) == leads


@pytest.mark.parametrize("setting", ["0", "x", "1.5", "-2"])
def test_bad_reminder_leads_are_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="whole hours"):
        reminder_leads(setting)


@pytest.mark.parametrize(
    ("created", "now", "lead"),
    [
        (EARLY, SHIFT - timedelta(hours=25), None),  # nothing due yet
        (EARLY, SHIFT - timedelta(hours=24), 24),
        (EARLY, SHIFT - timedelta(hours=3), 24),  # still the 24 h one (deduped if sent)
        (EARLY, SHIFT - timedelta(hours=2), 2),
        (EARLY, SHIFT - timedelta(minutes=1), 2),
        (EARLY, SHIFT, None),  # started
        (SHIFT - timedelta(hours=24), SHIFT - timedelta(hours=24), 24),  # booked right then
        (SHIFT - timedelta(hours=23), SHIFT - timedelta(hours=23), None),  # after the 24 h time
        (SHIFT - timedelta(hours=23), SHIFT - timedelta(hours=2), 2),
        (SHIFT - timedelta(hours=1), SHIFT - timedelta(minutes=30), None),
    ],
)
def test_due_lead(created: datetime, now: datetime, lead: int | None) -> None:
    assert due_lead(SHIFT, created, [24, 2], now) == lead


def test_coverage_run_key() -> None:
    eight = time(8, 0)
    assert coverage_run_key(datetime(2025, 5, 1, 7, 59, tzinfo=JOBURG), eight) is None
    assert coverage_run_key(datetime(2025, 5, 1, 8, 0, tzinfo=JOBURG), eight) == "2025-05-01"
    assert coverage_run_key(datetime(2025, 5, 1, 23, 59, tzinfo=JOBURG), eight) == "2025-05-01"


def test_shift_label_in_the_schedule_zone() -> None:
    label = messages.shift_label("Friday patrol", SHIFT, SHIFT + timedelta(hours=3), JOBURG)
    assert label == "Friday patrol, Fri 2 May 18:00-21:00"
    night = messages.shift_label(
        "Night", SHIFT + timedelta(hours=5), SHIFT + timedelta(hours=9), JOBURG
    )
    assert night == "Night, Fri 2 May 23:00-Sat 3 May 03:00"


def test_incident_alert_is_one_line_and_bounded() -> None:
    link = "https://watch.example.org/admin/incidents/7"
    end = SHIFT + timedelta(hours=3)
    text = messages.incident_alert("Patrol\nnorth " + "x" * 90, SHIFT, end, JOBURG, "Thandi", link)
    assert "\n" not in text
    assert text.startswith("URGENT: serious incident (severity 2) reported by Thandi on Patrol")
    assert text.endswith(f", Fri 2 May 18:00-21:00: {link}")
    assert len(text) <= messages.ALERT_CHARS


def test_coverage_summary() -> None:
    one = messages.coverage_summary(["A Fri 2 May 18:00"], 48)
    assert one == "Roster gaps: 1 unbooked shift in the next 48 h: A Fri 2 May 18:00."
    seven = messages.coverage_summary([f"S{i}" for i in range(7)], 48)
    assert (
        seven == "Roster gaps: 7 unbooked shifts in the next 48 h: S0; S1; S2; S3; S4; and 2 more."
    )
    capped = messages.coverage_summary([f"S{i}" for i in range(7)], 24, more=True)
    assert capped.startswith("Roster gaps: 7+ unbooked shifts") and capped.endswith("and 2+ more.")
