"""What the bookings feature tells whom: message texts, types, and the queueing of each notice.

Plain single-line texts: the same body goes out by SMS and (flattened into a template
parameter) by WhatsApp. Times are shown in the zone of the shift's schedule. Every notice is
queued in the caller's transaction with a dedupe key, so it goes out once, and only if the
change it announces commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings import buddies
from watchroster.bookings.models import Booking, BookingFields, Report, ShiftSchedule
from watchroster.bookings.schemas import first_name, shown_buddy_name
from watchroster.core import i18n
from watchroster.core.i18n import N_
from watchroster.core.logs import mask_phone
from watchroster.core.phones import may_receive_messages
from watchroster.core.rules import AlertRules, BuddyRules
from watchroster.db.rawsql import RawTransaction
from watchroster.outbox.service import queue_message
from watchroster.schedules.models import Schedule

log = logging.getLogger("watchroster.bookings")

EN = i18n.SOURCE_LANGUAGE

# Outbox `message_type` values (at most 32 characters).
BOOKING_CONFIRMED = "booking_confirmed"
BUDDY_BOOKED = "buddy_booked"
BOOKING_CANCELED = "booking_canceled"
BUDDY_CANCELED = "buddy_canceled"
REMINDER = "shift_reminder"
INCIDENT_ALERT = "incident_alert"
COVERAGE_ALERT = "coverage_alert"
BUDDY_DECLINED = "buddy_declined"  # these two: `buddy_notices`
BUDDY_REMOVED = "buddy_removed"

_COVERAGE_LISTED = 5


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def _day(moment: datetime, lang: str) -> str:
    if lang == i18n.SOURCE_LANGUAGE:
        # The C locale's names are CLDR's English ones, at a third of Babel's cost (hot path).
        return f"{moment:%a} {moment.day} {moment:%b}"
    # Full names: CLDR's isiZulu abbreviations ("Mgq") are not what people read.
    return i18n.format_day(moment, lang)


def shift_label(
    schedule_name: str, start: datetime, end: datetime, zone: ZoneInfo, lang: str = EN
) -> str:
    """`Friday patrol, Fri 2 May 18:00-21:00` (the end date too when the shift crosses midnight);
    day and month names in `lang`."""
    begin, finish = _local(start, zone), _local(end, zone)
    end_text = f"{finish:%H:%M}"
    if finish.date() != begin.date():
        end_text = f"{_day(finish, lang)} {end_text}"
    return f"{schedule_name}, {_day(begin, lang)} {begin:%H:%M}-{end_text}"


def booking_confirmed(label: str, buddy_name: str | None, lang: str = EN) -> str:
    _ = i18n.gettext_for(lang)
    if buddy_name:
        text = _("You are booked for %(shift)s with %(buddy)s. Thank you for patrolling!")
        return text % {"shift": label, "buddy": buddy_name}
    return _("You are booked for %(shift)s. Thank you for patrolling!") % {"shift": label}


# A notice about another person: the text naming them (`%(name)s`), and the one for when we
# do not know their name; both with `%(shift)s`. Marked here, translated by `naming`.
Naming = tuple[str, str]


def naming(texts: Naming, name: str | None, label: str, lang: str) -> str:
    named, nameless = texts
    _ = i18n.gettext_for(lang)
    if name:
        return _(named) % {"name": name, "shift": label}
    return _(nameless) % {"shift": label}


_BUDDY_BOOKED = (
    N_("%(name)s booked %(shift)s and named you as patrol buddy."),
    N_("A volunteer booked %(shift)s and named you as patrol buddy."),
)
_BUDDY_CANCELED = (
    N_("%(name)s's booking for %(shift)s, where you were patrol buddy, was cancelled."),
    N_("The booking for %(shift)s, where you were patrol buddy, was cancelled."),
)


def buddy_booked(label: str, volunteer_name: str | None, lang: str = EN) -> str:
    return naming(_BUDDY_BOOKED, volunteer_name, label, lang)


def booking_canceled(label: str, lang: str = EN) -> str:
    _ = i18n.gettext_for(lang)
    return _("Your booking for %(shift)s was cancelled by a coordinator.") % {"shift": label}


def buddy_canceled(label: str, volunteer_name: str | None, lang: str = EN) -> str:
    return naming(_BUDDY_CANCELED, volunteer_name, label, lang)


def reminder(label: str, lead_hours: int, lang: str = EN) -> str:
    _ = i18n.gettext_for(lang)
    text = _("Reminder: your patrol shift %(shift)s starts in about %(hours)d h.")
    return text % {"shift": label, "hours": lead_hours}


# An urgent alert says who, which shift and where to read the report, in one SMS segment of
# GSM characters; the report's text (up to 4,000 characters) stays in the inbox (issue #21 §2).
ALERT_CHARS = 160
_ALERT_NAME_CHARS = 15
_ALERT_SCHEDULE_CHARS = 10  # cut no shorter: the shift must stay recognisable
_ALERT = (
    N_("URGENT: serious incident (severity 2) reported by %(name)s on %(shift)s: %(link)s"),
    N_("URGENT: serious incident (severity 2) reported on %(shift)s: %(link)s"),
)


def _clip(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters ending in "..." (GSM has no ellipsis)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def incident_link(public_url: str, report_id: int) -> str:
    """The report in the coordinators' console (`/admin/incidents/<id>`)."""
    return f"{public_url.rstrip('/')}/admin/incidents/{report_id}"


