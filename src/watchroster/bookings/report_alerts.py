"""Which incident reports are still taken, and which serious ones alert the coordinators
(issue #21 §2).

Reports are taken until 24 hours after the shift's end: later, what happened is told to a
coordinator directly, not filed against a shift nobody remembers.

A serious report (severity 2) alerts every active admin, unless its reporter's alerts of the
last 24 hours reached WATCHROSTER_URGENT_ALERTS_PER_DAY or its booking had an alert in the last
WATCHROSTER_URGENT_ALERT_BOOKING_MINUTES; past either cap it is stored all the same, flagged
`alert_suppressed`, and the inbox shows it. One person (or a stolen phone) cannot flood the
coordinators' phones, and a second report on a shift already alerted about waits in the inbox.

The alerts sent are counted in `reports` itself (serious reports not flagged), in the report's
own write transaction, as the buddy notices are counted (`buddies`): counting then inserting is
safe because the reporter's writes are serialised (the caller locks the reporter's row first on
PostgreSQL, then the booking's; SQLite runs one write transaction at a time), so two reports at
once cannot both see room under a cap.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from watchroster.bookings.models import Booking, Report
from watchroster.core.errors import Conflict
from watchroster.core.rules import AlertRules

SERIOUS = 2
REPORT_WINDOW = timedelta(hours=24)  # after the shift's end
REPORTER_WINDOW = timedelta(hours=24)  # the per-reporter cap is over any 24 hours


def report_window_open(booking: Booking, now: datetime) -> bool:
    """Whether reports on this booking are still taken: until 24 hours after its end."""
    return now <= booking.shift_end + REPORT_WINDOW


def check_report_window(booking: Booking, now: datetime) -> None:
    if not report_window_open(booking, now):
        raise Conflict(
            "reports are taken until 24 hours after the shift's end; tell a coordinator directly",
            code="report_window_closed",
        )


def _alerts_since(session: Session, since: datetime, condition: ColumnElement[bool]) -> int:
    """Serious reports that alerted after `since` (indexed by reporter, and by booking)."""
    query = select(func.count()).where(
        condition,
        Report.severity == SERIOUS,
        Report.alert_suppressed.is_(False),
        Report.created_at > since,
    )
    return int(session.scalar(query) or 0)


def may_alert(
    session: Session, reporter_id: int, booking_id: int, now: datetime, rules: AlertRules
) -> bool:
    """Whether a serious report filed now by `reporter_id` on `booking_id` may alert: neither
    cap reached. The caller holds the reporter's and the booking's rows (see the docstring)."""
    spacing = rules.booking_spacing
    if spacing and _alerts_since(session, now - spacing, Report.booking_id == booking_id):
        return False
    sent = _alerts_since(session, now - REPORTER_WINDOW, Report.user_id == reporter_id)
    return sent < rules.per_day
