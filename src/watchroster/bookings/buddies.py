"""Limits on buddies, so naming one is neither a lookup service nor a way to text anyone.

Per user and per day (a sliding 24 h window): at most `notices_per_day` messages to other people
triggered by the user's actions, and at most `lookups_per_day` distinct phone numbers matched
against the members. Both are counted in `auth_events`, the table the login limits use, so they
hold however many processes run: the acting user's key (`user:<id>`) goes in `client_ip`, the
"who did it" column indexed with `kind` and time, and the number concerned in `phone`, so
erasing that person's account and the hourly prune treat it like any other event.

Checking then recording is safe because one user's writes are serialised: the booking path
locks the caller's row on PostgreSQL, the cancel path too, and SQLite runs one write
transaction at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, distinct, func, insert, or_, select
from sqlalchemy.orm import Session

from watchroster.auth.models import AuthEvent
from watchroster.core.rules import BuddyRules
from watchroster.db.rawsql import Prepared, RawTransaction

KIND_NOTICE = "buddy_notice"
KIND_LOOKUP = "buddy_lookup"
WINDOW = timedelta(days=1)  # the prune job keeps events a day, so nothing counted goes early


@dataclass(frozen=True, slots=True)
class Usage:
    """What a user has used of the day's allowance."""

    notices: int
    lookups: int  # distinct numbers matched against the members
    looked_up_before: bool  # the number at hand is one of them (matching it again is free)

    def may_look_up(self, rules: BuddyRules) -> bool:
        return self.looked_up_before or self.lookups < rules.lookups_per_day

    def may_notify(self, rules: BuddyRules) -> bool:
        return self.notices < rules.notices_per_day


def actor_key(user_id: int) -> str:
    return f"user:{user_id}"


def _usage_statement(_dialect: str = "") -> Any:
    """One indexed query (kind, client_ip, created_at) for both allowances: a user's rows of
    a day are at most the two limits, since nothing over a limit is recorded."""
    is_notice = AuthEvent.kind == KIND_NOTICE
    is_lookup = AuthEvent.kind == KIND_LOOKUP
    this_number = is_lookup & (AuthEvent.phone == bindparam("phone"))
    return select(
        func.coalesce(func.sum(case((is_notice, 1), else_=0)), 0),
        func.count(distinct(case((is_lookup, AuthEvent.phone)))),
        func.coalesce(func.max(case((this_number, 1), else_=0)), 0),
    ).where(
        or_(is_notice, is_lookup),
        AuthEvent.client_ip == bindparam("actor"),
        AuthEvent.created_at > bindparam("since"),
    )


def _record_statement(_dialect: str = "") -> Any:
    # RETURNING only so the driver's cursor has a row to fetch (see `RawTransaction.first`).
    return (
        insert(AuthEvent)
        .values(
            kind=bindparam("kind"),
            phone=bindparam("phone"),
            client_ip=bindparam("actor"),
            created_at=bindparam("created_at", type_=AuthEvent.created_at.type),
        )
        .returning(AuthEvent.event_id)
    )


_USAGE = Prepared(_usage_statement)
_RECORD = Prepared(_record_statement)


def _usage_of(row: Any) -> Usage:
    notices, lookups, looked_up = row if row is not None else (0, 0, 0)
    return Usage(int(notices or 0), int(lookups or 0), bool(looked_up))


def usage(
    target: Session | RawTransaction, user_id: int, now: datetime, phone: str | None = None
) -> Usage:
    """The user's allowance used in the last 24 h; `phone`: the number about to be matched."""
    params = {"phone": phone, "actor": actor_key(user_id), "since": now - WINDOW}
    if isinstance(target, RawTransaction):  # the booking hot path (see `rawsql`)
        return _usage_of(target.first(_USAGE, params))
    return _usage_of(target.execute(_usage_statement(), params).first())


def record(
    target: Session | RawTransaction, kind: str, user_id: int, phone: str | None, now: datetime
) -> None:
    """Count one notice sent or one number matched against the user's allowance."""
    params = {"kind": kind, "phone": phone, "actor": actor_key(user_id), "created_at": now}
    if isinstance(target, RawTransaction):
        target.first(_RECORD, params)
    else:
        target.execute(_record_statement(), params)
