"""Volunteers and coordinators as the console lists them, and looking up a full phone number.

Role and active changes are `auth.actions.change_access` (the rules live in `auth.service`:
nobody demotes or deactivates themselves, erased accounts stay as they are); this module only
reads, and logs who looked at whose number (the use case `show_number`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import AuthSession, User
from watchroster.auth.service import get_user
from watchroster.bookings.models import Booking
from watchroster.core.errors import NotFound
from watchroster.core.logs import mask_phone
from watchroster.core.phones import masked_phone
from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.people")


@dataclass(frozen=True)
class Person:
    """A member as the console shows them: the number masked, activity counted."""

    user_id: int
    name: str | None
    masked_phone: str
    role: str
    active: bool
    erased: bool
    last_login: datetime | None  # the newest session opened (sessions record no later use)
    no_shows: int  # past bookings recorded as "not there"
    unrecorded: int  # past bookings nobody recorded attendance for
    volunteer_calls: bool


def list_people(session: Session, now: datetime, *, limit: int, offset: int = 0) -> list[Person]:
    """Members by name (erased accounts last), with their last login and missed shifts."""
    last_login = (
        select(AuthSession.user_id, func.max(AuthSession.created_at).label("at"))
        .group_by(AuthSession.user_id)
        .subquery()
    )
    past = and_(Booking.canceled_at.is_(None), Booking.shift_end <= now)
    recorded = Booking.attendance_recorded_at.is_not(None)
    missed = (
        select(
            Booking.user_id,
            func.count().filter(recorded, Booking.attended.is_(False)).label("no_shows"),
            func.count().filter(Booking.attendance_recorded_at.is_(None)).label("unrecorded"),
        )
        .where(past)
        .group_by(Booking.user_id)
        .subquery()
    )
    rows = session.execute(
        select(User, last_login.c.at, missed.c.no_shows, missed.c.unrecorded)
        .outerjoin(last_login, last_login.c.user_id == User.user_id)
        .outerjoin(missed, missed.c.user_id == User.user_id)
        .order_by(
            User.erased_at.is_not(None), func.lower(func.coalesce(User.name, "")), User.user_id
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return [_person(user, at, no_shows, unrecorded) for user, at, no_shows, unrecorded in rows]


def list_people_page(session: Session, now: datetime, limit: int) -> list[Person]:
    """The first `limit` members of `list_people`: the console's people page (its arguments
    positional, as `Database.run_read` passes them)."""
    return list_people(session, now, limit=limit)


def _person(
    user: User, last_login: datetime | None, no_shows: int | None, unrecorded: int | None
) -> Person:
    return Person(
        user_id=user.user_id,
        name=user.name,
        masked_phone=masked_phone(user.phone),
        role=user.role,
        active=user.active,
        erased=user.erased_at is not None,
        last_login=last_login,
        no_shows=int(no_shows or 0),
        unrecorded=int(unrecorded or 0),
        volunteer_calls=user.volunteer_calls,
    )


def show_number(session: Session, context: AppContext, caller: Principal, user_id: int) -> str:
    """The use case "show a number" (`POST /users/{id}/phone` and the console's people page):
    the full number of `user_id` for the coordinator `caller`, logged as `reveal_phone` logs."""
    del context  # the same shape as every use case; this one needs nothing of it
    return reveal_phone(session, caller, user_id)


def reveal_phone(session: Session, actor: Principal, user_id: int) -> str:
    """The full number of `user_id`, for a coordinator who asked for it on purpose. Logged: who
    looked at whose number (the number itself masked, as in every log line)."""
    user = get_user(session, user_id)
    if user.phone is None:
        raise NotFound("this account has no phone number (it was erased)", code="no_phone")
    log.info(
        "admin %s looked at the phone number of user %s (%s)",
        actor.user_id,
        user.user_id,
        mask_phone(user.phone),
    )
    return user.phone
