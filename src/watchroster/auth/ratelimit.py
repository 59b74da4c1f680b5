"""Abuse limits, counted in the database so they hold however many app instances run.

Every code sent and every code checked leaves an `AuthEvent` row; a limit is "at most N rows of a
kind for this phone (or client IP) in the last window". Over a limit the caller gets 429 with a
Retry-After saying when the oldest counted row leaves the window.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from watchroster.auth.models import AuthEvent
from watchroster.core.config import Settings
from watchroster.core.errors import TooManyRequests

KIND_CODE_SENT = "code_sent"
KIND_VERIFY = "verify"
HOUR = timedelta(hours=1)
# PostgreSQL advisory-lock namespaces: a phone and an IP never share a lock.
_LOCK_PHONE = 1
_LOCK_IP = 2


@dataclass(frozen=True)
class Limit:
    max_events: int
    window: timedelta


def ip_bucket(client_ip: str) -> str:
    """The key an IP is counted under. One IPv6 host usually owns a whole /64, so counting single
    IPv6 addresses would let it rotate through 2^64 of them; IPv4 addresses count one by one."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip[:45]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def serialise_sends(session: Session, phone: str, client_ip: str) -> None:
    """Make concurrent sends for one phone or one IP take turns, so a burst cannot slip past the
    counts (nor race on the phone's login-code row).

    SQLite write transactions are already serialised (BEGIN IMMEDIATE). PostgreSQL gets
    transaction-scoped advisory locks, always phone first, then IP, so no two requests wait on
    each other in a cycle.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for namespace, key in ((_LOCK_PHONE, phone), (_LOCK_IP, ip_bucket(client_ip))):
        session.execute(select(func.pg_advisory_xact_lock(namespace, func.hashtext(key))))


def seconds_until_allowed(
    session: Session, criterion: ColumnElement[bool], now: datetime, limit: Limit
) -> int | None:
    """None while fewer than `limit.max_events` matching rows are in the window; otherwise the
    whole seconds until the oldest of the newest `max_events` rows drops out of it."""
    newest = session.scalars(
        select(AuthEvent.created_at)
        .where(criterion, AuthEvent.created_at > now - limit.window)
        .order_by(AuthEvent.created_at.desc())
        .limit(limit.max_events)
    ).all()
    if len(newest) < limit.max_events:
        return None
    frees_at = newest[-1] + limit.window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def _matching(
    kind: str, column: InstrumentedAttribute[str | None], value: str
) -> ColumnElement[bool]:
    return (AuthEvent.kind == kind) & (column == value)


def check_send_allowed(
    session: Session, settings: Settings, phone: str, client_ip: str, now: datetime
) -> None:
    """Raise 429 when this phone or this client may not be sent another code yet."""
    sent_to_phone = _matching(KIND_CODE_SENT, AuthEvent.phone, phone)
    sent_to_ip = _matching(KIND_CODE_SENT, AuthEvent.client_ip, ip_bucket(client_ip))
    checks = [
        (sent_to_phone, Limit(settings.otp_max_per_phone_hour, HOUR)),
        (sent_to_ip, Limit(settings.otp_max_per_ip_hour, HOUR)),
    ]
    if settings.otp_resend_seconds > 0:
        checks.append((sent_to_phone, Limit(1, timedelta(seconds=settings.otp_resend_seconds))))
    _raise_if_limited(session, checks, now, "too many login codes requested, try again later")


def check_verify_allowed(
    session: Session, settings: Settings, client_ip: str, now: datetime
) -> None:
    """Raise 429 when this client has checked too many codes in the last hour."""
    checked_by_ip = _matching(KIND_VERIFY, AuthEvent.client_ip, ip_bucket(client_ip))
    limit = Limit(settings.verify_max_per_ip_hour, HOUR)
    _raise_if_limited(
        session, [(checked_by_ip, limit)], now, "too many login attempts, try again later"
    )


def _raise_if_limited(
    session: Session, checks: list[tuple[ColumnElement[bool], Limit]], now: datetime, message: str
) -> None:
    waits = [seconds_until_allowed(session, criterion, now, limit) for criterion, limit in checks]
    longest = max((wait for wait in waits if wait is not None), default=None)
    if longest is not None:
        raise TooManyRequests(longest, message)


def record_event(
    session: Session, kind: str, phone: str | None, client_ip: str, now: datetime
) -> None:
    session.add(AuthEvent(kind=kind, phone=phone, client_ip=ip_bucket(client_ip), created_at=now))
    session.flush()


def prune_events(session: Session, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
    """Delete events older than `keep` (every limit looks back at most an hour); returns how many.
    For a periodic job: the rows hold phone numbers and IPs, kept no longer than the limits need."""
    result = session.execute(delete(AuthEvent).where(AuthEvent.created_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)


def forget_phone(session: Session, phone: str, now: datetime) -> None:
    """On erasure: drop the phone from events older than an hour. Younger ones keep it for the
    hour-long per-phone limits, so erasing an account cannot reset them."""
    session.execute(
        update(AuthEvent)
        .where(AuthEvent.phone == phone, AuthEvent.created_at <= now - HOUR)
        .values(phone=None)
    )
