"""The transaction surface of `db`: after-commit callbacks and the one-writer rule, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from watchroster.core.errors import Conflict
from watchroster.db.engine import Database, NestedWrite, after_commit
from watchroster.db.groupcommit import GroupCommit
from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.outbox.models import OutboxMessage

NOW = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
_ADD_MESSAGE = Prepared(
    lambda _dialect: (
        insert(OutboxMessage)
        .values(message_type="test", recipient=bindparam("recipient"), payload={})
        .values(next_attempt_at=bindparam("now"), created_at=bindparam("now"))
        .returning(OutboxMessage.outbox_id)
    )
)


def _add(session_or_transaction: Session | RawTransaction, recipient: str) -> None:
    if isinstance(session_or_transaction, RawTransaction):
        session_or_transaction.first(_ADD_MESSAGE, {"recipient": recipient, "now": NOW})
        return
    session_or_transaction.add(
        OutboxMessage(message_type="test", recipient=recipient, payload={}, created_at=NOW)
    )
    session_or_transaction.flush()


def _count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def _recorder(db: Database, seen: list[tuple[str, int]], name: str) -> Callable[[], None]:
    """A callback that notes how many rows another transaction can see when it runs."""

    def callback() -> None:
        seen.append((name, _count(db)))

    return callback


class Boom(Exception):
    pass


# --- after_commit -------------------------------------------------------------------------------


def test_a_callback_runs_after_the_commit_outside_the_write_lock(db: Database) -> None:
    seen: list[tuple[str, int]] = []
    with db.write() as session:
        _add(session, "+27820000001")
        after_commit(session, _recorder(db, seen, "first"))
        after_commit(session, _recorder(db, seen, "second"))
        assert seen == []  # not before the commit

        def write_again() -> None:  # would deadlock or be refused inside the scope
            with db.write() as again:
                _add(again, "+27820000002")

        after_commit(session, write_again)
    assert seen == [("first", 1), ("second", 1)]  # in order, the row already visible
    assert _count(db) == 2


def test_a_rolled_back_write_runs_no_callback(db: Database) -> None:
    seen: list[tuple[str, int]] = []
    with pytest.raises(Boom), db.write() as session:
        _add(session, "+27820000001")
        after_commit(session, _recorder(db, seen, "never"))
        raise Boom
    with db.write() as session:  # and a later scope does not inherit it
        _add(session, "+27820000002")
    assert seen == [] and _count(db) == 1


def test_a_rolled_back_savepoint_drops_its_callbacks_only(db: Database) -> None:
    seen: list[tuple[str, int]] = []
    with db.write() as session:
        after_commit(session, _recorder(db, seen, "outer"))
        with pytest.raises(Boom), session.begin_nested():
            _add(session, "+27820000001")
            after_commit(session, _recorder(db, seen, "undone"))
            with session.begin_nested():
                after_commit(session, _recorder(db, seen, "undone with its parent"))
            raise Boom
        with session.begin_nested():
            _add(session, "+27820000002")
            after_commit(session, _recorder(db, seen, "kept"))
    assert seen == [("outer", 1), ("kept", 1)]


def test_raw_transactions_run_callbacks_after_commit_and_never_after_rollback(
    db: Database,
) -> None:
    seen: list[tuple[str, int]] = []
    with db.raw_write() as transaction:
        _add(transaction, "+27820000001")
        after_commit(transaction, _recorder(db, seen, "committed"))
        assert seen == []
    with pytest.raises(Boom), db.raw_write() as transaction:
        _add(transaction, "+27820000002")
        after_commit(transaction, _recorder(db, seen, "rolled back"))
        raise Boom
    assert seen == [("committed", 1)]


def _work(recipient: str, seen: list[str], *, refuse: bool = False) -> Callable[..., str]:
    def work(transaction: RawTransaction) -> str:
        _add(transaction, recipient)
        after_commit(transaction, lambda: seen.append(recipient))
        if refuse:
            raise Conflict("refused after writing", code="refused")
        return recipient

    return work


async def _together(writes: GroupCommit, works: list[Callable[..., str]]) -> list[object]:
    return await asyncio.gather(*(writes.run(work) for work in works), return_exceptions=True)


def test_a_refused_item_of_a_group_commit_runs_no_callback(db: Database) -> None:
    seen: list[str] = []
    works = [
        _work("+27820000001", seen),
        _work("+27820000002", seen, refuse=True),
        _work("+27820000003", seen),
    ]
    outcomes = asyncio.run(_together(GroupCommit(db), works))
    assert isinstance(outcomes[1], Conflict)
    assert sorted(seen) == ["+27820000001", "+27820000003"] and _count(db) == 2


def test_a_failing_callback_is_logged_and_the_others_still_run(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def failing() -> None:
        raise RuntimeError("callback failed")

    with caplog.at_level(logging.ERROR, logger="watchroster.db.engine"), db.write() as session:
        _add(session, "+27820000001")
        after_commit(session, failing)
        after_commit(session, lambda: seen.append("after"))
    assert seen == ["after"] and _count(db) == 1
    assert "the transaction stands" in caplog.text


# --- one writer, never nested -------------------------------------------------------------------


def test_a_write_scope_inside_another_is_refused(db: Database) -> None:
    with db.write() as session:
        _add(session, "+27820000001")
        with pytest.raises(NestedWrite), db.write():
            pytest.fail("a second write scope was opened")
        with pytest.raises(NestedWrite), db.raw_write():
            pytest.fail("a second write scope was opened")
        with db.read() as reading:  # reads are not writes: allowed
            reading.scalar(select(func.count()).select_from(OutboxMessage))
    with db.raw_write(), pytest.raises(NestedWrite), db.write():
        pytest.fail("a second write scope was opened")
    assert _count(db) == 1  # the outer scope still committed


def _write_from_another_thread(db: Database) -> bool:
    """Whether a writer on another thread gets through within 5 s (the lock is free)."""
    done = threading.Event()

    def write() -> None:
        with db.write() as session:
            _add(session, "+27820000099")
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(timeout=5)


def test_offload_write_lends_its_lock_to_the_work_and_refuses_nesting_inside_it(
    db: Database,
) -> None:
    def two_scopes_in_turn() -> int:
        for recipient in ("+27820000001", "+27820000002"):
            with db.write() as session:
                _add(session, recipient)
        return _count(db)

    def nested() -> None:
        with db.write(), db.raw_write():
            pass

    assert asyncio.run(db.offload_write(two_scopes_in_turn)) == 2
    with pytest.raises(NestedWrite):
        asyncio.run(db.offload_write(nested))
    assert _write_from_another_thread(db)  # neither run left the lock taken
    assert _count(db) == 3


def test_run_write_and_run_read_hand_the_work_its_own_transaction(db: Database) -> None:
    """The async helpers open the scope: the work gets the session, a normal return commits,
    an exception rolls back, and a read's session is not a write scope."""

    def add(session: Session, recipient: str) -> str:
        _add(session, recipient)
        return recipient

    def add_then_fail(session: Session) -> None:
        _add(session, "+27820000009")
        session.flush()
        raise RuntimeError("refused after the insert")

    def count(session: Session) -> int:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0

    assert asyncio.run(db.run_write(add, "+27820000001")) == "+27820000001"
    with pytest.raises(RuntimeError):
        asyncio.run(db.run_write(add_then_fail))
    assert asyncio.run(db.run_read(count)) == 1  # committed once, the failure rolled back
    assert _write_from_another_thread(db)  # no lock left taken
