"""What calendar feeds need to know about a booking's changes (issue #12 §4).

A calendar client replaces its copy of an event only when `SEQUENCE` grows (RFC 5545 §3.8.7.4),
and `DTSTAMP` tells it when. So every change a calendar shows (cancelled, times, buddy, status)
calls `touched`; recording attendance or filing a report does not (the event looks the same).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Touchable(Protocol):
    sequence: int
    changed_at: datetime | None


def touched(booking: Touchable, now: datetime) -> None:
    """Mark `booking` (an ORM row, flushed by the caller's session) as changed at `now`."""
    # A row just inserted by the ORM may not have loaded its server default yet.
    booking.sequence = (booking.sequence or 0) + 1
    booking.changed_at = now
