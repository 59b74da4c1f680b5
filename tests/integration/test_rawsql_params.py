"""The raw-SQL layer encodes parameters itself, from the bound columns' types, exactly as the ORM
does: a caller passing plain Python values cannot write a second format (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select

from tests.support.factories import add_schedule
from watchroster.db.engine import Database
from watchroster.db.rawsql import Prepared
from watchroster.outbox.models import STATUS_PENDING, OutboxMessage
from watchroster.outbox.service import queue_message
from watchroster.schedules.models import Schedule

# 01:30 at +01:00 on the night clocks go back in Europe: the same instant as 00:30 UTC.
BEFORE_DST_ENDS = datetime(2025, 10, 26, 1, 30, 15, 250, tzinfo=timezone(timedelta(hours=1)))
_STORED = Prepared(
    lambda _dialect: select(
        OutboxMessage.recipient, OutboxMessage.created_at, OutboxMessage.payload
    ).order_by(OutboxMessage.recipient)
)
_BARE_INSERT = Prepared(
    lambda _dialect: (
        insert(OutboxMessage)
        .values(message_type="test", recipient=bindparam("recipient"), payload=bindparam("body"))
        .returning(OutboxMessage.outbox_id)
    )
)
_SCHEDULES_FROM = Prepared(
    lambda _dialect: select(Schedule.name).where(Schedule.start_date == bindparam("day"))
)


def _stored(db: Database) -> dict[str, tuple[Any, ...]]:
    """Each row's instant and JSON as the driver hands them back, undecoded."""
    with db.raw_read() as transaction:
        return {row[0]: tuple(row[1:]) for row in transaction.all(_STORED, {})}


def test_an_instant_and_json_written_raw_are_stored_as_the_orm_stores_them(db: Database) -> None:
    message: dict[str, Any] = {
        "message_type": "test",
        "body": "Thandi’s shift: 18:00 – 21:00",
        "params": {"name": "Thandi"},
        "now": BEFORE_DST_ENDS,  # a plain aware datetime, not UTC
    }
    with db.write() as session:
        queue_message(session, recipient="+27820000001", **message)
    with db.raw_write() as transaction:
        queue_message(transaction, recipient="+27820000002", **message)

    stored = _stored(db)
    assert stored["+27820000001"] == stored["+27820000002"]
    with db.read() as session:
        created = set(session.scalars(select(OutboxMessage.created_at)))
    assert created == {BEFORE_DST_ENDS}
    if db.is_sqlite:  # the one text format of `db.UTCDateTime`
        assert stored["+27820000002"][0] == "2025-10-26T00:30:15.000250Z"


def test_a_plain_date_matches_the_dates_the_orm_wrote(db: Database) -> None:
    add_schedule(db, name="May", start_date=date(2025, 5, 2))
    add_schedule(db, name="June", start_date=date(2025, 6, 6))
    with db.raw_read() as transaction:
        assert transaction.first(_SCHEDULES_FROM, {"day": date(2025, 5, 2)}) == ("May",)


def test_a_raw_insert_fills_in_the_python_side_defaults(db: Database) -> None:
    before = datetime.now(UTC)
    with db.raw_write() as transaction:
        row = transaction.first(_BARE_INSERT, {"recipient": "+27820000001", "body": {"a": 1}})
    assert row is not None
    with db.read() as session:
        stored = session.get_one(OutboxMessage, row[0])
    assert (stored.status, stored.attempts, stored.payload) == (STATUS_PENDING, 0, {"a": 1})
    assert before <= stored.created_at <= datetime.now(UTC)
    assert stored.next_attempt_at.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (datetime(2025, 5, 2, 18, 0), ValueError),  # naive: which zone? refused, not guessed
        ("2025-05-02 18:00:00+00:00", TypeError),  # a second text format
    ],
)
def test_an_instant_that_is_not_an_aware_datetime_is_refused(
    db: Database, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error), db.raw_write() as transaction:
        queue_message(
            transaction,
            message_type="test",
            recipient="+27820000001",
            body="x",
            now=value,  # type: ignore[arg-type]
        )
    assert _stored(db) == {}