def incident_alert(
    schedule_name: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    reporter_name: str | None,
    link: str,
    lang: str = EN,
) -> str:
    """The alert of a serious report: the reporter's first name, the shift, the severity, the
    link. Over ALERT_CHARS, the schedule's name gives way (the time and the link cannot)."""
    _ = i18n.gettext_for(lang)
    named, nameless = _ALERT
    name = first_name(reporter_name)
    text = _(named) if name else _(nameless)
    values = {"name": _clip(name or "", _ALERT_NAME_CHARS), "link": link}

    def body(schedule: str) -> str:
        return text % {**values, "shift": shift_label(schedule, start, end, zone, lang)}

    full = body(schedule_name)
    over = len(full) - ALERT_CHARS
    if over <= 0:
        return full
    return body(_clip(schedule_name, max(_ALERT_SCHEDULE_CHARS, len(schedule_name) - over)))


def coverage_summary(labels: Sequence[str], hours: int, *, more: bool = False) -> str:
    """`labels` are the open slots in time order; `more` says the list was cut at its limit."""
    count = f"{len(labels)}+" if more else str(len(labels))
    noun = "shift" if len(labels) == 1 and not more else "shifts"
    listed = "; ".join(labels[:_COVERAGE_LISTED])
    rest = len(labels) - _COVERAGE_LISTED
    tail = f"; and {rest}{'+' if more else ''} more" if rest > 0 else ""
    return f"Roster gaps: {count} unbooked {noun} in the next {hours} h: {listed}{tail}."


# --- queueing ------------------------------------------------------------------------------


class Contact(Protocol):
    """Where a notice goes: a `User` row, or the plain record the booking hot path reads."""

    @property
    def phone(self) -> str | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...


def language_of(to: Contact | None, rules: BuddyRules) -> str:
    """The recipient's chosen language, else WATCHROSTER_DEFAULT_LANGUAGE."""
    return i18n.message_language(to.language if to is not None else None, rules.default_language)


def label_of(booking: BookingFields, schedule: ShiftSchedule, lang: str = EN) -> str:
    zone = ZoneInfo(schedule.timezone)
    return shift_label(schedule.name, booking.shift_start, booking.shift_end, zone, lang)


class _Message(TypedDict):
    message_type: str
    recipient: str
    body: str
    now: datetime
    channel: str | None
    dedupe_key: str


def queue_to(
    target: Session | RawTransaction,
    kind: str,
    to: Contact | None,
    body: str,
    *,
    now: datetime,
    dedupe_key: str,
    allowed_regions: str | None = None,
) -> bool:
    """Queue to a member (their phone and channel); True when a new outbox row was written.

    With `allowed_regions` a number outside them is not queued at all; without, the dispatcher
    still refuses to send it (`phones.may_receive_messages` decides in both places).
    """
    recipient = to.phone if to is not None else None
    if to is None or not recipient:
        return False  # erased members and phoneless buddies get nothing
    if allowed_regions is not None and not may_receive_messages(recipient, allowed_regions):
        log.warning("%s not queued for %s: region not allowed", kind, mask_phone(recipient))
        return False
    message = _Message(
        message_type=kind,
        recipient=recipient,
        body=body,
        now=now,
        channel=to.channel,
        dedupe_key=dedupe_key,
    )
    return queue_message(target, **message) is not None


