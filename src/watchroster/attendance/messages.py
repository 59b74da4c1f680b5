"""What the attendance feature tells volunteers: the one "please record" reminder."""

from __future__ import annotations

from watchroster.core import i18n

# Outbox `message_type` (at most 32 characters).
ATTENDANCE_REMINDER = "attendance_reminder"


def booking_link(public_url: str, booking_id: int) -> str:
    """The booking's page, where attendance is recorded (`/my/<id>`)."""
    return f"{public_url.rstrip('/')}/my/{booking_id}"


def attendance_reminder(label: str, link: str, lang: str = i18n.SOURCE_LANGUAGE) -> str:
    _ = i18n.gettext_for(lang)
    text = _("Were you on patrol for %(shift)s? Please record it here: %(link)s")
    return text % {"shift": label, "link": link}
