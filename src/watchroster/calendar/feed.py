"""The iCalendar documents: a user's own shifts, and the coordinators' roster with its gaps.

Events are read as plain records, then written with the `icalendar` library (imported when a
feed is first built, not when the server starts: it costs ~0.1 s of start-up). The document is
a pure function of the database, never of the time of the request beyond the window, so two
fetches of an unchanged roster give the same bytes, hence the same ETag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, aliased

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core import i18n
from watchroster.schedules.availability import SlotQuery, find_slots
from watchroster.schedules.models import Schedule

# A user's feed reaches back this far (past shifts stay in their calendar a month), and a
# cancelled booking stays this long as STATUS:CANCELLED so every client sees it go.
HISTORY = timedelta(days=30)
# The coordinators' feed looks this far ahead.
ROSTER_AHEAD = timedelta(days=30)
# Bounds on one document: a feed is fetched hourly by every subscriber, never unbounded.
MAX_BOOKINGS = 5000
MAX_GAPS = 5000
REFRESH = timedelta(hours=1)

Translate = Callable[[str], str]


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: datetime  # UTC
    end: datetime  # UTC
    zone: str  # the schedule's IANA zone: DTSTART/DTEND carry it as TZID
    summary: str
    sequence: int
    stamp: datetime  # the last change (DTSTAMP), UTC
    cancelled: bool = False
    gap: bool = False  # an open slot of the roster feed: shown, but not busy time


def _first_name(name: str | None) -> str | None:
    # First names only: a calendar is often synced to a third party's servers.
    return name.split()[0] if name and name.strip() else None


_OWNER = aliased(User)
_BUDDY = aliased(User)


class _Row(NamedTuple):
    """One booking as a feed shows it."""

    booking_id: int
    user_id: int
    start: datetime
    end: datetime
    buddy_text: str | None  # an unregistered buddy's name, as typed at booking
    canceled_at: datetime | None
    created_at: datetime
    sequence: int | None
    changed_at: datetime | None
    schedule: str
    zone: str
    owner_name: str | None
    buddy_name: str | None  # a registered buddy's name

    def event(self, host: str, summary: str) -> FeedEvent:
        return FeedEvent(
            # The booking id is no secret (the API shows it), and it never changes.
            uid=f"booking-{self.booking_id}@{host}",
            start=self.start,
            end=self.end,
            zone=self.zone,
            summary=summary,
            sequence=self.sequence or 0,
            stamp=self.changed_at or self.created_at,
            cancelled=self.canceled_at is not None,
        )


def _booking_rows(session: Session, *conditions: ColumnElement[bool]) -> list[_Row]:
    query = (
        select(
            Booking.booking_id,
            Booking.user_id,
            Booking.shift_start,
            Booking.shift_end,
            Booking.buddy_name,
            Booking.canceled_at,
            Booking.created_at,
            Booking.sequence,
            Booking.changed_at,
            Schedule.name,
            Schedule.timezone,
            _OWNER.name,
            _BUDDY.name,
        )
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .join(_OWNER, _OWNER.user_id == Booking.user_id)
        .outerjoin(_BUDDY, _BUDDY.user_id == Booking.buddy_user_id)
        .where(*conditions)
        .order_by(Booking.shift_start, Booking.booking_id)
        .limit(MAX_BOOKINGS)
    )
    return [_Row._make(row) for row in session.execute(query)]


def _kept(since: datetime) -> ColumnElement[bool]:
    """Active bookings, and cancelled ones for `HISTORY` after their cancellation."""
    return or_(Booking.canceled_at.is_(None), Booking.canceled_at >= since)


def user_events(
    session: Session, user_id: int, now: datetime, host: str, _: Translate
) -> list[FeedEvent]:
    """The user's bookings and buddy shifts that ended at most `HISTORY` ago."""
    since = now - HISTORY
    rows = _booking_rows(
        session,
        or_(Booking.user_id == user_id, Booking.buddy_user_id == user_id),
        Booking.shift_end >= since,
        _kept(since),
    )
    events = []
    for row in rows:
        # The other person on the shift: the buddy for the owner, the owner for the buddy.
        mine = row.user_id == user_id
        other = _first_name(row.buddy_name or row.buddy_text if mine else row.owner_name)
        if other is None:
            summary = _("Patrol: %(schedule)s") % {"schedule": row.schedule}
        else:
            summary = _("Patrol: %(schedule)s, with %(name)s") % {
                "schedule": row.schedule,
                "name": other,
            }
        events.append(row.event(host, summary))
    return events


