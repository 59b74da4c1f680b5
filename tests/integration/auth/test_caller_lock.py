"""`principal_in(..., lock_caller=True)`: on PostgreSQL the session lookup also locks the caller's
users row, which a booking then need not lock again (one round trip less); SQLite has one writer
at a time and takes no row lock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.support.auth import issue_token
from tests.support.factories import TEST_RULES, add_user
from watchroster.auth.deps import TOKEN_PURPOSE, principal_in
from watchroster.bookings import create
from watchroster.bookings.schemas import BookingCreate
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.core.security import keyed_hash
from watchroster.db.engine import Database
from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.schedules.models import Schedule

NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def _token_hash(db: Database, settings: Settings, phone: str) -> tuple[int, str]:
    user = add_user(db, phone, "Thandi")
    token = issue_token(db, settings, user, FrozenClock(NOW))
    secret = settings.secret_key.get_secret_value()
    return user.user_id, keyed_hash(secret, TOKEN_PURPOSE, token)


def _row_lock_refused(db: Database, user_id: int) -> bool:
    """Whether another connection finds the users row locked (PostgreSQL)."""
    dsn = db.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as other:
        try:
            other.execute("SELECT 1 FROM users WHERE user_id = %s FOR UPDATE NOWAIT", (user_id,))
        except errors.LockNotAvailable:
            return True
    return False


def test_lock_caller_locks_the_users_row_on_postgresql(db: Database, settings: Settings) -> None:
    user_id, token_hash = _token_hash(db, settings, "+27821110001")
    with db.raw_write() as transaction:
        caller = principal_in(transaction, token_hash, NOW, lock_caller=True)
        assert caller.user_id == user_id
        held = transaction.holds_lock("users", user_id)
        if db.is_sqlite:
            assert held is False  # nothing to record: no row locks on SQLite
        else:
            assert held is True
            assert _row_lock_refused(db, user_id)
    if not db.is_sqlite:
        assert not _row_lock_refused(db, user_id)  # released at commit


def test_without_lock_caller_the_row_stays_free(db: Database, settings: Settings) -> None:
    user_id, token_hash = _token_hash(db, settings, "+27821110002")
    with db.raw_write() as transaction:
        principal_in(transaction, token_hash, NOW)
        assert transaction.holds_lock("users", user_id) is False
        if not db.is_sqlite:
            assert not _row_lock_refused(db, user_id)


def test_a_booking_does_not_lock_a_caller_locked_already(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user_id, token_hash = _token_hash(db, settings, "+27821110003")
    with db.write() as session:
        schedule = Schedule(
            name="Daily", cron_expr="0 18 * * *", timezone="UTC", duration_minutes=180, seats=1
        )
        session.add(schedule)
        session.flush()
        schedule_id = schedule.schedule_id
    ran: list[Prepared] = []
    first = RawTransaction.first

    def recording(self: RawTransaction, statement: Prepared, params: Mapping[str, Any]) -> Any:
        ran.append(statement)
        return first(self, statement, params)

    monkeypatch.setattr(RawTransaction, "first", recording)
    start = (NOW + timedelta(days=1)).replace(hour=18).isoformat()
    body = BookingCreate(schedule_id=schedule_id, start_time=start)
    with db.raw_write() as transaction:
        caller = principal_in(transaction, token_hash, NOW, lock_caller=True)
        booking, _schedule = create.create_booking(
            transaction, caller, body, NOW, "ZA", TEST_RULES.buddy
        )

    assert booking.user_id == caller.user_id
    assert create._LOCK_CALLER not in ran  # the statement this saves


def test_a_rolled_back_savepoint_forgets_its_locks(db: Database, settings: Settings) -> None:
    user_id, token_hash = _token_hash(db, settings, "+27821110004")
    with db.raw_write() as transaction:
        transaction.savepoint()
        principal_in(transaction, token_hash, NOW, lock_caller=True)
        transaction.rollback_to_savepoint()  # PostgreSQL released the row lock
        assert transaction.holds_lock("users", user_id) is False