def tell_other(
    target: Session | RawTransaction,
    kind: str,
    to: Contact | None,
    body: str,
    *,
    now: datetime,
    dedupe_key: str,
    actor_id: int,
    rules: BuddyRules,
    used: buddies.Usage | None = None,
) -> bool:
    """A notice to someone other than the person acting: only to a registered, active member
    (`to`; never to a bare number someone typed), and only within the actor's daily allowance.
    True when it was queued. `used`: the actor's allowance if the caller has just read it."""
    if to is None or not to.phone:
        return False
    if used is None:
        used = buddies.usage(target, actor_id, now)
    if not used.may_notify(rules):
        log.info("%s not queued: user %s reached WATCHROSTER_BUDDY_NOTICES_PER_DAY", kind, actor_id)
        return False
    queued = queue_to(
        target,
        kind,
        to,
        body,
        now=now,
        dedupe_key=dedupe_key,
        allowed_regions=rules.allowed_regions,
    )
    if queued:
        buddies.record(target, buddies.KIND_NOTICE, actor_id, to.phone, now)
    return queued


def notify_booked(
    transaction: Session | RawTransaction,
    booking: BookingFields,
    schedule: ShiftSchedule,
    owner: Contact,
    buddy: Contact | None,
    *,
    actor_id: int,
    rules: BuddyRules,
    used: buddies.Usage | None = None,
) -> bool:
    """Confirmation to the volunteer; a notice to the buddy if a registered, active member
    within the volunteer's allowance. Returns whether the buddy was told."""
    key, now = f"booking:{booking.booking_id}", booking.created_at
    lang = language_of(owner, rules)
    body = booking_confirmed(label_of(booking, schedule, lang), shown_buddy_name(booking), lang)
    queue_to(
        transaction,
        BOOKING_CONFIRMED,
        owner,
        body,
        now=now,
        dedupe_key=f"{key}:confirmed",
        allowed_regions=rules.allowed_regions,
    )
    lang = language_of(buddy, rules)
    body = buddy_booked(label_of(booking, schedule, lang), owner.name, lang)
    return tell_other(
        transaction,
        BUDDY_BOOKED,
        buddy,
        body,
        now=now,
        dedupe_key=f"{key}:buddy",
        actor_id=actor_id,
        rules=rules,
        used=used,
    )


def active_member(session: Session, user_id: int | None) -> User | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.active and user.erased_at is None else None


def notify_canceled(
    session: Session,
    booking: Booking,
    schedule: Schedule,
    now: datetime,
    *,
    actor_id: int,
    rules: BuddyRules,
) -> None:
    """The buddy is told (a registered, active member, within the actor's allowance); the
    volunteer only when someone else (a coordinator) cancelled."""
    owner = session.get(User, booking.user_id)
    key = f"booking:{booking.booking_id}"
    if actor_id != booking.user_id:
        lang = language_of(owner, rules)
        body = booking_canceled(label_of(booking, schedule, lang), lang)
        queue_to(
            session,
            BOOKING_CANCELED,
            owner,
            body,
            now=now,
            dedupe_key=f"{key}:canceled",
            allowed_regions=rules.allowed_regions,
        )
    buddy = active_member(session, booking.buddy_user_id)
    lang = language_of(buddy, rules)
    label = label_of(booking, schedule, lang)
    body = buddy_canceled(label, owner.name if owner is not None else None, lang)
    tell_other(
        session,
        BUDDY_CANCELED,
        buddy,
        body,
        now=now,
        dedupe_key=f"{key}:canceled:buddy",
        actor_id=actor_id,
        rules=rules,
    )


def alert_admins(
    session: Session,
    report: Report,
    booking: Booking,
    schedule: Schedule,
    reporter_name: str | None,
    admins: Sequence[User],
    rules: AlertRules,
) -> None:
    """The urgent alert of a serious report to each admin, in their language."""
    link, zone = incident_link(rules.public_url, report.report_id), ZoneInfo(schedule.timezone)
    start, end, now = booking.shift_start, booking.shift_end, report.created_at
    bodies: dict[str, str] = {}
    for admin in admins:
        lang = i18n.message_language(admin.language, rules.default_language)
        if lang not in bodies:
            bodies[lang] = incident_alert(
                schedule.name, start, end, zone, reporter_name, link, lang
            )
        key = f"report:{report.report_id}:alert:{admin.user_id}"
        queue_to(session, INCIDENT_ALERT, admin, bodies[lang], now=now, dedupe_key=key)
