"""Bookings' part of erasing an account (`auth.erasure`): the person's future bookings are
cancelled (each buddy is told), nobody's booking names their number as a buddy any more, and the
stored replies of their retried requests, which may quote a buddy's name, are deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from watchroster.bookings.models import Booking, IdempotencyKey
from watchroster.bookings.service import cancel_future_bookings_of_user
from watchroster.core.rules import Rules


def forget_user(
    session: Session, user_id: int, phone: str | None, now: datetime, rules: Rules
) -> None:
    """An `auth.erasure.ErasureHook`, registered by `watchroster.app`."""
    cancel_future_bookings_of_user(session, user_id, now, rules.buddy)
    if phone is not None:
        # Someone else's booking may name this person as an unregistered-style buddy by phone.
        session.execute(
            update(Booking).where(Booking.buddy_phone == phone).values(buddy_phone=None)
        )
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id))
