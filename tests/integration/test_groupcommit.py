"""Group commit and the raw-cursor layer under it, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, insert, select

from tests.support.factories import add_schedule, add_user
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.errors import Conflict
from watchroster.db.engine import Database
from watchroster.db.groupcommit import MAX_BATCH, GroupCommit
from watchroster.db.rawsql import Prepared, RawTransaction

_ADD_USER = Prepared(
    lambda _dialect: (
        insert(User)
        .values(phone=bindparam("phone"), name=bindparam("name"), role="volunteer")
        .values(active=True, channel="sms", reminders=True, created_at=bindparam("now"))
        .returning(User.user_id)
    )
)
_FIRST_TWO = Prepared(lambda _dialect: select(User.phone).order_by(User.phone).limit(2))


def _adder(phone: str, *, fail: bool = False) -> Callable[[RawTransaction], int]:
    """Work that inserts a user, then (if `fail`) raises as a refused booking would."""

    def work(transaction: RawTransaction) -> int:
        now = datetime.now(UTC)
        row = transaction.first(_ADD_USER, {"phone": phone, "name": "x", "now": now})
        assert row is not None
        if fail:
            raise Conflict("refused after writing", code="refused")
        user_id: int = row[0]
        return user_id

    return work


def _phones(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(p for p in session.scalars(select(User.phone)) if p is not None)


@contextmanager
def _counting_transactions(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    opened: list[int] = []
    real = db.raw_write

    @contextmanager
    def counted() -> Iterator[RawTransaction]:
        opened.append(1)
        with real() as transaction:
            yield transaction

    monkeypatch.setattr(db, "raw_write", counted)
    yield opened


async def _run_together(
    writes: GroupCommit, works: list[Callable[[RawTransaction], int]]
) -> list[object]:
    return await asyncio.gather(*(writes.run(work) for work in works), return_exceptions=True)


def test_a_failing_write_is_rolled_back_alone(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    works = [_adder("+27820000001"), _adder("+27820000002", fail=True), _adder("+27820000003")]
    with _counting_transactions(db, monkeypatch) as opened:
        outcomes = asyncio.run(_run_together(GroupCommit(db), works))
    assert isinstance(outcomes[1], Conflict)
    assert all(isinstance(outcome, int) for outcome in (outcomes[0], outcomes[2]))
    assert _phones(db) == ["+27820000001", "+27820000003"]
    # SQLite: the three shared one transaction; PostgreSQL: one each.
    assert len(opened) == (1 if db.is_sqlite else 3)


# Batches and the in-process write lock exist on SQLite only.
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@sqlite_only
def test_a_failed_commit_fails_every_write_of_the_batch(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = db.raw_write

    @contextmanager
    def failing_commit() -> Iterator[RawTransaction]:
        with real() as transaction:
            yield transaction
            raise sqlite3.OperationalError("disk I/O error (injected at commit)")

    monkeypatch.setattr(db, "raw_write", failing_commit)
    works = [_adder("+27820000001"), _adder("+27820000002", fail=True)]
    outcomes = asyncio.run(_run_together(GroupCommit(db), works))
    assert isinstance(outcomes[0], sqlite3.OperationalError)
    assert isinstance(outcomes[1], Conflict)  # its own refusal is still the true answer
    assert _phones(db) == []


@sqlite_only
def test_a_batch_waits_in_a_thread_while_another_thread_writes(db: Database) -> None:
    """The event loop never blocks on the write lock: the batch moves to the thread pool."""
    started, release = threading.Event(), threading.Event()

    def long_writer() -> None:
        with db.raw_write() as transaction:
            started.set()
            release.wait(timeout=10)
            _adder("+27820000009")(transaction)

    async def scenario() -> object:
        thread = threading.Thread(target=long_writer)
        thread.start()
        started.wait(timeout=10)
        pending = asyncio.ensure_future(GroupCommit(db).run(_adder("+27820000001")))
        await asyncio.sleep(0.05)  # the loop keeps turning while the writer holds the lock
        assert not pending.done()
        release.set()
        result = await pending
        thread.join()
        return result

    assert isinstance(asyncio.run(scenario()), int)
    assert _phones(db) == ["+27820000001", "+27820000009"]


def test_statements_carry_their_own_values_and_instants_round_trip(db: Database) -> None:
    for phone in ("+27820000003", "+27820000001", "+27820000002"):
        with db.raw_write() as transaction:
            _adder(phone)(transaction)
    with db.raw_read() as transaction:  # the LIMIT's value comes from the statement itself
        assert transaction.first(_FIRST_TWO, {}) == ("+27820000001",)
    schedule = add_schedule(db)
    user = add_user(db, "+27820000004")
    start = datetime(2025, 10, 26, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    with db.raw_write() as transaction:
        transaction.first(
            Prepared(
                lambda _d: (
                    insert(Booking)
                    .values(
                        {name: bindparam(name) for name in ("user_id", "schedule_id", "attended")}
                    )
                    .values(shift_start=bindparam("start"), shift_end=bindparam("start"))
                    .values(created_at=bindparam("start"))
                    .returning(Booking.booking_id)
                )
            ),
            {
                "user_id": user.user_id,
                "schedule_id": schedule.schedule_id,
                "attended": False,
                "start": start,
            },
        )
    with db.read() as session:
        stored = session.scalar(select(Booking.shift_start))
        same = session.scalar(
            select(func.count()).where(Booking.shift_start == start.astimezone(UTC))
        )
    assert stored == start and same == 1  # written raw, read and matched by the ORM


def test_naive_instants_are_refused(db: Database) -> None:
    naive = {"phone": "+27820000001", "name": "x", "now": datetime(2025, 5, 2, 18, 0)}
    with pytest.raises(ValueError, match="naive"), db.raw_write() as transaction:
        transaction.first(_ADD_USER, naive)
    assert _phones(db) == []


@sqlite_only
def test_a_crowd_is_cut_into_batches(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    works = [_adder(f"+2782{index:07d}") for index in range(MAX_BATCH + 5)]
    with _counting_transactions(db, monkeypatch) as opened:
        outcomes = asyncio.run(_run_together(GroupCommit(db), works))
    assert all(isinstance(outcome, int) for outcome in outcomes)
    assert len(opened) == 2
    assert len(_phones(db)) == MAX_BATCH + 5
