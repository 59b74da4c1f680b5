"""What a change of buddy tells whom (issue #12 §3, §5): the buddy who declines, the buddy
who is replaced, the buddy newly named. Texts and queueing as in `messages`, whose outbox types
(`BUDDY_DECLINED`, `BUDDY_REMOVED`) and delivery rules these notices share.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from watchroster.bookings import buddies
from watchroster.bookings.messages import (
    BUDDY_BOOKED,
    BUDDY_DECLINED,
    BUDDY_REMOVED,
    EN,
    Contact,
    active_member,
    buddy_booked,
    label_of,
    language_of,
    naming,
    queue_to,
    tell_other,
)
from watchroster.bookings.models import Booking
from watchroster.core.i18n import N_
from watchroster.core.rules import BuddyRules
from watchroster.schedules.models import Schedule

_DECLINED = (
    N_("%(name)s can't come as your patrol buddy on %(shift)s. You can name another."),
    N_("Your patrol buddy can't come on %(shift)s. You can name another."),
)
_REMOVED = (
    N_("%(name)s no longer needs you as patrol buddy on %(shift)s."),
    N_("You are no longer needed as patrol buddy on %(shift)s."),
)


def buddy_declined(label: str, buddy_name: str | None, lang: str = EN) -> str:
    return naming(_DECLINED, buddy_name, label, lang)


def buddy_removed(label: str, volunteer_name: str | None, lang: str = EN) -> str:
    return naming(_REMOVED, volunteer_name, label, lang)


def notify_declined(
    session: Session,
    booking: Booking,
    schedule: Schedule,
    buddy_name: str | None,
    now: datetime,
    *,
    rules: BuddyRules,
) -> bool:
    """The volunteer hears that their registered buddy declined. Not counted against the
    buddy's daily notices: it goes to the member who named them, once per naming."""
    owner = active_member(session, booking.user_id)
    lang = language_of(owner, rules)
    body = buddy_declined(label_of(booking, schedule, lang), _first(buddy_name), lang)
    key = f"booking:{booking.booking_id}:declined:{now.isoformat()}"
    return queue_to(
        session,
        BUDDY_DECLINED,
        owner,
        body,
        now=now,
        dedupe_key=key,
        allowed_regions=rules.allowed_regions,
    )


def _first(name: str | None) -> str | None:
    words = name.split() if name else []
    return words[0] if words else None


def notify_buddy_changed(
    session: Session,
    booking: Booking,
    schedule: Schedule,
    owner: Contact,
    old_buddy_id: int | None,
    new_buddy: Contact | None,
    now: datetime,
    *,
    rules: BuddyRules,
    used: buddies.Usage | None = None,
) -> bool:
    """The volunteer named another buddy: the new one is told as at booking time, the one
    replaced that they are no longer needed; both within the volunteer's daily allowance.
    Returns whether the new buddy was told (False when the buddy stayed the same)."""
    key = f"booking:{booking.booking_id}:buddy:{now.isoformat()}"
    tell = partial(tell_other, session, now=now, actor_id=booking.user_id, rules=rules)
    if old_buddy_id is not None and old_buddy_id != booking.buddy_user_id:
        old = active_member(session, old_buddy_id)
        lang = language_of(old, rules)
        body = buddy_removed(label_of(booking, schedule, lang), _first(owner.name), lang)
        tell(BUDDY_REMOVED, old, body, dedupe_key=f"{key}:removed")
        used = None  # one notice more: the allowance is read again
    if new_buddy is None or old_buddy_id == booking.buddy_user_id:
        return False
    lang = language_of(new_buddy, rules)
    body = buddy_booked(label_of(booking, schedule, lang), owner.name, lang)
    return tell(BUDDY_BOOKED, new_buddy, body, dedupe_key=f"{key}:named", used=used)
