"""The text of a call for volunteers, in the recipient's language, with a link to book the slot."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from watchroster.bookings.messages import shift_label
from watchroster.core import i18n

# Outbox `message_type` (at most 32 characters).
VOLUNTEER_CALL = "volunteer_call"


def book_link(public_url: str, schedule_id: int, start_time: str) -> str:
    """The volunteer pages' book page for this slot (`web/routes_book.py` reads this query)."""
    query = f"schedule_id={schedule_id}&start={quote(start_time, safe='')}"
    return f"{public_url.rstrip('/')}/shifts/book?{query}"


def call_text(
    schedule_name: str, start: datetime, end: datetime, zone: ZoneInfo, link: str, lang: str
) -> str:
    """`Volunteers needed: Friday patrol, Fri 2 May 18:00-21:00 is still open. Book it: <link>`;
    one line, so the same body goes out by SMS and WhatsApp."""
    _ = i18n.gettext_for(lang)
    text = _("Volunteers needed: %(shift)s is still open. Can you take it? Book it here: %(link)s")
    label = shift_label(schedule_name, start, end, zone, lang)
    return text % {"shift": label, "link": link}