def _roster_summary(row: _Row, _: Translate) -> str:
    owner, buddy = _first_name(row.owner_name), _first_name(row.buddy_name or row.buddy_text)
    if owner is None:  # an erased account's booking, kept for history
        return _("%(schedule)s: booked") % {"schedule": row.schedule}
    if buddy is None:
        return _("%(schedule)s: %(name)s") % {"schedule": row.schedule, "name": owner}
    return _("%(schedule)s: %(name)s with %(buddy)s") % {
        "schedule": row.schedule,
        "name": owner,
        "buddy": buddy,
    }


def roster_events(session: Session, now: datetime, host: str, _: Translate) -> list[FeedEvent]:
    """Every booking and every open slot (gap) of the next `ROSTER_AHEAD`."""
    until = now + ROSTER_AHEAD
    rows = _booking_rows(
        session, Booking.shift_end > now, Booking.shift_start < until, _kept(now - HISTORY)
    )
    events = [row.event(host, _roster_summary(row, _)) for row in rows]
    return events + list(_gaps(session, now, until, host, _))


def _gaps(
    session: Session, now: datetime, until: datetime, host: str, _: Translate
) -> Iterable[FeedEvent]:
    """Open slots, from the same availability walk as `GET /shifts/available`."""
    found, names = find_slots(session, SlotQuery(now, until, MAX_GAPS), now)
    if not found:
        return
    ids = {f.slot.schedule_id for f in found}
    schedules = session.execute(
        select(
            Schedule.schedule_id, Schedule.timezone, Schedule.duration_minutes, Schedule.updated_at
        ).where(Schedule.schedule_id.in_(ids))
    ).all()
    by_id = {row[0]: row for row in schedules}
    for f in found:
        _id, zone, minutes, updated_at = by_id[f.slot.schedule_id]
        start = f.slot.start
        yield FeedEvent(
            # The slot's identity: the same gap keeps its UID until it is booked.
            uid=f"gap-{f.slot.schedule_id}-{start:%Y%m%dT%H%M%SZ}@{host}",
            start=start,
            end=start + timedelta(minutes=minutes),
            zone=zone,
            summary=_("Open: %(schedule)s") % {"schedule": names[f.slot.schedule_id]},
            sequence=0,
            stamp=updated_at,
            gap=True,
        )


def translator(language: str | None, default_language: str) -> Translate:
    lang = i18n.message_language(language, default_language)
    return i18n.gettext_for(lang)


def render(name: str, events: list[FeedEvent]) -> bytes:
    """The iCalendar document (RFC 5545) of `events`, with a VTIMEZONE for each zone used."""
    from icalendar import Calendar, Event  # see the module docstring

    calendar = Calendar()
    calendar.add("prodid", "-//watchroster//calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # How often clients should poll (RFC 7986; X-PUBLISHED-TTL for Outlook and older clients).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for item in events:
        event = Event()
        zone = ZoneInfo(item.zone)
        event.add("uid", item.uid)
        event.add("dtstamp", item.stamp)
        event.add("dtstart", item.start.astimezone(zone))
        event.add("dtend", item.end.astimezone(zone))
        event.add("summary", item.summary)
        event.add("sequence", item.sequence)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        if item.gap:
            event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
